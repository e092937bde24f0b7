"""``relay local-runner``: a Notte-compatible Functions API on localhost."""

from __future__ import annotations

from relay.runner.app import RunnerOptions, RunnerState, create_runner_app

__all__ = ["RunnerOptions", "RunnerState", "create_runner_app"]
