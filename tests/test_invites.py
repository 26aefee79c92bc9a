"""Invite links and .ics: every format decodes back to the right title and instants."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlparse
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from bot.scheduling.invites import Invite, ics, links

NY, BERLIN = ZoneInfo("America/New_York"), ZoneInfo("Europe/Berlin")
TRICKY = "Planning: Q1, “roadmap”; naïve café & <b>ideas</b> 🚀 + #1"
DESCRIPTION = "Agenda:\nline two, with; punctuation\nC:\\temp\\new"


def invite(start: datetime, end: datetime, **extra: object) -> Invite:
    values: dict[str, object] = {
        "uid": "4f1c2b3a-1111-2222-3333-444455556666",
        "title": TRICKY,
        "start": start,
        "end": end,
        "timezone": "Europe/Berlin",
        "description": DESCRIPTION,
        "location": "Room 4, 2nd floor",
        "created": datetime(2026, 11, 24, 15, 0, tzinfo=UTC),
    }
    values.update(extra)
    return Invite(**values)  # type: ignore[arg-type]


def query(url: str) -> dict[str, str]:
    parsed = parse_qs(urlparse(url).query, keep_blank_values=True)
    return {key: values[0] for key, values in parsed.items()}


SAMPLES = [
    # an ordinary meeting in Berlin
    (datetime(2026, 12, 1, 14, 0, tzinfo=BERLIN), datetime(2026, 12, 1, 14, 30, tzinfo=BERLIN)),
    # across New York's spring-forward gap: 01:30 EST -> 03:30 EDT is one real hour
    (datetime(2027, 3, 14, 1, 30, tzinfo=NY), datetime(2027, 3, 14, 3, 30, tzinfo=NY)),
    # across midnight
    (datetime(2026, 12, 31, 23, 30, tzinfo=BERLIN), datetime(2027, 1, 1, 0, 45, tzinfo=BERLIN)),
]


@pytest.mark.parametrize(("start", "end"), SAMPLES)
def test_google_and_outlook_links_decode_to_the_title_and_utc_instants(
    start: datetime, end: datetime
) -> None:
    urls = links(invite(start, end))
    google = query(urls["google"])
    assert google["text"] == TRICKY and google["details"] == DESCRIPTION
    g_start, g_end = google["dates"].split("/")
    assert datetime.strptime(g_start, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC) == start
    assert datetime.strptime(g_end, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC) == end
    for name, host in (("outlook", "outlook.live.com"), ("office365", "outlook.cloud.microsoft")):
        assert urlparse(urls[name]).netloc == host
        values = query(urls[name])
        assert values["subject"] == TRICKY
        assert datetime.fromisoformat(values["startdt"]) == start
        assert datetime.fromisoformat(values["enddt"]) == end
        assert values["body"] == ("Agenda:<br>line two, with; punctuation<br>C:\\temp\\new")
        assert values["rru"] == "addevent"


def test_links_never_use_plus_for_spaces_and_encode_reserved_characters() -> None:
    for url in links(invite(*SAMPLES[0])).values():
        query_text = urlparse(url).query
        assert "+" not in query_text and "#" not in query_text and " " not in query_text
        assert len(url) < 2000


@pytest.mark.parametrize(("start", "end"), SAMPLES)
def test_yahoo_gets_wall_clock_time_in_the_readers_zone(start: datetime, end: datetime) -> None:
    values = query(links(invite(start, end), reader_zone="America/New_York")["yahoo"])
    assert values["TITLE"] == TRICKY
    assert values["ST"] == start.astimezone(NY).strftime("%Y%m%dT%H%M%S")
    assert values["ET"] == end.astimezone(NY).strftime("%Y%m%dT%H%M%S")
    assert values["DESC"].endswith("Times in America/New_York.")
    no_reader = query(links(invite(start, end))["yahoo"])
    assert no_reader["ST"] == start.astimezone(BERLIN).strftime("%Y%m%dT%H%M%S")


@pytest.mark.parametrize(("start", "end"), SAMPLES)
def test_ics_round_trips_with_escaping_and_utc_times(start: datetime, end: datetime) -> None:
    text = ics(invite(start, end))
    parsed = Calendar.from_ical(text)
    [event] = parsed.walk("VEVENT")
    assert str(event["summary"]) == TRICKY
    assert str(event["description"]) == DESCRIPTION
    assert str(event["location"]) == "Room 4, 2nd floor"
    assert event.decoded("dtstart") == start and event.decoded("dtend") == end
    elapsed = end.astimezone(UTC) - start.astimezone(UTC)  # same-zone subtraction is wall-clock
    assert event.decoded("dtend") - event.decoded("dtstart") == elapsed
    assert str(event["uid"]) == "4f1c2b3a-1111-2222-3333-444455556666"
    assert str(parsed["method"]) == "PUBLISH" and str(event["status"]) == "CONFIRMED"
    assert "DTSTART:" in text and text.count("Z\r\n") >= 3  # UTC, no VTIMEZONE needed
    assert "\\, " in text and "\\;" in text and "\\n" in text
    assert Calendar.from_ical(parsed.to_ical()).to_ical() == parsed.to_ical()


def test_ics_lines_are_crlf_and_folded_at_75_octets() -> None:
    text = ics(invite(*SAMPLES[0], title="Ünïcödé " * 30))
    assert text.endswith("END:VCALENDAR\r\n")
    lines = text.split("\r\n")
    assert all(len(line.encode()) <= 75 for line in lines)
    assert "\n" not in text.replace("\r\n", "")


def test_the_same_booking_gives_the_same_bytes_and_a_cancel_bumps_the_sequence() -> None:
    first, again = ics(invite(*SAMPLES[0])), ics(invite(*SAMPLES[0]))
    assert first == again
    cancelled = Calendar.from_ical(ics(invite(*SAMPLES[0], sequence=1, cancelled=True)))
    [event] = cancelled.walk("VEVENT")
    assert (event.decoded("sequence"), str(event["status"])) == (1, "CANCELLED")


def test_calbot_invite_prints_the_same_as_the_library() -> None:
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot.cli",
            "invite",
            "--title",
            "Sync, review",
            "--start",
            "2026-12-01T14:00",
            "--end",
            "2026-12-01T14:30",
            "--tz",
            "Europe/Berlin",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert set(result["links"]) == {"google", "yahoo", "outlook", "office365"}
    assert query(result["links"]["google"])["dates"] == "20261201T130000Z/20261201T133000Z"
    [event] = Calendar.from_ical(result["ics"]).walk("VEVENT")
    assert str(event["summary"]) == "Sync, review"
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot.cli",
            "invite",
            "--title",
            "x",
            "--start",
            "2026-12-01T15:00",
            "--end",
            "2026-12-01T14:00",
            "--tz",
            "UTC",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "--end must be after --start" in bad.stderr
