"""A config file read as plain values, without validating them: safe YAML compose (no
anchors, aliases or python tags) -> plain values with recorded positions -> ``${VAR}``
interpolation of string values. ``relay.routing.loader`` validates what this reads; the CLI
reads only this to learn the config's secret values (``relay.config_secrets``), so
printing the delivery log loads no validation library.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path as FilePath
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from relay.routing.interpolate import interpolate
from relay.routing.issues import ConfigErrors, ConfigIssue, ScalarSpan

__all__ = [
    "Builder",
    "Path",
    "Pos",
    "compose",
    "pos",
    "read_file",
]

_TAG = "tag:yaml.org,2002:"
_PLAIN_SCALARS = frozenset(_TAG + kind for kind in ("null", "bool", "int", "float", "str"))

Path = tuple[str | int, ...]
Pos = tuple[int, int]

_TAG = "tag:yaml.org,2002:"
_PLAIN_SCALARS = frozenset(_TAG + kind for kind in ("null", "bool", "int", "float", "str"))


class NoAnchorLoader(yaml.SafeLoader):
    """``SafeLoader`` refusing anchors and aliases: no alias expansion, no billion laughs."""

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        if self.check_event(yaml.NodeEvent):  # scalars, collection starts and aliases
            event: yaml.NodeEvent = self.current_event
            if event.anchor is not None:
                message = "YAML anchors and aliases are not allowed"
                mark = typing.cast(yaml.Mark, event.start_mark)
                raise yaml.composer.ComposerError(None, None, message, mark)
        return super().compose_node(parent, index)


def pos(mark: yaml.Mark) -> Pos:
    return mark.line + 1, mark.column + 1


def yaml_issue(exc: yaml.MarkedYAMLError, fallback: Pos = (1, 1)) -> ConfigIssue:
    problem, context, mark = exc.problem or "invalid YAML", exc.context, exc.context_mark
    if context and problem.startswith("but "):  # "expected a single document, but found ..."
        problem = f"{context}, {problem}"
    elif context:
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = f"{problem} ({context}{where})"
    mark = exc.problem_mark or mark
    line, col = pos(mark) if mark is not None else fallback
    return ConfigIssue((), line, col, problem)


@dataclass
class Builder:
    """Builds plain values from the node tree, recording positions; one per document."""

    env: Mapping[str, str]
    text: str = ""
    constructor: yaml.SafeLoader = dataclasses.field(default_factory=lambda: yaml.SafeLoader(""))
    issues: list[ConfigIssue] = dataclasses.field(default_factory=list)
    values: dict[Path, Pos] = dataclasses.field(default_factory=dict)  # where each value starts
    keys: dict[Path, Pos] = dataclasses.field(default_factory=dict)  # where each entry's key is
    spans: dict[Path, ScalarSpan] = dataclasses.field(default_factory=dict)  # string scalars
    broken: list[Path] = dataclasses.field(default_factory=list)  # already reported, unusable
    secrets: set[str] = dataclasses.field(default_factory=set)  # values from the environment
    defaulted: dict[str, None] = dataclasses.field(default_factory=dict)

    def error(self, path: Path, pos: Pos, message: str) -> None:
        self.issues.append(ConfigIssue(path, pos[0], pos[1], message))

    def build(self, node: Node, path: Path) -> Any:
        self.values[path] = pos(node.start_mark)
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
            self.issues.append(dataclasses.replace(yaml_issue(exc, self.values[path]), path=path))
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
                self.error(entry, pos(key_node.start_mark), message)
                continue
            self.keys[entry] = pos(key_node.start_mark)
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
        self.error(path, pos(node.start_mark), message)
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
            line, col = pos(start)
            self.spans[path] = ScalarSpan(line, col, node.style, raw, value)
        for message in result.errors:
            self.error(path, self.values[path], message)
        if result.errors:
            self.broken.append(path)
        self.defaulted.update(dict.fromkeys(result.defaulted))
        if result.from_environment:
            self.secrets.update((result.value, *result.inserted))
        return result.value


def compose(text: str, file: str, env: Mapping[str, str]) -> tuple[dict[str, Any], Builder]:
    """The document's plain values and what was recorded reading them (positions, problems
    found so far in ``Builder.issues``); raises ``ConfigErrors`` when there is no mapping to
    read: bad YAML, an empty file, a document that is not a mapping."""

    def fail(line: int, col: int, message: str) -> ConfigErrors:
        return ConfigErrors(file, [ConfigIssue((), line, col, message)], text)

    b = Builder(env, text)
    try:
        root = yaml.compose(text, Loader=NoAnchorLoader)
        data = b.build(root, ()) if root is not None else None
    except yaml.MarkedYAMLError as exc:
        raise ConfigErrors(file, [yaml_issue(exc)], text) from None
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
    return data, b


def read_file(path: str | os.PathLike[str]) -> tuple[str, str]:
    """A config file's text (UTF-8, without a byte-order mark) and the SHA-256 of its bytes;
    unreadable files are reported at line 1, col 1."""
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
    return text.removeprefix("\ufeff"), hashlib.sha256(raw).hexdigest()
