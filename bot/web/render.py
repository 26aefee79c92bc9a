"""How every page is rendered (templates, CSP nonce, security headers) and the one web error
funnel: a page handler raises PageProblem or a UserError, and the site's own error page answers;
anything else is a bug, logged with a reference, and the person sees an apology."""

from __future__ import annotations

import logging
import secrets
import uuid
from typing import Any

import jinja2
from aiohttp import web
from aiohttp.typedefs import Handler

from bot.core import urls
from bot.errors import UserError
from storage import is_storage_fault

log = logging.getLogger(__name__)

TEMPLATES = web.AppKey("templates", jinja2.Environment)
SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
                    "X-Frame-Options": "DENY", "Cache-Control": "no-store"}  # fmt: skip
# Machine endpoints answer in their own format; the error page is for people.
_NOT_PAGES = (urls.WEBHOOK, urls.HEALTH, urls.METRICS, urls.OPENAPI, "/ics/")


def templates() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.PackageLoader("bot.web", "templates"), autoescape=True)


class PageProblem(Exception):
    """Something a page visitor can act on, with the HTTP status to answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def render_page(request: web.Request, name: str, status: int = 200, **values: Any) -> web.Response:
    """A page whose only script and style are ours: a fresh CSP nonce marks them."""
    nonce = secrets.token_urlsafe(16)
    body = request.app[TEMPLATES].get_template(name).render(csp_nonce=nonce, **values)
    policy = (
        f"default-src 'self'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    )
    headers = {**SECURITY_HEADERS, "Content-Security-Policy": policy}
    return web.Response(text=body, status=status, content_type="text/html", headers=headers)


def problem_page(request: web.Request, status: int, message: str) -> web.Response:
    return render_page(request, "problem.html", status=status, message=message)


@web.middleware
async def error_pages(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith(_NOT_PAGES):
        return await handler(request)
    try:
        return await handler(request)
    except PageProblem as problem:
        return problem_page(request, problem.status, problem.message)
    except UserError as problem:
        return problem_page(request, problem.status, problem.text)
    except web.HTTPException:
        raise  # redirects and aiohttp's own answers (no such route, unreadable form)
    except Exception as problem:
        if is_storage_fault(problem):
            # Down, full or read-only: nothing the visitor did; the next try may well work.
            log.warning("page %s: storage unavailable (%s)", request.path, problem)
            page = problem_page(request, 503, "We can't reach our records right now. "
                                "Please try again in a minute.")  # fmt: skip
            page.headers["Retry-After"] = "30"
            return page
        ref = uuid.uuid4().hex[:8]
        log.exception("page %s failed (ref %s)", request.path, ref)
        return problem_page(
            request,
            500,
            f"Sorry, something went wrong on our side (ref {ref}). Please try again in a moment.",
        )
