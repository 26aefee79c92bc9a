"""[calendar] event_title: what others type can be kept out of the owner's calendar."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bot.config import CalendarConfig, ConfigError, load_config
from bot.scheduling.booking import event_id
from storage import SqlStore
from tests.chat import TEST_CONFIG, Chat, meet
from tests.fakes import FrozenClock


@pytest.mark.parametrize(
    ("template", "expected"), [("", "Free pizza"), ("{booker} / {owner}", "Bob / Alice")]
)
async def test_the_owners_event_is_named_by_the_template(
    store: SqlStore, clock: FrozenClock, template: str, expected: str
) -> None:
    await meet(store, "alice", "America/New_York")
    await meet(store, "bob", "Europe/Berlin")
    config = replace(TEST_CONFIG, calendar=CalendarConfig(event_title=template))
    chat = Chat(store, clock, config=config)
    await chat.say("/share @bob", sender="alice")
    replies = await chat.say('/book tomorrow 3pm "Free pizza\u202e"', sender="bob")
    assert replies[-1].startswith("Booked “Free pizza” with Alice")  # the booker sees theirs
    [booked] = await store.upcoming_bookings("alice", clock.now())
    event = await store.get_local_event("alice", event_id(booked))
    assert event is not None and event.title == expected


def test_a_template_with_unknown_placeholders_is_refused_when_the_config_is_read(
    tmp_path: Path,
) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[calendar]\nevent_title = "{booker.__class__} {secret}"\n')
    with pytest.raises(ConfigError, match="event_title"):
        load_config(path, {})
