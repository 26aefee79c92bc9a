from __future__ import annotations

import pytest

from tests.chat import Chat


async def test_timezone_by_name_city_and_abbreviation(chat: Chat) -> None:
    assert await chat.say("/timezone Europe/Berlin") == [
        "Done: your time zone is now Europe/Berlin (it is 16:00 there, UTC+01:00)."
    ]
    assert await chat.say("/timezone new york") == [
        "Done: your time zone is now America/New_York (it is 10:00 there, UTC-05:00)."
    ]
    await chat.say("/timezone PST")
    user = await chat.store.get_user("alice")
    assert user is not None and user.timezone == "America/Los_Angeles"
    assert await chat.say("/timezone") == [
        "Your time zone is America/Los_Angeles (it is 07:00 there, UTC-08:00)."
    ]


async def test_unknown_timezone_explains_what_to_type(chat: Chat) -> None:
    [reply] = await chat.say("/timezone Mars/Olympus")
    assert reply.startswith("I don't know the time zone 'Mars/Olympus'. Use an IANA name")
    assert reply.endswith("Usage: /timezone [zone or city]")


@pytest.mark.parametrize(
    "hostile",
    ["../zoneinfo/America/Los_Angeles", "/etc/localtime", "America/../America/Los_Angeles",
     "Europe", "Etc", "America/New\ud800York", "🇨🇦", "zone.tab", "x" * 1500, "a\x00b"],
)  # fmt: skip
async def test_hostile_zone_names_are_refused_politely(chat: Chat, hostile: str) -> None:
    [reply] = await chat.say(f"/timezone {hostile}")
    assert reply.startswith("I don't know the time zone") and len(reply) < 400
    [shown] = await chat.say("/timezone")
    assert shown.startswith("Your time zone is UTC")  # unchanged


async def test_working_hours_are_set_and_shown(chat: Chat) -> None:
    await chat.say("/timezone Europe/Berlin")
    assert await chat.say("/hours 8:30am-4pm mon-thu") == [
        "Done: your working hours are 08:30–16:00 on Mon, Tue, Wed, Thu (Europe/Berlin)."
    ]
    assert await chat.say("/hours") == [
        "Your working hours are 08:30–16:00 on Mon, Tue, Wed, Thu (Europe/Berlin)."
    ]
    assert await chat.say("/hours 10 - 18 mon,wed,fri") == [
        "Done: your working hours are 10:00–18:00 on Mon, Wed, Fri (Europe/Berlin)."
    ]


async def test_bad_working_hours_are_refused_with_a_reason(chat: Chat) -> None:
    [backwards] = await chat.say("/hours 17-9")
    assert backwards.startswith("Working hours must end after they start")
    [nonsense] = await chat.say("/hours whenever")
    assert nonsense.startswith("I couldn't read 'whenever' as working hours")
    [bad_clock] = await chat.say("/hours 9-25")
    assert "doesn't exist on a clock" in bad_clock
    [bad_days] = await chat.say("/hours 9-17 funday")
    assert "I couldn't read the days 'funday'" in bad_days
    user = await chat.store.get_user("alice")
    assert user is not None and user.working_hours.start_minute == 540


async def test_settings_show_and_change_parsing_preferences(chat: Chat) -> None:
    [shown] = await chat.say("/settings")
    assert "12/03 is 3 December" in shown
    assert '"next friday" is Friday of next week' in shown
    [changed] = await chat.say("/settings dates dmy")
    assert "12/03 is 12 March" in changed
    [changed] = await chat.say("/settings next first-after")
    assert "first Friday after today" in changed
    [bad] = await chat.say("/settings dates ymd")
    assert bad.startswith("dates can be mdy or dmy, not 'ymd'.")
