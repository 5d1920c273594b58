"""One settings object for the whole server, loaded from the environment and `.env`.

Every option has a documented default; README.md's configuration table lists them all
(a test keeps the two in step).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SUPPORTED_INPUT_RATES = (16000, 24000, 48000)
FaultKind = Literal["none", "raise", "hang", "rate_limit"]


class Settings(BaseSettings):
    """Server configuration. Field names map to upper-case environment variables."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # Server
    host: str = Field("127.0.0.1", description="Address the server binds to.")
    port: int = Field(8000, ge=0, le=65535, description="TCP port of the server.")
    log_level: str = Field("info", description="Python logging level.")

    # Providers
    asr_provider: str = Field(
        "local", description="Speech-to-text under services/asr: local (Whisper), pocketsphinx or mock."
    )
    llm_provider: str = Field("local", description="LLM under services/llm: local (llama.cpp) or mock.")
    tts_provider: str = Field("local", description="Text-to-speech under services/tts: local (hibari), espeak or mock.")

    # Conversation defaults (a client may change them per session with `configure`)
    system_prompt: str = Field(
        "You are Parley, a friendly voice assistant. Answer briefly, in plain spoken sentences.",
        description="System prompt at the head of every session's history.",
    )
    language: str = Field("en-US", description="Language of speech recognition and synthesis.")
    voice: str = Field("", description="TTS voice; empty means the provider's default.")
    history_max_messages: int = Field(
        40, ge=2, description="User and assistant messages kept in history (oldest dropped)."
    )

    # Audio
    input_sample_rate: int = Field(24000, description="Default rate of microphone PCM16 (16000, 24000 or 48000).")
    output_sample_rate: int = Field(24000, description="Rate of TTS audio sent to the client.")
    audio_out_frame_ms: int = Field(40, ge=10, le=100, description="Duration of each binary audio frame sent.")
    playback_lead_ms: int = Field(
        200, ge=0, le=2000, description="How far audio is sent ahead of what the client has played."
    )

    # Turn detection (webrtcvad on 20 ms frames at 16 kHz)
    vad_aggressiveness: int = Field(2, ge=0, le=3, description="webrtcvad mode, 0 (lenient) to 3 (strict).")
    vad_start_ms: int = Field(60, ge=20, description="Run of voiced audio that starts speech.")
    vad_end_silence_ms: int = Field(600, ge=100, description="Silence that ends the user's turn.")
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
    max_utterance_s: float = Field(30.0, gt=1, description="A turn longer than this is ended by force.")

    # Provider timeouts (per step, never for a whole stream)
    asr_final_timeout_s: float = Field(10.0, gt=0, description="Wait for the final transcript after speech ends.")
    llm_first_token_timeout_s: float = Field(15.0, gt=0, description="Wait for the LLM's first token.")
    llm_idle_timeout_s: float = Field(10.0, gt=0, description="Longest gap between two LLM tokens.")
    tts_first_byte_timeout_s: float = Field(10.0, gt=0, description="Wait for a sentence's first audio.")
    tts_idle_timeout_s: float = Field(10.0, gt=0, description="Longest gap between two TTS chunks.")
    reply_cancel_timeout_s: float = Field(1.0, gt=0, description="Bound on waiting for a cancelled reply's tasks.")

    # Limits
    ws_max_message_bytes: int = Field(
        1 << 20,
        ge=1024,
        description="WebSocket messages above this close the socket with 1009 (python app.py; uvicorn: --ws-max-size).",
    )
    max_text_chars: int = Field(4000, ge=1, description="Longest accepted text_input or system_prompt.")
    max_messages_per_s: float = Field(
        400.0, gt=0, description="Sustained client message rate; a flood beyond it closes with 1008."
    )
    max_errors_per_min: int = Field(60, ge=1, description="Bad messages per minute before closing with 1008.")
    outbound_queue_size: int = Field(
        512, ge=16, description="Messages waiting to go to a client; overflow closes with 1008."
    )
    send_timeout_s: float = Field(10.0, gt=0, description="A client that takes a message no faster is dropped.")
    ws_ping_interval_s: float = Field(20.0, gt=0, description="WebSocket ping interval (python app.py).")
    ws_ping_timeout_s: float = Field(20.0, gt=0, description="Close a socket whose pong is this late.")
    session_idle_timeout_s: float = Field(
        300.0, gt=0, description="A disconnected session is kept this long for a reconnect."
    )
    max_sessions: int = Field(100, ge=1, description="Sessions held at once; more are refused (1013).")

    # Local engines (offline; models ship inside pip packages and load once per process)
    local_asr_model_path: str = Field(
        "", description="faster-whisper (CTranslate2) model folder; empty: the bundled Whisper tiny.en."
    )
    local_asr_partial_interval_ms: int = Field(
        1000, ge=0, description="Re-decode the growing utterance for a partial per this much new audio; 0: none."
    )
    local_asr_beam_size: int = Field(1, ge=1, le=10, description="Whisper beam size (1 is greedy and fastest).")
    local_asr_threads: int = Field(2, ge=1, description="CPU threads of one Whisper decode.")
    local_llm_model_path: str = Field(
        "", description="GGUF model for llama.cpp; empty: the bundled SmolLM2-135M-Instruct."
    )
    local_llm_context_tokens: int = Field(2048, ge=256, description="llama.cpp context window in tokens.")
    local_llm_max_tokens: int = Field(96, ge=1, description="Longest reply of the local LLM, in tokens.")
    local_llm_temperature: float = Field(0.3, ge=0, le=2, description="Sampling temperature of the local LLM.")
    local_llm_repeat_penalty: float = Field(
        1.1, ge=1, le=2, description="Penalty on repeated tokens (small models loop without it)."
    )
    local_llm_threads: int = Field(2, ge=1, description="CPU threads of llama.cpp.")
    local_tts_speed: float = Field(1.0, ge=0.5, le=2.0, description="hibari speaking rate (1.0 is natural).")
    espeak_voice: str = Field("en-us", description="espeak-ng voice when TTS_PROVIDER=espeak and VOICE is empty.")
    espeak_words_per_minute: int = Field(170, ge=80, le=450, description="espeak-ng speaking rate.")
    engine_max_pending: int = Field(
        32, ge=1, description="Calls queued per local engine beyond those running; more fail as rate_limited."
    )

    # Mock providers (tests, benchmarks, demos without any engine)
    mock_asr_script: str = Field(
        "", description="Texts the mock ASR returns for successive utterances, separated by '|'."
    )
    mock_asr_final_delay_ms: int = Field(30, ge=0, description="Mock ASR delay from end of audio to final.")
    mock_asr_partial_every_ms: int = Field(240, ge=20, description="Mock ASR partial result per this much audio.")
    mock_asr_fault: FaultKind = Field("none", description="Mock ASR fault: none, raise, hang or rate_limit.")
    mock_asr_fault_on: str = Field("", description="Call numbers (1-based, comma-separated) that fault; empty: all.")
    mock_llm_first_token_ms: int = Field(120, ge=0, description="Mock LLM time to first token.")
    mock_llm_token_ms: int = Field(15, ge=0, description="Mock LLM delay between tokens.")
    mock_llm_sentences: int = Field(4, ge=1, le=8, description="Sentences in a mock LLM reply.")
    mock_llm_fault: FaultKind = Field("none", description="Mock LLM fault: none, raise, hang or rate_limit.")
    mock_llm_fault_on: str = Field("", description="Call numbers (1-based, comma-separated) that fault; empty: all.")
    mock_tts_first_byte_ms: int = Field(60, ge=0, description="Mock TTS time to first audio of a sentence.")
    mock_tts_ms_per_char: int = Field(60, ge=1, description="Mock TTS speech length per character.")
    mock_tts_rtf: float = Field(0.05, ge=0, description="Mock TTS synthesis time as a fraction of audio time.")
    mock_tts_fault: FaultKind = Field("none", description="Mock TTS fault: none, raise, hang or rate_limit.")
    mock_tts_fault_on: str = Field("", description="Call numbers (1-based, comma-separated) that fault; empty: all.")

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


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
