"""README, PROTOCOL.md and .env.example say what the code does."""

from __future__ import annotations

import re
from pathlib import Path

from scripts.config_docs import config_table, env_example, readme_with_table
from websocket import events as ev
from websocket import handler
from websocket import protocol as proto

ROOT = Path(__file__).resolve().parents[2]
PROTOCOL = (ROOT / "PROTOCOL.md").read_text()
SAMPLES: list[ev.Event] = [
    ev.SessionInfo(False, 0, 24000, 24000),
    ev.StateChanged("listening"),
    ev.Transcript(1, "hi", final=False),
    ev.Transcript(1, "hi", final=True),
    ev.LlmStatus(1, "processing"),
    ev.LlmText(1, "hi", "hi", complete=False),
    ev.SpeechStart(1, 24000, "Hi.", 0, 0.0),
    ev.SpeechEnd(1, 100.0),
    ev.SpeechStop(1, "barge_in", 50.0),
    ev.Acknowledged("interrupt", {"turn_id": 1}),
    ev.Acknowledged("stop", {"turn_id": 1, "queues_cleared": True}),
    ev.Acknowledged("reset", {"turn_id": None}),
    ev.Configured({"input_sample_rate": 24000, "output_sample_rate": 24000, "language": "en", "system_prompt": "",
                   "voice": ""}),
    ev.ErrorEvent("rate_limited", "slow down", 1, 1.0),
    ev.TurnMetrics(1, {"final_transcript_ms": 1.0}, interrupted=False),
]  # fmt: skip


def documented_server_fields() -> dict[str, set[str]]:
    """`type` -> the backticked field names in the server table of PROTOCOL.md."""
    section = PROTOCOL.split("## Server to client", 1)[1].split("### Binary", 1)[0]
    fields = {}
    for row in re.findall(r"^\| `(\w+)` \| (.*?) \|", section, re.MULTILINE):
        fields[row[0]] = set(re.findall(r"`(\w+)`", row[1]))
    return fields


def test_readme_configuration_table_matches_the_settings() -> None:
    readme = (ROOT / "README.md").read_text()
    assert readme == readme_with_table(readme), "run scripts/config_docs.py"
    assert config_table() in readme


def test_env_example_lists_every_setting_with_its_default() -> None:
    assert (ROOT / ".env.example").read_text() == env_example(), "run scripts/config_docs.py"


def test_every_message_type_and_error_code_is_documented() -> None:
    for kind in proto.CLIENT_MESSAGE_TYPES + proto.SERVER_MESSAGE_TYPES:
        assert f"`{kind}`" in PROTOCOL, kind
    table = PROTOCOL.split("## Error codes", 1)[1].split("## Close codes", 1)[0]
    assert set(re.findall(r"^\| `(\w+)` \|", table, re.MULTILINE)) == set(proto.ERROR_CODES)
    assert f"version {proto.PROTOCOL_VERSION}" in PROTOCOL


def test_close_codes_used_are_documented() -> None:
    table = PROTOCOL.split("## Close codes", 1)[1]
    for code in (handler.CLOSE_NORMAL, handler.CLOSE_POLICY, handler.CLOSE_TRY_LATER, handler.CLOSE_REPLACED, 1009):
        assert f"| {code} |" in table


def test_server_messages_have_exactly_the_documented_fields() -> None:
    documented = documented_server_fields()
    assert set(documented) == set(proto.SERVER_MESSAGE_TYPES)
    seen = set()
    for event in SAMPLES:
        wire = proto.to_wire(event, "s")
        kind = str(wire["type"])
        seen.add(kind)
        fields = set(wire) - {"type", "session_id"}
        assert fields <= documented[kind], (kind, fields - documented[kind])
        assert documented[kind] - fields <= {"turn_id", "retry_after_s"} or kind == "metrics", kind
    assert seen == set(proto.SERVER_MESSAGE_TYPES)


def test_readme_gives_the_two_commands_and_ci_runs_the_test_one() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "bash scripts/run.sh" in readme and "bash scripts/test.sh" in readme
    assert "bash scripts/test.sh" in (ROOT / ".ci" / "run").read_text()
