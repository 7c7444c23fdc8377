"""stream_svc's settings: .env.example lists each with the default the code uses."""

from __future__ import annotations

from pathlib import Path

import pytest

from reels_runtime.config import ConfigError
from stream_svc.engagement_wiring import DEFAULTS, EngagementSettings
from stream_svc.playback_wiring import PlaybackSettings

EXAMPLE = Path(__file__).resolve().parents[3] / ".env.example"


def example_entries() -> dict[str, str]:
    return dict(
        line.partition("=")[::2]
        for line in EXAMPLE.read_text().splitlines()
        if line and not line.startswith("#")
    )


def test_env_example_gives_the_engagement_defaults() -> None:
    entries = example_entries()
    for name, default in DEFAULTS.items():
        assert entries.get(name) == default, name
    assert EngagementSettings.from_env(entries) == EngagementSettings.from_env({})


def test_env_example_gives_the_playback_defaults() -> None:
    entries = example_entries()
    for name in (
        "PLAYBACK_TOKEN_TTL_SECONDS",
        "PLAYBACK_PUBLIC_BASE_URL",
        "CDN_PROBE_TIMEOUT_SECONDS",
        "CDN_HEALTH_TTL_SECONDS",
    ):
        assert name in entries, name
    assert PlaybackSettings.from_env(entries) == PlaybackSettings.from_env({})


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("STREAM_EVENTS_BATCH", "0"),
        ("STREAM_EVENTS_CONSUMERS", "two"),
        ("STREAM_EVENTS_CLAIM_IDLE_MS", "5"),
        ("STREAM_ENGAGEMENT_CONSUMERS", "maybe"),
    ],
)
def test_a_bad_engagement_value_names_its_variable(variable: str, value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        EngagementSettings.from_env({variable: value})
    assert caught.value.variable == variable


def test_a_short_playback_token_lifetime_is_refused() -> None:
    with pytest.raises(ConfigError) as caught:
        PlaybackSettings.from_env({"PLAYBACK_TOKEN_TTL_SECONDS": "10"})
    assert caught.value.variable == "PLAYBACK_TOKEN_TTL_SECONDS"
