"""Group scheduling as conversations: six people, three zones, votes, leavers, DST."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.calendars.local import LocalCalendar
from bot.scheduling.cards import INVITE_TYPE
from handlers.find import member_left
from storage import LocalEvent, SqlStore
from tests.chat import Chat, meet
from tests.fakes import CountingCalendar, FrozenClock

TEAM = [
    ("ana", "America/New_York", True),
    ("ben", "America/New_York", True),
    ("cai", "Europe/London", True),
    ("dee", "Europe/Berlin", True),
    ("sam", "Europe/Berlin", False),
    ("kim", "Europe/London", False),
]


@pytest.fixture
async def group(store: SqlStore, clock: FrozenClock) -> tuple[Chat, CountingCalendar]:
    counting = CountingCalendar(LocalCalendar(store))
    chat = Chat(store, clock, calendar=counting)
    for uid, zone, connected in TEAM:
        await meet(store, uid, zone, connected=connected)
        await chat.say("hi all", sender=uid, group="team")  # speaking makes them known members
    return chat, counting


def card(chat: Chat) -> str:
    return next(m for m in reversed(chat.sent) if m.type == "extension_calendar_poll").text


def poll_data(chat: Chat) -> dict[str, Any]:
    poll = next(m for m in reversed(chat.sent) if m.type == "extension_calendar_poll")
    return dict(poll.data["customData"])


async def test_find_proposes_times_inside_everyones_hours_with_one_batched_lookup(
    group: tuple[Chat, CountingCalendar],
) -> None:
    chat, counting = group
    await chat.say("/find 45m", sender="ana", group="team")
    text = card(chat)
    assert text.startswith("Team meeting - Ana, Ben, Cai, Dee, Kim, Sam (45 min, 6 people).")
    assert "inside everyone's working hours" in text
    lines = [line for line in text.splitlines() if line[:2] in ("1)", "2)", "3)")]
    assert len(lines) == 3
    # every option in UTC and in each participant's zone, with where everyone stands
    assert all("UTC - " in line and "New York" in line and "Berlin" in line for line in lines)
    assert all("free: Ana, Ben, Cai, Dee · to vote: Kim, Sam" in line for line in lines)
    assert "Kim, Sam: no calendar connected, so please vote by tapping." in text
    assert counting.free_busy_calls == [4]  # one call for the 4 connected calendars
    for slot in poll_data(chat)["slots"]:
        start = datetime.fromisoformat(slot["start"])
        # 09:00-17:00 in New York, London and Berlin overlap 14:00-16:00 UTC in November.
        assert start.astimezone(UTC).hour in (14, 15) and start.isoweekday() <= 5
        assert datetime.fromisoformat(slot["end"]) <= start.replace(hour=16, minute=0)


async def test_nothing_is_booked_until_every_required_member_says_yes(
    group: tuple[Chat, CountingCalendar],
    store: SqlStore,
) -> None:
    chat, _ = group
    await chat.say("/find 45m", sender="ana", group="team")
    assert not any(m.type == INVITE_TYPE for m in chat.sent)
    [_, note] = await chat.say("/vote 2 yes", sender="sam", group="team")
    assert note == "Option 2 leads; waiting for Ben, Cai, Dee, Kim."
    # a vote for the option that already leads only updates the card
    [edit] = await chat.say("/vote 2 yes", sender="dee", group="team")
    assert "yes: Dee, Sam" in edit
    for uid in ("ben", "cai"):
        replies = await chat.say("/vote 2 yes", sender=uid, group="team")
        assert all("Booked" not in r for r in replies)
    # votes that keep the same option ahead edit the card and add no message
    assert [m.edit_of for m in chat.sent[-1:]] == [f"poll:{poll_data(chat)['pollId']}"]
    replies = await chat.say("/vote 2 if need be", sender="kim", group="team")
    assert any(r.startswith("Booked option 2 for everyone:") for r in replies)
    invite = next(m for m in chat.sent if m.type == INVITE_TYPE)
    assert (invite.receiver, invite.receiver_type, invite.on_behalf_of) == ("team", "group", "ana")
    start = datetime.fromisoformat(
        invite.data["customData"]["event"]["start"].replace("Z", "+00:00")
    )
    busy = await store.local_busy(["ana"], start, start + timedelta(minutes=45))
    assert busy["ana"] == [(start, start + timedelta(minutes=45))]
    assert await chat.say("/vote 1 yes", sender="ben", group="team") == [
        "There is no open /find poll in this chat to vote on."
    ]
    for uid in ("ana", "ben", "kim"):
        [listing] = await chat.say("/bookings", sender=uid)
        assert "Team meeting - Ana, Ben, Cai, Dee, Kim, Sam" in listing, uid


async def test_one_card_per_poll_edited_in_place(group: tuple[Chat, CountingCalendar]) -> None:
    chat, _ = group
    await chat.say("/find 45m", sender="ana", group="team")
    for uid in ("sam", "ben", "cai", "dee", "kim"):
        await chat.say("/vote 2 yes", sender=uid, group="team")
    cards = [m for m in chat.sent if m.type == "extension_calendar_poll"]
    first, edits = cards[0], cards[1:]
    assert first.ref is not None and first.edit_of is None
    assert len(edits) == 5 and all(m.edit_of == first.ref and m.ref is None for m in edits)
    assert edits[-1].text.startswith("Booked: option 2.")
    texts = [m.text for m in chat.sent if m.type == "text"]
    # one short message per change of outcome: option 2 takes the lead, then it is booked
    assert len(texts) == 2 and texts[0].startswith("Option 2 leads")


async def test_auto_books_when_the_silent_members_are_free(
    group: tuple[Chat, CountingCalendar],
) -> None:
    chat, _ = group
    await chat.say("/find 45m auto", sender="ana", group="team")
    await chat.say("/vote 1 yes", sender="sam", group="team")
    replies = await chat.say("/vote 1 yes", sender="kim", group="team")
    assert any(r.startswith("Booked option 1") for r in replies)


async def test_a_no_from_a_required_member_blocks_that_option(
    group: tuple[Chat, CountingCalendar],
) -> None:
    chat, _ = group
    await chat.say("/find 45m", sender="ana", group="team")
    await chat.say("/vote 1 no", sender="kim", group="team")
    [edit, *_] = await chat.say("/vote 1 yes", sender="sam", group="team")
    assert "yes: Sam · free: Ana, Ben, Cai, Dee · no: Kim" in edit.splitlines()[1]
    assert not any(m.type == INVITE_TYPE for m in chat.sent)


async def test_optional_members_do_not_block(group: tuple[Chat, CountingCalendar]) -> None:
    chat, _ = group
    await chat.say("/find 30m with @ben @cai optional @kim auto", sender="ana", group="team")
    # auto: Ana, Ben and Cai are connected and free, so the best slot is booked right away.
    assert any(r.startswith("Booked option") for r in chat.replies)
    assert "(30 min, 4 people)" in card(chat)


async def test_a_member_who_leaves_no_longer_holds_up_the_booking(
    group: tuple[Chat, CountingCalendar],
) -> None:
    chat, _ = group
    await chat.say("/find 45m auto", sender="ana", group="team")
    await chat.say("/vote 2 yes", sender="kim", group="team")
    await member_left(chat.services, "team", "sam")
    await chat.services.outbox.flush()
    assert "Sam left the group; the poll now counts 5 people." in chat.replies
    assert chat.replies[-1].startswith("Booked option 2 for everyone")
    assert "sam" not in await chat.store.group_members("team")


async def test_with_no_common_time_the_bot_offers_compromises(
    group: tuple[Chat, CountingCalendar],
    store: SqlStore,
    clock: FrozenClock,
) -> None:
    chat, _ = group
    start = clock.now().replace(hour=0, minute=0)
    await store.add_local_event(
        LocalEvent("ben", "away00", "Away", start, start + timedelta(days=9))
    )
    await chat.say("/find 45m", sender="ana", group="team")
    text = card(chat)
    assert "No time suits everyone inside their working hours and calendars." in text
    assert all("busy: Ben" in line for line in text.splitlines() if line[:2] in ("1)", "2)", "3)"))


async def test_the_window_between_the_eu_and_us_clock_changes(
    group: tuple[Chat, CountingCalendar],
    clock: FrozenClock,
) -> None:
    chat, _ = group
    # Tue 27 Oct 2026: Europe is back on winter time, the US not until Sun 1 Nov. New York
    # 09:00-17:00 is 13:00-21:00 UTC that week, Berlin 08:00-16:00 UTC: three shared hours
    # (13-16 UTC), which shrink to two (14-16 UTC) after 1 Nov.
    clock.set(datetime(2026, 10, 27, 12, 0, tzinfo=UTC))
    await chat.say("/find 2h30m with @dee", sender="ana", group="team")
    for slot in poll_data(chat)["slots"]:
        start = datetime.fromisoformat(slot["start"]).astimezone(UTC)
        assert start < datetime(2026, 11, 1, tzinfo=UTC)
        assert (start.hour, start.minute) in ((13, 0), (13, 30))


@pytest.mark.parametrize(
    ("text", "where", "reply"),
    [
        ("/find 45m", None, "/find works in a group chat."),
        ("/find 45m with @zed", "team", "I don't know @zed yet"),
        ("/find 10 hours", "team", "A meeting can be 5 minutes to 8 hours long."),
        ("/vote 1 yes", "team", "There is no open /find poll in this chat to vote on."),
        ("/vote one please", "team", "Vote like this: /vote 2 yes (or maybe, or no)."),
    ],
)
async def test_find_and_vote_mistakes_are_explained(
    group: tuple[Chat, CountingCalendar],
    text: str,
    where: str | None,
    reply: str,
) -> None:
    chat, _ = group
    [answer] = (
        await chat.say(text, sender="ana", group=where)
        if where
        else await chat.say(text, sender="ana")
    )
    assert answer.startswith(reply), answer


async def test_the_organizer_needs_a_calendar(group: tuple[Chat, CountingCalendar]) -> None:
    chat, _ = group
    assert await chat.say("/find 45m", sender="sam", group="team") == [
        "Your calendar isn't connected yet. Send /connect to link it."
    ]
