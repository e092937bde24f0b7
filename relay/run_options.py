"""How a delivery's Notte run is started and followed: the route's run options, as stored on
each delivery (a JSON object) when its event is received.

Neither routing (which makes them) nor delivery (which reads them) owns them, so they live
here, like relay/ratelimit.py.

``start``:
  * ``two_step`` (the default): ``POST runs/create`` gives the run id, which is stored before
    ``POST runs/{run_id}`` starts the run. Whatever happens next (a crash, a lost answer), the
    API can say whether that run started and how it ended, and a second start of the same
    run id is refused by the API: no run is started twice and none is left to a person.
  * ``one_step``: ``POST runs/start``. One request fewer, but the run id is known only from
    the answer: a start whose answer is lost is ``needs_review``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["DEFAULT_START", "START_MODES", "RunOptions", "StartMode"]

StartMode = Literal["one_step", "two_step"]
START_MODES: tuple[StartMode, ...] = ("two_step", "one_step")
DEFAULT_START: StartMode = "two_step"


@dataclass(frozen=True, slots=True)
class RunOptions:
    start: StartMode = DEFAULT_START
    run_timeout: float | None = None  # seconds; None: the target's run_timeout
    runtime: str | None = None  # "standard" | "extended"; None: the function's default
    callback_url: str | None = None  # sent as the run's callback_url

    @property
    def two_step(self) -> bool:
        return self.start == "two_step"

    def to_mapping(self) -> dict[str, Any]:
        """The stored form: ``start`` always (a later default never changes a stored
        delivery), the rest when set."""
        data: dict[str, Any] = {"start": self.start}
        if self.run_timeout is not None:
            data["run_timeout"] = self.run_timeout
        if self.runtime is not None:
            data["runtime"] = self.runtime
        if self.callback_url is not None:
            data["callback_url"] = self.callback_url
        return data

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> RunOptions:
        """The options of a stored delivery. A delivery stored before run options existed
        (no ``start``) was started in one step, and keeps that."""
        start = data.get("start")
        timeout = data.get("run_timeout")
        runtime = data.get("runtime")
        callback = data.get("callback_url")
        return cls(
            start=start if start in START_MODES else "one_step",
            run_timeout=float(timeout) if isinstance(timeout, int | float) else None,
            runtime=runtime if isinstance(runtime, str) else None,
            callback_url=callback if isinstance(callback, str) else None,
        )
