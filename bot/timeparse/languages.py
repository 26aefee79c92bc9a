"""Other languages, read by translating their time words into the English grammar.

dateparser knows 200+ languages but reads no ranges, durations or parts of day and accepts
"morgen um 25 Uhr", so for the languages below we rewrite the text into the phrases our own
grammar understands ("mañana a las 3" -> "tomorrow at 3"); the grammar then applies the same
conventions and refusals as in English. Words we do not know are left alone and ignored.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from bot.timeparse.errors import TimeParseError
from bot.timeparse.japanese import JAPANESE, has_japanese

Rule = tuple[str, str | Callable[[re.Match[str]], str]]

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
           "september", "october", "november", "december")  # fmt: skip


def _words(names: tuple[str, ...], english: tuple[str, ...]) -> list[Rule]:
    """One rule per word: each `names` entry (alternatives split by '|') -> its English word."""
    return [
        (rf"\b(?:{alternatives})\b", word)
        for alternatives, word in zip(names, english, strict=True)
    ]


_SPANISH: list[Rule] = [
    (r"\bpasado\s+mañana\b", "day after tomorrow"),
    (r"\b(?:por|de|en)\s+la\s+mañana\b", " morning "),
    (r"\bmañana\b", "tomorrow"),
    (r"\bhoy\b", "today"),
    (r"\besta\s+noche\b", "tonight"),
    (r"\b(?:por|de|en)\s+la\s+tarde\b", " afternoon "),
    (r"\b(?:por|de|en)\s+la\s+noche\b", " evening "),
    (r"\bmedianoche\b", "midnight"),
    (r"\bmediod[ií]a\b", "noon"),
    (r"\b(?:el\s+)?pr[oó]xim[oa]\s+(\w+)", r"next \1"),
    (r"\b(?:el\s+)?(\w+)\s+que\s+viene\b", r"next \1"),
    (r"\best[ea]\s+(\w+)", r"this \1"),
    (r"\bfin\s+de\s+semana\b", "weekend"),
    (r"\bsemana\b", "week"),
    (r"\b(?:del|desde\s+el)\s+(\d{1,2})\s+(?:al|hasta\s+el)\s+(\d)", r"from \1 to \2"),
    (r"\b(?:de|desde)\s+(?:las?\s+)?(\d[\d:]*)\s+(?:a|hasta)\s+(?:las?\s+)?(\d)", r"from \1 to \2"),
    (r"\ba\s+las?\s+(\d)", r"at \1"),
    (r"\b(\d{1,2})\s+y\s+media\b", r"\1:30"),
    (r"\b(\d{1,2})\s+y\s+cuarto\b", r"\1:15"),
    (r"\b(\d{1,2})\s+menos\s+cuarto\b", r"quarter to \1"),
    (r"\b(?:de|desde)\s+(?:las?\s+)?(\d)", r"from \1"),
    (r"\b(?:a|hasta)\s+(?:las?\s+)?(\d)", r"to \1"),
    (r"\bentre\s+(?:las?\s+)?(\d)", r"between \1"),
    (r"\b(\d)\s+y\s+(?:las?\s+)?(\d)", r"\1 and \2"),
    (r"\b(?:dentro\s+de|en)\s+(?=\d|una?\b|media\b)", "in "),
    (r"\bmedia\s+hora\b", "half an hour"),
    (r"\buna?\b", "an"),
    (r"\bhoras?\b", "hours"),
    (r"\bminutos?\b", "minutes"),
    (r"\b(?:durante|por)\b", "for"),
    (r"\bhasta\b", "till"),
    (r"\btarde\b", "afternoon"),
    (r"\bnoche\b", "evening"),
    (r"\b(\d{1,2})\s+de\s+(?=[a-z])", r"\1 "),
    *_words(("lunes", "martes", "mi[eé]rcoles", "jueves", "viernes", "s[aá]bado", "domingo"),
            _WEEKDAYS),
    *_words(("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
             "septiembre|setiembre", "octubre", "noviembre", "diciembre"), _MONTHS),
]  # fmt: skip

_PORTUGUESE: list[Rule] = [
    (r"\bdepois\s+de\s+amanh[aã]\b", "day after tomorrow"),
    (r"\bamanh[aã]\b", "tomorrow"),
    (r"\bhoje\s+[àa]\s+noite\b", "tonight"),
    (r"\bhoje\b", "today"),
    (r"\b(?:de|pela)\s+manh[aã]\b", " morning "),
    (r"\b(?:[àa]|pela)\s+tarde\b", " afternoon "),
    (r"\b(?:[àa]|pela)\s+noite\b", " evening "),
    (r"\bmeia[- ]noite\b", "midnight"),
    (r"\bmeio[- ]dia\b", "noon"),
    (r"-feira\b", ""),
    (r"\b(\d{1,2})h(\d{2})\b", r"\1:\2"),
    (r"\b(\d{1,2})\s*h\b", r"\1:00"),
    (r"\bpr[oó]xim[oa]\s+(\w+)", r"next \1"),
    (r"\b(\w+)\s+que\s+vem\b", r"next \1"),
    (r"\best[ea]\s+(\w+)", r"this \1"),
    (r"\bfim\s+de\s+semana\b", "weekend"),
    (r"\bsemana\b", "week"),
    (r"\b(?:daqui\s+a|em|dentro\s+de)\s+(?=\d|uma?\b|meia\b)", "in "),
    (r"\b(?:das?|de|desde)\s+(\d[\d:]*)\s+(?:[àa]s?|at[eé](?:\s+[àa]s)?)\s+(\d)", r"from \1 to \2"),
    (r"\b(?:[àa]s?|pelas?)\s+(\d)", r"at \1"),
    (r"\b(?:das?|de|desde)\s+(\d)", r"from \1"),
    (r"\b(?:at[eé]|a)\s+(?:[àa]s\s+)?(\d)", r"to \1"),
    (r"\bentre\s+(?:as\s+)?(\d)", r"between \1"),
    (r"\b(\d)\s+e\s+(?:as\s+)?(\d)", r"\1 and \2"),
    (r"\b(\d{1,2})\s+e\s+meia\b", r"\1:30"),
    (r"\bmeia\s+hora\b", "half an hour"),
    (r"\bum[a]?\b", "an"),
    (r"\bhoras?\b", "hours"),
    (r"\bminutos?\b", "minutes"),
    (r"\b(?:durante|por)\b", "for"),
    (r"\b(\d{1,2})\s+de\s+(?=[a-z])", r"\1 "),
    *_words(("segunda", "ter[cç]a", "quarta", "quinta", "sexta", "s[aá]bado", "domingo"),
            _WEEKDAYS),
    *_words(("janeiro", "fevereiro", "mar[cç]o", "abril", "maio", "junho", "julho", "agosto",
             "setembro", "outubro", "novembro", "dezembro"), _MONTHS),
]  # fmt: skip

_FRENCH: list[Rule] = [
    (r"\bapr[eè]s[- ]demain\b", "day after tomorrow"),
    (r"\bdemain\b", "tomorrow"),
    (r"\baujourd'hui\b", "today"),
    (r"\bce\s+soir\b", "tonight"),
    (r"\b(?:le\s+|du\s+|dans\s+l')?apr[eè]s[- ]midi\b", " afternoon "),
    (r"\b(?:le\s+|du\s+)?matin\b", " morning "),
    (r"\b(?:le\s+|du\s+)?soir\b", " evening "),
    (r"\bminuit\b", "midnight"),
    (r"\bmidi\b", "noon"),
    (r"\bdans\s+(\d+)\s*(?:heures?|h)\b", r"in \1 hours"),
    (r"\b(?:pendant|pour)\s+(\d+)\s*(?:heures?|h)\b", r"for \1 hours"),
    (r"\b(\d{1,2})\s*h\s*(\d{2})\b", r"\1:\2"),
    (r"\b(\d{1,2})\s*h(?:eures?)?\b(?!\s*(?:de|d'))", r"\1:00"),
    (r"\b1er\b", "1st"),
    (r"\b(\w+)\s+prochaine?\b", r"next \1"),
    (r"\b(?:ce|cette)\s+(\w+)", r"this \1"),
    (r"\bweek-?end\b", "weekend"),
    (r"\bsemaine\b", "week"),
    (r"\b(?:de|du|depuis)\s+(\d[\d:]*(?:er|st)?)\s+(?:[àa]|au|jusqu'[àa])\s+(\d)",
     r"from \1 to \2"),
    (r"\bjusqu'[àa]\b", "till"),
    (r"\b[àa]\s+(\d)", r"at \1"),
    (r"\b(?:de|du|depuis)\s+(\d)", r"from \1"),
    (r"\b(?:[àa]|au)\s+(\d)", r"to \1"),
    (r"\bentre\s+(\d)", r"between \1"),
    (r"\b(\d)\s+et\s+(\d)", r"\1 and \2"),
    (r"\bdans\s+(?=\d|une?\b)", "in "),
    (r"\bune\s+demi[- ]heure\b", "half an hour"),
    (r"\bune?\b", "an"),
    (r"\bheures?\b", "hours"),
    (r"\bpendant\b|\bpour\b", "for"),
    *_words(("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"), _WEEKDAYS),
    *_words(("janvier", "f[ée]vrier", "mars", "avril", "mai", "juin", "juillet", "ao[uû]t",
             "septembre", "octobre", "novembre", "d[ée]cembre"), _MONTHS),
]  # fmt: skip

_GERMAN: list[Rule] = [
    (r"\b[üu]bermorgen\b", "day after tomorrow"),
    (r"\bmorgen\s+fr[üu]h\b", "tomorrow morning"),
    (r"\bheute\s+abend\b", "tonight"),
    (r"\bmorgen\b", "tomorrow"),
    (r"\bheute\b", "today"),
    (r"\b(?:am\s+)?(?:vormittag|morgens)\b", " morning "),
    (r"\b(?:am\s+)?nachmittags?\b", " afternoon "),
    (r"\b(?:am\s+)?abends?\b", " evening "),
    (r"\b(?:in\s+der\s+)?nachts?\b", " night "),
    (r"\bmitternacht\b", "midnight"),
    (r"\bmittags?\b", "noon"),
    (r"\b(\d{1,2})\.(\d{1,2})\.(\d{4})?", lambda m: _day_month(m.group(1), m.group(2), m.group(3))),
    (r"\bhalb\s+(\d{1,2})\b", lambda m: f"{(int(m.group(1)) - 1) or 12}:30"),
    (r"\bviertel\s+nach\s+(\d{1,2})\b", r"quarter past \1"),
    (r"\bviertel\s+vor\s+(\d{1,2})\b", r"quarter to \1"),
    (r"\b(\d{1,2})\s*uhr\s*(\d{2})\b", r"\1:\2"),
    (r"\b(\d{1,2})[:.](\d{2})\s*uhr\b", r"\1:\2"),
    (r"\b(\d{1,2})\s*uhr\b", r"\1:00"),
    (r"\b(\d{1,2})\.(?=\s|$)", r"\1th"),
    (r"\b(?:n[äa]chste[nrms]?|kommende[nrms]?)\s+(\w+)", r"next \1"),
    (r"\bdiese[nrms]?\s+(\w+)", r"this \1"),
    (r"\bwochenende\b", "weekend"),
    (r"\bwoche\b", "week"),
    (r"\bum\s+(\d)", r"at \1"),
    (r"\bvon\s+(\d)", r"from \1"),
    (r"\bbis\b", "till"),
    (r"\bzwischen\s+(\d)", r"between \1"),
    (r"\b(\d)\s+und\s+(\d)", r"\1 and \2"),
    (r"\bin\s+einer\s+halben\s+stunde\b", "in half an hour"),
    (r"\beine\s+halbe\s+stunde\b", "half an hour"),
    (r"\b(?:in\s+)?einer?\b", "an"),
    (r"\bstunden?\b|\bstd\b\.?", "hours"),
    (r"\bminuten\b", "minutes"),
    (r"\bf[üu]r\b", "for"),
    (r"\bam\b", "on"),
    *_words(("montag", "dienstag", "mittwoch", "donnerstag", "freitag", "samstag|sonnabend",
             "sonntag"), _WEEKDAYS),
    *_words(("januar|jänner", "februar", "m[äa]rz", "april", "mai", "juni", "juli", "august",
             "september", "oktober", "november", "dezember"), _MONTHS),
]  # fmt: skip


def _day_month(day: str, month: str, year: str | None) -> str:
    """German and most of Europe write 3.12. for 3 December: spell the month out."""
    if not 1 <= int(month) <= 12:
        raise TimeParseError(f"There is no month {int(month)}; I read {day}.{month}. as day.month.")
    return f" {int(day)} {_MONTHS[int(month) - 1]} {year or ''} "


TABLES: dict[str, list[Rule]] = {
    "es": _SPANISH, "pt": _PORTUGUESE, "fr": _FRENCH, "de": _GERMAN, "ja": JAPANESE,
}  # fmt: skip

# Words that say which language a message is in (none of them is English).
_MARKERS = {
    # Short function words are weak evidence, but they split Spanish from Portuguese.
    "es": r"el|la|los|las|en|del|al|y|mañana|hoy|lunes|martes|mi[ée]rcoles|jueves|viernes|"
    r"pr[oó]ximo|pr[oó]xima|semana|"
    r"las|hasta|desde|tarde|noche|minutos|horas|media|enero|febrero|marzo|abril|mayo|junio|julio|"
    r"septiembre|octubre|noviembre|diciembre",
    "pt": r"o|os|as|em|do|da|no|na|ao|minutos|horas|amanh[ãa]|"
    r"hoje|segunda|ter[çc]a|quarta|quinta|sexta|"
    r"feira|semana|às|até|das|manh[ãa]|"
    r"meia|janeiro|fevereiro|mar[çc]o|maio|junho|julho|setembro|outubro|dezembro|que\s+vem|daqui",
    "fr": r"demain|aujourd'hui|lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|prochaine?|"
    r"semaine|soir|matin|midi|heures?|janvier|f[ée]vrier|avril|juin|juillet|ao[ûu]t|d[ée]cembre|"
    r"dans|jusqu'",
    "de": r"morgen|heute|montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag|"
    r"n[äa]chste[nrms]?|woche|uhr|um|bis|stunden?|minuten|januar|februar|m[äa]rz|dezember|"
    r"abends?|nachmittags?|[üu]bermorgen|halb",
}
_MARKER_PATTERNS = {
    lang: re.compile(rf"(?<!\w)(?:{words})(?!\w)") for lang, words in _MARKERS.items()
}


def primary(lang: str) -> str:
    """'pt-BR' -> 'pt', 'EN_us' -> 'en'."""
    return re.split(r"[-_]", lang.strip().lower(), maxsplit=1)[0]


def detect(text: str) -> str | None:
    """The language of a message we have a table for, or None (English or unknown)."""
    if has_japanese(text):
        return "ja"
    lowered = text.lower()
    scores = {lang: len(p.findall(lowered)) for lang, p in _MARKER_PATTERNS.items()}
    best = max(scores, key=lambda lang: scores[lang])
    return best if scores[best] > 0 else None


def translate(text: str, lang: str) -> str:
    """`text` with the time words of `lang` rewritten as the English grammar's words."""
    out = unicodedata.normalize("NFKC", text).lower()
    for pattern, replacement in TABLES[lang]:
        out = re.sub(pattern, replacement, out)
    return " ".join(out.split())
