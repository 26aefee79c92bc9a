"""Logging: one redaction choke point for every record, and optional JSON lines.

Request lines carry capability tokens (?t=...), OAuth codes and states; headers and errors can
carry credentials. Redacting at record creation covers every logger, ours and the libraries';
the formatters redact again, because a traceback is only rendered when a record is formatted.
SQL drivers log statements with their parameters (aiosqlite: each call at DEBUG), and the
parameters are where OAuth states, PKCE verifiers and sealed tokens travel: those records keep
the statement and lose the parameters.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

REDACTIONS = (
    (
        re.compile(
            r"([?&](?:t|code|state|token|access_token|refresh_token|code_verifier|"
            r"client_secret)=)[^&\s\"']+",
            re.IGNORECASE,
        ),
        r"\1[redacted]",
    ),
    (re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}"), r"\1 [redacted]"),
    (re.compile(r"\bya29\.[\w.-]+"), "[redacted]"),
    (re.compile(r"\b1//[\w.-]+"), "[redacted]"),
    (
        re.compile(
            r"(\"?(?:refresh_token|access_token|client_secret|apikey|api_key|password)\"?"
            r"\s*[:=]\s*\"?)[^\"\s,}]+",
            re.IGNORECASE,
        ),
        r"\1[redacted]",
    ),
)
# Loggers that print driver calls with their bound parameters.
SQL_LOGGERS = ("aiosqlite", "sqlalchemy.engine", "asyncpg")
_SQL_TEXT = re.compile(
    r"'((?:SELECT|INSERT|UPDATE|DELETE|BEGIN|COMMIT|ROLLBACK|PRAGMA|CREATE|ALTER|DROP|WITH)"
    r"\b[^']*)'",
    re.IGNORECASE,
)
_SQL_STATEMENT = re.compile(
    r"(?:SELECT|INSERT|UPDATE|DELETE|PRAGMA|CREATE|ALTER|DROP|WITH)\s", re.IGNORECASE
)
_installed = False


def without_parameters(message: str) -> str:
    """A driver log line reduced to its SQL text (or its verb): never the bound values."""
    if _SQL_STATEMENT.match(message) and "'" not in message:
        # SQLAlchemy logs each statement on a line of its own, as compiled: placeholders,
        # no values (those come on the next line, which is reduced to its verb).
        return redact(message)
    verb = message.split(" ", 1)[0]
    found = _SQL_TEXT.search(message)
    statement = f" {found.group(1)}" if found else ""
    return f"{verb}{statement} [parameters not logged]"


def redact(text: str) -> str:
    for pattern, replacement in REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


def install_redaction() -> None:
    """Wrap the record factory once, so every record is redacted before any handler sees it."""
    global _installed
    if _installed:
        return
    _installed = True
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return record
        if record.name.startswith(SQL_LOGGERS):
            cleaned = without_parameters(message)
        else:
            cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        return record

    logging.setLogRecordFactory(factory)


class RedactingFormatter(logging.Formatter):
    """Plain text, redacted as a whole: tracebacks and stack info included."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        if record.exc_info:
            entry["error"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry)


def setup_logging(level: str, as_json: bool) -> None:
    install_redaction()
    handler = logging.StreamHandler()
    handler.setFormatter(
        JsonFormatter()
        if as_json
        else RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    logging.basicConfig(level=level, handlers=[handler], force=True)
