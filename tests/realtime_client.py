"""The official `openai` SDK's Realtime client, recorded: every server event is checked against its
own SDK class (validated, never a fallback class), kept in order, and waited on by tests; the
protocol's invariants are checked over the whole record."""

from __future__ import annotations

import asyncio
import base64
import json
import typing
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from openai import AsyncOpenAI
from openai.resources.realtime.realtime import AsyncRealtimeConnection
from openai.types.realtime.realtime_server_event import RealtimeServerEvent

from tests.client import load_speech, silence


def _sdk_classes() -> dict[str, type[Any]]:
    union = typing.get_args(RealtimeServerEvent)[0]
    classes = {}
    for cls in typing.get_args(union):
        literal = cls.model_fields["type"].annotation
        classes[typing.get_args(literal)[0]] = cls
    return classes


SDK_CLASSES = _sdk_classes()


class Recorder:
    def __init__(self, connection: AsyncRealtimeConnection) -> None:
        self.connection = connection
        self.events: list[dict[str, Any]] = []
        self._changed = asyncio.Condition()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        while True:
            raw = await self.connection.recv_bytes()
            data = json.loads(raw)
            cls = SDK_CLASSES[data["type"]]  # an event type the SDK does not know fails here
            cls.model_validate(data)  # every required field, every literal, as the SDK declares them
            parsed = self.connection.parse_event(raw)
            assert type(parsed) is cls, f"{data['type']} parsed as {type(parsed).__name__}"
            async with self._changed:
                self.events.append(data)
                self._changed.notify_all()

    async def wait_for(self, kind: str, since: int = 0, timeout: float = 20.0, **match: Any) -> dict[str, Any]:
        """The first event of `kind` (matching `match`) at or after index `since`."""

        def found() -> dict[str, Any] | None:
            for event in self.events[since:]:
                if event["type"] == kind and all(_get(event, key) == value for key, value in match.items()):
                    return event
            if self._reader.done():
                self._reader.result()  # the reader's failure, raised here
            return None

        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: found() is not None or self._reader.done())
        event = found()
        assert event is not None, f"no {kind} {match}: {[e['type'] for e in self.events[since:]]}"
        return event

    def index(self, event: dict[str, Any]) -> int:
        return self.events.index(event)

    def of(self, kind: str, since: int = 0) -> list[dict[str, Any]]:
        return [event for event in self.events[since:] if event["type"] == kind]

    async def say(self, name: str, speed: float = 4.0, trailing_silence_ms: float = 900) -> None:
        """Speak a test WAV through input_audio_buffer.append, 100 ms per event, `speed` x real time."""
        audio = load_speech(name) + silence(trailing_silence_ms)
        step = 4800  # 100 ms at 24 kHz
        for start in range(0, len(audio), step):
            await self.connection.input_audio_buffer.append(audio=b64(audio[start : start + step]))
            await asyncio.sleep(0.1 / speed)

    async def aclose(self) -> None:
        self._reader.cancel()
        await asyncio.gather(self._reader, return_exceptions=True)


def _get(event: dict[str, Any], dotted: str) -> Any:
    value: Any = event
    for part in dotted.split("__"):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def b64(pcm: bytes) -> str:
    return base64.b64encode(pcm).decode("ascii")


@asynccontextmanager
async def realtime(http_url: str, key: str = "sk-test", model: str = "parley-mock") -> AsyncIterator[Recorder]:
    client = AsyncOpenAI(api_key=key, base_url=f"{http_url}/v1", max_retries=0)
    async with client.realtime.connect(model=model) as connection:
        recorder = Recorder(connection)
        try:
            yield recorder
        finally:
            await recorder.aclose()


def check_invariants(events: list[dict[str, Any]]) -> None:
    """The Realtime protocol's promises over a whole session's events."""
    active: str | None = None
    done: set[str | None] = set()
    opened: dict[tuple[str | None, str], int] = {}
    for index, event in enumerate(events):
        kind, response_id = event["type"], event.get("response_id") or (event.get("response") or {}).get("id")
        assert kind != "error", f"unexpected error: {event}"
        if response_id is not None:
            assert response_id not in done, f"{kind} after its response.done"
        if kind == "response.created":
            assert active is None, "two responses active at once"
            active = response_id
        elif kind == "response.done":
            assert response_id == active, "response.done for a response that is not active"
            assert not [key for key in opened if key[0] == response_id], f"unclosed {opened} at response.done"
            done.add(response_id)
            active = None
        elif kind == "input_audio_buffer.committed":
            assert active is None, "a commit while a response runs: barge-in must cancel it first"
        for opener in ("output_item", "content_part"):
            if kind == f"response.{opener}.added":
                opened[(response_id, f"{opener}:{event['output_index']}:{event.get('content_index')}")] = index
            elif kind == f"response.{opener}.done":
                del opened[(response_id, f"{opener}:{event['output_index']}:{event.get('content_index')}")]
    assert active is None and not opened, f"left open: {active} {opened}"
