"""Signed page cursors: round trips, forgery, expiry and binding."""

from __future__ import annotations

import base64
import json

import pytest

from ranking_svc.domain.cursor import CursorCodec, CursorState
from ranking_svc.domain.model import InvalidArgument

SECRET = b"0123456789abcdef0123456789abcdef"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def codec(clock: Clock | None = None, secret: bytes = SECRET) -> CursorCodec:
    return CursorCodec(secret, ttl_s=600, clock=clock or Clock())


BINDING = {"algo": "ch", "limit": 30}


def test_round_trip() -> None:
    c = codec()
    state = CursorState("feed", "alice", 30, BINDING, session="s1")
    token = c.encode(state)
    assert c.decode(token, kind="feed", user_id="alice", binding=BINDING) == state


def test_cursor_is_opaque_url_safe_text() -> None:
    token = codec().encode(CursorState("feed", "alice", 30, BINDING))
    assert all(ch.isalnum() or ch in "-_." for ch in token)


def test_tampered_offset_is_rejected() -> None:
    c = codec()
    token = c.encode(CursorState("feed", "alice", 30, BINDING))
    payload, mac = token.split(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    body["o"] = 0
    forged = base64.urlsafe_b64encode(json.dumps(body).encode()).rstrip(b"=").decode()
    with pytest.raises(InvalidArgument, match="forged"):
        c.decode(f"{forged}.{mac}", kind="feed", user_id="alice", binding=BINDING)


@pytest.mark.parametrize("garbage", ["", "x", "abc.def", "!!!.???", "a" * 2000, "e30.e30"])
def test_garbage_is_rejected(garbage: str) -> None:
    with pytest.raises(InvalidArgument):
        codec().decode(garbage, kind="feed", user_id="alice", binding=BINDING)


def test_another_key_is_rejected() -> None:
    token = codec(secret=b"another-secret-of-32-bytes-long!").encode(
        CursorState("feed", "alice", 30, BINDING)
    )
    with pytest.raises(InvalidArgument):
        codec().decode(token, kind="feed", user_id="alice", binding=BINDING)


def test_expired_cursor_is_rejected() -> None:
    clock = Clock()
    c = codec(clock)
    token = c.encode(CursorState("feed", "alice", 30, BINDING))
    clock.now += 601
    with pytest.raises(InvalidArgument, match="expired"):
        c.decode(token, kind="feed", user_id="alice", binding=BINDING)


def test_cursor_of_another_user_list_or_binding_is_rejected() -> None:
    c = codec()
    token = c.encode(CursorState("feed", "alice", 30, BINDING))
    with pytest.raises(InvalidArgument):
        c.decode(token, kind="feed", user_id="bob", binding=BINDING)
    with pytest.raises(InvalidArgument):
        c.decode(token, kind="search", user_id="alice", binding=BINDING)
    with pytest.raises(InvalidArgument):
        c.decode(token, kind="feed", user_id="alice", binding={"algo": "trending", "limit": 30})
    with pytest.raises(InvalidArgument):
        c.decode(token, kind="feed", user_id="alice", binding={"algo": "ch", "limit": 10})


def test_short_secret_is_refused() -> None:
    with pytest.raises(ValueError):
        CursorCodec(b"short", 60)
