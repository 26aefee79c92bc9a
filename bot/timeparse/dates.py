"""Days: dates, weekdays, relative days, and day ranges ("dec 28 - jan 3", "this wed - fri")."""

from __future__ import annotations

import re
from datetime import date, timedelta

from bot.timeparse.days import (
    full_year,
    monday_of,
    next_date,
    next_day_of_month,
    valid_date,
    weekday_after,
)
from bot.timeparse.errors import TimeParseError
from bot.timeparse.lexicon import MONTH, MONTHS, NUM, ORD, WD, WEEKDAYS, YEAR, number
from bot.timeparse.scan import Found, Prefs, Scanner

_RANGE_WORD = r"(?:-|to|through|thru|until|till?)"
# A year after a date unless it is really one end of a clock range ("dec 19 2030-2130").
_YEAR_AFTER = rf"(?:\s+(?P<{{p}}y>{YEAR})(?!\s*{_RANGE_WORD}\s*\d))?"
_NOT_CLOCK = r"(?![\w/:]|\.\d|\s*(?:[ap]m\b|h\b))"


def _side(p: str) -> str:
    """One end of a day range, its groups prefixed with `p`."""
    year = _YEAR_AFTER.replace("{p}", p + "m")
    return (
        rf"(?:(?P<{p}iy>\d{{4}})[-/](?P<{p}im>\d{{1,2}})[-/](?P<{p}id>\d{{1,2}})"
        rf"|(?P<{p}sa>\d{{1,2}})/(?P<{p}sb>\d{{1,2}})(?:/(?P<{p}sy>\d{{4}}|\d{{2}}))?"
        rf"|(?P<{p}mn>{MONTH})\s+(?P<{p}md>\d{{1,2}}){ORD}?\b{year}"
        rf"|(?P<{p}the>the\s+)?(?P<{p}dd>\d{{1,2}})(?P<{p}o>{ORD})?\b"
        rf"(?:\s+(?:of\s+)?(?P<{p}dm>{MONTH})(?:\s+(?P<{p}dy>{YEAR}))?)?)"
    )


_DATE_RANGE = re.compile(
    rf"(?<![\w/:.-])(?:(?:from|between)\s+)?{_side('s')}\s*(?:{_RANGE_WORD}|and)\s*{_side('e')}"
    + _NOT_CLOCK
)
_WD_RANGE = re.compile(
    rf"\b(?:from\s+)?(?:(this\s+coming|coming|this|next)\s+)?({WD})\s*{_RANGE_WORD}\s*({WD})\b"
)
_IN_DAYS = re.compile(rf"\bin\s+(?:a\s+)?({NUM})?\s*(days?|weeks?)\b(?:\s+on\s+({WD}))?")
_FROM_NOW = re.compile(rf"\b({NUM})\s+(days?|weeks?)\s+from\s+(now|today)\b")
_WEEK_FROM = re.compile(rf"\b(?:a|one|({NUM}))\s+weeks?\s+from\s+({WD}|today|tomorrow)\b")
_WD_AFTER_NEXT = re.compile(rf"\b({WD})\s+after\s+next\b")
_WEEK = re.compile(
    r"\b(this\s+coming|coming|this|next)\s+(week|weekend|month)\b|\b(?:over\s+the\s+)?(weekend)\b"
)
_WEEKDAY_IN_WEEK = re.compile(rf"\b(?:on\s+)?(?:of\s+)?({WD})\b")
_NEXT_DAYS = re.compile(rf"\b(?:the\s+)?(?:next|coming)\s+({NUM})\s+days\b")
_ISO_DATE = re.compile(r"\b(\d{4})[-/](\d{1,2})[-/](\d{1,2})\b")
_SLASH_DATE = re.compile(r"\b(\d{1,2})/(\d{1,2})(?:/(\d{4}|\d{2}))?\b")
_MONTH_DAY = re.compile(
    rf"\b({MONTH})\s+(\d{{1,2}}){ORD}?\b(?!\s*(?:am|pm|:\d)){_YEAR_AFTER.replace('{p}', 'a')}"
)
_DAY_MONTH = re.compile(
    rf"\b(?:the\s+)?(\d{{1,2}}){ORD}?\s+(?:of\s+)?({MONTH}){_YEAR_AFTER.replace('{p}', 'b')}\b"
)
_WD_DAY_OF_MONTH = re.compile(
    rf"\b({WD})\s+(the\s+)?(\d{{1,2}})({ORD})?\b(?![:.]\d|\s*(?:[ap]m\b|-|(?:of\s+)?{MONTH}))"
)
# "the 17" without a suffix counts only after "the" (§3), and never before a unit or noun.
_DAY_OF_MONTH = re.compile(
    rf"\b(?:(?:on\s+)?(the)\s+)?(\d{{1,2}})({ORD})?\b(?![:.]\d|\s*(?:[ap]m\b|-|%)"
    r"|\s+(?:people|persons?|of\s+us|guys|times|min|mins|minutes?|hours?|hrs?|days?|weeks?)\b)"
)
_RELATIVE_DAY = re.compile(
    r"\b(?:the\s+)?(day\s+after\s+tomorrow|tomorrow|today|tonight|yesterday)\b"
)
_WEEKDAY = re.compile(rf"\b(?:(this\s+coming|coming|this|next|last)\s+)?({WD})\b")


