"""Handler modules, one router each; ROUTERS is the explicit, ordered list the app installs."""

from bot.core.routing import Router
from handlers import book, calendars, connect, find, help, privacy, reschedule, settings, share

ROUTERS: tuple[Router, ...] = (
    connect.router,
    calendars.router,
    share.router,
    book.router,
    reschedule.router,
    find.router,
    settings.router,
    privacy.router,
    help.router,
)
