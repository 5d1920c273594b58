"""Tools over the OpenAI provider, against the fake chat completions API: the tools are
offered in OpenAI's shape, the call streamed back is run, and its result goes back to the
model in the next request, right after the call."""

from __future__ import annotations

from tests.client import Client
from tests.conftest import StartServer
from tests.fakes.behaviour import Behaviour
from tests.fakes.cloud import FakeCloud


async def test_a_voice_turn_calls_a_tool_through_the_openai_api(cloud: FakeCloud, start_server: StartServer) -> None:
    cloud.script.queue("chat", Behaviour(text="TOOL"), Behaviour(text="It is noon in UTC."))
    server = await start_server(llm_provider="openai", **cloud.settings())
    client = await Client.connect(server.url)
    await client.send("text_input", text="what time is it?")
    reply = await client.wait_for("llm_response", is_complete=True)
    assert reply["content"] == "It is noon in UTC."
    await client.close()
    first, second = cloud.script.of("chat")
    offered = {tool["function"]["name"]: tool for tool in first.body["tools"]}
    assert set(offered) == {"current_time", "notepad_add", "notepad_read", "weather"}
    assert first.body["tool_choice"] == "auto" and offered["weather"]["function"]["parameters"]["required"] == ["city"]
    call_message, result_message = second.body["messages"][-2:]
    function = {"name": "current_time", "arguments": '{"timezone": "UTC"}'}
    assert call_message["tool_calls"] == [{"id": "call_fake1", "type": "function", "function": function}]
    assert result_message["role"] == "tool" and result_message["tool_call_id"] == "call_fake1"
    assert "in UTC (UTC offset +0000)" in result_message["content"]
