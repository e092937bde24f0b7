"""``relay serve`` refuses before it listens: no config, or demo secrets on a public address
(relay/exposure.py). Nothing here binds a socket: both refusals come first."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from relay.cli import main

ROOT = Path(__file__).resolve().parents[3]
DEMO = str(ROOT / "config" / "relay.yaml")


@pytest.fixture(autouse=True)
def _no_relay_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("GITHUB_WEBHOOK_SECRET", "BILLING_WEBHOOK_SECRET", "ACME_WEBHOOK_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("RELAY_ALLOW_INSECURE", raising=False)
    monkeypatch.delenv("RELAY_CONTAINER", raising=False)
    # serve configures structlog (on this test's captured stderr); later tests get it back
    saved = structlog.get_config()
    yield
    structlog.configure(**saved)


def test_serve_with_demo_secrets_on_every_address_refuses_and_says_how_to_allow(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A directory for the database: were the refusal missing, serve would stop there (never
    # listen), and the message below would be wrong.
    db = str(tmp_path)
    code = main(["serve", "--config", DEMO, "--host", "0.0.0.0", "--port", "0", "--db", db])
    err = capsys.readouterr().err
    assert code == 2
    assert "refusing to listen on 0.0.0.0" in err
    assert "github, billing, acme" in err
    assert "--allow-insecure" in err


def test_serve_without_a_config_says_what_to_mount_in_a_container(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = str(tmp_path / "relay.yaml")
    monkeypatch.setenv("RELAY_CONTAINER", "1")
    assert main(["serve", "--config", missing, "--db", str(tmp_path / "relay.db")]) == 2
    err = capsys.readouterr().err
    assert f"no routing config at {missing}" in err
    assert f"-v ./relay.yaml:{missing}:ro" in err
