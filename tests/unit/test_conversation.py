"""The conversation engine on scripted timelines, in virtual time.

Audio is pushed in 20 ms frames at real-time pace; a frame is voiced when its first byte
is 1 (a scripted classifier stands in for webrtcvad), so every turn boundary and
barge-in lands on a known millisecond.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from services.registry import build_providers
from session import Session, SessionConfig
from tests.conftest import make_settings
from tests.recording import RecordingSink
from websocket import events as ev
from websocket.conversation import Conversation

pytestmark = pytest.mark.looptime
VOICED = b"\x01\x00" * 320  # 20 ms at 16 kHz
SILENT = bytes(640)


class Script:
    def __init__(self, **overrides: Any) -> None:
        settings = make_settings(
            **{"mock_asr_script": "first words|second words|third words", "vad_end_silence_ms": 600, **overrides}
        )
        self.session = Session("s1", SessionConfig(16000, "en-US", "Be brief.", ""), 40)
        self.sink = RecordingSink()
        self.conv = Conversation(
            self.session, build_providers(settings), settings, self.sink, is_speech=lambda f: f[:1] == b"\x01"
        )
        self.conv.begin()

    @property
    def now(self) -> float:
        return asyncio.get_running_loop().time()

    async def speak(self, ms: int) -> None:
        await self._frames(VOICED, ms)

    async def pause(self, ms: int) -> None:
        await self._frames(SILENT, ms)

    async def _frames(self, frame: bytes, ms: int) -> None:
        for _ in range(ms // 20):
            await self.conv.push_audio(frame, self.now)
            await asyncio.sleep(0.02)

    async def until(self, kind: type[Any], timeout: float = 30, **match: Any) -> tuple[float, Any]:
        async with asyncio.timeout(timeout):
            while True:
                for at, event in self.sink.timed(kind):
                    if all(getattr(event, k) == v for k, v in match.items()):
                        return at, event
                await asyncio.sleep(0.01)

    def states(self) -> list[str]:
        return [e.state for e in self.sink.of(ev.StateChanged)]


async def test_a_spoken_turn_from_silence_to_answer() -> None:
    s = Script()
    await s.pause(200)
    await s.speak(800)
    speech_end = s.now
    await s.pause(700)
    at, final = await s.until(ev.Transcript, final=True)
    assert final.text == "first words" and final.turn_id == 1
    assert at - speech_end == pytest.approx(0.6 + 0.01, abs=0.03)  # silence window + ASR delay
    _, metrics = await s.until(ev.TurnMetrics)
    assert metrics.values["final_transcript_ms"] == pytest.approx(610, abs=30)
    assert metrics.interrupted is False
    assert s.states() == ["listening", "thinking", "speaking", "listening"]
    assert [(e.role, e.content[:11]) for e in s.session.history.entries] == [
        ("user", "first words"),
        ("assistant", 'You said: "'),
    ]


async def test_barge_in_fires_at_the_configured_amount_of_speech() -> None:
    s = Script(barge_in_min_ms=200, mock_llm_sentences=6)
    await s.speak(600)
    await s.pause(700)
    await s.until(ev.StateChanged, state="speaking")
    await asyncio.sleep(0.5)
    cut_in_at = s.now
    speaking = asyncio.create_task(s.speak(600))
    stop_at, stop = await s.until(ev.SpeechStop)
    assert stop.reason == "barge_in" and stop.turn_id == 1
    assert stop_at - cut_in_at == pytest.approx(0.2, abs=0.021)  # 200 ms of voiced speech, one frame of slack
    await speaking
    await s.pause(700)
    _, final = await s.until(ev.Transcript, final=True, turn_id=2)
    assert final.text == "second words"
    _, text = await s.until(ev.LlmText, turn_id=2, complete=True)
    assert text.content.startswith('You said: "second words". This is turn 2')
    entries = s.session.history.entries
    assert [(e.role, e.turn_id, e.interrupted) for e in entries[:3]] == [
        ("user", 1, False),
        ("assistant", 1, True),
        ("user", 2, False),
    ]


async def test_speech_under_the_barge_in_bar_is_ignored_while_the_bot_speaks() -> None:
    s = Script(barge_in_min_ms=300)
    await s.speak(600)
    await s.pause(700)
    await s.until(ev.StateChanged, state="speaking")
    await s.speak(200)  # "uh-huh"
    await s.pause(700)
    await s.until(ev.TurnMetrics)
    assert s.sink.of(ev.SpeechStop) == []
    assert [e.role for e in s.session.history.entries] == ["user", "assistant"]
    assert not s.session.history.entries[-1].interrupted


async def test_speech_begun_before_the_reply_started_is_never_dropped() -> None:
    s = Script(barge_in_min_ms=300, mock_asr_final_delay_ms=300)
    await s.speak(600)
    await s.pause(620)  # turn 1 ends; its final transcript is 300 ms away
    await s.speak(100)  # the user goes on briefly before the reply starts
    await s.pause(700)
    _, stop = await s.until(ev.SpeechStop, turn_id=1)
    assert stop.reason == "barge_in"
    _, text = await s.until(ev.LlmText, turn_id=2, complete=True)
    assert 'You said: "second words". This is turn 2' in text.content
    assert [e.content for e in s.session.history.entries if e.role == "user"] == ["first words", "second words"]


async def test_typed_text_cuts_the_reply_and_starts_a_turn() -> None:
    s = Script(mock_llm_sentences=6)
    await s.conv.text_input("hello")
    await s.until(ev.StateChanged, state="speaking")
    await s.conv.text_input("never mind")
    _, stop = await s.until(ev.SpeechStop)
    assert (stop.turn_id, stop.reason) == (1, "text_input")
    _, text = await s.until(ev.LlmText, turn_id=2, complete=True)
    assert text.content.startswith('You said: "never mind". This is turn 2')


async def test_stop_ignores_audio_until_start_and_reset_forgets_history() -> None:
    s = Script()
    await s.conv.text_input("hello")
    await s.until(ev.StateChanged, state="speaking")
    await s.conv.stop()
    assert s.conv.reply is None and s.states()[-1] == "stopped"
    await s.speak(600)
    await s.pause(700)
    assert s.sink.of(ev.Transcript)[-1].source == "text", "no speech heard while stopped"
    await s.conv.start()
    await s.speak(600)
    await s.pause(700)
    await s.until(ev.Transcript, final=True, text="first words")
    await s.conv.reset()
    assert s.session.history.entries == [] and s.conv.reply is None
    assert s.sink.of(ev.Acknowledged)[-1].kind == "reset"


async def test_an_asr_engine_gets_audio_at_the_rate_it_declares() -> None:
    from dataclasses import replace

    s = Script(mock_asr_script="")  # the mock then says how much audio it was given
    asr = s.conv._providers.asr
    asr.capabilities = replace(asr.capabilities, sample_rate=24000)
    await s.pause(400)
    await s.speak(1000)
    await s.pause(700)
    _, final = await s.until(ev.Transcript, final=True)
    # 300 ms pre-roll + 1000 ms of speech + 600 ms of silence window, measured at 24 kHz
    assert final.text == "I spoke for 1.9 seconds"


async def test_two_turns_arriving_together_leave_exactly_one_reply_running() -> None:
    s = Script(mock_llm_sentences=6)
    await s.conv.text_input("zero")
    await s.until(ev.StateChanged, state="speaking")
    await asyncio.gather(s.conv.text_input("one"), s.conv.text_input("two"))
    await asyncio.sleep(0.5)
    running = {t.get_name() for t in asyncio.all_tasks() if t.get_name().startswith("reply-")}
    assert running and {name.split("-")[1] for name in running} == {"3"}, running
    assert s.conv.reply is not None and s.conv.reply.turn_id == 3
    assert [(e.turn_id, e.reason) for e in s.sink.of(ev.SpeechStop)] == [(1, "text_input"), (2, "text_input")]
