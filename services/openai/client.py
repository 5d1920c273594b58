"""OpenAI clients, pooled per process, and the translation of their failures into ProviderErrors.

The SDK's own retries are off (max_retries=0): Parley retries only before the first byte of
a stream (services/retry.py), so a retry can never repeat words already spoken. Timeouts
bound connecting and every read, never a whole stream.
"""

from __future__ import annotations

import logging

import httpx2
import openai

from services.errors import ProviderError, ProviderTimeout, ProviderUnavailable, RateLimited
from services.openai.settings import AzureOpenAISettings, OpenAIKindSettings, OpenAISettings
from services.retry import RetryPolicy, parse_retry_after
from services.secrets import REDACTOR
from services.shared import SharedResources

log = logging.getLogger(__name__)
KEYLESS = "not-needed"  # the SDK insists on a key; local servers ignore it
MESSAGE_CHARS = 200


def _timeout(settings: OpenAISettings) -> httpx2.Timeout:
    return httpx2.Timeout(settings.read_timeout_s, connect=settings.connect_timeout_s)


def openai_client(shared: SharedResources, settings: OpenAISettings, kind: OpenAIKindSettings) -> openai.AsyncOpenAI:
    """The process's client for this kind's base URL and key."""
    base_url, key = kind.endpoint(settings)

    def create() -> openai.AsyncOpenAI:
        return openai.AsyncOpenAI(
            api_key=key or KEYLESS, base_url=base_url or None, timeout=_timeout(settings), max_retries=0
        )

    return shared.get(("openai", base_url, key, settings.connect_timeout_s, settings.read_timeout_s), create)


def azure_client(
    shared: SharedResources, azure: AzureOpenAISettings, settings: OpenAISettings
) -> openai.AsyncAzureOpenAI:
    key = azure.api_key.get_secret_value()

    def create() -> openai.AsyncAzureOpenAI:
        return openai.AsyncAzureOpenAI(
            azure_endpoint=azure.endpoint, azure_deployment=azure.deployment, api_version=azure.api_version,
            api_key=key, timeout=_timeout(settings), max_retries=0,
        )  # fmt: skip

    return shared.get(("azure_openai", azure.endpoint, azure.deployment, azure.api_version, key), create)


def retry_policy(settings: OpenAISettings) -> RetryPolicy:
    return RetryPolicy(attempts=settings.retries + 1)


def provider_error(stage: str, error: BaseException) -> ProviderError:
    """The ProviderError for a failure of the SDK or the connection under it (never raises)."""
    if isinstance(error, ProviderError):
        return error
    if isinstance(error, openai.APITimeoutError | httpx2.TimeoutException):
        return ProviderTimeout(stage, "the service did not answer in time", retryable=True)
    if isinstance(error, openai.APIConnectionError | httpx2.TransportError):
        return ProviderUnavailable(stage, f"the connection to the service failed ({type(error).__name__})")
    if isinstance(error, openai.APIStatusError):
        return _status_error(stage, error)
    if isinstance(error, openai.APIError):  # an error event in the middle of a stream
        return ProviderUnavailable(stage, f"the service reported an error: {REDACTOR(error.message)[:MESSAGE_CHARS]}")
    log.error("%s: unexpected failure of the OpenAI client", stage, exc_info=error)
    return ProviderError(stage, "the service's client failed unexpectedly")


def _status_error(stage: str, error: openai.APIStatusError) -> ProviderError:
    status = error.status_code
    if status == 429:
        retry_after = parse_retry_after(error.response.headers)
        return RateLimited(stage, f"the service is rate limiting (429){_said(error)}", retry_after_s=retry_after)
    if status >= 500:
        return ProviderUnavailable(stage, f"the service failed ({status})")
    if status in (401, 403):
        return ProviderError(stage, f"the service refused the credentials ({status}); check the API key")
    return ProviderError(stage, f"the service rejected the request ({status}){_said(error)}")


def _said(error: openai.APIStatusError) -> str:
    """What the service said, short and with anything secret-looking masked."""
    body = error.body if isinstance(error.body, dict) else {}
    message = str(body.get("message") or error.message or "")
    return f": {REDACTOR(message)[:MESSAGE_CHARS]}" if message else ""
