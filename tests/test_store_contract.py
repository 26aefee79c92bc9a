"""One contract for every Store: SQLite always, PostgreSQL when CALBOT_TEST_POSTGRES_URL is set."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from storage import (
    BookerQuota,
    LocalEvent,
    NewBooking,
    NewShare,
    QuotaReached,
    SlotTaken,
    SqlStore,
    WorkingHours,
    row_cache,
)

LEASE = timedelta(seconds=60)
T0 = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


async def test_users_are_created_once_and_keep_their_settings(any_store: SqlStore) -> None:
    first = await any_store.ensure_user("alice", "Alice", "America/New_York")
    assert first.timezone == "America/New_York"
    assert first.working_hours == WorkingHours()
    await any_store.update_user(
        "alice",
        timezone="Europe/Berlin",
        working_hours=WorkingHours(480, 960, (1, 2, 3)),
        date_order="DMY",
        next_weekday="first_after",
    )
    again = await any_store.ensure_user("alice", "Alice Smith", "UTC")
    assert again.timezone == "Europe/Berlin"
    assert again.name == "Alice Smith"
    assert again.working_hours == WorkingHours(480, 960, (1, 2, 3))
    assert (again.date_order, again.next_weekday) == ("DMY", "first_after")
    assert await any_store.get_user("nobody") is None


async def test_update_of_unknown_user_raises(any_store: SqlStore) -> None:
    with pytest.raises(KeyError):
        await any_store.update_user("ghost", timezone="UTC")


async def test_connection_generation_grows_across_disconnects(any_store: SqlStore) -> None:
    first = await any_store.save_connection("bob", "google", "bob@example.com", b"secret")
    assert (first.generation, first.status, first.token) == (1, "active", b"secret")
    assert first.connected_at.tzinfo is not None
    await any_store.set_connection_status("bob", "needs_reconnect")
    got = await any_store.get_connection("bob")
    assert got is not None and got.status == "needs_reconnect"
    assert await any_store.delete_connection("bob") is True
    assert await any_store.delete_connection("bob") is False
    assert await any_store.get_connection("bob") is None
    again = await any_store.save_connection("bob", "google", "other@example.com", None)
    assert again.generation == 2
    assert again.account == "other@example.com"


async def test_a_rotated_token_is_swapped_only_from_the_expected_one(any_store: SqlStore) -> None:
    first = await any_store.save_connection("bob", "microsoft", "bob@example.com", b"v1")
    assert await any_store.swap_connection_token("bob", b"v1", b"v2") is True
    # A second worker that refreshed from v1 too loses the race and must re-read.
    assert await any_store.swap_connection_token("bob", b"v1", b"v2-other") is False
    now = await any_store.get_connection("bob")
    assert now is not None and (now.token, now.generation) == (b"v2", first.generation)
    assert await any_store.swap_connection_token("nobody", b"v1", b"v2") is False


async def test_shares_round_trip_with_aware_times(any_store: SqlStore) -> None:
    start = datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("America/New_York"))
    share = await any_store.create_share(
        NewShare(
            sharer_uid="alice",
            conversation_type="user",
            conversation_id="bob",
            receiver_uids=("bob",),
            window_start=start,
            window_end=start + timedelta(days=7),
            expires_at=start + timedelta(days=7),
            connection_generation=1,
        ),
        now=T0,
    )
    got = await any_store.get_share(share.id)
    assert got == share
    assert got.window_start == start  # same instant, whatever zone it came in
    assert got.window_start.tzinfo is not None
    assert got.receiver_uids == ("bob",)
    assert await any_store.get_share("missing") is None


def _booking(start: datetime, minutes: int = 30, owner: str = "alice") -> NewBooking:
    return NewBooking(
        owner_uid=owner,
        booker_uid="bob",
        start=start,
        end=start + timedelta(minutes=minutes),
        title="Chat",
    )


async def test_overlapping_holds_are_refused_and_adjacent_ones_allowed(any_store: SqlStore) -> None:
    held = await any_store.hold_booking(_booking(T0), now=T0)
    assert held.status == "held"
    with pytest.raises(SlotTaken) as taken:
        await any_store.hold_booking(_booking(T0 + timedelta(minutes=15)), now=T0)
    assert taken.value.conflict.id == held.id
    after = await any_store.hold_booking(_booking(T0 + timedelta(minutes=30)), now=T0)
    before = await any_store.hold_booking(_booking(T0 - timedelta(minutes=30)), now=T0)
    other_owner = await any_store.hold_booking(_booking(T0, owner="carol"), now=T0)
    assert len({held.id, after.id, before.id, other_owner.id}) == 4
    active = await any_store.active_bookings(
        "alice", T0 - timedelta(hours=1), T0 + timedelta(hours=1)
    )
    assert [b.id for b in active] == [before.id, held.id, after.id]


async def test_a_booker_quota_counts_their_active_recent_bookings_with_one_owner(
    any_store: SqlStore,
) -> None:
    quota = BookerQuota(since=T0 - timedelta(days=1), limit=2)
    first = await any_store.hold_booking(_booking(T0), T0, quota)
    await any_store.hold_booking(_booking(T0 + timedelta(hours=1)), T0, quota)
    with pytest.raises(QuotaReached):
        await any_store.hold_booking(_booking(T0 + timedelta(hours=2)), T0, quota)
    assert await any_store.hold_booking(_booking(T0, owner="carol"), T0, quota)  # other owner
    await any_store.transition_booking(first.id, "held", "cancelled")  # cancelled: not counted
    assert await any_store.hold_booking(_booking(T0 + timedelta(hours=2)), T0, quota)
    later = BookerQuota(since=T0 + timedelta(minutes=1), limit=2)  # older ones: not counted
    assert await any_store.hold_booking(_booking(T0 + timedelta(hours=3)), T0, later)


async def test_transitions_are_compare_and_swap_and_cancel_frees_the_slot(
    any_store: SqlStore,
) -> None:
    held = await any_store.hold_booking(_booking(T0), now=T0)
    assert await any_store.transition_booking(held.id, "held", "confirmed", event_id="evt1")
    assert not await any_store.transition_booking(held.id, "held", "confirmed")
    confirmed = await any_store.get_booking(held.id)
    assert confirmed is not None and (confirmed.status, confirmed.event_id) == ("confirmed", "evt1")
    assert await any_store.transition_booking(held.id, "confirmed", "cancelled")
    rebooked = await any_store.hold_booking(_booking(T0), now=T0)
    assert rebooked.id != held.id


async def test_concurrent_holds_for_one_slot_have_exactly_one_winner(any_store: SqlStore) -> None:
    async def attempt(i: int) -> str:
        try:
            await any_store.hold_booking(_booking(T0 + timedelta(minutes=i % 3)), now=T0)
        except SlotTaken:
            return "taken"
        return "won"

    outcomes = await asyncio.gather(*(attempt(i) for i in range(20)))
    assert outcomes.count("won") == 1
    assert outcomes.count("taken") == 19


async def test_messages_are_claimed_once(any_store: SqlStore) -> None:
    assert await any_store.claim_message("m1", T0) is True
    assert await any_store.claim_message("m1", T0) is False
    assert await any_store.claim_message("m2", T0) is True


async def test_outbox_dedups_orders_retries_and_gives_up(any_store: SqlStore) -> None:
    assert await any_store.enqueue("k1", {"n": 1}, T0)
    assert not await any_store.enqueue("k1", {"n": 99}, T0)
    assert await any_store.enqueue("k2", {"n": 2}, T0 + timedelta(minutes=1))
    due = await any_store.claim_due(T0, 10, LEASE)
    assert [item.payload for item in due] == [{"n": 1}]
    assert await any_store.pending_count() == 2

    await any_store.mark_failed(due[0].id, T0 + timedelta(minutes=5), "503 from chat service")
    later = await any_store.claim_due(T0 + timedelta(minutes=2), 10, LEASE)
    assert [(i.dedup_key, i.attempts) for i in later] == [("k2", 0)]
    await any_store.mark_delivered(later[0].id, T0)
    retried = await any_store.claim_due(T0 + timedelta(minutes=5), 10, LEASE)
    assert [(i.dedup_key, i.attempts) for i in retried] == [("k1", 1)]
    await any_store.mark_failed(retried[0].id, None, "permanent")
    assert await any_store.claim_due(T0 + timedelta(days=1), 10, LEASE) == []
    assert await any_store.pending_count() == 0


async def test_confirming_queues_the_messages_in_the_same_step(any_store: SqlStore) -> None:
    held = await any_store.hold_booking(_booking(T0), now=T0)
    messages = [(f"invite:{held.id}:1", {"n": 1}), (f"invite:{held.id}:2", {"n": 2})]
    assert await any_store.confirm_booking(held.id, "evt", messages, T0)
    assert not await any_store.confirm_booking(held.id, "evt", messages, T0)  # no double queue
    assert [i.payload for i in await any_store.claim_due(T0, 10, LEASE)] == [{"n": 1}, {"n": 2}]
    assert await any_store.cancel_booking(held.id, [(f"cancel:{held.id}", {"n": 3})], T0)
    assert not await any_store.cancel_booking(held.id, [(f"cancel:{held.id}", {"n": 3})], T0)
    assert await any_store.pending_count() == 3


async def test_stale_holds_and_upcoming_bookings(any_store: SqlStore) -> None:
    old = await any_store.hold_booking(_booking(T0), now=T0 - timedelta(minutes=10))
    await any_store.hold_booking(_booking(T0 + timedelta(hours=1)), now=T0)
    assert [b.id for b in await any_store.stale_holds(T0 - timedelta(minutes=2))] == [old.id]
    await any_store.confirm_booking(old.id, "evt", [], T0)
    assert await any_store.stale_holds(T0 - timedelta(minutes=2)) == []
    assert [b.id for b in await any_store.upcoming_bookings("bob", T0)] == [old.id]
    assert [b.id for b in await any_store.upcoming_bookings("alice", T0)] == [old.id]
    assert await any_store.upcoming_bookings("alice", T0 + timedelta(hours=2)) == []


async def test_latest_share_per_conversation(any_store: SqlStore) -> None:
    def new(sharer: str, conversation: str, expires: datetime) -> NewShare:
        return NewShare(sharer, "group", conversation, (), T0, T0 + timedelta(days=7), expires, 1)

    first = await any_store.create_share(new("alice", "team", T0 + timedelta(days=7)), T0)
    second = await any_store.create_share(
        new("bob", "team", T0 + timedelta(days=7)), T0 + timedelta(minutes=1)
    )
    await any_store.create_share(
        new("carol", "team", T0 - timedelta(days=1)), T0 + timedelta(minutes=2)
    )  # already expired
    got = await any_store.latest_share("group", "team", T0)
    assert got is not None and got.id == second.id
    by_alice = await any_store.latest_share("group", "team", T0, sharer_uid="alice")
    assert by_alice is not None and by_alice.id == first.id
    assert await any_store.latest_share("group", "other", T0) is None


async def test_concurrent_claims_never_hand_out_a_message_twice(any_store: SqlStore) -> None:
    for n in range(40):
        await any_store.enqueue(f"m{n}", {"n": n}, T0)
    lease = timedelta(seconds=60)
    batches = await asyncio.gather(*(any_store.claim_due(T0, 10, lease) for _ in range(6)))
    claimed = [item.dedup_key for batch in batches for item in batch]
    assert len(claimed) == len(set(claimed)) == 40
    assert await any_store.claim_due(T0, 10, lease) == []  # all leased


async def test_a_released_message_is_due_again_later_without_an_attempt(
    any_store: SqlStore,
) -> None:
    await any_store.enqueue("later", {"n": 1}, T0)
    [item] = await any_store.claim_due(T0, 10, timedelta(seconds=60))
    await any_store.release(item.id, T0 + timedelta(seconds=5))
    assert await any_store.claim_due(T0 + timedelta(seconds=4), 10, timedelta(seconds=60)) == []
    [again] = await any_store.claim_due(T0 + timedelta(seconds=5), 10, timedelta(seconds=60))
    assert (again.id, again.attempts) == (item.id, 0)


async def test_a_lease_left_by_a_dead_sender_expires(any_store: SqlStore) -> None:
    await any_store.enqueue("orphan", {"n": 1}, T0)
    [item] = await any_store.claim_due(T0, 10, timedelta(seconds=60))
    assert await any_store.claim_due(T0 + timedelta(seconds=30), 10, timedelta(seconds=60)) == []
    [again] = await any_store.claim_due(T0 + timedelta(seconds=61), 10, timedelta(seconds=60))
    assert again.id == item.id
    await any_store.mark_delivered(again.id, T0)
    assert await any_store.pending_count() == 0


async def test_revocations_wait_their_turn_and_go_when_confirmed(any_store: SqlStore) -> None:
    now = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
    grant = await any_store.save_connection("bob", "google", "bob@example.com", b"sealed")
    await any_store.queue_revocation(grant, now)
    await any_store.queue_revocation(replace(grant, token=None), now)  # nothing granted: no row
    [(row_id, attempts, kept)] = await any_store.due_revocations(now)
    assert (attempts, kept.token, kept.provider, kept.generation) == (0, b"sealed", "google", 1)
    await any_store.retry_revocation(row_id, now + timedelta(minutes=1))
    assert await any_store.due_revocations(now) == []
    [(_, attempts, _)] = await any_store.due_revocations(now + timedelta(minutes=1))
    assert attempts == 1
    await any_store.finish_revocation(row_id)
    assert await any_store.due_revocations(now + timedelta(days=1)) == []


async def test_users_and_connections_are_read_for_many_people_at_once(
    any_store: SqlStore,
) -> None:
    for uid, zone in [("alice", "America/New_York"), ("bob", "Europe/Berlin"), ("carol", "UTC")]:
        await any_store.ensure_user(uid, uid.title(), zone)
    await any_store.update_user("bob", working_hours=WorkingHours(480, 960, (1, 2, 3)))
    found = await any_store.get_users(["carol", "nobody", "alice", "bob", "alice"])
    assert list(found) == ["carol", "alice", "bob"]  # the order asked, unknown people left out
    for uid, user in found.items():
        assert user == await any_store.get_user(uid)
    assert found["bob"].working_hours == WorkingHours(480, 960, (1, 2, 3))
    assert await any_store.get_users([]) == {}

    await any_store.save_connection("alice", "local", "alice", None)
    await any_store.save_connection("bob", "google", "bob@example.com", b"sealed")
    await any_store.set_connection_status("bob", "needs_reconnect")
    connections = await any_store.get_connections(["bob", "carol", "alice"])
    assert list(connections) == ["bob", "alice"]  # any status; people without one left out
    assert connections["bob"].status == "needs_reconnect"
    assert connections["bob"].token == b"sealed"
    for uid, connection in connections.items():
        assert connection == await any_store.get_connection(uid)
    assert await any_store.get_connections([]) == {}

    many = [f"p{n:03d}" for n in range(100)]  # /find plans for up to 100 people
    for uid in many:
        await any_store.ensure_user(uid, uid, "UTC")
    assert list(await any_store.get_users(many)) == many


async def test_batched_reads_share_rows_inside_a_command_and_see_its_writes(
    any_store: SqlStore,
) -> None:
    await any_store.ensure_user("alice", "Alice", "UTC")
    with row_cache.command_scope():
        assert list(await any_store.get_users(["alice", "bob"])) == ["alice"]
        assert await any_store.get_connections(["alice"]) == {}
        await any_store.ensure_user("bob", "Bob", "UTC")  # remembered as absent: forgotten
        await any_store.update_user("alice", timezone="Asia/Tokyo")
        await any_store.save_connection("alice", "local", "alice", None)
        found = await any_store.get_users(["alice", "bob"])
        assert list(found) == ["alice", "bob"] and found["alice"].timezone == "Asia/Tokyo"
        assert list(await any_store.get_connections(["alice", "bob"])) == ["alice"]


async def test_a_poll_is_created_once_per_id_and_keeps_its_votes(any_store: SqlStore) -> None:
    berlin = ZoneInfo("Europe/Berlin")
    slots = [(T0, T0 + timedelta(minutes=45)), (T0.astimezone(berlin), T0 + timedelta(hours=1))]
    members = {"alice": True, "bob": False}
    poll = await any_store.create_poll("team", "alice", "Sync", slots, members, T0, auto=True)
    assert (poll.guid, poll.organizer_uid, poll.title, poll.status) == (
        "team",
        "alice",
        "Sync",
        "open",
    )
    assert poll.slots == tuple(slots) and all(s.tzinfo and e.tzinfo for s, e in poll.slots)
    assert (poll.members, poll.votes, poll.auto, poll.outcome) == (members, {}, True, "")
    assert poll == await any_store.get_poll(poll.id)
    await any_store.cast_vote(poll.id, 1, "bob", "yes")
    # The same /find run again (after a crash) finds its poll, votes and all.
    again = await any_store.create_poll(
        "team", "alice", "Other", slots[:1], {"alice": True}, T0, poll_id=poll.id
    )
    assert again == await any_store.get_poll(poll.id)
    assert (again.title, again.votes) == ("Sync", {(1, "bob"): "yes"})
    assert [p.id for p in await any_store.open_polls("team")] == [poll.id]


async def test_local_busy_reads_everyones_events_in_one_range_as_aware_utc(
    any_store: SqlStore,
) -> None:
    berlin = ZoneInfo("Europe/Berlin")
    events = [
        LocalEvent("alice", "a1", "Busy", T0, T0 + timedelta(hours=1)),
        LocalEvent("alice", "a0", "Busy", T0 - timedelta(hours=3), T0 - timedelta(hours=2)),
        LocalEvent("bob", "b1", "Busy", T0.astimezone(berlin), T0 + timedelta(minutes=30)),
        LocalEvent("bob", "b2", "Busy", T0 + timedelta(days=2), T0 + timedelta(days=2, hours=1)),
    ]
    for event in events:
        await any_store.add_local_event(event)
    busy = await any_store.local_busy(
        ["alice", "bob", "carol"], T0 - timedelta(hours=1), T0 + timedelta(days=1)
    )
    assert busy == {
        "alice": [(T0, T0 + timedelta(hours=1))],
        "bob": [(T0, T0 + timedelta(minutes=30))],
        "carol": [],
    }
    assert all(s.tzinfo == UTC and e.tzinfo == UTC for spans in busy.values() for s, e in spans)
    assert await any_store.local_busy([], T0, T0 + timedelta(days=1)) == {}
