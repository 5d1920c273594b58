"""Engines that are loading or failed to load, on scripted timelines in virtual time: turns
wait while loading; once loading has failed, typed turns are refused with the reason, audio
is ignored, and every change reaches the client."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from engine import events as ev
from engine.availability import ServiceState
from engine.commands import CommandRefused
from engine.conversation import Conversation
from tests.scenario import Scenario

pytestmark = pytest.mark.looptime
REASON = "The language model could not load: no GGUF model at '/models/missing.gguf'"


class SwitchableService:
    def __init__(self, state: ServiceState) -> None:
        self.state: ServiceState = state
        self.reason: str | None = None
        self.watchers: list[Callable[[], None]] = []

    def watch(self, callback: Callable[[], None]) -> Callable[[], None]:
        self.watchers.append(callback)
        return lambda: self.watchers.remove(callback)

    def becomes(self, state: ServiceState, reason: str | None = None) -> None:
        self.state, self.reason = state, reason
        for watcher in list(self.watchers):
            watcher()


async def test_a_turn_during_loading_is_answered_and_the_client_hears_when_loading_ends() -> None:
    service = SwitchableService("starting")
    log = await (
        Scenario(availability=service)
        .user_types(0.1, "are you there")
        .at(0.5, lambda _: service.becomes("ready"))
        .run(until=3)
    )
    assert [(s.state, s.reason) for s in log.of(ev.ServiceStatus)] == [("starting", None), ("ready", None)]
    assert log.first(ev.ServiceStatus)[0] == 0.0, "told at the start of the conversation"
    assert log.first(ev.ServiceStatus, state="ready")[0] == pytest.approx(0.5, abs=0.03)
    assert log.of(ev.TurnMetrics), "the turn typed while loading was answered"
    assert service.watchers == [], "the closed conversation stopped watching"


async def test_after_a_failed_load_turns_are_refused_with_the_reason_and_audio_is_ignored() -> None:
    service = SwitchableService("starting")
    refusals: list[CommandRefused] = []

    async def typed(conversation: Conversation) -> None:
        try:
            await conversation.text_input("hello?")
        except CommandRefused as refused:
            refusals.append(refused)

    log = await (
        Scenario(availability=service)
        .at(0.2, lambda _: service.becomes("failed", REASON))
        .at(0.5, typed)
        .user_says(1.0, 1.8, "can you hear me")
        .run(until=4)
    )
    assert [(s.state, s.reason) for s in log.of(ev.ServiceStatus)] == [("starting", None), ("failed", REASON)]
    assert [(r.code, r.message) for r in refusals] == [("service_unavailable", REASON)]
    assert log.of(ev.Transcript) == [] and log.of(ev.TurnMetrics) == [], "nothing was heard or answered"
    assert log.session.history.items == ()
    assert log.states() == ["listening"], "no turn began: never thinking"
