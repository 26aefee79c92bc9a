"""The dispatcher as a user meets it: routing, the error funnel, duplicates, own messages."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pytest

from bot.core.context import Context
from bot.core.routing import Router
from bot.errors import UsageError, UserError
from handlers import ROUTERS
from storage import SqlStore
from tests.chat import BOT_UID, Chat
from tests.fakes import FrozenClock


@dataclass(frozen=True, slots=True)
class Echo:
    words: tuple[str, ...]


def parse_echo(ctx: Context, args: str) -> Echo:
    if not args:
        raise UsageError("Tell me what to echo.")
    return Echo(tuple(args.split()))


def build_test_router() -> Router:
    router = Router("test")

    @router.phrase(r"\becho\b", command="/echo", parse=lambda ctx, text: Echo(("phrase",)))
    @router.command("/echo", usage="/echo <words>", parse=parse_echo)
    async def echo(ctx: Context, request: Echo) -> None:
        """Say the words back."""
        if request.words == ("refuse",):
            raise UserError("I won't echo that; try other words.")
        if request.words == ("crash",):
            raise RuntimeError("secret internal detail")
        await ctx.reply(" ".join(request.words))

    return router


@pytest.fixture
def echo_chat(store: SqlStore, clock: FrozenClock) -> Chat:
    return Chat(store, clock, routers=(build_test_router(), *ROUTERS))


async def test_command_runs_with_parsed_request(echo_chat: Chat) -> None:
    assert await echo_chat.say("/echo hello world") == ["hello world"]


async def test_command_names_are_case_insensitive_and_accept_bot_suffix(echo_chat: Chat) -> None:
    assert await echo_chat.say("/ECHO hi") == ["hi"]
    assert await echo_chat.say("/echo@calbot hi") == ["hi"]


async def test_usage_error_shows_the_declared_usage(echo_chat: Chat) -> None:
    assert await echo_chat.say("/echo") == ["Tell me what to echo.\nUsage: /echo <words>"]


async def test_user_error_text_is_shown_as_is(echo_chat: Chat) -> None:
    assert await echo_chat.say("/echo refuse") == ["I won't echo that; try other words."]


async def test_a_bug_is_logged_with_a_reference_and_answered_with_an_apology(
    echo_chat: Chat, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        replies = await echo_chat.say("/echo crash")
    assert len(replies) == 1
    assert replies[0].startswith("Sorry, something went wrong on my side (ref ")
    assert "secret internal detail" not in replies[0]
    ref = replies[0].split("(ref ")[1][:8]
    assert any(ref in record.getMessage() and record.exc_info for record in caplog.records)


async def test_unknown_command_suggests_the_nearest(echo_chat: Chat) -> None:
    assert await echo_chat.say("/ecoh hi") == [
        "I don't know the command /ecoh. Did you mean /echo? Send /help to see what I can do."
    ]
    assert await echo_chat.say("/zzzzzz") == [
        "I don't know the command /zzzzzz. Send /help to see what I can do."
    ]


async def test_own_messages_are_ignored(echo_chat: Chat) -> None:
    assert await echo_chat.say("/echo loop", sender=BOT_UID) == []


async def test_redelivered_message_is_handled_once(echo_chat: Chat) -> None:
    assert await echo_chat.say("/echo once", message_id="42") == ["once"]
    assert await echo_chat.say("/echo once", message_id="42") == []


async def test_people_chatting_among_themselves_are_left_alone(echo_chat: Chat) -> None:
    assert await echo_chat.say("echo is a nice word", to="bob") == []
    assert await echo_chat.say("lunch anyone?", group="team") == []


async def test_phrases_fire_when_the_bot_is_addressed(echo_chat: Chat) -> None:
    assert await echo_chat.say("please echo something") == ["phrase"]
    mention = f"@{BOT_UID} echo please"
    assert await echo_chat.say(mention, group="team", mentions={BOT_UID: "Bot"}) == ["phrase"]


async def test_unmatched_text_to_the_bot_gets_a_hint(echo_chat: Chat) -> None:
    replies = await echo_chat.say("what is the meaning of life")
    assert len(replies) == 1 and "/help" in replies[0]


async def test_group_replies_go_to_the_group_and_private_replies_to_the_sender(
    echo_chat: Chat,
) -> None:
    await echo_chat.say("/echo hi", group="team")
    await echo_chat.say("/echo hi", to="bob")
    group_reply, private_reply = echo_chat.sent
    assert (group_reply.receiver_type, group_reply.receiver) == ("group", "team")
    assert (private_reply.receiver_type, private_reply.receiver) == ("user", "alice")


async def test_overlong_messages_get_a_clear_reply(echo_chat: Chat) -> None:
    replies = await echo_chat.say("/echo " + "x" * 5000)
    assert len(replies) == 1 and "too long" in replies[0]


async def test_empty_messages_are_ignored(echo_chat: Chat) -> None:
    assert await echo_chat.say("   ") == []
