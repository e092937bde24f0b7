"""Reading a Notte run's server-sent events: ``data: {"type": ..., "message": ...}``."""

from __future__ import annotations

import codecs
import json
import re
from collections import deque
from dataclasses import dataclass, field
from typing import Any

__all__ = ["RunStream"]

MAX_LOG_LINES = 200
MAX_LOG_BYTES = 64 * 1024
# ANSI escape sequences (colours, cursor moves): Notte's log lines carry colour codes
_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|[@-Z\\-_])")


@dataclass(slots=True)
class RunStream:
    """Accumulates the events of one streamed run: ``feed`` takes decoded text lines,
    ``feed_bytes`` the body as it arrives (UTF-8, lines ended by CRLF, LF or CR)."""

    session_id: str | None = None
    result: dict[str, Any] | None = None
    result_error: str | None = None
    error: str | None = None  # an ``error`` event's message: the run failed
    logs: deque[str] = field(default_factory=lambda: deque(maxlen=MAX_LOG_LINES))
    log_bytes: int = 0
    dropped_logs: int = 0
    _data: list[str] = field(default_factory=list)
    _partial: str = ""  # the start of a line whose end has not arrived
    _decoder: codecs.IncrementalDecoder = field(
        default_factory=lambda: codecs.getincrementaldecoder("utf-8")("replace")
    )

    def feed_bytes(self, chunk: bytes) -> None:
        self._feed_text(self._decoder.decode(chunk))

    def _feed_text(self, text: str) -> None:
        if not text:
            return
        text = self._partial + text
        # A CR at the end may be the first half of a CRLF: wait for what follows.
        held = text.endswith("\r")
        if held:
            text = text[:-1]
        lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        self._partial = lines.pop() + ("\r" if held else "")
        for line in lines:
            self.feed(line)

    def feed(self, line: str) -> None:
        line = line.rstrip("\r\n")
        if line == "":
            self._dispatch()
        elif line.startswith("data:"):
            value = line[5:]
            self._data.append(value[1:] if value.startswith(" ") else value)
        # comments (":"), "event:", "id:" and "retry:" fields carry nothing we use

    def close(self) -> None:
        """The stream ended: what was received is dispatched (a last line without its end
        included)."""
        self._feed_text(self._decoder.decode(b"", final=True))
        if self._partial:
            self.feed(self._partial)
            self._partial = ""
        self._dispatch()

    def _dispatch(self) -> None:
        if not self._data:
            return
        text = "\n".join(self._data)
        self._data.clear()
        try:
            event = json.loads(text)
        except ValueError:
            self._log(text)
            return
        if not isinstance(event, dict):
            self._log(text)
            return
        kind = event.get("type")
        message = event.get("message")
        if kind == "session_start":
            self.session_id = message if isinstance(message, str) else json.dumps(message)
        elif kind == "result":
            self._result(message)
        elif kind == "error":
            self.error = _error_text(event)
        elif message is not None:
            self._log(_ANSI.sub("", message) if isinstance(message, str) else json.dumps(message))

    def _result(self, message: Any) -> None:
        if isinstance(message, dict):
            self.result = message
            return
        if isinstance(message, str):
            try:
                parsed = json.loads(message)
            except ValueError:
                self.result_error = "the result event is not JSON"
                return
            if isinstance(parsed, dict):
                self.result = parsed
                return
        self.result_error = "the result event is not a JSON object"

    def _log(self, text: str) -> None:
        size = len(text.encode("utf-8", "replace"))
        if len(self.logs) == self.logs.maxlen:
            self.log_bytes -= len(self.logs[0].encode("utf-8", "replace"))
            self.dropped_logs += 1
        self.logs.append(text)
        self.log_bytes += size
        while self.log_bytes > MAX_LOG_BYTES and self.logs:
            self.log_bytes -= len(self.logs.popleft().encode("utf-8", "replace"))
            self.dropped_logs += 1


def _error_text(event: dict[str, Any]) -> str:
    """An ``error`` event's text: its ``message`` (Functions), or ``error`` and ``detail``
    (the Anything API's shape)."""
    parts = [event.get(k) for k in ("message", "error", "detail")]
    text = " - ".join(p if isinstance(p, str) else json.dumps(p) for p in parts if p is not None)
    return _ANSI.sub("", text) or "an error event without a message"
