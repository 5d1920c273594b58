"""Server-wide settings, loaded from the environment and `.env`; each provider has its own
settings class beside its code (services/<vendor>/settings.py).

Every option has a documented default; README.md's configuration tables and .env.example
are generated from these classes (`settings_classes()`), and a test keeps them in step.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from dotenv import dotenv_values
from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from engine.options import EngineOptions
    from server.settings import LimitSettings

SUPPORTED_INPUT_RATES = (16000, 24000, 48000)


@dataclass(frozen=True)
class ConfigProblem:
    """A setting that stops the server: the variable to set, and what is wrong with it."""

    variable: str
    message: str

    def __str__(self) -> str:
        return f"{self.variable}{'' if self.message.startswith('=') else ' '}{self.message}"


class EnvSettings(BaseSettings):
    """Base of every settings class: read from the environment, then `.env`."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    @classmethod
    def env_name(cls, field: str) -> str:
        """The environment variable that sets `field`."""
        return (str(cls.model_config.get("env_prefix", "")) + field).upper()


class Settings(EnvSettings):
    """The server: network, providers, conversation defaults, audio, turn taking and timeouts."""

    # Server
    host: str = Field("127.0.0.1", description="Address the server binds to.")
    port: int = Field(8000, ge=0, le=65535, description="TCP port of the server.")
    log_level: str = Field("info", description="Python logging level.")
    event_loop: Literal["uvloop", "asyncio"] = Field(
        "uvloop", description="Event loop of `python app.py`: uvloop (faster) or asyncio (the standard one)."
    )
    ws_compression: bool = Field(
        False, description="permessage-deflate on WebSockets: PCM barely compresses, and it costs CPU per frame."
    )
    shutdown_grace_s: float = Field(
        10.0, ge=0, description="On SIGTERM, replies in flight may finish for this long before clients are closed."
    )

    # Providers
    asr_provider: str = Field(
        "local", description="Speech-to-text: local (Whisper), pocketsphinx, openai, azure or mock."
    )
    llm_provider: str = Field("local", description="LLM: local (llama.cpp), openai, azure_openai or mock.")
    tts_provider: str = Field(
        "local", description="Text-to-speech: local (hibari), espeak, openai, azure, minimax or mock."
    )

    # Conversation defaults (a client may change them per session with `configure`)
    system_prompt: str = Field(
        "You are Parley, a friendly voice assistant. Your answers are spoken aloud: one to three short, "
        "plain sentences, no lists, no formatting.",
        description="System prompt at the head of every session's history (a line keeping LANGUAGE follows it).",
    )
    language: str = Field("en-US", description="Language of speech recognition and synthesis.")
    voice: str = Field("", description="TTS voice; empty means the provider's default.")
    history_max_messages: int = Field(
        1000, ge=2, description="History items a session keeps (stored, exported; the oldest dropped). What the "
        "LLM sees is set by CONTEXT_TOKEN_BUDGET."
    )  # fmt: skip
    context_token_budget: int = Field(
        3000, ge=256, description="Tokens of chat per LLM request (the model's tokenizer where the provider has one, "
        "else about 4 characters a token); older turns are folded into a summary."
    )  # fmt: skip
    context_keep_turns: int = Field(4, ge=1, description="Newest turns always sent verbatim, never summarized.")
    summary_timeout_s: float = Field(60.0, gt=0, description="Bound on making a summary of older turns.")

    # Audio
    input_sample_rate: int = Field(24000, description="Default rate of microphone PCM16 (16000, 24000 or 48000).")
    output_sample_rate: int = Field(24000, description="Rate of TTS audio sent to the client.")
    audio_out_frame_ms: int = Field(
        40, ge=10, le=100,
        description="Duration of each binary audio frame sent (a session may ask for another: `output_frame_ms`).",
    )  # fmt: skip
    playback_lead_ms: int = Field(
        200, ge=0, le=2000, description="How far audio is sent ahead of what the client has played."
    )

    # Turn detection (webrtcvad on 20 ms frames at 16 kHz)
    vad_aggressiveness: int = Field(2, ge=0, le=3, description="webrtcvad mode, 0 (lenient) to 3 (strict).")
    vad_start_ms: int = Field(60, ge=20, description="Run of voiced audio that starts speech.")
    vad_end_silence_ms: int = Field(
        600, ge=100, description="Silence that ends the user's turn when TURN_END_MODEL=none."
    )
    vad_preroll_ms: int = Field(300, ge=300, description="Audio before the detected start sent to ASR.")
    barge_in_min_ms: int = Field(
        200, ge=0, description="Voiced speech needed to cut the bot off while it thinks or speaks."
    )
    vad_confirm: Literal["silero", "none"] = Field(
        "silero", description="Second opinion on webrtcvad's speech frames, so noise opens no turn."
    )
    vad_confirm_threshold: float = Field(
        0.5, gt=0, lt=1, description="Silero speech probability that confirms speech (it ends below this - 0.15)."
    )
    vad_confirm_batch: bool = Field(
        True, description="Run Silero for all sessions together, once per turn of the event loop (cheaper per session)."
    )
    max_utterance_s: float = Field(30.0, gt=1, description="A turn longer than this is ended by force.")

    # Provider timeouts (per step, never for a whole stream)
    asr_final_timeout_s: float = Field(10.0, gt=0, description="Wait for the final transcript after speech ends.")
    llm_first_token_timeout_s: float = Field(15.0, gt=0, description="Wait for the LLM's first token.")
    llm_idle_timeout_s: float = Field(10.0, gt=0, description="Longest gap between two LLM tokens.")
    tts_first_byte_timeout_s: float = Field(10.0, gt=0, description="Wait for a sentence's first audio.")
    tts_idle_timeout_s: float = Field(10.0, gt=0, description="Longest gap between two TTS chunks.")
    reply_cancel_timeout_s: float = Field(1.0, gt=0, description="Bound on waiting for a cancelled reply's tasks.")

    @field_validator("input_sample_rate")
    @classmethod
    def _supported_input_rate(cls, value: int) -> int:
        if value not in SUPPORTED_INPUT_RATES:
            raise ValueError(f"input_sample_rate must be one of {SUPPORTED_INPUT_RATES}")
        return value

    @field_validator("output_sample_rate")
    @classmethod
    def _sane_output_rate(cls, value: int) -> int:
        if not 8000 <= value <= 48000:
            raise ValueError("output_sample_rate must be between 8000 and 48000")
        return value

    @model_validator(mode="after")
    def _start_within_preroll(self) -> Settings:
        if self.vad_start_ms > self.vad_preroll_ms:
            raise ValueError("vad_start_ms must not exceed vad_preroll_ms")
        return self

    def engine_options(self, limits: LimitSettings) -> EngineOptions:
        """The narrow options the engine takes, built once per process (with its budgets)."""
        from engine.context import ContextOptions
        from engine.options import EngineBudgets, EngineOptions, ListenOptions, ReplyOptions
        from engine.turns.detector import TurnConfig
        from utils.rates import FairShare, loop_clock

        turn = TurnConfig(
            aggressiveness=self.vad_aggressiveness,
            start_ms=self.vad_start_ms,
            end_silence_ms=self.vad_end_silence_ms,
            preroll_ms=self.vad_preroll_ms,
            max_utterance_ms=int(self.max_utterance_s * 1000),
        )
        listen = ListenOptions(
            turn, self.vad_confirm, self.vad_confirm_threshold, vad_confirm_batch=self.vad_confirm_batch,
            asr_final_timeout_s=self.asr_final_timeout_s, cancel_timeout_s=self.reply_cancel_timeout_s,
            stall_s=limits.utterance_stall_ms / 1000, audio_burst_ms=limits.audio_burst_ms,
        )  # fmt: skip
        budgets = EngineBudgets(
            FairShare(limits.vad_windows_per_s, 64.0, loop_clock),
            FairShare(limits.text_turns_per_s, limits.text_turn_burst, loop_clock),
        )
        reply = ReplyOptions(
            sample_rate=self.output_sample_rate,
            frame_ms=self.audio_out_frame_ms,
            lead_ms=self.playback_lead_ms,
            llm_first_token_timeout_s=self.llm_first_token_timeout_s,
            llm_idle_timeout_s=self.llm_idle_timeout_s,
            tts_first_byte_timeout_s=self.tts_first_byte_timeout_s,
            tts_idle_timeout_s=self.tts_idle_timeout_s,
            cancel_timeout_s=self.reply_cancel_timeout_s,
        )
        context = ContextOptions(self.context_token_budget, self.context_keep_turns, self.summary_timeout_s)
        return EngineOptions(listen, reply, self.barge_in_min_ms, budgets, context)


