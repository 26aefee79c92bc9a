"""CometChat's REST v3 client: sends, live-card edits and group member lists, with the
per-sender send limit and the live cards' message ids shared by every worker."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any, Protocol

import aiohttp

from bot.config import CometChatConfig
from bot.core.messages import OutgoingMessage
from bot.core.outbox import DeliveryError
from bot.core.throttle import LocalSendLimit, SendLimit, SharedRateLimit
from bot.transports.cometchat import as_mapping
from storage.store import Store

log = logging.getLogger(__name__)

MAX_MEMBER_PAGES = 10  # 1,000 members: more than /find plans for
REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=15, connect=5, sock_read=10)


def wire_body(message: OutgoingMessage) -> dict[str, Any]:
    return {
        "receiver": message.receiver,
        "receiverType": message.receiver_type,
        "category": message.category,
        "type": message.type,
        "data": dict(message.data),
    }


class CometChatError(DeliveryError):
    def __init__(
        self,
        status: int,
        code: str,
        text: str,
        *,
        retry_after: float | None = None,
        permanent: bool = False,
    ) -> None:
        super().__init__(f"{status} {code}: {text}", retry_after=retry_after, permanent=permanent)
        self.status = status
        self.code = code


def cometchat_transport(config: CometChatConfig, store: Store) -> CometChatClient:
    """The client as a worker runs it: each sender's limit counted with every other worker's,
    and live cards' message ids kept where any worker (or this one after a restart) finds them."""
    return CometChatClient(config, SharedRateLimit(store, config.send_per_minute), refs=store)


class SentRefs(Protocol):
    async def remember_sent(self, ref: str, message_id: str, now: datetime) -> None: ...
    async def sent_message(self, ref: str) -> str | None: ...


class CometChatClient:
    """REST v3 sender: POST /messages on a user's behalf, POST /bots/{uid}/messages as the bot."""

    def __init__(
        self,
        config: CometChatConfig,
        rate: SendLimit | None = None,
        timeout: aiohttp.ClientTimeout = REQUEST_TIMEOUT,
        refs: SentRefs | None = None,
    ) -> None:
        self._config = config
        self._timeout = timeout
        self._session = aiohttp.ClientSession()  # built inside the running loop (app start-up)
        self._base = config.base_url()
        self._rate = rate or LocalSendLimit(config.send_per_minute)
        # Live cards by name ("poll:<id>") -> CometChat message id, for edits: in the store
        # when given one, else in memory (where an edit after a restart is posted anew).
        self._refs = refs
        self._sent_ids: dict[str, str] = {}

    async def close(self) -> None:
        await self._session.close()

    async def send(self, message: OutgoingMessage) -> None:
        sender = message.on_behalf_of or self._config.bot_uid
        wait = await self._rate.wait_for(sender)
        if wait > 0:
            raise CometChatError(
                429,
                "LOCAL_RATE_LIMIT",
                f"{sender} is at {self._config.send_per_minute} messages a minute",
                retry_after=wait,
            )
        headers = {"apikey": self._config.api_key, "Accept": "application/json"}
        sent_id = await self._sent_id(message.edit_of) if message.edit_of else None
        if sent_id is not None:
            await self.edit(sent_id, message, headers)
            return
        # An edit of a card this process never sent (e.g. sent before a restart) is posted
        # as a new message: the group sees the current state either way.
        if message.parent_id:
            url = f"{self._base}/messages/{message.parent_id}/thread"
            headers["onBehalfOf"] = sender
        elif message.on_behalf_of:
            url = f"{self._base}/messages"
            headers["onBehalfOf"] = message.on_behalf_of
        else:
            url = f"{self._base}/bots/{self._config.bot_uid}/messages"
        try:
            async with self._session.post(
                url, json=wire_body(message), headers=headers, timeout=self._timeout
            ) as response:
                if response.status < 300:
                    if message.ref or message.edit_of:
                        body = await response.json(content_type=None)
                        await self._remember(message.ref or message.edit_of, body)
                    return
                raise await _error(response)
        except (TimeoutError, aiohttp.ClientError) as problem:
            raise CometChatError(0, "NETWORK", repr(problem)) from None

    async def edit(
        self, message_id: str, message: OutgoingMessage, headers: dict[str, str]
    ) -> None:
        """PUT /messages/{id}: replace a sent message's data (a live card) in place."""
        headers = {**headers, "onBehalfOf": message.on_behalf_of or self._config.bot_uid}
        try:
            async with self._session.put(
                f"{self._base}/messages/{message_id}",
                json={"data": dict(message.data)},
                headers=headers,
                timeout=self._timeout,
            ) as response:
                if response.status >= 300:
                    raise await _error(response)
        except (TimeoutError, aiohttp.ClientError) as problem:
            raise CometChatError(0, "NETWORK", repr(problem)) from None

    async def group_members(self, guid: str) -> list[tuple[str, str]]:
        """GET /groups/{guid}/members, every page (a Roster for /find in a fresh group)."""
        found: list[tuple[str, str]] = []
        headers = {"apikey": self._config.api_key, "Accept": "application/json"}
        for page in range(1, MAX_MEMBER_PAGES + 1):
            try:
                async with self._session.get(
                    f"{self._base}/groups/{guid}/members",
                    params={"perPage": "100", "page": str(page)},
                    headers=headers,
                    timeout=self._timeout,
                ) as response:
                    if response.status >= 300:
                        raise await _error(response)
                    body = await response.json(content_type=None)
            except (TimeoutError, aiohttp.ClientError) as problem:
                raise CometChatError(0, "NETWORK", repr(problem)) from None
            items = body.get("data") if isinstance(body, dict) else None
            for item in items if isinstance(items, list) else []:
                if isinstance(item, dict) and isinstance(item.get("uid"), str):
                    found.append((item["uid"].lower(), str(item.get("name") or item["uid"])))
            pagination = as_mapping(as_mapping(body.get("meta")).get("pagination"))
            if page >= int(pagination.get("total_pages") or 1):
                break
        return found

    async def _sent_id(self, ref: str) -> str | None:
        if self._refs is not None:
            return await self._refs.sent_message(ref)
        return self._sent_ids.get(ref)

    async def _remember(self, ref: str | None, body: Any) -> None:
        data = body.get("data") if isinstance(body, dict) else None
        sent_id = data.get("id") if isinstance(data, dict) else None
        if not ref or sent_id is None:
            return
        if self._refs is not None:
            try:
                await self._refs.remember_sent(ref, str(sent_id), datetime.now(UTC))
            except Exception:
                # The message is out: failing now would send it again. Its next edit is
                # posted as a new card instead.
                log.warning("could not keep the message id of %s", ref, exc_info=True)
        else:
            self._sent_ids[ref] = str(sent_id)


async def _error(response: aiohttp.ClientResponse) -> CometChatError:
    try:
        envelope = await response.json(content_type=None)
        error = envelope.get("error", {}) if isinstance(envelope, dict) else {}
    except (ValueError, aiohttp.ContentTypeError):
        error = {}
    code = str(error.get("code", "UNKNOWN"))
    text = str(error.get("message", response.reason or ""))
    retry_after = None
    if response.status == 429:
        header = response.headers.get("Retry-After") or response.headers.get("retry-after")
        try:
            retry_after = float(header) if header else 1.0
        except ValueError:
            retry_after = 1.0
    permanent = 400 <= response.status < 500 and response.status not in (408, 429)
    return CometChatError(response.status, code, text, retry_after=retry_after, permanent=permanent)
