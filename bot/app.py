"""build_app(config): the one place that wires concrete pieces together."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from datetime import timedelta

from aiohttp import web
from sqlalchemy.engine import make_url

from bot.calendars.caldav import CalDavCalendar
from bot.calendars.google import GoogleCalendar
from bot.calendars.local import LocalCalendar
from bot.calendars.microsoft import MicrosoftCalendar
from bot.calendars.oauth import GoogleFlow, MicrosoftFlow, OAuthFlow
from bot.calendars.provider import CalendarProvider
from bot.calendars.registry import Calendars
from bot.calendars.tokens import TokenVault
from bot.config import Config, ConfigError
from bot.core.clock import Clock, SystemClock
from bot.core.context import BotSettings, Services
from bot.core.dispatcher import Dispatcher
from bot.core.inbox import Inbox
from bot.core.links import LinkSigner
from bot.core.logs import install_redaction
from bot.core.messages import Event, text_message
from bot.core.metrics import MeteredCalendar, Metrics
from bot.core.outbox import Outbox, Transport
from bot.core.retention import purge_forever
from bot.core.roster import CachedRoster, Roster
from bot.core.routing import Catalog
from bot.core.runtime import RUNTIME, Runtime
from bot.core.throttle import RateLimit
from bot.scheduling import booking, reminders, reschedule
from bot.scheduling.busy_cache import BusyCache
from bot.transports import clicks, webhook
from bot.web import booking_page, busy_ics, connect_page, move_page, render
from bot.web.routes import routes
from handlers import ROUTERS
from storage import SqlStore, Store, is_storage_fault, open_store
from storage.records import Connection

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 256 * 1024


TransportFactory = Callable[[web.Application, Store], Transport]


def build_services(
    config: Config,
    store: Store,
    transport: Transport,
    clock: Clock,
    catalog: Catalog | None = None,
) -> Services:
    settings = BotSettings(
        bot_uid=config.cometchat.bot_uid.lower(),
        bot_name=config.bot.name,
        default_timezone=config.bot.default_timezone,
        public_url=config.web.public_url.rstrip("/"),
        scheduler_message=config.cometchat.scheduler_message,
        video=config.meetings.video,
        jitsi_base=config.meetings.jitsi_base.rstrip("/"),
        event_title=config.calendar.event_title,
    )
    if not config.security.secret_key:
        raise ConfigError("[security] secret_key is empty; it signs booking links")
    metrics = Metrics()
    give_up = timedelta(seconds=config.cometchat.give_up_after)
    outbox = Outbox(store, transport, clock, metrics, give_up_after=give_up)
    links = LinkSigner(config.security.secret_key)
    vault = TokenVault(config.security.token_keys) if config.security.token_keys else None
    services = Services(
        store=store,
        clock=clock,
        outbox=outbox,
        settings=settings,
        catalog=catalog or Catalog.build(ROUTERS),
        calendar=Calendars({"local": MeteredCalendar(LocalCalendar(store), metrics)}, "local"),
        links=links,
        vault=vault,
        metrics=metrics,
        roster=CachedRoster(transport, clock) if isinstance(transport, Roster) else None,
    )
    providers, flows = _providers(config, services, vault, metrics)

    async def keep_for_retry(owner: Connection) -> None:
        await store.queue_revocation(owner, clock.now())

    calendars = Calendars(providers, config.calendar.provider, flows, keep_for_retry)
    return replace(services, calendar=calendars)


def _providers(
    config: Config, services: Services, vault: TokenVault | None, metrics: Metrics
) -> tuple[dict[str, CalendarProvider], dict[str, OAuthFlow]]:
    """Every calendar provider this process can serve, and the OAuth flows that connect them.

    Local always; Google and Microsoft when their OAuth client is configured; CalDAV whenever
    tokens can be sealed. Each connection then keeps its own provider."""
    store, outbox, clock = services.store, services.outbox, services.clock
    providers: dict[str, CalendarProvider] = {"local": services.calendar.provider("local")}
    flows: dict[str, OAuthFlow] = {}
    if config.calendar.provider != "local" and vault is None:
        raise ConfigError("[security] token_keys is empty; calendar tokens must be encrypted")
    if vault is None:
        return providers, flows

    def reconnect_notice(label: str) -> Callable[[Connection], Awaitable[None]]:
        async def ask_to_reconnect(owner: Connection) -> None:
            # Keyed by generation: one message per lost connection, however often it fails.
            await outbox.post(
                f"reconnect:{owner.uid}:{owner.generation}",
                text_message(
                    owner.uid,
                    "user",
                    f"I lost access to your {label} (it was revoked or expired). "
                    f"Connect it again here: {services.urls.connect(owner.uid, clock.now())}",
                ),
            )

        return ask_to_reconnect

    if config.calendar.provider == "google" or config.google.client_id:
        google = GoogleCalendar(config.google, store, vault, reconnect_notice("Google Calendar"))
        providers["google"] = MeteredCalendar(google, metrics)
        flows["google"] = GoogleFlow(config.google)
    if config.calendar.provider == "microsoft" or config.microsoft.client_id:
        microsoft = MicrosoftCalendar(
            config.microsoft, store, vault, reconnect_notice("Microsoft 365 calendar")
        )
        providers["microsoft"] = MeteredCalendar(microsoft, metrics)
        flows["microsoft"] = MicrosoftFlow(config.microsoft)
    caldav = CalDavCalendar(store, vault, reconnect_notice("CalDAV calendar"))
    providers["caldav"] = MeteredCalendar(caldav, metrics)
    return providers, flows


async def _sweep_holds(services: Services, every_seconds: float = 60.0) -> None:
    """Finish bookings and moves a crash left half-done (see bot.scheduling.booking and
    .reschedule) and skip reminders that came due too late; runs until cancelled."""
    while True:
        try:
            settled = await booking.recover(services)
            if settled:
                log.info("recovered %d half-finished bookings", settled)
            moved = await reschedule.recover(services)
            if moved:
                log.info("finished %d interrupted moves", moved)
            late = await reminders.skip_late(services)
            if late:
                log.info("skipped %d reminders that came due after their meeting began", late)
        except Exception:
            log.exception("hold sweeper pass failed; retrying")
        await asyncio.sleep(every_seconds)


async def _open_store_patiently(url: str, cap_seconds: float = 30.0) -> SqlStore:
    """Open storage, waiting for a database that is not up yet (a deploy starting everything at
    once): one clear line per attempt, with the password hidden, instead of a traceback."""
    shown = make_url(url).render_as_string(hide_password=True)
    delay = 1.0
    while True:
        try:
            return await open_store(url)
        except Exception as problem:
            if not is_storage_fault(problem):
                raise
            log.error("storage at %s is unreachable (%s); retrying in %.0fs",
                      shown, type(problem).__name__, delay)  # fmt: skip
        await asyncio.sleep(delay)
        delay = min(cap_seconds, delay * 2)


def build_app(
    config: Config, transport_factory: TransportFactory, clock: Clock | None = None
) -> web.Application:
    """The aiohttp application; storage opens and the outbox relay starts on app start-up."""
    # Fail now, not at the first message, if a declaration is wrong.
    catalog = Catalog.build(ROUTERS)
    install_redaction()
    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[render.error_pages])
    app.add_routes(routes)
    app.add_routes(booking_page.routes)
    app.add_routes(connect_page.routes)
    app.add_routes(webhook.routes)
    app.add_routes(clicks.routes)
    app.add_routes(busy_ics.routes)
    app.add_routes(move_page.routes)
    app[render.TEMPLATES] = render.templates()
    app[booking_page.POST_LIMIT] = RateLimit(config.web.booking_posts_per_minute)
    app[booking_page.GET_LIMIT] = RateLimit(config.web.page_gets_per_minute)
    app[booking_page.SHARE_GET_LIMIT] = RateLimit(config.web.share_gets_per_minute)
    app[booking_page.BUSY_CACHE] = BusyCache(timedelta(seconds=config.web.free_busy_cache_seconds))

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        store = await _open_store_patiently(config.storage.url)
        transport = transport_factory(app, store)
        services = build_services(config, store, transport, clock or SystemClock(), catalog)
        dispatcher = Dispatcher(services)

        async def run_again(event: Event) -> None:
            await dispatcher.dispatch(event, deduplicated=True)

        inbox = Inbox(store, run_again, services.clock, services.metrics)
        app[RUNTIME] = Runtime(config, services, dispatcher, inbox)
        tasks = [
            asyncio.create_task(services.outbox.run(), name="outbox-relay"),
            asyncio.create_task(inbox.run(), name="inbox-relay"),
            asyncio.create_task(_sweep_holds(services), name="hold-sweeper"),
            asyncio.create_task(
                purge_forever(services, timedelta(days=config.storage.retention_days)),
                name="retention",
            ),
        ]
        log.info("calbot ready on %s", config.web.public_url)
        yield
        # Accepted events finish (their replies reach the outbox) or are handed back to the
        # inbox for the next worker; nothing stays half-claimed.
        await inbox.close()
        await app[RUNTIME].background.drain()
        await app[RUNTIME].background.cancel()
        services.outbox.stop()  # the relay finishes the sends it started...
        await asyncio.wait(tasks[:1], timeout=20)
        for task in tasks:
            task.cancel()  # ...unless they hang; unsent rows are handed back, not leased
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        # Drain what is already due so a clean shutdown delivers what it accepted.
        with contextlib.suppress(Exception):
            await services.outbox.flush()
        await transport.close()
        await store.close()

    app.cleanup_ctx.append(lifecycle)
    return app