def relative_days(scan: Scanner, found: Found, today: date) -> None:
    if match := scan.take(_IN_DAYS):
        count = int(number(match.group(1))) if match.group(1) else 1
        if match.group(3):  # "in 2 weeks on monday": that weekday of the week N weeks on
            found.day = monday_of(today) + timedelta(weeks=count, days=WEEKDAYS[match.group(3)])
        else:
            unit = 7 if match.group(2).startswith("week") else 1
            found.day = today + timedelta(days=count * unit)
    elif match := scan.take(_FROM_NOW):
        unit = 7 if match.group(2).startswith("week") else 1
        found.day = today + timedelta(days=int(number(match.group(1))) * unit)
    elif match := scan.take(_WEEK_FROM):
        weeks = int(number(match.group(1))) if match.group(1) else 1
        anchor = match.group(2)
        base = (
            today
            if anchor == "today"
            else today + timedelta(days=1)
            if anchor == "tomorrow"
            else weekday_after(today, WEEKDAYS[anchor], strictly=True)
        )
        found.day = base + timedelta(weeks=weeks)


def day_ranges(scan: Scanner, found: Found, today: date, prefs: Prefs) -> None:
    if found.day is not None:
        return
    if match := scan.take(_WD_RANGE):
        which = " ".join((match.group(1) or "").split())
        first = _weekday(today, WEEKDAYS[match.group(2)], which or None, prefs)
        last = weekday_after(first, WEEKDAYS[match.group(3)], strictly=False)
        found.day, found.day_end = first, last + timedelta(days=1)
    elif span := _date_range(scan.text, today, prefs):
        (start, end), (first, last) = span
        scan.consume(start, end)
        found.day, found.day_end = first, last + timedelta(days=1)
    elif match := scan.take(_NEXT_DAYS):
        found.day, found.day_end = today, today + timedelta(days=int(number(match.group(1))))
    elif match := scan.take(_WEEK):
        _week(scan, found, today, match)


def _week(scan: Scanner, found: Found, today: date, match: re.Match[str]) -> None:
    which = (match.group(1) or "this").split()[-1]
    unit = match.group(2) or match.group(3)
    monday = monday_of(today) + timedelta(weeks=1 if which == "next" else 0)
    if unit == "week":
        # "wednesday evening next week", "next week, maybe tuesday": the weekday wins (§4).
        if weekday := scan.take(_WEEKDAY_IN_WEEK):
            found.day = monday + timedelta(days=WEEKDAYS[weekday.group(1)])
        else:
            found.day, found.day_end = monday, monday + timedelta(weeks=1)
    elif unit == "weekend":
        found.day, found.day_end = monday + timedelta(days=5), monday + timedelta(days=7)
    else:
        first = today.replace(day=1)
        if which == "next":
            first = (first + timedelta(days=32)).replace(day=1)
        found.day, found.day_end = first, (first + timedelta(days=32)).replace(day=1)


def _date_range(
    text: str, today: date, prefs: Prefs
) -> tuple[tuple[int, int], tuple[date, date]] | None:
    for match in _DATE_RANGE.finditer(text):
        first, last = _end(match, "s", prefs), _end(match, "e", prefs)
        has_month = first[1] is not None or last[1] is not None
        both_ordinal = first[3] and last[3]
        if not (has_month or both_ordinal):
            continue
        return match.span(), _range_days(first, last, today)
    return None


_End = tuple[int | None, int | None, int, bool]  # year, month, day, written as an ordinal


def _end(match: re.Match[str], p: str, prefs: Prefs) -> _End:
    g = match.group
    if g(p + "iy"):
        return int(g(p + "iy")), int(g(p + "im")), int(g(p + "id")), True
    if g(p + "sa"):
        a, b = int(g(p + "sa")), int(g(p + "sb"))
        month, day = (a, b) if prefs.date_order == "MDY" else (b, a)
        return (full_year(g(p + "sy")) if g(p + "sy") else None), month, day, True
    if g(p + "mn"):
        named_year = int(g(p + "my")) if g(p + "my") else None
        return named_year, MONTHS[g(p + "mn").rstrip(".")], int(g(p + "md")), True
    named_month = MONTHS[g(p + "dm").rstrip(".")] if g(p + "dm") else None
    named_year = int(g(p + "dy")) if g(p + "dy") else None
    return named_year, named_month, int(g(p + "dd")), bool(g(p + "the") or g(p + "o"))


