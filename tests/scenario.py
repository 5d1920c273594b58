"""A declarative scenario for the engine: a scripted timeline in, a timed event log out.

    log = await (
        Scenario(mock_llm_sentences=6)
        .user_says(0.2, 1.0, "tell me a story")
        .user_says(2.5, 3.1, "wait, stop")
        .run(until=6)
    )
    at, stop = log.first(ev.SpeechStop)

Runs in virtual time (looptime): microphone audio is pushed in 20 ms frames at real-time
pace, voiced inside each `user_says` span and silent elsewhere (a scripted classifier stands
in for webrtcvad, so every boundary lands on a known frame; `gate_lag_s` makes it hear speech
that long after each span, as webrtcvad's hangover does, and `background_noise` fills the
gaps with a steady noise 24 dB under the voice instead of digital silence). The mock ASR takes each
utterance's text from the span it began in; the LLM and TTS are the mock providers, their
behaviour set by the same settings as in `.env` (`mock_llm_first_token_ms=...`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any, Self, TypeVar

from engine import events as ev
from engine.availability import Availability
from engine.conversation import Conversation
from engine.history import History
from engine.options import SessionSettings
from engine.turns.end_of_turn import ModelBusy
from server.settings import LimitSettings
from server.turn_taking import EndOfTurnSettings, TurnTakingSettings, with_turn_taking
from server.wiring import tool_options
from services.base import ASRCapabilities, Providers
from services.mock.asr import MockASR
from services.mock.settings import MockASRSettings
from session import Session
from tests.conftest import make_config
from tests.recording import RecordingSink
from tools.registry import ToolBox
from tools.settings import ToolSettings

FRAME_S = 0.02
VOICED = b"\x01\x10" * 320  # 20 ms at 16 kHz, samples of 4097; the scripted classifier hears its first byte
NOISE = b"\x00\x01" * 320  # samples of 256, unvoiced
SILENT = bytes(640)
E = TypeVar("E")


@dataclass(frozen=True)
class Speech:
    start_s: float
    end_s: float
    text: str


class ScenarioASR(MockASR):
    """The mock ASR, each stream's text taken from the speech it began in."""

    def __init__(
        self, settings: MockASRSettings, speech: list[Speech], origin: Callable[[], float], sample_rate: int,
        punctuates: bool = False,
    ) -> None:  # fmt: skip
        super().__init__(settings)
        self.capabilities = ASRCapabilities(sample_rate=sample_rate, drafts=True, punctuates=punctuates)
        self._speech = speech
        self._origin = origin

    def text_for(self, index: int, audio_ms: float, opened_at: float) -> str:
        """The words of the speech the stream began in; with none scripted, the mock's own text."""
        at = opened_at - self._origin()
        text = next((s.text for s in self._speech if s.start_s <= at <= s.end_s + FRAME_S), "")
        return text or super().text_for(index, audio_ms, opened_at)


class ScenarioTurnEnd:
    """An end-of-turn model for scripted timelines: P(finished) of the speech that ended last,
    as the scenario says (`finished={"text": 0.1}`; 0.99 for any other; None: the model is over
    its CPU budget), after `delay_s` of inference. Each call is recorded as (loop time from the
    origin, text)."""

    name = "scenario"

    def __init__(self, speech: list[Speech], origin: Callable[[], float], finished: dict[str, float | None],
                 delay_s: float) -> None:  # fmt: skip
        self._speech, self._origin, self._finished, self._delay_s = speech, origin, finished, delay_s
        self.calls: list[tuple[float, str]] = []

    async def probability(self, pcm16k: bytes) -> float:
        now = asyncio.get_running_loop().time() - self._origin()
        spoken = [s for s in self._speech if s.end_s <= now + FRAME_S]
        text = spoken[-1].text if spoken else ""
        self.calls.append((now, text))
        probability = self._finished.get(text, 0.99)  # unlisted words: surely finished
        if probability is None:
            raise ModelBusy("the scenario's model is at its budget")
        await asyncio.sleep(self._delay_s)
        return probability


