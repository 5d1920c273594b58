"""Provider names in `.env` -> factories. A provider's module (and its SDK) is imported
only when it is chosen, so an unused SDK never has to be installed."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from config import Settings
from services.base import ASR, LLM, TTS, Providers
from utils import speech_gate

# kind -> provider name -> "module:class"; each class takes the Settings object.
PROVIDERS: dict[str, dict[str, str]] = {
    "asr": {
        "local": "services.asr.local:LocalASR",
        "pocketsphinx": "services.asr.pocketsphinx:PocketsphinxASR",
        "mock": "services.asr.mock:MockASR",
    },
    "llm": {
        "local": "services.llm.local:LocalLLM",
        "mock": "services.llm.mock:MockLLM",
    },
    "tts": {
        "local": "services.tts.local:LocalTTS",
        "espeak": "services.tts.espeak:EspeakTTS",
        "mock": "services.tts.mock:MockTTS",
    },
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


def warm_up(settings: Settings) -> None:
    """Load every chosen engine's models and run each once (blocking: call off the loop).

    Providers with nothing to load have no `warm_up`. A model that fails to load raises
    here, so the server reports it at start, not at the first turn.
    """
    for kind in ("asr", "llm", "tts"):
        warm = getattr(_factory(kind, getattr(settings, f"{kind}_provider")), "warm_up", None)
        if warm is not None:
            warm(settings)
    if settings.vad_confirm == "silero":
        speech_gate.preload(4)


def build_providers(settings: Settings) -> Providers:
    """Fresh provider instances for one session (engines may share models inside)."""
    asr: ASR = _factory("asr", settings.asr_provider)(settings)
    llm: LLM = _factory("llm", settings.llm_provider)(settings)
    tts: TTS = _factory("tts", settings.tts_provider)(settings)
    return Providers(asr=asr, llm=llm, tts=tts)
