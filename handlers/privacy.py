"""/forget-me: delete what the bot keeps about you, after you confirm."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.context import Context
from bot.core.routing import Router
from bot.errors import UsageError

router = Router("privacy")

CONFIRM_WORD = "yes"


@dataclass(frozen=True, slots=True)
class ForgetRequest:
    confirmed: bool


def parse_forget(ctx: Context, args: str) -> ForgetRequest:
    word = args.strip().lower()
    if word not in ("", CONFIRM_WORD):
        raise UsageError(
            f"Send /forget-me to see what I would delete, then /forget-me {CONFIRM_WORD} to "
            f"delete it (I got {args!r})."
        )
    return ForgetRequest(confirmed=word == CONFIRM_WORD)


@router.command("/forget-me", usage="/forget-me [yes]", parse=parse_forget)
async def forget_me(ctx: Context, request: ForgetRequest) -> None:
    """Delete your calendar connection, shares and settings (asks you to confirm first)."""
    if not request.confirmed:
        await ctx.reply(
            "This deletes your calendar connection (and its keys), every link you shared, your "
            "settings and group memberships. Meetings already booked stay in the calendars; "
            f"I keep only what those events hold. Send /forget-me {CONFIRM_WORD} to go ahead."
        )
        return
    uid = ctx.user.uid
    connection = await ctx.store.get_connection(uid)
    if connection is not None:
        # Give the grant back before its sealed token is deleted: afterwards nobody could.
        await ctx.calendar.revoke(connection)
    await ctx.store.forget_user(uid)
    await ctx.reply(
        "Done: I deleted your calendar connection, your shared links, settings and group "
        "memberships. Booking links you sent no longer work. Say hello any time to start again."
    )
