from __future__ import annotations

import pytest

from bot.core.context import Context
from bot.core.routing import Catalog, Router, RoutingError


def _noop(ctx: Context, args: str) -> None:
    return None


def test_handlers_must_be_async_and_documented() -> None:
    router = Router("r")
    with pytest.raises(RoutingError, match="async"):
        router.command("/x", usage="/x", parse=_noop)(lambda ctx, req: None)  # type: ignore[arg-type,return-value]

    async def undocumented(ctx: Context, request: None) -> None:
        return None

    with pytest.raises(RoutingError, match="docstring"):
        router.command("/x", usage="/x", parse=_noop)(undocumented)


def test_command_names_and_usage_are_checked() -> None:
    router = Router("r")

    async def handler(ctx: Context, request: None) -> None:
        """Do it."""

    with pytest.raises(RoutingError, match="valid command name"):
        router.command("book", usage="book", parse=_noop)(handler)
    with pytest.raises(RoutingError, match="must start with"):
        router.command("/book", usage="book it", parse=_noop)(handler)


def test_duplicate_names_across_routers_fail_at_build_time() -> None:
    async def handler(ctx: Context, request: None) -> None:
        """Do it."""

    first, second = Router("first"), Router("second")
    first.command("/book", usage="/book", parse=_noop)(handler)
    second.command("/reserve", usage="/reserve", parse=_noop, aliases=("/book",))(handler)
    with pytest.raises(RoutingError, match="/book is declared by both first and second"):
        Catalog.build([first, second])


def test_phrase_must_name_a_declared_command() -> None:
    async def handler(ctx: Context, request: None) -> None:
        """Do it."""

    router = Router("r")
    router.phrase("book", command="/book", parse=_noop)(handler)
    with pytest.raises(RoutingError, match="unknown command"):
        Catalog.build([router])
