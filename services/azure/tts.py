"""TTS over Azure Speech: SSML in, 24 kHz PCM streamed as it is synthesized, word timings out.

The text is XML-escaped into SSML with the voice, language, style and rate configured. Each
audio chunk is forwarded as the SDK produces it, resampled to the session's rate, carrying
the word boundaries reported so far, so a cut-in records exactly the words heard.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from xml.sax.saxutils import escape, quoteattr

from config import ConfigProblem
from services.azure.settings import AzureSpeechSettings, AzureTTSSettings
from services.azure.speech import cancellation_error, speech_config
from services.azure.synthesizer import SDKSynthesizer, SynthesisEvent, SynthesizerFactory, SynthesizerHandle
from services.base import TTSCapabilities, TTSChunk, WordTiming
from services.bridge import ThreadChannel
from utils.aio import bounded
from utils.audio import EvenBytes, StreamResampler

NATIVE_RATE = 24000
EVENT_QUEUE = 256
STOP_BOUND_S = 2.0


def build_ssml(text: str, voice: str, language: str, style: str = "", rate: str = "") -> str:
    """SSML for `text`; text and attributes are escaped, so no text can become markup."""
    body = escape(text)
    if rate:
        body = f"<prosody rate={quoteattr(rate)}>{body}</prosody>"
    if style:
        body = f"<mstts:express-as style={quoteattr(style)}>{body}</mstts:express-as>"
    return (
        "<speak version='1.0' xmlns='http://www.w3.org/2001/10/synthesis' "
        f"xmlns:mstts='https://www.w3.org/2001/mstts' xml:lang={quoteattr(language)}>"
        f"<voice name={quoteattr(voice)}>{body}</voice></speak>"
    )


class AzureTTS:
    capabilities = TTSCapabilities(word_timings=True)

    def __init__(
        self, speech: AzureSpeechSettings, tts: AzureTTSSettings, *, factory: SynthesizerFactory | None = None
    ) -> None:
        self._speech, self._tts = speech, tts
        self._factory = factory or (lambda on_event: SDKSynthesizer(speech_config(speech), on_event))
        self._synthesizer: SynthesizerHandle | None = None
        self._generation = 0  # events of a synthesizer let go after a cut are ignored
        self._active: tuple[ThreadChannel[SynthesisEvent], threading.Event] | None = None
        self._lock = asyncio.Lock()  # one sentence at a time per session

    @classmethod
    def problems(cls, speech: AzureSpeechSettings, tts: AzureTTSSettings) -> list[ConfigProblem]:
        return speech.problems()

    async def synthesize(self, text: str, *, voice: str, language: str, sample_rate: int) -> AsyncIterator[TTSChunk]:
        async with self._lock:
            channel: ThreadChannel[SynthesisEvent] = ThreadChannel(asyncio.get_running_loop(), EVENT_QUEUE)
            stop = threading.Event()
            synthesizer = self._synthesizer = self._synthesizer or self._new_synthesizer()
            self._active = (channel, stop)
            finished = False
            try:
                synthesizer.speak(build_ssml(text, voice or self._tts.voice, language, self._tts.style, self._tts.rate))
                async for chunk in _chunks(channel, sample_rate):
                    yield chunk
                finished = True
            finally:
                stop.set()
                self._active = None
                if not finished:  # cut short: stop the synthesis, and let this synthesizer go
                    self._synthesizer, self._generation = None, self._generation + 1
                    await bounded(asyncio.to_thread(synthesizer.stop), STOP_BOUND_S, "azure synthesis stop")

    def _new_synthesizer(self) -> SynthesizerHandle:
        generation = self._generation
        return self._factory(lambda event: self._route(event, generation))

    def _route(self, event: SynthesisEvent, generation: int) -> None:
        """On an SDK thread: hand the event to the sentence being synthesized, if any."""
        active = self._active
        if active is not None and generation == self._generation:
            channel, stop = active
            channel.put(event, stop)


async def _chunks(channel: ThreadChannel[SynthesisEvent], sample_rate: int) -> AsyncIterator[TTSChunk]:
    resampler, even = StreamResampler(NATIVE_RATE, sample_rate), EvenBytes()
    words: list[WordTiming] = []
    while (event := await channel.get()).kind != "done":
        if event.kind == "canceled":
            raise cancellation_error("tts", event.code, event.details)
        if event.word is not None:
            words.append(event.word)
        elif pcm := resampler.process(even(event.audio)):
            yield TTSChunk(pcm, tuple(words))
            words = []
    tail = resampler.flush()
    if tail or words:
        yield TTSChunk(tail or bytes(2), tuple(words))  # one silent sample carries timings that came last
