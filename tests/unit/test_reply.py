"""The reply handle, in virtual time: a full reply, cancellation as one unit, its outcome."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from engine import events as ev
from engine.history import AssistantMessage, History, HistoryChange, UserMessage
from engine.metrics import TurnTimer
from engine.options import ReplyOptions, SessionSettings
from engine.reply import Reply
from tests.conftest import make_config
from tests.recording import RecordingSink

pytestmark = pytest.mark.looptime
OPTIONS = ReplyOptions(
    sample_rate=24000, frame_ms=40, lead_ms=200, llm_first_token_timeout_s=1.0, llm_idle_timeout_s=1.0,
    tts_first_byte_timeout_s=1.0, tts_idle_timeout_s=1.0,
)  # fmt: skip


class Harness:
    def __init__(self, **overrides: Any) -> None:
        self.sink = RecordingSink()
        self.history = History(40)
        self.history.append(UserMessage(1, "tell me a story", "text"))
        self.changes: list[HistoryChange] = []
        self.history.follow(self.changes.append)
        self.states: list[str] = []
        self.done: list[Reply] = []
        self.reply = Reply(
            1, SessionSettings(24000, "en-US", "Be brief.", ""), self.history, make_config(**overrides).factory()
            .for_session(), OPTIONS, self.sink, TurnTimer(), on_state=self.states.append, on_done=self.done.append,
        )  # fmt: skip

    @property
    def assistant(self) -> AssistantMessage:
        item = self.history.items[-1]
        assert isinstance(item, AssistantMessage)
        return item

    def audio_after(self, at: float) -> list[ev.AudioOut]:
        return [e for t, e in self.sink.timed(ev.AudioOut) if t > at]


async def test_a_reply_streams_sentences_to_paced_audio_and_records_history() -> None:
    h = Harness(mock_llm_sentences=3)
    start = asyncio.get_running_loop().time()
    h.reply.start()
    assert await h.reply == "completed"
    assert await h.reply.wait_closed(1.0)
    names = h.sink.names()
    assert names[:2] == ["ReplyStarted", "LlmStatus"] and names[-2:] == ["TurnMetrics", "ReplyEnded"]
    assert h.assistant.id == h.reply.item_id  # its id was known from the start
    assert names.count("SpeechStart") == 3 and names.count("SpeechEnd") == 1
    assert names.index("SpeechStart") < names.index("SpeechEnd")
    assert h.states == ["thinking", "speaking"]
    content = h.sink.of(ev.LlmText)[-1].content
    assert (h.assistant.text, h.assistant.heard_text, h.assistant.status) == (content, content, "completed")
    assert [c.op for c in h.changes] == ["append"]
    end = h.sink.of(ev.SpeechEnd)[0]
    assert h.assistant.audio_ms == pytest.approx(end.audio_ms)
    frames = h.sink.of(ev.AudioOut)
    assert sum(len(f.pcm) for f in frames) / 48 == pytest.approx(end.audio_ms)
    metrics = h.sink.of(ev.TurnMetrics)[0].values
    # virtual time: the reply ends when its audio has played out after the first frame left
    elapsed_ms = (asyncio.get_running_loop().time() - start) * 1000
    assert elapsed_ms == pytest.approx(metrics["first_audio_sent_ms"] + end.audio_ms, abs=60)
    assert h.reply.usage is not None and h.reply.usage.output_tokens == len(content.split(" "))


async def test_stop_cancels_llm_tts_and_playout_as_a_unit() -> None:
    h = Harness(mock_llm_sentences=6, mock_llm_token_ms=200)  # the LLM is still streaming when cut
    h.reply.start()
    await asyncio.sleep(1.5)
    stopped_at = asyncio.get_running_loop().time()
    played = h.reply.pacer.played_ms()
    assert h.reply.stop("barge_in") is True
    assert h.reply.stop("barge_in") is False
    assert await h.reply.wait_closed(1.0)
    assert await h.reply == "interrupted"
    await asyncio.sleep(3)
    assert h.audio_after(stopped_at) == []
    assert [e for t, e in h.sink.timed(ev.LlmText) if t > stopped_at] == []
    assert h.sink.of(ev.SpeechStop) == [ev.SpeechStop(1, "barge_in", played)]
    assert h.sink.of(ev.LlmStatus)[-1].status == "cancelled"
    assert h.sink.cleared == [(1, 0)]
    assert h.sink.of(ev.TurnMetrics)[0].interrupted is True
    assert h.assistant.status == "interrupted" and h.assistant.heard_text == h.reply.timeline.heard_text(played)
    assert 0 < len(h.assistant.heard_text) < len(h.assistant.text)
    assert h.done == [h.reply]


async def test_a_late_playback_ack_revises_what_was_heard() -> None:
    h = Harness(mock_llm_sentences=4)
    h.reply.start()
    await asyncio.sleep(2.0)
    h.reply.stop("interrupt")
    estimated = h.assistant.heard_text
    h.reply.on_playback(h.reply.pacer.played_ms() - 600)  # the player was further behind
    corrected = h.assistant.heard_text
    assert estimated.startswith(corrected) and len(corrected) < len(estimated)
    h.reply.on_playback(0)
    assert h.assistant.heard_text == "" and h.assistant.audio_ms == 0
    assert [c.op for c in h.changes] == ["append", "revise", "revise"]
    assert [m["role"] for m in h.history.llm_messages("Be brief.")] == ["system", "user"], "nothing heard, nothing said"


async def test_stop_while_thinking_keeps_nothing_and_says_cancelled() -> None:
    h = Harness(mock_llm_first_token_ms=500)
    h.reply.start()
    await asyncio.sleep(0.1)
    h.reply.stop("interrupt")
    assert await h.reply.wait_closed(1.0)
    assert h.sink.of(ev.AudioOut) == [] and h.states == ["thinking"]
    assert [type(i).__name__ for i in h.history.items] == ["UserMessage"]
    assert h.sink.of(ev.LlmStatus)[-1].status == "cancelled"


@pytest.mark.parametrize(
    ("fault", "code", "after_s"), [("raise", "provider_failed", 0), ("hang", "provider_timeout", 1.0)]
)
async def test_an_llm_fault_ends_the_reply_with_an_error(fault: str, code: str, after_s: float) -> None:
    h = Harness(mock_llm_fault=fault)
    start = asyncio.get_running_loop().time()
    h.reply.start()
    assert await h.reply == "failed"
    assert await h.reply.wait_closed(1.0)
    ((at, error),) = h.sink.timed(ev.ErrorEvent)
    assert error.code == code and error.turn_id == 1
    assert at - start == pytest.approx(after_s, abs=0.02)  # the first-token timeout, exactly
    assert h.sink.of(ev.SpeechStop) == [] and h.sink.of(ev.AudioOut) == [], "nothing was synthesized, nothing cut"
    assert h.sink.of(ev.LlmStatus)[-1].status == "failed"


async def test_a_tts_failure_on_sentence_two_lets_sentence_one_play_to_its_end() -> None:
    h = Harness(mock_llm_sentences=3, mock_tts_fault="raise", mock_tts_fault_on="2")
    h.reply.start()
    assert await h.reply == "failed"
    assert await h.reply.wait_closed(1.0)
    (first,) = h.sink.of(ev.SpeechStart)
    ((error_at, error),) = h.sink.timed(ev.ErrorEvent)
    ((end_at, end),) = h.sink.timed(ev.SpeechEnd)
    audio = h.sink.of(ev.AudioOut)
    assert error.code == "provider_failed" and error_at < end_at, "the client hears of the failure at once"
    assert h.sink.of(ev.SpeechStop) == [], "nothing the user was hearing is cut"
    assert sum(len(e.pcm) for e in audio) / 2 / 24 == pytest.approx(end.audio_ms), "every frame of sentence 1"
    assert h.assistant.status == "failed" and h.assistant.heard_text == first.text
    assert h.sink.names()[-2:] == ["TurnMetrics", "ReplyEnded"]


async def test_awaiting_a_reply_never_cancels_it() -> None:
    h = Harness(mock_llm_sentences=2)
    h.reply.start()
    waiter = asyncio.ensure_future(_await(h.reply))
    await asyncio.sleep(0.05)
    waiter.cancel()
    assert await h.reply == "completed"
    assert h.reply.id.startswith("reply_") and h.reply.allow_interruptions


async def _await(reply: Reply) -> str:
    return await reply
