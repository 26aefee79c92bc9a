"""/connect and /disconnect: linking a calendar to a chat identity."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.context import Context
from bot.core.routing import Router
from bot.errors import UsageError, UserError

router = Router("connect")


@dataclass(frozen=True, slots=True)
class NoArgs:
    pass


def parse_no_args(ctx: Context, args: str) -> NoArgs:
    if args:
        raise UsageError(f"This command takes nothing after it (I got {args!r}).")
    return NoArgs()


@router.command("/connect", usage="/connect", parse=parse_no_args)
async def connect(ctx: Context, request: NoArgs) -> None:
    """Connect your calendar so you can share your free time and be booked."""
    offered = ctx.calendar.capabilities
    if offered.connect != "none":
        link = ctx.services.urls.connect(ctx.user.uid, ctx.clock.now())
        await ctx.reply(
            f"Open your personal page to connect {offered.label} (valid for 10 minutes, "
            f"don't share it): {link}"
        )
        return
    existing = await ctx.store.get_connection(ctx.user.uid)
    if existing is not None and existing.status == "active":
        await ctx.reply("Your calendar is already connected. /share sends your free time.")
        return
    await ctx.store.save_connection(ctx.user.uid, "local", ctx.user.uid, None)
    await ctx.reply(
        "Done: your calendar on this server is connected. "
        "Send /share @someone to let them book time with you."
    )


@router.command("/disconnect", usage="/disconnect", parse=parse_no_args)
async def disconnect(ctx: Context, request: NoArgs) -> None:
    """Disconnect your calendar; booking links you shared stop working."""
    connection = await ctx.store.get_connection(ctx.user.uid)
    if connection is not None:
        await ctx.calendar.revoke(connection)
    if not await ctx.store.delete_connection(ctx.user.uid):
        raise UserError("You have no calendar connected. /connect links one.")
    await ctx.reply(
        "Disconnected. Booking links you shared no longer work; /connect to link again."
    )
