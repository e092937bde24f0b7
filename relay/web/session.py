"""Admin sessions for the web page, their CSRF tokens, and the failed-login throttle.

A session is a cookie signed with itsdangerous: a random session id and an expiry (checked
against the injected clock, so lifetimes are testable). The signing key is derived from the
admin token, so all sessions end when the token changes; without a token (loopback-only mode)
it is random per process. A session's CSRF token is an HMAC of its id: the page sends it in
``X-CSRF-Token`` with every state-changing request.

A signed cookie alone cannot be taken back, so every session started at login is also kept
in the store (the SHA-256 of its id, never the id) until it expires: a cookie counts only
while its session is there. Logging out deletes it, "log out everywhere" deletes them all;
both hold for every instance sharing the store and across restarts.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import deque
from dataclasses import dataclass, field
from typing import Protocol

from itsdangerous import BadSignature, URLSafeSerializer
from starlette.responses import Response

from relay.clock import Clock

__all__ = [
    "COOKIE",
    "CSRF_HEADER",
    "LoginThrottle",
    "SessionStore",
    "Sessions",
    "token_matches",
]

COOKIE = "relay_session"
CSRF_HEADER = "x-csrf-token"
DEFAULT_LIFETIME = 12 * 3600.0


def token_matches(presented: str, token: str) -> bool:
    """Constant-time comparison of digests (equal length, so not even the length leaks)."""
    expected = hashlib.sha256(token.encode()).digest()
    given = hashlib.sha256(presented.encode()).digest()
    return hmac.compare_digest(expected, given)


class SessionStore(Protocol):
    """What sessions keep in the store (``relay.store.base.Store`` has it)."""

    async def add_admin_session(self, digest: str, expires_at: float, now: float) -> None: ...

    async def admin_session_active(self, digest: str, now: float) -> bool: ...

    async def end_admin_sessions(self, digest: str | None = None) -> int: ...


def _digest(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


class Sessions:
    """``issue``/``verify`` sign and check cookies; ``start``/``active``/``end``/``end_all``
    also keep the sessions in ``store`` (without one, a signed cookie is all there is)."""

    def __init__(
        self,
        token: str | None,
        clock: Clock,
        *,
        store: SessionStore | None = None,
        lifetime: float = DEFAULT_LIFETIME,
    ) -> None:
        self._store = store
        if token:
            key = hmac.new(token.encode(), b"relay admin session v1", hashlib.sha256).digest()
        else:
            key = secrets.token_bytes(32)
        self._key = key
        self._serializer = URLSafeSerializer(key.hex(), salt="relay-session")
        self._clock = clock
        self.lifetime = lifetime

    def issue(self) -> str:
        """A new session's cookie value."""
        expires = int(self._clock.now() + self.lifetime)
        return str(self._serializer.dumps({"sid": secrets.token_urlsafe(16), "exp": expires}))

    def verify(self, cookie: str | None) -> str | None:
        """The session id of a valid, unexpired cookie; None otherwise."""
        if not cookie or len(cookie) > 512:
            return None
        try:
            data = self._serializer.loads(cookie)
        except BadSignature:
            return None
        if not isinstance(data, dict):
            return None
        sid, expires = data.get("sid"), data.get("exp")
        if not isinstance(sid, str) or not isinstance(expires, int):
            return None
        return sid if self._clock.now() < expires else None

    async def start(self) -> str:
        """A new session, kept in the store: its cookie value."""
        cookie = self.issue()
        if self._store is not None:
            data = self._serializer.loads(cookie)
            now = self._clock.now()
            await self._store.add_admin_session(_digest(data["sid"]), float(data["exp"]), now)
        return cookie

    async def active(self, cookie: str | None) -> str | None:
        """The session id of a valid cookie whose session has not ended; None otherwise."""
        sid = self.verify(cookie)
        if sid is None or self._store is None:
            return sid
        if await self._store.admin_session_active(_digest(sid), self._clock.now()):
            return sid
        return None

    async def end(self, sid: str) -> None:
        """Log out: that session's cookie stops working, everywhere."""
        if self._store is not None:
            await self._store.end_admin_sessions(_digest(sid))

    async def end_all(self) -> int:
        """Log out everywhere: every session ends; how many there were."""
        if self._store is None:
            return 0
        return await self._store.end_admin_sessions(None)

    def csrf(self, sid: str) -> str:
        return hmac.new(self._key, f"csrf:{sid}".encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, sid: str, presented: str | None) -> bool:
        return presented is not None and hmac.compare_digest(self.csrf(sid), presented)

    def set_cookie(self, response: Response, value: str, *, secure: bool) -> None:
        """Give ``response`` the session's cookie: for the whole site, for the session's
        lifetime, HttpOnly, SameSite=Strict, and Secure over https."""
        response.set_cookie(
            COOKIE,
            value,
            max_age=int(self.lifetime),
            path="/",
            secure=secure,
            httponly=True,
            samesite="strict",
        )

    def clear_cookie(self, response: Response, *, secure: bool) -> None:
        """Have the browser drop the session's cookie (``Max-Age=0``, same attributes)."""
        response.delete_cookie(COOKIE, path="/", secure=secure, httponly=True, samesite="strict")


@dataclass
class LoginThrottle:
    """At most ``limit`` failed logins (or wrong bearer tokens) per client address within
    ``window`` seconds; more are answered 429 until the oldest failure ages out."""

    clock: Clock
    limit: int = 5
    window: float = 60.0
    max_clients: int = 10_000
    _failures: dict[str, deque[float]] = field(default_factory=dict)

    def _recent(self, client: str) -> deque[float]:
        times = self._failures.get(client)
        if times is None:
            return deque()
        cutoff = self.clock.now() - self.window
        while times and times[0] <= cutoff:
            times.popleft()
        if not times:
            del self._failures[client]
        return times

    def retry_after(self, client: str) -> float | None:
        """Seconds until ``client`` may try again; None when it may now."""
        times = self._recent(client)
        if len(times) < self.limit:
            return None
        return max(1.0, times[0] + self.window - self.clock.now())

    def failed(self, client: str) -> None:
        if client not in self._failures and len(self._failures) >= self.max_clients:
            self._failures.pop(next(iter(self._failures)))  # the longest-known client
        self._failures.setdefault(client, deque()).append(self.clock.now())

    def succeeded(self, client: str) -> None:
        self._failures.pop(client, None)
