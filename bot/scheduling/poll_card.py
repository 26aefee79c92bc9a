"""The /find poll card: one live message per poll, edited in place as votes arrive.

The text fallback shows each option in UTC and in every participant's own zone, because a
reader of plain text can't be shown "your zone"; customData carries instants (UTC) and each
member's zone so a rich client renders every option on the reader's own clock.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.core.messages import OutgoingMessage
from bot.scheduling.cards import iso
from bot.scheduling.polls import Person, SlotState
from storage.records import Poll

POLL_TYPE = "extension_calendar_poll"


def ref(poll: Poll) -> str:
    """The name the transport knows the card by, so later versions replace it."""
    return f"poll:{poll.id}"


def local_times(start: datetime, who: list[Person]) -> str:
    """'Tue 15:00 UTC - 10:00 New York, 16:00 Berlin, Wed 00:00 Tokyo' (the day is named
    where it differs from UTC's, the mistake that moved meetings in other tools)."""
    base = start.astimezone(UTC)
    parts = []
    for zone in dict.fromkeys(p.zone for p in who):
        if zone.key in ("UTC", "Etc/UTC"):
            continue
        local = start.astimezone(zone)
        day = f"{local:%a} " if local.date() != base.date() else ""
        parts.append(f"{day}{local:%H:%M} {zone.key.split('/')[-1].replace('_', ' ')}")
    head = f"{base:%a} {base.day} {base:%b} {base:%H:%M} UTC"
    return f"{head} - {', '.join(parts)}" if parts else head


def _names(uids: tuple[str, ...] | list[str], who: dict[str, Person]) -> str:
    return ", ".join(who[uid].name for uid in uids)


def option_line(poll: Poll, state: SlotState, who: dict[str, Person]) -> str:
    parts = []
    if state.yes:
        parts.append(f"yes: {_names(state.yes, who)}")
    if state.free:
        parts.append(f"free: {_names(state.free, who)}")
    if state.unknown:
        parts.append(f"to vote: {_names(state.unknown, who)}")
    if state.busy:
        parts.append(f"busy: {_names(state.busy, who)}")
    if state.no:
        parts.append(f"no: {_names(state.no, who)}")
    for uid, (clock, how) in state.outside.items():
        parts.append(f"compromise: {clock} for {who[uid].name} ({how})")
    when = local_times(state.start, list(who.values()))
    return f"{state.index + 1}) {when} — {' · '.join(parts)}"


def fits(poll: Poll, found: list[SlotState]) -> bool:
    """Whether some option suits every required member's calendar and working hours."""
    return any(
        not any(poll.members.get(uid) for uid in (*s.outside, *s.busy, *s.no)) for s in found
    )


def card_text(poll: Poll, found: list[SlotState], who: dict[str, Person], status: str) -> str:
    minutes = int((poll.slots[0][1] - poll.slots[0][0]).total_seconds() // 60)
    head = f"{poll.title} ({minutes} min, {len(poll.members)} people)."
    if fits(poll, found):
        head += " Times inside everyone's working hours and free in every connected calendar:"
    else:
        head += (
            " No time suits everyone inside their working hours and calendars. "
            "Best compromises, fairest first (who can't, and why):"
        )
    rule = (
        "Tap an option (or /vote 2 yes). I book an option once every required person has "
        "said yes; a compromise needs the yes of each person it is early or late for."
    )
    if poll.auto:
        rule += " As asked (auto), people who don't answer count as yes where they're free."
    unknown = sorted({uid for s in found for uid in s.unknown}, key=list(poll.members).index)
    lines = [head, *(option_line(poll, s, who) for s in found), rule]
    if unknown:
        lines.append(f"{_names(unknown, who)}: no calendar connected, so please vote by tapping.")
    if status:
        lines.insert(0, status)
    return "\n".join(lines)


def poll_card(
    poll: Poll,
    found: list[SlotState],
    who: dict[str, Person],
    *,
    status: str = "",
    edit: bool = False,
) -> OutgoingMessage:
    """The card; with `edit` it replaces the poll's first card instead of adding one."""
    data: dict[str, Any] = {
        "text": card_text(poll, found, who, status),
        "customData": {
            "version": 1,
            "pollId": poll.id,
            "title": poll.title,
            "status": poll.status,
            "fits": fits(poll, found),
            "auto": poll.auto,
            "slots": [
                {
                    "start": iso(s.start),
                    "end": iso(s.end),
                    "yes": list(s.yes),
                    "no": list(s.no),
                    "free": list(s.free),
                    "busy": list(s.busy),
                    "unknown": list(s.unknown),
                    "compromiseFor": {uid: f"{c} ({h})" for uid, (c, h) in s.outside.items()},
                }
                for s in found
            ],
            "members": {
                uid: {"required": needed, "name": who[uid].name, "timezone": who[uid].zone.key}
                for uid, needed in poll.members.items()
            },
        },
    }
    return OutgoingMessage(
        poll.guid,
        "group",
        POLL_TYPE,
        data,
        category="custom",
        on_behalf_of=None,
        ref=None if edit else ref(poll),
        edit_of=ref(poll) if edit else None,
    )
