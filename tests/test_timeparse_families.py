"""The phrasing families of issue 18, on examples of our own (not the dev sets), refusals too."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from bot.timeparse import ParsedTime, TimeParseError, parse

NY = "America/New_York"
TUE = "2026-11-24T10:00:00-05:00"  # Tuesday 10:00 in New York
HERE = Path(__file__).resolve().parent
EVAL_DIR = HERE.parents[1] / "shared" / "eval"


def at(text: str, tz: str = NY, lang: str | None = None, now: str = TUE) -> ParsedTime:
    return parse(text, datetime.fromisoformat(now), tz, lang=lang)


def span(text: str, tz: str = NY, lang: str | None = None) -> tuple[str, str | None]:
    result = at(text, tz, lang)
    assert result.start is not None
    return result.start.isoformat(), result.end.isoformat() if result.end else None


def days(text: str) -> tuple[str, str]:
    result = at(text)
    assert result.granularity == "day" and result.start is not None and result.end is not None
    return result.start.date().isoformat(), result.end.date().isoformat()


def refused(text: str, tz: str = NY, lang: str | None = None) -> str:
    with pytest.raises(TimeParseError) as refusal:
        at(text, tz, lang)
    return refusal.value.text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Aug 8 - Aug 12", ("2027-08-08", "2027-08-13")),
        ("from the 13th to the 15th of July", ("2027-07-13", "2027-07-16")),
        ("23rd to 26th Oct", ("2027-10-23", "2027-10-27")),
        ("away 12 to 16 september", ("2027-09-12", "2027-09-17")),
        ("from 08/05 to 08/16", ("2027-08-05", "2027-08-17")),
        ("2027/08/05 - 2027/08/16", ("2027-08-05", "2027-08-17")),
        ("dec 28 - jan 3", ("2026-12-28", "2027-01-04")),
        ("6/30-7/2/2027", ("2027-06-30", "2027-07-03")),
        ("this tuesday - friday", ("2026-11-24", "2026-11-28")),  # said on a Tuesday
        ("wednesday through friday", ("2026-11-25", "2026-11-28")),
        ("this week-end", ("2026-11-28", "2026-11-30")),
    ],
)
def test_day_ranges_with_months_on_one_or_both_ends(text: str, expected: tuple[str, str]) -> None:
    assert days(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2/29-3/1/2027", "February 2027 has no day 29"),
        ("4/30-4/31/2027", "April 2027 has no day 31"),
    ],
)
def test_an_impossible_date_in_a_range_rejects_the_range(text: str, message: str) -> None:
    assert message in refused(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "from 2pm till tomorrow 4:30pm",
            ("2026-11-24T14:00:00-05:00", "2026-11-25T16:30:00-05:00"),
        ),
        ("from 3pm till monday 11am", ("2026-11-24T15:00:00-05:00", "2026-11-30T11:00:00-05:00")),
        ("Dec 10 9am to Dec 11 1pm", ("2026-12-10T09:00:00-05:00", "2026-12-11T13:00:00-05:00")),
        ("wed 1 til 3", ("2026-11-25T13:00:00-05:00", "2026-11-25T15:00:00-05:00")),
        ("thu 9am 'til 11", ("2026-11-26T09:00:00-05:00", "2026-11-26T11:00:00-05:00")),
        ("sat 2pm through 4pm", ("2026-11-28T14:00:00-05:00", "2026-11-28T16:00:00-05:00")),
        ("fri 10 thru 11:30", ("2026-11-27T10:00:00-05:00", "2026-11-27T11:30:00-05:00")),
        ("23:30 - 3:35", ("2026-11-24T23:30:00-05:00", "2026-11-25T03:35:00-05:00")),
        ("14:00 - 3", ("2026-11-24T14:00:00-05:00", "2026-11-24T15:00:00-05:00")),
        ("10 - 11 at night", ("2026-11-24T22:00:00-05:00", "2026-11-24T23:00:00-05:00")),
        ("7 jan 1315-1400", ("2027-01-07T13:15:00-05:00", "2027-01-07T14:00:00-05:00")),
    ],
)
def test_clock_ranges_connectors_and_ends_with_their_own_day(
    text: str, expected: tuple[str, str]
) -> None:
    assert span(text) == expected


def test_four_digits_after_a_date_stay_a_year_when_they_can_be_one() -> None:
    assert at("Jan 7 2028").start == datetime.fromisoformat("2028-01-07T00:00:00-05:00")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("quarter past 3pm", "2026-11-24T15:15:00-05:00"),
        ("a quarter past noon", "2026-11-24T12:15:00-05:00"),
        ("quarter to noon", "2026-11-24T11:45:00-05:00"),
        ("tomorrow at quarter to 8", "2026-11-25T07:45:00-05:00"),  # 8 -> morning, then -15
        ("in a quarter of an hour", "2026-11-24T10:15:00-05:00"),
        ("in about half an hour", "2026-11-24T10:30:00-05:00"),
        ("12 hours from now", "2026-11-24T22:00:00-05:00"),
        ("20 min later?", "2026-11-24T10:20:00-05:00"),
        ("can we start in 15", "2026-11-24T10:15:00-05:00"),
        ("9p", "2026-11-24T21:00:00-05:00"),
        ("8:45a", "2026-11-25T08:45:00-05:00"),
        ("3p PT", "2026-11-24T18:00:00-05:00"),
        ("on Sat at 5.", "2026-11-28T17:00:00-05:00"),
        ("tmrw 3", "2026-11-25T15:00:00-05:00"),
        ("friday 10", "2026-11-27T10:00:00-05:00"),
        ("monday 9", "2026-11-30T09:00:00-05:00"),
        ("today 4:30", "2026-11-24T16:30:00-05:00"),
        ("tomorrow 3pm Singapore time", "2026-11-25T02:00:00-05:00"),
        ("tomorrow 9am ho chi minh time", "2026-11-24T21:00:00-05:00"),
        ("Sat 28th", "2026-11-28T00:00:00-05:00"),
        ("Thursday the 3rd at 2pm", "2026-12-03T14:00:00-05:00"),
        ("is the 15 ok", "2026-12-15T00:00:00-05:00"),
        ("wednesday evening next week", "2026-12-02T18:00:00-05:00"),
        ("next week, how about on Wednesday?", "2026-12-02T00:00:00-05:00"),
    ],
)
def test_start_times(text: str, expected: str) -> None:
    result = at(text)
    assert result.start is not None and result.start.isoformat() == expected


def test_offsets_are_starts_and_bare_durations_are_lengths() -> None:
    assert (at("in ½ an hour").start, at("½ hour").duration_minutes) == (
        datetime.fromisoformat("2026-11-24T10:30:00-05:00"),
        30,
    )
    assert at("½ hour").start is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Monday the 3rd", "The 3rd is not a Monday in the next two months"),
        ("Monday Dec 3", "You wrote Monday, but I read the day as Thu 3 Dec 2026"),
        ("monday or tuesday", "You wrote Tuesday"),
        ("3pm or 4pm tomorrow", "you also wrote '4pm'"),
        ("friday 10 at 3pm", "you also wrote '3pm'"),
        ("friday 25", "'25' isn't a time on a clock"),
        ("we'll be 3-4 people", "I couldn't find a day or time"),
    ],
)
def test_partly_understood_text_is_a_question_not_a_guess(text: str, message: str) -> None:
    assert message in refused(text)


def test_the_words_read_are_reported_for_echoing() -> None:
    assert at("/book tmrw 3 with @sam").matched == "tomorrow 3"
    assert at("book 30 min with @alice friday afternoon").matched == "30 min friday afternoon"


def test_parts_of_day_and_whole_days_are_windows_clock_times_are_not() -> None:
    afternoon = at("book 30 min with @alice friday afternoon")
    assert afternoon.part_of_day == "afternoon" and afternoon.window is not None
    assert [moment.isoformat() for moment in afternoon.window] == [
        "2026-11-27T13:00:00-05:00",
        "2026-11-27T17:00:00-05:00",
    ]
    tomorrow = at("tomorrow")
    assert tomorrow.window is not None
    assert [moment.isoformat() for moment in tomorrow.window] == [
        "2026-11-25T00:00:00-05:00",
        "2026-11-26T00:00:00-05:00",
    ]
    assert at("friday afternoon at 2").window is None
    assert at("tmrw 3").window is None


@pytest.mark.parametrize(
    ("text", "tz", "lang", "expected"),
    [
        ("mañana a las 4", "Europe/Madrid", "es", ("2026-11-25T16:00:00+01:00", None)),
        ("el jueves de 9 a 11", "Europe/Madrid", None, ("2026-11-26T09:00:00+01:00", "11:00")),
        ("mercredi à 11h15", "Europe/Paris", None, ("2026-11-25T11:15:00+01:00", None)),
        ("du 7 au 9 janvier", "Europe/Paris", "fr", ("2027-01-07T00:00:00+01:00", "2027-01-10")),
        ("Samstag um 10 für 2 Std", "Europe/Berlin", None, ("2026-11-28T10:00:00+01:00", "12:00")),
        ("quarta às 16h30", "America/Sao_Paulo", "pt-BR", ("2026-11-25T16:30:00-03:00", None)),
        ("土曜日の午後2時から4時", "Asia/Tokyo", None, ("2026-11-28T14:00:00+09:00", "16:00")),
    ],
)  # fmt: skip
def test_other_languages(
    text: str, tz: str, lang: str | None, expected: tuple[str, str | None]
) -> None:
    """`expected` is the start and the end's clock time (or date, for day ranges)."""
    start, end = span(text, tz, lang)
    assert start == expected[0]
    if expected[1] is None:
        assert end is None
    else:
        assert end is not None and expected[1] in end


