"""A cough while the bot speaks, in real Chromium: the page's player pauses and resumes, and
plays every sample of the reply; a real cut-in still cuts."""

from __future__ import annotations

from tests.client import silence
from tests.conftest import StartServer
from tests.e2e.conftest import OpenPage, speech
from tests.history_rows import history_rows

COUGH_MS = 200  # a short burst of speech, under the 400 ms bar set below


async def test_a_cough_pauses_the_player_and_it_plays_on_with_nothing_lost(
    start_server: StartServer, open_page: OpenPage
) -> None:
    server = await start_server(mock_llm_sentences=5, mock_tts_ms_per_char=25, barge_in_min_ms=400)
    page = await open_page(server.http_url, scripted_microphone=True)
    await page.page.click("#toggle")
    await page.page.wait_for_selector("#toggle[aria-pressed=true]")
    await page.speak(silence(300) + speech("ocean"))
    await page.page.wait_for_function("window.parley.stats.levels.some((level) => level.audible)", timeout=30000)
    await page.speak(speech("ocean")[500 * 48 : (500 + COUGH_MS) * 48] + silence(600))  # its first 200 ms of voice
    await page.page.wait_for_function("Object.keys(window.parley.stats.finished).length > 0", timeout=60000)
    stats = await page.stats()
    print(f"pauses {stats['pauses']}, resumes {stats['resumes']}")
    assert stats["pauses"] == stats["resumes"] == 1 and stats["stopReceivedAt"] == {}
    finished: dict[str, float] = stats["finished"]  # type: ignore[assignment]
    audio_ms: dict[str, float] = stats["audioMs"]  # type: ignore[assignment]
    ((turn, played),) = finished.items()
    assert abs(played - audio_ms[turn]) < 1, f"played {played} ms of {audio_ms[turn]}: nothing lost, none twice"
    rows = history_rows(server.session(str(stats["sessions"][0]["session_id"])))  # type: ignore[index]
    assert [row["role"] for row in rows] == ["user", "assistant"] and rows[1]["interrupted"] is False
