"""Run settings: precedence, validation messages, config files, token sources."""

from __future__ import annotations

from pathlib import Path

import pytest

from replay.auth import load_static_token
from replay.errors import ConfigError
from replay.settings import load_settings


def test_flag_beats_variable_beats_file(tmp_path: Path) -> None:
    config = tmp_path / "replay.toml"
    config.write_text('[run]\nconcurrency = 3\nrate = 1.5\nrepeat = 2\n')
    settings = load_settings({"concurrency": 9}, config_path=config, environ={"REPLAY_RATE": "4"})
    assert settings.concurrency == 9
    assert settings.rate == 4.0
    assert settings.repeat == 2


def test_unknown_setting_suggests_name() -> None:
    with pytest.raises(ConfigError, match="unknown setting 'concurency' \\(did you mean 'concurrency'\\?\\)"):
        load_settings({"concurency": 3}, environ={})


def test_unknown_variable_warns(caplog: pytest.LogCaptureFixture) -> None:
    load_settings({}, environ={"REPLAY_CONCURENCY": "3"})
    assert any("REPLAY_CONCURRENCY" in message for message in caplog.messages)


def test_empty_book_rejected() -> None:
    with pytest.raises(ConfigError, match="book name must not be empty"):
        load_settings({"books": ("",)}, environ={})


def test_fractional_count_rejected() -> None:
    with pytest.raises(ConfigError, match="max_failures"):
        load_settings({"max_failures": 1.5}, environ={})


def test_config_not_utf8(tmp_path: Path) -> None:
    config = tmp_path / "replay.toml"
    config.write_bytes(b"\xff\xfe[run]")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_settings({}, config_path=config, environ={})


def test_config_bad_toml_names_file(tmp_path: Path) -> None:
    config = tmp_path / "replay.toml"
    config.write_text("[run\n")
    with pytest.raises(ConfigError, match="replay.toml"):
        load_settings({}, config_path=config, environ={})


def test_token_file_two_lines(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("first-secret-line\nsecond-secret-line\n")
    with pytest.raises(ConfigError, match="more than one line") as error:
        load_static_token(token_file)
    assert "secret" not in str(error.value).replace(str(token_file), "")


def test_token_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WILDMOOSE_API_TOKEN", "  abc.def.ghi \n")
    token = load_static_token()
    assert token is not None
    assert token.value == "abc.def.ghi"
    assert "abc" not in repr(token)
