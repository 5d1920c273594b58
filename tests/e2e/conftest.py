"""A real headless Chromium (Debian's, driven by Playwright) with a WAV file as its
microphone, against a real server. Every test fails on any console or page error."""

from __future__ import annotations

import base64
import re
import wave
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright

from tests.client import load_speech

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "e2e"
RATE = 24000
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1 , EXCLUDE localhost",
    "--autoplay-policy=no-user-gesture-required",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
]


def speech(name: str) -> bytes:
    return load_speech(name, RATE)


def write_wav(path: Path, pcm: bytes, rate: int = RATE) -> Path:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(pcm)
    return path


def wav_seconds(pcm: bytes, rate: int = RATE) -> float:
    return len(pcm) / 2 / rate


@dataclass
class BrowserPage:
    page: Page
    base_url: str
    problems: list[str] = field(default_factory=list)
    expected: list[str] = field(default_factory=list)  # patterns of console errors a test causes on purpose

    def expect_console_error(self, pattern: str) -> None:
        """Chromium itself logs some errors, e.g. a WebSocket that cannot connect to a server that is down."""
        self.expected.append(pattern)

    def unexpected_problems(self) -> list[str]:
        return [p for p in self.problems if not any(re.search(pattern, p) for pattern in self.expected)]

    async def speak(self, pcm: bytes, rate: int = RATE) -> None:
        """Play `pcm` into the scripted microphone and wait until it has been played."""
        await self.page.evaluate("([b64, rate]) => window.testMicrophone.play(b64, rate)",
                                 [base64.b64encode(pcm).decode(), rate])  # fmt: skip

    async def stats(self) -> dict[str, object]:
        result: dict[str, object] = await self.page.evaluate("JSON.parse(JSON.stringify(window.parley.stats))")
        return result


OpenPage = Callable[..., Awaitable[BrowserPage]]


@pytest.fixture
async def open_page(tmp_path: Path) -> AsyncIterator[OpenPage]:
    """`await open_page(http_url, microphone=pcm, width=..., height=...)`: a page with that fake microphone
    (a WAV Chromium plays from the start), or with `scripted_microphone=True` one the test speaks into
    on cue (`BrowserPage.speak`)."""
    browsers: list[Browser] = []
    pages: list[BrowserPage] = []
    async with async_playwright() as playwright:

        async def open_(
            base_url: str, microphone: bytes | None = None, width: int = 1000, query: str = "", height: int = 800,
            scripted_microphone: bool = False, enforce_csp: bool = False, fragment: str = "", wait_open: bool = True,
        ) -> BrowserPage:  # fmt: skip
            args = list(FLAGS)
            if microphone is not None:
                wav = write_wav(tmp_path / f"microphone-{len(browsers)}.wav", microphone)
                args.append(f"--use-file-for-fake-audio-capture={wav}%noloop")
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
            browsers.append(browser)
            # Playwright's polling waits evaluate strings, which the page's CSP forbids: tests bypass
            # it, except the one that checks the page under its own policy (enforce_csp=True)
            context = await browser.new_context(viewport={"width": width, "height": height}, bypass_csp=not enforce_csp)
            if scripted_microphone:
                await context.add_init_script(path=str(Path(__file__).with_name("scripted_microphone.js")))
            page = await context.new_page()
            result = BrowserPage(page, base_url)
            page.on(
                "console",
                lambda m: result.problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None,
            )
            page.on("pageerror", lambda e: result.problems.append(f"page error: {e}"))
            pages.append(result)
            await page.goto(f"{base_url}/?debug{'&' + query.lstrip('?') if query else ''}{fragment}")
            if wait_open:
                await page.wait_for_selector("#link[data-link=open]")
            return result

        yield open_
        for browser in browsers:
            await browser.close()
    for opened in pages:
        assert opened.unexpected_problems() == [], "no console or page errors"
