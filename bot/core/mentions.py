"""@mentions in command text: CometChat's `<@uid:bob>` and a typed `@bob` mean the same."""

from __future__ import annotations

import re

MENTION = re.compile(r"<@uid:([^>\s]+)>|(?<![\w.])@([a-z0-9][\w.-]*)", re.IGNORECASE)


def mentioned_uids(text: str) -> list[str]:
    """Mentioned uids in order, lower-cased (CometChat lower-cases uids), without repeats."""
    seen: list[str] = []
    for match in MENTION.finditer(text):
        uid = (match.group(1) or match.group(2)).lower().rstrip(".")
        if uid not in seen:
            seen.append(uid)
    return seen


def strip_mentions(text: str) -> str:
    return " ".join(MENTION.sub(" ", text).split())
