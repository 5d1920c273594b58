"""ASGI layers around the app: security headers on every HTTP answer, the Host check (against
DNS rebinding), and a way for a connection to drop its socket at once (`transport.abort` in
the scope's extensions: ASGI can only close politely, which waits forever on a client that
never reads)."""

from __future__ import annotations

import contextlib
import socket
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from websocket.admission import host_name

SECURITY_HEADERS = {
    "content-security-policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; media-src 'self' blob:; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "permissions-policy": "microphone=(self), camera=(), geolocation=(), payment=()",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
}
RAW_HEADERS = [(name.encode(), value.encode()) for name, value in SECURITY_HEADERS.items()]
# The kernel's send queue of one WebSocket: 5 s of 24 kHz audio, far more than the pacer keeps
# ahead, and small enough that a client that stops reading fills it (and is dropped) within
# SEND_TIMEOUT_S, instead of parking megabytes in the kernel (autotuning allows 4 MB).
WS_SEND_BUFFER_BYTES = 256 * 1024


class Guard:
    """The outermost layer: Host check and headers for HTTP, an abort handle for WebSockets."""

    def __init__(self, app: ASGIApp, allowed_hosts: frozenset[str] | None) -> None:
        self.app = app
        self.allowed_hosts = allowed_hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            transport = _transport(send)
            abort = transport.abort if transport is not None else None
            if transport is not None and (sock := transport.get_extra_info("socket")) is not None:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, WS_SEND_BUFFER_BYTES)
            if abort is not None:
                scope = {**scope, "extensions": {**scope.get("extensions", {}), "transport.abort": abort}}
            await self.app(scope, receive, send)  # the connection checks the Host itself, before accept
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.allowed_hosts is not None and host_name(_header(scope, b"host")) not in self.allowed_hosts:
            await _plain(send, 400, b"Invalid host header")
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *RAW_HEADERS]}
            await send(message)

        await self.app(scope, receive, with_headers)


def _transport(send: Send) -> Any:
    """uvicorn's protocol objects keep their transport; `send` is one of their methods."""
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    return transport if transport is not None and hasattr(transport, "abort") else None


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


async def _plain(send: Send, status: int, body: bytes) -> None:
    headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode()), *RAW_HEADERS]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
