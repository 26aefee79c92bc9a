"""A conversation harness over the real dispatcher, store and outbox."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterable
from dataclasses import replace

from bot.app import build_services
from bot.calendars.provider import CalendarProvider
from bot.calendars.registry import Calendars
from bot.config import Config, SecurityConfig, StorageConfig, WebConfig
from bot.core.dispatcher import Dispatcher
from bot.core.messages import Conversation, IncomingMessage, OutgoingMessage, Sender
from bot.core.routing import Catalog, Router
from storage import Store
from tests.fakes import FrozenClock, RecordingTransport

BOT_UID = "calbot"
TEST_CONFIG = Config(
    storage=StorageConfig(url="sqlite+aiosqlite://"),
    security=SecurityConfig(secret_key="test-secret-key-that-is-long-enough-1234"),
    web=WebConfig(public_url="https://bot.test"),
)


class Chat:
    def __init__(
        self,
        store: Store,
        clock: FrozenClock,
        routers: Iterable[Router] | None = None,
        calendar: CalendarProvider | None = None,
        config: Config | None = None,
    ):
        self.transport = RecordingTransport()
        self.clock = clock
        self.store = store
        services = build_services(config or TEST_CONFIG, store, self.transport, clock)
        if calendar is not None:
            # Every test connection is "local": the injected calendar answers for it.
            services = replace(services, calendar=Calendars({"local": calendar}, "local"))
        if routers is not None:
            services = replace(services, catalog=Catalog.build(routers))
        self.services = services
        self.dispatcher = Dispatcher(services)
        self._ids = itertools.count(1)

    async def say(
        self,
        text: str,
        sender: str = "alice",
        *,
        to: str = BOT_UID,
        group: str | None = None,
        mentions: dict[str, str] | None = None,
        message_id: str | None = None,
    ) -> list[str]:
        """Send `text` as `sender` (to the bot, another user, or a group); returns the replies."""
        before = len(self.transport.sent)
        conversation = Conversation("group", group) if group else Conversation("user", to)
        message = IncomingMessage(
            id=message_id or f"{next(self._ids)}-{uuid.uuid4().hex[:8]}",
            sender=Sender(sender, sender.capitalize()),
            conversation=conversation,
            text=text,
            sent_at=self.clock.now(),
            mentions=mentions or {},
        )
        await self.dispatcher.dispatch(message)
        await self.services.outbox.flush()
        return [m.text for m in self.transport.sent[before:]]

    @property
    def sent(self) -> list[OutgoingMessage]:
        return self.transport.sent

    @property
    def replies(self) -> list[str]:
        return [m.text for m in self.transport.sent]


async def meet(store: Store, uid: str, timezone: str, *, connected: bool = True) -> None:
    """Make `uid` a known user in `timezone`, with a connected local calendar."""
    await store.ensure_user(uid, uid.capitalize(), timezone)
    await store.update_user(uid, timezone=timezone)
    if connected:
        await store.save_connection(uid, "local", uid, None)
