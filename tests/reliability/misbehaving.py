"""A Notte stand-in that misbehaves on purpose, on raw asyncio sockets in a thread of its own.

The function id in ``POST /functions/{mode}/runs/start`` picks the misbehaviour, after the
whole request has been read (so relay has sent it):

- ``ok``: a proper non-streamed answer;
- ``silent``: never answers (latency beyond relay's timeout);
- ``reset``: resets the connection (RST);
- ``half_sse``: starts a server-sent event stream (a session id), then drops the connection;
- ``endless``: an event stream of keep-alive comments that never ends;
- ``hangup``: closes the connection cleanly without a word;
- ``html``: 200 with an HTML page (a proxy's or a login page), not a run;
- ``empty``: 202 with no body;
- ``sse_failed``: an event stream whose result is a failed run, whatever was asked for.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import struct
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["MODES", "Misbehaving", "misbehaving"]

MODES = ("ok", "silent", "reset", "half_sse", "endless", "hangup", "html", "empty", "sse_failed")


class Misbehaving:
    def __init__(self) -> None:
        self.port = 0
        self.requests: Counter[str] = Counter()  # mode -> requests read whole
        self.open_connections = 0
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="misbehaving", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._thread.start()
        if not self._started.wait(timeout=30):
            raise RuntimeError("misbehaving server did not start")

    def stop(self) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=30)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._serve())
        pending = asyncio.all_tasks(self._loop)  # handlers still misbehaving (silent, endless)
        for task in pending:
            task.cancel()
        self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self._loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        self._started.set()
        async with server:
            await self._stop.wait()
            server.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.open_connections += 1
        try:
            mode = await _read_request(reader)
            if mode is None:
                return
            self.requests[mode] += 1
            await self._misbehave(mode, writer)
        except (ConnectionError, OSError):
            pass
        finally:
            self.open_connections -= 1
            writer.close()

    async def _misbehave(self, mode: str, writer: asyncio.StreamWriter) -> None:
        if mode == "ok":
            body = json.dumps({"function_run_id": "run_ok", "status": "closed"}).encode()
            writer.write(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                b"content-length: %d\r\n\r\n%s" % (len(body), body)
            )
            await writer.drain()
        elif mode == "html":
            body = b"<html><body>Welcome</body></html>"
            writer.write(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/html\r\n"
                b"content-length: %d\r\n\r\n%s" % (len(body), body)
            )
            await writer.drain()
        elif mode == "empty":
            writer.write(b"HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n")
            await writer.drain()
        elif mode == "sse_failed":
            result = {"function_run_id": "run_f", "session_id": "s", "status": "failed"}
            event = {"type": "result", "message": json.dumps({**result, "result": "boom"})}
            body = b"data: " + json.dumps(event).encode() + b"\n\n"
            writer.write(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                b"content-length: %d\r\n\r\n%s" % (len(body), body)
            )
            await writer.drain()
        elif mode == "silent":
            await asyncio.sleep(3600)
        elif mode == "reset":
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        elif mode in ("half_sse", "endless"):
            writer.write(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                b"transfer-encoding: chunked\r\n\r\n"
            )
            writer.write(_chunk(b'data: {"type": "session_start", "message": "sess_half"}\n\n'))
            await writer.drain()
            while mode == "endless":
                await asyncio.sleep(0.2)
                writer.write(_chunk(b": still working\n\n"))
                await writer.drain()
        # hangup (and the end of half_sse): the connection is closed by the caller


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


async def _read_request(reader: asyncio.StreamReader) -> str | None:
    """The mode of one whole request (head and Content-Length body), or None."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        return None
    lines = head.decode("latin-1").split("\r\n")
    path = lines[0].split(" ")[1]
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    with contextlib.suppress(asyncio.IncompleteReadError):
        await reader.readexactly(length)
    parts = path.split("/")
    return parts[2] if len(parts) > 2 else "?"


@contextmanager
def misbehaving() -> Iterator[Misbehaving]:
    server = Misbehaving()
    server.start()
    try:
        yield server
    finally:
        server.stop()
