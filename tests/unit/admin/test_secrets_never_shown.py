"""No secret value leaves relay through the admin surfaces: webhooks whose payload, headers
and function output carry the configured secrets, the target's API key and the admin token
are sent, then every API answer, every page, the CLI's output and every log line is searched
for those values."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from relay.cli import main
from relay.delivery.outbound import Reply
from relay.store.base import DeliveryStatus
from tests.harness import Relay
from tests.helpers import API_KEY, GITHUB_SECRET, write_config
from tests.unit.admin.kit import TOKEN, admin_relay, bearer, dead_letter, login

PASSWORD = "hunter2-correct-horse"
SECRETS = (GITHUB_SECRET, API_KEY, TOKEN, PASSWORD)

ROUTE = """
  - name: new-issues
    source: github
    function_id: triage_issue
    match: {event_type: issues}
    variables:
      title: body.issue.title
      creds: body.credentials
    retry: {max_attempts: 3, initial: 0.05, max: 0.2, jitter: 0}
"""


def _signed(body: bytes, delivery: str, secret: str = GITHUB_SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {
        "X-Hub-Signature-256": f"sha256={digest}",
        "X-GitHub-Event": "issues",
        "X-GitHub-Delivery": delivery,
        "Content-Type": "application/json",
        "Authorization": f"Bearer {GITHUB_SECRET}",
        "X-Api-Key": API_KEY,
        "Cookie": f"session={TOKEN}",
        "X-Note": f"copy of {GITHUB_SECRET}",
    }


def _payload() -> bytes:
    payload: dict[str, Any] = {
        "action": "opened",
        "issue": {"number": 5, "title": f"leaked {GITHUB_SECRET} in a title"},
        "repository": {"full_name": "octo/repo"},
        "api_key": API_KEY,
        "credentials": {"password": PASSWORD, "note": f"admin {TOKEN}"},
        "comment": f"the key is {API_KEY}",
    }
    return json.dumps(payload).encode()


def _function_output() -> Reply:
    """A streamed run whose log lines and result repeat the secrets."""
    run = {
        "function_run_id": "run_1",
        "session_id": "s",
        "status": "closed",
        "result": {"api_key": API_KEY, "note": f"token {TOKEN}"},
    }
    events = [
        {"type": "log", "message": f"using key {API_KEY}"},
        {"type": "log", "message": f"secret {GITHUB_SECRET}, pw {PASSWORD}"},
        {"type": "result", "message": json.dumps(run)},
    ]
    body = b"".join(f"data: {json.dumps(e)}\n\n".encode() for e in events)
    return Reply(200, headers={"content-type": "text/event-stream"}, content=body)


async def _crawl(relay: Relay) -> dict[str, str]:
    """Every GET the API and the page answer, with every event and delivery in full."""
    seen: dict[str, str] = {}

    async def get(path: str) -> Any:
        response = await relay.client.get(path, headers=bearer())
        assert response.status_code == 200, (path, response.status_code)
        seen[path] = response.text
        return response

    events = (await get("/api/events")).json()["items"]
    deliveries = (await get("/api/deliveries")).json()["items"]
    for path in ("/api/targets", "/api/stats", "/api/config", "/metrics", "/api/openapi.json"):
        await get(path)
    for e in events:
        await get(f"/api/events/{e['id']}")
        await get(f"/ui/events/{e['id']}")
    for d in deliveries:
        await get(f"/api/deliveries/{d['id']}")
    for path in ("/ui/", "/ui/dead-letters", "/ui/targets", "/api/deliveries?status=dead"):
        await get(path)
    return seen


@pytest.mark.secret_expected(*SECRETS)
async def test_no_secret_in_any_answer_page_cli_output_or_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path / "relay.yaml", routes=ROUTE)
    db = tmp_path / "relay.db"
    from relay.store import SqliteStore

    with capture_logs() as logs:
        async with admin_relay(tmp_path, config=config, store=SqliteStore(db)) as relay:
            relay.upstream.answers.append(_function_output())
            body = _payload()
            stored = await relay.post(body, _signed(body, "d-1"))
            assert stored.status_code == 200
            await relay.wait_for(lambda: relay.status_is("new-issues", DeliveryStatus.SUCCEEDED))
            rejected = await relay.post(body, _signed(body, "d-2", secret="wrong-secret"))
            assert rejected.status_code == 401
            await dead_letter(relay)
            seen = await _crawl(relay)
            await login(relay.client)
            for path in ("/ui/", "/ui/targets"):
                seen[f"session {path}"] = (await relay.client.get(path)).text
        event_id = stored.json()["id"]

    assert len(seen) > 12
    for where, text in seen.items():
        for secret in SECRETS:
            assert secret not in text, f"a configured secret in {where}"
    event = json.loads(seen[f"/api/events/{event_id}"])
    assert event["headers"]["authorization"] == "[redacted]"
    assert event["headers"]["x-api-key"] == "[redacted]"
    assert event["headers"]["x-note"] == "copy of [redacted]"
    assert '"api_key": "[redacted]"' in event["payload"]
    attempt = event["deliveries"][0]["attempt_log"][0]
    assert attempt["logs"] == ["using key [redacted]", "secret [redacted], pw [redacted]"]
    assert attempt["result"] == {"api_key": "[redacted]", "note": "token [redacted]"}

    capsys.readouterr()
    for argv in (
        ["show", event_id, "--db", str(db), "--config", str(config)],
        ["show", event_id, "--db", str(db), "--config", str(config), "--json"],
        ["events", "--db", str(db), "--json"],
    ):
        assert await asyncio.to_thread(main, argv) == 0
        out = capsys.readouterr().out
        for secret in (GITHUB_SECRET, API_KEY, PASSWORD):
            assert secret not in out, f"a configured secret in relay {argv[0]}"
    for entry in logs:
        for secret in SECRETS:
            assert secret not in repr(entry), f"a configured secret in {entry['event']}"
