"""Client-streaming uploads through grpc's sync client, so a refusal is seen as the server sent it.

When media_svc refuses an upload early (a blocked title, a missing token, the daily limit,
the size limit), its status races the writes the client still has in flight. grpc.aio
reports a write that loses that race as INTERNAL ("Internal error from Core", "Failed
execute_batch") instead of the server's status; grpc's sync client stops writing and
reports the status the server sent. Envoy, the real client of these methods, behaves like
the latter.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

import grpc
from google.protobuf import message_factory
from google.protobuf.message import Message
from reels.media.v1 import media_service_pb2 as media_pb2

_SERVICE = media_pb2.DESCRIPTOR.services_by_name["MediaService"]
_STREAMING = frozenset(m.name for m in _SERVICE.methods if m.client_streaming)


def _pulled(
    requests: AsyncIterator[Message] | Iterable[Message], loop: asyncio.AbstractEventLoop
) -> Iterator[Message]:
    """A sync iterator over `requests`; an async generator runs on `loop`, one item at a time
    (so it may pace itself with asyncio.sleep and count what was taken)."""
    if not hasattr(requests, "__anext__"):
        yield from requests  # type: ignore[misc]
        return
    while True:
        try:
            yield asyncio.run_coroutine_threadsafe(requests.__anext__(), loop).result()
        except StopAsyncIteration:
            return


class StreamingStub:
    """A MediaService stub whose client-streaming methods use grpc's sync client (in a
    thread; awaiting the call gives the response or raises grpc.RpcError). Every other
    method, and `aio`, are the grpc.aio stub's."""

    def __init__(self, aio: Any, target: str) -> None:
        self.aio = aio
        self._target = target

    def __getattr__(self, name: str) -> Any:
        if name in _STREAMING:
            return functools.partial(self._stream, name)
        return getattr(self.aio, name)

    def _stream(
        self,
        name: str,
        requests: AsyncIterator[Message] | Iterable[Message],
        *,
        metadata: Any = (),
        timeout: float,
    ) -> asyncio.Future[Message]:
        loop = asyncio.get_running_loop()
        response = message_factory.GetMessageClass(_SERVICE.methods_by_name[name].output_type)

        def call() -> Message:
            with grpc.insecure_channel(self._target) as channel:
                send = channel.stream_unary(
                    f"/{_SERVICE.full_name}/{name}",
                    request_serializer=lambda message: message.SerializeToString(),
                    response_deserializer=response.FromString,
                )
                return send(_pulled(requests, loop), metadata=metadata, timeout=timeout)

        return asyncio.ensure_future(asyncio.to_thread(call))
