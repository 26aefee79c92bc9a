"""Times of day: clock times, clock ranges (also ones whose end names its own day), parts of day."""

from __future__ import annotations

import re
from datetime import date

from bot.timeparse.dates import day_of
from bot.timeparse.days import weekday_after
from bot.timeparse.errors import TimeParseError
from bot.timeparse.lexicon import CONNECTOR, MONTH, ORD, PARTS_OF_DAY, TIME, WD, WEEKDAYS
from bot.timeparse.scan import ClockTime, Found, Prefs, Scanner

_DAY_PHRASE = (
    rf"(?:tomorrow|today|tonight|(?:this\s+|next\s+)?{WD}|{MONTH}\s+\d{{1,2}}{ORD}?"
    rf"|\d{{1,2}}{ORD}?\s+(?:of\s+)?{MONTH}|\d{{1,2}}/\d{{1,2}}(?:/\d{{4}}|/\d{{2}})?"
    r"|\d{4}[-/]\d{1,2}[-/]\d{1,2})"
)
# "from 2pm till tomorrow 4:30pm", "Jun 14 8am to Jun 16 5pm": the end carries its own day.
_END_DAY_RANGE = re.compile(
    rf"(?:\b(?:from|between)\s+)?(?:\b(?P<d1>{_DAY_PHRASE})\s+(?:at\s+)?)?(?<![\w:.])"
    rf"(?P<t1>{TIME})\s*{CONNECTOR}\s*(?P<d2>{_DAY_PHRASE})\s+(?:at\s+)?(?P<t2>{TIME})(?![\w:])"
)
_RANGE = re.compile(
    rf"(?:\b(from|between)\s+)?(?<![\w:.])({TIME})\s*(?:{CONNECTOR}|\band\b)\s*({TIME})(?![\w:])"
)
_HALF_PAST = re.compile(
    r"\b(half|quarter)\s+(past|after|to|before)\s+(\d{1,2}(?!\d)|noon|midday|midnight)"
    r"(?:\s*([ap]m))?\b"
)
_MERIDIEM = re.compile(r"(?<![\w:.])(\d{1,2})(?:[:.](\d{2}))?\s*([ap]m)\b")
_COLON = re.compile(r"(?<![\w:.])(\d{1,2}):(\d{2})\b")
_MILITARY = re.compile(r"(?<![\w:.])([01]\d|2[0-3])([0-5]\d)\b")
_NOON = re.compile(r"\b(noon|midday|midnight)\b")
_CUED = re.compile(r"\b(?:at|around|about|by|@)\s+(\d{1,3})(?:\.(\d{2}))?\b(?![:./])")
# A bare hour right after a day word is a clock time: "tmrw 3", "friday 10" (§6, revised).
_DAY_HOUR = re.compile(
    rf"\b(?:tomorrow|today|tonight|{WD})\s+(?:at\s+)?(\d{{1,2}})(?![\w:./-])"
    rf"(?!\s*(?:{CONNECTOR}|and\b|%|{ORD}\b|(?:of\s+)?{MONTH}\b|people|persons?|guys|times"
    r"|min|mins|minutes?|hours?|hrs?|days?|weeks?))"
)
_PART = re.compile(
    r"\b(this\s+)?(first\s+thing|end\s+of\s+(?:the\s+)?day|close\s+of\s+business|eod|cob"
    r"|lunchtime|lunch|morning|afternoon|evening|tonight|night)\b"
)


def day_hour(scan: Scanner, found: Found) -> None:
    """Run before the day words are consumed, which it needs to see."""
    if match := scan.take(_DAY_HOUR, group=1):
        said = match.group(0).split(None, 1)[1]  # "at 44" without the day word
        found.clock = checked(int(match.group(1)), 0, None, said)


def end_day_range(scan: Scanner, found: Found, today: date, prefs: Prefs) -> None:
    match = scan.take(_END_DAY_RANGE)
    if match is None:
        return
    if match.group("d1"):
        found.day = day_of(match.group("d1"), today, prefs)
    start_day = found.day or today
    end_words = match.group("d2").split()
    if end_words[-1] in WEEKDAYS and len(end_words) == 1:
        # "friday 10pm to monday 2am": the Monday after the start, not after today.
        found.end_day = weekday_after(start_day, WEEKDAYS[end_words[0]], strictly=False)
    else:
        found.end_day = day_of(match.group("d2"), today, prefs)
    if found.end_day < start_day:
        raise TimeParseError("That range ends before it starts; put the earlier day first.")
    found.clock, found.clock_end = clock_word(match.group("t1")), clock_word(match.group("t2"))


