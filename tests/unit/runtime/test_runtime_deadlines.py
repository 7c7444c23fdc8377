"""remaining_budget, DeadlineStub, and the service config built from the descriptors."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from reels_runtime.channels import create_channel, dial, retryable_methods, service_config
from reels_runtime.context import deadline_scope
from reels_runtime.deadlines import (
    DeadlineExhausted,
    DeadlineStub,
    MissingDeadline,
    inbound_time_remaining,
    remaining_budget,
)


def test_without_an_inbound_deadline_the_budget_is_used() -> None:
    assert inbound_time_remaining() is None
    assert remaining_budget(1.5) == 1.5
    with pytest.raises(MissingDeadline):
        remaining_budget(None)


def test_the_inbound_deadline_caps_the_budget() -> None:
    with deadline_scope(0.5):
        budget = remaining_budget(10.0)
        assert 0.4 < budget <= 0.5 - 0.02
        assert remaining_budget(0.1) == 0.1
        assert remaining_budget(None) == pytest.approx(budget, abs=0.01)
    assert inbound_time_remaining() is None


def test_a_spent_deadline_raises() -> None:
    with deadline_scope(0.01), pytest.raises(DeadlineExhausted):
        remaining_budget(1.0, margin_s=0.02)


def test_a_nested_scope_never_extends_the_outer_one() -> None:
    with deadline_scope(0.2), deadline_scope(60):
        remaining = inbound_time_remaining()
        assert remaining is not None
        assert remaining <= 0.2


@pytest.mark.asyncio
async def test_tasks_inherit_the_deadline() -> None:
    with deadline_scope(0.3):
        inherited = await asyncio.create_task(_remaining())
    assert inherited is not None
    assert inherited <= 0.3


async def _remaining() -> float | None:
    return inbound_time_remaining()


class _RecordingStub:
    """Stands in for a generated stub: records the kwargs each method was called with."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any, dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        def multicallable(request: Any, **kwargs: Any) -> str:
            self.calls.append((name, request, kwargs))
            return f"{name}-call"

        return multicallable


def test_deadline_stub_always_passes_a_timeout() -> None:
    inner = _RecordingStub()
    stub = DeadlineStub(inner, 2.0, {"GetFeed": 0.3})
    assert stub.GetFeed("req", metadata=(("k", "v"),)) == "GetFeed-call"
    stub.SearchVideos("req")
    stub.SearchVideos("req", timeout=0.7)
    with deadline_scope(0.25):
        stub.SearchVideos("req")
    timeouts = [kwargs["timeout"] for _, _, kwargs in inner.calls]
    assert timeouts[:3] == [0.3, 2.0, 0.7]
    assert timeouts[3] <= 0.23
    assert inner.calls[0][2]["metadata"] == (("k", "v"),)


def test_deadline_stub_without_any_budget_refuses_to_call() -> None:
    inner = _RecordingStub()
    stub = DeadlineStub(inner, None)
    with pytest.raises(MissingDeadline):
        stub.GetFeed("req")
    assert inner.calls == []
    with deadline_scope(1.0):
        stub.GetFeed("req")
    assert inner.calls[0][2]["timeout"] <= 1.0


def test_retries_only_for_idempotent_and_side_effect_free_methods() -> None:
    from reels.media.v1 import media_service_pb2  # noqa: F401 - registers the descriptors

    retryable = retryable_methods("reels.media.v1.MediaService")
    assert "GetVideoStatus" in retryable  # NO_SIDE_EFFECTS
    assert "DeleteVideo" in retryable  # IDEMPOTENT
    assert "CreateUploadSession" not in retryable
    assert "UploadVideo" not in retryable
    config = service_config("reels.media.v1.MediaService")
    json.dumps(config)  # the channel option is JSON
    by_method = {entry["name"][0]["method"]: entry for entry in config["methodConfig"]}
    assert set(by_method) == retryable
    assert by_method["GetVideoStatus"]["retryPolicy"]["retryableStatusCodes"] == ["UNAVAILABLE"]
    assert by_method["GetVideoStatus"]["retryPolicy"]["maxAttempts"] == 3
    # grpcio fails calls early from a service-config timeout (a lagging clock): budgets
    # belong to DeadlineStub, so the service config must carry none.
    assert all("timeout" not in entry for entry in config["methodConfig"])


def test_unknown_services_methods_and_bad_budgets_are_refused() -> None:
    from reels.media.v1 import media_service_pb2  # noqa: F401 - registers the descriptors

    with pytest.raises(KeyError, match="import its generated"):
        retryable_methods("reels.nothing.v1.NothingService")
    with pytest.raises(ValueError, match="NoSuchMethod"):
        dial("127.0.0.1:1", object, "reels.media.v1.MediaService", 1.0, {"NoSuchMethod": 1.0})
    with pytest.raises(ValueError, match="positive"):
        dial("127.0.0.1:1", object, "reels.media.v1.MediaService", 0)


@pytest.mark.asyncio
async def test_create_channel_accepts_the_service_config() -> None:
    from reels.media.v1 import media_service_pb2  # noqa: F401

    async with create_channel("127.0.0.1:1", "reels.media.v1.MediaService") as channel:
        assert channel.get_state() is not None
