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
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path as FilePath
from typing import Any, Literal

import yaml
from pydantic import ValidationError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from relay.routing.config import RelayConfig
from relay.routing.interpolate import interpolate, redact
from relay.routing.issues import ConfigErrors, ConfigIssue, ScalarSpan, SourceMap
from relay.routing.rules import route_problems
from relay.routing.schema_issues import did_you_mean, pydantic_issues
from relay.routing.sources import source_problems

__all__ = [
    "ConfigErrors",
    "ConfigIssue",
    "LoadedDocument",
    "SourceMap",
    "load_file",
    "parse_document",
]

Path = tuple[str | int, ...]
_Pos = tuple[int, int]

_TAG = "tag:yaml.org,2002:"
_PLAIN_SCALARS = frozenset(_TAG + kind for kind in ("null", "bool", "int", "float", "str"))


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


class _NoAnchorLoader(yaml.SafeLoader):
    """``SafeLoader`` refusing anchors and aliases: no alias expansion, no billion laughs."""

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        if self.check_event(yaml.NodeEvent):  # scalars, collection starts and aliases
            event: yaml.NodeEvent = self.current_event
            if event.anchor is not None:
                message = "YAML anchors and aliases are not allowed"
                mark = typing.cast(yaml.Mark, event.start_mark)
                raise yaml.composer.ComposerError(None, None, message, mark)
        return super().compose_node(parent, index)


def _pos(mark: yaml.Mark) -> _Pos:
    return mark.line + 1, mark.column + 1


def _yaml_issue(exc: yaml.MarkedYAMLError, fallback: _Pos = (1, 1)) -> ConfigIssue:
    problem, context, mark = exc.problem or "invalid YAML", exc.context, exc.context_mark
    if context and problem.startswith("but "):  # "expected a single document, but found ..."
        problem = f"{context}, {problem}"
    elif context:
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = f"{problem} ({context}{where})"
    mark = exc.problem_mark or mark
    line, col = _pos(mark) if mark is not None else fallback
    return ConfigIssue((), line, col, problem)


@dataclass
class _Builder:
    """Builds plain values from the node tree, recording positions; one per document."""

    env: Mapping[str, str]
    text: str = ""
    constructor: yaml.SafeLoader = dataclasses.field(default_factory=lambda: yaml.SafeLoader(""))
    issues: list[ConfigIssue] = dataclasses.field(default_factory=list)
    values: dict[Path, _Pos] = dataclasses.field(default_factory=dict)  # where each value starts
    keys: dict[Path, _Pos] = dataclasses.field(default_factory=dict)  # where each entry's key is
    spans: dict[Path, ScalarSpan] = dataclasses.field(default_factory=dict)  # string scalars
    broken: list[Path] = dataclasses.field(default_factory=list)  # already reported, unusable
    secrets: set[str] = dataclasses.field(default_factory=set)  # values from the environment
    defaulted: dict[str, None] = dataclasses.field(default_factory=dict)

    def error(self, path: Path, pos: _Pos, message: str) -> None:
        self.issues.append(ConfigIssue(path, pos[0], pos[1], message))

    def build(self, node: Node, path: Path) -> Any:
        self.values[path] = _pos(node.start_mark)
        if isinstance(node, MappingNode) and node.tag == _TAG + "map":
            return self._mapping(node, path)
        if isinstance(node, SequenceNode) and node.tag == _TAG + "seq":
            return [self.build(child, (*path, i)) for i, child in enumerate(node.value)]
        if isinstance(node, ScalarNode) and node.tag == _TAG + "timestamp":
            return node.value  # dates stay as written
        if isinstance(node, ScalarNode) and node.tag in _PLAIN_SCALARS:
            return self._scalar(node, path)
        try:  # the safe constructor refuses python/* and unknown tags with a located error
            self.constructor.construct_object(node, deep=True)
        except yaml.MarkedYAMLError as exc:
            self.issues.append(dataclasses.replace(_yaml_issue(exc, self.values[path]), path=path))
        else:
            self.error(path, self.values[path], f"unsupported YAML tag {node.tag!r}")
        self.broken.append(path)
        return None

    def _mapping(self, node: MappingNode, path: Path) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = self._key(key_node, path)
            if key is None:
                continue
            entry = (*path, key)
            first = self.keys.get(entry)
            if first is not None:
                message = f"duplicate key {key!r} (first at line {first[0]})"
                self.error(entry, _pos(key_node.start_mark), message)
                continue
            self.keys[entry] = _pos(key_node.start_mark)
            result[key] = self.build(value_node, entry)
        return result

    def _key(self, node: Node, path: Path) -> str | None:
        if isinstance(node, ScalarNode) and node.tag == _TAG + "str":
            return str(node.value)
        if isinstance(node, ScalarNode) and node.tag == _TAG + "merge":
            message = "merge keys ('<<') are not supported"
        elif isinstance(node, ScalarNode):
            kind = node.tag.removeprefix(_TAG)
            message = f"mapping keys must be strings: {node.value!r} is read as {kind}; quote it"
        else:
            message = "mapping keys must be strings"
        self.error(path, _pos(node.start_mark), message)
        return None

    def _scalar(self, node: ScalarNode, path: Path) -> Any:
        try:
            value = self.constructor.construct_object(node)
        except (yaml.YAMLError, ValueError, KeyError, TypeError):
            kind = node.tag.removeprefix(_TAG)
            self.error(path, self.values[path], f"cannot read {node.value!r} as {kind}")
            self.broken.append(path)
            return None
        if not isinstance(value, str):
            return value
        result = interpolate(value, self.env)
        if result.value == value:
            start, end = node.start_mark, node.end_mark
            raw = self.text[start.index : end.index]
            line, col = _pos(start)
            self.spans[path] = ScalarSpan(line, col, node.style, raw, value)
        for message in result.errors:
            self.error(path, self.values[path], message)
        if result.errors:
            self.broken.append(path)
        self.defaulted.update(dict.fromkeys(result.defaulted))
        if result.from_environment:
            self.secrets.update((result.value, *result.inserted))
        return result.value


