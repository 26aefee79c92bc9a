from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.config import ConfigError, load_config, require_real_mode

EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.toml"
KEY_1 = Fernet.generate_key().decode()
KEY_2 = Fernet.generate_key().decode()


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
            "CALBOT_SECURITY_TOKEN_KEYS": f"{KEY_1}, {KEY_2}",
            "CALBOT_COMETCHAT_SCHEDULER_MESSAGE": "true",
        },
    )
    assert config.web.port == 9100
    assert config.security.token_keys == (KEY_1, KEY_2)
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
    assert problem.value.problems[0] == (
        f"[cometchat] app_id is missing in {path} (or set CALBOT_COMETCHAT_APP_ID)"
    )


def _check(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("CALBOT_")} | (env or {}),
    )


def test_check_config_refuses_the_example_like_serve_and_lists_every_problem_at_once() -> None:
    checked = _check("check-config", "--config", str(EXAMPLE))
    served = _check("serve", "--config", str(EXAMPLE))
    assert checked.returncode == served.returncode == 1
    assert checked.stderr == served.stderr  # the same verdict, word for word
    lines = checked.stderr.splitlines()
    assert all(line.startswith("config error: ") for line in lines)
    for key in ("secret_key", "app_id", "api_key", "webhook_username", "webhook_password"):
        assert sum(f"] {key} is missing" in line for line in lines) == 1, key
    assert "Traceback" not in checked.stderr
    syntax = _check("check-config", "--config", str(EXAMPLE), "--syntax-only")
    assert syntax.returncode == 0 and syntax.stdout.startswith("config OK")


def test_google_real_mode_reports_all_its_missing_keys_in_one_run(tmp_path: Path) -> None:
    path = _write(tmp_path, '[calendar]\nprovider = "google"\n')
    with pytest.raises(ConfigError) as problem:
        require_real_mode(load_config(path, {}), str(path))
    missing = [line.split(" is missing")[0] for line in problem.value.problems]
    assert missing[:7] == [
        "[security] secret_key",
        "[cometchat] app_id",
        "[cometchat] api_key",
        "[cometchat] webhook_username",
        "[cometchat] webhook_password",
        "[google] client_id",
        "[google] client_secret",
    ]
    assert problem.value.problems[7].startswith("[security] token_keys is missing")


def test_several_bad_keys_are_all_named_in_one_run(tmp_path: Path) -> None:
    path = _write(tmp_path, '[web]\nprot = 1\nport = "80"\n[bot]\ndefault_timezone = "Mars"\n')
    with pytest.raises(ConfigError) as problem:
        load_config(path, {})
    assert len(problem.value.problems) == 3
    assert "unknown key [web] prot" in problem.value.problems[0]


def _real_config(tmp_path: Path, token_keys: str) -> Path:
    return _write(
        tmp_path,
        f"""[security]
secret_key = "{"s" * 40}"
token_keys = [{token_keys}]
[cometchat]
app_id = "a"
api_key = "k"
webhook_username = "u"
webhook_password = "p"
[calendar]
provider = "caldav"
[web]
port = 1
""",
    )


def test_a_bad_token_key_is_one_clear_line_in_check_config_and_at_start_up(
    tmp_path: Path,
) -> None:
    path = _real_config(tmp_path, '"notakey"')
    for command in ("check-config", "serve"):
        result = _check(command, "--config", str(path))
        assert result.returncode == 1
        assert result.stderr.splitlines() == [
            f"config error: [security] token_keys entry 1 in {path} is not a Fernet key "
            "(44 characters of URL-safe base64; make one with: python -c "
            '"from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())")'
        ]
        assert "serving on" not in result.stdout
        assert "notakey" not in result.stderr  # a key is a secret, even a broken one
    from_env = _check("serve", "--config", str(path), env={"CALBOT_SECURITY_TOKEN_KEYS": "x"})
    assert from_env.returncode == 1 and "token_keys entry 1" in from_env.stderr
    good = _real_config(tmp_path, f'"{KEY_1}"')
    assert _check("check-config", "--config", str(good)).returncode == 0


def test_check_config_command_reports_and_exits(tmp_path: Path) -> None:
    good = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot.cli",
            "check-config",
            "--config",
            str(EXAMPLE),
            "--syntax-only",
        ],
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
