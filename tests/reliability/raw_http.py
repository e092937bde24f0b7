"""Raw HTTP/1.1 over a socket, for what httpx will not send: lying lengths, stalls,
oversized or malformed heads, trickled bytes."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

__all__ = ["RawReply", "exchange", "head", "status_of"]


@dataclass(frozen=True, slots=True)
class RawReply:
    status: int | None  # None: closed without an answer
    data: bytes
    closed: bool  # the server closed the connection
    elapsed: float  # seconds from the last byte sent to the answer (or the close)


def status_of(data: bytes) -> int | None:
    line = data.split(b"\r\n", 1)[0]
    parts = line.split(b" ")
    if len(parts) >= 2 and parts[0].startswith(b"HTTP/") and parts[1].isdigit():
        return int(parts[1])
    return None


def head(method: str, path: str, headers: dict[str, str] | list[tuple[str, str]]) -> bytes:
    """A request head (``Host`` and ``Connection: close`` first), ending in a blank line."""
    items = headers.items() if isinstance(headers, dict) else headers
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in items]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def _read_all(reader: asyncio.StreamReader, chunks: list[bytes]) -> float:
    """Read until the server closes; the loop time it did."""
    loop = asyncio.get_running_loop()
    try:
        while chunk := await reader.read(65536):
            chunks.append(chunk)
    except (ConnectionError, OSError):
        pass
    return loop.time()


async def exchange(port: int, *parts: bytes, pause: float = 0.0, within: float = 15.0) -> RawReply:
    """Send ``parts`` (``pause`` seconds apart), then read until the server closes or
    ``within`` seconds pass. The answer is read while the parts are still being sent, so a
    server that answers and closes early (a deadline, a limit) is heard all the same: its
    answer is in hand before a later write makes the connection reset."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    loop = asyncio.get_running_loop()
    chunks: list[bytes] = []
    reading = asyncio.create_task(_read_all(reader, chunks))
    try:
        for i, part in enumerate(parts):
            if i and pause:
                await asyncio.sleep(pause)
            if reading.done():
                break  # closed by the server: nothing more can be sent
            try:
                writer.write(part)
                await writer.drain()
            except (ConnectionError, OSError):
                break
        sent = loop.time()
        closed = False
        closed_at = loop.time()
        try:
            closed_at = await asyncio.wait_for(asyncio.shield(reading), timeout=within)
            closed = True
        except TimeoutError:
            closed_at = loop.time()
        data = b"".join(chunks)
        return RawReply(status_of(data), data, closed, max(0.0, closed_at - sent))
    finally:
        reading.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reading
        writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await writer.wait_closed()
