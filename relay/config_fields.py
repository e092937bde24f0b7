"""Field types the config sections share (``relay.routing.config``, ``relay.alerts.config``),
for pydantic."""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator

from relay.durations import parse_duration

__all__ = ["Duration"]

#: seconds, as a number or text like ``90s``, ``10m``, ``1h30m`` (``relay.durations``)
Duration = Annotated[float, BeforeValidator(parse_duration)]
