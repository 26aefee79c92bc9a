"""`calbot invite`: the same links and .ics as the invite message, for one event."""

from __future__ import annotations

import json
import sys
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.scheduling.invites import Invite, ics, links


def run_invite(
    title: str, start: str, end: str, tz: str, description: str, location: str, *, as_json: bool
) -> int:
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        print(
            f"calbot invite: unknown time zone {tz!r}; use an IANA name such as Europe/Berlin",
            file=sys.stderr,
        )
        return 2
    try:
        begins, ends = _moment(start, zone), _moment(end, zone)
    except ValueError:
        print(
            "calbot invite: --start and --end must be ISO 8601, e.g. 2026-12-01T14:00",
            file=sys.stderr,
        )
        return 2
    if ends <= begins:
        print("calbot invite: --end must be after --start", file=sys.stderr)
        return 2
    if not title.strip():
        print("calbot invite: --title must not be empty", file=sys.stderr)
        return 2
    # The same inputs give the same UID and bytes, like a booking does.
    uid = str(
        uuid.uuid5(uuid.NAMESPACE_URL, f"calbot:{title}:{begins.isoformat()}:{ends.isoformat()}")
    )
    invite = Invite(
        uid=uid,
        title=title,
        start=begins,
        end=ends,
        timezone=tz,
        description=description,
        location=location,
        created=begins,
    )
    urls, text = links(invite), ics(invite)
    if as_json:
        print(json.dumps({"links": urls, "ics": text}))
    else:
        for name, url in urls.items():
            print(f"{name}: {url}")
        print()
        print(text.replace("\r\n", "\n"), end="")
    return 0


def _moment(text: str, zone: ZoneInfo) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        from bot.timeparse import wall_clock

        return wall_clock(moment.date(), moment.time(), zone)
    return moment
