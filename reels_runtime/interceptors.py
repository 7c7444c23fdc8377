"""grpc.aio interceptors: call context, telemetry and auth on servers; context on clients."""

from __future__ import annotations

import asyncio
import inspect
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import grpc
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from prometheus_client import Counter, Histogram

from reels_runtime import context as call_context
from reels_runtime.auth import (
    Access,
    AuthError,
    Principal,
    PrincipalKind,
    TokenVerifier,
    Unauthenticated,
    access_policy_for,
    authorize,
    check_playback_scope,
)
from reels_runtime.context import current_principal

__all__ = [
    "AuthInterceptor",
    "CallContextInterceptor",
    "ClientContextInterceptor",
    "TelemetryInterceptor",
    "current_principal",
    "default_server_interceptors",
    "require_playback_scope",
]

logger = logging.getLogger(__name__)

REQUEST_ID_KEY = "x-request-id"
# Client-supplied ids end up in logs; anything but a short token is replaced, not trusted.
_REQUEST_ID_SHAPE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# Above this, time_remaining() is gRPC's "infinite future", i.e. the caller set no deadline.
_NO_DEADLINE_S = 10 * 365 * 24 * 3600.0
# Server-side span status per OpenTelemetry's gRPC conventions: only these are errors.
_SERVER_ERROR_CODES = frozenset(
    {
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.UNIMPLEMENTED,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DATA_LOSS,
    }
)
# Probes call these every few seconds; their log lines would drown the real traffic.
_QUIET_SERVICES = frozenset({"grpc.health.v1.Health"})

