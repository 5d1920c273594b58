"""Errors a provider raises; each maps to an `error` code the client sees.

Messages are shown to the client, so they say what failed in plain words and never carry a
key, a URL with credentials or a Python repr; details go to the server log.
"""

from __future__ import annotations


class ProviderError(Exception):
    """A provider failed; `code` is the protocol error code sent to the client."""

    code = "provider_failed"
    retryable = False  # worth trying again before any output was produced

    def __init__(
        self, stage: str, message: str, retry_after_s: float | None = None, retryable: bool | None = None
    ) -> None:
        super().__init__(f"{stage}: {message}")
        self.stage = stage
        self.message = message
        self.retry_after_s = retry_after_s
        if retryable is not None:
            self.retryable = retryable


class ProviderUnavailable(ProviderError):
    """The service could not be reached or answered with a server error (5xx)."""

    retryable = True


class ProviderTimeout(ProviderError):
    code = "provider_timeout"


class RateLimited(ProviderError):
    code = "rate_limited"
    retryable = True


PROVIDER_ERROR_CODES = {
    ProviderError.code: "the ASR, LLM or TTS provider failed; the turn ended",
    ProviderTimeout.code: "a provider did not answer in time; the turn ended",
    RateLimited.code: "a provider refused for rate limiting; the turn ended (`retry_after_s` when known)",
}
