"""Settings of the OpenAI providers (and of any OpenAI-compatible server), one class per provider.

The connection (key, base URL, timeouts, retries) is shared by LLM, ASR and TTS; each of them
may point somewhere else with its own base URL and key (say, a local Whisper server for ASR
and OpenAI for the LLM). Azure OpenAI is a provider of its own (`azure_openai`).
"""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from config import ConfigProblem, EnvSettings

OPENAI_HOST = "api.openai.com"


class OpenAISettings(EnvSettings):
    """The OpenAI connection, shared by LLM, ASR and TTS `openai` unless they set their own."""

    model_config = SettingsConfigDict(env_prefix="OPENAI_")

    api_key: SecretStr = Field(
        SecretStr(""), description="API key; not needed by most local OpenAI-compatible servers."
    )
    base_url: str = Field(
        "", description="Base URL of an OpenAI-compatible server (e.g. http://127.0.0.1:11434/v1); empty: OpenAI."
    )
    connect_timeout_s: float = Field(5.0, gt=0, description="Longest wait to connect to the service.")
    read_timeout_s: float = Field(30.0, gt=0, description="Longest wait for any piece of a response (not the whole).")
    retries: int = Field(
        2, ge=0, le=5, description="Retries of a call that failed before its first byte (429, 5xx, network)."
    )


class OpenAIKindSettings(EnvSettings):
    """Base of the per-kind classes: an optional base URL and key of their own."""

    base_url: str = Field("", description="Base URL for this kind only; empty: OPENAI_BASE_URL.")
    api_key: SecretStr = Field(SecretStr(""), description="API key for this kind only; empty: OPENAI_API_KEY.")

    def endpoint(self, shared: OpenAISettings) -> tuple[str, str]:
        """(base URL, key) this kind uses."""
        key = self.api_key.get_secret_value() or shared.api_key.get_secret_value()
        return self.base_url or shared.base_url, key

    def problems_with(self, shared: OpenAISettings) -> list[ConfigProblem]:
        base_url, key = self.endpoint(shared)
        if not key and (not base_url or OPENAI_HOST in base_url):
            return [
                ConfigProblem("OPENAI_API_KEY", "is required to use OpenAI (or set OPENAI_BASE_URL to a local server)")
            ]
        return []


class OpenAILLMSettings(OpenAIKindSettings):
    """LLM_PROVIDER=openai: chat completions, streamed, from OpenAI or any compatible server."""

    model_config = SettingsConfigDict(env_prefix="OPENAI_LLM_")

    model: str = Field("gpt-4o-mini", description="Chat model (for a local server, the name it serves).")
    temperature: float = Field(0.7, ge=0, le=2, description="Sampling temperature.")
    max_tokens: int = Field(300, ge=1, description="Longest reply, in tokens.")


class OpenAIASRSettings(OpenAIKindSettings):
    """ASR_PROVIDER=openai: the transcription API, one request per utterance."""

    model_config = SettingsConfigDict(env_prefix="OPENAI_ASR_")

    model: str = Field("gpt-4o-mini-transcribe", description="whisper-1, gpt-4o-transcribe, gpt-4o-mini-transcribe...")
    stream: bool | None = Field(
        None, description="Stream text deltas; empty: yes, except for whisper models (which cannot)."
    )
    prompt: str = Field("", description="Text that guides the transcription (names, spelling).")


class OpenAITTSSettings(OpenAIKindSettings):
    """TTS_PROVIDER=openai: the speech API, PCM streamed as it is synthesized."""

    model_config = SettingsConfigDict(env_prefix="OPENAI_TTS_")

    model: str = Field("gpt-4o-mini-tts", description="tts-1, tts-1-hd, gpt-4o-mini-tts...")
    voice: str = Field("alloy", description="Voice when VOICE is empty (alloy, ash, coral, nova, sage...).")
    instructions: str = Field("", description="How to speak (gpt-4o-mini-tts and later only).")
    speed: float = Field(1.0, ge=0.25, le=4.0, description="Speaking rate.")


class AzureOpenAISettings(EnvSettings):
    """LLM_PROVIDER=azure_openai: a chat deployment of Azure OpenAI (LLM settings as OPENAI_LLM_*)."""

    model_config = SettingsConfigDict(env_prefix="AZURE_OPENAI_")

    endpoint: str = Field("", description="https://RESOURCE.openai.azure.com (any Azure cloud).")
    api_key: SecretStr = Field(SecretStr(""), description="The resource's key.")
    deployment: str = Field("", description="The chat model deployment's name.")
    api_version: str = Field("2024-10-21", description="Azure OpenAI API version.")

    def problems(self) -> list[ConfigProblem]:
        required = {"AZURE_OPENAI_ENDPOINT": self.endpoint, "AZURE_OPENAI_API_KEY": self.api_key.get_secret_value(),
                    "AZURE_OPENAI_DEPLOYMENT": self.deployment}  # fmt: skip
        return [
            ConfigProblem(name, "is required for LLM_PROVIDER=azure_openai") for name, v in required.items() if not v
        ]
