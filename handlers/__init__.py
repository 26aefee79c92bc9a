"""Handler modules, one router each; ROUTERS is the explicit, ordered list the app installs."""

from bot.routing import Router
from handlers import help, settings

ROUTERS: tuple[Router, ...] = (
    settings.router,
    help.router,
)
