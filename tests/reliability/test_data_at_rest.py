"""What relay keeps on disk and prints, on a real ``relay serve`` and the real CLI: the
SQLite files (database, ``-wal``, ``-shm``, lock) are created 0600 under a 022 umask, wider
ones are warned about at start; credential headers and query parameters are stored masked;
``relay show``, ``relay deliveries [show] --json`` and ``relay dlq list --json`` print no
configured secret (webhook secret, Notte API key) even without ``--config``, when run where
``relay serve`` runs with its default ``config/relay.yaml``."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.helpers import API_KEY, GITHUB_SECRET, github_headers, write_config
from tests.integration.procs import wait_until
from tests.reliability.kit import RelayProcess, db_rows, runner

BASIC = "Basic dXNlcjpzM2NyZXQtcGFzc3dvcmQ="
TOKEN_HEADER = "tok-header-5b1e9c"
QUERY_TOKEN = "tok-query-77ad02"
ROUTES = """
  - name: leaky
    source: github
    function_id: leaky
    match: {event_type: issues}
    variables: {title: body.issue.title}
    retry: {max_attempts: 1}
"""
LEAKY = """
def run(title):
    raise ValueError(title)
"""


@dataclass
class Stored:
    relay: RelayProcess
    home: Path
    event_id: str
    delivery_id: str


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stored]:
    home = tmp_path_factory.mktemp("at-rest")
    functions = home / "functions"
    functions.mkdir()
    (functions / "leaky.py").write_text(textwrap.dedent(LEAKY))
    (home / "config").mkdir()
    before = os.umask(0o022)  # the usual default: files 0644 unless relay says otherwise
    try:
        with runner(home, "--functions", str(functions)) as upstream:
            config = write_config(
                home / "config" / "relay.yaml", base_url=upstream.url, routes=ROUTES
            )
            relay = RelayProcess(config, home / "relay.db", home)
            relay.start()
            try:
                body = json.dumps(
                    {"action": "opened", "issue": {"number": 1, "title": f"{GITHUB_SECRET} "
                     f"and {API_KEY}"}, "repository": {"full_name": "octo/repo"}}
                ).encode()  # fmt: skip
                headers = {
                    **github_headers(body, delivery="at-rest-1"),
                    "Authorization": BASIC,
                    "X-Api-Token": TOKEN_HEADER,
                }
                reply = httpx.post(
                    f"{relay.url}/hooks/github?token={QUERY_TOKEN}&page=2",
                    content=body,
                    headers=headers,
                    timeout=30,
                )
                assert reply.status_code == 200, reply.text
                event_id = reply.json()["id"]

                def failed() -> bool:
                    rows = db_rows(relay.db, "SELECT id, status FROM deliveries")
                    return bool(rows) and rows[0][1] == "failed"

                wait_until(failed, within=60, what="the leaky run to fail")
                ((delivery_id,),) = db_rows(relay.db, "SELECT id FROM deliveries")
                yield Stored(relay, home, event_id, str(delivery_id))
            finally:
                relay.kill()
    finally:
        os.umask(before)


def test_the_database_files_are_readable_by_their_owner_only(stored: Stored) -> None:
    db = str(stored.relay.db)
    for suffix in ("", "-wal", "-shm", ".lock"):
        mode = stat.S_IMODE(os.stat(db + suffix).st_mode)
        assert mode == 0o600, (suffix, oct(mode))


def test_credential_headers_and_query_parameters_are_stored_masked(stored: Stored) -> None:
    ((headers, query),) = db_rows(
        stored.relay.db, "SELECT headers, query FROM events WHERE id = ?", (stored.event_id,)
    )
    assert json.loads(headers)["authorization"] == "[redacted]"
    assert json.loads(headers)["x-api-token"] == "[redacted]"
    assert json.loads(headers)["x-github-event"] == "issues"
    assert json.loads(query) == {"token": "[redacted]", "page": "2"}
    db = str(stored.relay.db)
    raw = b"".join(Path(db + s).read_bytes() for s in ("", "-wal") if Path(db + s).exists())
    for value in (BASIC, BASIC.split()[1], TOKEN_HEADER, QUERY_TOKEN):
        assert value.encode() not in raw, value


def _cli(stored: Stored, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "relay", *args, "--db", str(stored.relay.db)],
        cwd=stored.home,  # where relay serve would find config/relay.yaml by default
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={k: v for k, v in os.environ.items() if k != "RELAY_ADMIN_TOKEN"},
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize(
    "command",
    [
        ("show", "{event}"),
        ("show", "{event}", "--json"),
        ("show", "{delivery}"),
        ("deliveries", "show", "{delivery}"),
        ("deliveries", "show", "{delivery}", "--json"),
        ("deliveries", "--json"),
        ("deliveries",),
        ("dlq", "list", "--status", "failed", "--json"),
        ("dlq", "list", "--status", "failed"),
        ("events", "--json"),
        ("tail", "--once", "--since", "1h"),
    ],
    ids=lambda c: "-".join(part.strip("{}") for part in c),
)
def test_no_cli_output_holds_a_configured_secret(stored: Stored, command: tuple[str, ...]) -> None:
    args = [a.format(event=stored.event_id, delivery=stored.delivery_id) for a in command]
    out = _cli(stored, *args)
    assert out.strip()
    for secret in (GITHUB_SECRET, API_KEY, BASIC, TOKEN_HEADER, QUERY_TOKEN):
        assert secret not in out, (secret, out[:2000])


def test_a_delivery_shown_as_json_has_the_apis_shape(stored: Stored) -> None:
    shown = json.loads(_cli(stored, "deliveries", "show", stored.delivery_id, "--json"))
    assert shown["id"] == stored.delivery_id
    assert shown["status"] == "failed"
    assert [a["number"] for a in shown["attempt_log"]] == [1]
    assert "[redacted]" in json.dumps(shown["attempt_log"])


def test_wider_database_files_are_warned_about_at_start(stored: Stored) -> None:
    db = str(stored.relay.db)
    stored.relay.kill()
    os.chmod(db, 0o644)  # what an operator's copy or restore can leave
    try:
        stored.relay.start()
        stored.relay.kill()
    finally:
        os.chmod(db, 0o600)
    warnings = [
        json.loads(line)
        for line in stored.relay.log.read_text().splitlines()
        if "relay.store.file_too_open" in line
    ]
    assert [(w["path"], w["mode"]) for w in warnings] == [(db, "0644")]
