"""Calendar v3's discovery document, as shipped inside google-api-python-client, read by the
fake: which OAuth scopes each method accepts, and what its parameters and request body may hold.
Loaded from the installed package (not copied), so the fake follows the client's revision."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import googleapiclient

DOCUMENT = (
    Path(googleapiclient.__file__).parent / "discovery_cache" / "documents" / "calendar.v3.json"
)


@dataclass(frozen=True)
class Method:
    id: str
    http_method: str
    pattern: re.Pattern[str]
    scopes: frozenset[str]
    parameters: Mapping[str, Any]
    request: str | None  # schema name of the body


@cache
def document() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DOCUMENT.read_text(encoding="utf-8"))
    return loaded


@cache
def methods() -> tuple[Method, ...]:
    doc = document()
    found = []

    def walk(resources: Mapping[str, Any]) -> None:
        for resource in resources.values():
            for method in resource.get("methods", {}).values():
                path = "/" + doc["servicePath"] + method["path"]
                regex = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path))
                found.append(
                    Method(
                        method["id"],
                        method["httpMethod"],
                        re.compile(regex + "$"),
                        frozenset(method.get("scopes", ())),
                        {**doc["parameters"], **method.get("parameters", {})},
                        method.get("request", {}).get("$ref"),
                    )
                )
            walk(resource.get("resources", {}))

    walk(doc["resources"])
    return tuple(found)


def method_for(http_method: str, path: str) -> Method | None:
    # Literal paths (users/me/settings) win over templated ones that also match.
    matches = [m for m in methods() if m.http_method == http_method and m.pattern.match(path)]
    return min(matches, key=lambda m: m.pattern.pattern.count("[^/]+"), default=None)


def query_problems(method: Method, query: Mapping[str, str]) -> list[str]:
    problems = []
    for name, value in query.items():
        spec = method.parameters.get(name)
        if spec is None or spec.get("location") != "query":
            problems.append(f"unknown parameter {name!r}")
        elif "enum" in spec and value not in spec["enum"]:
            problems.append(f"{name}={value!r} is not one of {spec['enum']}")
    return problems


def body_problems(schema_name: str, body: Any) -> list[str]:
    return _check({"$ref": schema_name}, body, schema_name)


def _check(schema: Mapping[str, Any], value: Any, where: str) -> list[str]:
    if "$ref" in schema:
        schema = document()["schemas"][schema["$ref"]]
    kind = schema.get("type")
    if kind == "object":
        if not isinstance(value, dict):
            return [f"{where} must be an object"]
        problems = []
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            if key in properties:
                problems += _check(properties[key], item, f"{where}.{key}")
            elif extra is not None:
                problems += _check(extra, item, f"{where}.{key}")
            else:
                problems.append(f"Invalid JSON payload received. Unknown name {where}.{key!r}")
        return problems
    if kind == "array":
        if not isinstance(value, list):
            return [f"{where} must be an array"]
        return [
            p
            for n, item in enumerate(value)
            for p in _check(schema["items"], item, f"{where}[{n}]")
        ]
    types: dict[str, type | tuple[type, ...]] = {
        "string": str,
        "boolean": bool,
        "integer": int,
        "number": (int, float),
    }
    expected = types.get(str(kind))
    if expected is not None and (
        not isinstance(value, expected) or (kind != "boolean" and isinstance(value, bool))
    ):
        return [f"{where} must be a {kind}"]
    if "enum" in schema and value not in schema["enum"]:
        return [f"{where}={value!r} is not one of {schema['enum']}"]
    return []
