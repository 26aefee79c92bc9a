"""@mentions in command text (transports turn their own markup into a plain `@uid` first)."""

from __future__ import annotations

import re

MENTION = re.compile(r"(?<![\w.])@([a-z0-9][\w.-]*)", re.IGNORECASE)


def mentioned_uids(text: str) -> list[str]:
    """Mentioned uids in order, lower-cased (CometChat lower-cases uids), without repeats."""
    seen: list[str] = []
    for match in MENTION.finditer(text):
        uid = match.group(1).lower().rstrip(".")
        if uid not in seen:
            seen.append(uid)
    return seen


def strip_mentions(text: str) -> str:
    return " ".join(MENTION.sub(" ", text).split())