@pytest.mark.parametrize(
    ("text", "tz", "lang", "message"),
    [
        ("morgen um 25 Uhr", "Europe/Berlin", None, "'25:00' isn't a time on a clock"),
        ("el 31 de abril", "Europe/Madrid", "es", "April has no day 31"),
        ("明日の26時", "Asia/Tokyo", None, "'26:00' isn't a time on a clock"),
    ],
)
def test_other_languages_refuse_impossible_times(
    text: str, tz: str, lang: str | None, message: str
) -> None:
    assert message in refused(text, tz, lang)


def test_english_is_not_mistaken_for_another_language() -> None:
    assert at("monday 10am for 1h30").duration_minutes == 90
    assert at("monday 10am for 1h30", lang="en-US").duration_minutes == 90


def test_languages_without_a_table_fall_back_to_dateparser() -> None:
    result = at("giovedì", "Europe/Rome", "it")
    assert (result.start, result.granularity) == (
        datetime.fromisoformat("2026-11-26T00:00:00+01:00"),
        "day",
    )
    # A whole day read while digits are left over is a question, not a guess.
    assert "I understood the day" in refused("domani alle 15", "Europe/Rome", "it")


@pytest.mark.skipif(not EVAL_DIR.exists(), reason="../shared/eval is not beside this checkout")
def test_multilingual_set_scores_at_least_95_percent_with_nothing_confidently_wrong() -> None:
    script = Path(sys.executable).with_name("calbot")
    run = subprocess.run(
        [
            sys.executable,
            str(EVAL_DIR / "check_time_expressions.py"),
            str(script),
            str(HERE / "time_expressions_multilingual.jsonl"),
            "--min",
            "95",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    summary = run.stdout.strip().splitlines()[-1]
    assert run.returncode == 0, summary
    assert summary.endswith("confidently wrong 0"), summary
