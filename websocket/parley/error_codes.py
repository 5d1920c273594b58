"""The codes of Parley's `error` message, with what each means (PROTOCOL.md's table)."""

from __future__ import annotations

from services.errors import PROVIDER_ERROR_CODES

ERROR_CODES: dict[str, str] = {
    "bad_json": "a text message is not a JSON object",
    "unknown_type": "the message type is not one this protocol defines",
    "bad_field": "a field is missing, of the wrong type or out of range",
    "frame_too_short": "a binary frame is shorter than its 8-byte header",
    "odd_length": "a binary frame's PCM16 payload has an odd number of bytes",
    "frame_too_long": "a binary frame holds more than 100 ms of audio",
    "frame_too_short_audio": "a binary frame holds less than 10 ms of audio",
    "audio_too_fast": "audio arrives faster than real time by more than AUDIO_BURST_MS; the excess is dropped",
    "unsupported_sample_rate": "`configure` asked for a rate other than 16000, 24000 or 48000",
    "not_listening": "text arrived while stopped; send `start` first",
    "service_unavailable": "the engines failed to load (`server_status{failed}` says why): typed turns are "
    "refused and audio is ignored until the server is fixed",
    **PROVIDER_ERROR_CODES,
    "rate_limited": "a provider refused for rate limiting (the turn ended; `retry_after_s` when known), or typed "
    "turns came faster than this connection's share of TEXT_TURNS_PER_S (the text was not taken)",
    "server_busy": "the server holds MAX_SESSIONS sessions; the socket closes with 1013",
    "internal_error": "the server failed unexpectedly; the session continues (details are in the server log)",
}
