"""WebSocket close codes every protocol of Parley uses, with when each is sent (PROTOCOL.md's
table and the page's constants are generated from CLOSE_CODES)."""

from __future__ import annotations

CLOSE_NORMAL = 1000
CLOSE_POLICY = 1008
CLOSE_TOO_BIG = 1009
CLOSE_RESTART = 1012
CLOSE_TRY_LATER = 1013
CLOSE_REPLACED = 4001
CLOSE_IDLE = 4002
CLOSE_DELETED = 4003
CLOSE_CODES = {
    CLOSE_NORMAL: "normal close",
    CLOSE_POLICY: "more than MAX_MESSAGES_PER_S messages (sustained), more than MAX_ERRORS_PER_MIN bad messages "
    "in a minute, or a client that does not read what it is sent (then the socket is dropped, not closed)",
    CLOSE_TOO_BIG: "a message larger than WS_MAX_MESSAGE_BYTES",
    CLOSE_RESTART: "the server is shutting down or restarting: reconnect after `going_away.reconnect_after_s`",
    CLOSE_TRY_LATER: "too many sessions",
    CLOSE_REPLACED: "the session was resumed by a newer connection",
    CLOSE_IDLE: "nothing received for CONNECTION_IDLE_TIMEOUT_S: reconnect when there is something to send",
    CLOSE_DELETED: "the session was deleted (DELETE /v1/sessions/{id}); a reconnect starts a new one",
}
