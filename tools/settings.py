"""Settings of the tools offered to the LLM during a voice turn (README: Tools)."""

from __future__ import annotations

from pydantic import Field, SecretStr

from config import EnvSettings

BUILTIN_TOOLS = "current_time,notepad_add,notepad_read,weather"


class ToolSettings(EnvSettings):
    """Tools: which are offered, their bounds, the filler line, and the weather service."""

    tools: str = Field(
        BUILTIN_TOOLS, description="Tools offered to an LLM that supports tool calling, comma separated (built in: "
        f"{BUILTIN_TOOLS}); empty: none."
    )  # fmt: skip
    tool_modules: str = Field(
        "", description="More tools: Python modules (comma separated) each with a `build(settings)` returning its "
        "tools; their names must also be listed in TOOLS."
    )  # fmt: skip
    tool_timeout_s: float = Field(10.0, gt=0, description="A tool call that takes longer fails (the LLM is told).")
    tool_max_rounds: int = Field(
        4, ge=1, le=16, description="LLM -> tools -> LLM rounds in one reply; the last round is offered no tools."
    )
    tool_filler_ms: int = Field(
        800, ge=0, description="While tools run longer than this, the assistant says TOOL_FILLER_TEXT; 0: never."
    )
    tool_filler_text: str = Field("One moment.", description="What the assistant says while a slow tool runs.")
    weather_api_key: SecretStr = Field(
        SecretStr(""), description="OpenWeatherMap API key for the weather tool; empty: a local deterministic fake."
    )
    weather_base_url: str = Field(
        "https://api.openweathermap.org/data/2.5", description="OpenWeatherMap API base URL (tests point it at a fake)."
    )
