"""Rotating the webhook's Basic credentials (security review WH-3): during the rotation window
CometChat may still call with the old ones while it is switched over; once the window ends,
the old ones get 401 like any stranger."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from bot.config import CometChatConfig, Config, ConfigError, load_config
from tests.conftest import NOW
from tests.fakes import FrozenClock
from tests.site import Site, running_site
from tests.test_cometchat import current, message

UNTIL = NOW + timedelta(days=2)


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


@pytest.fixture
async def site(tmp_path: Path, clock: FrozenClock) -> AsyncIterator[Site]:
    settings = CometChatConfig(
        app_id="app1",
        api_key="rest-key",
        webhook_username="hook-user-2",
        webhook_password="new-hook-pass",
        webhook_previous_username="hook-user",
        webhook_previous_password="hook-pass",
        webhook_previous_until=UNTIL.isoformat(),
    )

    def configure(config: Config) -> Config:
        return replace(config, cometchat=settings)

    async with running_site(tmp_path, clock, configure=configure) as running:
        yield running


async def post(site: Site, auth: str, message_id: str) -> int:
    response = await site.client.post(
        "/cometchat/webhook",
        json=current(message("/help", message_id=message_id)),
        headers={"Authorization": auth},
    )
    return response.status


async def test_old_and_new_credentials_both_work_until_the_window_ends(site: Site) -> None:
    assert await post(site, basic("hook-user-2", "new-hook-pass"), "m1") == 200
    assert await post(site, basic("hook-user", "hook-pass"), "m2") == 200
    assert await post(site, basic("hook-user", "wrong"), "m3") == 401
    assert await post(site, basic("hook-user-2", "hook-pass"), "m4") == 401  # no mixing
    site.clock.advance(days=2)  # the window is over
    assert await post(site, basic("hook-user", "hook-pass"), "m5") == 401
    assert await post(site, basic("hook-user-2", "new-hook-pass"), "m6") == 200


@pytest.mark.parametrize("until", ["", "next tuesday", "2026-12-08T12:00:00"])
def test_a_previous_password_needs_an_end_with_its_offset(tmp_path: Path, until: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        f'[cometchat]\nwebhook_previous_password = "old"\nwebhook_previous_until = "{until}"\n'
    )
    with pytest.raises(ConfigError, match=r"webhook_previous_until .* ISO 8601"):
        load_config(path, {})


def test_a_rotation_window_with_its_offset_loads(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        '[cometchat]\nwebhook_previous_password = "old"\n'
        'webhook_previous_until = "2026-12-08T12:00:00+01:00"\n'
    )
    assert load_config(path, {}).cometchat.webhook_previous_until == "2026-12-08T12:00:00+01:00"
