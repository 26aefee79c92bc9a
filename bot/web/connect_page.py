"""The calendar connect page: who you are in chat, which account is connected, and the OAuth
round trip of whichever provider you connect (one-time state bound to this browser, PKCE, a
confirm step). The provider comes from the registry; nothing here is specific to one. A connected
person also chooses here which of their calendars count as busy and which receives meetings."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from aiohttp import web

from bot.calendars.caldav import seal_credentials
from bot.calendars.caldav_account import CalDavProblem, verify_credentials
from bot.calendars.google_oauth import new_verifier
from bot.calendars.oauth import OAuthError, OAuthFlow
from bot.calendars.provider import CalendarInfo
from bot.core import urls
from bot.core.context import Services
from bot.core.links import LinkError
from bot.core.messages import text_message
from bot.core.runtime import RUNTIME, Runtime
from bot.errors import UserError
from bot.web.render import PageProblem, render_page
from bot.web.routes import read_form
from storage.records import Connection, OAuthState, User

routes = web.RouteTableDef()
BROWSER_COOKIE = "calbot_oauth"
STATE_LIFETIME = timedelta(minutes=10)


def connect_link(services: Services, uid: str) -> str:
    return services.urls.connect(uid, services.clock.now())


async def _posted_by(request: web.Request, runtime: Runtime, *, spend: bool = True) -> User:
    """Who a connect-page form was posted for, checked by its link, this browser and the CSRF
    token. Starting a sign-in or disconnecting spends the link (OA-3: single use)."""
    form = await read_form(request)
    token = str(form.get("t", ""))
    user = await _user_for(runtime, token)
    _checked_csrf(request, runtime.services, str(form.get("csrf", "")), user.uid)
    await _claim(runtime.services, token, request.cookies.get(BROWSER_COOKIE, ""), user)
    if spend:
        await _spend(runtime.services, token)
    return user


def _link_key(kind: str, token: str, nonce: str = "") -> str:
    # Kept among processed ids (purged after the retention) under hashes, never the token.
    digest = hashlib.sha256(f"{token}\x00{nonce}".encode()).hexdigest()[:48]
    return f"connect-link:{kind}:{digest}"


async def _claim(services: Services, token: str, nonce: str, user: User) -> None:
    """A connect link belongs to the first browser that opens it: a forwarded or leaked link
    opened anywhere else is refused, and so is a link already used."""
    store, now = services.store, services.clock.now()
    if await store.message_claimed(_link_key("spent", token)):
        raise PageProblem(
            410, f"This connect link was already used. {user.name}, send /connect for a new one."
        )
    if await store.claim_message(_link_key("owner", token), now):
        await store.claim_message(_link_key("browser", token, nonce), now)
    elif not nonce or not await store.message_claimed(_link_key("browser", token, nonce)):
        raise PageProblem(
            410,
            "This connect link was opened in another browser. Connect links are personal "
            "and work once: send /connect in chat to get your own.",
        )


async def _spend(services: Services, token: str) -> None:
    await services.store.claim_message(_link_key("spent", token), services.clock.now())


async def _user_for(runtime: Runtime, token: str) -> User:
    services = runtime.services
    try:
        claims = services.links.verify(token, services.clock.now())
    except LinkError as problem:
        raise PageProblem(403, str(problem).replace("/share", "/connect")) from None
    user = await services.store.get_user(claims.audience) if claims.share_id == "connect" else None
    if user is None:
        raise PageProblem(403, "This link is not valid. Send /connect in chat for a new one.")
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
        raise PageProblem(403, "This form has expired. Reload the page and try again.")


def _flow(services: Services, name: str) -> OAuthFlow:
    flow = services.calendar.flow(name)
    if flow is None:
        raise PageProblem(400, "That calendar can't be connected from this page.")
    return flow


@routes.get(urls.CONNECT)
async def show(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    services = runtime.services
    token = request.query.get("t", "")
    user = await _user_for(runtime, token)
    nonce = _nonce(request)
    await _claim(services, token, nonce, user)
    connection = await services.store.get_connection(user.uid)
    calendars = services.calendar
    calendar_list, calendar_problem = await _calendar_list(services, connection)
    response = render_page(
        request,
        "connect.html",
        user=user,
        connection=connection,
        connected_label=(
            calendars.capabilities_of(connection.provider).account_label
            if connection and connection.provider in calendars.names()
            else "account"
        ),
        oauth_choices=_oauth_choices(services),
        caldav="caldav" in calendars.names(),
        calendar_list=calendar_list,
        calendar_problem=calendar_problem,
        token=token,
        csrf=_csrf(services, nonce, user.uid),
        message=request.query.get("done"),
    )
    return _with_cookie(response, services, nonce)


@routes.post(urls.CONNECT_START)
async def start(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    services = runtime.services
    user = await _posted_by(request, runtime)
    form = await read_form(request)
    flow = _flow(services, str(form.get("provider") or services.calendar.default))
    # The state names its provider, so the callback knows whose flow to finish.
    state, verifier = f"{flow.provider}.{secrets.token_urlsafe(32)}", new_verifier()
    nonce = request.cookies.get(BROWSER_COOKIE, "")
    await services.store.create_oauth_state(
        OAuthState(
            state, user.uid, verifier, _hash(nonce), "started", None, None, services.clock.now()
        )
    )
    url = flow.authorization_url(
        services.urls.oauth_callback(), state, verifier, choose_account=bool(form.get("another"))
    )
    raise web.HTTPFound(url)


async def _calendar_list(
    services: Services, connection: Connection | None
) -> tuple[list[CalendarInfo], str | None]:
    """The connected person's calendars, or why they can't be listed (shown, not raised: the
    rest of the page - reconnect, disconnect - must still work)."""
    if connection is None or connection.status != "active":
        return [], None
    if connection.provider not in services.calendar.names():
        return [], None
    try:
        return await services.calendar.calendars(connection), None
    except UserError as problem:
        return [], str(problem)


@routes.post(urls.CONNECT_CALENDARS)
async def choose_calendars(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    services = runtime.services
    user = await _posted_by(request, runtime, spend=False)
    form = await read_form(request)
    connection = await services.store.get_connection(user.uid)
    if connection is None or connection.status != "active":
        raise PageProblem(
            400, "No calendar is connected, so there is nothing to choose. Send /connect in chat."
        )
    busy = [str(value) for value in form.getall("busy", [])]
    receives = str(form.get("receives", ""))
    if not receives:
        raise PageProblem(400, "Pick the calendar that receives booked meetings, then save again.")
    try:
        await services.calendar.choose(connection, busy, receives)
    except UserError as problem:
        raise PageProblem(400, f"{problem} Nothing was changed; go back and try again.") from None
    await _spend(services, str(form.get("t", "")))
    raise web.HTTPSeeOther(connect_link(services, user.uid) + "&done=Calendars saved.")


def _oauth_choices(services: Services) -> list[OAuthFlow]:
    """The OAuth sign-ins offered, the configured default first."""
    calendars = services.calendar
    names = sorted(calendars.names(), key=lambda name: name != calendars.default)
    return [flow for name in names if (flow := calendars.flow(name)) is not None]


@routes.post(urls.CONNECT_CALDAV)
async def connect_caldav(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    services = runtime.services
    user = await _posted_by(request, runtime, spend=False)
    if services.vault is None or "caldav" not in services.calendar.names():
        raise PageProblem(400, "CalDAV calendars can't be connected on this server.")
    form = await read_form(request)
    url, username = str(form.get("url", "")).strip(), str(form.get("username", "")).strip()
    password = str(form.get("password", ""))
    try:
        account = await verify_credentials(url, username, password)
    except CalDavProblem as problem:
        raise PageProblem(400, f"{problem} Nothing was saved; go back and try again.") from None
    sealed = seal_credentials(
        services.vault, user.uid, url, username, password, account.calendar_url
    )
    shown = f"{username} ({account.calendar_name})"
    await _spend(services, str(form.get("t", "")))
    key = f"caldav:{user.uid}:{services.clock.now().isoformat()}"
    raise await _connected(services, user.uid, "caldav", "CalDAV calendar", shown, sealed, key)


@routes.get(urls.OAUTH_CALLBACK)
async def callback(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    services = runtime.services
    state = await services.store.get_oauth_state(request.query.get("state", ""))
    state = _checked_state(request, services, state, "started")
    flow = _flow(services, state.state.partition(".")[0])
    if "error" in request.query or "code" not in request.query:
        await services.store.delete_oauth_state(state.state)
        raise PageProblem(
            400,
            f"{flow.label} sign-in was cancelled, so nothing changed. "
            "Send /connect in chat to try again.",
        )
    try:
        granted = await flow.finish(
            request.query["code"], state.verifier, services.urls.oauth_callback()
        )
    except OAuthError as failure:
        await services.store.delete_oauth_state(state.state)
        raise PageProblem(400, str(failure)) from None
    if services.vault is None:
        raise PageProblem(503, "This server has no key to keep calendar tokens safe.")
    sealed = services.vault.seal(state.uid, dict(granted.secret))
    if not await services.store.advance_oauth_state(
        state.state, "started", "exchanged", account=granted.account, sealed=sealed
    ):
        raise PageProblem(400, "This sign-in was already used. Send /connect again.")
    user = await services.store.get_user(state.uid)
    nonce = request.cookies.get(BROWSER_COOKIE, "")
    return render_page(
        request,
        "confirm.html",
        user=user,
        account=granted.account,
        label=flow.label,
        state=state.state,
        csrf=_csrf(services, nonce, state.state),
    )


@routes.post(urls.OAUTH_CONFIRM)
async def confirm(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    services = runtime.services
    form = await read_form(request)
    found = await services.store.get_oauth_state(str(form.get("state", "")))
    state = _checked_state(request, services, found, "exchanged")
    if state.sealed is None or state.account is None:
        raise PageProblem(400, "This sign-in is incomplete. Send /connect.")
    _checked_csrf(request, services, str(form.get("csrf", "")), state.state)
    flow = _flow(services, state.state.partition(".")[0])
    # Deleting the row is the single use: a second confirm finds nothing, and the sealed token
    # it held lives on only in the connection.
    if not await services.store.delete_oauth_state(state.state):
        raise PageProblem(400, "This sign-in was already used. Send /connect again.")
    raise await _connected(
        services, state.uid, flow.provider, flow.label, state.account, state.sealed, state.state
    )


@routes.post(urls.CONNECT_DISCONNECT)
async def disconnect(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    services = runtime.services
    user = await _posted_by(request, runtime)
    connection = await services.store.get_connection(user.uid)
    if connection is not None:
        await services.calendar.revoke(connection)
        await services.store.delete_connection(user.uid)
    raise web.HTTPSeeOther(connect_link(services, user.uid) + "&done=Disconnected.")


async def _connected(
    services: Services,
    uid: str,
    provider: str,
    label: str,
    account: str,
    sealed: bytes,
    key: str,
) -> web.HTTPSeeOther:
    """Store the new connection (one live grant per user: the old one is revoked), tell the
    person in chat, and send the browser back to their connect page."""
    previous = await services.store.get_connection(uid)
    if previous is not None:
        await services.calendar.revoke(previous)
    await services.store.save_connection(uid, provider, account, sealed)
    await services.outbox.post(
        f"connected:{key}",
        text_message(
            uid,
            "user",
            f"Your {label} ({account}) is connected. "
            "Send /share @someone to let them book time with you.",
        ),
    )
    return web.HTTPSeeOther(connect_link(services, uid) + "&done=Connected.")


def _checked_state(
    request: web.Request, services: Services, state: OAuthState | None, status: str
) -> OAuthState:
    if state is None or state.status != status:
        raise PageProblem(
            400, "This sign-in link is not valid or was already used. Send /connect in chat."
        )
    if services.clock.now() - state.created_at > STATE_LIFETIME:
        raise PageProblem(400, "This sign-in took too long. Send /connect in chat and try again.")
    nonce = request.cookies.get(BROWSER_COOKIE, "")
    if not nonce or not hmac.compare_digest(_hash(nonce), state.browser_hash):
        raise PageProblem(400, "Please finish signing in in the same browser where you started.")
    return state


def _hash(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()
