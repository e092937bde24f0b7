"""Load the YAML configuration, reporting every problem as ``FILE:LINE:COL: message``.

Safe compose (no anchors, aliases or python tags) -> plain values with recorded positions ->
``${VAR}`` interpolation of string values -> ``RelayConfig`` -> route reference checks. All
problems are reported at once, sorted; values from the environment never appear in them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from relay.config_schema import SchemaErrors, validate
from relay.routing.config import RelayConfig
from relay.routing.document import Builder, Path, Pos, compose, read_file
from relay.routing.interpolate import redact
from relay.routing.issues import ConfigErrors, ConfigIssue, SourceMap
from relay.routing.rules import route_problems
from relay.routing.schema_issues import did_you_mean, schema_issues
from relay.routing.sources import source_problems

__all__ = [
    "ConfigErrors",
    "ConfigIssue",
    "LoadedDocument",
    "SourceMap",
    "load_file",
    "parse_document",
]


@dataclass(frozen=True)
class LoadedDocument:
    config: RelayConfig
    path: str
    sha256: str  # hex digest of the file's raw bytes
    defaulted: tuple[str, ...]  # ${VAR:-default} variables that were unset and took the default
    locate: Callable[[Path], tuple[int, int]]  # (line, col) of the deepest existing node on a path
    warnings: tuple[ConfigIssue, ...] = ()
    text: str = ""  # the file's text
    source: SourceMap | None = None  # positions of keys and of characters inside scalars


def _locator(values: Mapping[Path, Pos]) -> Callable[[Path], tuple[int, int]]:
    return SourceMap(types.MappingProxyType(dict(values)), {}, {})


def _source_map(b: Builder) -> SourceMap:
    proxy = types.MappingProxyType
    return SourceMap(proxy(dict(b.values)), proxy(dict(b.keys)), proxy(dict(b.spans)))


def _rule_issues(data: Mapping[str, Any], b: Builder) -> list[ConfigIssue]:
    """Match, variable and dedupe-key problems, located at the exact key or character."""
    routes, where, issues = data.get("routes"), _source_map(b), []
    for i, route in enumerate(routes if isinstance(routes, list) else []):
        if isinstance(route, dict):
            name = route.get("name")
            prefix = f"route {name!r}: " if isinstance(name, str) else ""
            for problem in route_problems(route):
                issue = where.problem(("routes", i), problem)
                issues.append(dataclasses.replace(issue, message=prefix + issue.message))
    return issues


def _names(section: Any) -> list[str] | None:
    return [str(key) for key in section] if isinstance(section, dict) else None


def _reference_issues(data: Mapping[str, Any], b: Builder) -> list[ConfigIssue]:
    """Route -> source/target references, on the raw document (reported with other errors)."""
    locate, issues = _locator(b.values), []
    targets, sources = _names(data.get("targets")), _names(data.get("sources"))

    def add(path: Path, message: str, severity: Literal["error", "warning"] = "error") -> None:
        issues.append(ConfigIssue(path, *locate(path), message, severity))

    routes, seen = data.get("routes"), dict[str, int]()
    for i, route in enumerate(routes if isinstance(routes, list) else []):
        if not isinstance(route, dict):
            continue
        here, name = ("routes", i), repr(route.get("name"))
        if isinstance(route.get("name"), str):
            first = seen.setdefault(route["name"], i)
            if first != i:
                add((*here, "name"), f"duplicate route name {name} (first: routes[{first}])")
        source, target = route.get("source"), route.get("target")
        if isinstance(source, str) and sources is not None and source not in sources:
            hint = did_you_mean(source, sources)
            add((*here, "source"), f"route {name}: unknown source {source!r}{hint}")
        if targets is not None and target is None and len(targets) > 1:
            several = ", ".join(targets)
            add(here, f"route {name} must name its target: there are several ({several})")
        elif isinstance(target, str) and targets is not None and target not in targets:
            hint = did_you_mean(target, targets)
            add((*here, "target"), f"route {name}: unknown target {target!r}{hint}")
        if route.get("match", {}) == {} and isinstance(source, str):
            message = f"route {name} matches every event of source {source!r}"
            add((*here, "match"), message, "warning")
    return issues


def _source_issues(data: Mapping[str, Any], b: Builder) -> list[ConfigIssue]:
    """Each source's provider and options, checked on the raw document (so that they are
    reported with every other error, not only once the rest of the file is right)."""
    locate, issues = _locator(b.values), []
    sources = data.get("sources")
    for name, raw in sources.items() if isinstance(sources, dict) else ():
        if not isinstance(raw, dict):
            continue
        for key, message in source_problems(str(name), raw):
            path: Path = ("sources", name) if key is None else ("sources", name, key)
            at_key = b.keys.get(path) if "unknown option" in message else None
            line, col = at_key or locate(path)
            issues.append(ConfigIssue(path, line, col, message))
    return issues


def _version_issue(data: Mapping[str, Any], b: Builder) -> None:
    """``version`` must be the integer 1 (the schema's ``Literal[1]`` also accepts 1.0, true)."""
    if "version" not in data:
        return  # the schema reports "version: Field required"
    version = data["version"]
    if ("version",) not in b.broken and (type(version) is not int or version != 1):
        shown = repr(version) if isinstance(version, str | int | float) else type(version).__name__
        path: Path = ("version",)
        b.error(path, _locator(b.values)(path), f"version: unsupported value {shown}: expected 1")
        b.broken.append(path)


def _parse(text: str, file: str, env: Mapping[str, str], sha256: str) -> LoadedDocument:
    data, b = compose(text, file, env)
    _version_issue(data, b)
    checks: list[ConfigIssue] = []
    config: RelayConfig | None = None
    try:
        config = validate(RelayConfig, data)
    except SchemaErrors as exc:
        checks = schema_issues(exc.errors, b.values, b.keys, data)
    checks += _reference_issues(data, b)
    checks += _rule_issues(data, b)
    checks += _source_issues(data, b)
    checks = [i for i in checks if not any(i.path[: len(p)] == p for p in b.broken)]
    issues = [*b.issues, *checks]  # checks below a reported problem would only repeat it
    issues = [dataclasses.replace(i, message=redact(i.message, b.secrets)) for i in issues]
    issues.sort(key=lambda i: (i.line, i.col))
    if config is None or any(issue.severity == "error" for issue in issues):
        raise ConfigErrors(file, issues, text)
    defaulted, source = tuple(b.defaulted), _source_map(b)
    return LoadedDocument(
        config, file, sha256, defaulted, source, warnings=tuple(issues), text=text, source=source
    )


def parse_document(text: str, file: str, env: Mapping[str, str]) -> LoadedDocument:
    """Parse, interpolate and validate ``text``; raises ``ConfigErrors`` with all errors found.

    ``sha256`` is computed over the UTF-8 encoding of ``text``.
    """
    return _parse(text, file, env, hashlib.sha256(text.encode("utf-8")).hexdigest())


def load_file(path: str | os.PathLike[str], env: Mapping[str, str]) -> LoadedDocument:
    """Read and load a configuration file; unreadable files are reported at line 1, col 1."""
    text, sha256 = read_file(path)
    return _parse(text, os.fspath(path), env, sha256)
