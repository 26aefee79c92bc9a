"""`calbot parse`: the contract other tools rely on."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

EVAL_DIR = Path(__file__).resolve().parents[2] / "shared" / "eval"
NOW = "2026-11-24T10:00:00-05:00"


def calbot(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_human_sentence() -> None:
    result = calbot("parse", "tomorrow 3pm for 30 min", "--now", NOW, "--tz", "America/New_York")
    assert result.returncode == 0
    assert result.stdout.strip() == "Wed 25 Nov 2026, 15:00–15:30 EST"


def test_json_object() -> None:
    result = calbot(
        "parse", "next tue 14:00-15:30", "--now", NOW, "--tz", "America/New_York", "--json"
    )
    assert json.loads(result.stdout) == {
        "start": "2026-12-01T14:00:00-05:00",
        "end": "2026-12-01T15:30:00-05:00",
        "duration_minutes": 90,
        "granularity": "minute",
    }


def test_refusal_is_a_sentence_and_a_non_zero_exit() -> None:
    result = calbot("parse", "feb 30", "--now", NOW, "--tz", "America/New_York", "--json")
    assert result.returncode == 1
    assert json.loads(result.stdout) == {"error": "February has no day 30. Check the date?"}


def test_jsonl_keeps_order_and_answers_every_line() -> None:
    lines = [
        {"text": "in 2 hours", "now": NOW, "tz": "America/New_York"},
        {"text": "asdf", "now": NOW, "tz": "America/New_York"},
        {"text": "tomorrow", "now": NOW, "tz": "Mars/Base"},
        {"text": "/book 30 min", "now": NOW, "tz": "Europe/Berlin"},
    ]
    stdin = "\n".join(json.dumps(line) for line in lines) + "\nnot json\n"
    result = calbot("parse", "--jsonl", stdin=stdin)
    assert result.returncode == 0
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(answers) == 5
    assert answers[0]["start"] == "2026-11-24T12:00:00-05:00"
    assert "couldn't find a day or time" in answers[1]["error"]
    assert "Unknown time zone 'Mars/Base'" in answers[2]["error"]
    assert answers[3] == {"start": None, "end": None, "duration_minutes": 30, "granularity": None}
    assert "JSON object" in answers[4]["error"]


@pytest.mark.skipif(not EVAL_DIR.exists(), reason="../shared/eval is not beside this checkout")
def test_development_set_scores_at_least_97_percent_with_nothing_confidently_wrong() -> None:
    script = Path(sys.executable).with_name("calbot")
    run = subprocess.run(
        [sys.executable, str(EVAL_DIR / "check_time_expressions.py"), str(script), "--min", "97"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    summary = run.stdout.strip().splitlines()[-1]
    assert run.returncode == 0, summary
    assert summary.endswith("confidently wrong 0"), summary


def test_lang_option_and_jsonl_lang_field() -> None:
    result = calbot(
        "parse", "mañana a las 3", "--lang", "es", "--now", NOW, "--tz", "Europe/Madrid", "--json"
    )
    assert json.loads(result.stdout)["start"] == "2026-11-25T15:00:00+01:00"
    lines = [
        {"text": "morgen um 15 Uhr", "now": NOW, "tz": "Europe/Berlin", "lang": "de"},
        {"text": "morgen um 25 Uhr", "now": NOW, "tz": "Europe/Berlin", "lang": "de"},
        {"text": "tomorrow 3pm", "now": NOW, "tz": "Europe/Berlin", "lang": 7},
    ]
    run = calbot("parse", "--jsonl", stdin="\n".join(json.dumps(line) for line in lines) + "\n")
    answers = [json.loads(line) for line in run.stdout.splitlines()]
    assert answers[0]["start"] == "2026-11-25T15:00:00+01:00"
    assert "isn't a time on a clock" in answers[1]["error"]
    assert "JSON object" in answers[2]["error"]
