"""structlog setup: JSON lines by default, a console renderer when stderr is a TTY."""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

from relay._json import dumps

__all__ = ["configure_logging", "get_logger"]


def configure_logging(
    *, json_lines: bool | None = None, level: str = "info", cache: bool = False
) -> None:
    """``cache``: each logger binds its processors once, at its first line (``relay serve``
    configures logging once; tests that capture logs reconfigure it, so they leave it off)."""
    if json_lines is None:
        json_lines = not sys.stderr.isatty()
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer(serializer=_render)
        if json_lines
        else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
        ),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=cache,
    )


def _render(event: Any, **kw: Any) -> str:
    """A log line's JSON (structlog's ``JSONRenderer`` passes its ``default``)."""
    return dumps(event, default=kw.get("default", str))


def get_logger() -> structlog.typing.FilteringBoundLogger:
    logger: structlog.typing.FilteringBoundLogger = structlog.get_logger("relay")
    return logger
