from __future__ import annotations

from handlers import ROUTERS
from tests.chat import Chat


async def test_help_lists_every_declared_command(chat: Chat) -> None:
    [reply] = await chat.say("/help")
    for router in ROUTERS:
        for command in router.commands:
            assert f"{command.usage} — {command.summary}" in reply


async def test_help_for_one_command_shows_usage_and_examples(chat: Chat) -> None:
    [reply] = await chat.say("/help timezone")
    assert reply.startswith("/timezone [zone or city]\nShow or set your time zone")
    assert "/timezone Europe/Berlin" in reply
    [same] = await chat.say("/help /timezone")
    assert same == reply


async def test_help_for_unknown_topic_says_so(chat: Chat) -> None:
    assert await chat.say("/help teleport") == [
        "There is no command called teleport. Send /help to see them all."
    ]


async def test_asking_for_help_in_words_works(chat: Chat) -> None:
    [reply] = await chat.say("help")
    assert reply.startswith("Here is what I can do:")
    [start] = await chat.say("/start")
    assert start == reply


def test_examples_mention_only_people_the_demo_has() -> None:
    # A new user copies examples from /help; in the demo they must name people who exist.
    from bot.core.mentions import mentioned_uids
    from bot.demo import DEMO_USERS

    people = {uid for uid, _, _ in DEMO_USERS}
    for router in ROUTERS:
        for command in router.commands:
            for example in command.examples:  # usage lines hold placeholders like @person
                assert set(mentioned_uids(example)) <= people, example
