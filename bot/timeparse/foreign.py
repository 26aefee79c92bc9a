"""dateparser as the last resort for languages we have no word table for.

Imported only here, and only when needed: it takes most of a second to load, and English
(and the tabled languages) must start fast. It reads single dates and times only; anything it
reads as a whole day while digits are left in the text is refused rather than guessed.
"""

from __future__ import annotations

import re
from datetime import datetime, time, tzinfo
from typing import Any

from bot.timeparse.errors import NOTHING_FOUND, TimeParseError
from bot.timeparse.resolve import wall_clock
from bot.timeparse.result import ParsedTime


def dateparser_reading(text: str, now: datetime, zone: tzinfo, lang: str | None) -> ParsedTime:
    """`text` read by dateparser in `lang` (None: its own detection, English excluded)."""
    from dateparser.date import DateDataParser  # slow import: see module doc

    local_now = now.astimezone(zone)
    settings: dict[str, Any] = {
        "PREFER_DATES_FROM": "future",
        "RELATIVE_BASE": local_now.replace(tzinfo=None),
        "RETURN_TIME_AS_PERIOD": True,
    }
    try:
        parser = DateDataParser(languages=[lang] if lang else None, settings=settings)
    except ValueError:
        raise TimeParseError(
            f"I can't read times in '{lang}' yet; please write it in English, e.g. 'tomorrow 3pm'."
        ) from None
    data = parser.get_date_data(text)
    found = data.date_obj
    if found is None or (lang is None and (data.locale or "en").startswith("en")):
        raise TimeParseError(NOTHING_FOUND)
    said = " ".join(text.split())
    if data.period == "time":
        start = wall_clock(found.date(), found.time().replace(second=0, microsecond=0), zone)
        return ParsedTime(start, None, None, "minute", said)
    if data.period == "day":
        day = f"{found:%a} {found.day} {found:%b} {found.year}"
        if re.search(r"\d", text):
            # dateparser drops times it cannot read ("domani alle 15" -> the whole day).
            raise TimeParseError(
                f"I understood the day ({day}) but not the rest of '{said}'. "
                "Could you write the time as 15:00, or the day on its own?"
            )
        return ParsedTime(wall_clock(found.date(), time(0), zone), None, None, "day", said)
    raise TimeParseError(f"I understood only a {data.period} in '{said}'; which day do you mean?")
