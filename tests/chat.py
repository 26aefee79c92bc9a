"""A conversation harness over the real dispatcher, store and outbox."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import replace

from bot.app import build_services
from bot.config import Config, StorageConfig
from bot.dispatcher import Dispatcher
from bot.messages import Conversation, IncomingMessage, OutgoingMessage, Sender
from bot.routing import Catalog, Router
from storage import Store
from tests.fakes import FrozenClock, RecordingTransport

BOT_UID = "calbot"


class Chat:
    def __init__(self, store: Store, clock: FrozenClock, routers: Iterable[Router] | None = None):
        self.transport = RecordingTransport()
        self.clock = clock
        self.store = store
        services = build_services(
            Config(storage=StorageConfig(url="sqlite+aiosqlite://")), store, self.transport, clock
        )
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
            id=message_id or str(next(self._ids)),
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
