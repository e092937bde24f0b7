"""GitHub: ``X-Hub-Signature-256: sha256=<hex>``, HMAC-SHA256 of the raw body.

GitHub's ``ping`` is an ordinary signed event, so there is no handshake. The event type comes
from ``X-GitHub-Event`` and the delivery id from ``X-GitHub-Delivery``. A webhook set to
``application/x-www-form-urlencoded`` (GitHub's default) carries the JSON in ``payload=``;
it is routed as that JSON (the signature covers the form as sent).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from relay.providers._hmac import (
    decode_signature,
    digest_size,
    matches_any,
    reject_unknown_options,
    utf8_keys,
)
from relay.providers.base import HandshakeReply, ProviderSpec, VerificationError, WebhookRequest
from relay.providers.body_limits import MiB
from relay.providers.sample import Fresh, Header, Sample
from relay.providers.sender import SHARED_KEY, Sending, hex_signer

__all__ = ["SENDING", "SPEC", "GitHubProvider", "build"]

NAME: Final = "github"
SIGNATURE_HEADER: Final = "x-hub-signature-256"
EVENT_HEADER: Final = "x-github-event"
DELIVERY_HEADER: Final = "x-github-delivery"
_PREFIX: Final = "sha256="
_SIZE: Final = digest_size("sha256")


class GitHubProvider:
    """Verifies GitHub deliveries against one or more secrets (any one matching accepts)."""

    def __init__(self, keys: Sequence[bytes]) -> None:
        self.name: str = NAME
        self._keys = tuple(keys)

    def __repr__(self) -> str:
        return f"GitHubProvider(secrets={len(self._keys)})"

    def handshake(self, request: WebhookRequest, now: float) -> HandshakeReply | None:
        return None

    def verify(self, request: WebhookRequest, now: float) -> None:
        header = request.headers.get(SIGNATURE_HEADER)
        if header is None:
            raise VerificationError("missing_signature", "X-Hub-Signature-256 header is missing")
        if not header.startswith(_PREFIX):
            raise VerificationError(
                "malformed_signature", "X-Hub-Signature-256 must start with 'sha256='"
            )
        candidate = decode_signature(header[len(_PREFIX) :], "hex", size=_SIZE)
        if not matches_any(self._keys, request.body, (candidate,), "sha256"):
            raise VerificationError(
                "signature_mismatch", "X-Hub-Signature-256 does not match the body"
            )

    def event_id(self, request: WebhookRequest, body: Any) -> str | None:
        return request.headers.get(DELIVERY_HEADER) or None

    def event_type(self, request: WebhookRequest, body: Any) -> str | None:
        return request.headers.get(EVENT_HEADER) or None


def build(secrets: Sequence[str], options: Mapping[str, Any]) -> GitHubProvider:
    reject_unknown_options(options, ())
    return GitHubProvider(utf8_keys(secrets))


#: GitHub's "Content type: application/x-www-form-urlencoded" sends the JSON as ``payload=``.
SPEC: Final = ProviderSpec(
    name=NAME,
    build=build,
    form_json_field="payload",
    max_body_bytes=25 * MiB,  # "payloads are capped at 25 MB"
    hint="Repository or organization Settings > Webhooks > Add webhook: paste the URL, "
    "Content type application/json, set the Secret (X-Hub-Signature-256), choose events.",
)


# ---------------------------------------------------------------- sending side (relay send)

_SENDER: Final = {
    "login": "octocat",
    "id": 583231,
    "node_id": "MDQ6VXNlcjU4MzIzMQ==",
    "html_url": "https://github.com/octocat",
    "type": "User",
    "site_admin": False,
}
_REPOSITORY: Final = {
    "id": 1296269,
    "node_id": "MDEwOlJlcG9zaXRvcnkxMjk2MjY5",
    "name": "repo",
    "full_name": "octo/repo",
    "private": False,
    "owner": {"login": "octo", "id": 9919, "type": "Organization"},
    "html_url": "https://github.com/octo/repo",
    "description": "This your first repo!",
    "fork": False,
    "default_branch": "main",
    "visibility": "public",
}
_AT = "2024-05-01T12:00:00Z"
_HEAD = "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c"
_BEFORE = "6113728f27ae82c7b1a177c8d03f9e96e0adf246"


def _github(event: str, payload: dict[str, Any]) -> Sample:
    return Sample(
        payload={**payload, "repository": _REPOSITORY, "sender": _SENDER},
        headers={"x-github-event": event, "x-github-hook-id": "292430182"},
        event=(Header("x-github-event"),),
        event_id=Fresh(Header("x-github-delivery")),
    )


_ISSUE: Final = {
    "id": 1347,
    "node_id": "MDU6SXNzdWUxMzQ3",
    "number": 7,
    "title": "Crash on start",
    "user": _SENDER,
    "labels": [{"id": 208045946, "name": "bug", "color": "f29513", "default": True}],
    "state": "open",
    "locked": False,
    "assignee": None,
    "assignees": [],
    "milestone": None,
    "comments": 0,
    "created_at": _AT,
    "updated_at": _AT,
    "closed_at": None,
    "author_association": "OWNER",
    "body": "The app crashes right after start on macOS 14.",
    "html_url": "https://github.com/octo/repo/issues/7",
}
_COMMIT: Final = {
    "id": _HEAD,
    "tree_id": "f9d2a07e9488b91af2641b26b9407fe22a451433",
    "distinct": True,
    "message": "Fix the crash on start",
    "timestamp": "2024-05-01T12:00:00+00:00",
    "url": f"https://github.com/octo/repo/commit/{_HEAD}",
    "author": {"name": "Mona Octocat", "email": "mona@github.com", "username": "octocat"},
    "committer": {"name": "Mona Octocat", "email": "mona@github.com", "username": "octocat"},
    "added": [],
    "removed": [],
    "modified": ["src/main.py"],
}

_EVENTS: Final[Mapping[str, Sample]] = {
    "issues": _github("issues", {"action": "opened", "issue": _ISSUE}),
    "issue_comment": _github(
        "issue_comment",
        {
            "action": "created",
            "issue": {**_ISSUE, "comments": 1},
            "comment": {
                "id": 2073712842,
                "user": _SENDER,
                "created_at": _AT,
                "updated_at": _AT,
                "author_association": "OWNER",
                "body": "Reproduced on 1.2.0 too.",
                "html_url": "https://github.com/octo/repo/issues/7#issuecomment-2073712842",
            },
        },
    ),
    "pull_request": _github(
        "pull_request",
        {
            "action": "opened",
            "number": 42,
            "pull_request": {
                "id": 1851352012,
                "node_id": "PR_kwDOABCD0M5uWbZM",
                "number": 42,
                "state": "open",
                "locked": False,
                "title": "Fix the crash on start",
                "user": _SENDER,
                "body": "Fixes #7.",
                "created_at": _AT,
                "updated_at": _AT,
                "closed_at": None,
                "merged_at": None,
                "merged": False,
                "mergeable": None,
                "draft": False,
                "head": {"label": "octo:fix-crash", "ref": "fix-crash", "sha": _HEAD},
                "base": {"label": "octo:main", "ref": "main", "sha": _BEFORE},
                "commits": 1,
                "additions": 3,
                "deletions": 1,
                "changed_files": 1,
                "html_url": "https://github.com/octo/repo/pull/42",
            },
        },
    ),
    "push": _github(
        "push",
        {
            "ref": "refs/heads/main",
            "before": _BEFORE,
            "after": _HEAD,
            "created": False,
            "deleted": False,
            "forced": False,
            "base_ref": None,
            "compare": f"https://github.com/octo/repo/compare/{_BEFORE[:12]}...{_HEAD[:12]}",
            "commits": [_COMMIT],
            "head_commit": _COMMIT,
            "pusher": {"name": "octocat", "email": "mona@github.com"},
        },
    ),
    "release": _github(
        "release",
        {
            "action": "published",
            "release": {
                "id": 155312045,
                "node_id": "RE_kwDOABCD0M4JQeKt",
                "tag_name": "v1.2.0",
                "target_commitish": "main",
                "name": "v1.2.0",
                "draft": False,
                "prerelease": False,
                "author": _SENDER,
                "created_at": _AT,
                "published_at": _AT,
                "assets": [],
                "body": "## What's changed\n* Fix the crash on start by @octocat in #42",
                "html_url": "https://github.com/octo/repo/releases/tag/v1.2.0",
                "tarball_url": "https://api.github.com/repos/octo/repo/tarball/v1.2.0",
            },
        },
    ),
    "ping": _github(
        "ping",
        {
            "zen": "Keep it logically awesome.",
            "hook_id": 292430182,
            "hook": {
                "type": "Repository",
                "id": 292430182,
                "name": "web",
                "active": True,
                "events": ["issues", "pull_request", "push", "release"],
                "config": {"content_type": "json", "insecure_ssl": "0", "url": "https://relay"},
            },
        },
    ),
}


SENDING: Final = Sending(
    sign=hex_signer(NAME, "x-hub-signature-256", "sha256="),
    signs_with=SHARED_KEY,
    sample=Sample(
        payload={
            "action": "opened",
            "issue": {"number": 7, "title": "Crash on start", "state": "open"},
            "repository": {"full_name": "octo/repo", "private": False},
            "sender": {"login": "octocat", "type": "User"},
        },
        headers={"x-github-event": "issues", "x-github-hook-id": "292430182"},
        event=(Header("x-github-event"),),
        event_id=Fresh(Header("x-github-delivery")),
    ),
    events=_EVENTS,
)
