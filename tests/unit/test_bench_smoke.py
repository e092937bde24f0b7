"""bench/ stays importable and its results keep their shape (no process is started here)."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

from bench import _common as c

BENCHMARKS = (
    "ingest",
    "dispatch",
    "concurrency",
    "latency",
    "backlog",
    "disk",
    "rejections",
    "run_all",
)


@pytest.mark.parametrize("name", BENCHMARKS)
def test_benchmarks_import_and_parse_quick(name: str) -> None:
    module = importlib.import_module(f"bench.{name}")
    args = module.parse(["--quick", "--relay-src", "worktree"])
    assert args.quick is True


def test_results_file_shape(tmp_path: Path) -> None:
    goal = c.Goal("ingest vs baseline", 0.4, 0.5)
    path = c.write_results(
        "smoke",
        params={"quick": True},
        rows=[{"row": "baseline", "rps": 100.0}],
        goals=[goal],
        notes=["a note"],
        results_dir=tmp_path,
    )
    doc = json.loads(path.read_text())
    assert path == tmp_path / "smoke.json"
    assert {"machine", "versions", "git", "params", "rows", "goals", "notes"} <= doc.keys()
    assert {"nproc", "memory_gib", "cpu_model"} <= doc["machine"].keys()
    assert {"python", "notte-relay", "uvicorn", "httpx"} <= doc["versions"].keys()
    assert doc["goals"][0]["met"] is False
    assert doc["goals"][0]["reached"] == 0.8
    assert c.Goal("p99", 10.0, 20.0, higher_is_better=False).met is True


def test_load_generator_requests_are_signed_and_unique() -> None:
    body = c.issue_payload()
    assert 1900 <= len(body) <= 2100
    make = c.github_request_factory(8080, body, "p")
    first, second = make(1), make(2)
    head, _, sent = first.partition(b"\r\n\r\n")
    assert sent == body
    assert f"content-length: {len(body)}".encode() in head.lower()
    assert c.signature(body).encode() in head
    assert b"X-GitHub-Delivery: p-1\r\n" in first
    assert b"X-GitHub-Delivery: p-2\r\n" in second


def test_wrk_output_is_read() -> None:
    output = """Running 5s test @ http://127.0.0.1:8080/hooks/github
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.61ms  437.04us  10.58ms   90.69%
  Latency Distribution
     50%    2.53ms
     75%    2.70ms
     90%    2.94ms
     99%    4.21ms
  96064 requests in 5.00s, 13.74MB read
  Non-2xx or 3xx responses: 12
Requests/sec:  19212.75
"""
    parsed = c.parse_wrk(output)
    assert parsed["requests"] == 96064
    assert parsed["non2xx"] == 12
    assert parsed["percentiles"][99] == pytest.approx(0.00421)
    assert parsed["max"] == pytest.approx(0.01058)


def test_profile_summary(tmp_path: Path) -> None:
    raw = tmp_path / "p.txt"
    raw.write_text(
        "thread (0x1);run (uvicorn/server.py:10);hook (/x/relay/http/receive.py:5) 3\n"
        "thread (0x2);_run (/x/relay/store/_sqlite_writer.py:90);_commit (/x/relay/store/"
        "_sqlite_writer.py:110) 1\n"
    )
    summary = c.summarize_profile(raw)
    assert summary["samples"] == 4
    assert summary["threads_pct"] == {"main": 75.0, "sqlite writer thread": 25.0}
    assert c.percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.0
