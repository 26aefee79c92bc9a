"""Video links on Microsoft 365 events: a Teams meeting made by Graph, or our own link."""

from __future__ import annotations

from typing import Any

from bot.calendars.provider import EventDraft


def video_fields(draft: EventDraft) -> dict[str, Any]:
    """A Teams meeting made by Graph, or the link we made shown as the location."""
    if draft.conference:
        # Work and school accounts only; Outlook.com answers without a join URL, and the
        # booking then simply has no link.
        return {"isOnlineMeeting": True, "onlineMeetingProvider": "teamsForBusiness"}
    if draft.join_url:
        return {"location": {"displayName": draft.join_url}}
    return {}


def join_url(event: dict[str, Any], draft: EventDraft) -> str | None:
    """The Teams join URL Graph made, or the draft's own link."""
    meeting = event.get("onlineMeeting") or {}
    return str(meeting.get("joinUrl") or "") or draft.join_url or None
