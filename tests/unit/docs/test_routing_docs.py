"""Every example in docs/routing.md runs as documented.

The document's fenced blocks: one ```yaml base``` block (targets and sources), then examples:
a ```yaml``` block of ``routes:``, optionally a ```json``` payload, and ```console``` blocks
whose first line is ``$ relay ...`` and whose other lines are the exact output. Each console
command runs with the latest YAML (appended to the base) as ``relay.yaml`` and the latest
JSON block (wherever it is) as ``payload.json``.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest

from relay.cli import main

DOC = Path(__file__).resolve().parents[3] / "docs" / "routing.md"
_FENCE = re.compile(r"^```([^\n]*)\n(.*?)^```\s*$", re.MULTILINE | re.DOTALL)


@dataclass(frozen=True)
class Example:
    line: int
    yaml: str
    payload: str | None
    command: list[str]
    output: str


def _examples() -> list[Example]:
    text = DOC.read_text()
    base: str | None = None
    yaml_block: str | None = None
    payload: str | None = None
    examples: list[Example] = []
    for match in _FENCE.finditer(text):
        info, body = match.group(1).strip(), match.group(2)
        line = text.count("\n", 0, match.start()) + 1
        if info == "yaml base":
            base = body
        elif info == "yaml":
            yaml_block = body
        elif info == "json":
            payload = body
        elif info == "console" and body.startswith("$ relay "):
            assert base is not None, f"line {line}: no base YAML yet"
            assert yaml_block is not None, f"line {line}: no YAML yet"
            command, _, output = body.partition("\n")
            argv = shlex.split(command.removeprefix("$ relay "))
            examples.append(Example(line, base + yaml_block, payload, argv, output))
    return examples


EXAMPLES = _examples()


def test_the_document_has_examples() -> None:
    assert len(EXAMPLES) >= 12


def test_every_yaml_example_is_run() -> None:
    text = DOC.read_text()
    blocks = [m for m in _FENCE.finditer(text) if m.group(1).strip() == "yaml"]
    run = {example.yaml for example in EXAMPLES}
    for block in blocks:
        line = text.count("\n", 0, block.start()) + 1
        assert any(yaml.endswith(block.group(2)) for yaml in run), f"line {line} is not run"


@pytest.mark.parametrize("example", EXAMPLES, ids=[f"line{e.line}" for e in EXAMPLES])
def test_documented_output(
    example: Example,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("NOTTE_API_URL", "NOTTE_API_KEY", "GITHUB_WEBHOOK_SECRET", "OPS_TARGET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("BILLING_WEBHOOK_SECRET", raising=False)
    Path("relay.yaml").write_text(example.yaml)
    if example.payload is not None:
        Path("payload.json").write_text(example.payload)
    main(example.command)
    out, err = capsys.readouterr()
    assert (err + out).rstrip("\n") == example.output.rstrip("\n")