class ConfigError(Exception):
    """Settings that stop the server; each problem is one line naming the variable to fix."""

    def __init__(self, problems: list[ConfigProblem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


S = TypeVar("S", bound=EnvSettings)


def load_settings(cls: type[S], env_file: str | None = ".env", **values: Any) -> S:
    """`cls` read from the environment and `env_file`; a bad value is a ConfigError, not a traceback."""
    try:
        return cls(_env_file=env_file, **values)
    except ValidationError as error:
        raise ConfigError([_problem(cls, e) for e in error.errors()]) from None


def _problem(cls: type[EnvSettings], error: ErrorDetails) -> ConfigProblem:
    field = str(error["loc"][0]) if error["loc"] else ""
    variable = cls.env_name(field) if field in cls.model_fields else cls.__name__
    message = error["msg"].removeprefix("Value error, ")
    return ConfigProblem(variable, f"={error.get('input')!r}: {message}")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return load_settings(Settings)


OURS_ONLY = ("LOCAL_", "MOCK_", "ESPEAK_", "ENGINE_", "MINIMAX_", "AZURE_SPEECH_", "AZURE_ASR_", "AZURE_TTS_",
             "OPENAI_LLM_", "OPENAI_ASR_", "OPENAI_TTS_")  # fmt: skip


def unknown_variables(env_file: str | None, environ: Mapping[str, str]) -> list[str]:
    """Warnings for variables that look like Parley's but are not: every unknown key of `.env`,
    and environment variables under a prefix only Parley uses or one letter away from a setting."""
    known = {cls.env_name(name) for cls in settings_classes() for name in cls.model_fields}
    in_file = {str(k).upper() for k in dotenv_values(env_file)} if env_file and Path(env_file).is_file() else set()
    suspects = set(in_file)
    for name in map(str.upper, environ):
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.85)
        if name.startswith(OURS_ONLY) or (close and close[0] != name):
            suspects.add(name)
    warnings = []
    for name in sorted(suspects - known):
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        where = f"in {env_file}" if name in in_file else "in the environment"
        warnings.append(f"{name} {where} is not a Parley setting" + (f"; did you mean {close[0]}?" if close else ""))
    return warnings


def settings_classes() -> list[type[EnvSettings]]:
    """Every settings class, the server's first, then each provider's (for the generated docs)."""
    from server.settings import LimitSettings, SecuritySettings
    from server.tracing import TracingSettings
    from server.turn_taking import EndOfTurnSettings, TurnTakingSettings
    from services.registry import provider_settings_classes
    from storage.settings import StorageSettings
    from tools.settings import ToolSettings

    return [
        Settings, TurnTakingSettings, EndOfTurnSettings, SecuritySettings, LimitSettings, StorageSettings, ToolSettings,
        TracingSettings, *provider_settings_classes(),
    ]  # fmt: skip
