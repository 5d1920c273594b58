"""Provider names in `.env` -> classes and their settings classes, and the provider factory.

A provider's module (and its SDK) is imported only when it is chosen, so an unused SDK
never has to be installed; its settings class lives in a light module of its vendor's
package, so the docs and start-up checks can read every one without importing any SDK.
The factory is built once per process: it holds each provider's settings and what
engines pool (models, HTTP clients), and gives every session its own provider objects.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar, cast

from config import ConfigError, ConfigProblem, EnvSettings, Settings, load_settings
from services.base import ASR, LLM, TTS, Providers
from services.errors import ProviderError
from services.shared import SharedResources

Kind = Literal["asr", "llm", "tts"]
KINDS: tuple[Kind, ...] = ("asr", "llm", "tts")
S = TypeVar("S", bound=EnvSettings)


@dataclass(frozen=True)
class ProviderSpec:
    target: str  # "module:Class"; the class takes one instance of each settings class, in order
    settings: tuple[str, ...] = ()  # "module:SettingsClass"


_LOCAL = "services.local.settings"
_MOCK = "services.mock.settings"
_OPENAI = "services.openai.settings"
_AZURE = "services.azure.settings"
_ENGINE = f"{_LOCAL}:LocalEngineSettings"
_OPENAI_CONN = f"{_OPENAI}:OpenAISettings"
_SPEECH = f"{_AZURE}:AzureSpeechSettings"
PROVIDERS: dict[Kind, dict[str, ProviderSpec]] = {
    "asr": {
        "local": ProviderSpec("services.local.asr:WhisperASR", (f"{_LOCAL}:LocalASRSettings", _ENGINE)),
        "pocketsphinx": ProviderSpec("services.local.pocketsphinx:PocketsphinxASR", (_ENGINE,)),
        "openai": ProviderSpec("services.openai.asr:OpenAIASR", (_OPENAI_CONN, f"{_OPENAI}:OpenAIASRSettings")),
        "azure": ProviderSpec("services.azure.asr:AzureASR", (_SPEECH, f"{_AZURE}:AzureASRSettings")),
        "mock": ProviderSpec("services.mock.asr:MockASR", (f"{_MOCK}:MockASRSettings",)),
    },
    "llm": {
        "local": ProviderSpec("services.local.llm:LlamaLLM", (f"{_LOCAL}:LocalLLMSettings", _ENGINE)),
        "openai": ProviderSpec("services.openai.llm:OpenAILLM", (_OPENAI_CONN, f"{_OPENAI}:OpenAILLMSettings")),
        "azure_openai": ProviderSpec(
            "services.openai.llm:AzureOpenAILLM",
            (f"{_OPENAI}:AzureOpenAISettings", _OPENAI_CONN, f"{_OPENAI}:OpenAILLMSettings"),
        ),
        "mock": ProviderSpec("services.mock.llm:MockLLM", (f"{_MOCK}:MockLLMSettings",)),
    },
    "tts": {
        "local": ProviderSpec("services.local.tts:HibariTTS", (f"{_LOCAL}:LocalTTSSettings", _ENGINE)),
        "espeak": ProviderSpec("services.local.espeak:EspeakTTS", (f"{_LOCAL}:EspeakSettings",)),
        "openai": ProviderSpec("services.openai.tts:OpenAITTS", (_OPENAI_CONN, f"{_OPENAI}:OpenAITTSSettings")),
        "azure": ProviderSpec("services.azure.tts:AzureTTS", (_SPEECH, f"{_AZURE}:AzureTTSSettings")),
        "minimax": ProviderSpec("services.minimax.tts:MiniMaxTTS", ("services.minimax.settings:MiniMaxSettings",)),
        "mock": ProviderSpec("services.mock.tts:MockTTS", (f"{_MOCK}:MockTTSSettings",)),
    },
}


class UnknownProvider(ValueError):
    def __init__(self, problem: ConfigProblem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def _load(path: str) -> Any:
    module_name, name = path.split(":")
    return getattr(importlib.import_module(module_name), name)


def spec(kind: Kind, name: str) -> ProviderSpec:
    choices = PROVIDERS[kind]
    if name not in choices:
        raise UnknownProvider(ConfigProblem(f"{kind.upper()}_PROVIDER", f"={name!r} is not one of {sorted(choices)}"))
    return choices[name]


def provider_settings_classes() -> list[type[EnvSettings]]:
    """Every provider's settings class, once each, in table order."""
    paths = dict.fromkeys(path for kind in KINDS for entry in PROVIDERS[kind].values() for path in entry.settings)
    return [cast(type[EnvSettings], _load(path)) for path in paths]


