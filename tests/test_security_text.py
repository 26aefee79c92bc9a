"""What others typed, as an attacker types it: display names with bidi overrides, zero-width
characters, CR/LF and megabytes are cleaned where they arrive, so no page, card, .ics, event
or log line ever sees them raw."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.core.text import MAX_NAME, clean_name
from bot.transports.cometchat import incoming
from tests.test_cometchat import message

HOSTILE = "Mallory\u202egpj.exe\r\nATTENDEE:mailto:evil@example.com\u200b\x00" + "x" * 5000


def test_a_hostile_sender_name_is_cleaned_at_the_edge() -> None:
    payload = message("/help")
    payload["data"]["entities"]["sender"]["entity"]["name"] = HOSTILE
    payload["data"]["mentions"] = {"bob": {"name": "Bob\u2066\nInjected"}}
    event = incoming(payload)
    assert event is not None
    name = event.sender.name
    assert name.startswith("Mallory")
    assert not {"\u202e", "\r", "\n", "\u200b", "\x00"} & set(name)
    assert len(name) <= MAX_NAME
    assert event.mentions == {"bob": "Bob Injected"}


def test_an_empty_or_invisible_name_falls_back_to_the_uid() -> None:
    payload = message("/help", sender="dave")
    payload["data"]["entities"]["sender"]["entity"]["name"] = "\u200b\u202e \r\n"
    event = incoming(payload)
    assert event is not None and event.sender.name == "dave"


@given(st.text())
def test_any_name_becomes_one_visible_line(text: str) -> None:
    cleaned = clean_name(text, "someone")
    assert cleaned and len(cleaned) <= MAX_NAME and cleaned == cleaned.strip()
    assert not any(ord(c) < 0x20 or 0x202A <= ord(c) <= 0x202E for c in cleaned)
    cleaned.encode("utf-8")  # no lone surrogates left
