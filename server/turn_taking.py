"""Settings of turn taking: while the bot speaks, pause at once, cut on a real interruption,
resume after a cough; when the user stops, answer a finished turn at once and wait out an
unfinished one (README: Turn taking). BARGE_IN_MIN_MS (the bar) and VAD_END_SILENCE_MS are
server settings."""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

from pydantic import Field, model_validator

from config import EnvSettings
from engine.options import EngineOptions, model_budget
from engine.turns.end_of_turn import CONTINUATION_WORDS, EndOfTurnOptions
from engine.turns.policy import BACKCHANNELS, STOP_WORDS, TurnTakingOptions


class TurnTakingSettings(EnvSettings):
    """What the user's speech does to a reply that is playing."""

    barge_in_pause: bool = Field(
        True, description="Pause the reply's audio at the first confirmed speech frame (tts_pause); false: play "
        "on until the speech cuts it."
    )  # fmt: skip
    barge_in_resume_silence_ms: int = Field(
        300, ge=20, le=5000, description="A paused reply resumes once the speech that paused it has been quiet "
        "this long without becoming an interruption."
    )  # fmt: skip
    barge_in_pause_max_ms: int = Field(3000, ge=100, le=30000, description="No pause lasts longer than this.")
    barge_in_min_words: int = Field(
        1, ge=0, le=10, description="Once the speech's words are known, this many that are not backchannel are "
        "needed to cut the reply (0: the BARGE_IN_MIN_MS bar alone decides)."
    )  # fmt: skip
    barge_in_wait_for_words: bool = Field(
        True, description="Speech that reaches BARGE_IN_MIN_MS before any of its words are known keeps the reply "
        "paused until they are (a backchannel then resumes it); false: the bar cuts at once."
    )  # fmt: skip
    barge_in_backchannels: str = Field(
        ",".join(BACKCHANNELS), description="Words and phrases (comma separated) that never cut the reply."
    )
    barge_in_stop_words: str = Field(
        ",".join(STOP_WORDS), description="Words and phrases (comma separated) that cut the reply at once."
    )

    def options(self) -> TurnTakingOptions:
        return TurnTakingOptions(
            pause=self.barge_in_pause, resume_silence_ms=self.barge_in_resume_silence_ms,
            pause_max_ms=self.barge_in_pause_max_ms,
            min_words=self.barge_in_min_words, wait_for_words=self.barge_in_wait_for_words,
            backchannels=phrases(self.barge_in_backchannels), stop_words=phrases(self.barge_in_stop_words),
        )  # fmt: skip


def phrases(text: str) -> tuple[str, ...]:
    return tuple(" ".join(part.lower().split()) for part in text.split(",") if part.strip())


class EndOfTurnSettings(EnvSettings):
    """When the user's turn is over: a short silence and an end-of-turn model, or the silence alone."""

    turn_end_model: Literal["smart_turn", "none"] = Field(
        "smart_turn", description="smart_turn: Smart Turn v3.2 (from the pipecat-ai wheel, on CPU) and the words so "
        "far decide after TURN_END_SHORT_SILENCE_MS whether the user has finished; none: VAD_END_SILENCE_MS of "
        "silence ends every turn."
    )  # fmt: skip
    turn_end_short_silence_ms: int = Field(
        200, ge=60, le=2000, description="Silence after which the end-of-turn decision is taken and the "
        "speculative reply starts; a finished turn is answered then."
    )  # fmt: skip
    turn_end_max_silence_ms: int = Field(
        1500, ge=200, le=10000, description="With an end-of-turn model: the silence that ends a turn it finds "
        "unfinished (\"I want to book a table for... um\")."
    )  # fmt: skip
    turn_end_threshold: float = Field(
        0.7, gt=0, lt=1, description="The model's probability of a finished turn that counts as finished; "
        "below it the turn waits TURN_END_MAX_SILENCE_MS."
    )  # fmt: skip
    turn_end_sure_threshold: float = Field(
        0.95, gt=0, le=1, description="From this probability on a finished turn is answered after "
        "TURN_END_SHORT_SILENCE_MS; between TURN_END_THRESHOLD and this, after TURN_END_UNSURE_SILENCE_MS "
        "(docs/turn-taking.md: how each level fares on the pause corpus)."
    )  # fmt: skip
    turn_end_unsure_silence_ms: int = Field(
        800, ge=60, le=10000, description="The silence that ends a turn the model finds finished but not surely "
        "(longer than a speaker's usual pause in mid-sentence)."
    )  # fmt: skip
    turn_end_model_cpu_share: float = Field(
        0.5, gt=0, le=64, description="Seconds of end-of-turn model inference per second for the whole server "
        "(Smart Turn costs 30-50 ms a pause on one core; one thread per core of it, at a lower priority than the "
        "audio); a pause beyond it is decided by its words alone and answered after TURN_END_UNSURE_SILENCE_MS, "
        "instead of waiting behind the model."
    )  # fmt: skip
    turn_end_continuation_words: str = Field(
        CONTINUATION_WORDS, description="Comma-separated words a finished turn never ends on (the transcript so far "
        "decides with the model); empty: the model alone."
    )  # fmt: skip
    turn_speculate: bool = Field(
        True, description="At the short silence, transcribe what was said and start the reply unheard; it is "
        "played if the turn ends there, discarded without a trace if the user goes on."
    )  # fmt: skip

    @model_validator(mode="after")
    def _ordered(self) -> EndOfTurnSettings:
        if not self.turn_end_threshold <= self.turn_end_sure_threshold:
            raise ValueError("TURN_END_SURE_THRESHOLD must not be below TURN_END_THRESHOLD")
        if not self.turn_end_short_silence_ms <= self.turn_end_unsure_silence_ms <= self.turn_end_max_silence_ms:
            raise ValueError("TURN_END_UNSURE_SILENCE_MS must lie between TURN_END_SHORT_SILENCE_MS and "
                             "TURN_END_MAX_SILENCE_MS")  # fmt: skip
        return self

    def options(self) -> EndOfTurnOptions:
        return EndOfTurnOptions(
            model=self.turn_end_model, short_silence_ms=self.turn_end_short_silence_ms,
            max_silence_ms=self.turn_end_max_silence_ms, threshold=self.turn_end_threshold,
            continuation_words=self.turn_end_continuation_words, speculate=self.turn_speculate,
            sure_threshold=self.turn_end_sure_threshold, unsure_silence_ms=self.turn_end_unsure_silence_ms,
        )  # fmt: skip


def with_turn_taking(engine: EngineOptions, taking: TurnTakingSettings, ending: EndOfTurnSettings) -> EngineOptions:
    """The engine's options with both halves of turn taking from their settings."""
    listen = replace(engine.listen, end_of_turn=ending.options())
    budgets = replace(engine.budgets, turn_end_model=model_budget(ending.turn_end_model_cpu_share))
    return replace(engine, turn_taking=taking.options(), listen=listen, budgets=budgets)
