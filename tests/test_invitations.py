"""Real invitations: when the booker's e-mail is known from their connected calendar, the
owner's calendar invites them itself, so the meeting shows natively in theirs."""

from __future__ import annotations

from collections.abc import Sequence

from bot.calendars.local import LocalCalendar
from bot.calendars.provider import Capabilities, CreatedEvent, EventDraft
from storage import SqlStore
from storage.records import Connection
from tests.chat import Chat, meet
from tests.fakes import FrozenClock, PassThrough


class InvitingCalendar(PassThrough):
    """A calendar that invites attendees itself (as Google and Graph do); records each draft."""

    def __init__(self, store: SqlStore) -> None:
        super().__init__(LocalCalendar(store))
        self.capabilities = Capabilities(
            "Inviting calendar", "oauth", invites_attendees=True, account_is_email=True
        )
        self.drafts: list[EventDraft] = []

    async def create_event(self, owner: Connection, draft: EventDraft) -> CreatedEvent:
        self.drafts.append(draft)
        return await self.inner.create_event(owner, draft)


async def book(store: SqlStore, clock: FrozenClock, bob_account: str | None) -> Sequence[str]:
    await meet(store, "alice", "America/New_York")
    await meet(store, "bob", "Europe/Berlin", connected=bob_account is not None)
    if bob_account is not None:
        await store.save_connection("bob", "local", bob_account, None)
    calendar = InvitingCalendar(store)
    chat = Chat(store, clock, calendar=calendar)
    await chat.say("/share @bob", sender="alice")
    replies = await chat.say("/book tomorrow 3pm", sender="bob")
    assert replies[-1].startswith("Booked")
    [draft] = calendar.drafts
    return draft.attendee_emails


async def test_a_booker_with_a_connected_mailbox_is_invited_by_the_owners_calendar(
    store: SqlStore, clock: FrozenClock
) -> None:
    assert await book(store, clock, "bob@example.com") == ("bob@example.com",)


async def test_a_booker_without_a_known_address_gets_the_ics_and_links_only(
    store: SqlStore, clock: FrozenClock
) -> None:
    assert await book(store, clock, None) == ()


async def test_each_participant_gets_a_yahoo_link_in_their_own_zone(
    store: SqlStore, clock: FrozenClock
) -> None:
    await meet(store, "alice", "America/New_York")
    await meet(store, "bob", "Europe/Berlin")
    chat = Chat(store, clock)
    await chat.say("/share @bob", sender="alice")
    await chat.say("/book tomorrow 3pm", sender="bob")  # 15:00 Berlin = 09:00 New York
    [invite] = [m for m in chat.sent if m.type == "extension_calendar_invite"]
    per_reader = invite.data["customData"]["yahooByReader"]
    assert "ST=20261125T150000" in per_reader["bob"]
    assert "ST=20261125T090000" in per_reader["alice"]
