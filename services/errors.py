"""Errors a provider raises; each maps to an `error` code the client sees."""

from __future__ import annotations


class ProviderError(Exception):
    """A provider failed; `code` is the protocol error code sent to the client."""

    code = "provider_failed"

    def __init__(self, stage: str, message: str) -> None:
        super().__init__(f"{stage}: {message}")
        self.stage = stage
        self.message = message


class ProviderTimeout(ProviderError):
    code = "provider_timeout"


class RateLimited(ProviderError):
    code = "rate_limited"

    def __init__(self, stage: str, message: str, retry_after_s: float | None = None) -> None:
        super().__init__(stage, message)
        self.retry_after_s = retry_after_s
