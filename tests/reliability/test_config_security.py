"""``relay check`` as a process on hostile or broken configs: YAML code-execution tags and
alias bombs are refused, and no secret value is ever printed, whether it comes from the
environment or is written in the file."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

SECRETS = {
    "API_KEY_ENV": "apikey-env-value-5151",
    "SW_SECRET": "whsec_env!!not-base64-5252",
    "GH_SECRET": "gh-env-secret-5353",
    "DC_KEY": "not-a-discord-key-5454",
}
LITERALS = ("literal-gh-secret-6161", "literal-api-key-6262", "literal-verify-token-6363")


def _check(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "relay", "check", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **SECRETS},
    )


def test_python_object_tags_are_refused_without_running_them(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    config = tmp_path / "relay.yaml"
    config.write_text(
        f'version: 1\ntargets: !!python/object/apply:os.system ["touch {marker}"]\nsources: {{}}\n'
    )
    done = _check(config)
    assert done.returncode == 1
    assert "python/object" in done.stderr
    assert not marker.exists()


@pytest.mark.parametrize(
    "tag",
    [
        "!!python/object/new:subprocess.Popen [[touch, {marker}]]",
        "!!python/name:os.system",
        "!!python/module:os",
        "!<tag:yaml.org,2002:python/object/apply:os.system> [touch {marker}]",
    ],
    ids=["object-new", "name", "module", "verbatim-apply"],
)
def test_every_python_tag_form_is_refused_without_running_it(tmp_path: Path, tag: str) -> None:
    marker = tmp_path / "pwned"
    config = tmp_path / "relay.yaml"
    config.write_text(f"version: 1\ntargets: {tag.format(marker=marker)}\nsources: {{}}\n")
    done = _check(config)
    assert done.returncode == 1
    assert "python/" in done.stderr
    assert "Traceback" not in done.stderr
    assert not marker.exists()


def test_a_document_nested_100k_deep_is_refused_without_a_traceback(tmp_path: Path) -> None:
    config = tmp_path / "relay.yaml"
    config.write_text("version: 1\ntargets: " + "[" * 100_000 + "]" * 100_000 + "\n")
    done = _check(config)
    assert done.returncode == 1
    assert "nested too deeply" in done.stderr
    assert "Traceback" not in done.stderr


def test_billion_laughs_aliases_are_refused_at_once(tmp_path: Path) -> None:
    lines = ["version: 1", 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for n in range(1, 10):
        prev, cur = chr(ord("a") + n - 1), chr(ord("a") + n)
        lines.append(f"{cur}: &{cur} [{', '.join(['*' + prev] * 9)}]")
    config = tmp_path / "relay.yaml"
    config.write_text("\n".join(lines) + "\n")
    started = time.monotonic()
    done = _check(config)
    assert done.returncode == 1
    assert "anchors and aliases are not allowed" in done.stderr
    assert time.monotonic() - started < 60  # refused, not expanded (a bound, not a speed goal)


CONFIGS = {
    "env-secrets-invalid": """\
version: 1
targets:
  notte:
    base_url: http://127.0.0.1:9
    api_key: ${API_KEY_ENV}
    max_concurrency: lots
sources:
  sw:
    provider: standard-webhooks
    secrets: ["${SW_SECRET}"]
  dc:
    provider: discord
    secrets: ["${DC_KEY}"]
""",
    "literal-secrets-wrong-shape": """\
version: 1
targets:
  notte:
    base_url: http://127.0.0.1:9
    api_key: [literal-api-key-6262]
sources:
  gh:
    provider: github
    secrets: "literal-gh-secret-6161"
  meta:
    provider: meta
    secrets: ["${GH_SECRET}"]
    verify_token: {token: literal-verify-token-6363}
""",
    "valid": """\
version: 1
targets:
  notte:
    base_url: http://127.0.0.1:9
    api_key: ${API_KEY_ENV}
sources:
  gh:
    provider: github
    secrets: ["${GH_SECRET}", "literal-gh-secret-6161"]
""",
}


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_relay_check_never_prints_a_secret(tmp_path: Path, name: str) -> None:
    config = tmp_path / "relay.yaml"
    config.write_text(CONFIGS[name])
    done = _check(config)
    assert done.returncode == (0 if name == "valid" else 1), done.stderr
    printed = done.stdout + done.stderr
    assert printed.strip()
    for value in (*SECRETS.values(), *LITERALS):
        assert value not in printed, (name, printed)
