"""A Realtime response built from engine events: output indexes, order and status, each event
valid for the official SDK's class of its type."""

from __future__ import annotations

from typing import Any

from engine import events as ev
from tests.realtime_client import SDK_CLASSES, check_invariants
from websocket.realtime.responses import ResponseEvents, ResponseState


def run(*events: ev.Event, speak: bool = False) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []
    counter = iter(range(1000))
    responses = ResponseEvents(lambda event, _turn: sent.append({"event_id": f"e{next(counter)}", **event}))
    responses.started(ResponseState(7, "resp_1", "item_msg", speak, None, "heart", "inf"))
    for event in events:
        if isinstance(event, ev.LlmText):
            responses.text(event)
        elif isinstance(event, ev.ClientToolCall):
            responses.tool_call(event)
        elif isinstance(event, ev.ErrorEvent):
            responses.failed(event)
        elif isinstance(event, ev.ReplyEnded):
            responses.ended(event)
    for wire in sent:
        SDK_CLASSES[wire["type"]].model_validate(wire)
    check_invariants(sent)
    return sent


def test_text_then_a_client_call_get_their_own_output_indexes_in_order() -> None:
    sent = run(
        ev.LlmText(7, "Let me check.", "Let me check.", complete=False),
        ev.ClientToolCall(7, "resp_1", "item_call", "call_1", "lookup", '{"q": 1}'),
        ev.ReplyEnded(7, "resp_1", "completed", None, 10, 4),
    )
    added = [(e["item"]["id"], e["output_index"]) for e in sent if e["type"] == "response.output_item.added"]
    done = [(e["item"]["id"], e["output_index"]) for e in sent if e["type"] == "response.output_item.done"]
    assert added == [("item_msg", 0), ("item_call", 1)] and sorted(done, key=lambda d: d[1]) == added
    final = sent[-1]["response"]
    assert [item["id"] for item in final["output"]] == ["item_msg", "item_call"]
    assert final["usage"] == {"input_tokens": 10, "output_tokens": 4, "total_tokens": 14}


def test_statuses_say_why_a_response_ended() -> None:
    cases = [
        (ev.ReplyEnded(7, "resp_1", "interrupted", "barge_in"), {"type": "cancelled", "reason": "turn_detected"}),
        (ev.ReplyEnded(7, "resp_1", "interrupted", "interrupt"), {"type": "cancelled", "reason": "client_cancelled"}),
        (ev.ReplyEnded(7, "resp_1", "completed", None, incomplete="max_output_tokens"),
         {"type": "incomplete", "reason": "max_output_tokens"}),
    ]  # fmt: skip
    for ended, details in cases:
        assert run(ended)[-1]["response"]["status_details"] == details
    failed = run(ev.ErrorEvent("rate_limited", "slow down", 7, stage="llm"), ev.ReplyEnded(7, "resp_1", "failed", None))
    response = failed[-1]["response"]
    assert response["status"] == "failed" and response["status_details"]["error"]["code"] == "rate_limited"
