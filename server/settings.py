"""Settings of access and limits (SECURITY.md explains each): who may connect, and how much any
one client may take. Variables have no prefix (AUTH_TOKEN, MAX_SESSIONS...)."""

from __future__ import annotations

import ipaddress
import re
from typing import Literal

from pydantic import Field, SecretStr, field_validator

from config import ConfigProblem, EnvSettings

TOKEN_CHARS = re.compile(r"[A-Za-z0-9._~-]{16,}")  # usable as is in a header, a query or a subprotocol


class SecuritySettings(EnvSettings):
    """Access: tokens, allowed origins and host names, API docs, proxies (see SECURITY.md)."""

    auth_token: SecretStr = Field(
        SecretStr(""),
        description="Shared secret a client presents to open /ws (Authorization: Bearer, ?token= or the "
        "subprotocol parley.token.<token>); it also signs short-lived tokens (POST /v1/tokens). At least 16 of "
        "A-Z a-z 0-9 . _ ~ -.",
    )
    auth: Literal["auto", "required", "off"] = Field(
        "auto",
        description="auto: a token is required when HOST is not a loopback address or AUTH_TOKEN is set; "
        "required: always; off: never (warned when HOST is not loopback).",
    )
    token_ttl_s: int = Field(600, ge=10, le=86400, description="Lifetime of a token from POST /v1/tokens.")
    allowed_origins: str = Field(
        "", description="Origins (scheme://host:port) allowed to open /ws, comma separated; empty: the page's own "
        "origin only; * for any. Clients that send no Origin (not browsers) are not affected."
    )  # fmt: skip
    allowed_hosts: str = Field(
        "", description="Host header values served, comma separated; empty: localhost names when HOST is "
        "loopback, any otherwise (against DNS rebinding)."
    )  # fmt: skip
    trusted_proxies: str = Field(
        "", description="Proxy addresses whose X-Forwarded-For and -Proto are believed (python app.py), comma "
        "separated; empty: none."
    )  # fmt: skip
    api_docs: bool = Field(False, description="Serve /docs and /openapi.json.")

    @field_validator("auth_token")
    @classmethod
    def _usable_token(cls, value: SecretStr) -> SecretStr:
        secret = value.get_secret_value()
        if secret and not TOKEN_CHARS.fullmatch(secret):
            raise ValueError("must be at least 16 of A-Z a-z 0-9 . _ ~ -")
        return value

    def problems(self, host: str) -> list[ConfigProblem]:
        """A server on the network with no token and auth not turned off explicitly cannot start."""
        if self.token_required(host) and not self.auth_token.get_secret_value():
            why = "AUTH=required" if self.auth == "required" else f"HOST={host} is not a loopback address"
            return [ConfigProblem("AUTH_TOKEN", f"is required: {why} (or set AUTH=off to serve without one)")]
        return []

    def token_required(self, host: str) -> bool:
        """auto: on the network, or whenever a token is set; required: always; off: never."""
        if self.auth == "auto":
            return not is_loopback(host) or bool(self.auth_token.get_secret_value())
        return self.auth == "required"


class LimitSettings(EnvSettings):
    """Limits: what any one client may take, so that it cannot starve the others (see SECURITY.md)."""

    ws_max_message_bytes: int = Field(
        1 << 20,
        ge=1024,
        description="WebSocket messages above this close the socket with 1009 (python app.py; uvicorn: --ws-max-size).",
    )
    max_text_chars: int = Field(
        4000, ge=1, description="Longest accepted text_input, system_prompt or Realtime input_text."
    )
    max_messages_per_s: float = Field(
        400.0, gt=0, description="Sustained client message rate; a flood beyond it closes with 1008."
    )
    max_errors_per_min: int = Field(60, ge=1, description="Bad messages per minute before closing with 1008.")
    outbound_queue_size: int = Field(
        512, ge=16, description="Messages waiting to go to a client; overflow closes with 1008."
    )
    send_timeout_s: float = Field(
        10.0, gt=0, description="A client that has not taken a message after this long is dropped (checked every "
        "half of it)."
    )  # fmt: skip
    ws_ping_interval_s: float = Field(20.0, gt=0, description="WebSocket ping interval (python app.py).")
    ws_ping_timeout_s: float = Field(20.0, gt=0, description="Close a socket whose pong is this late.")
    session_idle_timeout_s: float = Field(
        300.0, gt=0, description="A disconnected session is kept this long for a reconnect."
    )
    max_sessions: int = Field(
        100, ge=1, description="Sessions held at once; at the cap the oldest disconnected one makes room, and a "
        "newcomer is refused (1013) only when all are connected."
    )  # fmt: skip

    max_sessions_per_address: int = Field(
        16, ge=1, description="Sessions one client address may hold; its oldest disconnected one makes room."
    )
    max_connections_per_address: int = Field(
        8, ge=1, description="Open WebSockets from one client address; more are refused before accept (403)."
    )
    connection_idle_timeout_s: float = Field(
        300.0, gt=0, description="A connection that sends nothing for this long is closed (4002)."
    )
    utterance_stall_ms: int = Field(
        1500, ge=100, description="Speech whose audio stops arriving mid-utterance is ended after this long."
    )
    audio_burst_ms: int = Field(
        2000, ge=100, description="Audio may arrive faster than real time by this much at most; the excess is "
        "refused (audio_too_fast)."
    )  # fmt: skip
    text_turns_per_s: float = Field(
        20.0, gt=0, description="Typed turns per second for the whole server, shared evenly by the connections."
    )
    text_turn_burst: int = Field(3, ge=1, description="Typed turns one connection may send at once.")
    vad_windows_per_s: float = Field(
        3000.0, gt=0, description="Silero VAD windows per second for the whole server (about 31 per real-time "
        "stream), shared evenly; beyond its share a stream is classified by webrtcvad alone."
    )  # fmt: skip


def is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return host == "localhost"
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def split_list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]
