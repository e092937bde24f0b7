"""``relay route``: dry runs on a sample payload, and replays of stored events."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from pydantic import TypeAdapter

from relay.cli import main
from relay.store import SqliteStore
from relay.store.base import EventStatus, NewEvent
from relay.views.cli_shapes import RouteDryRun
from relay.views.models import plain
from tests.helpers import write_config

ROUTES = """
  - name: new-issues
    source: github
    function_id: triage_issue
    match: {event_type: issues, body: {action: opened}}
    variables:
      repo: body.repository.full_name
      number: {path: body.issue.number, type: integer, required: true}
  - name: pushes
    source: github
    function_id: on_push
    match: {event_type: push}
  - name: internal
    source: github
    function_id: internal
    match: {client_ip: {cidr: 10.0.0.0/8}}
  - name: paused
    source: github
    function_id: paused
    enabled: false
    match: {event_type: issues}
"""
ISSUE: dict[str, Any] = {
    "action": "opened",
    "issue": {"number": 7},
    "repository": {"full_name": "octo/repo"},
}


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["route", *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(tmp_path / "relay.yaml", routes=ROUTES)


@pytest.fixture
def payload(tmp_path: Path) -> Path:
    path = tmp_path / "payload.json"
    path.write_text(json.dumps(ISSUE))
    return path


def test_dry_run_prints_each_route_with_why_not_and_variables(
    config: Path, payload: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        capsys, str(config), "--source", "github", "--payload", str(payload),
        "--header", "X-GitHub-Event: issues", "--header", "X-GitHub-Delivery: d-9",
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "event_type: 'issues', event_id: 'd-9'",
        "route new-issues: matched -> triage_issue",
        '  variables: {"repo": "octo/repo", "number": 7}',
        "route pushes: not matched: event_type is 'issues', expected 'push'",
        "route internal: not matched: client_ip is None, expected an IP address in 10.0.0.0/8",
        "route paused: not matched: disabled (enabled: false); it would match",
    ]


def test_dry_run_json(config: Path, payload: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, str(config), "--source", "github", "--payload", str(payload),
        "--header", "x-github-event: push", "--client-ip", "10.2.3.4", "--json",
    )  # fmt: skip
    assert code == 0
    shown = json.loads(out)
    assert plain(TypeAdapter(RouteDryRun).validate_python(shown)) == shown  # the views model
    assert shown == {
        "source": "github",
        "event_type": "push",
        "event_id": None,
        "routes": [
            {
                "name": "new-issues",
                "matched": False,
                "reason": "event_type is 'push', expected 'issues'",
                "variables": None,
            },
            {
                "name": "pushes",
                "matched": True,
                "reason": None,
                "variables": {"event_type": "push", "data": ISSUE},
            },
            {
                "name": "internal",
                "matched": True,
                "reason": None,
                "variables": {"event_type": "push", "data": ISSUE},
            },
            {
                "name": "paused",
                "matched": False,
                "reason": "disabled (enabled: false); and event_type is 'push', expected 'issues'",
                "variables": None,
            },
        ],
    }


def test_dry_run_shows_a_mapping_failure(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    payload = tmp_path / "p.json"
    payload.write_text(json.dumps({"action": "opened", "issue": {"number": "seven"}}))
    code, out, _ = run(
        capsys, str(config), "--source", "github", "--payload", str(payload),
        "--header", "X-GitHub-Event: issues", "--json",
    )  # fmt: skip
    assert code == 0
    first = json.loads(out)["routes"][0]
    assert first == {
        "name": "new-issues",
        "matched": True,
        "reason": "mapping_failed: variable 'number': body.issue.number: 'seven' is not an integer",
        "variables": None,
    }


def test_form_body_numbers_are_converted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    routes = """
  - name: form
    source: github
    function_id: f
    match: {body.amount: {numeric: [">", 10]}}
    variables: {amount: {path: body.amount, type: number}}
