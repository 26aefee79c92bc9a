"""Configuration: a TOML file plus `CALBOT_<SECTION>_<KEY>` overrides, as frozen dataclasses.

Every key has a default so an empty file is a valid embedded-default config; a key that is
present but wrong (unknown name, wrong type, bad value) stops start-up with a message that
names the key and the file, because a typo discovered at the first chat message is too late.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import difflib
import string
import tomllib
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ENV_PREFIX = "CALBOT_"


class ConfigError(Exception):
    """Configuration problems, each phrased so the operator knows which key to fix.

    All problems found in one pass are carried together (one per line) so an operator fixes
    a file in one round instead of one missing key per run."""

    def __init__(self, *problems: str) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class WebConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str = "http://127.0.0.1:8080"
    booking_posts_per_minute: int = 20
    # Booking-page and busy-file GETs a minute, per client address and per share: each
    # uncached one costs a free/busy call on the sharer's token (issue 16).
    page_gets_per_minute: int = 150
    share_gets_per_minute: int = 300
    free_busy_cache_seconds: int = 45


@dataclass(frozen=True, slots=True)
class StorageConfig:
    url: str = "sqlite+aiosqlite:///calbot.db"
    # Days processed message ids and delivered/handled messages are kept (issue 16).
    retention_days: int = 30


@dataclass(frozen=True, slots=True)
class SecurityConfig:
    secret_key: str = ""
    token_keys: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CometChatConfig:
    app_id: str = ""
    region: str = "us"
    api_key: str = ""
    bot_uid: str = "calbot"
    api_base: str = ""
    webhook_username: str = ""
    webhook_password: str = ""
    # Rotating the webhook's Basic credentials: the old ones keep working until this moment
    # (ISO 8601 with its offset), so CometChat can be switched over without a gap.
    webhook_previous_username: str = ""  # "" = the same username as now
    webhook_previous_password: str = ""
    webhook_previous_until: str = ""
    scheduler_message: bool = False
    send_per_minute: int = 30
    # Web origins whose browsers may POST scheduler clicks and fetch busy .ics (CORS).
    client_origins: tuple[str, ...] = ()
    # Seconds the outbox keeps retrying a message through transient failures before parking it.
    give_up_after: int = 24 * 3600
    # A message whose sentAt is older than this is a replay, not a request: ignored and counted.
    max_message_age: int = 3600

    def base_url(self) -> str:
        """The REST v3 base, derived from app id and region unless set (tests point it local)."""
        if self.api_base:
            return self.api_base.rstrip("/")
        return f"https://{self.app_id}.api-{self.region}.cometchat.io/v3"

    def allows_origin(self, origin: str) -> bool:
        """Whether a browser on `origin` may call the client-facing routes (exact match)."""
        return origin.rstrip("/").lower() in {o.rstrip("/").lower() for o in self.client_origins}


@dataclass(frozen=True, slots=True)
class GoogleConfig:
    client_id: str = ""
    client_secret: str = ""
    auth_uri: str = "https://accounts.google.com/o/oauth2/v2/auth"
    token_uri: str = "https://oauth2.googleapis.com/token"
    revoke_uri: str = "https://oauth2.googleapis.com/revoke"
    userinfo_uri: str = "https://openidconnect.googleapis.com/v1/userinfo"
    api_base: str = "https://www.googleapis.com/"


@dataclass(frozen=True, slots=True)
class MicrosoftConfig:
    """[microsoft]: Microsoft 365 / Outlook.com; `{tenant}` in the URIs is filled from `tenant`."""

    client_id: str = ""
    client_secret: str = ""
    tenant: str = "common"
    auth_uri: str = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize"
    token_uri: str = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"
    api_base: str = "https://graph.microsoft.com/v1.0"


PROVIDERS = ("local", "google", "microsoft", "caldav")


@dataclass(frozen=True, slots=True)
class CalendarConfig:
    provider: str = "local"
    # What a booked event is called in the owner's calendar; "" keeps the booker's title.
    # Placeholders: {booker}, {owner}, {title}.
    event_title: str = ""


VIDEO_CHOICES = ("auto", "jitsi", "none")


@dataclass(frozen=True, slots=True)
class MeetingsConfig:
    """[meetings]: the video link each booking carries."""

    video: str = "auto"
    jitsi_base: str = "https://meet.jit.si"


@dataclass(frozen=True, slots=True)
class BotConfig:
    name: str = "Calendar Bot"
    default_timezone: str = "UTC"


@dataclass(frozen=True, slots=True)
class Config:
    web: WebConfig = field(default_factory=WebConfig)
    storage: StorageConfig = field(default_factory=StorageConfig)
    security: SecurityConfig = field(default_factory=SecurityConfig)
    cometchat: CometChatConfig = field(default_factory=CometChatConfig)
    google: GoogleConfig = field(default_factory=GoogleConfig)
    microsoft: MicrosoftConfig = field(default_factory=MicrosoftConfig)
    calendar: CalendarConfig = field(default_factory=CalendarConfig)
    bot: BotConfig = field(default_factory=BotConfig)
    meetings: MeetingsConfig = field(default_factory=MeetingsConfig)


def load_config(path: Path | None, environ: Mapping[str, str]) -> Config:
    """Read `path` (if given), apply environment overrides, validate, and freeze."""
    source = str(path) if path is not None else "<defaults>"
    raw: dict[str, Any] = {}
    if path is not None:
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"config file {path} does not exist") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    problems: list[str] = []
    sections: dict[str, Any] = {}
    for name, section_cls in typing.get_type_hints(Config).items():
        table = raw.pop(name, {})
        if not isinstance(table, dict):
            problems.append(f"[{name}] in {source} must be a table")
            table = {}
        sections[name] = _build_section(name, section_cls, table, environ, source, problems)
    for name in raw:
        hint = _did_you_mean(name, [f.name for f in dataclasses.fields(Config)])
        problems.append(f"unknown section [{name}] in {source}{hint}")
    config = Config(**sections)
    problems += _validate(config, source)
    if problems:
        raise ConfigError(*problems)
    return config


def _build_section(
    section: str,
    cls: type[Any],
    table: dict[str, Any],
    environ: Mapping[str, str],
    source: str,
    problems: list[str],
) -> Any:
    hints = typing.get_type_hints(cls)
    known = [f.name for f in dataclasses.fields(cls)]
    for key in table:
        if key not in known:
            hint = _did_you_mean(key, sorted(known))
            problems.append(f"unknown key [{section}] {key} in {source}{hint}")
    values: dict[str, Any] = {}
    for key in known:
        env_name = f"{ENV_PREFIX}{section.upper()}_{key.upper()}"
        where = f"[{section}] {key} in {source}"
        try:
            if env_name in environ:
                values[key] = _from_env(
                    environ[env_name], hints[key], f"environment variable {env_name}"
                )
            elif key in table:
                values[key] = _coerce(table[key], hints[key], where)
        except ConfigError as problem:
            # A bad value keeps its default so the remaining keys are still checked.
            problems += problem.problems
    return cls(**values)


def _from_env(text: str, hint: Any, where: str) -> Any:
    if hint is bool:
        lowered = text.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off", ""}:
            return False
        raise ConfigError(f"{where} must be true or false, got {text!r}")
    if hint is int:
        try:
            return int(text)
        except ValueError:
            raise ConfigError(f"{where} must be a whole number, got {text!r}") from None
    if _is_str_tuple(hint):
        return tuple(part.strip() for part in text.split(",") if part.strip())
    return text


def _coerce(value: Any, hint: Any, where: str) -> Any:
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where} must be true or false, got {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where} must be a whole number, got {value!r}")
        return value
    if _is_str_tuple(hint):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where} must be a list of strings, got {value!r}")
        return tuple(value)
    if not isinstance(value, str):
        raise ConfigError(f"{where} must be a string, got {value!r}")
    return value


def _is_str_tuple(hint: Any) -> bool:
    return typing.get_origin(hint) is tuple


def _did_you_mean(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _title_template_ok(template: str) -> bool:
    try:
        fields = [name for _, name, spec, conv in string.Formatter().parse(template) if name]
        template.format(booker="", owner="", title="")
    except (ValueError, KeyError, IndexError, AttributeError):
        return False
    return set(fields) <= {"booker", "owner", "title"}


def previous_webhook_until(cometchat: CometChatConfig) -> datetime | None:
    """When the previous webhook credentials stop working; None when there are none."""
    if not cometchat.webhook_previous_password:
        return None
    until = datetime.fromisoformat(cometchat.webhook_previous_until)
    return until if until.tzinfo is not None else None


def _rotation_problems(cometchat: CometChatConfig, source: str) -> list[str]:
    if not cometchat.webhook_previous_password:
        return []
    try:
        if previous_webhook_until(cometchat) is not None:
            return []
    except ValueError:
        pass
    return [
        f"[cometchat] webhook_previous_until in {source} must say until when the previous "
        f"password works, as an ISO 8601 time with its offset (e.g. 2026-12-08T12:00:00+00:00), "
        f"got {cometchat.webhook_previous_until!r}"
    ]


def _validate(config: Config, source: str) -> list[str]:
    problems: list[str] = []
    if not 0 < config.web.port < 65536:
        problems.append(f"[web] port in {source} must be between 1 and 65535")
    if not config.web.public_url.startswith(("http://", "https://")):
        problems.append(f"[web] public_url in {source} must start with http:// or https://")
    if config.calendar.provider not in PROVIDERS:
        problems.append(
            f"[calendar] provider in {source} must be one of {', '.join(PROVIDERS)}, "
            f"got {config.calendar.provider!r}"
        )
    try:
        ZoneInfo(config.bot.default_timezone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(
            f"[bot] default_timezone in {source} is not an IANA time zone: "
            f"{config.bot.default_timezone!r}"
        )
    if not _title_template_ok(config.calendar.event_title):
        problems.append(
            f"[calendar] event_title in {source} may use only {{booker}}, {{owner}} and "
            f"{{title}}, got {config.calendar.event_title!r}"
        )
    if config.meetings.video not in VIDEO_CHOICES:
        problems.append(
            f"[meetings] video in {source} must be one of {', '.join(VIDEO_CHOICES)}, "
            f"got {config.meetings.video!r}"
        )
    problems += _rotation_problems(config.cometchat, source)
    if not config.meetings.jitsi_base.startswith("https://"):
        problems.append(f"[meetings] jitsi_base in {source} must start with https://")
    if "://" not in config.storage.url:
        problems.append(f"[storage] url in {source} must be an SQLAlchemy URL")
    for section, key, value in (
        ("web", "booking_posts_per_minute", config.web.booking_posts_per_minute),
        ("web", "page_gets_per_minute", config.web.page_gets_per_minute),
        ("web", "share_gets_per_minute", config.web.share_gets_per_minute),
        ("cometchat", "send_per_minute", config.cometchat.send_per_minute),
    ):
        if value < 1:
            problems.append(f"[{section}] {key} in {source} must be 1 or more, got {value}")
    for number, key in enumerate(config.security.token_keys, start=1):
        if not _is_fernet_key(key):
            # The key itself is a secret: name its position, never echo it.
            problems.append(
                f"[security] token_keys entry {number} in {source} is not a Fernet key "
                f"(44 characters of URL-safe base64; {MAKE_KEY})"
            )
    return problems


MAKE_KEY = (
    'make one with: python -c "from cryptography.fernet import Fernet; '
    'print(Fernet.generate_key().decode())"'
)


def _is_fernet_key(key: str) -> bool:
    try:
        return len(base64.urlsafe_b64decode(key.encode("ascii"))) == 32
    except (binascii.Error, ValueError):
        return False


def require_real_mode(config: Config, source: str) -> None:
    """Keys that `calbot serve` cannot run without; the demo needs none of them.

    Every missing or weak key is reported at once."""
    needed = [
        ("security", "secret_key", config.security.secret_key),
        ("cometchat", "app_id", config.cometchat.app_id),
        ("cometchat", "api_key", config.cometchat.api_key),
        ("cometchat", "webhook_username", config.cometchat.webhook_username),
        ("cometchat", "webhook_password", config.cometchat.webhook_password),
    ]
    if config.calendar.provider == "google":
        needed += [
            ("google", "client_id", config.google.client_id),
            ("google", "client_secret", config.google.client_secret),
        ]
    if config.calendar.provider == "microsoft":
        needed += [
            ("microsoft", "client_id", config.microsoft.client_id),
            ("microsoft", "client_secret", config.microsoft.client_secret),
        ]
    problems: list[str] = []
    for section, key, value in needed:
        if not value:
            env = f"{ENV_PREFIX}{section.upper()}_{key.upper()}"
            problems.append(f"[{section}] {key} is missing in {source} (or set {env})")
    if config.calendar.provider != "local" and not config.security.token_keys:
        problems.append(
            f"[security] token_keys is missing in {source} (calendar tokens are stored "
            f"encrypted; {MAKE_KEY})"
        )
    if config.security.secret_key and len(config.security.secret_key) < 32:
        problems.append(f"[security] secret_key in {source} must be at least 32 characters")
    if problems:
        raise ConfigError(*problems)
