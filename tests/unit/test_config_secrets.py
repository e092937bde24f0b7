"""Which config values are secrets: one answer (relay.config_secrets) for the validated
config the server redacts with and for the file as written, which the CLI reads."""

from __future__ import annotations

import asyncio
from pathlib import Path

from relay.cli.redaction import cli_redactor
from relay.config_secrets import secret_values
from relay.routing.document import compose, read_file
from relay.routing.loader import load_file
from relay.store import SqliteStore

WHSEC = "whsec_c2VjcmV0LXN0cmlwZS0xNi1ieXRlcw=="
CONFIG = f"""\
version: 1
targets:
  notte: {{base_url: "http://127.0.0.1:9", api_key: "${{NOTTE_KEY}}"}}
  spare: {{base_url: "http://127.0.0.1:9", api_key: spare-key-2}}
sources:
  github: {{provider: github, secrets: [gh-secret-new, gh-secret-old]}}
  stripe: {{provider: stripe, secrets: ["{WHSEC}"]}}
routes:
  - {{name: r, source: github, target: notte, function_id: f}}
alerts:
  channels:
    - {{type: slack, url: "https://hooks.slack.com/services/T0/B0/sekrit"}}
    - {{type: webhook, url: "https://ops.example.com/a", secret: "{WHSEC}"}}
    - {{type: email, host: smtp.example.com, sender: r@example.com, to: [o@example.com],
       username: relay, password: smtp-pw-1}}
"""
ENV = {"NOTTE_KEY": "notte-key-from-env"}
EXPECTED = {
    "notte-key-from-env",
    "spare-key-2",
    "gh-secret-new",
    "gh-secret-old",
    WHSEC,
    WHSEC.removeprefix("whsec_"),
    "https://hooks.slack.com/services/T0/B0/sekrit",
    "smtp-pw-1",
}


def test_the_file_as_written_and_the_validated_config_have_the_same_secrets(
    tmp_path: Path,
) -> None:
    path = tmp_path / "relay.yaml"
    path.write_text(CONFIG)
    validated = load_file(path, ENV).config.secret_values()
    text, _ = read_file(path)
    as_written, _ = compose(text, str(path), ENV)
    assert set(validated) == EXPECTED
    assert set(secret_values(as_written)) == EXPECTED


def test_secret_looking_source_options_are_secrets_and_wrong_types_are_skipped() -> None:
    data = {
        "targets": {"t": {"api_key": 7}, "u": "not a mapping"},
        "sources": {
            "s": {"provider": "x", "secrets": "one-string", "client_secret": "cs-1", "n": "x"},
            "z": {"provider": "x", "secrets": [None, "ok-1"]},
        },
        "alerts": {"channels": [{"type": "email"}, "junk"]},
    }
    assert secret_values(data) == ["cs-1", "ok-1"]


def test_the_cli_masks_the_secrets_of_a_config_that_does_not_validate(tmp_path: Path) -> None:
    """``relay deliveries`` beside a config with a mistake still cuts its secrets out of what
    it prints (before, such a config's secrets were not masked at all)."""
    path = tmp_path / "relay.yaml"
    path.write_text(CONFIG.replace("function_id: f", "function_id: f, unknown_key: 1"))
    store = SqliteStore(str(tmp_path / "relay.db"))

    async def redacted() -> str:
        await store.open()
        try:
            r = await cli_redactor(store, str(path))
        finally:
            await store.close()
        return r.text("sent spare-key-2 then smtp-pw-1 and c2VjcmV0LXN0cmlwZS0xNi1ieXRlcw==")

    shown = asyncio.run(redacted())
    assert "spare-key-2" not in shown
    assert "smtp-pw-1" not in shown
    assert "c2VjcmV0LXN0cmlwZS0xNi1ieXRlcw==" not in shown
