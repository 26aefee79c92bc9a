from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

from bot.core.messages import OutgoingMessage, text_message
from bot.core.outbox import LEASE, PARALLEL_CONVERSATIONS, DeliveryError, Outbox
from storage import SqlStore
from tests.fakes import FrozenClock, RecordingTransport


async def test_failed_delivery_is_retried_until_it_gets_through(
    store: SqlStore, clock: FrozenClock
) -> None:
    transport = RecordingTransport()
    transport.failures = [DeliveryError("503"), DeliveryError("429", retry_after=30)]
    outbox = Outbox(store, transport, clock)
    assert await outbox.post("m1:1", text_message("alice", "user", "hello"))
    assert not await outbox.post("m1:1", text_message("alice", "user", "hello"))
    assert await outbox.flush() == 0
    clock.advance(seconds=3)  # full jitter caps the first retry at 2 s
    assert await outbox.flush() == 0
    clock.advance(seconds=10)
    assert await outbox.flush() == 0, "Retry-After: 30 must be honoured"
    clock.advance(seconds=30)
    assert await outbox.flush() == 1
    assert [m.text for m in transport.sent] == ["hello"]
    assert transport.attempts == 3
    assert await store.pending_count() == 0


def refused(status: int, permanent: bool = False) -> DeliveryError:
    """What the CometChat client raises for an HTTP status (it sets `status`)."""
    problem = DeliveryError(f"{status} from chat service", permanent=permanent)
    problem.status = status
    return problem


async def test_refusals_are_parked_with_the_reason_and_retries_outlast_an_outage(
    store: SqlStore, clock: FrozenClock
) -> None:
    transport = RecordingTransport()
    transport.failures = [refused(404, permanent=True)]
    outbox = Outbox(store, transport, clock, give_up_after=timedelta(hours=24))
    await outbox.post("a", text_message("ghost", "user", "hi"))
    await outbox.flush()
    [parked] = await store.parked_messages()
    assert (parked.dedup_key, parked.last_error) == ("a", "404 from chat service")
    # Twelve hours of 503s: far past the old ten attempts, and still not given up.
    transport.failures = [refused(503)] * 200
    await outbox.post("b", text_message("bob", "user", "hi"))
    start = clock.now()
    while clock.now() < start + timedelta(hours=12):
        await outbox.flush()
        clock.advance(seconds=301)
    assert transport.attempts > 100
    assert [m.dedup_key for m in await store.parked_messages()] == ["a"]
    transport.failures = []
    clock.advance(seconds=301)
    assert await outbox.flush() == 1
    assert [m.text for m in transport.sent] == ["hi"]


async def test_a_message_failing_past_give_up_after_is_parked_and_can_be_retried(
    store: SqlStore, clock: FrozenClock
) -> None:
    transport = RecordingTransport()
    transport.failures = [refused(500)] * 1000
    outbox = Outbox(store, transport, clock, give_up_after=timedelta(hours=1))
    await outbox.post("b", text_message("bob", "user", "hi"))
    for _ in range(100):
        await outbox.flush()
        clock.advance(seconds=301)
    assert [m.dedup_key for m in await store.parked_messages()] == ["b"]
    attempts = transport.attempts
    await outbox.flush()
    assert transport.attempts == attempts, "a parked row is not tried again on its own"
    transport.failures = []
    assert await store.retry_parked(None, clock.now()) == 1
    assert await outbox.flush() == 1
    assert await store.parked_messages() == []


async def test_refused_credentials_pause_everything_and_park_nothing(
    store: SqlStore, clock: FrozenClock
) -> None:
    transport = RecordingTransport()
    transport.failures = [refused(401, permanent=True)] * 30
    outbox = Outbox(store, transport, clock)
    for n in range(5):
        await outbox.post(f"m{n}", text_message(f"user{n}", "user", f"hi {n}"))
    await outbox.flush()
    assert outbox.paused is not None
    tried = transport.attempts
    await outbox.flush()
    assert transport.attempts == tried, "paused: nothing is sent before the probe is due"
    for _ in range(10):  # the key stays wrong for a while: one probe per wait
        clock.advance(seconds=301)
        await outbox.flush()
    assert transport.attempts == tried + 10
    assert await store.parked_messages() == []
    transport.failures = []
    clock.advance(seconds=301)
    await outbox.flush()  # the probe gets through; sending resumes for everyone
    assert outbox.paused is None
    await outbox.flush()
    assert sorted(m.text for m in transport.sent) == [f"hi {n}" for n in range(5)]
    assert await store.pending_count() == 0


