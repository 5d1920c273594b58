"""Access tokens: a shared secret, and short-lived tokens signed with it (HMAC-SHA256), so a
backend can hand a browser a token that expires instead of the secret itself. Every
comparison takes constant time."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable

PREFIX = "pt1"  # a signed token: pt1.<expiry, unix s>.<nonce>.<signature>


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Tokens:
    def __init__(self, secret: str, ttl_s: float, clock: Callable[[], float] = time.time) -> None:
        if not secret:
            raise ValueError("a token check needs a secret")
        self._secret = secret.encode()
        self.ttl_s = ttl_s
        self._clock = clock

    def mint(self) -> tuple[str, float]:
        """A new signed token and when it expires (unix time)."""
        expires = int(self._clock() + self.ttl_s)
        body = f"{PREFIX}.{expires}.{_b64(secrets.token_bytes(12))}"
        return f"{body}.{self._sign(body)}", float(expires)

    def valid(self, presented: str | None) -> bool:
        """The shared secret itself, or a signed token that has not expired."""
        if not presented:
            return False
        if self.is_secret(presented):
            return True
        body, _, signature = presented.rpartition(".")
        parts = body.split(".")
        if len(parts) != 3 or parts[0] != PREFIX or not parts[1].isdigit():
            return False
        return hmac.compare_digest(signature, self._sign(body)) and int(parts[1]) > self._clock()

    def is_secret(self, presented: str) -> bool:
        """The shared secret itself (a signed token cannot mint more)."""
        return hmac.compare_digest(presented.encode(), self._secret)

    def _sign(self, body: str) -> str:
        return _b64(hmac.new(self._secret, body.encode(), hashlib.sha256).digest())
