"""A browser speaks the Realtime protocol to /v1/realtime: real Chromium, the key in the
`openai-insecure-api-key.` subprotocol (browsers cannot set headers), Origin checked."""

from __future__ import annotations

from typing import Any

from tests.conftest import StartServer
from tests.e2e.conftest import OpenPage

SECRET = "a-shared-secret-of-32-characters"
TEST_PAGE = """
async ([key, text]) => {
  const url = location.origin.replace("http", "ws") + "/v1/realtime?model=parley-mock";
  const ws = new WebSocket(url, ["realtime", "openai-insecure-api-key." + key]);
  const events = [];
  let audioBytes = 0;
  return await new Promise((resolve) => {
    ws.onclose = (e) => resolve({closed: e.code, events, protocol: ws.protocol, audioBytes});
    ws.onmessage = (message) => {
      const event = JSON.parse(message.data);
      events.push(event.type);
      if (event.type === "response.output_audio.delta") audioBytes += atob(event.delta).length;
      if (event.type === "session.created") {
        ws.send(JSON.stringify({type: "conversation.item.create", item: {type: "message", role: "user",
                                content: [{type: "input_text", text}]}}));
        ws.send(JSON.stringify({type: "response.create"}));
      }
      if (event.type === "response.done") {
        resolve({status: event.response.status, events, protocol: ws.protocol, audioBytes});
        ws.close();
      }
    };
  });
}
"""


async def test_a_browser_page_talks_realtime_with_the_subprotocol_key(
    start_server: StartServer, open_page: OpenPage
) -> None:
    server = await start_server(auth_token=SECRET)
    browser = await open_page(server.http_url, fragment=f"#token={SECRET}")
    result: dict[str, Any] = await browser.page.evaluate(TEST_PAGE, [SECRET, "hello from a browser"])
    assert result["protocol"] == "realtime" and result["status"] == "completed", result
    assert result["events"][0] == "session.created" and "response.output_audio.delta" in result["events"]
    assert result["audioBytes"] > 24000, "at least half a second of 24 kHz speech"
    browser.expect_console_error("WebSocket connection to .* failed")
    refused: dict[str, Any] = await browser.page.evaluate(TEST_PAGE, ["not-the-key", "hello"])
    assert refused["events"] == [] and refused["closed"] == 1006, refused
