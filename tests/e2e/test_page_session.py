"""The page's hold on the conversation: a new conversation when asked, the resumed one on
reload, the newest message in view, honest state across a server restart, typed text never
lost while disconnected, and a clear banner when an engine could not load."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.async_api import Page

from tests.conftest import BROKEN_GGUF, StartServer
from tests.e2e.conftest import OpenPage
from tests.e2e.proxy import DroppingProxy


async def type_message(page: Page, text: str) -> None:
    await page.fill("#text", text)
    await page.press("#text", "Enter")


async def page_behind_a_proxy(server: Any, open_page: OpenPage) -> tuple[DroppingProxy, Page]:
    """The page, reaching `server` through a proxy that can be switched to a restarted server."""
    proxy = DroppingProxy(int(server.http_url.rsplit(":", 1)[1]))
    await proxy.start()
    browser = await open_page(f"http://127.0.0.1:{proxy.port}")
    browser.expect_console_error(r"WebSocket connection to '.*' failed")  # while the server is down
    return proxy, browser.page


async def reply_to(page: Page, text: str, timeout: float = 15000) -> None:
    """Until the reply to `text` has ended (its latency line comes with the turn's metrics)."""
    await page.wait_for_selector(f".message.assistant:has-text('You said: \"{text}\"') .latency", timeout=timeout)


async def test_new_conversation_clears_the_page_and_the_server_and_stays_cleared(
    start_server: StartServer, open_page: OpenPage
) -> None:
    server = await start_server()
    browser = await open_page(server.http_url)
    page = browser.page
    await type_message(page, "remember the ocean")
    await reply_to(page, "remember the ocean")
    session = server.sessions.get(str((await browser.stats())["sessions"][-1]["session_id"]))  # type: ignore[index]
    assert session is not None and len(session.history.items) == 2

    await page.click("#new")
    await page.wait_for_function("document.querySelectorAll('#log .message').length === 0")
    assert session.history.items == ()
    await page.reload()
    await page.wait_for_selector("#link >> text=Reconnected: conversation resumed")
    assert await page.locator("#log .message").count() == 0, "the server agrees: nothing to resume"
    await type_message(page, "a fresh start")
    await page.wait_for_selector(".message.assistant >> text=This is turn 1 of our conversation", timeout=10000)


async def test_a_reload_shows_the_resumed_conversation(start_server: StartServer, open_page: OpenPage) -> None:
    server = await start_server()
    page = (await open_page(server.http_url)).page
    for text in ("first question", "second question"):
        await type_message(page, text)
        await reply_to(page, text)
    shown = await page.locator("#log .message .text").all_text_contents()

    await page.reload()
    await page.wait_for_selector("#link >> text=Reconnected: conversation resumed")
    await page.wait_for_function("document.querySelectorAll('#log .message').length === 4")
    assert await page.locator("#log .message .text").all_text_contents() == shown
    assert await page.locator("#log .message.user").all_text_contents() == [
        "Youfirst question", "Yousecond question",
    ]  # fmt: skip
    await type_message(page, "third question")
    await page.wait_for_selector(".message.assistant >> text=This is turn 3 of our conversation", timeout=10000)


async def newest_is_in_view(page: Page) -> bool:
    return bool(
        await page.evaluate("""() => {
            const last = document.querySelector('#log').lastElementChild.getBoundingClientRect();
            const log = document.querySelector('#log').getBoundingClientRect();
            const form = document.querySelector('#say').getBoundingClientRect();
            return last.bottom <= form.top + 1 && last.bottom <= log.bottom + 1 && last.bottom > log.top;
        }""")
    )


async def test_the_newest_message_stays_above_the_input_as_replies_stream(
    start_server: StartServer, open_page: OpenPage
) -> None:
    server = await start_server(mock_llm_sentences=6, mock_llm_token_ms=10, mock_tts_ms_per_char=4)
    page = (await open_page(server.http_url, width=420, height=560)).page
    for turn in (1, 2):
        await type_message(page, f"question {turn}")
        await page.wait_for_selector(f".message.assistant >> text=This is turn {turn} of", timeout=10000)
        assert await newest_is_in_view(page), f"turn {turn}: the reply, while it streams, is in view"
        await page.wait_for_selector(".message.assistant:nth-last-child(1) .latency", timeout=15000)
        assert await newest_is_in_view(page), f"turn {turn}: the finished reply is in view"

    overflow = await page.evaluate("(log => log.scrollHeight - log.clientHeight)(document.querySelector('#log'))")
    assert overflow > 100, "the conversation is taller than its view: following it took scrolling"
    await page.evaluate("document.querySelector('#log').scrollTop = 0")  # the user scrolls up to read
    await page.wait_for_function("!window.parley.view.following")
    await page.evaluate("window.parley.view.assistantText(2, 'The reply goes on. ' + 'More. '.repeat(40))")
    await page.wait_for_selector("#newest:not([hidden])", timeout=5000)
    assert not await newest_is_in_view(page), "reading older messages is not interrupted"
    await page.click("#newest")
    await page.wait_for_function("document.querySelector('#newest').hidden")
    assert await newest_is_in_view(page)


async def test_after_a_server_restart_nothing_is_stale_and_text_typed_meanwhile_is_sent(
    start_server: StartServer, open_page: OpenPage
) -> None:
    first = await start_server(mock_llm_first_token_ms=60000)  # it is still thinking when it goes down
    proxy, page = await page_behind_a_proxy(first, open_page)
    await type_message(page, "what time is it")
    await page.wait_for_selector("#state[data-state=thinking]", timeout=10000)

    proxy.refusing = True
    await first.stop()
    proxy.drop()
    await page.wait_for_selector("#link[data-link=reconnecting]", timeout=10000)
    assert await page.get_attribute("#state", "data-state") == "offline", "no longer thinking"
    assert await page.is_disabled("#new")
    await type_message(page, "typed while the server was down")
    waiting = page.locator(".message.user.pending >> text=Waiting for the connection")
    await waiting.wait_for(timeout=5000)
    await type_message(page, "and a second one")
    await page.wait_for_selector(".message.user.refused >> text=another message is already waiting", timeout=5000)

    second = await start_server()
    proxy.upstream_port = int(second.http_url.rsplit(":", 1)[1])
    proxy.refusing = False
    await page.wait_for_selector("#link[data-link=open]", timeout=15000)
    await page.wait_for_selector(".notice >> text=this is a new one", timeout=5000)
    await reply_to(page, "typed while the server was down")
    assert await page.locator(".message >> text=what time is it").count() == 0, "the page shows what the server has"
    assert await page.get_attribute("#state", "data-state") == "idle"
    assert await page.locator(".message.pending").count() == 0
    await proxy.close()


async def test_an_engine_that_failed_to_load_is_a_banner_and_turns_are_refused_with_its_reason(
    start_server: StartServer, open_page: OpenPage
) -> None:
    server = await start_server(expect_ready=False, llm_provider="local", local_llm_model_path=BROKEN_GGUF)
    page = (await open_page(server.http_url)).page
    banner = page.locator("#service[data-service=failed]")
    await banner.wait_for(timeout=10000)
    text = await banner.text_content() or ""
    assert "The language model could not load" in text and "broken.gguf" in text
    for attempt in ("hello?", "is anyone there?"):
        await type_message(page, attempt)
        await page.wait_for_selector(f".message.user.refused:has-text('{attempt}') >> text=Not answered", timeout=5000)
    assert await page.locator(".errors .error").count() == 0, "no toast each time: the banner says it"
    assert await banner.is_visible()


async def test_an_idle_page_is_disconnected_and_comes_back_when_the_user_types(
    start_server: StartServer, open_page: OpenPage
) -> None:
    server = await start_server(connection_idle_timeout_s=1)
    page = (await open_page(server.http_url)).page
    await page.wait_for_selector("#link[data-link=idle]", timeout=10000)
    assert "reconnects when you speak or type" in (await page.text_content("#link") or "")
    await type_message(page, "back again")
    await reply_to(page, "back again")
    assert await page.locator(".message.user:not(.pending)").count() == 1


async def test_after_a_server_restart_the_stored_conversation_is_back_on_the_page(
    start_server: StartServer, open_page: OpenPage, tmp_path: Path
) -> None:
    durable = {"session_store": "sqlite", "data_dir": str(tmp_path)}
    first = await start_server(**durable)
    proxy, page = await page_behind_a_proxy(first, open_page)
    await type_message(page, "remember the ocean")
    await reply_to(page, "remember the ocean")

    proxy.refusing = True
    await first.stop()
    proxy.drop()
    await page.wait_for_selector("#link[data-link=reconnecting]", timeout=10000)
    second = await start_server(**durable)
    proxy.upstream_port = int(second.http_url.rsplit(":", 1)[1])
    proxy.refusing = False
    await page.wait_for_selector("#link >> text=Reconnected: conversation resumed", timeout=15000)
    await page.wait_for_selector(".message.assistant:has-text('You said: \"remember the ocean\"')", timeout=5000)
    assert await page.locator(".message.user >> text=remember the ocean").count() == 1
    assert await page.locator(".notice >> text=this is a new one").count() == 0
    await type_message(page, "and now?")
    await page.wait_for_selector(".message.assistant >> text=This is turn 2 of our conversation", timeout=15000)
    await proxy.close()
