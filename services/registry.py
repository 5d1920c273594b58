"""Provider names in `.env` -> factories. A provider's module (and its SDK) is imported
only when it is chosen, so an unused SDK never has to be installed."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from config import Settings
from services.base import ASR, LLM, TTS, Providers

# kind -> provider name -> "module:class"; each class takes the Settings object.
PROVIDERS: dict[str, dict[str, str]] = {
    "asr": {"mock": "services.asr.mock:MockASR"},
    "llm": {"mock": "services.llm.mock:MockLLM"},
    "tts": {"mock": "services.tts.mock:MockTTS"},
}


class UnknownProvider(ValueError):
    pass


def _factory(kind: str, name: str) -> Callable[[Settings], Any]:
    choices = PROVIDERS[kind]
    if name not in choices:
        raise UnknownProvider(f"{kind.upper()}_PROVIDER={name!r} is not one of {sorted(choices)}")
    module_name, class_name = choices[name].split(":")
    factory: Callable[[Settings], Any] = getattr(importlib.import_module(module_name), class_name)
    return factory


def validate(settings: Settings) -> None:
    """Fail at start-up, not at the first turn, when a provider name is wrong."""
    _factory("asr", settings.asr_provider)
    _factory("llm", settings.llm_provider)
    _factory("tts", settings.tts_provider)


def build_providers(settings: Settings) -> Providers:
    """Fresh provider instances for one session (engines may share models inside)."""
    asr: ASR = _factory("asr", settings.asr_provider)(settings)
    llm: LLM = _factory("llm", settings.llm_provider)(settings)
    tts: TTS = _factory("tts", settings.tts_provider)(settings)
    return Providers(asr=asr, llm=llm, tts=tts)
