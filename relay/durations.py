"""Durations in the config (routes, targets, alerts) and in log filters: seconds as a
number, or text like ``90s``, ``10m``, ``1h30m`` (a config field reads one with
``rule(duration=True)``, ``relay.config_schema``)."""

from __future__ import annotations

import math
import re
from typing import Any

__all__ = ["parse_duration"]

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")


def parse_duration(value: Any) -> float:
    """Seconds; raises ``ValueError`` with the accepted forms."""
    if isinstance(value, bool):
        raise ValueError(f"invalid duration {value!r}: use seconds or e.g. 30s, 10m, 1h30m")
    if isinstance(value, int | float):
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"invalid duration {value!r}: must be a non-negative number")
        return float(value)
    text = value.strip() if isinstance(value, str) else ""
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return float(text)
    if text and _PART.sub("", text) == "":
        return sum(float(n) * _UNITS[unit] for n, unit in _PART.findall(text))
    raise ValueError(f"invalid duration {value!r}: use seconds or e.g. 30s, 10m, 1h30m")
