"""Natural-language times for scheduling chat: parse(text, now, zone) -> ParsedTime.

Conventions (shared/reference/time_expressions.md) in short: the future wins, "next friday" is
Friday of next week unless the user chose otherwise, bare hours 1-7 are afternoons, a named zone
sets the zone of the clock time while date words follow the user's own calendar.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo

from bot.timeparse.errors import TimeParseError
from bot.timeparse.extract import Prefs, extract
from bot.timeparse.lexicon import normalize
from bot.timeparse.resolve import resolve, wall_clock
from bot.timeparse.result import ParsedTime

__all__ = ["ParsedTime", "Prefs", "TimeParseError", "parse", "wall_clock"]

DEFAULT_PREFS = Prefs()


def parse(text: str, now: datetime, zone: tzinfo | str, prefs: Prefs = DEFAULT_PREFS) -> ParsedTime:
    """Resolve `text` against `now` (aware) in the user's `zone`; raises TimeParseError."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    user_zone = ZoneInfo(zone) if isinstance(zone, str) else zone
    cleaned = normalize(text)
    local_today = now.astimezone(user_zone).date()
    return resolve(extract(cleaned, local_today, prefs), now, user_zone)
