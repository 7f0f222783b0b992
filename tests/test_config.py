"""Settings: defaults, validation, and documentation that cannot drift (every setting
and every CLI command must appear in the README)."""
from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from forecasts import config, create_app
from forecasts.errors import ConfigError

README = (Path(__file__).parent.parent / "README.md").read_text()


def test_default_database_is_sqlite_in_instance_folder(tmp_path):
    values = config.load(environ={"FORECASTS_INSTANCE_PATH": str(tmp_path)})
    assert values["DATABASE_URL"] == f"sqlite:///{tmp_path / 'forecasts.sqlite3'}"


def test_production_requires_secret_key(tmp_path):
    env = {"FORECASTS_INSTANCE_PATH": str(tmp_path)}
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app({**env, "FORECASTS_ENV": "production", "SECRET_KEY": None})
    assert create_app({**env, "FORECASTS_ENV": "development"}).config["SECRET_KEY"]


@pytest.mark.parametrize("overrides, message", [
    ({"FORECASTS_ENV": "staging"}, "FORECASTS_ENV"),
    ({"SQLITE_BUSY_TIMEOUT_MS": "soon"}, "SQLITE_BUSY_TIMEOUT_MS"),
    ({"PASSWORD_HASH_FAST": "maybe"}, "PASSWORD_HASH_FAST"),
    ({"PASSWORD_HASH_FAST": "1", "FORECASTS_ENV": "production"}, "not allowed"),
])
def test_bad_settings_are_named(overrides, message):
    with pytest.raises(ConfigError, match=message):
        config.load(overrides, environ={})


@pytest.mark.parametrize("setting", [s.name for s in config.SETTINGS])
def test_every_setting_is_documented(setting):
    assert f"`{setting}`" in README, f"{setting} is missing from README.md"


def _commands(group: click.Group, prefix: str = "forecasts") -> list[str]:
    names = []
    for name, command in group.commands.items():
        full = f"{prefix} {name}"
        names.append(full)
        if isinstance(command, click.Group):
            names.extend(_commands(command, full))
    return names


def test_every_cli_command_is_documented():
    from cli import main

    missing = [c for c in _commands(main) if not re.search(rf"`{re.escape(c)}[ `]", README)]
    assert not missing, f"undocumented commands: {missing}"
