"""structlog setup: JSON lines by default, a console renderer when stderr is a TTY;
``RELAY_LOG_FORMAT=json`` or ``console`` chooses either way.

structlog is imported when logging is configured or a logger is asked for, not with this
module: a CLI command that imports a module with a logger but never logs does not pay for it."""

from __future__ import annotations

import logging
import os
import sys
from typing import TYPE_CHECKING, Any, TypeAlias

from relay._json import dumps

if TYPE_CHECKING:
    import structlog

    #: What ``get_logger`` returns: for annotations (import it under ``TYPE_CHECKING``).
    Logger: TypeAlias = structlog.typing.FilteringBoundLogger

__all__ = ["LOG_FORMAT_ENV", "configure_logging", "get_logger", "json_lines_wanted"]

LOG_FORMAT_ENV = "RELAY_LOG_FORMAT"


def json_lines_wanted() -> bool:
    """JSON lines unless ``$RELAY_LOG_FORMAT`` says ``console`` or, when it says neither,
    stderr is a terminal."""
    chosen = os.environ.get(LOG_FORMAT_ENV, "").strip().lower()
    if chosen in ("json", "console"):
        return chosen == "json"
    return not sys.stderr.isatty()


def configure_logging(
    *, json_lines: bool | None = None, level: str = "info", cache: bool = False
) -> bool:
    """Whether log lines are JSON (``json_lines``, else ``json_lines_wanted()``): the
    servers then say what they print at start as log events too, for one format.

    ``cache``: each logger binds its processors once, at its first line (``relay serve``
    configures logging once; tests that capture logs reconfigure it, so they leave it off)."""
    import structlog

    if json_lines is None:
        json_lines = json_lines_wanted()
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer(serializer=_render)
        if json_lines
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
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
    return json_lines


def _render(event: Any, **kw: Any) -> str:
    """A log line's JSON (structlog's ``JSONRenderer`` passes its ``default``)."""
    return dumps(event, default=kw.get("default", str))


def get_logger() -> Logger:
    import structlog

    logger: Logger = structlog.get_logger("relay")
    return logger
