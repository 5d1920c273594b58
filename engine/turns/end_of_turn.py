"""Has the user finished? The semantic end-of-turn decision taken on a short silence.

Two signals, both cheap: the audio model (Smart Turn: intonation, pace, a trailing "um")
and the words so far (a turn that stops on "for", "and", "the" or "um" is not finished,
whatever its melody; nor is one that a punctuating ASR such as Whisper leaves without a
full stop, or ends with "..."). A turn the model is sure of ends after `short_silence_ms`; one
it finds finished but less surely after `unsure_silence_ms` (longer than a speaker's usual
mid-sentence pause); an unfinished one after `max_silence_ms` of silence, unless the user goes on.
When the model is too busy to hear a pause (its CPU budget is spent), the words decide alone:
finished words end the turn after `unsure_silence_ms`, so an overloaded server answers a little
later instead of queueing every turn behind the model.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from utils.rates import TokenBucket

log = logging.getLogger(__name__)

# Words an English sentence almost never ends on (questions like "where are you from?" do,
# so prepositions that end questions are left out): conjunctions, articles, possessives,
# a few prepositions, and the fillers people say while they think.
CONTINUATION_WORDS = (
    "and,or,but,because,if,although,than,the,a,an,my,your,our,their,to,of,for,with,at,into,um,uh,er,erm,uhm"
)
_WORD = re.compile(r"[a-z0-9']+")  # numbers are words: "a taxi at 6?" does not end on "at"
_SENTENCE_END = re.compile(r"(?<![.\u2026-])[.?!][\"')\]]*$")  # one full stop, not "..." or "-."


@dataclass(frozen=True)
class EndOfTurnOptions:
    model: Literal["smart_turn", "none"] = "smart_turn"
    short_silence_ms: int = 200  # a complete turn is answered after this much silence
    max_silence_ms: int = 1500  # an incomplete one after this much (the silence alone decides)
    threshold: float = 0.7  # the audio model's probability of "finished" that counts as finished
    continuation_words: str = CONTINUATION_WORDS  # comma-separated; "" turns the word check off
    speculate: bool = True  # start the reply on the words so far at the short silence
    sure_threshold: float = 0.95  # from this probability on, a finished turn is answered at the short silence
    unsure_silence_ms: int = 800  # a finished turn below `sure_threshold` is answered after this much silence


class TurnEndModel(Protocol):
    name: str

    async def probability(self, pcm16k: bytes) -> float:
        """P(the speech, 16 kHz PCM16 ending now, is a finished turn); raises ModelBusy when the
        model's budget cannot take it now."""


class ModelBusy(Exception):
    """The end-of-turn model's CPU budget is spent: this pause is decided without it."""


def end_of_turn_model(name: Literal["smart_turn", "none"], budget: TokenBucket | None) -> TurnEndModel | None:
    """The model a conversation hears pauses with; `budget`: seconds of inference per second, process-wide."""
    if name == "none":
        return None
    from engine.turns.smart_turn import SmartTurn

    return SmartTurn(budget)


class EndOfTurn:
    def __init__(self, options: EndOfTurnOptions, model: TurnEndModel | None) -> None:
        self.options = options
        self._model = model
        self._continuations = frozenset(w.strip().lower() for w in options.continuation_words.split(",") if w.strip())

    @property
    def semantic(self) -> bool:
        """Whether a short silence can end a turn (else only `VAD_END_SILENCE_MS` of silence does)."""
        return self._model is not None

    def trails_off(self, text: str, punctuated: bool = False) -> bool:
        """The words stop where a sentence cannot end ("a table for", "and um"); `punctuated`: the
        text comes from an ASR that ends every finished sentence with . ? or !, so without one
        (or with "...") it was cut short."""
        words = _WORD.findall(text.lower())
        if punctuated and words and not _SENTENCE_END.search(text.strip()):
            return True
        return bool(words) and words[-1] in self._continuations

    async def probability(self, pcm16k: bytes) -> float | None:
        """The model's P(finished) for speech ending now; 0 without a model or when it fails, None
        when it is too busy to hear this pause (the words then decide)."""
        if self._model is None:
            return 0.0
        try:
            return await self._model.probability(pcm16k)
        except ModelBusy:
            log.info("the end-of-turn model is at its CPU budget; the words decide this pause")
            return None
        except Exception:
            log.exception("the end-of-turn model failed; the silence decides this turn")
            return 0.0

    def ends_after_ms(self, probability: float | None, text: str, punctuated: bool = False) -> int | None:
        """The silence after which the turn is over (`text`: the transcript so far): the short one
        when the model is sure, the unsure one when it is less so or could not hear the pause
        (None) and the words are finished, None when it is unfinished (the detector's
        `max_silence_ms` then decides)."""
        options = self.options
        if probability is None:
            return None if self.trails_off(text, punctuated) else options.unsure_silence_ms
        if not self.finished(probability, text, punctuated):
            return None
        return options.short_silence_ms if probability >= options.sure_threshold else options.unsure_silence_ms

    def finished(self, probability: float, text: str, punctuated: bool = False) -> bool:
        """Whether the turn is over after a short silence; `text` is the transcript so far."""
        if self._model is None or probability < self.options.threshold:
            return False
        return not self.trails_off(text, punctuated)
