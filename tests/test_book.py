"""Booking as conversations: /book, the phrase form, /cancel, races and crashes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar

from bot.calendars.local import LocalCalendar
from bot.scheduling import booking
from bot.scheduling.booking import BOOKINGS_PER_DAY
from bot.scheduling.cards import INVITE_TYPE
from storage import SqlStore
from tests.chat import Chat, meet
from tests.fakes import Crash, CrashAfterCreate, FrozenClock

WED_9_NY = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)  # Wed 09:00 New York, 15:00 Berlin


@pytest.fixture
async def shared(store: SqlStore, chat: Chat) -> Chat:
    await meet(store, "alice", "America/New_York")
    await meet(store, "bob", "Europe/Berlin")
    await meet(store, "carol", "Asia/Tokyo", connected=False)
    await chat.say("/share @bob", sender="alice")
    return chat


async def alice_busy(store: SqlStore) -> list[tuple[datetime, datetime]]:
    busy = await store.local_busy(
        ["alice"], WED_9_NY - timedelta(days=2), WED_9_NY + timedelta(days=10)
    )
    return busy["alice"]


async def test_booking_after_a_share_echoes_both_zones_and_sends_the_invite(
    shared: Chat, store: SqlStore
) -> None:
    before = len(shared.sent)
    replies = await shared.say("/book tomorrow 3pm for 30 min about Roadmap, v2", sender="bob")
    assert replies[-1] == (
        "Booked “Roadmap, v2” with Alice: Wed 25 Nov 2026, 15:00–15:30 CET "
        "(09:00–09:30 EST for Alice). The invite is on its way."
    )
    [invite] = [m for m in shared.sent[before:] if m.type == INVITE_TYPE]
    assert (invite.receiver, invite.receiver_type, invite.on_behalf_of) == ("bob", "user", "alice")
    custom = invite.data["customData"]
    assert custom["version"] == 1
    assert custom["event"]["title"] == "Roadmap, v2"
    assert (custom["event"]["start"], custom["event"]["end"]) == (
        "2026-11-25T14:00:00Z",
        "2026-11-25T14:30:00Z",
    )
    assert custom["event"]["organizer"] == {"uid": "alice", "name": "Alice"}
    assert custom["event"]["attendee"] == {"uid": "bob", "name": "Bob"}
    assert set(custom["links"]) == {"google", "yahoo", "outlook", "office365"}
    assert custom["icsUrl"].startswith(f"https://bot.test/ics/{custom['bookingId']}.ics?t=")
    [event] = Calendar.from_ical(custom["ics"]).walk("VEVENT")
    assert str(event["uid"]) == custom["bookingId"]
    assert "Add to Google Calendar: https://calendar.google.com/" in invite.text
    assert (WED_9_NY, WED_9_NY + timedelta(minutes=30)) in await alice_busy(store)


async def test_a_taken_slot_is_refused_clearly(shared: Chat, store: SqlStore) -> None:
    await meet(store, "dan", "America/New_York")
    await shared.say("/share @dan", sender="alice")
    await shared.say("/book tomorrow 3pm", sender="bob")
    assert await shared.say("/book tomorrow 9am", sender="dan") == [
        "That slot was just taken. Pick another time in Alice's calendar."
    ]


@pytest.mark.parametrize(
    ("text", "reply"),
    [
        ("/book tomorrow 11pm", "That's outside Alice's working hours."),
        ("/book today 8am", "That time has already passed. Pick a time in the future."),
        ("/book tomorrow 3pm for 10 hours", "A meeting can be 5 minutes to 8 hours long."),
        ("/book someday", "I couldn't find a day or time in that."),
        ("/book", "When? Tell me a time, e.g. /book tomorrow 3pm for 30 min."),
        ("/book @ghost tomorrow 3pm", "I don't know @ghost yet. Check the name."),
        (
            "/book @carol tomorrow 3pm",
            "Carol hasn't shared their free time with you yet. Ask them to send /share @bob.",
        ),
    ],
)
async def test_booking_mistakes_get_actionable_replies(shared: Chat, text: str, reply: str) -> None:
    [answer] = await shared.say(text, sender="bob")
    assert answer.startswith(reply), answer


async def test_without_a_share_the_bot_asks_whose_calendar(shared: Chat) -> None:
    [answer] = await shared.say("/book tomorrow 3pm", sender="carol")
    assert answer.startswith("Whose calendar? Mention them (/book @alice tomorrow 3pm)")


async def test_nobody_can_book_a_calendar_that_was_not_shared_with_them(shared: Chat) -> None:
    # Alice shared with Bob only; Carol naming Alice must not get into her calendar.
    assert await shared.say("/book @alice tomorrow 3pm", sender="carol") == [
        "Alice hasn't shared their free time with you yet. Ask them to send /share @carol."
    ]
    assert await shared.say("/book @alice tomorrow 3pm", sender="carol", group="team") == [
        "Alice hasn't shared their free time with you in this group yet. Ask them to send "
        "/share @carol."
    ]


async def test_the_sentence_form_books_the_same_way(shared: Chat, store: SqlStore) -> None:
    replies = await shared.say("book 45m with @alice friday afternoon", sender="bob")
    # Friday afternoon is 13-17 in Bob's zone (Berlin) = 07-11 in New York: the first of it
    # inside Alice's hours (from 09:00 New York) is booked, not a refused 13:00 Berlin.
    assert replies[-1].startswith(
        "Booked “Bob / Alice” with Alice: Fri 27 Nov 2026, 15:00–15:45 CET"
    )
    replies = await shared.say("book 45m with @alice friday at 6pm", sender="bob")
    assert replies[-1].startswith(
        "Booked “Bob / Alice” with Alice: Fri 27 Nov 2026, 18:00–18:45 CET"
    )


async def test_a_length_alone_books_the_first_free_slot(shared: Chat, store: SqlStore) -> None:
    replies = await shared.say("/book 45 min", sender="bob")
    # Now is Tue 10:00 in New York; an hour's notice makes 11:00 the first free start.
    assert replies[-1].startswith(
        "Booked “Bob / Alice” with Alice: Tue 24 Nov 2026, 17:00–17:45 CET"
    )


async def test_a_day_alone_books_the_first_free_slot_that_day(
    shared: Chat, store: SqlStore
) -> None:
    await shared.say("/book tomorrow 3pm for 60 min", sender="bob")
    replies = await shared.say("/book @alice wednesday", sender="bob")
    assert "Wed 25 Nov 2026, 16:00–16:30 CET" in replies[-1]


async def test_cancel_removes_the_event_and_tells_the_other_person(
    shared: Chat, store: SqlStore
) -> None:
    await shared.say("/book tomorrow 3pm", sender="bob")
    assert (WED_9_NY, WED_9_NY + timedelta(minutes=30)) in await alice_busy(store)
    [listing] = await shared.say("/bookings", sender="alice")
    assert "“Bob / Alice” with Bob, Wed 25 Nov 2026, 09:00–09:30 EST (15:00–15:30 CET)" in listing
    replies = await shared.say("/cancel", sender="bob")
    assert replies[-1] == "Cancelled “Bob / Alice”. I told the other person."
    notice = next(m for m in shared.sent if m.receiver == "alice" and "cancelled" in m.text)
    assert notice.text.startswith("Bob cancelled “Bob / Alice” (Wed 25 Nov 2026, 09:00–09:30 EST")
    assert (WED_9_NY, WED_9_NY + timedelta(minutes=30)) not in await alice_busy(store)
    assert await shared.say("/cancel", sender="bob") == ["You have no upcoming bookings to cancel."]


async def test_cancel_asks_which_when_there_are_several(shared: Chat) -> None:
    await shared.say("/book tomorrow 3pm", sender="bob")
    await shared.say("/book tomorrow 4pm", sender="bob")
    [answer] = await shared.say("/cancel", sender="bob")
    assert answer.startswith("Which one? Send /cancel <code>:")
    code = answer.splitlines()[1].split()[1]
    assert (await shared.say(f"/cancel {code}", sender="bob"))[-1].startswith("Cancelled")
    assert (await shared.say("/cancel zzzz", sender="bob")) == [
        "No upcoming booking has the code zzzz. /bookings lists them."
    ]


async def test_twenty_concurrent_bookers_make_exactly_one_event(
    shared: Chat, store: SqlStore
) -> None:
    bookers = [f"user{i:02d}" for i in range(20)]
    for uid in bookers:
        await meet(store, uid, "America/New_York", connected=False)
    await shared.say("/share", sender="alice", group="crowd")  # any member of "crowd" may book
    before = len(await alice_busy(store))
    await asyncio.gather(
        *(shared.say("/book @alice tomorrow 9am", sender=uid, group="crowd") for uid in bookers)
    )
    await shared.services.outbox.flush()
    in_group = [m for m in shared.sent if m.receiver == "crowd"]
    booked = [m for m in in_group if m.text.startswith("Booked")]
    taken = [
        m
        for m in in_group
        if m.text == "That slot was just taken. Pick another time in Alice's calendar."
    ]
    assert len(booked) == 1 and len(taken) == 19
    assert len([m for m in in_group if m.type == INVITE_TYPE]) == 1
    assert len(await alice_busy(store)) == before + 1


async def test_a_crash_between_event_and_invite_still_delivers_exactly_one_invite(
    store: SqlStore, clock: FrozenClock
) -> None:
    await meet(store, "alice", "America/New_York")
    await meet(store, "bob", "Europe/Berlin")
    crashing = Chat(store, clock, calendar=CrashAfterCreate(LocalCalendar(store)))
    await crashing.say("/share @bob", sender="alice")
    with pytest.raises(Crash):
        await crashing.say("/book tomorrow 3pm", sender="bob")
    assert len(await alice_busy(store)) == 1  # the event exists, the invite was never queued
    assert not [m for m in crashing.sent if m.type == INVITE_TYPE]

    clock.advance(minutes=3)
    restarted = Chat(store, clock)  # a new process: fresh services, same database
    assert await booking.recover(restarted.services) == 1
    assert await booking.recover(restarted.services) == 0
    await restarted.services.outbox.flush()
    invites = [m for m in restarted.sent if m.type == INVITE_TYPE]
    assert len(invites) == 1 and invites[0].receiver == "bob"
    assert len(await alice_busy(store)) == 1
    [confirmed] = await store.upcoming_bookings("bob", clock.now())
    assert confirmed.status == "confirmed" and confirmed.event_id


async def test_one_booker_cannot_fill_someones_calendar(shared: Chat, store: SqlStore) -> None:
    for hour in range(3, 3 + BOOKINGS_PER_DAY):  # 15:00.. Berlin = 09:00.. New York
        reply = (await shared.say(f"/book tomorrow {hour}pm about Sync {hour}", sender="bob"))[-1]
        assert reply.startswith(f"Booked “Sync {hour}”"), reply
    [refusal] = await shared.say("/book tomorrow 9pm", sender="bob")
    assert refusal == (
        f"You have booked {BOOKINGS_PER_DAY} meetings with Alice in the last 24 hours, which is "
        "the most I allow. Cancel one with /cancel, or ask Alice to add more time themselves."
    )
    assert len(await alice_busy(store)) == BOOKINGS_PER_DAY
    shared.clock.advance(days=1, minutes=1)  # a day later the quota has room again
    reply = (await shared.say("/book tomorrow 3pm", sender="bob"))[-1]
    assert reply.startswith("Booked"), reply
