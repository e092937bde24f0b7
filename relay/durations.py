"""Durations in the config (routes, targets, alerts) and in log filters: seconds as a
number, or text like ``90s``, ``10m``, ``1h30m`` (a config field reads one with
``rule(duration=True)``, ``relay.config_schema``)."""

from __future__ import annotations

import math
import re
from typing import Any

__all__ = ["parse_duration"]

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)")  # ASCII digits only
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:37]}..."


def _finite(seconds: float, value: Any) -> float:
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"invalid duration {_shown(value)}: must be a finite non-negative number")
    return seconds


def parse_duration(value: Any) -> float:
    """Seconds; raises ``ValueError`` with the accepted forms."""
    if isinstance(value, bool):
        raise ValueError(f"invalid duration {value!r}: use seconds or e.g. 30s, 10m, 1h30m")
    if isinstance(value, int | float):
        try:
            return _finite(float(value), value)
        except OverflowError:  # an int beyond any float
            return _finite(math.inf, value)
    text = value.strip() if isinstance(value, str) else ""
    if _NUMBER.fullmatch(text):
        return _finite(float(text), value)
    if text and _PART.sub("", text) == "":
        return _finite(sum(float(n) * _UNITS[unit] for n, unit in _PART.findall(text)), value)
    raise ValueError(f"invalid duration {_shown(value)}: use seconds or e.g. 30s, 10m, 1h30m")
