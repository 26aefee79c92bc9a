"""Data has a lifetime: a background pass deletes OAuth attempts older than their 10 minutes,
and processed ids, delivered outbox rows and handled inbox rows older than the retention
([storage] retention_days). Messages still owed to someone are never purged. The same pass
retries revocations a provider did not confirm, so no grant stays live after a disconnect."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from bot.calendars.provider import CalendarError
from bot.core.clock import Clock
from bot.core.context import Services
from storage import Store

log = logging.getLogger(__name__)

OAUTH_STATE_LIFETIME = timedelta(minutes=10)
# A failed revocation is retried after 1 minute, doubling up to 6 hours; after 60 attempts
# (about two weeks) the provider is not going to confirm it.
REVOKE_BACKOFF = timedelta(minutes=1)
REVOKE_CAP = timedelta(hours=6)
REVOKE_ATTEMPTS = 60


async def purge_once(store: Store, clock: Clock, retention: timedelta) -> dict[str, int]:
    now = clock.now()
    counts = await store.purge_expired(now - OAUTH_STATE_LIFETIME, now - retention)
    if any(counts.values()):
        log.info("purged expired rows: %s", counts)
    return counts


async def retry_revocations(services: Services) -> int:
    """Try each due revocation once more; returns how many the providers confirmed."""
    now, confirmed = services.clock.now(), 0
    for revocation_id, attempts, grant in await services.store.due_revocations(now):
        try:
            await services.calendar.provider(grant.provider).revoke(grant)
        except CalendarError as problem:
            if attempts + 1 >= REVOKE_ATTEMPTS:
                # Weeks of refusals: the provider will not take it back; say so loudly, once.
                log.error("gave up revoking %s's %s grant: %s", grant.uid, grant.provider, problem)
                await services.store.finish_revocation(revocation_id)
            else:
                wait = min(REVOKE_BACKOFF * 2**attempts, REVOKE_CAP)
                await services.store.retry_revocation(revocation_id, now + wait)
            continue
        await services.store.finish_revocation(revocation_id)
        confirmed += 1
    if confirmed:
        log.info("revoked %d grants that had failed before", confirmed)
    return confirmed


async def purge_forever(
    services: Services, retention: timedelta, every_seconds: float = 600.0
) -> None:
    """Runs until cancelled; a failed pass (storage down) is retried on the next one."""
    while True:
        try:
            await purge_once(services.store, services.clock, retention)
            await retry_revocations(services)
        except Exception:
            log.exception("retention pass failed; retrying later")
        await asyncio.sleep(every_seconds)
