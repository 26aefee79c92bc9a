"""Cleaning what other people typed before we show it to someone else: names, group names and
titles reach pages, cards, .ics files, calendar events and logs."""

from __future__ import annotations

import unicodedata

MAX_NAME = 100
# Bidirectional overrides/isolates and zero-width characters can make text read differently
# from what it says ("Pay\u202eexe.pdf"); other control characters (CR, LF) break lines in
# invites, events and log lines.
INVISIBLE = dict.fromkeys(
    [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0), *range(0x202A, 0x202F),
     *range(0x2066, 0x206A), 0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0x2060, 0xFEFF],
    " ",
)  # fmt: skip


def clean_line(text: str, fallback: str, limit: int) -> str:
    """One line of visible text, NFC, at most `limit` characters; `fallback` when nothing is
    left. Lone surrogates (invalid UTF-16 halves) are dropped."""
    encoded = text.encode("utf-8", "ignore").decode("utf-8")
    cleaned = " ".join(unicodedata.normalize("NFC", encoded).translate(INVISIBLE).split())
    return cleaned[:limit].strip() or fallback


def clean_name(text: str, fallback: str) -> str:
    """A display or group name as others will see it."""
    return clean_line(text, fallback, MAX_NAME)
