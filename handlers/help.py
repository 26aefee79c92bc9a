"""/help: generated from the command declarations, so it can never drift from what exists."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.context import Context
from bot.core.routing import Router
from bot.errors import UserError

router = Router("help")


@dataclass(frozen=True, slots=True)
class HelpRequest:
    topic: str | None


def parse_help(ctx: Context, args: str) -> HelpRequest:
    words = args.split()
    if not words or words[0].lower() in {"help", "what", "can", "commands"}:
        return HelpRequest(None)
    return HelpRequest(words[0])


@router.phrase(r"^\s*(help|what can you do)\b", command="/help", parse=parse_help)
@router.command("/help", usage="/help [command]", parse=parse_help, aliases=("/start",))
async def show_help(ctx: Context, request: HelpRequest) -> None:
    """List what I can do, or explain one command (/help book)."""
    if request.topic is None:
        lines = ["Here is what I can do:"]
        lines += [f"• {c.usage} — {c.summary}" for c in ctx.catalog.commands]
        lines.append("Send /help <command> for details and examples.")
        await ctx.reply("\n".join(lines))
        return
    command = ctx.catalog.find(request.topic)
    if command is None:
        raise UserError(f"There is no command called {request.topic}. Send /help to see them all.")
    lines = [command.usage, command.summary]
    if command.aliases:
        lines.append("Also: " + ", ".join(command.aliases))
    if command.examples:
        lines.append("Examples:")
        lines += [f"  {example}" for example in command.examples]
    await ctx.reply("\n".join(lines))