class GatedTransport(RecordingTransport):
    """Holds every send until released, recording how many run at once and for whom."""

    def __init__(self) -> None:
        super().__init__()
        self.in_flight: list[str] = []
        self.most_at_once = 0
        self.overlapping_same_receiver = False

    async def send(self, message: OutgoingMessage) -> None:
        if message.receiver in self.in_flight:
            self.overlapping_same_receiver = True
        self.in_flight.append(message.receiver)
        self.most_at_once = max(self.most_at_once, len(self.in_flight))
        await asyncio.sleep(0.01)  # let every other ready send start
        self.in_flight.remove(message.receiver)
        await super().send(message)


async def test_conversations_are_served_in_parallel_and_each_in_order(
    store: SqlStore, clock: FrozenClock
) -> None:
    transport = GatedTransport()
    outbox = Outbox(store, transport, clock)
    people = [f"p{n}" for n in range(PARALLEL_CONVERSATIONS + 4)]
    for step in range(3):
        for uid in people:
            await outbox.post(f"{uid}:{step}", text_message(uid, "user", f"{uid} step {step}"))
    assert await outbox.flush() == 3 * len(people)
    assert transport.most_at_once == PARALLEL_CONVERSATIONS
    assert not transport.overlapping_same_receiver
    for uid in people:
        mine = [m.text for m in transport.sent if m.receiver == uid]
        assert mine == [f"{uid} step {step}" for step in range(3)]


async def test_a_failed_send_holds_back_the_rest_of_its_conversation_only(
    store: SqlStore, clock: FrozenClock
) -> None:
    transport = RecordingTransport()
    transport.failures = [DeliveryError("429", retry_after=5)]
    outbox = Outbox(store, transport, clock)
    for n in range(3):
        await outbox.post(f"a{n}", text_message("alice", "user", f"to alice {n}"))
    await outbox.post("b0", text_message("bob", "user", "to bob"))
    assert await outbox.flush() == 1
    assert [m.text for m in transport.sent] == ["to bob"]
    clock.advance(seconds=6)
    assert await outbox.flush() == 3
    assert [m.text for m in transport.sent[1:]] == [f"to alice {n}" for n in range(3)]
    assert transport.attempts == 5  # alice's 2nd and 3rd were never tried early


class HangingTransport(RecordingTransport):
    def __init__(self) -> None:
        super().__init__()
        self.started = asyncio.Event()

    async def send(self, message: OutgoingMessage) -> None:
        self.started.set()
        await asyncio.Event().wait()  # a chat service that never answers


async def test_a_relay_cancelled_mid_send_hands_its_rows_back_at_once(
    store: SqlStore, clock: FrozenClock
) -> None:
    transport = HangingTransport()
    outbox = Outbox(store, transport, clock)
    for n in range(3):
        await outbox.post(f"k{n}", text_message("alice", "user", f"m{n}"))
    relay = asyncio.create_task(outbox.flush())
    await transport.started.wait()  # the first send is in flight, all three rows leased
    assert await store.claim_due(clock.now(), 10, LEASE) == []
    relay.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await relay
    again = await store.claim_due(clock.now(), 10, LEASE)  # no minute-long lease to wait out
    assert [item.dedup_key for item in again] == ["k0", "k1", "k2"]


class ReplyingTransport(RecordingTransport):
    """Queues a follow-up message while the relay is in the middle of sending the first."""

    def __init__(self) -> None:
        super().__init__()
        self.outbox: Outbox | None = None

    async def send(self, message: OutgoingMessage) -> None:
        await super().send(message)
        if message.text == "first" and self.outbox is not None:
            await self.outbox.post("m2:1", text_message("bob", "user", "second"))


async def test_a_message_queued_during_a_relay_pass_is_not_left_for_the_next_poll(
    store: SqlStore, clock: FrozenClock
) -> None:
    transport = ReplyingTransport()
    outbox = Outbox(store, transport, clock)
    transport.outbox = outbox
    await outbox.post("m1:1", text_message("alice", "user", "first"))
    relay = asyncio.create_task(outbox.run(poll_seconds=3600))
    try:
        # With the wake-up cleared after the pass, "second" would wait an hour for the poll.
        for _ in range(500):
            if len(transport.sent) == 2:
                break
            await asyncio.sleep(0.02)
        assert [m.text for m in transport.sent] == ["first", "second"]
    finally:
        outbox.stop()
        relay.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await relay
