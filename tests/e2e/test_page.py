"""The voice chat page in a real browser: a WAV plays the user's part through the fake
microphone; the page talks to a real server on the mock providers."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from tests.client import silence
from tests.conftest import StartServer
from tests.e2e.conftest import ARTIFACTS, BrowserPage, OpenPage, speech, wav_seconds
from tests.e2e.proxy import DroppingProxy
from tests.history_rows import history_rows

OCEAN = "tell me about the ocean"
RIVERS = "tell me about rivers instead"


async def session_id(page: BrowserPage) -> str:
    stats = await page.stats()
    sessions: list[dict[str, Any]] = stats["sessions"]  # type: ignore[assignment]
    return str(sessions[-1]["session_id"])


async def test_a_spoken_turn_shows_transcripts_reply_and_latency_and_plays_audio(
    start_server: StartServer, open_page: OpenPage
) -> None:
    server = await start_server(mock_asr_script=OCEAN)
    page = await open_page(server.http_url, microphone=silence(600) + speech("ocean") + silence(4000))
    await page.page.click("#toggle")

    await page.page.wait_for_selector(".message.user.partial", timeout=10000)
    await page.page.wait_for_selector(f".message.user:not(.partial) >> text={OCEAN}", timeout=15000)
    reply = page.page.locator(".message.assistant .text").first
    await reply.wait_for(timeout=10000)
    latency = page.page.locator(".message.assistant .latency").first
    await latency.wait_for(timeout=15000)
    assert re.fullmatch(r"first audio \d+\.\d\d s · transcript \d+\.\d\d s", await latency.text_content() or "")
    assert (await reply.text_content() or "").startswith(f'You said: "{OCEAN}".')

    stats = await page.stats()
    levels: list[dict[str, Any]] = stats["levels"]  # type: ignore[assignment]
    assert any(level["audible"] for level in levels), "the tap heard the reply"
    assert stats["underruns"] == 0
    assert server.session(await session_id(page)).live.playback_acks > 0
    assert await page.page.get_attribute("#state", "data-state") == "listening"


async def test_a_cut_in_silences_the_player_at_once_and_history_keeps_what_was_played(
    start_server: StartServer, open_page: OpenPage
) -> None:
    """The user cuts in while the bot is audibly speaking: the test speaks on cue, once the tap
    after the player hears the reply, so the moment of the cut does not depend on how fast a
    busy machine runs. The server keeps 1 s of audio ahead of the player, so the player still
    holds unplayed audio of the turn when it is cut (and would go on without the flush)."""
    server = await start_server(
        mock_asr_script=f"{OCEAN}|{RIVERS}", mock_llm_sentences=6, mock_tts_ms_per_char=25, playback_lead_ms=1000
    )
    page = await open_page(server.http_url, scripted_microphone=True)
    await page.page.click("#toggle")
    await page.page.wait_for_selector("#toggle[aria-pressed=true]")
    await page.speak(silence(300) + speech("ocean"))
    await page.page.wait_for_function("window.parley.stats.levels.some((level) => level.audible)", timeout=30000)
    await page.speak(speech("rivers") + silence(300))

    await page.page.wait_for_selector(f'.message.assistant >> text=You said: "{RIVERS}"', timeout=30000)
    stats = await page.stats()
    stops: dict[str, float] = stats["stopReceivedAt"]  # type: ignore[assignment]
    assert len(stops) == 1
    ((turn, stop_at),) = stops.items()
    flushes: dict[str, dict[str, float]] = stats["flushes"]  # type: ignore[assignment]
    assert flushes[turn]["droppedMs"] > 300, "the player still held the reply: without the flush it would go on"
    levels: list[dict[str, Any]] = stats["levels"]  # type: ignore[assignment]
    before = [level for level in levels if level["at"] <= stop_at]
    assert any(level["audible"] for level in before), "the reply was heard before the cut"
    if before[-1]["audible"]:  # else the cut fell in the 50 ms between two of the mock voice's words
        silent_at = next(level["at"] for level in levels if level["at"] > stop_at and not level["audible"])
        print(f"player silent {silent_at - stop_at:.1f} ms after tts_stop reached the page")
        assert silent_at - stop_at <= 50, f"the player went silent {silent_at - stop_at:.1f} ms after tts_stop"
    reopened = [level for level in levels if stop_at < level["at"] < stop_at + 500 and level["audible"]]
    assert reopened == [], "no audio of the cut turn after the flush"

    session = server.session(await session_id(page))
    assert session.live.playback_acks > 0
    history = history_rows(session)
    cut = next(entry for entry in history if entry["turn_id"] == int(turn) and entry["role"] == "assistant")
    full = await page.page.locator(".message.assistant .text").first.text_content() or ""
    unheard = await page.page.locator(".message.assistant.interrupted .unheard").first.text_content() or ""
    assert cut["interrupted"] is True
    assert cut["content"] and full.startswith(cut["content"]) and len(cut["content"]) < len(full)
    assert unheard and full.endswith(unheard), "the page greys out the sentences never played"
    assert len(full) - len(unheard) >= len(cut["content"]), "what was heard is not greyed out"
    await page.page.locator(".message.assistant .latency").nth(1).wait_for(timeout=15000)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.page.screenshot(path=str(ARTIFACTS / "conversation.png"), full_page=True)


async def test_the_uplink_carries_every_sample_at_real_time_pace(
    start_server: StartServer, open_page: OpenPage
) -> None:
    server = await start_server()
    microphone = silence(600) + speech("mountains") + silence(600)
    page = await open_page(server.http_url, microphone=microphone)
    await page.page.click("#toggle")
    await page.page.wait_for_function("window.parley.stats.framesSent > 10")
    session = server.session(await session_id(page))

    loop = asyncio.get_running_loop()
    first_bytes, first_at = session.live.audio_bytes_in, loop.time()
    await asyncio.sleep(wav_seconds(microphone) + 1.0)
    pace = (session.live.audio_bytes_in - first_bytes) / 2 / 24000 / (loop.time() - first_at)
    print(f"uplink: {session.live.audio_bytes_in} bytes, {pace:.4f} x real time")
    assert 0.97 < pace < 1.03, f"audio arrived at {pace:.3f} x real time"
    assert session.live.audio_bytes_in >= len(microphone), "the whole file, and the live silence after it"

    await page.page.click("#toggle")  # stop: no more audio is sent
    await page.page.wait_for_selector("#toggle[aria-pressed=false]")
    await asyncio.sleep(0.3)
    stats = await page.stats()
    assert session.live.audio_bytes_in == int(stats["samplesSent"]) * 2  # type: ignore[call-overload]
    await page.page.wait_for_selector("#state[data-state=stopped]")


async def test_a_dropped_connection_reconnects_and_resumes_the_session(
    start_server: StartServer, open_page: OpenPage
) -> None:
    server = await start_server()
    proxy = DroppingProxy(int(server.http_url.rsplit(":", 1)[1]))
    await proxy.start()
    page = await open_page(f"http://127.0.0.1:{proxy.port}")
    await page.page.fill("#text", "hello there")
    await page.page.press("#text", "Enter")
    await page.page.wait_for_selector(".message.assistant .latency", timeout=10000)
    before = await session_id(page)

    proxy.drop()  # the network fails: no close frame, the page sees code 1006
    await page.page.wait_for_selector("#link[data-link=reconnecting]", timeout=5000)
    await page.page.wait_for_selector("#link >> text=Reconnected: conversation resumed", timeout=10000)
    assert await session_id(page) == before

    await page.page.fill("#text", "are you still there")
    await page.page.press("#text", "Enter")
    await page.page.wait_for_selector(".message.assistant >> text=This is turn 2 of our conversation", timeout=10000)
    await proxy.close()


async def test_the_page_fits_a_phone_and_renders_text_as_text(start_server: StartServer, open_page: OpenPage) -> None:
    server = await start_server()
    page = await open_page(server.http_url, width=360)
    markup = "<img src=x onerror=alert(1)><b>bold</b>"
    await page.page.fill("#text", markup)
    await page.page.click("#say button")
    user = page.page.locator(".message.user .text").first
    await user.wait_for()
    assert await user.text_content() == markup and await page.page.locator(".message img, .message b").count() == 0
    await page.page.wait_for_selector(".message.assistant .latency", timeout=10000)
    overflow = await page.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, "no horizontal scrolling at 360 px"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.page.screenshot(path=str(ARTIFACTS / "phone.png"), full_page=True)


async def test_a_failing_provider_is_shown_and_the_next_turn_works(
    start_server: StartServer, open_page: OpenPage
) -> None:
    server = await start_server(mock_llm_fault="raise", mock_llm_fault_on="1")
    page = await open_page(server.http_url)
    await page.page.fill("#text", "first try")
    await page.page.press("#text", "Enter")
    error = page.page.locator(".errors .error").first
    await error.wait_for(timeout=10000)
    assert "(provider_failed)" in (await error.text_content() or "")
    await page.page.fill("#text", "second try")
    await page.page.press("#text", "Enter")
    await page.page.wait_for_selector('.message.assistant >> text=You said: "second try"', timeout=10000)


async def test_typing_works_after_the_microphone_is_stopped(start_server: StartServer, open_page: OpenPage) -> None:
    server = await start_server()
    page = await open_page(server.http_url, microphone=silence(3000))
    await page.page.click("#toggle")
    await page.page.wait_for_selector("#toggle[aria-pressed=true]")
    await page.page.click("#toggle")
    await page.page.wait_for_selector("#state[data-state=stopped]")
    await page.page.fill("#text", "typed after stop")
    await page.page.press("#text", "Enter")
    await page.page.wait_for_selector('.message.assistant >> text=You said: "typed after stop"', timeout=10000)
    assert await page.page.locator(".errors .error").count() == 0