def _range_days(first: _End, last: _End, today: date) -> tuple[date, date]:
    """A month or year written once applies to both ends; an end before the start rolls on."""
    year_a, month_a, day_a, _ = first
    year_b, month_b, day_b, _ = last
    if month_a is None and month_b is None:  # "the 13th to the 15th": the coming such days
        start = next_day_of_month(today, day_a)
        month_a = month_b = start.month
        year_a = start.year
    month_a = month_a or month_b
    month_b = month_b or month_a
    assert month_a is not None and month_b is not None
    if year_a is None and year_b is not None:
        start = valid_date(year_b, month_a, day_a)  # rejects 2/29 when the shared year has none
        if (start.month, start.day) > (month_b, day_b):
            start = valid_date(year_b - 1, month_a, day_a)
    else:
        start = next_date(today, month_a, day_a, year_a)
    if year_b is not None:
        end = valid_date(year_b, month_b, day_b)
    else:
        end = next_date(start, month_b, day_b, None)
    if end < start:
        raise TimeParseError("That date range runs backwards; put the earlier day first.")
    return start, end


def dates(scan: Scanner, found: Found, today: date, prefs: Prefs) -> None:
    if found.day is not None:
        return
    if match := scan.take(_ISO_DATE):
        found.day = valid_date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    elif match := scan.take(_SLASH_DATE):
        first, second = int(match.group(1)), int(match.group(2))
        month, day = (first, second) if prefs.date_order == "MDY" else (second, first)
        year = match.group(3)
        found.day = next_date(today, month, day, full_year(year) if year else None)
    elif match := scan.take(_MONTH_DAY):
        year = int(match.group(3)) if match.group(3) else None
        found.day = next_date(today, MONTHS[match.group(1).rstrip(".")], int(match.group(2)), year)
    elif match := scan.take(_DAY_MONTH):
        year = int(match.group(3)) if match.group(3) else None
        found.day = next_date(today, MONTHS[match.group(2).rstrip(".")], int(match.group(1)), year)
    elif (match := _WD_DAY_OF_MONTH.search(scan.text)) and (match.group(2) or match.group(4)):
        scan.take(_WD_DAY_OF_MONTH)
        weekday = WEEKDAYS[match.group(1)]
        found.day = next_day_of_month(today, int(match.group(3)), weekday)
    elif span := _day_of_month(scan.text):
        scan.consume(*span.span())
        found.day = next_day_of_month(today, int(span.group(2)))
    else:
        _day_words(scan, found, today, prefs)


def _day_of_month(text: str) -> re.Match[str] | None:
    for match in _DAY_OF_MONTH.finditer(text):
        if match.group(1) or match.group(3):
            return match
    return None


def _day_words(scan: Scanner, found: Found, today: date, prefs: Prefs) -> None:
    if match := scan.take(_RELATIVE_DAY):
        word = " ".join(match.group(1).split())
        offsets = {"today": 0, "tonight": 0, "tomorrow": 1, "yesterday": -1}
        found.day = today + timedelta(days=offsets.get(word, 2))
        if word == "tonight":
            found.part, found.today_only = "tonight", True
    elif match := scan.take(_WD_AFTER_NEXT):
        found.day = monday_of(today) + timedelta(days=14 + WEEKDAYS[match.group(1)])
    elif match := scan.take(_WEEKDAY):
        found.day = _weekday(today, WEEKDAYS[match.group(2)], match.group(1), prefs)


def day_of(text: str, today: date, prefs: Prefs) -> date:
    """The day named by a short phrase that is known to be one ("monday", "jun 16")."""
    found = Found()
    dates(Scanner(text), found, today, prefs)
    assert found.day is not None, text
    return found.day


def _weekday(today: date, target: int, modifier: str | None, prefs: Prefs) -> date:
    modifier = " ".join(modifier.split()) if modifier else None
    if modifier == "this":
        return weekday_after(today, target, strictly=False)
    if modifier == "last":
        return today - timedelta(days=(today.weekday() - target - 1) % 7 + 1)
    if modifier == "next" and prefs.next_weekday == "next_week":
        return monday_of(today) + timedelta(days=7 + target)
    return weekday_after(today, target, strictly=True)
