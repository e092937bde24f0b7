"""Local function files: ``DIR/<function_id>.py`` defining ``run(**variables)``.

A function id must match ``FUNCTION_ID_PATTERN`` and its file must stay inside the
functions directory. Modules are loaded from their file path (never from ``sys.path`` and
never registered in ``sys.modules``) and cached per path and modification time, so editing a
file takes effect on the next run. Without a file, a run echoes its variables back (the app
only lets such a run start when echoing unknown functions is on).
"""

from __future__ import annotations

import asyncio
import importlib.util
import inspect
import json
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "FUNCTION_ID_PATTERN",
    "FunctionLoader",
    "InvalidFunctionIdError",
    "RunOutcome",
    "RunStatus",
]

FUNCTION_ID_PATTERN = re.compile(r"[A-Za-z0-9_.-]{1,128}")

RunStatus = Literal["closed", "failed"]
RunCallable = Callable[..., Any]


class InvalidFunctionIdError(ValueError):
    """The id does not match ``FUNCTION_ID_PATTERN`` or would leave the functions directory."""


@dataclass(frozen=True, slots=True)
class RunOutcome:
    """What a run ended with: ``result`` is JSON-serialisable; for a failure, the error text."""

    status: RunStatus
    result: Any


def _error_text(exc: BaseException) -> str:
    message = str(exc)
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def _annotation(annotation: Any) -> str:
    if isinstance(annotation, str):
        return annotation
    return getattr(annotation, "__name__", str(annotation))


class FunctionLoader:
    """Finds, loads and runs function files from one directory (or none: echo only)."""

    def __init__(self, directory: Path | None) -> None:
        self._directory = directory.resolve() if directory is not None else None
        self._cache: dict[Path, tuple[int, RunCallable]] = {}
        self._lock = threading.Lock()

    @property
    def directory(self) -> Path | None:
        return self._directory

    def path_for(self, function_id: str) -> Path | None:
        """The file that would define ``function_id`` (``None`` without a directory).

        Raises ``InvalidFunctionIdError`` for an id that is malformed or escapes the directory
        (a symbolic link pointing outside counts as escaping).
        """
        if FUNCTION_ID_PATTERN.fullmatch(function_id) is None:
            raise InvalidFunctionIdError(function_id)
        if self._directory is None:
            return None
        candidate = self._directory / f"{function_id}.py"
        if not candidate.resolve().is_relative_to(self._directory):
            raise InvalidFunctionIdError(function_id)
        return candidate

    def has_file(self, function_id: str) -> bool:
        """Whether ``function_id`` has a file (``path_for`` rules apply, and may raise)."""
        path = self.path_for(function_id)
        return path is not None and path.is_file()

    def parameters(self, function_id: str) -> list[dict[str, str | None]] | None:
        """``run``'s parameters as ``ParameterInfo`` (name, type, default); ``None`` when the
        function has no file or cannot be loaded. Blocking: call it from a worker thread."""
        path = self.path_for(function_id)
        try:
            run = None if path is None else self.load(path)
            signature = None if run is None else inspect.signature(run)
        except Exception:
            return None
        if signature is None:
            return None
        return [
            {
                "name": name,
                "type": None if p.annotation is p.empty else _annotation(p.annotation),
                "default": None if p.default is p.empty else repr(p.default),
            }
            for name, p in signature.parameters.items()
            if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]

    def load(self, path: Path) -> RunCallable | None:
        """``run`` from the file at ``path``; ``None`` when there is no such file.

        Errors while importing the module, or a module without a callable ``run``, raise.
        Blocking (file I/O and module code): call it from a worker thread.
        """
        try:
            mtime_ns = path.stat().st_mtime_ns
        except FileNotFoundError:
            return None
        with self._lock:
            cached = self._cache.get(path)
            if cached is not None and cached[0] == mtime_ns:
                return cached[1]
            run = self._import_run(path)
            self._cache[path] = (mtime_ns, run)
            return run

    @staticmethod
    def _import_run(path: Path) -> RunCallable:
        module_name = "relay_local_function_" + re.sub(r"\W", "_", path.stem)
        spec = importlib.util.spec_from_file_location(module_name, path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load a module from {path.name}")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        run = getattr(module, "run", None)
        if not callable(run):
            raise AttributeError(f"{path.name} does not define a callable run()")
        return run  # type: ignore[no-any-return]

    async def run(self, function_id: str, variables: Mapping[str, Any]) -> RunOutcome:
        """Run ``function_id`` with ``variables`` as keyword arguments.

        Any exception (while loading or running, or a result that is not JSON) gives a
        ``failed`` outcome whose result is the error text, e.g. ``"ValueError: boom"``.
        ``function_id`` must have passed ``path_for`` already.
        """
        path = self.path_for(function_id)
        try:
            run = None if path is None else await asyncio.to_thread(self.load, path)
            if run is None:
                return RunOutcome("closed", {"echo": dict(variables)})
            if inspect.iscoroutinefunction(run):
                result = await run(**variables)
            else:
                result = await asyncio.to_thread(run, **variables)
                if inspect.isawaitable(result):
                    result = await result
            json.dumps(result, allow_nan=False)
        except Exception as exc:
            return RunOutcome("failed", _error_text(exc))
        return RunOutcome("closed", result)
