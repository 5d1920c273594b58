"""weather: the current weather in a city, from OpenWeatherMap when WEATHER_API_KEY is set,
otherwise from a local deterministic fake (same city, same answer; no network)."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx2

from tools.registry import Tool, ToolContext, ToolError
from tools.settings import ToolSettings

CONDITIONS = ("clear sky", "a few clouds", "overcast", "light rain", "showers", "fog", "snow", "a thunderstorm")
REQUEST_TIMEOUT_S = 5.0


def fake_weather(city: str) -> str:
    digest = hashlib.sha256(city.strip().lower().encode()).digest()
    temperature = digest[0] % 40 - 5
    return f"{city.strip()}: {CONDITIONS[digest[1] % len(CONDITIONS)]}, {temperature} °C (simulated weather)"


class OpenWeatherMap:
    def __init__(self, api_key: str, base_url: str) -> None:
        self._api_key, self._base_url = api_key, base_url.rstrip("/")

    async def __call__(self, arguments: dict[str, Any], context: ToolContext) -> str:
        city = str(arguments["city"])
        params = {"q": city, "appid": self._api_key, "units": "metric"}
        try:
            async with httpx2.AsyncClient(timeout=REQUEST_TIMEOUT_S) as client:
                response = await client.get(f"{self._base_url}/weather", params=params)
        except httpx2.HTTPError as error:
            raise ToolError(f"the weather service could not be reached ({type(error).__name__})") from None
        if response.status_code == 404:
            raise ToolError(f"no city called {city!r}")
        if response.status_code != 200:
            raise ToolError(f"the weather service answered {response.status_code}")
        body = response.json()
        condition = body["weather"][0]["description"] if body.get("weather") else "unknown conditions"
        return f"{body.get('name', city)}: {condition}, {round(body['main']['temp'])} °C"


async def _fake(arguments: dict[str, Any], context: ToolContext) -> str:
    return fake_weather(str(arguments["city"]))


def build(settings: ToolSettings) -> list[Tool]:
    schema = {
        "type": "object", "required": ["city"],
        "properties": {"city": {"type": "string", "description": "city name, e.g. Paris"}},
    }  # fmt: skip
    key = settings.weather_api_key.get_secret_value()
    run = OpenWeatherMap(key, settings.weather_base_url) if key else _fake
    return [Tool("weather", "The current weather in a city.", schema, run, timeout_s=REQUEST_TIMEOUT_S + 1)]
