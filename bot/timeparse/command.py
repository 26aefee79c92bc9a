"""`calbot parse`: one expression as a sentence or JSON, or a JSON-lines stream."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.timeparse import Prefs, TimeParseError, parse


def run_parse(
    text: str | None,
    now: str | None,
    tz: str,
    *,
    as_json: bool,
    jsonl: bool,
    date_order: str,
    next_weekday: str,
    lang: str | None = None,
) -> int:
    prefs = Prefs(date_order=date_order, next_weekday=next_weekday)
    if jsonl:
        for line in sys.stdin:
            if line.strip():
                print(json.dumps(_one_line(line, prefs)), flush=False)
        sys.stdout.flush()
        return 0
    if not text:
        print("calbot parse: give TEXT, or --jsonl to read JSON lines", file=sys.stderr)
        return 2
    result = _resolve(text, now, tz, prefs, lang)
    if as_json:
        print(json.dumps(result))
    elif "error" in result:
        print(result["error"])
    else:
        print(parse(text, _now(now), ZoneInfo(tz), prefs, lang).describe())
    return 1 if "error" in result else 0


def _one_line(line: str, prefs: Prefs) -> dict[str, Any]:
    try:
        request = json.loads(line)
        text, now, tz = request["text"], request.get("now"), request.get("tz") or "UTC"
        lang = request.get("lang") or None
        if not isinstance(text, str) or not isinstance(lang, str | None):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        return {
            "error": 'Each line must be a JSON object like {"text": "...", "now": "...", '
            '"tz": "...", "lang": "es"} ("lang" is optional).'
        }
    return _resolve(text, now, tz, prefs, lang)


def _resolve(
    text: str, now: str | None, tz: str, prefs: Prefs, lang: str | None = None
) -> dict[str, Any]:
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        return {"error": f"Unknown time zone {tz!r}; use an IANA name such as Europe/Berlin."}
    try:
        reference = _now(now)
    except ValueError:
        return {"error": f"--now must be an ISO 8601 time with an offset, got {now!r}."}
    try:
        return parse(text, reference, zone, prefs, lang).to_json()
    except TimeParseError as problem:
        return {"error": problem.text}


def _now(now: str | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    moment = datetime.fromisoformat(now)
    if moment.tzinfo is None:
        raise ValueError("naive")
    return moment
