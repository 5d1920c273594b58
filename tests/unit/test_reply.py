"""The reply handle, in virtual time: a full reply, and cancellation as one unit."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from services.registry import build_providers
from session import History
from tests.conftest import make_settings
from tests.recording import RecordingSink
from websocket import events as ev
from websocket.metrics import TurnTimer
from websocket.reply import Reply, ReplyOptions

pytestmark = pytest.mark.looptime


class Harness:
    def __init__(self, **overrides: Any) -> None:
        settings = make_settings(**overrides)
        self.sink = RecordingSink()
        self.history = History("Be brief.", 40)
        self.history.add("user", "tell me a story", 1)
        self.states: list[str] = []
        self.done: list[Reply] = []
        options = ReplyOptions(
            voice="", language="en-US", sample_rate=24000, frame_ms=40, lead_ms=200,
            llm_first_token_timeout_s=1.0, llm_idle_timeout_s=1.0,
            tts_first_byte_timeout_s=1.0, tts_idle_timeout_s=1.0,
        )  # fmt: skip
        self.reply = Reply(
            1, self.history, build_providers(settings), options, self.sink, TurnTimer(),
            on_state=self.states.append, on_done=self.done.append,
        )  # fmt: skip

    def audio_after(self, at: float) -> list[ev.AudioOut]:
        return [e for t, e in self.sink.timed(ev.AudioOut) if t > at]


async def test_a_reply_streams_sentences_to_paced_audio_and_commits_history() -> None:
    h = Harness(mock_llm_sentences=3)
    start = asyncio.get_running_loop().time()
    h.reply.start()
    while not h.done:
        await asyncio.sleep(0.05)
    assert await h.reply.wait_closed(1.0)
    names = h.sink.names()
    assert names[0] == "LlmStatus" and names[-1] == "TurnMetrics"
    assert names.count("SpeechStart") == 3 and names.count("SpeechEnd") == 1
    assert names.index("SpeechStart") < names.index("SpeechEnd")
    assert h.states == ["thinking", "speaking"]
    content = h.sink.of(ev.LlmText)[-1].content
    assert h.history.as_dicts()[-1] == {"role": "assistant", "content": content, "turn_id": 1, "interrupted": False}
    end = h.sink.of(ev.SpeechEnd)[0]
    frames = h.sink.of(ev.AudioOut)
    assert sum(len(f.pcm) for f in frames) / 48 == pytest.approx(end.audio_ms)
    metrics = h.sink.of(ev.TurnMetrics)[0].values
    # virtual time: the reply ends when its audio has played out after the first frame left
    elapsed_ms = (asyncio.get_running_loop().time() - start) * 1000
    assert elapsed_ms == pytest.approx(metrics["first_audio_sent_ms"] + end.audio_ms, abs=60)


async def test_stop_cancels_llm_tts_and_playout_as_a_unit() -> None:
    h = Harness(mock_llm_sentences=6, mock_llm_token_ms=200)  # the LLM is still streaming when cut
    h.reply.start()
    await asyncio.sleep(1.5)
    stopped_at = asyncio.get_running_loop().time()
    played = h.reply.pacer.played_ms()
    assert h.reply.stop("barge_in") is True
    assert h.reply.stop("barge_in") is False
    assert await h.reply.wait_closed(1.0)
    await asyncio.sleep(3)
    assert h.audio_after(stopped_at) == []
    assert [e for t, e in h.sink.timed(ev.LlmText) if t > stopped_at] == []
    assert h.sink.of(ev.SpeechStop) == [ev.SpeechStop(1, "barge_in", played)]
    assert h.sink.of(ev.LlmStatus)[-1].status == "cancelled"
    assert h.sink.cleared == [(1, 0)]
    assert h.sink.of(ev.TurnMetrics)[0].interrupted is True
    entry = h.history.as_dicts()[-1]
    assert entry["interrupted"] is True and entry["content"] == h.reply.timeline.heard_text(played)
    assert 0 < len(entry["content"]) < len(h.reply.timeline.full_text())
    assert h.done == [h.reply]


async def test_a_late_playback_ack_corrects_what_was_heard() -> None:
    h = Harness(mock_llm_sentences=4)
    h.reply.start()
    await asyncio.sleep(2.0)
    h.reply.stop("interrupt")
    estimated = h.history.entries[-1].content
    h.reply.on_playback(h.reply.pacer.played_ms() - 600)  # the player was further behind
    corrected = h.history.entries[-1].content
    assert estimated.startswith(corrected) and len(corrected) < len(estimated)
    h.reply.on_playback(0)
    assert [e.role for e in h.history.entries] == ["user"], "nothing heard, nothing kept"


async def test_stop_while_thinking_keeps_nothing_and_says_cancelled() -> None:
    h = Harness(mock_llm_first_token_ms=500)
    h.reply.start()
    await asyncio.sleep(0.1)
    h.reply.stop("interrupt")
    assert await h.reply.wait_closed(1.0)
    assert h.sink.of(ev.AudioOut) == [] and h.states == ["thinking"]
    assert [e.role for e in h.history.entries] == ["user"]
    assert h.sink.of(ev.LlmStatus)[-1].status == "cancelled"


@pytest.mark.parametrize(
    ("fault", "code", "after_s"), [("raise", "provider_failed", 0), ("hang", "provider_timeout", 1.0)]
)
async def test_an_llm_fault_ends_the_reply_with_an_error(fault: str, code: str, after_s: float) -> None:
    h = Harness(mock_llm_fault=fault)
    start = asyncio.get_running_loop().time()
    h.reply.start()
    while not h.done:
        await asyncio.sleep(0.01)
    assert await h.reply.wait_closed(1.0)
    ((at, error),) = h.sink.timed(ev.ErrorEvent)
    assert error.code == code and error.turn_id == 1
    assert at - start == pytest.approx(after_s, abs=0.02)  # the first-token timeout, exactly
    assert h.sink.of(ev.SpeechStop)[0].reason == "error"
    assert h.sink.of(ev.LlmStatus)[-1].status == "failed"
