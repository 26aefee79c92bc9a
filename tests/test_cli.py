from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

SUBCOMMANDS = ["demo", "serve", "parse", "invite", "check-config", "outbox"]


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


def test_the_cli_list_includes_every_subcommand_the_readme_names() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    for name in [*SUBCOMMANDS, "outbox"]:
        assert f"calbot {name}" in readme, f"README does not list calbot {name}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_a_second_demo_on_a_busy_port_fails_at_once_and_names_the_next_port(
    tmp_path: Path,
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _calbot("demo", "--port", str(port), "--data", str(tmp_path))
    assert result.returncode == 1
    assert f"port {port} is in use; try --port {port + 1}" in result.stderr
    assert "ready" not in result.stdout + result.stderr  # nothing announced before it fails
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "calbot.db").exists()


def _wait_until_serving(port: int, process: subprocess.Popen[str]) -> None:
    for _ in range(600):
        assert process.poll() is None, process.communicate()
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz") as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("the demo never answered /healthz")


@pytest.mark.parametrize("signal_number", [signal.SIGINT, signal.SIGTERM])
def test_the_demo_stops_cleanly_and_silently_on_sigint_and_sigterm(
    tmp_path: Path, signal_number: int
) -> None:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "demo", "--port", str(port), "--data", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "CALBOT_LOG_LEVEL": "WARNING", "PYTHONWARNINGS": "default"},
    )
    try:
        _wait_until_serving(port, process)
        # A person in the chat page, as a browser would be, while the process stops.
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/?as=bob") as page:
            assert page.status == 200
        process.send_signal(signal_number)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert out.strip().endswith("calbot stopped.")
    for noise in ("Traceback", "never awaited", "Unclosed", "ImportError", "Error"):
        assert noise not in err, err
