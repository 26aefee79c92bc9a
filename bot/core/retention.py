"""Data has a lifetime: a background pass deletes OAuth attempts older than their 10 minutes,
and processed ids, delivered outbox rows and handled inbox rows older than the retention
([storage] retention_days). Messages still owed to someone are never purged."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from bot.core.clock import Clock
from storage import Store

log = logging.getLogger(__name__)

OAUTH_STATE_LIFETIME = timedelta(minutes=10)


async def purge_once(store: Store, clock: Clock, retention: timedelta) -> dict[str, int]:
    now = clock.now()
    counts = await store.purge_expired(now - OAUTH_STATE_LIFETIME, now - retention)
    if any(counts.values()):
        log.info("purged expired rows: %s", counts)
    return counts


async def purge_forever(
    store: Store, clock: Clock, retention: timedelta, every_seconds: float = 600.0
) -> None:
    """Runs until cancelled; a failed pass (storage down) is retried on the next one."""
    while True:
        try:
            await purge_once(store, clock, retention)
        except Exception:
            log.exception("retention pass failed; retrying later")
        await asyncio.sleep(every_seconds)
