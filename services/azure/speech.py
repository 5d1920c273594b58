"""What the Azure Speech providers share: the SDK's SpeechConfig from settings, and the
translation of the SDK's failures into ProviderErrors."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from services.azure.settings import AzureSpeechSettings
from services.errors import ProviderError, ProviderUnavailable, RateLimited

if TYPE_CHECKING:
    import azure.cognitiveservices.speech as speechsdk

log = logging.getLogger(__name__)
E = TypeVar("E")
RETRYABLE = {"ConnectionFailure", "ServiceTimeout", "ServiceUnavailable", "ServiceError", "RuntimeError"}
CREDENTIALS = {"AuthenticationFailure", "Forbidden"}


def speech_config(settings: AzureSpeechSettings) -> speechsdk.SpeechConfig:
    import azure.cognitiveservices.speech as speechsdk

    key = settings.key.get_secret_value()
    if settings.endpoint:
        return speechsdk.SpeechConfig(subscription=key, endpoint=settings.endpoint)
    if settings.host:
        return speechsdk.SpeechConfig(subscription=key, host=settings.host)
    return speechsdk.SpeechConfig(subscription=key, region=settings.region)


def cancellation_error(stage: str, code: str, details: str) -> ProviderError:
    """The ProviderError for an SDK cancellation (`code` is a CancellationErrorCode name)."""
    if code in CREDENTIALS:
        return ProviderError(stage, f"Azure Speech refused the key ({code}); check AZURE_SPEECH_KEY and its region")
    if code == "TooManyRequests":
        return RateLimited(stage, "Azure Speech is rate limiting (TooManyRequests)")
    if code in RETRYABLE:
        return ProviderUnavailable(stage, f"Azure Speech failed ({code})")
    return ProviderError(stage, f"Azure Speech refused the request ({code}: {details[:120]})")


def connect_signals(
    sdk_object: Any, signals: tuple[str, ...], translate: Callable[[str, Any], E | None], deliver: Callable[[E], object]
) -> None:
    """Connect each SDK signal to a callback that translates the SDK event on the SDK's thread
    (no SDK object leaves it) and delivers the plain event; an unreadable event is logged."""
    for kind in signals:

        def on_sdk_event(evt: Any, kind: str = kind) -> None:
            try:
                event = translate(kind, evt)
            except Exception:
                log.exception("azure: a %s event could not be read", kind)
                return
            if event is not None:
                deliver(event)

        getattr(sdk_object, kind).connect(on_sdk_event)
