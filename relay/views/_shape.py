"""What every views shape is: a frozen dataclass with keyword fields (``View``), a field's
description in its metadata (``doc``), and the one way to JSON (``plain``). pydantic reads the
classes for the OpenAPI schemas (``extra: forbid`` in ``__pydantic_config__``) and the tests
validate answers against them; printing them loads no validation library."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

__all__ = ["View", "doc", "fields_of", "plain"]


def doc(description: str) -> dict[str, str]:
    """A field's metadata: its description in the OpenAPI schema."""
    return {"description": description}


def plain(value: Any) -> Any:
    """A view (or a list or dict of them) as JSON-ready values: what the API answers and
    ``--json`` prints. Keys in field order."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    return value


def fields_of(view: Any) -> dict[str, Any]:
    """A view's fields by name, values as they are (nested views stay views): to build a
    wider view from a narrower one, e.g. ``EventDetail(**fields_of(summary), ...)``."""
    return {f.name: getattr(view, f.name) for f in dataclasses.fields(view)}


@dataclass(frozen=True, kw_only=True)
class View:
    #: read by pydantic (schemas, and the tests' validation): no keys beyond the fields
    __pydantic_config__: ClassVar[dict[str, Any]] = {"extra": "forbid"}
