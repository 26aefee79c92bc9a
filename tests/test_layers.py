"""The layers of bot/ stay layers: every import is checked against a small table.

Order (a layer may import its own and any lower one):
config/errors -> timeparse -> calendars -> core -> scheduling -> {transports, web} -> handlers
-> entry points. storage imports nothing from bot or handlers; handlers reach neither
transports, web nor calendars (they get calendars through ctx); transports and web don't
import each other, and transports don't run scheduling (they hand events to the dispatcher).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RANKS = {
    "bot.config": 0,
    "bot.errors": 0,
    "bot.timeparse": 1,
    "bot.calendars": 2,
    "bot.core": 3,
    "bot.scheduling": 4,
    "bot.transports": 5,
    "bot.web": 5,
    "handlers": 6,
    "bot.app": 7,
    "bot.cli": 7,
    "bot.serve": 7,
    "bot.demo": 7,
    "bot.invite_command": 7,
}
FORBIDDEN = {
    "storage": ("bot", "handlers"),
    "handlers": ("bot.transports", "bot.web", "bot.calendars"),
    "bot.transports": ("bot.web", "bot.scheduling"),
    "bot.web": ("bot.transports",),
}


def layer(module: str) -> str | None:
    """The longest table entry that `module` falls under."""
    matches = [key for key in (*RANKS, "storage") if module == key or module.startswith(key + ".")]
    return max(matches, key=len) if matches else None


def imports_of(path: Path, module: str) -> list[tuple[str, int]]:
    """Every absolute (and resolved relative) module `path` imports, with its line."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            found.append((base, node.lineno))
            # `from bot.core import urls` imports the module bot.core.urls.
            found += [(f"{base}.{alias.name}", node.lineno) for alias in node.names]
    return found


def violation(importer: str, imported: str) -> str | None:
    """Why `importer` may not import `imported`, or None when the table allows it."""
    source, target = layer(importer), layer(imported)
    if source is None or target is None:
        return None  # the standard library, third parties, tests
    for banned in FORBIDDEN.get(source, ()) + FORBIDDEN.get(source.split(".")[0], ()):
        if imported == banned or imported.startswith(banned + "."):
            return f"{source} must not import {banned}"
    if source == "storage" or target == "storage":
        return None
    if RANKS[target] > RANKS[source]:
        return f"{source} (layer {RANKS[source]}) must not import {target} (layer {RANKS[target]})"
    return None


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def wrong_way_imports() -> list[str]:
    problems = []
    for folder in ("bot", "handlers", "storage"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            importer = module_name(path)
            for imported, line in imports_of(path, importer):
                why = violation(importer, imported)
                if why:
                    problems.append(f"{path.relative_to(ROOT)}:{line} imports {imported}: {why}")
    return sorted(set(problems))


def test_every_import_follows_the_layers() -> None:
    assert wrong_way_imports() == []


def test_the_table_refuses_the_imports_the_architecture_review_found() -> None:
    # The seven wrong-way edges of the flat layout, named in their new places.
    assert violation("bot.calendars.google", "bot.scheduling.availability")
    assert violation("bot.transports.scheduler", "bot.scheduling.booking")
    assert violation("bot.transports.scheduler", "bot.scheduling.cards")
    assert violation("bot.transports.webhook", "bot.scheduling.polls")
    assert violation("handlers.connect", "bot.web.connect_page")
    assert violation("handlers.book", "bot.calendars.provider")
    assert violation("handlers.share", "bot.calendars.provider")
    assert violation("storage.sql", "bot.core.clock")
    assert violation("bot.core.context", "handlers")
    # ...and allows the ordinary directions.
    assert violation("handlers.book", "bot.scheduling.booking") is None
    assert violation("bot.web.booking_page", "bot.scheduling.freebusy") is None
    assert violation("bot.app", "handlers") is None


def test_a_reintroduced_wrong_way_import_is_reported(tmp_path: Path) -> None:
    source = tmp_path / "google.py"
    source.write_text("from bot.scheduling.availability import utc\n", encoding="utf-8")
    [(imported, line), *_] = imports_of(source, "bot.calendars.google")
    assert (imported, line) == ("bot.scheduling.availability", 1)
    assert violation("bot.calendars.google", imported) == (
        "bot.calendars (layer 2) must not import bot.scheduling (layer 4)"
    )
