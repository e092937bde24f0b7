"""What the admin surfaces (API, page, metrics) use of a running relay."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from starlette.requests import Request

from relay.clock import Clock
from relay.delivery.worker import DeliveryWorker
from relay.metrics.relay_metrics import RelayMetrics
from relay.redact import Redactor
from relay.routing.reloader import ConfigState, ReloadResult
from relay.store.base import Store
from relay.views.answers import ConfigStatus
from relay.web.auth import ACTOR_KEY
from relay.web.body_limit import MAX_ADMIN_BODY
from relay.web.session import LoginThrottle, Sessions

__all__ = ["AdminDeps", "actor"]


@dataclass(frozen=True, slots=True)
class AdminDeps:
    store: Store
    clock: Clock
    config: ConfigState
    reload: Callable[[str], Awaitable[ReloadResult]]
    worker: DeliveryWorker
    metrics: RelayMetrics
    sessions: Sessions
    throttle: LoginThrottle
    admin_token: str | None
    handed_secrets: Callable[[], Iterable[str]] = lambda: ()
    #: Seconds an admin request's body has to arrive after its headers (None: no deadline).
    receive_timeout: float | None = None
    #: Largest admin request body (413 above it).
    max_body_bytes: int = MAX_ADMIN_BODY
    #: Without a token, loopback clients are answered (False in a container: none are).
    admin_loopback: bool = True

    def redactor(self) -> Redactor:
        """Masks secret-looking keys and cuts every configured secret, the target API keys,
        handed-over secrets and the admin token out of what is shown."""
        known = [*self.config.table.secret_values, *self.handed_secrets()]
        if self.admin_token:
            known.append(self.admin_token)
        return Redactor(known)

    def configured_targets(self) -> dict[str, int]:
        return {n: t.max_concurrency for n, t in self.config.table.targets.items()}

    def config_status(self) -> ConfigStatus:
        """The config in force, as ``GET /api/config`` and the targets page show it."""
        table = self.config.table
        return ConfigStatus(
            path=table.path,
            sha256=table.sha256,
            loaded_at=table.loaded_at,
            last_error=self.config.last_error,
            last_error_at=self.config.last_error_at,
            sources=sorted(table.sources),
            routes=sum(len(r) for r in table.routes.values()),
            targets=sorted(table.targets),
        )


def actor(request: Request) -> str:
    """Who acts, for audit entries (set by ``AdminAuth``)."""
    return str(request.scope.get("state", {}).get(ACTOR_KEY, "admin"))
