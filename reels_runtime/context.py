"""Per-call context (request id, principal, deadline) carried in contextvars."""

from __future__ import annotations

import contextvars
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reels_runtime.auth import Principal

# grpc.aio runs every RPC in its own task, so a value set by a server interceptor is
# private to that call and is inherited by the tasks the handler spawns.
_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "reels_request_id", default=None
)
_principal: contextvars.ContextVar[Principal | None] = contextvars.ContextVar(
    "reels_principal", default=None
)
# Absolute deadline on the time.monotonic() clock, or None when the caller set none.
_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "reels_deadline", default=None
)
# The raw bearer token of the inbound call, for the rare call that must act as the user.
_bearer_token: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "reels_bearer_token", default=None
)


def current_request_id() -> str | None:
    """The x-request-id of the call being handled, if any."""
    return _request_id.get()


def current_principal() -> Principal | None:
    """The verified caller of the call being handled (None for an anonymous call)."""
    return _principal.get()


def current_deadline() -> float | None:
    """The inbound call's deadline as a time.monotonic() value, or None."""
    return _deadline.get()


def current_bearer_token() -> str | None:
    """The verified bearer token of the call being handled, if it carried one."""
    return _bearer_token.get()


def set_request_id(value: str | None) -> contextvars.Token[str | None]:
    return _request_id.set(value)


def set_principal(value: Principal | None) -> contextvars.Token[Principal | None]:
    return _principal.set(value)


def set_bearer_token(value: str | None) -> contextvars.Token[str | None]:
    return _bearer_token.set(value)


def set_deadline(value: float | None) -> contextvars.Token[float | None]:
    return _deadline.set(value)


@contextmanager
def deadline_scope(seconds: float) -> Iterator[float]:
    """Gives work outside an RPC (an event consumer, a CLI) a deadline of its own.

    A scope never extends an enclosing deadline: the earlier of the two wins.
    """
    deadline = time.monotonic() + seconds
    enclosing = _deadline.get()
    if enclosing is not None:
        deadline = min(deadline, enclosing)
    token = _deadline.set(deadline)
    try:
        yield deadline
    finally:
        _deadline.reset(token)


@contextmanager
def request_scope(request_id: str | None) -> Iterator[None]:
    """Binds a request id for work outside an RPC, e.g. one event being handled."""
    token = _request_id.set(request_id)
    try:
        yield
    finally:
        _request_id.reset(token)
