"""``relay urls`` and ``relay send`` as the command line runs them (the network is faked)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from relay.cli import main, provider_cmds
from relay.devtools.sending import Outgoing
from relay.providers import PROVIDERS, names
from tests.provider_setups import API_KEY, keys, setups, write_config

BASE = "https://relay.example.com"
#: Each provider's setup hint (``relay urls``), from its spec.
HINTS = {name: spec.hint for name, spec in PROVIDERS.items()}


def write_all_sources(tmp_path: Path) -> tuple[Path, list[str]]:
    """A config with one source per provider; returns it and every secret in it."""
    table = setups(lambda name: f"{BASE}/hooks/{name}")
    path = write_config(tmp_path / "relay.yaml", table)
    secrets = [s for setup in table.values() for s in (*setup.source_secrets, setup.secret) if s]
    k = keys()
    return path, [*secrets, k.ed25519_seed, k.p256_private, k.rsa_private, API_KEY]


def test_every_provider_has_a_one_line_hint() -> None:
    assert set(HINTS) == set(names())
    for text in HINTS.values():
        assert text.strip()
        assert "\n" not in text


def test_urls_lists_every_source_with_its_hint_and_no_secret(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, secrets = write_all_sources(tmp_path)
    assert main(["urls", "--config", str(config), "--base-url", BASE + "/"]) == 0
    out, err = capsys.readouterr()
    flat = " ".join(out.split())
    for name in names():
        assert f"{name} ({name})\n    {BASE}/hooks/{name}\n" in out
        assert " ".join(HINTS[name].split()) in flat
    for secret in secrets:
        for line in secret.strip().splitlines():
            if len(line) > 8:
                assert line not in out
                assert line not in err
    assert "source 'none' uses provider 'none'" in err
    assert "public_url" not in err  # every public_url matches its URL


def test_urls_warns_when_public_url_differs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, _ = write_all_sources(tmp_path)
    assert main(["urls", "--config", str(config), "--base-url", "https://other.example"]) == 0
    err = capsys.readouterr().err
    for name in ("twilio", "hubspot", "square"):
        assert f"source {name!r}: public_url differs" in err


def test_urls_reports_config_errors_and_bad_base_urls(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, _ = write_all_sources(tmp_path)
    assert main(["urls", "--config", str(config), "--base-url", "relay.example.com"]) == 2
    assert "--base-url must start with" in capsys.readouterr().err
    broken = tmp_path / "broken.yaml"
    broken.write_text("version: 1\nsources: {}\n")
    assert main(["urls", "--config", str(broken), "--base-url", BASE]) == 1
    assert "broken.yaml" in capsys.readouterr().err


class FakeNetwork:
    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.sent: list[Outgoing] = []

    def __call__(self, outgoing: Outgoing, **kwargs: Any) -> httpx.Response:
        self.sent.append(outgoing)
        return self.response


@pytest.fixture
def network(monkeypatch: pytest.MonkeyPatch) -> FakeNetwork:
    fake = FakeNetwork(httpx.Response(200, json={"id": "evt_1", "duplicate": False}))
    monkeypatch.setattr(provider_cmds, "send", fake)
    return fake


def test_send_prints_status_and_body_but_not_the_secret(
    network: FakeNetwork, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["send", "github", "--url", f"{BASE}/hooks/github", "--secret", "gh-s3cret"])
    out, err = capsys.readouterr()
    assert code == 0
    assert out == 'HTTP 200 OK\n{"id":"evt_1","duplicate":false}\n'
    assert "gh-s3cret" not in out + err
    (sent,) = network.sent
    assert sent.headers["x-github-event"] == "issues"
    assert sent.headers["x-hub-signature-256"].startswith("sha256=")


def test_send_redacts_a_secret_the_server_echoes(
    network: FakeNetwork, capsys: pytest.CaptureFixture[str]
) -> None:
    network.response = httpx.Response(400, text="bad clientState cs-s3cret-9")
    code = main(["send", "microsoft-graph", "--url", BASE, "--secret", "cs-s3cret-9"])
    out, _ = capsys.readouterr()
    assert code == 1
    assert out == "HTTP 400 Bad Request\nbad clientState [redacted]\n"


def test_send_options_headers_event_and_id_reach_the_request(
    network: FakeNetwork, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text("hmac-secret\n")
    args = ["send", "hmac", "--url", BASE, "--secret-file", str(secret_file)]
    args += ["--option", "header=X-Sig", "--option", "prefix=sha256="]
    args += ["--header", "X-Extra: yes", "--event", "order.paid", "--id", "evt_42"]
    assert main(args) == 0
    (sent,) = network.sent
    assert sent.headers["x-sig"].startswith("sha256=")
    assert sent.headers["x-extra"] == "yes"
    body = json.loads(sent.body)
    assert (body["type"], body["id"]) == ("order.paid", "evt_42")


def test_send_takes_the_secret_from_the_environment(
    network: FakeNetwork, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RELAY_SEND_SECRET", "tok-env")
    assert main(["send", "gitlab", "--url", BASE]) == 0
    assert network.sent[0].headers["x-gitlab-token"] == "tok-env"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["send", "github", "--url", BASE], "github needs --secret"),
        (["send", "dropbox", "--url", BASE, "--secret", "s", "--event", "x"], "no event type"),
        (["send", "hmac", "--url", BASE, "--secret", "s"], "needs option 'header'"),
        (["send", "github", "--url", BASE, "--secret", "s", "--option", "x"], "key=value"),
        (["send", "github", "--url", BASE, "--secret", "s", "--header", "X"], "NAME: value"),
        (
            ["send", "github", "--url", BASE, "--secret", "s", "--payload", "/nonexistent"],
            "No such",
        ),
        (["send", "paypal", "--url", BASE, "--secret", "k3y-m4terial"], "webhook_id"),
        (
            ["send", "sendgrid", "--url", BASE, "--secret", "k3y-m4terial"],
            "the secret is not an ECDSA P-256 private key",
        ),
    ],
)
def test_send_usage_errors_exit_2_without_sending_or_echoing_the_secret(
    network: FakeNetwork, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main(args) == 2
    out, err = capsys.readouterr()
    assert message in err
    assert "k3y-m4terial" not in out + err
    assert network.sent == []


def test_send_reports_connection_errors(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def refuse(outgoing: Outgoing, **kwargs: Any) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    monkeypatch.setattr(provider_cmds, "send", refuse)
    assert main(["send", "none", "--url", "http://127.0.0.1:9/hooks/x"]) == 1
    assert "ConnectError: connection refused" in capsys.readouterr().err


def test_send_refuses_an_unknown_provider(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["send", "nope", "--url", BASE])
    assert info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
