"""EmbedSettings: defaults, and every bad value named."""

from __future__ import annotations

import pytest

from embed_svc.settings import EmbedSettings
from reels_runtime.config import ConfigError


def test_defaults() -> None:
    settings = EmbedSettings.from_env({})
    assert settings == EmbedSettings()
    assert settings.cache_ttl_s == 86400 and settings.dimension == 256


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("EMBED_DIMENSION", "300"),
        ("EMBED_CACHE_TTL_SECONDS", "ten"),
        ("EMBED_COLLECTION", "bad name"),
        ("EMBED_CONSUMERS", "maybe"),
        ("EMBED_RECALL_CANDIDATES", "5"),
    ],
)
def test_bad_values_name_their_variable(variable: str, value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        EmbedSettings.from_env({variable: value})
    assert caught.value.variable == variable


def test_values_are_read() -> None:
    settings = EmbedSettings.from_env(
        {"EMBED_DIMENSION": "512", "EMBED_CONSUMERS": "false", "EMBED_USER_HALF_LIFE_HOURS": "24"}
    )
    assert settings.dimension == 512 and not settings.run_consumers
    assert settings.user_half_life_h == 24


def test_env_example_gives_the_defaults() -> None:
    from pathlib import Path

    from embed_svc.settings import DEFAULTS

    example = Path(__file__).resolve().parents[3] / ".env.example"
    lines = example.read_text().splitlines()
    entries = {}
    for index, line in enumerate(lines):
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            entries[name] = value
            if name in DEFAULTS:  # each of ours is explained by the comment just above it
                assert lines[index - 1].startswith("# "), name
    for name, default in DEFAULTS.items():
        assert entries.get(name) == default, name
    assert EmbedSettings.from_env(entries) == EmbedSettings()