"""
    config = write_config(tmp_path / "relay.yaml", routes=routes)
    payload = tmp_path / "form.txt"
    payload.write_text("amount=12.5&name=x")
    code, out, _ = run(
        capsys, str(config), "--source", "github", "--payload", str(payload),
        "--header", "Content-Type: application/x-www-form-urlencoded",
    )  # fmt: skip
    assert code == 0
    assert out.splitlines()[1:] == ["route form: matched -> f", '  variables: {"amount": 12.5}']


def test_unknown_source_is_a_usage_error(
    config: Path, payload: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, str(config), "--source", "githb", "--payload", str(payload))
    assert code == 2
    assert err.strip().endswith(
        "no source named 'githb' in " + str(config) + " (did you mean 'github'?)"
    )


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--header", "no colon"], "relay: --header takes 'Name: value', not 'no colon'"),
        (["--query", "novalue"], "relay: --query takes name=value, not 'novalue'"),
    ],
)
def test_malformed_options_are_usage_errors(
    config: Path, payload: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    code, _, err = run(capsys, str(config), "--source", "github", "--payload", str(payload), *extra)
    assert (code, err.strip()) == (2, message)


def test_unprocessable_payload_is_a_usage_error(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    payload = tmp_path / "bad.json"
    payload.write_text("{nope")
    code, _, err = run(capsys, str(config), "--source", "github", "--payload", str(payload))
    assert code == 2
    assert "the payload is unprocessable" in err


def test_invalid_config_prints_located_errors(
    tmp_path: Path, payload: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    routes = "\n  - {name: r, source: github, function_id: f, match: {when: 'a ||'}}\n"
    config = write_config(tmp_path / "relay.yaml", routes=routes)
    code, _, err = run(capsys, str(config), "--source", "github", "--payload", str(payload))
    assert code == 1
    assert f"{config}:14:66: route 'r': when: invalid expression: incomplete expression" in err


def _store_event(db: Path, event: NewEvent) -> None:
    async def insert() -> None:
        store = SqliteStore(db)
        await store.open()
        try:
            await store.insert_event(event)
        finally:
            await store.close()

    asyncio.run(insert())


def test_replay_a_stored_event_through_fixed_rules(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "relay.db"
    _store_event(
        db,
        NewEvent(
            id="evt_1",
            source="github",
            dedupe_key="d-1",
            provider_event_id="d-1",
            event_type="issues",
            received_at=1_800_000_000.0,
            body=json.dumps({**ISSUE, "action": "reopened"}).encode(),
            headers={"x-github-event": "issues", "content-type": "application/json"},
            query={},
            status=EventStatus.UNROUTED,
            client_ip="10.9.9.9",
        ),
    )
    config = write_config(tmp_path / "relay.yaml", routes=ROUTES)
    code, out, _ = run(capsys, "--event", "evt_1", "--config", str(config), "--db", str(db))
    assert code == 0
    assert out.splitlines()[:2] == [
        "event_type: 'issues', event_id: 'd-1'",
        "route new-issues: not matched: body.action is 'reopened', expected 'opened'",
    ]
    assert "route internal: matched -> internal" in out  # the stored client address

    fixed = ROUTES.replace("body: {action: opened}", "body: {action: [opened, reopened]}")
    write_config(config, routes=fixed)
    code, out, _ = run(
        capsys, "--event", "evt_1", "--config", str(config), "--db", str(db), "--json"
    )
    assert code == 0
    first = json.loads(out)["routes"][0]
    assert first == {
        "name": "new-issues",
        "matched": True,
        "reason": None,
        "variables": {"repo": "octo/repo", "number": 7},
    }


def test_replay_of_an_unknown_event_is_a_usage_error(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "--event", "evt_nope", str(config), "--db", str(tmp_path / "r.db"))
    assert (code, err.strip()) == (2, "relay: no event evt_nope")


def test_replay_from_a_database_url_relay_cannot_read_is_one_message(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "--event", "evt_1", str(config), "--db", "mysql://db/relay")
    assert (code, err.strip()) == (2, "relay: unsupported database URL scheme in 'mysql'")


def test_dry_run_needs_a_source_and_a_payload(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, str(config))
    assert (code, err.strip()) == (2, "relay: give --source and --payload (or --event EVENT_ID)")


def test_replay_of_a_stored_github_form_event_reads_its_payload_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GitHub's "application/x-www-form-urlencoded" webhooks: the JSON is in payload=
    db = tmp_path / "relay.db"
    _store_event(
        db,
        NewEvent(
            id="evt_form",
            source="github",
            dedupe_key="d-form",
            provider_event_id="d-form",
            event_type="issues",
            received_at=1_800_000_000.0,
            body=urlencode({"payload": json.dumps(ISSUE)}).encode(),
            headers={
                "x-github-event": "issues",
                "content-type": "application/x-www-form-urlencoded",
            },
            query={},
            status=EventStatus.UNROUTED,
        ),
    )
    config = write_config(tmp_path / "relay.yaml", routes=ROUTES)
    code, out, _ = run(capsys, "--event", "evt_form", "--config", str(config), "--db", str(db))
    assert code == 0
    assert "route new-issues: matched -> triage_issue" in out
    assert '"repo": "octo/repo", "number": 7' in out
