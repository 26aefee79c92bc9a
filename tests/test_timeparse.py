"""The time grammar, category by category, on expressions of our own (not the dev set)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.timeparse import ParsedTime, Prefs, TimeParseError, parse

NY = "America/New_York"
BERLIN = "Europe/Berlin"
TUE = "2026-11-24T10:00:00-05:00"  # Tuesday 10:00 in New York
DEFAULT = Prefs()


def at(text: str, now: str = TUE, tz: str = NY, prefs: Prefs = DEFAULT) -> ParsedTime:
    return parse(text, datetime.fromisoformat(now), tz, prefs)


def start(text: str, now: str = TUE, tz: str = NY, prefs: Prefs = DEFAULT) -> str:
    result = at(text, now, tz, prefs)
    assert result.start is not None
    return result.start.isoformat()


def span(text: str, now: str = TUE, tz: str = NY) -> tuple[str, str]:
    result = at(text, now, tz)
    assert result.start is not None and result.end is not None
    return result.start.isoformat(), result.end.isoformat()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-24 09:15", "2026-12-24T09:15:00-05:00"),
        ("December 24th at 5pm", "2026-12-24T17:00:00-05:00"),
        ("24 dec 17:30", "2026-12-24T17:30:00-05:00"),
        ("the 24th of december at noon", "2026-12-24T12:00:00-05:00"),
        ("12/24 8am", "2026-12-24T08:00:00-05:00"),
        ("Mar 5 at 10", "2027-03-05T10:00:00-05:00"),  # past this year -> next year
        ("wednesday december 2nd at 3", "2026-12-02T15:00:00-05:00"),
        ("on the 1st at 9am", "2026-12-01T09:00:00-05:00"),
    ],
)
def test_absolute_dates(text: str, expected: str) -> None:
    assert start(text) == expected


def test_date_order_is_a_user_setting() -> None:
    assert start("05/03 10am") == "2027-05-03T10:00:00-04:00"
    assert start("05/03 10am", prefs=Prefs(date_order="DMY")) == "2027-03-05T10:00:00-05:00"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("saturday 11am", "2026-11-28T11:00:00-05:00"),
        ("this thursday at 2pm", "2026-11-26T14:00:00-05:00"),
        ("next saturday 10am", "2026-12-05T10:00:00-05:00"),
        ("next tuesday 9am", "2026-12-01T09:00:00-05:00"),  # today's weekday: next week
        ("thursday of next week at 3pm", "2026-12-03T15:00:00-05:00"),
        ("friday after next", "2026-12-11T00:00:00-05:00"),
        ("2 weeks from today", "2026-12-08T00:00:00-05:00"),
        ("frdiay 3pm", "2026-11-27T15:00:00-05:00"),
    ],
)
def test_weekdays(text: str, expected: str) -> None:
    assert start(text) == expected


def test_next_weekday_reading_is_a_user_setting() -> None:
    first_after = Prefs(next_weekday="first_after")
    assert start("next saturday") == "2026-12-05T00:00:00-05:00"
    assert start("next saturday", prefs=first_after) == "2026-11-28T00:00:00-05:00"
    # The two readings agree for days at or before today in the Mon-Sun week.
    assert start("next monday", prefs=first_after) == start("next monday")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("in 45 minutes", "2026-11-24T10:45:00-05:00"),
        ("in 2.5 hours", "2026-11-24T12:30:00-05:00"),
        ("in five days", "2026-11-29T00:00:00-05:00"),
        ("three days from now at 4pm", "2026-11-27T16:00:00-05:00"),
        ("in 2 days at 3pm", "2026-11-26T15:00:00-05:00"),
        ("at five", "2026-11-24T17:00:00-05:00"),
        ("half past twelve", "2026-11-24T12:30:00-05:00"),
        ("quarter past 10", "2026-11-24T10:15:00-05:00"),  # still ahead at 10:00
        ("3 o'clock tomorrow", "2026-11-25T15:00:00-05:00"),
        ("tomorrow at 10.30", "2026-11-25T10:30:00-05:00"),
        ("tonight at 9", "2026-11-24T21:00:00-05:00"),
        ("friday evening", "2026-11-27T18:00:00-05:00"),
        ("saturday at midnight", "2026-11-29T00:00:00-05:00"),
    ],
)
def test_relative_clock_and_parts_of_day(text: str, expected: str) -> None:
    assert start(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tomorrow 9-11:30", ("2026-11-25T09:00:00-05:00", "2026-11-25T11:30:00-05:00")),
        ("fri 3-5:30", ("2026-11-27T15:00:00-05:00", "2026-11-27T17:30:00-05:00")),
        ("10:30am-12pm friday", ("2026-11-27T10:30:00-05:00", "2026-11-27T12:00:00-05:00")),
        (
            "between 10am and noon tomorrow",
            ("2026-11-25T10:00:00-05:00", "2026-11-25T12:00:00-05:00"),
        ),
        ("sat 11pm-2am", ("2026-11-28T23:00:00-05:00", "2026-11-29T02:00:00-05:00")),
        ("a 1-hour call thursday 2pm", ("2026-11-26T14:00:00-05:00", "2026-11-26T15:00:00-05:00")),
        ("5 min check-in at 4", ("2026-11-24T16:00:00-05:00", "2026-11-24T16:05:00-05:00")),
        ("mon-wed", ("2026-11-30T00:00:00-05:00", "2026-12-03T00:00:00-05:00")),
        ("next weekend", ("2026-12-05T00:00:00-05:00", "2026-12-07T00:00:00-05:00")),
        ("next 3 days", ("2026-11-24T00:00:00-05:00", "2026-11-27T00:00:00-05:00")),
    ],
)
def test_ranges_and_durations(text: str, expected: tuple[str, str]) -> None:
    assert span(text) == expected


def test_duration_only_leaves_the_start_to_the_bot() -> None:
    result = at("/book a 25 min call with @sam")
    assert (result.start, result.end, result.duration_minutes, result.granularity) == (
        None,
        None,
        25,
        None,
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tomorrow 3pm london time", "2026-11-25T10:00:00-05:00"),
        ("9am Berlin time tomorrow", "2026-11-25T03:00:00-05:00"),
        ("friday 11am IST", "2026-11-27T00:30:00-05:00"),
        ("tomorrow 10am CEST", "2026-11-25T04:00:00-05:00"),  # CEST means Berlin's clock
        ("tomorrow 8:00 UTC-3", "2026-11-25T06:00:00-05:00"),
        ("tomorrow 8:00 -0300", "2026-11-25T06:00:00-05:00"),
        ("noon pacific tomorrow", "2026-11-25T15:00:00-05:00"),
        ("tomorrow 9am Asia/Kolkata", "2026-11-24T22:30:00-05:00"),
    ],
)
def test_named_zones_set_the_clock_but_dates_follow_the_user(text: str, expected: str) -> None:
    assert start(text) == expected


def test_unknown_iana_zone_is_refused() -> None:
    with pytest.raises(TimeParseError, match=r"(?i)europe/atlantis"):
        at("tomorrow 3pm europe/atlantis")


@pytest.mark.parametrize(
    ("text", "now", "tz", "expected"),
    [
        # New York springs forward on Sun 14 Mar 2027: 02:00-03:00 does not exist.
        ("tomorrow 2:15am", "2027-03-13T12:00:00-05:00", NY, "2027-03-14T03:15:00-04:00"),
        ("sunday 1:59am", "2027-03-12T09:00:00-05:00", NY, "2027-03-14T01:59:00-05:00"),
        ("in 36 hours", "2027-03-13T12:00:00-05:00", NY, "2027-03-15T01:00:00-04:00"),
        ("tuesday 9am", "2027-03-12T09:00:00-05:00", NY, "2027-03-16T09:00:00-04:00"),
        # ...and falls back on Sun 7 Nov 2027: 01:00-02:00 happens twice; the first one wins.
        ("sunday 1:15am", "2027-11-05T12:00:00-04:00", NY, "2027-11-07T01:15:00-04:00"),
        ("in 30 hours", "2027-11-06T12:00:00-04:00", NY, "2027-11-07T17:00:00-05:00"),
        # Berlin springs forward on Sun 28 Mar 2027 (02:00 -> 03:00), back on Sun 31 Oct 2027.
        ("sunday 02:30", "2027-03-26T11:00:00+01:00", BERLIN, "2027-03-28T03:30:00+02:00"),
        ("sunday 2:45am", "2027-10-29T09:00:00+02:00", BERLIN, "2027-10-31T02:45:00+02:00"),
        ("tomorrow 9:00", "2027-10-30T09:00:00+02:00", BERLIN, "2027-10-31T09:00:00+01:00"),
    ],
)
def test_dst_transitions(text: str, now: str, tz: str, expected: str) -> None:
    assert start(text, now, tz) == expected


def test_a_range_across_the_spring_gap_is_shorter_in_elapsed_time() -> None:
    result = at("saturday 11pm-4am", "2027-03-12T09:00:00-05:00", NY)
    assert result.duration_minutes == 4 * 60  # 23:00 EST -> 04:00 EDT is 4 real hours


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("jan 2", "2027-01-02T00:00:00-08:00"),
        ("1/2 at 9", "2027-01-02T09:00:00-08:00"),
        ("new year's eve? dec 31 at 11pm", "2026-12-31T23:00:00-08:00"),
        ("monday", "2027-01-04T00:00:00-08:00"),
        ("in 10 days", "2027-01-08T00:00:00-08:00"),
        ("this week", "2026-12-28T00:00:00-08:00"),
    ],
)
def test_year_rollover(text: str, expected: str) -> None:
    assert start(text, "2026-12-29T15:00:00-08:00", "America/Los_Angeles") == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("feb 30", "February has no day 30"),
        ("Feb 29 2027 3pm", "February 2027 has no day 29"),
        ("2027-02-29", "February 2027 has no day 29"),
        ("june 31st at 10", "June has no day 31"),
        ("13/05", "There is no month 13"),
        ("the 32nd", "No month has a day 32"),
        ("tomorrow at 13pm", "'13pm' isn't a time on a clock"),
        ("0am", "'0am' isn't a time on a clock"),
        ("friday 24:30", "'24:30' isn't a time on a clock"),
        ("at 7:61", "'7:61' isn't a time on a clock"),
        ("monday at 44", "'at 44' isn't a time on a clock"),
        ("next flurbday at 3", "I don't know which day 'flurbday' is"),
        ("qwerty uiop", "I couldn't find a day or time in that"),
        ("whenever suits", "I couldn't find a day or time in that"),
        ("2-3 people", "I couldn't find a day or time in that"),
        ("room 4 please", "I couldn't find a day or time in that"),
    ],
)
def test_refusals_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(TimeParseError) as refusal:
        at(text)
    assert message in refusal.value.text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/book tomorrow 3pm for 30 min", "Wed 25 Nov 2026, 15:00–15:30 EST"),
        ("sat 11pm-2am", "Sat 28 Nov 2026, 23:00 – Sun 29 Nov 02:00 EST"),
        ("dec 3", "Thu 3 Dec 2026 (whole day)"),
        ("next week", "Mon 30 Nov – Sun 6 Dec 2026"),
        ("45 min", "45 min, at a time still to be found"),
    ],
)
def test_results_are_described_for_echoing_back(text: str, expected: str) -> None:
    assert at(text).describe() == expected


def test_description_in_another_persons_zone() -> None:
    result = at("tomorrow 3pm for 30 min")
    assert result.describe(ZoneInfo(BERLIN)) == ("Wed 25 Nov 2026, 21:00–21:30 CET")
