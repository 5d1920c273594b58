"""Configuration mistakes are caught at start, named by their variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import ConfigError, Settings, load_settings, unknown_variables


def test_a_bad_value_names_its_variable() -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(Settings, None, port=70000, input_sample_rate=44100)
    lines = [str(p) for p in raised.value.problems]
    assert lines[0].startswith("PORT=70000: ") and lines[1].startswith(
        "INPUT_SAMPLE_RATE=44100: input_sample_rate must"
    )


def test_unknown_variables_of_env_file_and_look_alikes_in_the_environment_are_warned(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("TTS_PROVDER=espeak\nLLM_PROVIDER=mock\nMY_OWN_THING=1\n")
    environ = {"PATH": "/bin", "HOME": "/root", "OPENAI_API_KEY": "x", "OPENAI_ORG_ID": "org",
               "MOCK_LLM_SENTENSES": "2", "AZURE_CLIENT_ID": "id"}  # fmt: skip
    warnings = unknown_variables(str(env_file), environ)
    assert warnings == [
        "MOCK_LLM_SENTENSES in the environment is not a Parley setting; did you mean MOCK_LLM_SENTENCES?",
        f"MY_OWN_THING in {env_file} is not a Parley setting",
        f"TTS_PROVDER in {env_file} is not a Parley setting; did you mean TTS_PROVIDER?",
    ]


@pytest.mark.parametrize(
    ("argv", "env", "address"),
    [
        (["app:app"], {}, ("127.0.0.1", 8000)),
        (["app:app", "--port", "9000", "--host", "0.0.0.0"], {}, ("0.0.0.0", 9000)),
        (["app:app", "--port=9001"], {"UVICORN_HOST": "::1"}, ("::1", 9001)),
        (["app:app"], {"UVICORN_PORT": "9002"}, ("127.0.0.1", 9002)),
        (["app:app", "--port", "0"], {}, None),  # a port uvicorn picks: unknown here
        (["app:app", "--uds", "/run/parley.sock"], {}, None),
    ],
)
def test_the_ready_line_names_where_uvicorn_listens(
    argv: list[str], env: dict[str, str], address: tuple[str, int] | None
) -> None:
    from app import uvicorn_cli_address

    assert uvicorn_cli_address(argv, env) == address
