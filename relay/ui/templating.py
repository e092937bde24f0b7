"""Jinja2 with autoescaping for every template, and the filters the pages use."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from starlette.responses import HTMLResponse

from relay._text import TIME_FORMAT, milliseconds, when
from relay._utf8 import utf8_text

__all__ = ["STATIC_DIR", "Templates"]

_HERE = Path(__file__).parent
STATIC_DIR = _HERE / "static"

# Pages may not be framed (clickjacking), load scripts and styles only from relay itself.
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; "
        "form-action 'self'"
    ),
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
}


def _stamp(ts: float | None) -> Markup | str:
    """UTC as text in a ``<time>`` the page's script adds the browser's local time to."""
    if ts is None:
        return "-"
    moment = datetime.fromtimestamp(ts, UTC)
    iso = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    text = moment.strftime(TIME_FORMAT)
    return Markup('<time class="ts" datetime="{}">{}</time>').format(iso, text)


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


class Templates:
    def __init__(self) -> None:
        self._env = Environment(
            loader=FileSystemLoader(_HERE / "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._env.filters.update(when=when, stamp=_stamp, ms=milliseconds, pretty=_pretty)

    def render(self, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        # utf8_text: text from a body may hold a lone surrogate, shown as its escape
        html = utf8_text(self._env.get_template(name).render(**context))
        return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)
