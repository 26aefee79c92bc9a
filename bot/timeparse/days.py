"""Calendar arithmetic for the extractors: valid dates, next occurrences, weekdays."""

from __future__ import annotations

from datetime import date, timedelta

from bot.timeparse.errors import TimeParseError
from bot.timeparse.lexicon import MONTH_NAMES

WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# How far ahead "Sat 14th" may be before we ask instead of guessing (time_expressions.md §3).
WEEKDAY_DATE_HORIZON = 62


def show(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b} {day.year}"


def weekday_after(start: date, target: int, *, strictly: bool) -> date:
    ahead = (target - start.weekday()) % 7
    if ahead == 0 and strictly:
        ahead = 7
    return start + timedelta(days=ahead)


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def full_year(text: str) -> int:
    return int(text) + (2000 if len(text) == 2 else 0)


def valid_date(year: int, month: int, day: int) -> date:
    if not 1 <= month <= 12:
        raise TimeParseError(
            f"There is no month {month}; check the date (I read dates as "
            "month/day unless you choose /settings dates dmy)."
        )
    try:
        return date(year, month, day)
    except ValueError:
        raise TimeParseError(
            f"{MONTH_NAMES[month]} {year} has no day {day}. Check the date?"
        ) from None


def next_date(today: date, month: int, day: int, year: int | None) -> date:
    """The date itself when the year is given; else its next occurrence on or after today."""
    if year is not None:
        return valid_date(year, month, day)
    try:
        date(2028, month, day)  # a leap year: only days that no year has fail here (Feb 30)
    except ValueError:
        if not 1 <= month <= 12:
            valid_date(2028, month, day)  # raises the month message
        raise TimeParseError(f"{MONTH_NAMES[month]} has no day {day}. Check the date?") from None
    for candidate_year in range(today.year, today.year + 9):
        try:
            candidate = date(candidate_year, month, day)
        except ValueError:
            continue
        if candidate >= today:
            return candidate
    raise TimeParseError(f"I couldn't find a coming {MONTH_NAMES[month]} {day}.")


def next_day_of_month(today: date, day: int, weekday: int | None = None) -> date:
    """The next `day` of a month on or after today; with `weekday`, one that falls on it."""
    if not 1 <= day <= 31:
        raise TimeParseError(f"No month has a day {day}.")
    candidate = today
    limit = WEEKDAY_DATE_HORIZON if weekday is not None else 400
    for _ in range(limit + 1):
        if candidate.day == day and (weekday is None or candidate.weekday() == weekday):
            return candidate
        candidate += timedelta(days=1)
    assert weekday is not None  # every day of the month recurs within 400 days
    plain = next_day_of_month(today, day)
    raise TimeParseError(
        f"The {_ordinal(day)} is not a {WEEKDAY_NAMES[weekday]} in the next two months: "
        f"the coming {_ordinal(day)} is {show(plain)}. Which day did you mean?"
    )


def _ordinal(day: int) -> str:
    suffix = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"
