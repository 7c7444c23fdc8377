"""Client channels whose service config carries safe retries; stubs that carry deadlines."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool

from reels_runtime.deadlines import DeadlineStub

_Stub = TypeVar("_Stub")

# Big enough for ~100 frames of 224x224 float input to the model server (a 4 MB default
# rejects them), small enough to stop a runaway message.
DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024
# Retries are for idempotent methods only, and only on UNAVAILABLE: the request
# provably did not run (or may safely run again).
_RETRY_POLICY: Mapping[str, Any] = {
    "maxAttempts": 3,
    "initialBackoff": "0.05s",
    "maxBackoff": "1s",
    "backoffMultiplier": 2,
    "retryableStatusCodes": ["UNAVAILABLE"],
}
# Stop retrying when more than half the recent calls fail: retries must not turn an
# outage into a retry storm.
_RETRY_THROTTLING: Mapping[str, Any] = {"maxTokens": 10, "tokenRatio": 0.1}
_SAFE_TO_RETRY = frozenset(
    {descriptor_pb2.MethodOptions.IDEMPOTENT, descriptor_pb2.MethodOptions.NO_SIDE_EFFECTS}
)


# No timeout goes into the service config. grpcio computes a service-config timeout from
# a cached clock that can lag by a second or more (grpc/grpc#34547, #40633): calls then
# fail at once with DEADLINE_EXCEEDED, on a busy machine even with a 2 s timeout. Every
# call gets its budget from DeadlineStub instead (`timeout=`, an absolute deadline that
# gRPC computes from a fresh clock).


def _service(service_full_name: str) -> Any:
    try:
        return descriptor_pool.Default().FindServiceByName(service_full_name)
    except KeyError:
        raise KeyError(
            f"service {service_full_name} is not in the descriptor pool: "
            "import its generated _pb2 module first"
        ) from None


def retryable_methods(service_full_name: str) -> frozenset[str]:
    """Names of the service's methods marked IDEMPOTENT or NO_SIDE_EFFECTS in the protos."""
    return frozenset(
        method.name
        for method in _service(service_full_name).methods
        if method.GetOptions().idempotency_level in _SAFE_TO_RETRY
    )


def check_method_names(service_full_name: str, names: Iterable[str]) -> None:
    """Raises ValueError naming any of `names` that the service does not have."""
    unknown = set(names) - {method.name for method in _service(service_full_name).methods}
    if unknown:
        raise ValueError(f"{service_full_name} has no method(s) {sorted(unknown)}")


def service_config(service_full_name: str) -> dict[str, Any]:
    """The gRPC service config: retries for the safe methods, throttled; no timeouts."""
    retryable = retryable_methods(service_full_name)
    configs = [
        {
            "name": [{"service": service_full_name, "method": name}],
            "retryPolicy": dict(_RETRY_POLICY),
        }
        for name in sorted(retryable)
    ]
    return {"methodConfig": configs, "retryThrottling": dict(_RETRY_THROTTLING)}


def create_channel(
    target: str,
    service_full_name: str,
    *,
    interceptors: Sequence[grpc.aio.ClientInterceptor] | None = None,
    credentials: grpc.ChannelCredentials | None = None,
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    options: Sequence[tuple[str, Any]] = (),
) -> grpc.aio.Channel:
    """A grpc.aio channel to one service, configured from its descriptors.

    The service's _pb2 module must be imported (the descriptors come from the pool).
    The channel sets no timeouts: call through `dial`'s DeadlineStub, or pass `timeout=`.
    """
    config = service_config(service_full_name)
    channel_options: list[tuple[str, Any]] = [
        ("grpc.service_config", json.dumps(config)),
        ("grpc.enable_retries", 1),
        ("grpc.max_send_message_length", max_message_bytes),
        ("grpc.max_receive_message_length", max_message_bytes),
        *options,
    ]
    if credentials is not None:
        return grpc.aio.secure_channel(
            target, credentials, options=channel_options, interceptors=interceptors
        )
    return grpc.aio.insecure_channel(target, options=channel_options, interceptors=interceptors)


def dial(
    target: str,
    stub_class: Callable[[grpc.aio.Channel], _Stub],
    service_full_name: str,
    default_timeout_s: float,
    method_timeouts: Mapping[str, float] | None = None,
    *,
    token_provider: Callable[[], str | None] | None = None,
) -> tuple[grpc.aio.Channel, DeadlineStub]:
    """A channel plus a DeadlineStub over it, with the standard client interceptor.

    The usual way one service calls another:
    `channel, embed = dial(config.embed_svc_addr, EmbedServiceStub, "reels.embed.v1.EmbedService",
    0.5, token_provider=ServiceTokenSource.from_config(config))`; close the channel at shutdown.
    """
    # Imported here: interceptors pulls in auth and telemetry, which plain channels need not.
    from reels_runtime.interceptors import ClientContextInterceptor

    if default_timeout_s <= 0 or any(s <= 0 for s in (method_timeouts or {}).values()):
        raise ValueError(f"timeouts must be positive: {default_timeout_s}, {method_timeouts}")
    check_method_names(service_full_name, method_timeouts or {})
    channel = create_channel(
        target,
        service_full_name,
        interceptors=[ClientContextInterceptor(token_provider)],
    )
    stub = DeadlineStub(stub_class(channel), default_timeout_s, method_timeouts)
    return channel, stub
