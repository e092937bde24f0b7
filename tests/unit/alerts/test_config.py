"""The ``alerts:`` section as the config loader reads it: channels checked where they are
written, and their credentials kept among the values never shown."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from relay.routing.issues import ConfigErrors
from relay.routing.loader import load_file
from relay.routing.table import compile_document
from tests.helpers import write_config

SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef-key").decode()


def with_alerts(tmp_path: Path, section: str) -> Path:
    path = write_config(tmp_path / "relay.yaml")
    with path.open("a") as f:
        f.write(section)
    return path


def test_alert_channels_load_with_defaults_and_their_secrets_are_never_shown(
    tmp_path: Path,
) -> None:
    path = with_alerts(
        tmp_path,
        "alerts:\n"
        "  channels:\n"
        "    - {type: slack, url: 'https://hooks.slack.com/services/T0/B0/sekrit'}\n"
        f"    - {{type: webhook, url: 'https://ops.example.com/a', secret: '{SECRET}'}}\n"
        "    - {type: email, host: smtp.example.com, sender: r@example.com, to: [o@example.com],"
        " username: relay, password: smtp-pw-1}\n",
    )
    table = compile_document(load_file(path, {}))
    assert table.alerts is not None
    assert [c.type for c in table.alerts.channels] == ["slack", "webhook", "email"]
    assert table.alerts.dedupe_window == 600.0
    assert table.alerts.max_per_hour == 30
    assert len(table.alerts.on) == 4
    assert {
        "https://hooks.slack.com/services/T0/B0/sekrit",
        SECRET,
        "smtp-pw-1",
    } <= table.secret_values


@pytest.mark.parametrize(
    ("channel", "message"),
    [
        ("{type: webhook, url: 'https://x.example', secret: 'not base64!'}", "whsec_"),
        ("{type: slack, url: 'ftp://x.example'}", "http:// or https://"),
        ("{type: pager, url: 'https://x.example'}", "slack"),
    ],
)
def test_a_bad_alert_channel_is_a_config_error(tmp_path: Path, channel: str, message: str) -> None:
    path = with_alerts(tmp_path, f"alerts:\n  channels:\n    - {channel}\n")
    with pytest.raises(ConfigErrors, match=message):
        compile_document(load_file(path, {}))


def test_a_channel_mistake_is_told_at_its_key_without_the_channel_type_in_the_path(
    tmp_path: Path,
) -> None:
    """Not ``alerts.channels[0].slack.url`` at the channel's dash (pydantic's tagged-union
    path): the key at fault, with "did you mean" for a misspelt one."""
    path = with_alerts(
        tmp_path,
        "alerts:\n"
        "  channels:\n"
        "    - type: slack\n"
        "      url: ftp://x.example\n"
        "    - type: email\n"
        "      host: smtp.example.com\n"
        "      sender: r@example.com\n"
        "      too: [o@example.com]\n",
    )
    with pytest.raises(ConfigErrors) as caught:
        load_file(path, {})
    lines = path.read_text().splitlines()
    url_line = 1 + lines.index("      url: ftp://x.example")
    too_line = 1 + lines.index("      too: [o@example.com]")
    assert [(i.line, i.col, i.message) for i in caught.value.issues] == [
        (url_line, 12, "alerts.channels[0].url: must be an http:// or https:// URL"),
        (too_line, 7, "unknown key 'too' (did you mean 'to'?)"),
    ]
