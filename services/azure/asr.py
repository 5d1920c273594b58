"""ASR over Azure Speech: continuous recognition on a push stream, one recognizer per session.

Parley's own VAD decides the turns. A session keeps one recognizer (and its connection)
open, so a turn never waits for a connection; each turn is a segment of its audio:
`recognizing` events become partials, `recognized` ones collect into the final. When the
turn ends, the segment is committed (PushAudioInputStream.commit) and its final is the
text up to the result acknowledging that commit; if the service never acknowledges it,
the text is used once nothing is pending after AZURE_ASR_COMMIT_TIMEOUT_MS. When the
service cancels or drops the session during a turn, a new recognizer hears the turn's
audio again, up to AZURE_ASR_RECONNECTS times; only then does the turn fail.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from config import ConfigProblem
from services.azure.recognizer import AzureEvent, RecognizerFactory, RecognizerHandle, SDKRecognizer
from services.azure.settings import AzureASRSettings, AzureSpeechSettings
from services.azure.speech import cancellation_error, speech_config
from services.base import ASRCapabilities, ASRResult
from services.errors import ProviderError, ProviderUnavailable
from services.streams import ChannelASRStream

log = logging.getLogger(__name__)
SAMPLE_RATE = 16000
STOP_BOUND_S = 5.0
RECONNECT_PAUSE_S = 0.25
PROFANITY = {"masked": "Masked", "removed": "Removed", "raw": "Raw"}


class AzureASR:
    capabilities = ASRCapabilities(sample_rate=SAMPLE_RATE, session_stream=True)

    def __init__(
        self, speech: AzureSpeechSettings, asr: AzureASRSettings, *, factory: RecognizerFactory | None = None
    ) -> None:
        self.settings = asr
        self._speech = speech
        self._factory = factory or self._sdk_recognizer
        self._recognizer: RecognizerHandle | None = None
        self._generation = 0  # events of a dropped recognizer are ignored
        self._language = ""
        self._segment: AzureSegment | None = None
        self._stopping: set[asyncio.Task[None]] = set()

    @classmethod
    def problems(cls, speech: AzureSpeechSettings, asr: AzureASRSettings) -> list[ConfigProblem]:
        return speech.problems()

    def open_session(self, language: str) -> None:
        """Connect now, so that the first turn does not wait for it."""
        self._ensure(language)

    def open_stream(self, language: str) -> AzureSegment:
        self._ensure(language)
        self._segment = AzureSegment(self)
        return self._segment

    def write(self, pcm: bytes) -> None:
        self._ensure(self._language).write(pcm)

    def commit(self) -> int:
        return self._ensure(self._language).commit()

    async def aclose(self) -> None:
        self._drop()
        if self._stopping:
            await asyncio.wait(self._stopping, timeout=STOP_BOUND_S)

    def _sdk_recognizer(self, language: str, on_event: Callable[[AzureEvent], None]) -> RecognizerHandle:
        import azure.cognitiveservices.speech as speechsdk

        config = speech_config(self._speech)
        config.set_profanity(getattr(speechsdk.ProfanityOption, PROFANITY.get(self.settings.profanity, "Masked")))
        return SDKRecognizer(config, language, on_event)

    def _ensure(self, language: str) -> RecognizerHandle:
        if self._recognizer is None or language != self._language:
            self._drop()
            self._language, self._generation = language, self._generation + 1
            generation = self._generation
            self._recognizer = self._factory(language, lambda event: self._on_event(event, generation))
            self._recognizer.start()
        return self._recognizer

    def _on_event(self, event: AzureEvent, generation: int) -> None:
        if generation != self._generation:
            return
        segment = self._segment if self._segment is not None and not self._segment.done else None
        if event.kind in ("canceled", "session_stopped"):
            log.info("azure: recognition ended (%s %s %s)", event.kind, event.reason, event.code)
            self._drop()  # the next audio starts another recognizer
            if segment is not None:
                segment.lost(event)
        elif segment is not None:
            segment.heard(event)

    def _drop(self) -> None:
        """Let go of the recognizer now; it stops on a thread (the SDK blocks), joined on close."""
        recognizer, self._recognizer = self._recognizer, None
        self._generation += 1
        if recognizer is not None:
            task = asyncio.create_task(asyncio.to_thread(recognizer.stop), name="azure-recognizer-stop")
            self._stopping.add(task)
            task.add_done_callback(_stopped(self._stopping))


def _stopped(tasks: set[asyncio.Task[None]]) -> Callable[[asyncio.Task[None]], None]:
    def done(task: asyncio.Task[None]) -> None:
        tasks.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            log.debug("azure: a recognizer did not stop cleanly: %r", error)

    return done


class AzureSegment(ChannelASRStream):
    """One turn's share of the session's recognition."""

    def __init__(self, owner: AzureASR) -> None:
        super().__init__()
        self.done = False
        self._owner = owner
        self._audio = bytearray()  # heard again by a new recognizer after a drop (the core caps a turn's length)
        self._events: asyncio.Queue[AzureEvent | str] = asyncio.Queue()
        self._texts: list[str] = []
        self._hypothesis = ""
        self._token = 0
        self._reconnects_left = owner.settings.reconnects

    def push(self, pcm16: bytes) -> None:
        if not self.finished:
            self._audio.extend(pcm16)
            self.received_bytes += len(pcm16)
            self._owner.write(pcm16)

    def finish(self) -> None:
        if not self.finished:
            self.finished = True
            self._events.put_nowait("finish")

    def heard(self, event: AzureEvent) -> None:
        self._events.put_nowait(event)

    def lost(self, event: AzureEvent) -> None:
        self._events.put_nowait(AzureEvent("session_stopped") if event.kind == "session_stopped" else event)

    async def aclose(self) -> None:
        self.done = True
        await super().aclose()

    async def _recognize(self) -> None:
        try:
            while not await self._step(await self._next()):
                pass
            await self._emit(ASRResult(" ".join(self._texts), is_final=True))
        finally:
            self.done = True

    async def _next(self) -> AzureEvent | str:
        """The next event; "timeout" when the commit was not acknowledged in time."""
        if not self.finished or self._events.qsize():
            return await self._events.get()
        try:
            async with asyncio.timeout(self._owner.settings.commit_timeout_ms / 1000):
                return await self._events.get()
        except TimeoutError:
            return "timeout"

    async def _step(self, item: AzureEvent | str) -> bool:
        """Handle one event; True once the segment's final is known."""
        if item == "finish":
            self._token = self._owner.commit()
            return False
        if item == "timeout":
            return not self._hypothesis  # else wait on for the pending words (the core bounds the wait)
        assert isinstance(item, AzureEvent)
        if item.kind in ("canceled", "session_stopped"):
            await self._reconnect(item)
            return False
        if item.kind == "recognizing":
            self._hypothesis = item.text
            await self._emit(ASRResult(" ".join([*self._texts, item.text]).strip(), is_final=False))
            return False
        if item.kind == "recognized" and item.text:
            self._texts.append(item.text)
            self._hypothesis = ""
        acknowledged = bool(self._token) and item.commit_token == self._token
        if not acknowledged and item.kind == "recognized" and item.text:
            await self._emit(ASRResult(" ".join(self._texts), is_final=False))
        return acknowledged

    async def _reconnect(self, event: AzureEvent) -> None:
        error: ProviderError = (
            cancellation_error("asr", event.code, event.details) if event.kind == "canceled"
            else ProviderUnavailable("asr", "Azure Speech ended the session")
        )  # fmt: skip
        if not error.retryable or self._reconnects_left <= 0:
            raise error
        self._reconnects_left -= 1
        log.warning("azure: reconnecting after %s; the turn's audio is heard again", error)
        await asyncio.sleep(RECONNECT_PAUSE_S)
        self._texts, self._hypothesis = [], ""
        self._owner.write(bytes(self._audio))
        if self.finished:
            self._token = self._owner.commit()
