"""A Google account's calendars (calendarList) and the busy time of the ones a person chose.

Kept apart from google.py, which owns calls, retries and tokens: this module only knows the
shapes of calendarList and freeBusy answers. The primary calendar is addressed as "primary" in
a person's choice; in a group freeBusy query (made with someone else's token) it is the account's
e-mail, which is the primary calendar's id.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from bot.calendars.provider import BusyResult, utc

PRIMARY = "primary"
WRITERS = {"writer", "owner"}
Call = Callable[[Callable[[Any], Any]], Awaitable[dict[str, Any]]]


async def listing(call: Call) -> list[tuple[str, str, bool]]:
    """(id, name, writable) of every calendar whose busy time the account can read."""
    found: list[tuple[str, str, bool]] = []
    page: str | None = None
    while True:
        options: dict[str, Any] = {"minAccessRole": "freeBusyReader", "maxResults": 250}
        if page:
            options["pageToken"] = page
        answer = await call(_list_page(options))
        for item in answer.get("items", []):
            calendar_id = PRIMARY if item.get("primary") else str(item["id"])
            name = str(item.get("summaryOverride") or item.get("summary") or item["id"])
            found.append((calendar_id, name, item.get("accessRole") in WRITERS))
        page = answer.get("nextPageToken")
        if not page:
            return found


def _list_page(options: dict[str, Any]) -> Callable[[Any], Any]:
    return lambda api: api.calendarList().list(**options)


def group_ids(account: str, busy: Sequence[str]) -> list[str]:
    """The ids to ask for in a query made with another member's token."""
    return [account if calendar_id == PRIMARY else calendar_id for calendar_id in busy]


def merged(answer: dict[str, Any], ids: Sequence[str]) -> BusyResult | None:
    """The busy time of all `ids` together, or None when any of them was not readable."""
    spans: list[tuple[datetime, datetime]] = []
    for calendar_id in ids:
        entry = answer.get(calendar_id)
        if entry is None and len(ids) == 1 and len(answer) == 1:
            entry = next(iter(answer.values()))  # "primary" may come back under the e-mail
        if entry is None or entry.get("errors"):
            return None
        spans += [(_parse(b["start"]), _parse(b["end"])) for b in entry.get("busy", [])]
    return BusyResult(tuple(sorted(set(spans))))


def problems(answer: dict[str, Any], ids: Sequence[str]) -> str:
    reasons = [
        str(error.get("reason", "?"))
        for calendar_id in ids
        for error in (answer.get(calendar_id) or {"errors": [{"reason": "no answer"}]}).get(
            "errors", []
        )
    ]
    return ", ".join(reasons) or "no answer"


def _parse(text: str) -> datetime:
    return utc(datetime.fromisoformat(text.replace("Z", "+00:00")))