GRPC_SERVER_HANDLED = Counter(
    "grpc_server_handled",
    "RPCs completed on the server, by status code.",
    ["service", "method", "code"],
)
GRPC_SERVER_HANDLING_SECONDS = Histogram(
    "grpc_server_handling_seconds",
    "Time from the start of an RPC on the server to its end.",
    ["service", "method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)

Around = Callable[[str, Any, grpc.aio.ServicerContext], AbstractAsyncContextManager[Any]]


def _split_method(full_method: str) -> tuple[str, str]:
    service, _, method = full_method.lstrip("/").partition("/")
    return service, method


def _metadata_value(metadata: Iterable[Any] | None, key: str) -> str | None:
    for item in metadata or ():
        name, value = item[0], item[1]
        if name == key:
            return value.decode("latin-1") if isinstance(value, bytes) else str(value)
    return None


def _status_code(code: Any) -> grpc.StatusCode:
    """context.code() holds whatever was set: a StatusCode, a raw int, or None."""
    if isinstance(code, grpc.StatusCode):
        return code
    if isinstance(code, int):
        for candidate in grpc.StatusCode:
            if candidate.value[0] == code:
                return candidate
    return grpc.StatusCode.OK


def _wrap_handler(handler: grpc.RpcMethodHandler, method: str, around: Around) -> Any:
    """The same handler with every behaviour run inside `around(method, request, context)`.

    `around` yields the context the inner behaviour receives (it may wrap the original).
    Streaming requests have no request object up front; `around` then sees None.
    """
    if handler.unary_unary:
        inner_uu = handler.unary_unary

        async def unary_unary(request: Any, context: grpc.aio.ServicerContext) -> Any:
            async with around(method, request, context) as ctx:
                return await _maybe_await(inner_uu(request, ctx))

        return grpc.unary_unary_rpc_method_handler(
            unary_unary, handler.request_deserializer, handler.response_serializer
        )
    if handler.stream_unary:
        inner_su = handler.stream_unary

        async def stream_unary(requests: Any, context: grpc.aio.ServicerContext) -> Any:
            async with around(method, None, context) as ctx:
                return await _maybe_await(inner_su(requests, ctx))

        return grpc.stream_unary_rpc_method_handler(
            stream_unary, handler.request_deserializer, handler.response_serializer
        )
    if handler.unary_stream:
        return grpc.unary_stream_rpc_method_handler(
            _wrap_streaming(handler.unary_stream, method, around, request_first=True),
            handler.request_deserializer,
            handler.response_serializer,
        )
    if handler.stream_stream:
        return grpc.stream_stream_rpc_method_handler(
            _wrap_streaming(handler.stream_stream, method, around, request_first=False),
            handler.request_deserializer,
            handler.response_serializer,
        )
    return handler


async def _maybe_await(result: Any) -> Any:
    # Plain-def servicer methods (the generated "unimplemented" ones) return directly.
    return await result if inspect.isawaitable(result) else result


def _wrap_streaming(
    inner: Callable[..., Any], method: str, around: Around, *, request_first: bool
) -> Callable[..., Any]:
    # grpc.aio refuses a behaviour that both yields and calls context.write(), so the
    # wrapper keeps the inner behaviour's style: async generator in, async generator out.
    if inspect.isasyncgenfunction(inner):

        async def generator(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            async with around(method, request if request_first else None, context) as ctx:
                async for response in inner(request, ctx):
                    if isinstance(ctx, _RequestIdContext):
                        # The first message would carry default headers; ours go first.
                        await ctx.ensure_initial_metadata()
                    yield response

        return generator

    async def writer(request: Any, context: grpc.aio.ServicerContext) -> None:
        async with around(method, request if request_first else None, context) as ctx:
            result = inner(request, ctx)
            if inspect.isasyncgen(result):
                async for response in result:
                    await ctx.write(response)
            elif inspect.isawaitable(result):
                await result

    return writer


class _AroundInterceptor(grpc.aio.ServerInterceptor):
    """Base class: subclasses implement `_around` once for all four call shapes."""

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        return _wrap_handler(handler, handler_call_details.method, self._around)

    def _around(
        self, method: str, request: Any, context: grpc.aio.ServicerContext
    ) -> AbstractAsyncContextManager[Any]:
        raise NotImplementedError


# ---------------------------------------------------------------------------------------
# Request id and deadline


class _RequestIdContext:
    """A ServicerContext that adds x-request-id to whatever metadata the servicer sends."""

    def __init__(self, context: grpc.aio.ServicerContext, request_id: str) -> None:
        self._context = context
        self._pair = (REQUEST_ID_KEY, request_id)
        self.initial_metadata_sent = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)

    def _with_id(self, metadata: Sequence[tuple[str, Any]] | None) -> tuple[tuple[str, Any], ...]:
        pairs = tuple((key, value) for key, value in (metadata or ()) if key != REQUEST_ID_KEY)
        return (*pairs, self._pair)

    async def send_initial_metadata(self, initial_metadata: Sequence[tuple[str, Any]]) -> None:
        self.initial_metadata_sent = True
        await self._context.send_initial_metadata(self._with_id(initial_metadata))

    def set_trailing_metadata(self, trailing_metadata: Sequence[tuple[str, Any]]) -> None:
        self._context.set_trailing_metadata(self._with_id(trailing_metadata))

    async def write(self, message: Any) -> None:
        await self.ensure_initial_metadata()
        await self._context.write(message)

    async def abort(
        self,
        code: grpc.StatusCode,
        details: str = "",
        trailing_metadata: Sequence[tuple[str, Any]] = (),
    ) -> Any:
        return await self._context.abort(code, details, self._with_id(trailing_metadata))

    async def ensure_initial_metadata(self) -> None:
        if not self.initial_metadata_sent:
            await self.send_initial_metadata(())


class CallContextInterceptor(_AroundInterceptor):
    """Binds x-request-id (taken from the caller or new) and the call's deadline.

    The id is echoed in the response's initial and trailing metadata, so a client (or
    Envoy, as a response header) can quote it; servicers keep full use of both.
    """

    @asynccontextmanager
    async def _around(
        self, method: str, request: Any, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[Any]:
        incoming = _metadata_value(context.invocation_metadata(), REQUEST_ID_KEY)
        request_id = (
            incoming if incoming and _REQUEST_ID_SHAPE.match(incoming) else uuid.uuid4().hex
        )
        call_context.set_request_id(request_id)
        remaining = context.time_remaining()
        if remaining is None or remaining > _NO_DEADLINE_S:
            call_context.set_deadline(None)
        else:
            call_context.set_deadline(time.monotonic() + remaining)
        wrapped = _RequestIdContext(context, request_id)
        # Set first so an abort (which ends the call with trailers only) still carries it.
        context.set_trailing_metadata((wrapped._pair,))
        yield wrapped
        # Reached only on success: a unary response goes out after this, so headers
        # sent now precede it.
        await wrapped.ensure_initial_metadata()


# ---------------------------------------------------------------------------------------
# Tracing, logging and metrics


class TelemetryInterceptor(_AroundInterceptor):
    """A server span per call (parented by the caller's traceparent), one log line, metrics."""

    def __init__(self, tracer: trace.Tracer | None = None) -> None:
        self._tracer = tracer or trace.get_tracer("reels_runtime.interceptors")

    @asynccontextmanager
    async def _around(
        self, method: str, request: Any, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[Any]:
        service, method_name = _split_method(method)
        carrier = {
            key: value
            for key, value in (context.invocation_metadata() or ())
            if isinstance(value, str)
        }
        parent = propagate.extract(carrier)
        started = time.perf_counter()
        code = grpc.StatusCode.OK
        error: BaseException | None = None
        with self._tracer.start_as_current_span(
            method.lstrip("/"),
            context=parent,
            kind=SpanKind.SERVER,
            attributes={"rpc.system": "grpc", "rpc.service": service, "rpc.method": method_name},
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            try:
                yield context
                code = _status_code(context.code())
            except grpc.aio.AbortError:
                code = _status_code(context.code())
                raise
            except BaseException as exc:
                code = _exception_code(exc, context)
                if code is grpc.StatusCode.UNKNOWN:
                    error = exc
                    span.record_exception(exc)
                raise
            finally:
                duration = time.perf_counter() - started
                span.set_attribute("rpc.grpc.status_code", code.value[0])
                if code in _SERVER_ERROR_CODES:
                    span.set_status(Status(StatusCode.ERROR, code.name))
                GRPC_SERVER_HANDLED.labels(service, method_name, code.name).inc()
                GRPC_SERVER_HANDLING_SECONDS.labels(service, method_name).observe(duration)
                _log_call(service, method, code, duration, error)


def _exception_code(exc: BaseException, context: grpc.aio.ServicerContext) -> grpc.StatusCode:
    if isinstance(exc, GeneratorExit):
        return grpc.StatusCode.CANCELLED
    if isinstance(exc, asyncio.CancelledError):
        remaining = context.time_remaining()
        # gRPC's clock and ours differ slightly: "within 10 ms of the deadline" means it.
        if remaining is not None and remaining <= 0.01:
            return grpc.StatusCode.DEADLINE_EXCEEDED
        return grpc.StatusCode.CANCELLED
    # A servicer may set a code and then raise (the generated UNIMPLEMENTED stubs do):
    # gRPC sends that code, so it is what the call ended with.
    code = _status_code(context.code())
    return code if code is not grpc.StatusCode.OK else grpc.StatusCode.UNKNOWN


def _log_call(
    service: str,
    method: str,
    code: grpc.StatusCode,
    duration_s: float,
    error: BaseException | None,
) -> None:
    principal = current_principal()
    if error is not None:
        level = logging.ERROR
    elif code in _SERVER_ERROR_CODES:
        level = logging.WARNING
    elif service in _QUIET_SERVICES:
        level = logging.DEBUG
    else:
        level = logging.INFO
    if not logger.isEnabledFor(level):
        return
    logger.log(
        level,
        "grpc call %s %s",
        method,
        code.name,
        extra={
            "method": method,
            "code": code.name,
            "duration_ms": round(duration_s * 1000, 3),
            "principal": principal.describe() if principal else None,
        },
        exc_info=error,
    )


# ---------------------------------------------------------------------------------------
# Authentication and authorization


class AuthInterceptor(_AroundInterceptor):
    """Verifies the bearer token and enforces the method's `(reels.common.v1.access)`.

    Playback methods also take the token from the request's `token` field (the `token`
    query parameter through Envoy), and a playback token is checked against the
    request's `video_id` here, so a servicer cannot forget to.
    """

    def __init__(
        self,
        verifier: TokenVerifier,
        policy: Callable[[str], Access] = access_policy_for,
        *,
        playback_token_field: str = "token",  # noqa: S107 - a field name, not a secret
        video_id_field: str = "video_id",
    ) -> None:
        self._verifier = verifier
        self._policy = policy
        self._token_field = playback_token_field
        self._video_field = video_id_field

    @asynccontextmanager
    async def _around(
        self, method: str, request: Any, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[Any]:
        call_context.set_principal(None)
        call_context.set_bearer_token(None)
        try:
            principal = self._authenticate(method, request, context)
        except AuthError as error:
            code = (
                grpc.StatusCode.UNAUTHENTICATED
                if isinstance(error, Unauthenticated)
                else grpc.StatusCode.PERMISSION_DENIED
            )
            await context.abort(code, str(error))
            raise  # unreachable: abort() always raises; keeps `principal` bound below
        call_context.set_principal(principal)
        yield context

    def _authenticate(
        self, method: str, request: Any, context: grpc.aio.ServicerContext
    ) -> Principal | None:
        access = self._policy(method)
        header = _metadata_value(context.invocation_metadata(), "authorization")
        token: str | None = None
        if header is not None:
            scheme, _, credentials = header.strip().partition(" ")
            if scheme.lower() != "bearer" or not credentials.strip():
                raise Unauthenticated("authorization metadata must be 'Bearer <token>'")
            token = credentials.strip()
        elif access is Access.PLAYBACK:
            token = _string_field(request, self._token_field)
        # A token is verified whenever one is sent, even to a public method: a bad token
        # is an error the client should hear about, not something to ignore.
        principal = self._verifier.verify(token) if token else None
        authorize(access, principal)
        if principal is not None and principal.kind is PrincipalKind.PLAYBACK:
            video_id = _string_field(request, self._video_field)
            if video_id is not None:
                check_playback_scope(principal, video_id)
        call_context.set_bearer_token(token)
        return principal


def _string_field(message: Any, name: str) -> str | None:
    """A top-level string field of a request message, or None when it has none."""
    descriptor = getattr(message, "DESCRIPTOR", None)
    if descriptor is None or name not in descriptor.fields_by_name:
        return None
    value = getattr(message, name)
    return value if isinstance(value, str) and value else None


async def require_playback_scope(context: grpc.aio.ServicerContext, video_id: str) -> None:
    """Aborts with PERMISSION_DENIED unless the caller may play `video_id`.

    For servicers whose request arrives as a stream, where the interceptor cannot see
    the video id itself.
    """
    try:
        check_playback_scope(current_principal(), video_id)
    except Unauthenticated as error:
        await context.abort(grpc.StatusCode.UNAUTHENTICATED, str(error))
    except AuthError as error:
        await context.abort(grpc.StatusCode.PERMISSION_DENIED, str(error))


def default_server_interceptors(verifier: TokenVerifier) -> list[grpc.aio.ServerInterceptor]:
    """The standard stack, outermost first: call context, telemetry, then auth.

    Auth runs innermost so its refusals are traced, logged and counted like any call.
    """
    return [CallContextInterceptor(), TelemetryInterceptor(), AuthInterceptor(verifier)]


# ---------------------------------------------------------------------------------------
# Client side


class ClientContextInterceptor(
    grpc.aio.UnaryUnaryClientInterceptor,
    grpc.aio.UnaryStreamClientInterceptor,
    grpc.aio.StreamUnaryClientInterceptor,
    grpc.aio.StreamStreamClientInterceptor,
):
    """Adds traceparent, x-request-id and a bearer token to every outgoing call.

    The token comes from `token_provider` (by default the service's own service token,
    see auth.ServiceTokenSource); metadata the caller set explicitly is left alone.
    """

    def __init__(self, token_provider: Callable[[], str | None] | None = None) -> None:
        self._token_provider = token_provider

    def _details(self, details: grpc.aio.ClientCallDetails) -> grpc.aio.ClientCallDetails:
        metadata = grpc.aio.Metadata(*tuple(details.metadata or ()))
        if REQUEST_ID_KEY not in metadata:
            metadata.add(REQUEST_ID_KEY, call_context.current_request_id() or uuid.uuid4().hex)
        carrier: dict[str, str] = {}
        propagate.inject(carrier)
        for key, value in carrier.items():
            if key not in metadata:
                metadata.add(key, value)
        if "authorization" not in metadata and self._token_provider is not None:
            token = self._token_provider()
            if token:
                metadata.add("authorization", f"Bearer {token}")
        return grpc.aio.ClientCallDetails(
            details.method,
            details.timeout,
            metadata,
            details.credentials,
            details.wait_for_ready,
        )

    async def intercept_unary_unary(self, continuation, client_call_details, request):  # type: ignore[no-untyped-def]
        return await continuation(self._details(client_call_details), request)

    async def intercept_unary_stream(self, continuation, client_call_details, request):  # type: ignore[no-untyped-def]
        return await continuation(self._details(client_call_details), request)

    async def intercept_stream_unary(self, continuation, client_call_details, request_iterator):  # type: ignore[no-untyped-def]
        return await continuation(self._details(client_call_details), request_iterator)

    async def intercept_stream_stream(self, continuation, client_call_details, request_iterator):  # type: ignore[no-untyped-def]
        return await continuation(self._details(client_call_details), request_iterator)
