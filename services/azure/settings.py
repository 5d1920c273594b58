"""Settings of the Azure Speech providers (ASR and TTS `azure`); the language is LANGUAGE."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from config import ConfigProblem, EnvSettings


class AzureSpeechSettings(EnvSettings):
    """The Azure Speech resource, shared by ASR and TTS `azure`: its key and where it is."""

    model_config = SettingsConfigDict(env_prefix="AZURE_SPEECH_")

    key: SecretStr = Field(SecretStr(""), description="The Speech resource's key.")
    region: str = Field("", description="Its region (e.g. westeurope); or set ENDPOINT or HOST instead.")
    endpoint: str = Field("", description="A full endpoint URL (sovereign clouds, custom endpoints).")
    host: str = Field("", description="A host URL, e.g. wss://HOST (containers, private endpoints).")

    def problems(self) -> list[ConfigProblem]:
        found = []
        if not self.key.get_secret_value():
            found.append(ConfigProblem("AZURE_SPEECH_KEY", "is required for the azure providers"))
        where = [name for name, value in (("REGION", self.region), ("ENDPOINT", self.endpoint), ("HOST", self.host))
                 if value]  # fmt: skip
        if len(where) != 1:
            said = "none is set" if not where else f"{' and '.join(where)} are both set"
            found.append(ConfigProblem("AZURE_SPEECH_REGION", f"(or _ENDPOINT or _HOST): set exactly one; {said}"))
        return found


class AzureASRSettings(EnvSettings):
    """ASR_PROVIDER=azure: continuous recognition over a push stream, one recognizer per session."""

    model_config = SettingsConfigDict(env_prefix="AZURE_ASR_")

    commit_timeout_ms: int = Field(
        2000, ge=100, description="Wait this long for the service to close a turn's segment before using what it has."
    )
    reconnects: int = Field(2, ge=0, le=10, description="Reconnections tried when the service drops a turn.")
    profanity: str = Field("masked", description="masked, removed or raw.")


class AzureTTSSettings(EnvSettings):
    """TTS_PROVIDER=azure: neural voices, 24 kHz PCM streamed as synthesized, with word timings."""

    model_config = SettingsConfigDict(env_prefix="AZURE_TTS_")

    voice: str = Field("en-US-AvaMultilingualNeural", description="Voice when VOICE is empty.")
    style: str = Field("", description="Speaking style for voices that have them (e.g. cheerful); empty: none.")
    rate: str = Field("", description="Speaking rate: a multiplier (1.1) or a change (+10%); empty: normal.")
