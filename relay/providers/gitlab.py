"""GitLab: the ``X-Gitlab-Token`` header carries the secret token itself (no HMAC).

It is compared in constant time (hashed first, so lengths do not show) with every configured
secret; any one matching accepts. The event is ``X-Gitlab-Event`` (``Push Hook``). The id, for
dedupe, is ``Idempotency-Key`` (GitLab 17.4+, the same on retries), else
``X-Gitlab-Event-UUID``, else ``X-Gitlab-Webhook-UUID``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from relay.providers._common import ProviderBase, equals_any, header_bytes, require_header
from relay.providers._hmac import reject_unknown_options, utf8_keys
from relay.providers._schemes import header
from relay.providers.base import ProviderSpec, VerificationError, WebhookRequest
from relay.providers.sample import Fresh, Header, Sample
from relay.providers.sender import Options, Sending, SignedRequest, headers_only

__all__ = ["SENDING", "SPEC", "GitLabProvider", "build"]

NAME: Final = "gitlab"
_event_type: Final = header("x-gitlab-event")
_event_id: Final = header("idempotency-key", "x-gitlab-event-uuid", "x-gitlab-webhook-uuid")


class GitLabProvider(ProviderBase[bytes]):
    """Checks ``X-Gitlab-Token`` against one or more secret tokens."""

    def verify(self, request: WebhookRequest, now: float) -> None:
        token = require_header(request, "X-Gitlab-Token")
        if not equals_any(header_bytes(token), self._keys):
            raise VerificationError("signature_mismatch", "X-Gitlab-Token does not match")

    def event_id(self, request: WebhookRequest, body: Any) -> str | None:
        return _event_id(request, body)

    def event_type(self, request: WebhookRequest, body: Any) -> str | None:
        return _event_type(request, body)


def build(secrets: Sequence[str], options: Mapping[str, Any]) -> GitLabProvider:
    reject_unknown_options(options, ())
    return GitLabProvider(NAME, utf8_keys(secrets))


SPEC: Final = ProviderSpec(
    name=NAME,
    build=build,
    hint="Project or group Settings > Webhooks > Add new webhook: paste the URL, set "
    "the Secret token (sent as X-Gitlab-Token), tick the triggers.",
)


# ---------------------------------------------------------------- sending side (relay send)


def _sign(secret: str, body: bytes, now: float, opts: Mapping[str, Any]) -> SignedRequest:
    Options(NAME, opts, ())
    return headers_only(body, {"x-gitlab-token": secret})


SENDING: Final = Sending(
    sign=_sign,
    signs_with="the webhook's secret token",
    sample=Sample(
        payload={
            "object_kind": "push",
            "event_name": "push",
            "ref": "refs/heads/main",
            "user_username": "jsmith",
            "project": {"path_with_namespace": "group/project"},
            "commits": [],
            "total_commits_count": 0,
        },
        headers={"x-gitlab-event": "Push Hook", "x-gitlab-instance": "https://gitlab.com"},
        event=(Header("x-gitlab-event"),),
        event_id=Fresh(Header("x-gitlab-event-uuid")),
    ),
)
