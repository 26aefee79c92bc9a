"""A Microsoft 365 mailbox's calendars (`/me/calendars`) and how to address each one.

Kept apart from microsoft.py, which owns calls, retries and tokens: this module only knows the
shape of the calendar list and Graph's paths. The default calendar is "default" in a person's
choice (as Google's primary is "primary") and is addressed through `/me/calendarView` and
`/me/events`, so a person who never chose anything costs exactly the calls it did before.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from yarl import URL

DEFAULT = "default"
SELECT = "id,name,canEdit,isDefaultCalendar"
Call = Callable[[URL], Awaitable[dict[str, Any]]]


def base(api: str, calendar_id: str) -> URL:
    """The path under which `calendar_id`'s calendarView and events live."""
    if calendar_id == DEFAULT:
        return URL(f"{api}/me")
    return URL(f"{api}/me/calendars") / calendar_id


async def listing(api: str, call: Call) -> list[tuple[str, str, bool]]:
    """(id, name, writable) of every calendar in the mailbox, the default one first."""
    found: list[tuple[str, str, bool]] = []
    url: URL | None = URL(f"{api}/me/calendars").with_query({"$select": SELECT})
    while url is not None:
        page = await call(url)
        for item in page.get("value", []):
            calendar_id = DEFAULT if item.get("isDefaultCalendar") else str(item["id"])
            name = str(item.get("name") or "Calendar")
            found.append((calendar_id, name, bool(item.get("canEdit"))))
        link = page.get("@odata.nextLink")
        url = URL(link, encoded=True) if link else None
    found.sort(key=lambda entry: entry[0] != DEFAULT)
    return found
