"""The UserError family: expected problems whose text is shown to the user as is.

Anything else raised by a handler is a bug; the dispatcher logs it with a reference and answers
with a short apology (see bot.core.dispatcher).
"""

from __future__ import annotations


class UserError(Exception):
    """A problem the user can act on; `text` says what happened and what to do next.

    `status` is the HTTP status a web page answers with when it meets this problem.
    """

    status = 409

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


class UsageError(UserError):
    """The command was understood but its arguments were not; the dispatcher adds the usage."""


class NotConnected(UserError):
    status = 410

    def __init__(self, who: str = "Your") -> None:
        subject = "Your calendar isn't" if who == "Your" else f"{who}'s calendar isn't"
        hint = "Send /connect to link it." if who == "Your" else f"Ask {who} to send /connect."
        super().__init__(f"{subject} connected yet. {hint}")


class CalendarUnavailable(UserError):
    status = 503

    def __init__(self, detail: str = "") -> None:
        extra = f" ({detail})" if detail else ""
        super().__init__(
            f"I couldn't reach the calendar right now{extra}. Please try again in a minute."
        )


class ReconnectNeeded(UserError):
    status = 410

    def __init__(self, who: str = "Your") -> None:
        if who == "Your":
            super().__init__("I lost access to your calendar. Send /connect to link it again.")
        else:
            super().__init__(f"I lost access to {who}'s calendar; they need to /connect again.")
