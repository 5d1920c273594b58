"""Settings of the mock providers: deterministic engines with configurable latency and faults,
selected in `.env` like any other provider (tests, benchmarks, demos without any engine)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from config import EnvSettings

FaultKind = Literal["none", "raise", "hang", "rate_limit"]
FAULT_ON = "Call numbers (1-based, comma-separated) that fault; empty: all."


class MockASRSettings(EnvSettings):
    """ASR_PROVIDER=mock: each utterance becomes a scripted text."""

    model_config = SettingsConfigDict(env_prefix="MOCK_ASR_")

    script: str = Field("", description="Texts the mock ASR returns for successive utterances, separated by '|'.")
    final_delay_ms: int = Field(30, ge=0, description="Mock ASR delay from end of audio to final.")
    partial_every_ms: int = Field(240, ge=20, description="Mock ASR partial result per this much audio.")
    fault: FaultKind = Field("none", description="Mock ASR fault: none, raise, hang or rate_limit.")
    fault_on: str = Field("", description=FAULT_ON)


class MockLLMSettings(EnvSettings):
    """LLM_PROVIDER=mock: a reply that quotes the user and counts the turns."""

    model_config = SettingsConfigDict(env_prefix="MOCK_LLM_")

    first_token_ms: int = Field(120, ge=0, description="Mock LLM time to first token.")
    token_ms: int = Field(15, ge=0, description="Mock LLM delay between tokens.")
    sentences: int = Field(4, ge=1, le=8, description="Sentences in a mock LLM reply.")
    tool_script: str = Field(
        "", description='Tool calls the mock LLM makes when the user\'s last words contain a phrase, as JSON: '
        '{"what time": [{"name": "current_time", "arguments": {"timezone": "UTC"}}]}; empty: none.'
    )  # fmt: skip
    fault: FaultKind = Field("none", description="Mock LLM fault: none, raise, hang or rate_limit.")
    fault_on: str = Field("", description=FAULT_ON)


class MockTTSSettings(EnvSettings):
    """TTS_PROVIDER=mock: speech-like audio whose length follows the text, with word timings."""

    model_config = SettingsConfigDict(env_prefix="MOCK_TTS_")

    first_byte_ms: int = Field(60, ge=0, description="Mock TTS time to first audio of a sentence.")
    ms_per_char: int = Field(60, ge=1, description="Mock TTS speech length per character.")
    rtf: float = Field(0.05, ge=0, description="Mock TTS synthesis time as a fraction of audio time.")
    fault: FaultKind = Field("none", description="Mock TTS fault: none, raise, hang or rate_limit.")
    fault_on: str = Field("", description=FAULT_ON)
