from __future__ import annotations

from bot.messages import text_message
from bot.outbox import MAX_ATTEMPTS, DeliveryError, Outbox
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


async def test_permanent_failures_and_exhausted_retries_are_marked_dead(
    store: SqlStore, clock: FrozenClock
) -> None:
    transport = RecordingTransport()
    transport.failures = [DeliveryError("404 no such user", permanent=True)]
    outbox = Outbox(store, transport, clock)
    await outbox.post("a", text_message("ghost", "user", "hi"))
    await outbox.flush()
    assert await store.pending_count() == 0
    transport.failures = [DeliveryError("500")] * MAX_ATTEMPTS
    await outbox.post("b", text_message("bob", "user", "hi"))
    for _ in range(MAX_ATTEMPTS + 2):
        await outbox.flush()
        clock.advance(seconds=400)
    assert transport.sent == []
    assert transport.attempts == 1 + MAX_ATTEMPTS
    assert await store.pending_count() == 0
