"""Who may open a WebSocket, decided before accept(): a Host that is ours (against DNS
rebinding), an Origin on the allow-list (so no other web page can drive the server), a valid
token where one is required, and room under the per-address connection cap. A refused
handshake gets HTTP 403 and nothing else; the reason goes to the log only."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from utils.tokens import Tokens

TOKEN_SUBPROTOCOLS = ("parley.token.", "openai-insecure-api-key.")  # browsers cannot set headers
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


@dataclass(frozen=True)
class Handshake:
    """What the admission looks at, read from the upgrade request."""

    address: str
    scheme: str  # ws or wss, as the client used it (after trusted proxy headers)
    host: str | None  # the Host header
    origin: str | None
    token: str | None
    subprotocols: tuple[str, ...]

    @classmethod
    def read(
        cls, address: str, scheme: str, headers: Mapping[str, str], query: Mapping[str, str], offered: Iterable[str]
    ) -> Handshake:
        subprotocols = tuple(offered)
        token = query.get("token")
        authorization = headers.get("authorization", "")
        if authorization.lower().startswith("bearer "):
            token = authorization[7:].strip()
        for offer in subprotocols:
            for prefix in TOKEN_SUBPROTOCOLS:
                if offer.startswith(prefix):
                    token = offer[len(prefix) :]
        return cls(address, scheme, headers.get("host"), headers.get("origin"), token, subprotocols)


@dataclass(frozen=True)
class AdmissionPolicy:
    tokens: Tokens | None  # None: no token is required
    allowed_origins: frozenset[str] | None  # None: the page's own origin only; {"*"}: any
    allowed_hosts: frozenset[str] | None  # None: any host name
    max_connections_per_address: int


class Admission:
    """The rules, and the connections they let in (by address), until `close()` admits no more."""

    def __init__(self, policy: AdmissionPolicy) -> None:
        self.policy = policy
        self.closing = False
        self._open: dict[str, set[object]] = defaultdict(set)
        self._none_open = asyncio.Event()
        self._none_open.set()

    def refusal(self, handshake: Handshake) -> str | None:
        """Why this handshake is refused (for the log), or None to admit it."""
        policy = self.policy
        if self.closing:
            return "the server is shutting down"
        if policy.allowed_hosts is not None and host_name(handshake.host) not in policy.allowed_hosts:
            return f"host {handshake.host!r} is not served"
        if not origin_allowed(handshake, policy.allowed_origins):
            return f"origin {handshake.origin!r} is not allowed"
        if policy.tokens is not None and not policy.tokens.valid(handshake.token):
            return "no valid token"
        if len(self._open.get(handshake.address, ())) >= policy.max_connections_per_address:
            return f"{policy.max_connections_per_address} connections already open from this address"
        return None

    def enter(self, address: str, connection: object) -> None:
        self._open[address].add(connection)
        self._none_open.clear()

    def leave(self, address: str, connection: object) -> None:
        self._open[address].discard(connection)
        if not self._open[address]:
            del self._open[address]
        if not self._open:
            self._none_open.set()

    async def all_closed(self) -> None:
        await self._none_open.wait()

    def open_count(self) -> int:
        """Connections open now, from every address."""
        return sum(len(connections) for connections in self._open.values())

    def open_from(self, address: str) -> int:
        return len(self._open.get(address, ()))

    def connections(self) -> list[object]:
        return [connection for group in self._open.values() for connection in group]


def host_name(host: str | None) -> str:
    """The name part of a Host header (no port, no IPv6 brackets), lower case."""
    if not host:
        return ""
    parsed = urlsplit(f"//{host}")
    return (parsed.hostname or "").lower()


def origin_allowed(handshake: Handshake, allowed: frozenset[str] | None) -> bool:
    origin = handshake.origin
    if origin is None:
        return True  # not a browser: a page elsewhere cannot make a browser leave Origin out
    if allowed is not None and ("*" in allowed or origin.rstrip("/") in allowed):
        return True
    if allowed is not None or origin == "null" or not handshake.host:
        return False
    own = "https" if handshake.scheme == "wss" else "http"
    return same_origin(origin, f"{own}://{handshake.host}")


def same_origin(first: str, second: str) -> bool:
    a, b = urlsplit(first.lower()), urlsplit(second.lower())
    try:
        ports = (a.port or DEFAULT_PORTS.get(a.scheme), b.port or DEFAULT_PORTS.get(b.scheme))
    except ValueError:  # a port that is not a number
        return False
    return a.scheme == b.scheme and a.hostname == b.hostname and ports[0] == ports[1]
