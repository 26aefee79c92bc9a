"""Words the time grammar knows, and the clean-up applied before parsing (case, slang, typos)."""

from __future__ import annotations

import difflib
import re

WEEKDAYS = {
    "monday": 0, "mon": 0,
    "tuesday": 1, "tues": 1, "tue": 1,
    "wednesday": 2, "weds": 2, "wed": 2,
    "thursday": 3, "thurs": 3, "thur": 3, "thu": 3,
    "friday": 4, "fri": 4,
    "saturday": 5, "sat": 5,
    "sunday": 6, "sun": 6,
}  # fmt: skip
WD = "(?:" + "|".join(sorted(WEEKDAYS, key=len, reverse=True)) + ")"

MONTHS = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4,
    "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8,
    "september": 9, "sept": 9, "sep": 9, "october": 10, "oct": 10, "november": 11, "nov": 11,
    "december": 12, "dec": 12,
}  # fmt: skip
MONTH = "(?:" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
MONTH_NAMES = ("", "January", "February", "March", "April", "May", "June", "July", "August",
               "September", "October", "November", "December")  # fmt: skip

NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "couple": 2,
    "couple of": 2, "few": 3,
}  # fmt: skip
NUM = (
    r"(?:\d+|(?:an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve"
    r"|couple(?:\s+of)?|few)\b)"
)
HOUR_WORDS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
              "eleven", "twelve")  # fmt: skip
_HOUR_WORD = "(" + "|".join(HOUR_WORDS) + ")"

# Default start of each part of day (time_expressions.md §7): (hour, minute).
PARTS_OF_DAY = {
    "first thing": (9, 0), "morning": (9, 0),
    "lunchtime": (12, 0), "lunch": (12, 0),
    "afternoon": (13, 0),
    "end of day": (17, 0), "end of the day": (17, 0), "eod": (17, 0), "close of business": (17, 0),
    "cob": (17, 0),
    "evening": (18, 0), "tonight": (18, 0),
    "night": (20, 0),
}  # fmt: skip
PM_PARTS = {"afternoon", "evening", "tonight", "night"}
# The window /book searches for a part of day said without a clock time (§7): [from, to) hours.
PART_WINDOWS = {
    "first thing": (9, 10), "morning": (9, 12), "lunchtime": (12, 14), "lunch": (12, 14),
    "afternoon": (13, 17), "end of day": (16, 17), "evening": (18, 21), "tonight": (18, 23),
    "night": (20, 23),
}  # fmt: skip

# Grammar fragments shared by the date and clock extractors.
ORD = r"(?:st|nd|rd|th)"
YEAR = r"(?:19\d\d|20\d\d|2100)"
CONNECTOR = r"(?:-|\bto\b|\buntil\b|\btill?\b|\bthrough\b|\bthru\b)"
TIME = (
    r"(?:(?:[01]\d|2[0-3])[0-5]\d(?!\d)|\d{1,2}(?::\d{2}|\.\d{2}(?=\s*[ap]m))?(?:\s*[ap]m)?"
    r"|noon|midnight|midday)"
)

SLANG = {
    "tmrw": "tomorrow", "tmr": "tomorrow", "tmw": "tomorrow", "tmro": "tomorrow",
    "tmrow": "tomorrow", "2moro": "tomorrow", "2morrow": "tomorrow", "2mrw": "tomorrow",
    "tomo": "tomorrow", "tdy": "today", "2day": "today", "tonite": "tonight", "2nite": "tonight",
    "nxt": "next", "hr": "hr", "mins": "mins",
}  # fmt: skip

# Real words that look like typos of the fuzzy targets and must stay as they are.
NOT_TYPOS = {
    "tomato",
    "monday",
    "sunny",
    "someday",
    "everyday",
    "holiday",
    "birthday",
    "midday",
    "weekday",
    "workday",
    "today",
    "doomsday",
    "payday",
    "friend",
    "friends",
    "thursdays",
    "tuesdays",
    "mondays",
    "fridays",
    "sundays",
    "saturdays",
    "wednesdays",
    "mayday",
}
FUZZY_TARGETS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
                 "tomorrow", "today", "tonight")  # fmt: skip
KNOWN_DAY_WORDS = set(FUZZY_TARGETS) | NOT_TYPOS | {"day", "days"}

_WORD = re.compile(r"[a-z][a-z']*")


def normalize(text: str) -> str:
    """Lower-case, drop the slash command and @mentions, unify punctuation, fix slang and typos."""
    text = text.lower().replace("\u2013", "-").replace("\u2014", "-").replace("\u2212", "-")
    text = re.sub(r"^\s*/[a-z_-]+(?:@\S+)?", " ", text)
    text = re.sub(r"(?<![\w])@(?=\s|\d)", " at ", text)  # "fri @ 2pm"
    text = re.sub(r"@[\w.-]+", " ", text)
    text = re.sub(r"\bw/", "with ", text)
    text = re.sub(r"\b([ap])\.\s?m\b\.?", r"\1m", text)  # "3:00 p.m."
    text = re.sub(r"(\d{4}-\d{1,2}-\d{1,2})t(?=\d)", r"\1 ", text)  # ISO "T"
    text = re.sub(r"\bmid-day\b", "midday", text)
    text = re.sub(r"\bweek-ends?\b", "weekend", text)
    text = re.sub(r"(\d)\s*\u00bd", r"\1.5", text).replace("\u00bd", " half ")
    text = re.sub(r"(?<=\d)([ap])\b(?!\.)", r"\1m", text)  # "9p", "8:45a"
    text = re.sub(r"(?:^|\s)'(til)\b", r" \1", text)
    text = re.sub(r"(\d)-(?=(?:min|minute|hour|hr|h)s?\b)", r"\1 ", text)  # "30-min"
    # Hours written as words only where a clock is meant: "at five", "five pm", "half past two".
    text = re.sub(
        rf"\b(at|past|to|around|until|till)\s+{_HOUR_WORD}\b",
        lambda m: f"{m.group(1)} {HOUR_WORDS.index(m.group(2)) + 1}",
        text,
    )
    text = re.sub(
        rf"\b{_HOUR_WORD}(?=\s*(?:am|pm|o'?clock)\b)",
        lambda m: str(HOUR_WORDS.index(m.group(1)) + 1),
        text,
    )
    text = re.sub(r"\b(\d{1,2})\s*o'?clock\b", r"at \1", text)
    # Sentence punctuation is not part of a time: "on sat at 5." is 17:00.
    text = re.sub(r"[,;!?()\"]|\.(?=\s|$)|\s'|'\s", " ", text)
    return " ".join(_fix_word(word) for word in text.split())


def _fix_word(word: str) -> str:
    if word in SLANG:
        return SLANG[word]
    if len(word) < 4 or not _WORD.fullmatch(word) or word in NOT_TYPOS or word in WEEKDAYS:
        return word
    if word in FUZZY_TARGETS:
        return word
    for target in FUZZY_TARGETS:
        if target[0] == word[0] and difflib.SequenceMatcher(None, word, target).ratio() >= 0.75:
            return target
    return word


def number(text: str) -> float:
    """'3' -> 3, 'an' -> 1, 'couple of' -> 2, '1.5' -> 1.5."""
    cleaned = " ".join(text.split())
    if cleaned in NUMBER_WORDS:
        return NUMBER_WORDS[cleaned]
    return float(cleaned)
