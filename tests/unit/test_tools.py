"""The built-in tools and the registry: argument checks, the notepad, the clock, and the
weather tool against a local fake of OpenWeatherMap (and its deterministic offline fake)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from pydantic import SecretStr

from engine.memory import Memory
from tools.builtin.weather import fake_weather
from tools.loading import load_toolbox, tool_problems
from tools.registry import ToolError, check_arguments
from tools.settings import ToolSettings

SCHEMA = {
    "type": "object", "required": ["city"], "additionalProperties": False,
    "properties": {"city": {"type": "string"}, "days": {"type": "integer"}, "unit": {"enum": ["C", "F"]}},
}  # fmt: skip


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        ([], "arguments must be a JSON object"),
        ({}, "missing argument(s): city"),
        ({"city": 3}, "argument 'city' must be a string"),
        ({"city": "Paris", "days": True}, "argument 'days' must be a integer"),
        ({"city": "Paris", "unit": "K"}, "argument 'unit' must be one of ['C', 'F']"),
        ({"city": "Paris", "color": "red"}, "unknown argument 'color'"),
    ],
)
def test_arguments_that_do_not_fit_the_schema_are_refused_in_words(arguments: Any, error: str) -> None:
    with pytest.raises(ToolError) as refused:
        check_arguments(SCHEMA, arguments)
    assert str(refused.value) == error


async def test_the_notepad_and_the_clock() -> None:
    box, memory = load_toolbox(ToolSettings(_env_file=None)), Memory()
    assert box.names == ["current_time", "notepad_add", "notepad_read", "weather"]
    notepad_add, notepad_read, clock = box.get("notepad_add"), box.get("notepad_read"), box.get("current_time")
    assert notepad_add and notepad_read and clock and notepad_add.survives_cut
    assert await notepad_read.run({}, memory) == "the notepad is empty"
    assert await notepad_add.run({"text": " buy milk "}, memory) == "noted (1 note(s) on the notepad)"
    assert await notepad_read.run({}, memory) == "1. buy milk" and memory.notes() == ["buy milk"]
    assert "in Asia/Tokyo (UTC offset +0900)" in await clock.run({"timezone": "Asia/Tokyo"}, memory)
    with pytest.raises(ToolError, match="unknown time zone 'Mars/Base'"):
        await clock.run({"timezone": "Mars/Base"}, memory)


def test_unknown_tools_are_a_configuration_error() -> None:
    (problem,) = tool_problems(ToolSettings(_env_file=None, tools="current_time,teleport"))
    assert problem.variable == "TOOLS" and "teleport" in problem.message
    assert load_toolbox(ToolSettings(_env_file=None, tools="")).specs() == []


@pytest.fixture
def weather_service() -> Iterator[tuple[str, list[dict[str, list[str]]]]]:
    """A local OpenWeatherMap: Paris is cloudy at 21.4 degrees; any other city is not found."""
    asked: list[dict[str, list[str]]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            query = parse_qs(urlparse(self.path).query)
            asked.append(query)
            found = urlparse(self.path).path == "/data/2.5/weather" and query["q"] == ["Paris"]
            body = {"name": "Paris", "weather": [{"description": "broken clouds"}], "main": {"temp": 21.4}}
            self.send_response(200 if found else 404)
            self.end_headers()
            self.wfile.write(json.dumps(body if found else {"message": "city not found"}).encode())

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/data/2.5", asked
    server.shutdown()
    thread.join(5)
    server.server_close()


async def test_the_weather_comes_from_openweathermap_when_a_key_is_set(weather_service: Any) -> None:
    url, asked = weather_service
    settings = ToolSettings(_env_file=None, weather_api_key=SecretStr("owm-key"), weather_base_url=url)
    weather = load_toolbox(settings).get("weather")
    assert weather is not None
    assert await weather.run({"city": "Paris"}, Memory()) == "Paris: broken clouds, 21 °C"
    assert asked[0] == {"q": ["Paris"], "appid": ["owm-key"], "units": ["metric"]}
    with pytest.raises(ToolError, match="no city called 'Atlantis'"):
        await weather.run({"city": "Atlantis"}, Memory())


async def test_without_a_key_the_weather_is_a_deterministic_fake() -> None:
    weather = load_toolbox(ToolSettings(_env_file=None)).get("weather")
    assert weather is not None
    answer = await weather.run({"city": "Oslo"}, Memory())
    assert answer == await weather.run({"city": "Oslo"}, Memory()), "same city, same answer"
    assert fake_weather("oslo ").split(":")[1] == answer.split(":")[1], "whatever the spelling"
    assert answer.endswith("(simulated weather)")
