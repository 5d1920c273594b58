"""The page under its own Content-Security-Policy, and on a server that requires a token: it
takes the token from its address (#token=...), keeps it out of the address bar, and says so
plainly when there is none."""

from __future__ import annotations

from tests.conftest import StartServer
from tests.e2e.conftest import OpenPage

SECRET = "a-shared-secret-of-32-characters"


async def test_the_page_works_under_its_content_security_policy(start_server: StartServer, open_page: OpenPage) -> None:
    server = await start_server()
    browser = await open_page(server.http_url, enforce_csp=True)
    await browser.page.fill("#text", "hello under a strict policy")
    await browser.page.press("#text", "Enter")
    await browser.page.wait_for_selector('.message.assistant >> text=You said: "hello under a strict policy"')
    await browser.page.wait_for_selector(".message.assistant .latency", timeout=15000)
    # the fixture fails the test on any console error: a blocked script, style or socket would show there


async def test_a_token_in_the_address_opens_the_conversation_and_leaves_the_address_bar(
    start_server: StartServer, open_page: OpenPage
) -> None:
    server = await start_server(auth_token=SECRET)
    browser = await open_page(server.http_url, fragment=f"#token={SECRET}")
    assert SECRET not in browser.page.url, "the token is not left in the address bar (or in history)"
    await browser.page.fill("#text", "hello with a token")
    await browser.page.press("#text", "Enter")
    await browser.page.wait_for_selector('.message.assistant >> text=You said: "hello with a token"')
    await browser.page.reload()  # the tab keeps the token: a reload resumes the conversation
    await browser.page.wait_for_selector("#link >> text=Reconnected: conversation resumed")


async def test_without_a_token_the_page_says_what_is_missing(start_server: StartServer, open_page: OpenPage) -> None:
    server = await start_server(auth_token=SECRET)
    browser = await open_page(server.http_url, wait_open=False)
    banner = browser.page.locator("#service[data-service=denied]")
    await banner.wait_for(timeout=10000)
    assert "needs an access token" in (await banner.text_content() or "")
    assert await browser.page.get_attribute("#link", "data-link") != "open"