class ProviderFactory:
    """The chosen providers of this process; `for_session()` gives one session its own."""

    def __init__(self, settings: Settings, given: Iterable[EnvSettings] = (), env_file: str | None = ".env") -> None:
        self.names: dict[Kind, str] = {
            "asr": settings.asr_provider, "llm": settings.llm_provider, "tts": settings.tts_provider,
        }  # fmt: skip
        try:
            self.specs = {kind: spec(kind, name) for kind, name in self.names.items()}
        except UnknownProvider as error:
            raise ConfigError([error.problem]) from None
        self._default_voice = settings.voice
        self._settings: dict[type[EnvSettings], EnvSettings] = {type(s): s for s in given}
        self._env_file = env_file
        self.shared = SharedResources()  # HTTP clients and the like, shared by every session

    def settings_of(self, cls: type[S]) -> S:
        """The settings of a provider, read once (from the environment and .env unless given)."""
        if cls not in self._settings:
            self._settings[cls] = load_settings(cls, self._env_file)
        return cast(S, self._settings[cls])

    def for_session(self) -> Providers:
        """Provider objects for one session (engines share their models and clients inside)."""
        asr: ASR = self.build("asr")
        llm: LLM = self.build("llm")
        tts: TTS = self.build("tts")
        return Providers(asr=asr, llm=llm, tts=tts)

    def warm_up(self) -> None:
        """Load every chosen engine's models and run each once (blocking: call off the loop).

        A model that fails to load raises here, so the server reports it at start.
        """
        for kind in KINDS:
            cls, args = self._class_and_settings(kind)
            warm = getattr(cls, "warm_up", None)
            try:
                if warm is not None:
                    warm(*args, voice=self._default_voice) if kind == "tts" else warm(*args)
            except ProviderError:
                raise
            except Exception as error:  # an engine's own failure: say which engine
                raise ProviderError(kind, f"{type(error).__name__}: {error}") from error

    def problems(self) -> list[ConfigProblem]:
        """What stops the chosen providers from working: bad values, missing keys, endpoints, SDKs."""
        found: list[ConfigProblem] = []
        for kind in KINDS:
            try:
                cls, args = self._class_and_settings(kind)
            except ConfigError as error:
                found += [p for p in error.problems if p not in found]
                continue
            except ImportError as error:
                found.append(ConfigProblem(f"{kind.upper()}_PROVIDER", f"={self.names[kind]} needs {error.name}: "
                                           "run scripts/setup.sh (pip install -r requirements.txt)"))  # fmt: skip
                continue
            check = getattr(cls, "problems", None)
            found += [p for p in (check(*args) if check else []) if p not in found]
        return found

    def chosen_settings(self) -> list[EnvSettings]:
        """The settings objects of the chosen providers (their secrets are redacted from logs)."""
        return [self.settings_of(_load(path)) for kind in KINDS for path in self.specs[kind].settings]

    async def aclose(self) -> None:
        await self.shared.aclose()

    def _class_and_settings(self, kind: Kind) -> tuple[Any, list[EnvSettings]]:
        entry = self.specs[kind]
        return _load(entry.target), [self.settings_of(_load(path)) for path in entry.settings]

    def build(self, kind: Kind) -> Any:
        """A new provider object of `kind` (what for_session gives each session)."""
        cls, args = self._class_and_settings(kind)
        return cls(*args, shared=self.shared) if getattr(cls, "uses_shared", False) else cls(*args)
