"""Opaque, tamper-evident page cursors: signed JSON with an expiry and what they bind to."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ranking_svc.domain.model import InvalidArgument

_MAC_BYTES = 16
MAX_CURSOR_CHARS = 1024


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class CursorState:
    """Where the next page starts, in which list, and what the cursor is bound to."""

    kind: str  # "feed", "trending", "search", "creators"
    user_id: str
    offset: int
    # What must match on the next request: algo, limit, window, query...
    binding: Mapping[str, Any]
    # The feed session (the ranked list the pages are cut from); "" for other lists.
    session: str = ""


class CursorCodec:
    """Signs and checks cursors with HMAC-SHA256; a cursor lives `ttl_s` seconds."""

    def __init__(self, secret: bytes, ttl_s: float, clock: Callable[[], float] = time.time) -> None:
        if len(secret) < 16:
            raise ValueError("the cursor secret must be at least 16 bytes")
        self._secret = secret
        self._ttl = ttl_s
        self._clock = clock

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._secret, payload, hashlib.sha256).digest()[:_MAC_BYTES]

    def encode(self, state: CursorState) -> str:
        body = {
            "k": state.kind,
            "u": state.user_id,
            "o": state.offset,
            "b": dict(state.binding),
            "s": state.session,
            "e": int(self._clock() + self._ttl),
        }
        payload = json.dumps(body, separators=(",", ":"), sort_keys=True).encode()
        return f"{_b64(payload)}.{_b64(self._mac(payload))}"

    def decode(
        self, cursor: str, *, kind: str, user_id: str, binding: Mapping[str, Any]
    ) -> CursorState:
        """The state of a cursor issued to this user for this list and binding.

        Raises InvalidArgument when it is malformed, forged, expired or issued for
        another user, list, or binding (another algo, limit, window or query).
        """
        if len(cursor) > MAX_CURSOR_CHARS:
            raise InvalidArgument("cursor is too long")
        encoded_payload, dot, encoded_mac = cursor.partition(".")
        try:
            payload = _unb64(encoded_payload)
            mac = _unb64(encoded_mac)
        except (ValueError, TypeError):
            raise InvalidArgument("cursor is malformed") from None
        if not dot or not hmac.compare_digest(mac, self._mac(payload)):
            raise InvalidArgument("cursor is not valid (forged or corrupted)")
        try:
            body = json.loads(payload)
            state = CursorState(
                kind=str(body["k"]),
                user_id=str(body["u"]),
                offset=int(body["o"]),
                binding=dict(body["b"]),
                session=str(body.get("s", "")),
            )
            expires = float(body["e"])
        except (ValueError, KeyError, TypeError):
            raise InvalidArgument("cursor is malformed") from None
        if expires < self._clock():
            raise InvalidArgument("cursor has expired; start again without a cursor")
        if state.kind != kind or state.user_id != user_id:
            raise InvalidArgument("cursor was issued for another list or user")
        if dict(binding) != dict(state.binding):
            raise InvalidArgument("cursor was issued for other parameters (algo, limit, query)")
        if state.offset < 0:
            raise InvalidArgument("cursor is malformed")
        return state
