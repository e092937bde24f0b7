"""What ``relay serve`` refuses to expose (relay/exposure.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from relay.exposure import (
    Exposure,
    allowed,
    check_exposure,
    config_defaults,
    in_container,
    is_loopback_bind,
    missing_config_help,
)
from relay.routing.loader import load_file

ROOT = Path(__file__).resolve().parents[2]

_NONE_SOURCE = """
version: 1
targets:
  notte: {base_url: "https://api.notte.cc", api_key: "k-123456789"}
sources:
  internal: {provider: none, insecure: true}
  github: {provider: github, secrets: ["${GITHUB_WEBHOOK_SECRET}"]}
routes:
  - {name: all, source: internal, function_id: f}
"""


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.0.2.4", False),
        ("relay.example.com", False),
        ("", False),
    ],
)
def test_which_bind_addresses_are_loopback(host: str, loopback: bool) -> None:
    assert is_loopback_bind(host) is loopback


def _exposure(path: Path, env: dict[str, str], host: str = "0.0.0.0") -> Exposure:
    doc = load_file(str(path), env)
    insecure = [n for n, s in doc.config.sources.items() if s.provider == "none"]
    return check_exposure(doc.config, doc.text, host=host, insecure_sources=insecure)


def test_the_example_configs_demo_secrets_are_refused_on_a_public_address() -> None:
    exposure = _exposure(ROOT / "config" / "relay.yaml", {})
    assert exposure
    assert exposure.demo_secret_sources == ("github", "billing", "acme", "stripe", "slack")
    text = exposure.explain("0.0.0.0")
    assert "refusing to listen on 0.0.0.0" in text
    assert "--allow-insecure" in text
    assert "RELAY_ALLOW_INSECURE=1" in text
    assert "dev-secret" not in text  # the message names sources, never secret values


def test_a_demo_value_set_in_the_environment_is_still_a_demo_secret() -> None:
    env = {
        "GITHUB_WEBHOOK_SECRET": "dev-secret",
        "NOTTE_API_KEY": "k" * 20,
    }
    exposure = _exposure(ROOT / "deploy" / "relay.yaml", env)
    assert exposure.demo_secret_sources == ("github",)


def test_real_secrets_pass_and_loopback_is_never_refused() -> None:
    real = {"GITHUB_WEBHOOK_SECRET": "a1" * 16, "NOTTE_API_KEY": "k" * 20}
    assert not _exposure(ROOT / "deploy" / "relay.yaml", real)
    assert not _exposure(ROOT / "config" / "relay.yaml", {}, host="127.0.0.1")


def test_a_source_without_verification_is_refused_on_a_public_address(tmp_path: Path) -> None:
    path = tmp_path / "relay.yaml"
    path.write_text(_NONE_SOURCE)
    exposure = _exposure(path, {"GITHUB_WEBHOOK_SECRET": "a1" * 16})
    assert exposure.unauthenticated_sources == ("internal",)
    assert exposure.demo_secret_sources == ()
    assert "provider: none" in exposure.explain("::")


def test_config_defaults_are_what_the_file_writes_after_colon_dash() -> None:
    text = 'a: ${A:-dev-secret}\nb: "${B:?needed}"\nc: ${C}\nd: ${D:-}\n'
    assert config_defaults(text) == {"dev-secret"}


def test_the_allow_switch_is_a_flag_or_the_environment() -> None:
    assert allowed({}, flag=True)
    assert allowed({"RELAY_ALLOW_INSECURE": "1"}, flag=False)
    assert allowed({"RELAY_ALLOW_INSECURE": "true"}, flag=False)
    assert not allowed({"RELAY_ALLOW_INSECURE": "0"}, flag=False)
    assert not allowed({}, flag=False)


def test_a_container_is_told_by_the_images_environment() -> None:
    assert in_container({"RELAY_CONTAINER": "1"})
    assert not in_container({"RELAY_CONTAINER": "0"})
    assert not in_container({})


def test_without_a_config_the_container_is_told_what_to_mount() -> None:
    text = missing_config_help("/etc/relay/relay.yaml", container=True)
    assert "-v ./relay.yaml:/etc/relay/relay.yaml:ro" in text
    assert "/var/lib/relay" in text
    assert "docs/operations.md" in text
    assert "--config" in missing_config_help("relay.yaml", container=False)
