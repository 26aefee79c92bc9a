"""The booking page and .ics endpoint over real HTTP."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from icalendar import Calendar

from bot.config import Config
from bot.core.messages import Conversation, IncomingMessage, Sender
from bot.scheduling.cards import INVITE_TYPE
from tests.fakes import FrozenClock
from tests.site import Site, running_site

WED_9_NY = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)


def message(text: str, sender: str, to: str = "calbot", msg_id: str = "m1") -> IncomingMessage:
    return IncomingMessage(
        msg_id,
        Sender(sender, sender.capitalize()),
        Conversation("user", to),
        text,
        datetime(2026, 11, 24, 15, tzinfo=UTC),
    )


@pytest.fixture
async def site(tmp_path: Path, clock: FrozenClock) -> AsyncIterator[Site]:
    async with running_site(tmp_path, clock) as running:
        yield running


async def share_link(site: Site) -> str:
    await site.say(message("/share @bob", "alice"))
    return site.local(site.transport.sent[0].data["customData"]["bookingUrl"])


def csrf_of(page: str) -> str:
    match = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    assert match is not None
    return match.group(1)


def token_of(link: str) -> str:
    return link.split("t=", 1)[1]


async def test_opening_the_link_shows_free_times_and_books_nothing(site: Site) -> None:
    link = await share_link(site)
    response = await site.client.get(link + "&tz=Europe/Berlin")
    page = await response.text()
    assert response.status == 200
    assert "Book time with Alice" in page and "Europe/Berlin" in page
    assert 'value="2026-11-25T14:00:00+00:00"' in page  # Wed 09:00 New York is offered
    assert response.headers["X-Frame-Options"] == "DENY"
    assert await site.runtime.services.store.upcoming_bookings("alice", site.clock.now()) == []


async def test_booking_with_a_post_creates_the_event_and_the_invite(site: Site) -> None:
    link = await share_link(site)
    page = await (await site.client.get(link + "&tz=Europe/Berlin")).text()
    response = await site.client.post(
        link.split("?")[0],
        data={
            "t": token_of(link),
            "csrf": csrf_of(page),
            "start": WED_9_NY.isoformat(),
            "d": "45",
            "tz": "Europe/Berlin",
            "title": "Design <review> & more",
        },
    )
    done = await response.text()
    assert response.status == 200
    assert "Booked: “Design &lt;review&gt; &amp; more”" in done  # autoescaped
    assert "Wed 25 Nov 2026, 15:00–15:45 CET (09:00–09:45 EST)" in done
    busy = await site.runtime.services.store.local_busy(
        ["alice"], WED_9_NY, WED_9_NY + timedelta(hours=1)
    )
    assert busy["alice"] == [(WED_9_NY, WED_9_NY + timedelta(minutes=45))]
    await site.runtime.services.outbox.flush()
    [invite] = [m for m in site.transport.sent if m.type == INVITE_TYPE]
    assert (invite.receiver, invite.on_behalf_of) == ("bob", "alice")
    ics_path = site.local(re.search(r'href="([^"]+\.ics\?t=[^"]+)"', done).group(1))  # type: ignore[union-attr]
    ics_response = await site.client.get(ics_path)
    assert ics_response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert ics_response.headers["X-Content-Type-Options"] == "nosniff"
    [event] = Calendar.from_ical(await ics_response.text()).walk("VEVENT")
    assert str(event["summary"]) == "Design <review> & more"
    assert event.decoded("dtstart") == WED_9_NY


async def test_a_post_without_the_csrf_token_books_nothing(site: Site) -> None:
    link = await share_link(site)
    await site.client.get(link)
    response = await site.client.post(
        link.split("?")[0],
        data={"t": token_of(link), "csrf": "0" * 64, "start": WED_9_NY.isoformat(), "d": "30"},
    )
    assert response.status == 403
    assert "This form has expired" in await response.text()
    assert await site.runtime.services.store.upcoming_bookings("alice", site.clock.now()) == []


async def test_a_taken_slot_reshows_the_page_with_the_reason(site: Site) -> None:
    link = await share_link(site)
    page = await (await site.client.get(link)).text()
    form = {"t": token_of(link), "csrf": csrf_of(page), "start": WED_9_NY.isoformat(), "d": "30"}
    assert (await site.client.post(link.split("?")[0], data=form)).status == 200
    again = await site.client.post(link.split("?")[0], data=form)
    assert again.status == 409
    assert "That slot was just taken." in await again.text()


@pytest.mark.parametrize(
    ("mangle", "status", "text"),
    [
        (lambda link: link[:-3] + "abc", 403, "This link is not valid."),
        (lambda link: link.replace("t=", "t=x"), 403, "This link is"),
        (lambda link: link.split("?")[0] + "?t=", 403, "This link is damaged."),
    ],
)
async def test_forged_links_are_refused(site: Site, mangle: object, status: int, text: str) -> None:
    link = await share_link(site)
    response = await site.client.get(mangle(link))  # type: ignore[operator]
    assert response.status == status
    assert text in await response.text()


async def test_expired_and_revoked_links_stop_working(site: Site) -> None:
    link = await share_link(site)
    site.clock.advance(days=8)
    expired = await site.client.get(link)
    assert expired.status == 403 and "This link has expired." in await expired.text()
    site.clock.advance(days=-8)
    await site.say(message("/disconnect", "alice", msg_id="m2"))
    await site.say(message("/connect", "alice", msg_id="m3"))
    revoked = await site.client.get(link)
    assert revoked.status == 410
    assert "Alice has disconnected that calendar" in await revoked.text()


async def test_a_link_for_one_share_does_not_open_another(site: Site) -> None:
    link = await share_link(site)
    other = link.replace(link.split("/")[2].split("?")[0], "00000000-0000-0000-0000-000000000000")
    response = await site.client.get(other)
    assert response.status == 403


async def test_ics_needs_its_own_valid_token(site: Site) -> None:
    response = await site.client.get("/ics/whatever.ics?t=bad.token")
    assert response.status == 403


HOSTILE = "Pay\u202eexe.pdf\r\nATTENDEE:mailto:a@evil.test\r\n<script>alert(1)</script>\u200b"


async def test_a_hostile_title_stays_one_line_of_inert_text_everywhere(site: Site) -> None:
    link = await share_link(site)
    page = await (await site.client.get(link)).text()
    response = await site.client.post(
        link.split("?")[0],
        data={"t": token_of(link), "csrf": csrf_of(page), "start": WED_9_NY.isoformat(),
              "d": "30", "tz": "Europe", "title": HOSTILE},
    )  # fmt: skip
    done = await response.text()
    assert response.status == 200
    assert "<script>alert" not in done and "&lt;script&gt;alert(1)&lt;/script&gt;" in done
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'nonce-" in policy and "unsafe-inline" not in policy
    assert "\u202e" not in done and "\u200b" not in done
    assert "Wed 25 Nov 2026, 15:00–15:30 CET" in done  # "Europe" is no zone: Bob's own is used
    ics_path = site.local(re.search(r'href="([^"]+\.ics\?t=[^"]+)"', done).group(1))  # type: ignore[union-attr]
    ics_response = await site.client.get(ics_path)
    raw = await ics_response.text()
    assert ics_response.headers["Content-Disposition"] == 'attachment; filename="invite.ics"'
    assert not any(line.startswith("ATTENDEE:mailto:a@evil") for line in raw.split("\r\n"))
    [event] = Calendar.from_ical(raw).walk("VEVENT")
    assert str(event["summary"]) == (
        "Pay exe.pdf ATTENDEE:mailto:a@evil.test <script>alert(1)</script>"
    )
    await site.runtime.services.outbox.flush()
    [invite] = [m for m in site.transport.sent if m.type == INVITE_TYPE]
    assert invite.data["customData"]["event"]["title"] == str(event["summary"])
    google = parse_qs(urlparse(invite.data["customData"]["links"]["google"]).query)
    assert google["text"] == [str(event["summary"])]


async def test_booking_posts_from_one_address_are_throttled(site: Site) -> None:
    link = await share_link(site)
    page = await (await site.client.get(link)).text()
    form = {"t": token_of(link), "csrf": csrf_of(page), "start": "not a time"}
    limit = site.runtime.config.web.booking_posts_per_minute
    statuses = [
        (await site.client.post(link.split("?")[0], data=form)).status for _ in range(limit)
    ]
    assert statuses == [409] * limit  # each one answered: "Pick one of the free times first."
    refused = await site.client.post(
        link.split("?")[0], data={**form, "start": WED_9_NY.isoformat()}
    )
    assert refused.status == 429 and 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "Too many booking attempts" in await refused.text()
    assert await site.runtime.services.store.upcoming_bookings("alice", site.clock.now()) == []


async def test_any_form_on_a_valid_link_gets_a_page_never_a_server_error(
    tmp_path: Path, clock: FrozenClock
) -> None:
    def roomy(config: Config) -> Config:  # the fuzz is one address posting fast on purpose
        return replace(config, web=replace(config.web, booking_posts_per_minute=10_000))

    async with running_site(tmp_path, clock, configure=roomy) as site:
        await _fuzz_the_form(site)


async def _fuzz_the_form(site: Site) -> None:
    link = await share_link(site)
    page = await (await site.client.get(link)).text()
    token, csrf, path = token_of(link), csrf_of(page), link.split("?")[0]
    statuses: list[int] = []
    values = st.one_of(
        st.text(max_size=40),
        st.sampled_from(["Europe", "../etc/passwd", "x" * 5000, "9999-12-31T23:59:59+14:00",
                         "2026-11-25T14:00:00+00:00", "2026-11-25T14:00:00", "15", "-30",
                         "1e400", "NaN", "bob", "alice", "nobody"]),
    )  # fmt: skip
    forms = st.fixed_dictionaries(
        {"t": st.just(token), "csrf": st.just(csrf)},
        optional={name: values for name in ("start", "d", "tz", "title", "booker", "slot")},
    )
    examples: list[dict[str, str]] = []

    # hypothesis drives a synchronous function; the requests run on this test's loop below.
    @settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
    @given(forms)
    def collect(form: dict[str, str]) -> None:
        examples.append(form)

    collect()
    for form in examples:
        query = {k: v for k, v in form.items() if k in ("tz", "d", "slot")}
        shown = await site.client.get(path, params={"t": token, **query})
        posted = await site.client.post(path, data=form)
        statuses += [shown.status, posted.status]
        too_long = sum(len(v) for v in query.values()) > 4000  # aiohttp caps a URL at 8 KB
        assert shown.status == 200 or (too_long and shown.status == 400)
        assert posted.status in (200, 409), form
        assert "Traceback" not in await posted.text()
    assert 409 in statuses  # the fuzz reached the refusals, not only the happy path


@pytest.mark.parametrize(
    "start", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "2026-11-25T14:00:00"]
)
async def test_starts_near_year_1_or_9999_get_a_page_not_a_500(site: Site, start: str) -> None:
    link = await share_link(site)
    shown = await site.client.get(link + f"&slot={start}")
    assert shown.status == 200
    page = await shown.text()
    posted = await site.client.post(
        link.split("?")[0],
        data={"t": token_of(link), "csrf": csrf_of(page), "start": start, "d": "30"},
    )
    assert posted.status == 409
    assert "Pick one of the free times first." in await posted.text()
