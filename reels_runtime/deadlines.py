"""Deadline budgets for outgoing calls, bounded by what remains of the inbound call."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping
from typing import Any

from reels_runtime.context import current_deadline, deadline_scope

__all__ = [
    "DeadlineExhausted",
    "DeadlineStub",
    "MissingDeadline",
    "deadline_scope",
    "inbound_time_remaining",
    "remaining_budget",
]

DEFAULT_MARGIN_S = 0.02


class DeadlineExhausted(Exception):
    """The inbound call's deadline leaves no time for this call (treat as DEADLINE_EXCEEDED)."""


class MissingDeadline(ValueError):
    """A call would be made without any timeout: a programming error, not a runtime one."""


def inbound_time_remaining() -> float | None:
    """Seconds left of the inbound call's (or deadline_scope's) deadline; None without one."""
    deadline = current_deadline()
    return None if deadline is None else deadline - time.monotonic()


def remaining_budget(budget_s: float | None, margin_s: float = DEFAULT_MARGIN_S) -> float:
    """The timeout for an outgoing call: min(budget, inbound remaining - margin).

    The margin leaves this service time to answer its own caller after the downstream
    call gives up. Raises DeadlineExhausted when nothing remains, and MissingDeadline
    when there is neither a budget nor an inbound deadline.
    """
    remaining = inbound_time_remaining()
    if remaining is None:
        if budget_s is None:
            raise MissingDeadline("no timeout given and no inbound deadline to inherit")
        return budget_s
    available = remaining - margin_s
    if available <= 0:
        raise DeadlineExhausted(f"inbound deadline leaves {remaining * 1000:.1f} ms")
    return available if budget_s is None else min(budget_s, available)


class DeadlineStub:
    """Wraps a generated stub so that every call carries `timeout=remaining_budget(...)`.

    The budget is the caller's `timeout=` if given, else `method_timeouts[name]`, else
    `default_timeout_s`; it is always capped by the inbound deadline.
    """

    def __init__(
        self,
        stub: Any,
        default_timeout_s: float | None,
        method_timeouts: Mapping[str, float] | None = None,
        *,
        margin_s: float = DEFAULT_MARGIN_S,
    ) -> None:
        self._stub = stub
        self._default = default_timeout_s
        self._method_timeouts = dict(method_timeouts or {})
        self._margin = margin_s

    def budget_for(self, method: str) -> float | None:
        return self._method_timeouts.get(method, self._default)

    def __getattr__(self, name: str) -> Callable[..., Any]:
        multicallable = getattr(self._stub, name)
        if name.startswith("_") or not callable(multicallable):
            return multicallable

        @functools.wraps(multicallable)
        def call(request: Any, *args: Any, timeout: float | None = None, **kwargs: Any) -> Any:
            budget = timeout if timeout is not None else self.budget_for(name)
            return multicallable(
                request, *args, timeout=remaining_budget(budget, self._margin), **kwargs
            )

        return call
