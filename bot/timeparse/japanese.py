"""Japanese time words as the English grammar's words ("明日の午後3時" -> "tomorrow 3pm").

Japanese writes no spaces, so every rule pads its English with spaces; particles and other
kana/kanji that carry no time are dropped at the end.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_JAPANESE_CHARS = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]")


def has_japanese(text: str) -> bool:
    return _JAPANESE_CHARS.search(text) is not None


def _clock(meridiem: str) -> Callable[[re.Match[str]], str]:
    def rewrite(match: re.Match[str]) -> str:
        minute = match.group(2) or ("30" if match.group(0).endswith("半") else "00")
        return f" {match.group(1)}:{minute}{meridiem} "

    return rewrite


_DAYS = "月火水木金土日"
_WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTH_NAMES = ("january", "february", "march", "april", "may", "june", "july", "august",
                "september", "october", "november", "december")  # fmt: skip


def _month_day(match: re.Match[str]) -> str:
    month = int(match.group(1))
    name = _MONTH_NAMES[month - 1] if 1 <= month <= 12 else f"{month}/"
    return f" {name} {match.group(2)} "


JAPANESE: list[tuple[str, str | Callable[[re.Match[str]], str]]] = [
    (r"明後日|あさって", " day after tomorrow "),
    (r"明日|あした|あす", " tomorrow "),
    (r"今日|きょう|本日", " today "),
    (r"今夜|今晩", " tonight "),
    (r"来週末", " next weekend "),
    (r"今週末|週末", " weekend "),
    (r"再来週", " in 2 weeks "),
    (r"来週", " next week "),
    (r"今週", " this week "),
    (r"(?:次の|今度の)", " next "),
    (r"([" + _DAYS + r"])曜日?", lambda m: f" {_WEEKDAY_NAMES[_DAYS.index(m.group(1))]} "),
    (r"(\d{4})年(\d{1,2})月(\d{1,2})日", r" \1-\2-\3 "),
    (r"(\d{1,2})月(\d{1,2})日", _month_day),
    (r"(\d{1,2})日", r" the \1th "),
    (r"(\d+)分後", r" in \1 minutes "),
    (r"(\d+)時間半後", r" in \1.5 hours "),
    (r"(\d+)時間後", r" in \1 hours "),
    (r"(\d+)日後", r" in \1 days "),
    (r"(\d+)時間半", r" for \1.5 hours "),
    (r"(\d+)時間", r" for \1 hours "),
    (r"午後(\d{1,2})時(?:(\d{1,2})分|半)?", _clock("pm")),
    (r"午前(\d{1,2})時(?:(\d{1,2})分|半)?", _clock("am")),
    (r"(\d{1,2})時(?:(\d{1,2})分|半)?", _clock("")),
    (r"(\d+)分間?", r" for \1 minutes "),
    (r"午前中?|朝", " morning "),
    (r"午後", " afternoon "),
    (r"夕方", " evening "),
    (r"夜", " night "),
    (r"正午|昼", " noon "),
    (r"深夜0時|真夜中", " midnight "),
    (r"から|〜|~", " to "),
    (r"の間|まで", " "),
    (r"頃|ごろ", " "),
    (r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]+", " "),
]