@dataclass
class EventLog:
    """Events with their times in seconds from the start of the scenario."""

    session: Session
    events: list[tuple[float, ev.Event]] = field(default_factory=list)

    def all(self, kind: type[E], **match: Any) -> list[tuple[float, E]]:
        return [
            (at, event) for at, event in self.events
            if isinstance(event, kind) and all(getattr(event, k) == v for k, v in match.items())
        ]  # fmt: skip

    def first(self, kind: type[E], **match: Any) -> tuple[float, E]:
        found = self.all(kind, **match)
        assert found, f"no {kind.__name__} {match} in {self.names()}"
        return found[0]

    def of(self, kind: type[E], **match: Any) -> list[E]:
        return [event for _, event in self.all(kind, **match)]

    def names(self) -> list[str]:
        return [type(e).__name__ for _, e in self.events if not isinstance(e, ev.AudioOut)]

    def states(self) -> list[str]:
        return [e.state for e in self.of(ev.StateChanged)]


class Scenario:
    def __init__(
        self, *, asr_sample_rate: int = 16000, availability: Availability | None = None,
        tools: ToolBox | None = None, session: Session | None = None, finished: dict[str, float | None] | None = None,
        model_delay_s: float = 0.03, gate_lag_s: float = 0.0, background_noise: bool = False,
        punctuating_asr: bool = False, **settings: Any,
    ) -> None:  # fmt: skip
        self.config = make_config(**settings)
        self._availability = availability
        self._tools, self._session = tools, session
        self._asr_rate = asr_sample_rate
        self._speech: list[Speech] = []
        self._actions: list[tuple[float, Callable[[Conversation], Awaitable[object] | object]]] = []
        self._origin = 0.0
        self._gate_lag_s, self._background = gate_lag_s, NOISE if background_noise else SILENT
        self._punctuates = punctuating_asr
        self.turn_end = None if finished is None else ScenarioTurnEnd(self._speech, lambda: self._origin, finished,
                                                                      model_delay_s)  # fmt: skip

    def user_says(self, start_s: float, end_s: float, text: str) -> Self:
        self._speech.append(Speech(start_s, end_s, text))
        return self

    def user_types(self, at_s: float, text: str) -> Self:
        return self.at(at_s, lambda conversation: conversation.text_input(text))

    def at(self, at_s: float, action: Callable[[Conversation], Awaitable[object] | object]) -> Self:
        """Run `action(conversation)` at `at_s` (a command, a playback ack...)."""
        self._actions.append((at_s, action))
        return self

    def build(self, sink: ev.EventSink) -> tuple[Session, Conversation]:
        session = self._session or Session("s1", SessionSettings(16000, "en-US", "Be brief.", ""), History(40))
        factory = self.config.factory()
        defaults = factory.for_session()
        asr = ScenarioASR(self.config.provider(MockASRSettings), self._speech, lambda: self._origin, self._asr_rate,
                          self._punctuates)  # fmt: skip
        providers = self.providers = Providers(asr=asr, llm=defaults.llm, tts=defaults.tts)
        options = self.config.server.engine_options(self.config.provider(LimitSettings))
        options = with_turn_taking(
            replace(options, tools=tool_options(self.config.provider(ToolSettings))),
            self.config.provider(TurnTakingSettings), self.config.provider(EndOfTurnSettings),
        )  # fmt: skip
        conversation = Conversation(
            session, providers, options, sink, is_speech=lambda f: f[:1] == b"\x01", availability=self._availability,
            tools=self._tools, turn_end_model=self.turn_end,
        )  # fmt: skip
        return session, conversation

    def _frame(self, at: float) -> bytes:
        if any(s.start_s <= at < s.end_s for s in self._speech):
            return VOICED
        if any(s.end_s <= at < s.end_s + self._gate_lag_s for s in self._speech):
            return b"\x01" + self._background[1:]  # the voice has stopped; the gate still hears it
        return self._background

    async def run(self, until: float) -> EventLog:
        """Play the timeline for `until` seconds; the conversation is closed at the end."""
        loop = asyncio.get_running_loop()
        self._origin = loop.time()
        recorder = RecordingSink()
        session, conversation = self.build(recorder)
        self.conversation = conversation
        conversation.begin()
        actions = sorted(self._actions, key=lambda action: action[0])
        for frame in range(round(until / FRAME_S)):
            at = frame * FRAME_S
            while actions and actions[0][0] <= at + 1e-9:
                result = actions.pop(0)[1](conversation)
                if asyncio.iscoroutine(result):
                    await result
            await conversation.push_audio(self._frame(at), loop.time())
            await asyncio.sleep(max(0.0, self._origin + at + FRAME_S - loop.time()))
        await conversation.aclose()
        log = EventLog(session)
        log.events = [(t - self._origin, event) for t, event in recorder.events]
        return log
