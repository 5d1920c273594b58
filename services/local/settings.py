"""Settings of the offline engines, one class per provider (imports no engine)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from config import EnvSettings


class LocalEngineSettings(EnvSettings):
    """Every local engine (ASR local and pocketsphinx, LLM local, TTS local): how much work may queue."""

    model_config = SettingsConfigDict(env_prefix="ENGINE_")

    max_pending: int = Field(
        32, ge=1, description="Calls queued per local engine beyond those running; more fail as rate_limited."
    )


class LocalASRSettings(EnvSettings):
    """ASR_PROVIDER=local: faster-whisper, by default Whisper tiny.en from a pip package."""

    model_config = SettingsConfigDict(env_prefix="LOCAL_ASR_")

    model_path: str = Field(
        "", description="faster-whisper (CTranslate2) model folder; empty: the bundled Whisper tiny.en."
    )
    partial_interval_ms: int = Field(
        1000, ge=0, description="Re-decode the growing utterance for a partial per this much new audio; 0: none."
    )
    beam_size: int = Field(1, ge=1, le=10, description="Whisper beam size (1 is greedy and fastest).")
    threads: int = Field(2, ge=1, description="CPU threads of one Whisper decode.")


class LocalLLMSettings(EnvSettings):
    """LLM_PROVIDER=local: a GGUF model in process (llama.cpp), by default SmolLM2-135M-Instruct from a pip package."""

    model_config = SettingsConfigDict(env_prefix="LOCAL_LLM_")

    model_path: str = Field("", description="GGUF model file; empty: the bundled SmolLM2-135M-Instruct.")
    runtime: Literal["ik_llama", "llama_cpp_python"] = Field(
        "ik_llama", description="ik_llama (prebuilt wheel) or llama_cpp_python (built from source at set-up)."
    )
    context_tokens: int = Field(2048, ge=256, description="Context window in tokens.")
    max_tokens: int = Field(96, ge=1, description="Longest reply of the local LLM, in tokens.")
    max_sentences: int = Field(3, ge=0, description="A reply ends after this many sentences; 0: no limit.")
    examples: str = Field(
        "builtin", description="Example exchanges after the system prompt: builtin (English), none, or a JSON file."
    )
    temperature: float = Field(0.3, ge=0, le=2, description="Sampling temperature of the local LLM.")
    repeat_penalty: float = Field(
        1.1, ge=1, le=2, description="Penalty on repeated tokens (small models loop without it)."
    )
    threads: int = Field(0, ge=0, description="CPU threads of one generation; 0: 1 on up to 3 cores, else half.")


class LocalTTSSettings(EnvSettings):
    """TTS_PROVIDER=local: hibari with its bundled voice."""

    model_config = SettingsConfigDict(env_prefix="LOCAL_TTS_")

    speed: float = Field(1.0, ge=0.5, le=2.0, description="hibari speaking rate (1.0 is natural).")


class EspeakSettings(EnvSettings):
    """TTS_PROVIDER=espeak: the espeak-ng program (Debian package espeak-ng)."""

    model_config = SettingsConfigDict(env_prefix="ESPEAK_")

    voice: str = Field("en-us", description="espeak-ng voice when TTS_PROVIDER=espeak and VOICE is empty.")
    words_per_minute: int = Field(170, ge=80, le=450, description="espeak-ng speaking rate.")