def clock(scan: Scanner, found: Found) -> None:
    if found.clock is None:
        _single_clock(scan, found)
    # Whatever still looks like a clock time must at least be a valid one ("25:00", "13pm")...
    leftover = None
    # Collapsed spans were blanked out: a pattern must not bridge them ("at 3pm, 2 people").
    rest = re.sub(r"\s{2,}", " ; ", scan.text)
    if bad := _MERIDIEM.search(rest):
        leftover = checked(int(bad.group(1)), int(bad.group(2) or 0), bad.group(3), bad.group(0))
    elif bad := _COLON.search(rest):
        leftover = checked(int(bad.group(1)), int(bad.group(2)), None, bad.group(0))
    elif bad := _CUED.search(rest):
        leftover = checked(int(bad.group(1)), 0, None, bad.group(0))
    # ...and one we did not use means we would be guessing which time was meant.
    if leftover is not None and bad is not None:
        raise TimeParseError(
            f"I read one time but you also wrote '{bad.group(0).strip()}'. "
            "Which time did you mean? Say just one, or a range like 3-4pm."
        )


def _single_clock(scan: Scanner, found: Found) -> None:
    span = _RANGE.search(scan.text)
    if span is not None and not _is_time_range(span, found):
        span = None
    if span and (span.group(1) == "between" or "and" not in span.group(0).split()):
        scan.take(_RANGE)
        found.clock, found.clock_end = clock_word(span.group(2)), clock_word(span.group(3))
        found.midnight = span.group(2).strip() == "midnight"
        return
    if match := scan.take(_HALF_PAST):
        found.clock = _half_past(match)
    elif match := scan.take(_MERIDIEM):
        found.clock = checked(
            int(match.group(1)), int(match.group(2) or 0), match.group(3), match.group(0)
        )
    elif match := scan.take(_COLON):
        hour = match.group(1)
        literal = hour.startswith("0") or int(hour) > 12
        found.clock = checked(int(hour), int(match.group(2)), None, match.group(0), literal=literal)
    elif match := scan.take(_MILITARY):
        found.clock = checked(
            int(match.group(1)), int(match.group(2)), None, match.group(0), literal=True
        )
    elif match := scan.take(_NOON):
        found.clock = clock_word(match.group(1))
        found.midnight = match.group(1) == "midnight"
    elif match := scan.take(_CUED):
        found.clock = checked(int(match.group(1)), int(match.group(2) or 0), None, match.group(0))


def _is_time_range(span: re.Match[str], found: Found) -> bool:
    """'2-3 people' is not a time: bare numbers need a day or from/between beside them."""
    ends = (span.group(2).strip(), span.group(3).strip())
    bare = all(re.fullmatch(r"\d{1,2}", end) for end in ends)
    cued = span.group(1) is not None or found.day is not None or _PART.search(span.string)
    return not bare or bool(cued)


def _half_past(match: re.Match[str]) -> ClockTime:
    offset = {"half": 30, "quarter": 15}[match.group(1)]
    if match.group(2) in ("to", "before"):
        offset = -offset
    word = match.group(3)
    if not word.isdigit():
        base = clock_word(word)
        return ClockTime(base.hour, 0, None, literal=True, offset=offset)
    hour = int(word)
    if not 1 <= hour <= 12:
        raise TimeParseError(f"'{match.group(0)}' isn't a time on a clock.")
    return ClockTime(hour, 0, match.group(4), literal=False, offset=offset)


def clock_word(text: str) -> ClockTime:
    text = text.strip()
    if text in ("noon", "midday"):
        return ClockTime(12, 0, None, literal=True)
    if text == "midnight":
        return ClockTime(0, 0, None, literal=True)
    if military := re.fullmatch(r"(\d\d)(\d\d)", text):
        return checked(int(military.group(1)), int(military.group(2)), None, text, literal=True)
    match = re.fullmatch(r"(\d{1,2})(?:[:.](\d{2}))?\s*([ap]m)?", text)
    assert match is not None, text
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    literal = match.group(2) is not None and (match.group(1).startswith("0") or hour > 12)
    return checked(hour, minute, match.group(3), text, literal=literal)


def checked(
    hour: int, minute: int, meridiem: str | None, text: str, *, literal: bool = False
) -> ClockTime:
    valid = minute < 60 and (1 <= hour <= 12 if meridiem else 0 <= hour <= 23)
    if not valid:
        raise TimeParseError(
            f"'{text.strip()}' isn't a time on a clock. Use 24-hour times up to 23:59, "
            "or 1-12 with am/pm."
        )
    return ClockTime(hour, minute, meridiem, literal or hour == 0 or hour > 12)


def parts(scan: Scanner, found: Found) -> None:
    if match := scan.take(_PART):
        word = " ".join(match.group(2).split())
        found.part = "end of day" if word.startswith(("end of", "close of")) else word
        if match.group(1) or word == "tonight":
            found.today_only = True
    if found.part is not None and found.part not in PARTS_OF_DAY:
        found.part = None
