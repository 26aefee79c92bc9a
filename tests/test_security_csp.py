"""CSP on every page we serve, the demo chat included: an injected inline script or style
would be refused, and the demo page still works with its scripts loaded from our own files."""

from __future__ import annotations

import re
from typing import Any

import aiohttp

from bot.core.runtime import Runtime


async def test_the_demo_page_sends_a_strict_policy(demo: tuple[str, Runtime]) -> None:
    base, _ = demo
    async with aiohttp.ClientSession() as session, session.get(f"{base}/") as response:
        policy = response.headers.get("Content-Security-Policy", "")
        page = await response.text()
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    nonce = re.search(r"style-src 'nonce-([^']+)'", policy)
    assert nonce is not None and f'<style nonce="{nonce.group(1)}">' in page
    # Every script on the page is a file of ours or an inert JSON data block.
    for tag in re.findall(r"<script[^>]*>", page):
        assert 'src="/static/' in tag or 'type="application/json"' in tag, tag
    assert response.headers["X-Frame-Options"] == "DENY"


async def test_the_demo_chat_runs_under_its_policy(demo: tuple[str, Runtime], browser: Any) -> None:
    base, _ = demo
    context = await browser.new_context()
    page = await context.new_page()
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    await page.goto(f"{base}/?as=alice&with=user:bob")
    await page.wait_for_selector("nav button[data-key='user:bob'][aria-current='true']")
    # The page's own style applied (the nonce works) and nothing was refused.
    display = await page.evaluate("getComputedStyle(document.body).display")
    assert display == "flex"
    assert refused == []
    await context.close()
