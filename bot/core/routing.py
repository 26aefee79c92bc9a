"""Routers: passive lists of command and phrase declarations, one router per handler module.

A declaration carries everything `/help` and usage errors need, and a `parse` function that
turns the raw argument text into a frozen request before the handler runs. Slash commands and
natural-language phrases that mean the same thing share the handler and the request type.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from bot.core.context import Context

R = TypeVar("R")
Parser = Callable[["Context", str], R]
Handler = Callable[["Context", R], Awaitable[None]]

COMMAND_NAME = re.compile(r"^/[a-z][a-z0-9_-]{0,31}$")


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    usage: str
    summary: str
    parse: Parser[Any]
    handler: Handler[Any]
    aliases: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Phrase:
    """Free text that means a command: `pattern` is searched in the message text."""

    pattern: re.Pattern[str]
    command_name: str
    parse: Parser[Any]
    handler: Handler[Any]


@dataclass(frozen=True, slots=True)
class Observer:
    """A handler for a kind of non-message event (a scheduler pick, a membership change)."""

    kind: type
    handler: Handler[Any]
    name: str


class RoutingError(Exception):
    """A declaration mistake, raised while the app is being built, never at chat time."""


class Router:
    def __init__(self, name: str) -> None:
        self.name = name
        self.commands: list[Command] = []
        self.phrases: list[Phrase] = []
        self.observers: list[Observer] = []

    def command(
        self,
        name: str,
        *,
        usage: str,
        parse: Parser[Any],
        aliases: Sequence[str] = (),
        examples: Sequence[str] = (),
    ) -> Callable[[Handler[R]], Handler[R]]:
        def register(handler: Handler[R]) -> Handler[R]:
            _check_handler(handler, name)
            for declared in (name, *aliases):
                if not COMMAND_NAME.match(declared):
                    raise RoutingError(f"{declared!r} is not a valid command name (like /book)")
            if not usage.startswith(name):
                raise RoutingError(f"usage of {name} must start with the command: {usage!r}")
            self.commands.append(
                Command(
                    name=name,
                    usage=usage,
                    summary=_summary(handler, name),
                    parse=parse,
                    handler=handler,
                    aliases=tuple(aliases),
                    examples=tuple(examples),
                )
            )
            return handler

        return register

    def event(self, kind: type[R]) -> Callable[[Handler[R]], Handler[R]]:
        """Observe a non-message event: `handler(ctx, event)` runs inside the error funnel."""

        def register(handler: Handler[R]) -> Handler[R]:
            _check_handler(handler, kind.__name__)
            self.observers.append(Observer(kind, handler, f"{self.name}:{kind.__name__}"))
            return handler

        return register

    def phrase(
        self, pattern: str, *, command: str, parse: Parser[Any]
    ) -> Callable[[Handler[R]], Handler[R]]:
        compiled = re.compile(pattern, re.IGNORECASE)

        def register(handler: Handler[R]) -> Handler[R]:
            _check_handler(handler, command)
            self.phrases.append(Phrase(compiled, command, parse, handler))
            return handler

        return register


@dataclass(frozen=True, slots=True)
class Catalog:
    """Every declared command and phrase, checked for clashes, in the routers' order."""

    commands: tuple[Command, ...]
    phrases: tuple[Phrase, ...]
    observers: tuple[Observer, ...] = ()

    @classmethod
    def build(cls, routers: Iterable[Router]) -> Catalog:
        commands: list[Command] = []
        phrases: list[Phrase] = []
        seen: dict[str, str] = {}
        router_list = list(routers)
        names = [r.name for r in router_list]
        if len(names) != len(set(names)):
            raise RoutingError(f"router listed twice: {names}")
        for router in router_list:
            for command in router.commands:
                for name in (command.name, *command.aliases):
                    if name in seen:
                        raise RoutingError(
                            f"{name} is declared by both {seen[name]} and {router.name}"
                        )
                    seen[name] = router.name
                commands.append(command)
            phrases.extend(router.phrases)
        for phrase in phrases:
            if phrase.command_name not in seen:
                raise RoutingError(f"phrase {phrase.pattern.pattern!r} names unknown command")
        observers = [o for router in router_list for o in router.observers]
        kinds = [o.kind for o in observers]
        if len(kinds) != len(set(kinds)):
            raise RoutingError(f"an event kind has two observers: {[o.name for o in observers]}")
        return cls(tuple(commands), tuple(phrases), tuple(observers))

    def observer(self, kind: type) -> Observer | None:
        return next((o for o in self.observers if o.kind is kind), None)

    def find(self, name: str) -> Command | None:
        wanted = name.lower()
        if not wanted.startswith("/"):
            wanted = "/" + wanted
        for command in self.commands:
            if wanted == command.name or wanted in command.aliases:
                return command
        return None

    def names(self) -> list[str]:
        return [name for c in self.commands for name in (c.name, *c.aliases)]


def _check_handler(handler: Callable[..., Any], name: str) -> None:
    if not inspect.iscoroutinefunction(handler):
        raise RoutingError(f"handler for {name} must be an async function")


def _summary(handler: Callable[..., Any], name: str) -> str:
    doc = inspect.getdoc(handler)
    if not doc:
        raise RoutingError(
            f"handler for {name} needs a docstring: its first line is the /help text"
        )
    return doc.splitlines()[0].strip()
