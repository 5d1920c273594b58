"""Fallback offline text-to-speech: the espeak-ng program (Debian package `espeak-ng`).

Robotic but tiny and fast (first audio in about 10 ms). One process per sentence, text on
stdin (never on the command line, so no text is read as an option), WAV on stdout
streamed as it is produced. A reply synthesizes one sentence at a time, so a session
runs at most one espeak-ng process; it is killed and reaped when the reply is stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import struct
from collections.abc import AsyncIterator

from services.base import TTSCapabilities, TTSChunk
from services.errors import ProviderError
from services.local.settings import EspeakSettings
from utils.aio import bounded
from utils.audio import StreamResampler

WAV_HEADER_BYTES = 44
READ_BYTES = 4096


def espeak_binary() -> str:
    path = shutil.which("espeak-ng")
    if path is None:
        raise ProviderError("tts", "espeak-ng is not installed (apt-get install espeak-ng)")
    return path


def parse_wav_header(header: bytes) -> int:
    """The sample rate of espeak-ng's mono PCM16 WAV header."""
    if len(header) < WAV_HEADER_BYTES or header[:4] != b"RIFF" or header[8:12] != b"WAVE":
        raise ProviderError("tts", "espeak-ng wrote no WAV header")
    channels, rate = struct.unpack_from("<HI", header, 22)
    bits = struct.unpack_from("<H", header, 34)[0]
    if channels != 1 or bits != 16:
        raise ProviderError("tts", f"espeak-ng wrote {channels} channels of {bits}-bit audio")
    return int(rate)


class EspeakTTS:
    capabilities = TTSCapabilities(word_timings=False)

    def __init__(self, settings: EspeakSettings) -> None:
        self.default_voice = settings.voice
        self.words_per_minute = settings.words_per_minute

    @classmethod
    def warm_up(cls, settings: EspeakSettings, *, voice: str) -> None:
        espeak_binary()

    async def synthesize(self, text: str, *, voice: str, language: str, sample_rate: int) -> AsyncIterator[TTSChunk]:
        process = await asyncio.create_subprocess_exec(
            espeak_binary(),
            "--stdout",
            "--stdin",
            "-v",
            voice or self.default_voice,
            "-s",
            str(self.words_per_minute),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        assert process.stdin is not None and process.stdout is not None
        try:
            process.stdin.write(text.encode("utf-8"))
            await process.stdin.drain()
            process.stdin.close()
            header = await process.stdout.readexactly(WAV_HEADER_BYTES)
            resampler = StreamResampler(parse_wav_header(header), sample_rate)
            odd = b""
            while data := await process.stdout.read(READ_BYTES):
                data, odd = odd + data, b""
                if len(data) % 2:
                    data, odd = data[:-1], data[-1:]
                if pcm := resampler.process(data):
                    yield TTSChunk(pcm)
            if tail := resampler.flush():
                yield TTSChunk(tail)
            if await process.wait() != 0:
                raise ProviderError("tts", f"espeak-ng exited with status {process.returncode}")
        except asyncio.IncompleteReadError:
            raise ProviderError("tts", "espeak-ng produced no audio (unknown voice?)") from None
        finally:
            if process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await bounded(process.wait(), 1.0, "espeak-ng exit")
