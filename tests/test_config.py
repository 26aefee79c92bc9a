from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, load_config, require_real_mode

EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.toml"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_the_example_config_is_valid_and_documents_every_key() -> None:
    config = load_config(EXAMPLE, {})
    text = EXAMPLE.read_text()
    for section in ("web", "storage", "security", "cometchat", "google", "calendar", "bot"):
        assert f"[{section}]" in text
        for key in getattr(config, section).__dataclass_fields__:
            assert f"\n{key} =" in text or f"\n# {key} =" in text, f"[{section}] {key} undocumented"


def test_defaults_need_no_file() -> None:
    config = load_config(None, {})
    assert config.storage.url.startswith("sqlite+aiosqlite:///")
    assert config.calendar.provider == "local"
    assert config.cometchat.base_url() == "https://.api-us.cometchat.io/v3"


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path, '[web]\nport = 9000\n[cometchat]\napp_id = "abc"\nregion = "eu"\n')
    config = load_config(
        path,
        {
            "CALBOT_WEB_PORT": "9100",
            "CALBOT_SECURITY_TOKEN_KEYS": "k1, k2",
            "CALBOT_COMETCHAT_SCHEDULER_MESSAGE": "true",
        },
    )
    assert config.web.port == 9100
    assert config.security.token_keys == ("k1", "k2")
    assert config.cometchat.scheduler_message is True
    assert config.cometchat.base_url() == "https://abc.api-eu.cometchat.io/v3"


@pytest.mark.parametrize(
    ("text", "env", "message"),
    [
        ("[web]\nprot = 1\n", {}, "unknown key [web] prot in {path} (did you mean 'port'?)"),
        ("[webb]\n", {}, "unknown section [webb] in {path} (did you mean 'web'?)"),
        ('[web]\nport = "80"\n', {}, "[web] port in {path} must be a whole number, got '80'"),
        (
            "",
            {"CALBOT_WEB_PORT": "eighty"},
            "environment variable CALBOT_WEB_PORT must be a whole number, got 'eighty'",
        ),
        (
            '[calendar]\nprovider = "outlook"\n',
            {},
            "[calendar] provider in {path} must be one of local, google, microsoft, caldav, "
            "got 'outlook'",
        ),
        (
            '[bot]\ndefault_timezone = "Mars/Base"\n',
            {},
            "[bot] default_timezone in {path} is not an IANA time zone: 'Mars/Base'",
        ),
        (
            "[cometchat]\nsend_per_minute = 0\n",
            {},
            "[cometchat] send_per_minute in {path} must be 1 or more, got 0",
        ),
        ("[web\n", {}, "{path} is not valid TOML"),
    ],
)
def test_bad_config_names_the_key_and_file(
    tmp_path: Path, text: str, env: dict[str, str], message: str
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as problem:
        load_config(path, env)
    assert message.format(path=path) in str(problem.value)


def test_missing_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml", {})


def test_real_mode_requires_its_keys(tmp_path: Path) -> None:
    path = _write(tmp_path, '[security]\nsecret_key = "' + "s" * 40 + '"\n')
    with pytest.raises(ConfigError) as problem:
        require_real_mode(load_config(path, {}), str(path))
    assert str(problem.value) == (
        f"[cometchat] app_id is missing in {path} (or set CALBOT_COMETCHAT_APP_ID)"
    )


def test_check_config_command_reports_and_exits(tmp_path: Path) -> None:
    good = subprocess.run(
        [sys.executable, "-m", "bot.cli", "check-config", "--config", str(EXAMPLE)],
        capture_output=True,
        text=True,
    )
    assert good.returncode == 0 and good.stdout.startswith("config OK")
    bad = _write(tmp_path, "[web]\nprot = 1\n")
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "check-config", "--config", str(bad)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert "unknown key [web] prot" in result.stderr
    assert "Traceback" not in result.stderr
