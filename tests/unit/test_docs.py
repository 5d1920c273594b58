"""Generated documents say what the code does: README's configuration tables, .env.example,
PROTOCOL.md's tables, the JSON Schema and the page's protocol constants."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from config import settings_classes
from engine import events as ev
from engine.availability import SERVICE_STATES
from engine.metrics import METRIC_KEYS
from scripts import gen_docs
from services.errors import PROVIDER_ERROR_CODES
from websocket.parley import messages as m

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("path", list(gen_docs.OUTPUTS), ids=lambda p: str(p.relative_to(ROOT)))
def test_generated_document_is_up_to_date(path: Path) -> None:
    current = path.read_text() if path.exists() else ""
    assert current == gen_docs.OUTPUTS[path](current), f"run scripts/gen_docs.py ({path.name} is stale)"


def test_every_setting_is_in_the_readme_once() -> None:
    readme = (ROOT / "README.md").read_text()
    for cls in settings_classes():
        for name in cls.model_fields:
            assert readme.count(f"| `{cls.env_name(name)}` |") == 1, cls.env_name(name)


def test_the_schema_describes_every_message_both_ways() -> None:
    schema = json.loads(gen_docs.json_schema())
    assert set(schema["client"]["$defs"]) == {model.__name__ for model in m.CLIENT_MESSAGES}
    assert set(schema["server"]["$defs"]) >= {model.__name__ for model in m.SERVER_MESSAGES}


def test_engine_vocabularies_match_the_protocol() -> None:
    metric_fields = set(m.Metrics.model_fields) - {"type", "session_id", "turn_id", "interrupted"}
    assert metric_fields == set(METRIC_KEYS)
    assert set(PROVIDER_ERROR_CODES) <= set(m.ERROR_CODES)
    assert {"not_listening", "internal_error", "service_unavailable"} <= set(m.ERROR_CODES)
    assert set(SERVICE_STATES) == set(m.ServerStatus.model_fields["state"].annotation.__args__)  # type: ignore[union-attr]
    assert set(ev.STOP_REASONS) == set(m.TtsStop.model_fields["reason"].annotation.__args__)  # type: ignore[union-attr]


def test_protocol_md_states_the_version_the_server_speaks() -> None:
    title = (ROOT / "PROTOCOL.md").read_text().splitlines()[0]
    assert title == f"# Parley WebSocket protocol, version {m.PROTOCOL_VERSION}"
    assert f"Version {m.PROTOCOL_VERSION} adds" in (ROOT / "PROTOCOL.md").read_text(), "say what the version changed"


def test_readme_gives_the_two_commands_and_ci_runs_the_test_one() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "bash scripts/run.sh" in readme and "bash scripts/test.sh" in readme
    assert "bash scripts/test.sh" in (ROOT / ".ci" / "run").read_text()
