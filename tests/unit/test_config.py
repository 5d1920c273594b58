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
