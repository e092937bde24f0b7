"""Schema errors (``relay.config_schema``'s) as located issues, one per mistake, with "did
you mean".

A required key written misspelt (``functon_id``) is one issue, "unknown key 'functon_id' (did
you mean 'function_id'?)", not also "function_id: Field required".
"""

from __future__ import annotations

import difflib
import re
import typing
from collections.abc import Mapping, Sequence
from typing import Any

from relay.config_schema import SchemaError
from relay.routing.issues import ConfigIssue, SourceMap

__all__ = ["did_you_mean", "schema_issues"]

Path = tuple[str | int, ...]
_Pos = tuple[int, int]
_SIMPLE_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


def _dotted(path: Path) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _SIMPLE_KEY.fullmatch(part):
            out += f".{part}" if out else part
        else:
            out += f"[{part!r}]"
    return out


def did_you_mean(word: str, candidates: typing.Iterable[str], listing: str = "known") -> str:
    """`` (did you mean 'x'?)`` for a close candidate, else `` (known: a, b)``."""
    names = list(candidates)
    close = difflib.get_close_matches(word, names, n=1)
    if close:
        return f" (did you mean {close[0]!r}?)"
    return f" ({listing}: {', '.join(names)})" if names else ""


def _raw_at(data: Any, loc: Path) -> Any:
    for part in loc:
        found = isinstance(data, dict) and part in data
        found = found or (isinstance(data, list) and isinstance(part, int) and part < len(data))
        if not found:
            return None
        data = data[part]
    return data


def _misspelt(data: Mapping[str, Any], error: SchemaError) -> str | None:
    """For a required field missing: the unknown key written beside it that is its
    misspelling (``functon_id`` for ``function_id``), if any."""
    parent, name = error.loc[:-1], str(error.loc[-1])
    raw = _raw_at(data, parent)
    if not isinstance(raw, dict):
        return None
    known = set(error.fields)
    unknown = [str(key) for key in raw if key not in known]
    close = difflib.get_close_matches(name, unknown, n=1, cutoff=0.6)
    return close[0] if close else None


def schema_issues(
    errors: Sequence[SchemaError],
    values: Mapping[Path, _Pos],
    keys: Mapping[Path, _Pos],
    data: Mapping[str, Any],
) -> list[ConfigIssue]:
    """One issue per mistake: a misspelt required key is "unknown key 'x' (did you mean
    'y'?)" alone, not also "y: Field required"."""
    locate, issues = SourceMap(values, {}, {}), []
    misspelt: dict[Path, str] = {}  # the misspelt key's path -> the field it stands for
    folded: set[Path] = set()  # missing fields told by their misspelling instead
    for error in errors:
        if error.type == "missing" and error.loc:
            wrong = _misspelt(data, error)
            if wrong is not None:
                misspelt[(*error.loc[:-1], wrong)] = str(error.loc[-1])
                folded.add(error.loc)
    for path, field in misspelt.items():
        line, col = keys.get(path) or locate(path)
        message = f"unknown key {str(path[-1])!r} (did you mean {field!r}?)"
        issues.append(ConfigIssue(path, line, col, message))
    for error in errors:
        loc = error.loc
        if loc in misspelt or loc in folded:
            continue
        if error.type == "extra_forbidden" and loc:
            key = str(loc[-1])
            line, col = keys.get(loc) or locate(loc)
            hint = did_you_mean(key, error.fields, "accepted")
            message = f"unknown key {key!r}{hint}"
            issues.append(ConfigIssue(loc, line, col, message))
            continue
        message = error.msg
        if loc:
            message = f"{_dotted(loc)}: {message}"
        issues.append(ConfigIssue(loc, *locate(loc), message))
    return issues
