"""Video links on Google events: a Meet made by Google, or a link made elsewhere as location."""

from __future__ import annotations

from typing import Any

from bot.calendars.provider import EventDraft


def video_fields(draft: EventDraft) -> dict[str, Any]:
    """The event fields that carry the draft's video link. A Meet's requestId is our event id,
    so a retried insert asks for the same conference instead of a second one."""
    if draft.conference:
        return {
            "conferenceData": {
                "createRequest": {
                    "requestId": draft.event_id,
                    "conferenceSolutionKey": {"type": "hangoutsMeet"},
                }
            }
        }
    if draft.join_url:
        return {"location": draft.join_url}
    return {}


def insert_options(draft: EventDraft) -> dict[str, Any]:
    # Without conferenceDataVersion=1 Google silently drops conferenceData.
    return {"conferenceDataVersion": 1} if draft.conference else {}


def join_url(event: dict[str, Any], draft: EventDraft) -> str | None:
    """Meet's link (`hangoutLink`, else the video entry point), or the draft's own link."""
    entries = (event.get("conferenceData") or {}).get("entryPoints") or []
    video = [e.get("uri") for e in entries if e.get("entryPointType") == "video"]
    found = event.get("hangoutLink") or (video[0] if video else None)
    return str(found) if found else (draft.join_url or None)
