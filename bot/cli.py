"""The `calbot` console script. Subcommands import what they need late, so `calbot parse`
starts fast without loading the web and database stacks."""

from __future__ import annotations

import argparse
import logging
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
    demo.set_defaults(run=_run_demo)

    serve = sub.add_parser(
        "serve",
        help="run in real mode (CometChat + Google or local calendars) from a config file",
        description="Run the bot in real mode with the given TOML config.",
    )
    serve.add_argument("--config", type=Path, required=True, help="path to config.toml")
    serve.set_defaults(run=_run_serve)

    check = sub.add_parser(
        "check-config",
        help="validate a config file (and CALBOT_* overrides) and exit",
        description="Load and validate a config file; prints the problem or 'config OK'.",
    )
    check.add_argument("--config", type=Path, required=True, help="path to config.toml")
    check.add_argument(
        "--real",
        action="store_true",
        help="also require the keys real mode needs (as `serve` does)",
    )
    check.set_defaults(run=_run_check_config)
    return parser


def _run_check_config(args: argparse.Namespace) -> int:
    from bot.config import ConfigError, load_config, require_real_mode

    try:
        config = load_config(args.config, os.environ)
        if args.real:
            require_real_mode(config, str(args.config))
    except ConfigError as problem:
        print(f"config error: {problem}", file=sys.stderr)
        return 1
    print(
        f"config OK: {args.config} (calendar provider {config.calendar.provider}, "
        f"storage {config.storage.url.split('://', 1)[0]})"
    )
    return 0


def _run_serve(args: argparse.Namespace) -> int:
    from bot.config import ConfigError, load_config, require_real_mode

    try:
        config = load_config(args.config, os.environ)
        require_real_mode(config, str(args.config))
    except ConfigError as problem:
        print(f"config error: {problem}", file=sys.stderr)
        return 1
    from bot.serve import run_real

    _setup_logging()
    run_real(config)
    return 0


def _run_demo(args: argparse.Namespace) -> int:
    from bot.serve import run_demo

    _setup_logging()
    run_demo(host=args.host, port=args.port, data_dir=args.data)
    return 0


def _setup_logging() -> None:
    level = os.environ.get("CALBOT_LOG_LEVEL", "INFO").upper()
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


if __name__ == "__main__":
    raise SystemExit(main())
