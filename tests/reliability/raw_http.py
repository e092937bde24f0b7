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


async def exchange(port: int, *parts: bytes, pause: float = 0.0, within: float = 15.0) -> RawReply:
    """Send ``parts`` (``pause`` seconds apart), then read until the server closes or
    ``within`` seconds pass. A server that closes while the parts are still being sent is
    fine: what it answered is read all the same."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    loop = asyncio.get_running_loop()
    try:
        for i, part in enumerate(parts):
            if i and pause:
                await asyncio.sleep(pause)
            try:
                writer.write(part)
                await writer.drain()
            except (ConnectionError, OSError):
                break
        sent = loop.time()
        chunks: list[bytes] = []
        closed = False
        try:
            async with asyncio.timeout(within):
                while True:
                    chunk = await reader.read(65536)
                    if not chunk:
                        closed = True
                        break
                    chunks.append(chunk)
        except TimeoutError:
            pass
        except (ConnectionError, OSError):
            closed = True
        data = b"".join(chunks)
        return RawReply(status_of(data), data, closed, loop.time() - sent)
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await writer.wait_closed()
