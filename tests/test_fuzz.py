"""Hostile input, generated: the webhook answers 200/400/413 and the bot answers every command
sent to it with a clear reply; nothing reaches the bug funnel or kills a background task."""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.config import CometChatConfig, Config
from bot.core.messages import Conversation, IncomingMessage, Sender
from storage import open_store
from tests.chat import Chat, meet
from tests.fakes import FrozenClock
from tests.site import Site, running_site
from tests.test_cometchat import AUTH, current, message

T = TypeVar("T")
FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
NOW = datetime(2026, 11, 24, 15, tzinfo=UTC)
SORRY = "Sorry, something went wrong on my side"

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=16,
)

CLICK: dict[str, Any] = {
    "trigger": "ui_message_interacted",
    "payload": {"kind": "book", "shareId": "s1"},
    "data": {
        "messageId": 1,
        "interactionTimezoneCode": "Europe/Berlin",
        "interactedBy": "bob",
        "schedulerData": {"meetStartAt": "2026-11-25T15:00", "duration": 30},
    },
}
JOIN: dict[str, Any] = {
    "trigger": "group_member_joined",
    "data": {"group": {"guid": "team"}, "user": {"uid": "carol"}},
}
TEMPLATES = [current(message("/help")), current(message("/book @alice tomorrow 3pm")), CLICK, JOIN]


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _paths(inner, (*prefix, index))


@st.composite
def mutated(draw: st.DrawFn) -> Any:
    """A real payload with one part swapped for arbitrary JSON (wrong types, huge numbers...)."""
    body = copy.deepcopy(draw(st.sampled_from(TEMPLATES)))
    path = draw(st.sampled_from([p for p in _paths(body) if p]))
    target = body
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = draw(json_values)
    return body


@contextmanager
def running(tmp_path: Path) -> Iterator[tuple[asyncio.Runner, Site]]:
    """A live bot site inside an event loop that hypothesis' (synchronous) examples can use."""
    with asyncio.Runner() as runner:
        context = running_site(tmp_path, FrozenClock(NOW), configure=_with_webhook_auth)
        site = runner.run(context.__aenter__())
        try:
            yield runner, site
        finally:
            runner.run(context.__aexit__(None, None, None))


def _with_webhook_auth(config: Config) -> Config:
    return replace(
        config,
        cometchat=CometChatConfig(webhook_username="hook-user", webhook_password="hook-pass"),
    )


def _bugs(site: Site) -> float:
    return site.runtime.services.metrics.value("calbot_messages_total", outcome="bug")


async def _post(site: Site, raw: bytes) -> int:
    response = await site.client.post(
        "/cometchat/webhook",
        data=raw,
        headers={"Authorization": AUTH, "Content-Type": "application/json"},
    )
    await site.runtime.background.drain()
    await site.runtime.services.outbox.flush()
    return response.status


def _check(strategy: st.SearchStrategy[T], body: Callable[[T], None]) -> None:
    FUZZ(given(strategy)(body))()


def test_the_webhook_answers_any_body_with_200_400_or_413(tmp_path: Path) -> None:
    with running(tmp_path) as (runner, site):
        statuses: set[int] = set()

        def one(raw: bytes) -> None:
            status = runner.run(_post(site, raw))
            statuses.add(status)
            assert status in {200, 400, 413}, raw[:200]

        bodies = st.one_of(
            mutated().map(lambda b: json.dumps(b).encode()),
            json_values.map(lambda b: json.dumps(b).encode()),
            st.binary(max_size=300),
            st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
        )
        _check(bodies, one)
        assert (
            runner.run(_post(site, json.dumps(current(message("/help", message_id="z"))).encode()))
            == 200
        )
        assert {200, 400} <= statuses  # both paths were exercised
        assert site.runtime.background.failed == 0
        assert _bugs(site) == 0
        assert not any(SORRY in m.text for m in site.transport.sent)


WORDS = [
    "tomorrow", "3pm", "at", "noon", "for", "30", "min", "next", "friday", "@bob", "@alice",
    "@nobody", "in", "Europe/Berlin", "Europe", "../etc/passwd", "America/New\ud800York", "PST",
    "about", '"', "<script>alert(1)</script>", "\r\nATTENDEE:mailto:a@evil", "\u202eexe",
    "99999999999999999999", "2026-02-30", "-5", "0", "24:00", "13pm", "🗓️", "week", "dmy",
    "working", "9-5", "mon-fri", "yes", "no", "1", "options", "\x00", "x" * 300,
]  # fmt: skip


@st.composite
def commands(draw: st.DrawFn) -> str:
    name = draw(
        st.sampled_from(
            ["/book", "/share", "/find", "/vote", "/settings", "/help", "/connect", "/disconnect",
             "/cancel", "/bookings", "/invite", "/tz", "/bogus", ""]
        )
    )  # fmt: skip
    args = draw(st.lists(st.sampled_from(WORDS) | st.text(max_size=12), max_size=8))
    return (name + " " + " ".join(args)).strip()


def test_every_command_sent_to_the_bot_gets_a_clear_reply(tmp_path: Path) -> None:
    with asyncio.Runner() as runner:
        store = runner.run(open_store(f"sqlite+aiosqlite:///{tmp_path / 'fuzz.db'}"))
        clock = FrozenClock(NOW)
        chat = Chat(store, clock)
        runner.run(meet(store, "alice", "America/New_York"))
        runner.run(meet(store, "bob", "Europe/Berlin"))
        runner.run(chat.say("/share @bob", "alice"))
        counter = iter(range(10**9))

        def one(text: str) -> None:
            sender = "bob" if next(counter) % 2 else "alice"
            before = len(chat.transport.sent)
            runner.run(
                chat.dispatcher.dispatch(
                    IncomingMessage(
                        f"f{next(counter)}",
                        Sender(sender, sender.title()),
                        Conversation("user", "calbot"),
                        text,
                        clock.now(),
                    )
                )
            )
            runner.run(chat.services.outbox.flush())
            replies = [m.text for m in chat.transport.sent[before:] if m.receiver == sender]
            if text.strip():
                assert replies, f"no reply to {text!r}"
            assert not any(SORRY in r or "Traceback" in r for r in replies), (text, replies)

        try:
            _check(st.one_of(commands(), st.text(max_size=80)), one)
            assert chat.services.metrics.value("calbot_messages_total", outcome="bug") == 0
        finally:
            runner.run(store.close())
