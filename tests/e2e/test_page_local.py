"""The page on the offline stack: speech through the fake microphone (with the browser's
echo cancellation, noise suppression and auto gain on, as for real users), transcribed by
Whisper, answered by the local LLM, spoken by hibari and played by the page."""

from __future__ import annotations

from typing import Any

from config import Settings
from tests.client import silence
from tests.conftest import StartServer
from tests.e2e.conftest import OpenPage
from tests.local.conftest import LOCAL, synthesize_async
from tests.wer import word_error_rate

QUESTION = "What is the capital of France?"


async def test_a_spoken_turn_on_the_local_stack(
    start_server: StartServer, open_page: OpenPage, warm_engines: Settings
) -> None:
    server = await start_server(**LOCAL)
    microphone = silence(600) + await synthesize_async(QUESTION, 24000) + silence(6000)
    page = await open_page(server.http_url, microphone=microphone)
    await page.page.click("#toggle")

    user = page.page.locator(".message.user:not(.partial) .text").first
    await user.wait_for(timeout=20000)
    assert word_error_rate([(QUESTION, await user.text_content() or "")]) <= 0.2
    await page.page.locator(".message.assistant .latency").first.wait_for(timeout=30000)
    reply = await page.page.locator(".message.assistant .text").first.text_content()
    assert reply and reply.strip()
    stats = await page.stats()
    levels: list[dict[str, Any]] = stats["levels"]  # type: ignore[assignment]
    assert any(level["audible"] for level in levels), "hibari's speech was played"
