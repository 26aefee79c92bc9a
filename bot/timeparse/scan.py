"""What the extractors share: the text being consumed, and the parts found in it so far."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta, tzinfo


@dataclass(frozen=True, slots=True)
class ClockTime:
    hour: int
    minute: int
    meridiem: str | None  # "am", "pm", or None when not said
    literal: bool  # 24-hour reading is certain (14:00, 08:15, 0900, noon)
    offset: int = 0  # minutes added after the hour is placed: "quarter to 5" is 5 - 15


@dataclass(frozen=True, slots=True)
class Prefs:
    date_order: str = "MDY"
    next_weekday: str = "next_week"


@dataclass(slots=True)
class Found:
    zone: tzinfo | None = None
    elapsed: timedelta | None = None
    day: date | None = None
    day_end: date | None = None  # exclusive end of a day range
    end_day: date | None = None  # the day of clock_end when the range's end names its own day
    clock: ClockTime | None = None
    clock_end: ClockTime | None = None
    part: str | None = None
    midnight: bool = False
    duration: timedelta | None = None
    today_only: bool = False  # "tonight", "this evening": never rolls to tomorrow


@dataclass(slots=True)
class Scanner:
    """Cleaned text with understood spans blanked out, so looser patterns cannot re-read them."""

    text: str
    original: str = ""
    spans: list[tuple[int, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.text = f" {self.text} "
        self.original = self.text

    def take(self, pattern: re.Pattern[str], group: int = 0) -> re.Match[str] | None:
        match = pattern.search(self.text)
        if match:
            self.consume(*match.span(group))
        return match

    def consume(self, start: int, end: int) -> None:
        self.text = self.text[:start] + " " * (end - start) + self.text[end:]
        self.spans.append((start, end))

    def matched(self) -> str:
        """The cleaned words that were read, in their order in the text."""
        return " ".join(" ".join(self.original[a:b].split()) for a, b in sorted(self.spans))
