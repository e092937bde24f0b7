"""uvicorn glue shared by ``relay serve`` and ``relay local-runner``."""

from __future__ import annotations

import socket
from collections.abc import Callable

import uvicorn

__all__ = ["AnnouncingServer", "http_url"]


def http_url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


class AnnouncingServer(uvicorn.Server):
    """Calls ``announce(port)`` once the socket is bound (not before), e.g. to print URLs."""

    def __init__(self, config: uvicorn.Config, announce: Callable[[int], None]) -> None:
        super().__init__(config)
        self._announce = announce

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if not self.started:
            return
        port = self.config.port
        bound = self.servers[0].sockets if self.servers else ()
        if bound:
            port = bound[0].getsockname()[1]
        self._announce(port)
