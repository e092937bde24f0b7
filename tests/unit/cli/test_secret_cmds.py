"""``relay secrets``: handed-over secrets listed by fingerprint (``--json``: the views
model), revealed on demand, forgotten."""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter

from relay.cli import main
from relay.store import SqliteStore
from relay.views.cli_shapes import HandedSecrets
from relay.views.models import plain

NOW = 1_700_000_000.0


def _seed(db: Path, secrets: dict[str, str]) -> None:
    async def run() -> None:
        store = SqliteStore(db)
        await store.open()
        try:
            for source, secret in secrets.items():
                await store.add_source_secret(source, secret, "handshake", NOW)
        finally:
            await store.close()

    asyncio.run(run())


def _relay(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _fingerprint(secret: str) -> str:
    return "sha256:" + hashlib.sha256(secret.encode()).hexdigest()[:12]


def test_list_json_is_the_views_model_with_fingerprints_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "relay.db"
    _seed(db, {"asana": "asana-s3cr3t", "notion": "notion-s3cr3t"})
    code, out, _ = _relay(capsys, "secrets", "list", "--json", "--db", str(db))
    assert code == 0
    assert "s3cr3t" not in out
    listed: list[dict[str, Any]] = json.loads(out)
    assert [plain(TypeAdapter(HandedSecrets).validate_python(row)) for row in listed] == listed
    assert {row["source"]: row["fingerprints"] for row in listed} == {
        "asana": [_fingerprint("asana-s3cr3t")],
        "notion": [_fingerprint("notion-s3cr3t")],
    }
    code, out, _ = _relay(capsys, "secrets", "list", "--db", str(db))
    assert (code, "s3cr3t" in out) == (0, False)
    assert _fingerprint("asana-s3cr3t") in out


def test_reveal_prints_the_secret_and_reset_forgets_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "relay.db"
    _seed(db, {"notion": "notion-s3cr3t"})
    code, out, _ = _relay(capsys, "secrets", "reveal", "notion", "--db", str(db))
    assert (code, out.strip()) == (0, "notion-s3cr3t")
    code, out, _ = _relay(capsys, "secrets", "reset", "notion", "--db", str(db))
    assert code == 0
    assert out.startswith("forgot 1 handed-over secret(s) of notion")
    code, _, err = _relay(capsys, "secrets", "reveal", "notion", "--db", str(db))
    assert (code, "no handed-over secret for source 'notion'" in err) == (1, True)