def _locator(values: Mapping[Path, _Pos]) -> Callable[[Path], tuple[int, int]]:
    return SourceMap(types.MappingProxyType(dict(values)), {}, {})


def _source_map(b: _Builder) -> SourceMap:
    proxy = types.MappingProxyType
    return SourceMap(proxy(dict(b.values)), proxy(dict(b.keys)), proxy(dict(b.spans)))


def _rule_issues(data: Mapping[str, Any], b: _Builder) -> list[ConfigIssue]:
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


def _reference_issues(data: Mapping[str, Any], b: _Builder) -> list[ConfigIssue]:
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


def _source_issues(data: Mapping[str, Any], b: _Builder) -> list[ConfigIssue]:
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


def _version_issue(data: Mapping[str, Any], b: _Builder) -> None:
    """``version`` must be the integer 1 (pydantic's ``Literal[1]`` also accepts 1.0, true)."""
    if "version" not in data:
        return  # pydantic reports "version: Field required"
    version = data["version"]
    if ("version",) not in b.broken and (type(version) is not int or version != 1):
        shown = repr(version) if isinstance(version, str | int | float) else type(version).__name__
        path: Path = ("version",)
        b.error(path, _locator(b.values)(path), f"version: unsupported value {shown}: expected 1")
        b.broken.append(path)


def _parse(text: str, file: str, env: Mapping[str, str], sha256: str) -> LoadedDocument:
    def fail(line: int, col: int, message: str) -> ConfigErrors:
        return ConfigErrors(file, [ConfigIssue((), line, col, message)], text)

    b = _Builder(env, text)
    try:
        root = yaml.compose(text, Loader=_NoAnchorLoader)
        data = b.build(root, ()) if root is not None else None
    except yaml.MarkedYAMLError as exc:
        raise ConfigErrors(file, [_yaml_issue(exc)], text) from None
    except yaml.reader.ReaderError as exc:
        at = int(exc.position)
        message = f"unacceptable character #x{exc.character:04x}: {exc.reason}"
        raise fail(text.count("\n", 0, at) + 1, at - text.rfind("\n", 0, at), message) from None
    except RecursionError:
        raise fail(1, 1, "the document is nested too deeply") from None
    if root is None:
        raise fail(1, 1, "the file is empty")
    if not isinstance(data, dict):
        if () not in b.broken:
            found = "null" if data is None else type(data).__name__
            b.error((), b.values[()], f"the document must be a mapping, not {found}")
        raise ConfigErrors(file, sorted(b.issues, key=lambda i: (i.line, i.col)), text)
    _version_issue(data, b)
    checks: list[ConfigIssue] = []
    config: RelayConfig | None = None
    try:
        config = RelayConfig.model_validate(data)
    except ValidationError as exc:
        checks = pydantic_issues(exc, b.values, b.keys, data)
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
    file = os.fspath(path)
    try:
        raw = FilePath(file).read_bytes()
    except OSError as exc:
        message = f"cannot read the file: {exc.strerror or type(exc).__name__}"
        raise ConfigErrors(file, [ConfigIssue((), 1, 1, message)]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - raw.rfind(b"\n", 0, exc.start)
        issue = ConfigIssue((), line, col, "the file is not valid UTF-8")
        raise ConfigErrors(file, [issue]) from None
    return _parse(text.removeprefix("\ufeff"), file, env, hashlib.sha256(raw).hexdigest())
