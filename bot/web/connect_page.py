"""The calendar connect page: who you are in chat, which Google account is connected, and the
OAuth round trip (one-time state bound to this browser, PKCE, a confirm step)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from aiohttp import web

from bot.calendars import google_oauth
from bot.core.context import Services
from bot.core.links import LinkClaims, LinkError
from bot.core.messages import text_message
from bot.core.runtime import RUNTIME, Runtime
from bot.web.booking_page import render_page
from bot.web.routes import read_form
from storage.records import OAuthState, User

routes = web.RouteTableDef()
BROWSER_COOKIE = "calbot_oauth"
STATE_LIFETIME = timedelta(minutes=10)
LINK_LIFETIME = timedelta(hours=1)


def connect_link(services: Services, uid: str) -> str:
    claims = LinkClaims("connect", uid, 0, services.clock.now() + LINK_LIFETIME)
    return f"{services.settings.public_url}/connect?t={services.links.sign(claims)}"


def _problem(request: web.Request, status: int, message: str) -> web.Response:
    return render_page(request, "problem.html", status=status, message=message)


async def _posted_by(request: web.Request, runtime: Runtime) -> User:
    """Who a connect-page form was posted for, checked by its link and CSRF token (else
    HTTPForbidden)."""
    form = await read_form(request)
    user = await _user_for(runtime, str(form.get("t", "")))
    _checked_csrf(request, runtime.services, str(form.get("csrf", "")), user.uid)
    return user


async def _user_for(runtime: Runtime, token: str) -> User:
    services = runtime.services
    try:
        claims = services.links.verify(token, services.clock.now())
    except LinkError as problem:
        raise web.HTTPForbidden(text=str(problem).replace("/share", "/connect")) from None
    user = await services.store.get_user(claims.audience) if claims.share_id == "connect" else None
    if user is None:
        raise web.HTTPForbidden(text="This link is not valid. Send /connect in chat for a new one.")
    return user


def _csrf(services: Services, nonce: str, subject: str) -> str:
    return services.links.tag("connect-csrf", f"{nonce}:{subject}")


def _nonce(request: web.Request) -> str:
    return request.cookies.get(BROWSER_COOKIE) or secrets.token_urlsafe(24)


def _with_cookie(response: web.Response, services: Services, nonce: str) -> web.Response:
    response.set_cookie(
        BROWSER_COOKIE,
        nonce,
        httponly=True,
        samesite="Lax",
        path="/",
        secure=services.settings.public_url.startswith("https://"),
    )
    return response


def _checked_csrf(request: web.Request, services: Services, given: str, subject: str) -> None:
    nonce = request.cookies.get(BROWSER_COOKIE, "")
    if not nonce or not hmac.compare_digest(given, _csrf(services, nonce, subject)):
        raise web.HTTPForbidden(text="This form has expired. Reload the page and try again.")


@routes.get("/connect")
async def show(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    services = runtime.services
    token = request.query.get("t", "")
    try:
        user = await _user_for(runtime, token)
    except web.HTTPForbidden as refusal:
        return _problem(request, 403, refusal.text or "")
    nonce = _nonce(request)
    connection = await services.store.get_connection(user.uid)
    response = render_page(
        request,
        "connect.html",
        user=user,
        connection=connection,
        token=token,
        csrf=_csrf(services, nonce, user.uid),
        message=request.query.get("done"),
    )
    return _with_cookie(response, services, nonce)


@routes.post("/connect/start")
async def start(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    services = runtime.services
    try:
        user = await _posted_by(request, runtime)
    except web.HTTPForbidden as refusal:
        return _problem(request, 403, refusal.text or "")
    state, verifier = secrets.token_urlsafe(32), google_oauth.new_verifier()
    nonce = request.cookies.get(BROWSER_COOKIE, "")
    await services.store.create_oauth_state(
        OAuthState(
            state, user.uid, verifier, _hash(nonce), "started", None, None, services.clock.now()
        )
    )
    url = google_oauth.authorization_url(
        runtime.config.google,
        _redirect_uri(services),
        state,
        verifier,
        choose_account=bool((await read_form(request)).get("another")),
    )
    raise web.HTTPFound(url)


@routes.get("/oauth/callback")
async def callback(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    services = runtime.services
    state = await services.store.get_oauth_state(request.query.get("state", ""))
    problem = _state_problem(request, services, state, "started")
    if problem or state is None:
        return _problem(request, 400, problem or "")
    if "error" in request.query or "code" not in request.query:
        await services.store.advance_oauth_state(state.state, "started", "failed")
        return _problem(
            request,
            400,
            "Google sign-in was cancelled, so nothing changed. Send /connect in chat to try again.",
        )
    try:
        grant = await google_oauth.exchange_code(
            runtime.config.google, request.query["code"], state.verifier, _redirect_uri(services)
        )
        email = await google_oauth.fetch_email(runtime.config.google, grant.access_token)
    except google_oauth.OAuthError as failure:
        await services.store.advance_oauth_state(state.state, "started", "failed")
        return _problem(request, 400, str(failure))
    missing = google_oauth.NEEDED - set(grant.scopes)
    if missing:
        await google_oauth.revoke(runtime.config.google, grant.refresh_token)
        await services.store.advance_oauth_state(state.state, "started", "failed")
        return _problem(
            request,
            400,
            "I need both permissions: seeing when you are busy, and "
            "adding booked meetings. Send /connect and allow both.",
        )
    assert services.vault is not None
    sealed = services.vault.seal(
        state.uid, {"refresh_token": grant.refresh_token, "scopes": list(grant.scopes)}
    )
    if not await services.store.advance_oauth_state(
        state.state, "started", "exchanged", account=email, sealed=sealed
    ):
        return _problem(request, 400, "This sign-in was already used. Send /connect again.")
    user = await services.store.get_user(state.uid)
    nonce = request.cookies.get(BROWSER_COOKIE, "")
    return render_page(
        request,
        "confirm.html",
        user=user,
        account=email,
        state=state.state,
        csrf=_csrf(services, nonce, state.state),
    )


@routes.post("/oauth/confirm")
async def confirm(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    services = runtime.services
    form = await read_form(request)
    state = await services.store.get_oauth_state(str(form.get("state", "")))
    problem = _state_problem(request, services, state, "exchanged")
    if problem or state is None or state.sealed is None or state.account is None:
        return _problem(request, 400, problem or "This sign-in is incomplete. Send /connect.")
    try:
        _checked_csrf(request, services, str(form.get("csrf", "")), state.state)
    except web.HTTPForbidden as refusal:
        return _problem(request, 403, refusal.text or "")
    if not await services.store.advance_oauth_state(state.state, "exchanged", "done"):
        return _problem(request, 400, "This sign-in was already used. Send /connect again.")
    previous = await services.store.get_connection(state.uid)
    if previous is not None and previous.provider == "google":
        await services.calendar.revoke(previous)  # one live grant per user
    await services.store.save_connection(state.uid, "google", state.account, state.sealed)
    await services.outbox.post(
        f"connected:{state.state}",
        text_message(
            state.uid,
            "user",
            f"Your Google Calendar ({state.account}) is connected. "
            "Send /share @someone to let them book time with you.",
        ),
    )
    raise web.HTTPSeeOther(connect_link(services, state.uid) + "&done=Connected.")


@routes.post("/connect/disconnect")
async def disconnect(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    services = runtime.services
    try:
        user = await _posted_by(request, runtime)
    except web.HTTPForbidden as refusal:
        return _problem(request, 403, refusal.text or "")
    connection = await services.store.get_connection(user.uid)
    if connection is not None:
        await services.calendar.revoke(connection)
        await services.store.delete_connection(user.uid)
    raise web.HTTPSeeOther(connect_link(services, user.uid) + "&done=Disconnected.")


def _state_problem(
    request: web.Request, services: Services, state: OAuthState | None, status: str
) -> str | None:
    if state is None or state.status != status:
        return "This sign-in link is not valid or was already used. Send /connect in chat."
    if services.clock.now() - state.created_at > STATE_LIFETIME:
        return "This sign-in took too long. Send /connect in chat and try again."
    nonce = request.cookies.get(BROWSER_COOKIE, "")
    if not nonce or not hmac.compare_digest(_hash(nonce), state.browser_hash):
        return "Please finish signing in in the same browser where you started."
    return None


def _redirect_uri(services: Services) -> str:
    return f"{services.settings.public_url}/oauth/callback"


def _hash(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()
