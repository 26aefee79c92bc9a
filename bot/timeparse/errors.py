"""The one exception the time parser raises; its text is shown to the user as is."""

from __future__ import annotations

from bot.errors import UserError

NOTHING_FOUND = (
    'I couldn\'t find a day or time in that. Try something like "tomorrow 3pm", '
    '"fri 14:00-15:00" or "next tue at 10 for 45 min".'
)


class TimeParseError(UserError):
    """A time expression that cannot be read, or names a time that does not exist."""
