"""Handler modules, one router each; ROUTERS is the explicit, ordered list the app installs."""

from bot.routing import Router
from handlers import connect, help, settings, share

ROUTERS: tuple[Router, ...] = (
    connect.router,
    share.router,
    settings.router,
    help.router,
)
