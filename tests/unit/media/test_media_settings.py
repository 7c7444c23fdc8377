"""media_svc's settings: defaults, the blocklist sources, and errors that name the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from media_svc.domain.metadata import ModerationMode
from media_svc.settings import DEFAULTS, MediaSettings
from reels_runtime.config import Config, ConfigError

CONFIG = Config.from_env({"SERVICE_NAME": "media_svc"})


def test_defaults() -> None:
    settings = MediaSettings.from_env(CONFIG, {})
    assert settings.daily_upload_limit == 100
    assert settings.moderation_blocklist == ()
    assert settings.moderation_mode is ModerationMode.REFUSE
    assert settings.upload_session_ttl_s == 900
    assert settings.upload_part_size_bytes == 8 * 1024 * 1024
    assert settings.upload_spool_dir is None
    assert (
        settings.public_url("videos/x/thumb.jpg")
        == "http://127.0.0.1:8334/videos/videos/x/thumb.jpg"
    )


def test_blocklist_from_variable_and_file(tmp_path: Path) -> None:
    listing = tmp_path / "blocklist.txt"
    listing.write_text("# moderation terms\n#scam\nbuy followers, spam\n\n#\n")
    settings = MediaSettings.from_env(
        CONFIG,
        {
            "MODERATION_BLOCKLIST": "spam, badword ,",
            "MODERATION_BLOCKLIST_PATH": str(listing),
            "MODERATION_MODE": "FLAG",
        },
    )
    assert settings.moderation_blocklist == ("spam", "badword", "#scam", "buy followers")
    assert settings.moderation_mode is ModerationMode.FLAG


@pytest.mark.parametrize(
    ("environ", "variable"),
    [
        ({"VIDEO_DAILY_UPLOAD_LIMIT": "lots"}, "VIDEO_DAILY_UPLOAD_LIMIT"),
        ({"VIDEO_DAILY_UPLOAD_LIMIT": "0"}, "VIDEO_DAILY_UPLOAD_LIMIT"),
        ({"MODERATION_MODE": "shadowban"}, "MODERATION_MODE"),
        ({"MODERATION_BLOCKLIST_PATH": "/nonexistent/list.txt"}, "MODERATION_BLOCKLIST_PATH"),
        ({"MODERATION_BLOCKLIST": "ok, --"}, "MODERATION_BLOCKLIST"),
        ({"UPLOAD_SESSION_TTL_SECONDS": "5"}, "UPLOAD_SESSION_TTL_SECONDS"),
        ({"UPLOAD_PART_SIZE_MB": "1"}, "UPLOAD_PART_SIZE_MB"),
        ({"UPLOAD_SPOOL_DIR": "/nonexistent/spool"}, "UPLOAD_SPOOL_DIR"),
        ({"S3_PUBLIC_ENDPOINT_URL": "ftp://x"}, "S3_PUBLIC_ENDPOINT_URL"),
        ({"TRANSCODE_HEVC": "maybe"}, "TRANSCODE_HEVC"),
    ],
)
def test_a_bad_value_fails_naming_its_variable(environ: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError) as caught:
        MediaSettings.from_env(CONFIG, environ)
    assert caught.value.variable == variable
    assert str(caught.value).startswith(f"{variable}: ")


def test_env_example_lists_every_media_variable_with_its_default() -> None:
    example = Path(__file__).resolve().parents[3] / ".env.example"
    entries = dict(
        line.partition("=")[::2]
        for line in example.read_text().splitlines()
        if line and not line.startswith("#")
    )
    for name, default in DEFAULTS.items():
        assert entries.get(name) == default, name
    assert MediaSettings.from_env(CONFIG, entries) == MediaSettings.from_env(CONFIG, {})
