"""dispatch(message): the one transport-free entry point, and the one error funnel."""

from __future__ import annotations

import difflib
import logging
import re
import time
import uuid
from typing import Any

from bot.core.context import Context, Services
from bot.core.mentions import mentioned_uids
from bot.core.messages import (
    Conversation,
    Event,
    IncomingMessage,
    MembershipChange,
    SchedulerPick,
    Sender,
)
from bot.core.metrics import own_time
from bot.core.routing import Command, Handler, Parser
from bot.errors import UsageError, UserError
from storage import row_cache
from storage.records import User

log = logging.getLogger(__name__)

MAX_TEXT_LENGTH = 2000


class Dispatcher:
    def __init__(self, services: Services) -> None:
        self.services = services

    async def dispatch(self, event: Event, *, deduplicated: bool = False) -> None:
        """Route one inbound event to its handler; never raises for a single bad event (only
        when storage fails under it, so the inbox can run it again).

        `deduplicated`: the durable inbox already stored this event once per id, and may run it
        again after a crash; claiming the id here would turn that re-run into a no-op. Direct
        callers leave it False and get the claim as their duplicate filter."""
        # One command may read the same people many times; it shares their rows (never across
        # commands: another worker may change them in between).
        with own_time(self.services.metrics), row_cache.command_scope():
            if isinstance(event, IncomingMessage):
                await self._dispatch(event, deduplicated)
            else:
                await self._observe(event, deduplicated)

    async def _first_time(self, key: str, deduplicated: bool) -> bool:
        if deduplicated or await self.services.store.claim_message(key, self.services.clock.now()):
            return True
        log.info("event %s already handled; ignoring redelivery", key)
        self.services.metrics.inc("calbot_messages_total", outcome="duplicate")
        return False

    async def _observe(self, event: SchedulerPick | MembershipChange, deduplicated: bool) -> None:
        """Non-message events: the same claim, context and error funnel as a command."""
        observer = self.services.catalog.observer(type(event))
        if observer is None:
            log.info("no observer for %s; ignoring it", type(event).__name__)
            return
        store, settings = self.services.store, self.services.settings
        if isinstance(event, SchedulerPick):
            actor, key, answer = event.picker, event.id, True
            if not await self._first_time(key, deduplicated):
                return
        else:
            # Membership changes are idempotent (add/remove); nobody is waiting for an answer.
            actor = (event.uids or (settings.bot_uid,))[0]
            key, answer = f"{event.guid}:{'+' if event.joined else '-'}:{actor}", False
        user = (
            await store.ensure_user(actor, actor, settings.default_timezone)
            if answer
            else await store.get_user(actor) or User(actor, actor, settings.default_timezone)
        )
        origin = IncomingMessage(
            id=key,
            sender=Sender(user.uid, user.name),
            conversation=Conversation("user", settings.bot_uid),
            text="",
            sent_at=self.services.clock.now(),
        )
        ctx = Context(message=origin, user=user, services=self.services)
        await self._funnel(ctx, observer.name, observer.handler, event, answer=answer)

    async def _dispatch(self, message: IncomingMessage, deduplicated: bool) -> None:
        settings = self.services.settings
        metrics = self.services.metrics
        if message.sender.uid == settings.bot_uid or not message.text.strip():
            metrics.inc("calbot_messages_total", outcome="ignored")
            return
        if message.conversation.kind == "group":
            # Whoever speaks in a group is a member; /find plans for the members it knows.
            await self.services.store.add_group_member(
                message.conversation.receiver, message.sender.uid
            )
        text = self._strip_bot_mention(message.text).strip()
        addressed = self._addressed_to_bot(message)
        if not text.startswith("/") and not addressed:
            metrics.inc("calbot_messages_total", outcome="ignored")
            return  # people talking among themselves; phrases only fire when we are asked
        if not await self._first_time(message.id, deduplicated):
            return
        user = await self.services.store.ensure_user(
            message.sender.uid, message.sender.name, settings.default_timezone
        )
        ctx = Context(message=message, user=user, services=self.services)
        if len(text) > MAX_TEXT_LENGTH:
            await ctx.reply(
                f"That message is too long for me ({len(text)} characters; the limit is "
                f"{MAX_TEXT_LENGTH}). Please send a shorter request."
            )
            return
        if text.startswith("/"):
            await self._run_command(ctx, text)
        else:
            await self._run_phrase(ctx, text)

    async def _run_command(self, ctx: Context, text: str) -> None:
        name, _, args = text.partition(" ")
        name = name.split("@", 1)[0].lower()  # "/book@calbot" as some clients send it
        command = self.services.catalog.find(name)
        if command is None:
            await ctx.reply(self._unknown_command(name))
            return
        await self._run(ctx, command, command.parse, command.handler, args.strip())

    async def _run_phrase(self, ctx: Context, text: str) -> None:
        for phrase in self.services.catalog.phrases:
            if phrase.pattern.search(text):
                command = self.services.catalog.find(phrase.command_name)
                if command is None:
                    continue  # Catalog.build refuses such phrases; never reached
                await self._run(ctx, command, phrase.parse, phrase.handler, text)
                return
        await ctx.reply(
            'I didn\'t catch that. Try something like "/book tomorrow 3pm for 30 min", '
            "or send /help to see everything I can do."
        )

    async def _run(
        self, ctx: Context, command: Command, parse: Parser[Any], handler: Handler[Any], args: str
    ) -> None:
        async def parse_then_handle(ctx: Context, text: str) -> None:
            await handler(ctx, parse(ctx, text))

        await self._funnel(ctx, command.name, parse_then_handle, args, usage=command.usage)

    async def _funnel(
        self,
        ctx: Context,
        name: str,
        handler: Handler[Any],
        request: Any,
        *,
        usage: str | None = None,
        answer: bool = True,
    ) -> None:
        """The one error funnel: a UserError's text goes back to the person; anything else is
        a bug, logged with a reference, and the person gets an apology without internals."""
        began = time.perf_counter()
        outcome = "handled"
        try:
            await handler(ctx, request)
        except UsageError as problem:
            outcome = "user_error"
            if answer:
                await ctx.reply(f"{problem.text}\nUsage: {usage}" if usage else problem.text)
        except UserError as problem:
            outcome = "user_error"
            if answer:
                await ctx.reply(problem.text)
        except Exception:
            outcome = "bug"
            ref = uuid.uuid4().hex[:8]
            log.exception("%s failed on event %s (ref %s)", name, ctx.message.id, ref)
            if answer:
                await ctx.reply(
                    f"Sorry, something went wrong on my side (ref {ref}). "
                    "Please try again in a moment."
                )
        finally:
            metrics = self.services.metrics
            metrics.inc("calbot_messages_total", outcome=outcome)
            metrics.observe("calbot_command_seconds", time.perf_counter() - began, command=name)

    def _unknown_command(self, name: str) -> str:
        names = self.services.catalog.names()
        close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
        suggestion = f" Did you mean {close[0]}?" if close else ""
        return f"I don't know the command {name}.{suggestion} Send /help to see what I can do."

    def _strip_bot_mention(self, text: str) -> str:
        bot = self.services.settings.bot_uid
        return re.sub(rf"^\s*@{re.escape(bot)}\b[\s,:]*", "", text, flags=re.IGNORECASE)

    def _addressed_to_bot(self, message: IncomingMessage) -> bool:
        bot = self.services.settings.bot_uid
        if message.conversation.kind == "user" and message.conversation.receiver == bot:
            return True
        return bot in message.mentions or bot in mentioned_uids(message.text)
