"""PR-4 as an attacker reading the logs: DEBUG output on SQLite and PostgreSQL must not carry an
OAuth state, a PKCE verifier or a sealed token, and a plain-text traceback is redacted too."""

from __future__ import annotations

import io
import logging

import pytest

from bot.core.logs import RedactingFormatter, setup_logging
from storage import SqlStore
from storage.records import OAuthState
from tests.conftest import NOW, leaked_secrets

STATE = "google." + "S" * 43
VERIFIER = "v" * 20 + "PKCEverifier" + "v" * 20
SEALED = b"gAAAAABsealed-refresh-token-bytes-that-must-stay-hidden"


async def test_sql_statement_logs_keep_the_statement_and_drop_the_secrets(
    any_store: SqlStore, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.clear()
    await any_store.create_oauth_state(
        OAuthState(STATE, "alice", VERIFIER, "b" * 64, "started", None, None, NOW)
    )
    assert await any_store.advance_oauth_state(
        STATE, "started", "exchanged", account="a@example.com", sealed=SEALED
    )
    printed = [RedactingFormatter("%(message)s").format(r) for r in caplog.records]
    everything = "\n".join(printed)
    for secret in (STATE, VERIFIER, SEALED.decode()):
        assert secret not in everything
    if "sqlite" in str(any_store._engine.url):
        # The check must see the statements themselves, or it proves nothing.
        assert any("oauth_states" in line for line in printed), printed[:5]
    assert not leaked_secrets(caplog.records)


def test_plain_text_tracebacks_are_redacted() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    setup_logging("DEBUG", as_json=False)
    formatter = logging.getLogger().handlers[0].formatter
    assert formatter is not None
    handler.setFormatter(formatter)
    log = logging.getLogger("tests.security.traceback")
    log.addHandler(handler)
    try:
        try:
            raise RuntimeError(
                "GET /connect?t=eyJzIjoiY29ubmVjdCJ9.c2lnbmF0dXJl failed with "
                "Authorization: Bearer ya29.a0secretaccesstoken refresh_token=1//rt-leak"
            )
        except RuntimeError:
            # exc_info is rendered only by the formatter, after the record factory ran.
            log.exception("request failed")
    finally:
        log.removeHandler(handler)
        logging.getLogger().handlers.clear()
    output = stream.getvalue()
    assert "Traceback" in output and "RuntimeError" in output
    for secret in ("eyJzIjoiY29ubmVjdCJ9", "ya29.a0secret", "1//rt-leak"):
        assert secret not in output, output
