"""Settings of the MiniMax TTS provider."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from config import ConfigProblem, EnvSettings


class MiniMaxSettings(EnvSettings):
    """TTS_PROVIDER=minimax: MiniMax T2A v2 over HTTPS, PCM streamed as server-sent events."""

    model_config = SettingsConfigDict(env_prefix="MINIMAX_")

    api_key: SecretStr = Field(SecretStr(""), description="MiniMax API key.")
    group_id: str = Field("", description="MiniMax group id (the account's).")
    base_url: str = Field(
        "https://api.minimax.io/v1/t2a_v2", description="T2A v2 endpoint (mainland China: api.minimaxi.com)."
    )
    model: str = Field("speech-02-turbo", description="speech-02-turbo, speech-02-hd, speech-2.5-turbo-preview...")
    voice: str = Field("English_expressive_narrator", description="Voice id when VOICE is empty.")
    speed: float = Field(1.0, ge=0.5, le=2.0, description="Speaking rate.")
    emotion: str = Field("", description="happy, sad, angry, fearful, disgusted, surprised or neutral; empty: auto.")
    connect_timeout_s: float = Field(5.0, gt=0, description="Longest wait to connect.")
    read_timeout_s: float = Field(20.0, gt=0, description="Longest wait for any piece of a response.")
    retries: int = Field(2, ge=0, le=5, description="Retries of a call that failed before its first audio.")

    def problems(self) -> list[ConfigProblem]:
        found = []
        if not self.api_key.get_secret_value():
            found.append(ConfigProblem("MINIMAX_API_KEY", "is required for TTS_PROVIDER=minimax"))
        if not self.group_id:
            found.append(ConfigProblem("MINIMAX_GROUP_ID", "is required for TTS_PROVIDER=minimax"))
        if not self.base_url.startswith("https://") and not _is_loopback(self.base_url):
            found.append(ConfigProblem("MINIMAX_BASE_URL", "must be https:// (the key travels with every request)"))
        return found


def _is_loopback(url: str) -> bool:
    host = url.split("://", 1)[-1].split("/", 1)[0].rsplit(":", 1)[0]
    return host in ("127.0.0.1", "localhost", "[::1]")
