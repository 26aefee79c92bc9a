"""The typed context every handler receives: the message, its sender, and the services."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.calendars.registry import Calendars
from bot.calendars.tokens import TokenVault
from bot.core.clock import Clock
from bot.core.links import LinkSigner
from bot.core.messages import IncomingMessage, OutgoingMessage, text_message
from bot.core.metrics import Metrics
from bot.core.outbox import Outbox
from bot.core.roster import Roster
from bot.core.routing import Catalog
from bot.core.urls import Urls
from bot.timeparse import ParsedTime, Prefs, parse
from storage.records import User
from storage.store import Store


@dataclass(frozen=True, slots=True)
class BotSettings:
    bot_uid: str
    bot_name: str
    default_timezone: str
    public_url: str
    scheduler_message: bool = False
    video: str = "auto"  # [meetings] video: "auto" | "jitsi" | "none"
    jitsi_base: str = "https://meet.jit.si"
    event_title: str = ""  # [calendar] event_title: the owner's event name; "" = the booker's


@dataclass(frozen=True, slots=True)
class Services:
    """Long-lived collaborators, built once by bot.app and shared by every context."""

    store: Store
    clock: Clock
    outbox: Outbox
    settings: BotSettings
    catalog: Catalog
    calendar: Calendars  # routes each connection to its own provider
    links: LinkSigner
    vault: TokenVault | None = None  # seals calendar tokens; only providers with tokens need it
    metrics: Metrics = field(default_factory=Metrics)
    roster: Roster | None = None  # group members from the chat service, when it can say

    @property
    def urls(self) -> Urls:
        return Urls(self.settings.public_url, self.links)


@dataclass(slots=True)
class Context:
    message: IncomingMessage
    user: User
    services: Services
    _sent: int = field(default=0, repr=False)

    @property
    def store(self) -> Store:
        return self.services.store

    @property
    def clock(self) -> Clock:
        return self.services.clock

    @property
    def catalog(self) -> Catalog:
        return self.services.catalog

    @property
    def calendar(self) -> Calendars:
        return self.services.calendar

    @property
    def settings(self) -> BotSettings:
        return self.services.settings

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.user.timezone)

    def now(self) -> datetime:
        """Now, in the sender's own time zone."""
        return self.clock.now().astimezone(self.zone)

    def parse_time(self, text: str) -> ParsedTime:
        """Read a time expression the way this user writes them (zone, date order, "next")."""
        prefs = Prefs(date_order=self.user.date_order, next_weekday=self.user.next_weekday)
        return parse(text, self.clock.now(), self.zone, prefs, lang=self.user.language or None)

    async def reply(self, text: str) -> None:
        """Answer the sender: in the group (same thread) for group messages, else privately."""
        conversation = self.message.conversation
        if conversation.kind == "group":
            out = text_message(conversation.receiver, "group", text, self.message.parent_id)
        else:
            out = text_message(self.message.sender.uid, "user", text)
        await self.send(out)

    async def send(self, message: OutgoingMessage) -> None:
        # Keys derive from the inbound message id, so re-running a message after a crash
        # cannot post the same reply twice.
        self._sent += 1
        await self.services.outbox.post(f"{self.message.id}:{self._sent}", message)
