"""The `calbot` console script. Subcommands import what they need late, so `calbot parse`
starts fast without loading the web and database stacks."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    code: int = args.run(args)
    return code


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="calbot",
        description="Calendar scheduling bot for CometChat conversations.",
    )
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")

    demo = sub.add_parser(
        "demo",
        help="run the embedded default: local chat hub, local calendars, SQLite; no keys",
        description="Run the bot with a local chat hub and demo users; nothing to configure.",
    )
    demo.add_argument("--port", type=int, default=8080, help="web port (default 8080)")
    demo.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    demo.add_argument(
        "--data",
        type=Path,
        default=Path("data"),
        help="folder for the SQLite database (default ./data)",
    )
    demo.add_argument(
        "--calendar",
        choices=("local", "caldav"),
        default="local",
        help="local: calendars kept by the bot (default); caldav: also run a Radicale CalDAV "
        "server (pip install radicale) that a calendar app can show the booked meetings from",
    )
    demo.set_defaults(run=_run_demo)

    serve = sub.add_parser(
        "serve",
        help="run in real mode (CometChat + Google or local calendars) from a config file",
        description="Run the bot in real mode with the given TOML config.",
    )
    serve.add_argument("--config", type=Path, required=True, help="path to config.toml")
    serve.set_defaults(run=_run_serve)

    parse = sub.add_parser(
        "parse",
        help="resolve a natural-language time, e.g. 'tomorrow 3pm for 30 min'",
        description="Resolve a time expression the way /book and /share read it.",
    )
    parse.add_argument("text", nargs="?", help="the expression (omit with --jsonl)")
    parse.add_argument("--now", help="reference time, ISO 8601 with offset (default: now)")
    parse.add_argument("--tz", default="UTC", help="the user's IANA time zone (default UTC)")
    parse.add_argument(
        "--lang", help="BCP 47 language of TEXT: es, pt-BR, ja... (default: detect, English first)"
    )
    parse.add_argument("--json", action="store_true", help="print one JSON object")
    parse.add_argument(
        "--jsonl",
        action="store_true",
        help='read {"text","now","tz"[,"lang"]} lines on stdin, write one result line each',
    )
    parse.add_argument(
        "--dates", choices=["mdy", "dmy"], default="mdy", help="how 12/03 is read (default mdy)"
    )
    parse.add_argument(
        "--next",
        dest="next_weekday",
        choices=["next-week", "first-after"],
        default="next-week",
        help='how "next friday" is read (default next-week)',
    )
    parse.set_defaults(run=_run_parse)

    invite = sub.add_parser(
        "invite",
        help="print the add-to-calendar links and .ics the bot would send for an event",
        description="Build the invite (Google, Yahoo, Outlook.com, Office 365 links and .ics).",
    )
    invite.add_argument("--title", required=True)
    invite.add_argument(
        "--start", required=True, help="ISO 8601; without an offset it is read in --tz"
    )
    invite.add_argument(
        "--end", required=True, help="ISO 8601; without an offset it is read in --tz"
    )
    invite.add_argument("--tz", required=True, help="the organizer's IANA time zone")
    invite.add_argument("--description", default="")
    invite.add_argument("--location", default="")
    invite.add_argument(
        "--json",
        action="store_true",
        help='print {"links": {...}, "ics": "..."} as one JSON object',
    )
    invite.set_defaults(run=_run_invite)

    check = sub.add_parser(
        "check-config",
        help="validate a config file (and CALBOT_* overrides) as `serve` would, and exit",
        description="Load and validate a config file the way `calbot serve` does; prints "
        "every problem (one a line) or 'config OK'.",
    )
    check.add_argument("--config", type=Path, required=True, help="path to config.toml")
    check.add_argument(
        "--syntax-only",
        action="store_true",
        help="only check names, types and values, not the keys `serve` needs",
    )
    # Real-mode checks used to be opt-in; the flag stays accepted for old scripts.
    check.add_argument("--real", action="store_true", help=argparse.SUPPRESS)
    check.set_defaults(run=_run_check_config)

    outbox = sub.add_parser(
        "outbox",
        help="list parked outgoing messages, or send them again",
        description="Parked messages are ones the chat service refused or that failed for "
        "longer than [cometchat] give_up_after. `retry` queues them again.",
    )
    outbox.add_argument("--config", type=Path, required=True, help="path to config.toml")
    outbox.add_argument("action", nargs="?", choices=["list", "retry"], default="list")
    outbox.add_argument("id", nargs="?", type=int, help="the parked row to retry")
    outbox.add_argument("--all", action="store_true", help="retry every parked row")
    outbox.set_defaults(run=_run_outbox)
    return parser


def _run_parse(args: argparse.Namespace) -> int:
    from bot.timeparse.command import run_parse

    return run_parse(
        args.text,
        args.now,
        args.tz,
        as_json=args.json,
        jsonl=args.jsonl,
        date_order=args.dates.upper(),
        next_weekday=args.next_weekday.replace("-", "_"),
        lang=args.lang,
    )


def _run_invite(args: argparse.Namespace) -> int:
    from bot.invite_command import run_invite

    return run_invite(
        args.title,
        args.start,
        args.end,
        args.tz,
        args.description,
        args.location,
        as_json=args.json,
    )


def _run_check_config(args: argparse.Namespace) -> int:
    from bot.config import ConfigError, load_config, require_real_mode

    try:
        config = load_config(args.config, os.environ)
        if not args.syntax_only:
            require_real_mode(config, str(args.config))
    except ConfigError as problem:
        _report(problem)
        return 1
    print(
        f"config OK: {args.config} (calendar provider {config.calendar.provider}, "
        f"storage {config.storage.url.split('://', 1)[0]})"
    )
    return 0


def _run_outbox(args: argparse.Namespace) -> int:
    import asyncio

    from bot.config import ConfigError, load_config

    try:
        config = load_config(args.config, os.environ)
    except ConfigError as problem:
        _report(problem)
        return 1
    if args.action == "retry" and (args.id is None) == (not args.all):
        print("outbox retry needs a row ID or --all (not both)", file=sys.stderr)
        return 2
    return asyncio.run(_outbox(config.storage.url, args.action, args.id, args.all))


async def _outbox(url: str, action: str, row: int | None, every: bool) -> int:
    from datetime import UTC, datetime

    from storage import open_store

    store = await open_store(url)
    try:
        if action == "retry":
            count = await store.retry_parked(None if every else row, datetime.now(UTC))
            print(f"queued {count} parked message(s) again")
            return 0 if count else 1
        parked = await store.parked_messages(limit=1000)
        for item in parked:
            to = f"{item.payload.get('receiver_type')}:{item.payload.get('receiver')}"
            print(f"{item.id}\t{item.created_at:%Y-%m-%d %H:%M}Z\t{to}\t{item.attempts} tries"
                  f"\t{item.last_error or ''}")  # fmt: skip
        print(f"{len(parked)} parked message(s)", file=sys.stderr)
        return 0
    finally:
        await store.close()


def _run_serve(args: argparse.Namespace) -> int:
    from bot.config import ConfigError, load_config, require_real_mode

    try:
        config = load_config(args.config, os.environ)
        require_real_mode(config, str(args.config))
    except ConfigError as problem:
        _report(problem)
        return 1
    from bot.serve import PortInUse, run_real

    _setup_logging()
    try:
        run_real(config)
    except PortInUse as busy:
        print(busy, file=sys.stderr)
        return 1
    return 0


def _run_demo(args: argparse.Namespace) -> int:
    from bot.config import ConfigError
    from bot.serve import DemoProblem, PortInUse, run_demo

    _setup_logging()
    try:
        run_demo(host=args.host, port=args.port, data_dir=args.data, calendar=args.calendar)
    except ConfigError as problem:
        _report(problem)
        return 1
    except (PortInUse, DemoProblem) as problem:
        print(problem, file=sys.stderr)
        return 1
    return 0


def _report(problem: Exception) -> None:
    """One line per problem, so every fix needed is visible after a single run."""
    for line in getattr(problem, "problems", None) or (str(problem),):
        print(f"config error: {line}", file=sys.stderr)


def _setup_logging() -> None:
    from bot.core.logs import setup_logging

    level = os.environ.get("CALBOT_LOG_LEVEL", "INFO").upper()
    setup_logging(level, as_json=os.environ.get("CALBOT_LOG_FORMAT", "").lower() == "json")


if __name__ == "__main__":
    raise SystemExit(main())
