from __future__ import annotations

import subprocess
import sys

import pytest

SUBCOMMANDS = ["demo", "serve", "parse", "invite", "check-config"]


def _calbot(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], capture_output=True, text=True, timeout=60
    )


def test_help_lists_the_subcommands() -> None:
    result = _calbot("--help")
    assert result.returncode == 0
    for name in SUBCOMMANDS:
        assert name in result.stdout


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_every_subcommand_has_help(name: str) -> None:
    result = _calbot(name, "--help")
    assert result.returncode == 0
    assert f"usage: calbot {name}" in result.stdout


def test_no_subcommand_prints_help_and_fails() -> None:
    result = _calbot()
    assert result.returncode == 2
    assert "usage: calbot" in result.stdout
