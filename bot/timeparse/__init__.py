"""Natural-language times for scheduling chat: parse(text, now, zone) -> ParsedTime.

Conventions (shared/reference/time_expressions.md) in short: the future wins, "next friday" is
Friday of next week unless the user chose otherwise, bare hours 1-7 are afternoons, a named zone
sets the zone of the clock time while date words follow the user's own calendar. Text in other
languages is translated word by word into this grammar (bot.timeparse.languages), with
dateparser as the last resort for languages we have no table for.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo

from bot.timeparse.errors import NOTHING_FOUND, TimeParseError
from bot.timeparse.extract import extract
from bot.timeparse.languages import TABLES, detect, primary, translate
from bot.timeparse.lexicon import normalize
from bot.timeparse.resolve import resolve, wall_clock
from bot.timeparse.result import ParsedTime
from bot.timeparse.scan import Prefs

__all__ = ["ParsedTime", "Prefs", "TimeParseError", "parse", "wall_clock"]

DEFAULT_PREFS = Prefs()


def parse(
    text: str,
    now: datetime,
    zone: tzinfo | str,
    prefs: Prefs = DEFAULT_PREFS,
    lang: str | None = None,
) -> ParsedTime:
    """Resolve `text` against `now` (aware) in the user's `zone`; raises TimeParseError.

    `lang` is a BCP 47 tag ("es", "pt-BR"); None detects the language, English first.
    """
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    user_zone = ZoneInfo(zone) if isinstance(zone, str) else zone
    language = primary(lang) if lang else detect(text)
    if language in (None, "en"):
        try:
            return _grammar(text, now, user_zone, prefs)
        except TimeParseError as problem:
            if problem.text != NOTHING_FOUND or lang is not None or text.isascii():
                raise
            language = None  # unknown words with accents: perhaps a language we have no table for
    if language in TABLES:
        try:
            reading = _grammar(translate(text, language), now, user_zone, prefs)
        except TimeParseError as problem:
            if problem.text != NOTHING_FOUND:
                raise
        else:
            return replace(reading, matched=" ".join(text.split()))
    from bot.timeparse.foreign import dateparser_reading  # slow; rarely needed

    return dateparser_reading(text, now, user_zone, language)


def _grammar(text: str, now: datetime, zone: tzinfo, prefs: Prefs) -> ParsedTime:
    found, matched = extract(normalize(text), now.astimezone(zone).date(), prefs)
    return resolve(found, now, zone, matched)
