"""What the benchmarks share: processes on free ports, payloads, load generators, results.

Everything targets 127.0.0.1 and is bounded in time and in count. Processes started here are
tracked and stopped (SIGTERM, then SIGKILL) when the benchmark ends, whatever happens.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import contextlib
import hashlib
import hmac
import io
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
import textwrap
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, cast

import httpx

__all__ = [
    "API_KEY",
    "FUNCTION_ID",
    "PG_DEFAULT",
    "RESULTS_DIR",
    "ROOT",
    "SECRET",
    "Goal",
    "LoadResult",
    "Proc",
    "ProcessFailed",
    "RelayRefused",
    "Sampler",
    "base_parser",
    "blackhole",
    "db_kind",
    "delivery_counts",
    "fetch_runs",
    "free_port",
    "git_info",
    "github_headers",
    "issue_payload",
    "latency_summary",
    "machine_info",
    "new_workdir",
    "percentile",
    "print_table",
    "py_spy_attach",
    "request_bytes",
    "run_async",
    "run_load",
    "start_baseline",
    "start_relay",
    "start_runner",
    "stop_all",
    "summarize_profile",
    "versions",
    "write_relay_config",
    "write_results",
]

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = Path(__file__).resolve().parent / "results"
SECRET = "bench-github-secret-4c1e"  # noqa: S105 (a bench-only secret)
API_KEY = "bench-api-key-93d0"
FUNCTION_ID = "triage_issue"
PG_DEFAULT = "postgresql://127.0.0.1:5432/test"
HOST = "127.0.0.1"


# command line -------------------------------------------------------------------------------


def base_parser(name: str, description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"python -m bench.{name}", description=description)
    parser.add_argument("--quick", action="store_true", help="small, fast smoke-run sizes")
    parser.add_argument(
        "--results", type=Path, default=RESULTS_DIR, help="directory for <name>.json"
    )
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs, db)")
    parser.add_argument(
        "--quiet-wait",
        type=float,
        help="before each measurement, wait up to this many seconds for the machine to be "
        "quiet (< 0.3 busy cores); default 60, 10 with --quick",
    )
    parser.add_argument(
        "--relay-src",
        default=os.environ.get("RELAY_BENCH_SRC", "worktree"),
        help="relay to measure: 'worktree' (default) or 'git:REV' (e.g. git:HEAD)",
    )
    return parser


_RELAY_SOURCE: dict[str, Any] = {"spec": "worktree", "path": str(ROOT), "commit": None}


def use_relay_source(spec: str) -> dict[str, Any]:
    """Which relay the benchmarks start: ``worktree`` (the installed, editable one) or
    ``git:REV``, the ``relay`` package of a commit, extracted with ``git archive`` (read-only)
    and put first on the spawned processes' PYTHONPATH: a stable product to measure while
    the work tree changes.
    """
    if spec == _RELAY_SOURCE["spec"]:
        return dict(_RELAY_SOURCE)
    if spec == "worktree":
        _RELAY_SOURCE.update(spec=spec, path=str(ROOT), commit=None)
        os.environ.pop("PYTHONPATH", None)
        return dict(_RELAY_SOURCE)
    if not spec.startswith("git:"):
        raise SystemExit(f"--relay-src: expected 'worktree' or 'git:REV', got {spec!r}")
    rev = spec.removeprefix("git:")
    commit = subprocess.run(
        ["git", "rev-parse", "--verify", rev + "^{commit}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    target = Path(tempfile.gettempdir()) / f"relay-bench-src-{commit[:12]}"
    if not (target / "relay" / "__init__.py").exists():
        archive = subprocess.run(
            ["git", "archive", "--format=tar", commit, "relay"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(target, filter="data")
    os.environ["PYTHONPATH"] = str(target)
    _RELAY_SOURCE.update(spec=spec, path=str(target), commit=commit)
    return dict(_RELAY_SOURCE)


def quiet_wait_default(args: argparse.Namespace) -> None:
    if args.quiet_wait is None:
        args.quiet_wait = 10.0 if args.quick else 60.0


def new_workdir(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=f"relay-bench-{prefix}-"))


def remove_workdir(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


# machine, versions, git ---------------------------------------------------------------------


def _meminfo_kib(key: str) -> int | None:
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return None


def machine_info() -> dict[str, Any]:
    model = platform.processor() or ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem = _meminfo_kib("MemTotal")
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_count": os.cpu_count(),
        "cpu_model": model,
        "memory_gib": round(mem / 1024 / 1024, 1) if mem else None,
        "kernel": platform.release(),
        "loadavg_1_5_15_min": [round(v, 2) for v in os.getloadavg()],
    }


def versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {"python": platform.python_version()}
    for dist in (
        "notte-relay",
        "uvicorn",
        "starlette",
        "httpx",
        "httpcore",
        "aiohttp",
        "uvloop",
        "httptools",
    ):
        try:
            found[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            found[dist] = None
    found["sqlite"] = sqlite3.sqlite_version
    wrk = shutil.which("wrk")
    found["wrk"] = None
    if wrk:
        out = subprocess.run([wrk, "--version"], capture_output=True, text=True, check=False)
        first = (out.stdout or out.stderr).strip().splitlines()
        found["wrk"] = first[0] if first else "present"
    return found


def git_info() -> dict[str, Any]:
    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(
                ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True, timeout=10
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return out.stdout.strip()

    status = git("status", "--porcelain", "--untracked-files=no")
    return {
        "commit": git("rev-parse", "HEAD"),
        "dirty": bool(status) if status is not None else None,
    }


# results ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Goal:
    """One goal of the issue, stated as a comparison of a measured value with a target."""

    name: str
    value: float | None
    target: float
    higher_is_better: bool = True
    unit: str = ""

    @property
    def met(self) -> bool | None:
        if self.value is None:
            return None
        return self.value >= self.target if self.higher_is_better else self.value <= self.target

    @property
    def reached(self) -> float | None:
        """How far the goal is reached, 1.0 = exactly met (value/target or target/value)."""
        if self.value is None or self.value == 0 or self.target == 0:
            return None
        ratio = self.value / self.target if self.higher_is_better else self.target / self.value
        return round(ratio, 3)

    def to_json(self) -> dict[str, Any]:
        return {
            "goal": self.name,
            "value": self.value,
            "target": self.target,
            "unit": self.unit,
            "comparison": ">=" if self.higher_is_better else "<=",
            "met": self.met,
            "reached": self.reached,
        }


def write_results(
    name: str,
    *,
    params: Mapping[str, Any],
    rows: Sequence[Mapping[str, Any]],
    goals: Sequence[Goal] = (),
    notes: Sequence[str] = (),
    extra: Mapping[str, Any] | None = None,
    results_dir: Path = RESULTS_DIR,
) -> Path:
    """Write ``<results_dir>/<name>.json``; returns its path."""
    results_dir.mkdir(parents=True, exist_ok=True)
    doc: dict[str, Any] = {
        "benchmark": name,
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "command": " ".join([Path(sys.executable).name, "-m", f"bench.{name}", *sys.argv[1:]]),
        "machine": machine_info(),
        "versions": versions(),
        "git": git_info(),
        "relay_source": dict(_RELAY_SOURCE),
        "params": dict(params),
        "rows": [dict(r) for r in rows],
        "goals": [g.to_json() for g in goals],
        "notes": list(notes),
    }
    if extra:
        doc.update(extra)
    path = results_dir / f"{name}.json"
    path.write_text(json.dumps(doc, indent=2, default=str) + "\n")
    return path


def _cell(value: Any, fmt: str) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float) and fmt:
        return format(value, fmt)
    return str(value)


def print_table(
    title: str, columns: Sequence[tuple[str, str, str]], rows: Sequence[Mapping[str, Any]]
) -> str:
    """Print (and return) a plain table; ``columns`` are (key, header, format spec)."""
    cells = [[_cell(r.get(key), fmt) for key, _, fmt in columns] for r in rows]
    headers = [header for _, header, _ in columns]
    widths = [max([len(h), *(len(c[i]) for c in cells)]) for i, h in enumerate(headers)]
    lines = [title, "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    text = "\n".join(line.rstrip() for line in lines)
    print(text, flush=True)
    return text


def percentile(sorted_values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100) of an already sorted sequence."""
    if not sorted_values:
        return None
    rank = max(1, min(len(sorted_values), round(q / 100.0 * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


def latency_summary(seconds: Sequence[float]) -> dict[str, float | None]:
    values = sorted(seconds)

    def ms(v: float | None) -> float | None:
        return None if v is None else round(v * 1000.0, 3)

    return {
        "p50_ms": ms(percentile(values, 50)),
        "p90_ms": ms(percentile(values, 90)),
        "p99_ms": ms(percentile(values, 99)),
        "max_ms": ms(values[-1] if values else None),
        "count": len(values),
    }


# payloads -----------------------------------------------------------------------------------


def issue_payload(number: int = 7, size: int = 2048) -> bytes:
    """A GitHub ``issues``/``opened`` delivery of about ``size`` bytes."""
    user = {
        "login": "octocat",
        "id": 583231,
        "node_id": "MDQ6VXNlcjU4MzIzMQ==",
        "avatar_url": "https://avatars.githubusercontent.com/u/583231?v=4",
        "html_url": "https://github.com/octocat",
        "type": "User",
        "site_admin": False,
    }
    payload: dict[str, Any] = {
        "action": "opened",
        "issue": {
            "url": f"https://api.github.com/repos/octo/repo/issues/{number}",
            "html_url": f"https://github.com/octo/repo/issues/{number}",
            "id": 1_000_000 + number,
            "number": number,
            "title": "Crash on start when the config file is empty",
            "user": user,
            "labels": [{"id": 208045946, "name": "bug", "color": "f29513", "default": True}],
            "state": "open",
            "locked": False,
            "comments": 0,
            "created_at": "2024-05-01T12:00:00Z",
            "updated_at": "2024-05-01T12:00:00Z",
            "author_association": "CONTRIBUTOR",
            "body": "",
        },
        "repository": {
            "id": 1296269,
            "node_id": "MDEwOlJlcG9zaXRvcnkxMjk2MjY5",
            "name": "repo",
            "full_name": "octo/repo",
            "private": False,
            "owner": user,
            "html_url": "https://github.com/octo/repo",
            "default_branch": "main",
        },
        "sender": user,
    }
    text = "Steps to reproduce: start with an empty relay.yaml and watch it fail. "
    base = len(json.dumps(payload).encode())
    filler = (text * (size // len(text) + 1))[: max(0, size - base)]
    payload["issue"]["body"] = filler
    return json.dumps(payload).encode()


def signature(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def github_headers(body: bytes, delivery: str, event: str = "issues") -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": signature(body),
        "User-Agent": "GitHub-Hookshot/bench",
    }


def request_bytes(port: int, path: str, body: bytes, headers: Mapping[str, str]) -> bytes:
    lines = [f"POST {path} HTTP/1.1", f"Host: {HOST}:{port}", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def github_request_factory(port: int, body: bytes, prefix: str) -> Callable[[int], bytes]:
    """Request ``i`` has the delivery id ``{prefix}-{i}``: unique, so none is a duplicate.

    GitHub signs the body only, so one signature serves every request of the run.
    """
    head = request_bytes(
        port, "/hooks/github", b"", {**github_headers(body, "X"), "X-GitHub-Delivery": ""}
    )
    # Put the delivery header last so each request is two concatenations.
    head = head.replace(b"X-GitHub-Delivery: \r\n", b"").replace(
        b"Content-Length: 0", f"Content-Length: {len(body)}".encode()
    )
    start = head[:-2]  # without the blank line
    tail = b"\r\n" + body

    def make(i: int) -> bytes:
        return b"".join((start, b"X-GitHub-Delivery: ", f"{prefix}-{i}".encode(), b"\r\n", tail))

    return make


# relay config -------------------------------------------------------------------------------


def write_relay_config(
    path: Path,
    *,
    base_url: str,
    tag: str,
    max_concurrency: int = 50,
    timeout: float = 60.0,
    idempotent: bool = False,
    start: str | None = None,
) -> str:
    """A realistic config: GitHub source with a signature, three routes; one matches.
    ``start`` (``one_step`` or ``two_step``; None: relay's default, no key written, so that
    an older relay reads the file too) is how the matching route starts its runs.

    Returns the name of the route that ``issue_payload`` events match (one delivery each).
    """
    start_key = "" if start is None else f"\n            start: {start}"
    route = f"new-issues-{tag}"
    text = textwrap.dedent(
        f"""\
        version: 1
        targets:
          notte:
            base_url: {base_url}
            api_key: {API_KEY}
            max_concurrency: {max_concurrency}
            timeout: {timeout}
            connect_timeout: 5
        sources:
          github:
            provider: github
            secrets: ["{SECRET}"]
        routes:
          - name: {route}
            source: github
            function_id: {FUNCTION_ID}
            match: {{event_type: issues, body: {{action: opened}}}}
            variables:
              repo: body.repository.full_name
              number: body.issue.number
              title: body.issue.title
            idempotent: {"true" if idempotent else "false"}{start_key}
            retry: {{max_attempts: 5, initial: 1, max: 30}}
          - name: labeled-issues-{tag}
            source: github
            function_id: label_issue
            match: {{event_type: issues, body: {{action: labeled}}}}
          - name: releases-{tag}
            source: github
            function_id: publish_notes
            match: {{event_type: release, body: {{action: published}}}}
            variables:
              tag: body.release.tag_name
        """
    )
    path.write_text(text)
    return route


# processes ----------------------------------------------------------------------------------


class ProcessFailed(RuntimeError):
    """A process exited (or never became ready); the message ends with its log's tail."""


class RelayRefused(ProcessFailed):
    """``relay serve`` refused its arguments (e.g. a database URL it does not support)."""


_CLK_TCK = os.sysconf("SC_CLK_TCK")
_LIVE: set[Proc] = set()


def proc_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads), from /proc."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK


def proc_memory(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak RSS) in bytes."""
    found: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0]) * 1024
    return found


@dataclass(eq=False)
class Proc:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def cpu_seconds(self) -> float:
        return proc_cpu_seconds(self.pid)

    def rss_bytes(self) -> int:
        return proc_memory(self.pid).get("VmRSS", 0)

    def peak_rss_bytes(self) -> int:
        return proc_memory(self.pid).get("VmHWM", 0)

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def kill(self) -> None:
        """SIGKILL, like a crash: what was acknowledged is on disk, nothing else is cleaned."""
        if self.alive():
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        _LIVE.discard(self)

    def stop(self, timeout: float = 20.0) -> None:
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        _LIVE.discard(self)


def stop_all() -> None:
    for proc in list(_LIVE):
        with contextlib.suppress(Exception):
            proc.stop(timeout=5)
    drop_scratch()


atexit.register(stop_all)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _spawn(name: str, args: Sequence[str], log: Path, port: int, cwd: Path) -> Proc:
    """Start a process; relay's run outside the work tree so ``--relay-src`` decides."""
    handle = log.open("ab")
    try:
        process = subprocess.Popen(
            list(args), stdout=handle, stderr=subprocess.STDOUT, cwd=cwd, env=dict(os.environ)
        )
    finally:
        handle.close()
    proc = Proc(name, process, port, log)
    _LIVE.add(proc)
    return proc


def _wait_ready(proc: Proc, path: str, within: float) -> None:
    deadline = time.monotonic() + within
    with httpx.Client(timeout=1.0) as client:
        while time.monotonic() < deadline:
            if not proc.alive():
                proc.stop()
                code, tail = proc.process.returncode, proc.log_tail()
                last = tail.strip().splitlines()[-1] if tail.strip() else ""
                # `relay serve` refusing an argument (e.g. a --db URL): status 2, "relay: ..."
                error = RelayRefused if code == 2 and last.startswith("relay:") else ProcessFailed
                raise error(f"{proc.name} exited with {code}:\n{tail}")
            with contextlib.suppress(httpx.HTTPError):
                if client.get(proc.url + path).status_code == 200:
                    return
            time.sleep(0.05)
    proc.stop()
    raise ProcessFailed(f"{proc.name} not ready after {within}s:\n{proc.log_tail()}")


def start_relay(
    workdir: Path, config: Path, db: str, *, label: str = "relay", wait: bool = True
) -> Proc:
    """``relay serve`` on a free port; ``RelayRefused`` if it exits at once (e.g. its --db)."""
    port = free_port()
    log = workdir / f"{label}-{port}.log"
    args = [sys.executable, "-m", "relay", "serve", "--config", str(config), "--db", db]
    proc = _spawn(label, [*args, "--host", HOST, "--port", str(port)], log, port, workdir)
    if wait:
        _wait_ready(proc, "/readyz", 30.0)
    return proc


def start_runner(
    workdir: Path,
    *,
    port: int | None = None,
    latency: float = 0.0,
    run_duration: float = 0.0,
    max_concurrency: int | None = None,
) -> Proc:
    """``relay local-runner`` (echo functions: no --functions directory, --echo-unknown)."""
    port = port or free_port()
    args = [sys.executable, "-m", "relay", "local-runner", "--host", HOST, "--port", str(port)]
    args += ["--echo-unknown"]
    args += ["--latency", str(latency), "--run-duration", str(run_duration)]
    if max_concurrency is not None:
        args += ["--max-concurrency", str(max_concurrency)]
    proc = _spawn("local-runner", args, workdir / f"runner-{port}.log", port, workdir)
    _wait_ready(proc, "/_local/stats", 30.0)
    return proc


def start_baseline(workdir: Path, loop: str = "uvloop") -> Proc:
    """The bare Starlette endpoint on uvicorn: uvloop (or ``loop``) + httptools, one worker."""
    port = free_port()
    args = [sys.executable, "-m", "uvicorn", "bench._baseline_app:app", "--host", HOST]
    args += ["--port", str(port), "--loop", loop, "--http", "httptools", "--workers", "1"]
    args += ["--log-level", "warning", "--no-access-log"]
    proc = _spawn("baseline", args, workdir / f"baseline-{port}.log", port, ROOT)
    _wait_ready(proc, "/", 30.0)
    return proc


_PAUSE_SUPPORT: dict[str, bool] = {}


def _relay_cli(*args: str, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "relay", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=tempfile.gettempdir(),
        check=False,
    )


def can_pause() -> bool:
    """Does this relay have ``relay targets pause`` (an operator pause kept in the store)?"""
    key = str(_RELAY_SOURCE["path"])
    if key not in _PAUSE_SUPPORT:
        _PAUSE_SUPPORT[key] = _relay_cli("targets", "pause", "--help").returncode == 0
    return _PAUSE_SUPPORT[key]


def set_target_paused(db: str, paused: bool, target: str = "notte") -> None:
    """``relay targets pause|resume``: a running relay follows within its poll interval."""
    action = "pause" if paused else "resume"
    out = _relay_cli("targets", action, target, "--db", db, "--actor", "bench")
    if out.returncode != 0:
        text = (out.stderr or out.stdout).strip()
        last = text.splitlines()[-1] if text else ""
        error = RelayRefused if out.returncode == 2 and last.startswith("relay:") else ProcessFailed
        raise error(f"relay targets {action} exited with {out.returncode}:\n{text}")


@contextlib.contextmanager
def blackhole() -> Iterator[int]:
    """A paused target: a port that completes TCP handshakes but never answers a request."""
    sock = socket.socket()
    try:
        sock.bind((HOST, 0))
        sock.listen(1024)
        yield sock.getsockname()[1]
    finally:
        sock.close()


class Sampler:
    """Calls ``probe()`` every ``interval`` seconds in a thread, keeping (time, value) pairs."""

    def __init__(self, probe: Callable[[], Any], interval: float) -> None:
        self._probe = probe
        self._interval = interval
        self.samples: list[tuple[float, Any]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        next_at = time.monotonic()
        while not self._stop.is_set():
            with contextlib.suppress(Exception):
                self.samples.append((time.time(), self._probe()))
            next_at += self._interval
            self._stop.wait(max(0.0, next_at - time.monotonic()))


def system_busy_seconds() -> float:
    """CPU seconds spent busy by the whole machine since boot (all cores), from /proc/stat."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    values = [int(v) for v in fields]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / _CLK_TCK


def wait_quiet(max_wait: float, threshold: float = 0.3, span: float = 1.0) -> float:
    """Wait (at most ``max_wait`` s) until the whole machine is busy less than ``threshold``
    cores over ``span`` s: on a shared machine, measure in the quiet moments. Returns the
    busy cores seen last (to be reported: what the measurement started with).
    """
    deadline = time.monotonic() + max_wait
    while True:
        before = system_busy_seconds()
        time.sleep(span)
        busy = (system_busy_seconds() - before) / span
        if busy < threshold or time.monotonic() >= deadline:
            return round(busy, 3)


class CpuWindow:
    """CPU used over a window by some processes, by this one, and by everything else."""

    def __init__(self, *procs: Proc) -> None:
        self.procs = procs
        self.started = time.monotonic()
        self.system = system_busy_seconds()
        self.own = time.process_time()
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.children = children.ru_utime + children.ru_stime
        self.proc_cpu = [p.cpu_seconds() for p in procs]

    def finish(self) -> dict[str, float]:
        elapsed = time.monotonic() - self.started
        procs = [p.cpu_seconds() - c for p, c in zip(self.procs, self.proc_cpu, strict=True)]
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        harness = (time.process_time() - self.own) + (
            children.ru_utime + children.ru_stime - self.children
        )
        busy = system_busy_seconds() - self.system
        return {
            "elapsed_s": round(elapsed, 3),
            "server_cpu_s": round(procs[0], 3) if procs else 0.0,
            "server_cores": round(procs[0] / elapsed, 3) if procs and elapsed else 0.0,
            "harness_cpu_s": round(harness, 3),
            # what other processes on this shared machine used meanwhile (noise)
            "other_cores": round(max(0.0, busy - sum(procs) - harness) / elapsed, 3)
            if elapsed
            else 0.0,
        }


# the store, read from outside ----------------------------------------------------------------


def db_kind(db: str) -> str:
    return "postgresql" if db.startswith(("postgresql://", "postgres://")) else "sqlite"


def _sqlite_path(db: str) -> str | None:
    if db_kind(db) != "sqlite":
        return None
    if db.startswith("sqlite://"):
        path = db.removeprefix("sqlite://")
        return path[1:] if path.startswith("/") else path
    return db


_SCRATCH: list[tuple[str, str]] = []


def database_url(db: str, workdir: Path, label: str) -> str:
    """``sqlite`` -> a fresh file; a PostgreSQL URL -> the same database in a fresh schema
    (``?search_path=``, dropped by ``stop_all``), so runs never mix with other data."""
    if db == "sqlite":
        return str(workdir / f"{label}.db")
    if db_kind(db) != "postgresql":
        return db
    schema = f"bench_{label.replace('-', '_')}_{os.getpid()}_{int(time.time())}"[:63]

    async def create() -> None:
        import asyncpg

        conn = await asyncpg.connect(db)
        try:
            await conn.execute(f'CREATE SCHEMA "{schema}"')
        finally:
            await conn.close()

    try:
        run_async(create())
    except Exception as exc:  # relay will say what it thinks of the URL
        print(f"bench: cannot create a scratch schema in {db}: {exc}", file=sys.stderr)
        return db
    _SCRATCH.append((db, schema))
    return f"{db}{'&' if '?' in db else '?'}search_path={schema}"


def drop_scratch() -> None:
    async def drop(db: str, schema: str) -> None:
        import asyncpg

        conn = await asyncpg.connect(db)
        try:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        finally:
            await conn.close()

    while _SCRATCH:
        db, schema = _SCRATCH.pop()
        with contextlib.suppress(Exception):
            run_async(drop(db, schema))


def delivery_counts(db: str, route: str | None = None) -> dict[str, int]:
    """Deliveries per status: SQLite read-only (direct), other stores through the CLI."""
    path = _sqlite_path(db)
    if path is not None:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5.0)
        try:
            if route is None:
                rows = conn.execute("SELECT status, count(*) FROM deliveries GROUP BY status")
            else:
                rows = conn.execute(
                    "SELECT status, count(*) FROM deliveries WHERE route = ? GROUP BY status",
                    (route,),
                )
            return {str(s): int(n) for s, n in rows.fetchall()}
        finally:
            conn.close()
    args = [
        sys.executable,
        "-m",
        "relay",
        "deliveries",
        "--db",
        db,
        "--json",
        "--limit",
        "10000000",
    ]
    if route:
        args += ["--route", route]
    out = subprocess.run(
        args, capture_output=True, text=True, timeout=120, check=True, cwd=tempfile.gettempdir()
    )
    return dict(Counter(str(d["status"]) for d in json.loads(out.stdout)))


def last_update(db: str, status: str = "succeeded") -> float | None:
    """When the last delivery reached ``status`` (the store's updated_at), SQLite only."""
    path = _sqlite_path(db)
    if path is None:
        return None
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5.0)
    try:
        row = conn.execute(
            "SELECT max(updated_at) FROM deliveries WHERE status = ?", (status,)
        ).fetchone()
        return None if row is None or row[0] is None else float(row[0])
    finally:
        conn.close()


def fetch_runs(runner: Proc) -> list[dict[str, Any]]:
    with httpx.Client(timeout=60.0) as client:
        runs: list[dict[str, Any]] = client.get(runner.url + "/_local/runs").json()
        return runs


def clear_runs(runner: Proc) -> None:
    with httpx.Client(timeout=30.0) as client:
        client.delete(runner.url + "/_local/runs")


def runner_stats(runner: Proc, client: httpx.Client | None = None) -> dict[str, int]:
    if client is None:
        with httpx.Client(timeout=5.0) as own:
            stats: dict[str, int] = own.get(runner.url + "/_local/stats").json()
            return stats
    stats = client.get(runner.url + "/_local/stats").json()
    return stats


# load generation ----------------------------------------------------------------------------


@dataclass
class LoadResult:
    tool: str
    connections: int
    requests: int
    ok: int
    duration: float
    statuses: dict[str, int] = field(default_factory=dict)
    errors: int = 0
    latency: dict[str, float | None] = field(default_factory=dict)
    loadgen_cpu_s: float | None = None

    @property
    def rps(self) -> float:
        return self.ok / self.duration if self.duration > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "tool": self.tool,
            "connections": self.connections,
            "requests": self.requests,
            "ok": self.ok,
            "errors": self.errors,
            "statuses": self.statuses,
            "duration_s": round(self.duration, 3),
            "rps": round(self.rps, 1),
            **self.latency,
            "loadgen_cpu_s": self.loadgen_cpu_s,
        }


class _Generator:
    def __init__(
        self,
        make: Callable[[int], bytes],
        *,
        duration: float,
        max_requests: int,
        start_index: int,
    ) -> None:
        self.make = make
        self.deadline = time.perf_counter() + duration
        self.remaining = max_requests
        self.next_index = start_index
        self.latencies: list[float] = []
        self.statuses: Counter[int] = Counter()
        self.errors = 0
        self.open = 0
        self.done: asyncio.Future[None] | None = None

    def take(self) -> int | None:
        if self.remaining <= 0 or time.perf_counter() >= self.deadline:
            return None
        self.remaining -= 1
        index = self.next_index
        self.next_index += 1
        return index

    def closed(self) -> None:
        self.open -= 1
        if self.open == 0 and self.done is not None and not self.done.done():
            self.done.set_result(None)


class _Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection, one request in flight, answers by Content-Length."""

    def __init__(self, gen: _Generator) -> None:
        self.gen = gen
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.need: int | None = None
        self.status = 0
        self.started = 0.0
        self.busy = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self.send()

    def send(self) -> None:
        assert self.transport is not None
        index = self.gen.take()
        if index is None:
            self.busy = False
            self.transport.close()
            return
        self.busy = True
        self.started = time.perf_counter()
        self.transport.write(self.gen.make(index))

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            if self.need is None:
                end = self.buffer.find(b"\r\n\r\n")
                if end < 0:
                    return
                head = bytes(self.buffer[:end]).lower()
                self.status = int(head[9:12])
                at = head.find(b"content-length:")
                if at < 0:
                    raise ValueError("the load generator needs Content-Length answers")
                eol = head.find(b"\r\n", at)
                length = int(head[at + 15 : eol if eol >= 0 else len(head)])
                self.need = end + 4 + length
            if len(self.buffer) < self.need:
                return
            del self.buffer[: self.need]
            self.need = None
            self.gen.latencies.append(time.perf_counter() - self.started)
            self.gen.statuses[self.status] += 1
            self.send()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.busy:
            self.gen.errors += 1
        self.gen.closed()


async def _python_load(
    port: int,
    make: Callable[[int], bytes],
    *,
    connections: int,
    duration: float,
    max_requests: int,
    start_index: int,
) -> tuple[_Generator, float]:
    loop = asyncio.get_running_loop()
    gen = _Generator(make, duration=duration, max_requests=max_requests, start_index=start_index)
    gen.done = loop.create_future()
    started = time.perf_counter()
    gen.open = connections
    for _ in range(connections):
        try:
            await loop.create_connection(lambda: _Connection(gen), HOST, port)
        except OSError:
            gen.errors += 1
            gen.closed()
    await asyncio.wait_for(gen.done, timeout=duration + 60.0)
    return gen, time.perf_counter() - started


def run_python_load(
    port: int,
    make: Callable[[int], bytes],
    *,
    connections: int,
    duration: float,
    max_requests: int,
    start_index: int = 0,
) -> LoadResult:
    """Closed-loop load from this process (asyncio protocols on uvloop when installed)."""
    cpu = time.process_time()
    coro = _python_load(
        port,
        make,
        connections=connections,
        duration=duration,
        max_requests=max_requests,
        start_index=start_index,
    )
    gen, elapsed = run_async(coro)
    ok = sum(n for s, n in gen.statuses.items() if 200 <= s < 300)
    return LoadResult(
        tool="python",
        connections=connections,
        requests=sum(gen.statuses.values()),
        ok=ok,
        duration=elapsed,
        statuses={str(s): n for s, n in sorted(gen.statuses.items())},
        errors=gen.errors,
        latency=latency_summary(gen.latencies),
        loadgen_cpu_s=round(time.process_time() - cpu, 3),
    )


def run_async(coro: Any) -> Any:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coro)


_WRK_SCRIPT = """\
local threads = {}
function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end
function init(args)
  local f = assert(io.open(args[1], "rb"))
  body = f:read("*a")
  f:close()
  sig = args[2]
  prefix = args[3] .. "-t" .. tostring(tid or 0)
  limit = tonumber(args[4])
  target = args[5]
  marker = args[6]
  counter = 0
end
function request()
  counter = counter + 1
  return wrk.format("POST", target, {
    ["Content-Type"] = "application/json",
    ["X-GitHub-Event"] = "issues",
    ["X-Hub-Signature-256"] = sig,
    ["User-Agent"] = "GitHub-Hookshot/bench",
    ["X-GitHub-Delivery"] = prefix .. "-" .. counter,
  }, body)
end
function response(status, headers, body)
  if counter >= limit then
    local f = io.open(marker, "w")
    if f then f:close() end
    wrk.thread:stop()
  end
end
"""


def _wrk_seconds(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not match:
        raise ValueError(f"unexpected wrk duration {text!r}")
    scale = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[match.group(2)]
    return float(match.group(1)) * scale


def parse_wrk(output: str) -> dict[str, Any]:
    found: dict[str, Any] = {"percentiles": {}}
    for q, value in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)$", output, re.M):
        found["percentiles"][int(q)] = _wrk_seconds(value)
    match = re.search(r"(\d+) requests in ([\d.]+\w+),", output)
    if not match:
        raise ValueError(f"cannot read wrk output:\n{output}")
    found["requests"] = int(match.group(1))
    found["duration"] = _wrk_seconds(match.group(2))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    found["non2xx"] = int(non2xx.group(1)) if non2xx else 0
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    found["errors"] = sum(int(g) for g in errors.groups()) if errors else 0
    latency_max = re.search(r"Latency\s+\S+\s+\S+\s+(\S+)", output)
    found["max"] = _wrk_seconds(latency_max.group(1)) if latency_max else None
    return found


def run_wrk_load(
    port: int,
    body: bytes,
    prefix: str,
    workdir: Path,
    *,
    connections: int,
    duration: float,
    max_requests: int,
    path: str = "/hooks/github",
    threads: int = 1,
) -> LoadResult:
    """Closed-loop load with wrk (C, far cheaper per request than a Python client)."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise FileNotFoundError("wrk")
    script = workdir / "bench.lua"
    script.write_text(_WRK_SCRIPT)
    body_file = workdir / "body.json"
    body_file.write_bytes(body)
    per_thread = max(1, max_requests // threads)
    marker = workdir / f"wrk-done-{prefix}"
    marker.unlink(missing_ok=True)
    args = [wrk, f"-t{threads}", f"-c{connections}", f"-d{max(1, round(duration))}s"]
    args += ["--latency", "--timeout", "10s", "-s", str(script), f"http://{HOST}:{port}{path}"]
    args += ["--", str(body_file), signature(body), prefix, str(per_thread), path, str(marker)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        # a thread that reached its count stops, but wrk sleeps out -d: SIGINT ends it early
        # (wrk then prints its summary over the time actually spent)
        deadline = time.monotonic() + duration + 120
        while proc.poll() is None and time.monotonic() < deadline:
            if threads == 1 and marker.exists():
                proc.send_signal(signal.SIGINT)
                break
            time.sleep(0.1)
        stdout, stderr = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in (0, -signal.SIGINT):
        raise ProcessFailed(f"wrk exited with {proc.returncode}: {stderr.strip()}")
    parsed = parse_wrk(stdout)
    pct = parsed["percentiles"]

    def ms(v: float | None) -> float | None:
        return None if v is None else round(v * 1000.0, 3)

    requests = parsed["requests"]
    return LoadResult(
        tool="wrk",
        connections=connections,
        requests=requests,
        ok=requests - parsed["non2xx"],
        duration=parsed["duration"],
        statuses={"non_2xx": parsed["non2xx"]},
        errors=parsed["errors"],
        latency={
            "p50_ms": ms(pct.get(50)),
            "p90_ms": ms(pct.get(90)),
            "p99_ms": ms(pct.get(99)),
            "max_ms": ms(parsed["max"]),
            "count": requests,
        },
        loadgen_cpu_s=round(
            (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime), 3
        ),
    )


def run_load(
    tool: str,
    port: int,
    body: bytes,
    prefix: str,
    workdir: Path,
    *,
    connections: int,
    duration: float,
    max_requests: int,
    path: str = "/hooks/github",
) -> LoadResult:
    """Signed GitHub deliveries with unique ids; ``tool`` is ``wrk`` or ``python``."""
    if tool == "wrk":
        return run_wrk_load(
            port,
            body,
            prefix,
            workdir,
            connections=connections,
            duration=duration,
            max_requests=max_requests,
            path=path,
        )
    base = github_request_factory(port, body, prefix)
    line = f"POST {path} ".encode()

    def make(i: int) -> bytes:
        request = base(i)
        return request if path == "/hooks/github" else line + request[len(b"POST /hooks/github ") :]

    return run_python_load(
        port, make, connections=connections, duration=duration, max_requests=max_requests
    )


def pick_loadgen(requested: str) -> str:
    if requested == "auto":
        return "wrk" if shutil.which("wrk") else "python"
    if requested == "wrk" and not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install wrk), use --loadgen python")
    return requested


# profiles -----------------------------------------------------------------------------------


def py_spy_attach(pid: int, seconds: float, out: Path, rate: int = 100) -> subprocess.Popen[bytes]:
    """Sample ``pid`` with py-spy for ``seconds`` (raw collapsed stacks), not pausing it."""
    exe = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    out.parent.mkdir(parents=True, exist_ok=True)
    args = [exe, "record", "--pid", str(pid), "--duration", str(max(1, round(seconds)))]
    args += ["--rate", str(rate), "--format", "raw", "--output", str(out), "--nonblocking"]
    args += ["--threads", "--full-filenames"]
    deadline = time.monotonic() + 10.0
    while True:  # py-spy cannot attach before the interpreter is up: retry briefly
        log = out.with_suffix(".log").open("wb")
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        time.sleep(0.3)
        if proc.poll() is None or proc.returncode == 0 or time.monotonic() > deadline:
            return proc
        time.sleep(0.1)


_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")


def _short(frame: str) -> str:
    match = _FRAME.match(frame)
    if not match:
        return frame
    path = re.sub(r"^.*/relay-bench-src-[0-9a-f]+/", "", match.group("file"))
    for marker in ("site-packages/", "/work/main/", "lib/python3."):
        if marker in path:
            path = path.split(marker, 1)[1]
            if marker == "lib/python3.":
                path = "stdlib/" + path.split("/", 1)[-1]
            break
    return f"{match.group('func')} ({path})"


_AREAS: tuple[tuple[str, str], ...] = (
    ("relay/store/", "relay store (SQLite calls, row building)"),
    ("relay/web/body.py", "relay body read + strict JSON parse"),
    ("relay/body_format.py", "relay body read + strict JSON parse"),
    ("relay/providers/", "relay signature verification"),
    ("relay/routing/", "relay routing match + variables"),
    ("relay/delivery/sse.py", "relay SSE parsing"),
    ("relay/delivery/", "relay delivery worker / sender"),
    ("relay/http/", "relay receive handler"),
    ("structlog/", "structlog (log lines)"),
    ("httpx/", "httpx"),
    ("httpcore/", "httpcore"),
    ("anyio/", "anyio"),
    ("h11/", "h11"),
    ("starlette/", "starlette"),
    ("uvicorn/", "uvicorn"),
    ("stdlib/json/", "json"),
    ("stdlib/asyncio/", "asyncio"),
)


def _area(stack: list[str]) -> str:
    """The deepest frame's area that is not a generic helper (a rough attribution)."""
    for frame in reversed(stack):
        for marker, area in _AREAS:
            if marker in frame:
                return area
    return "other"


def summarize_profile(path: Path, top: int = 12) -> dict[str, Any]:
    """Aggregate py-spy raw output: per thread, leaf ("self") and inclusive top functions."""
    if not path.exists():
        return {"error": f"no profile at {path}"}
    threads: Counter[str] = Counter()
    self_time: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    areas: Counter[str] = Counter()
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack_text, _, count_text = line.rpartition(" ")
        if not stack_text or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack_text.split(";")
        thread = "main"
        if frames and frames[0].startswith(("thread (", "process ")):
            frames = [f for f in frames if not f.startswith(("thread (", "process "))]
        short = [_short(f) for f in frames]
        if any("_sqlite_writer.py" in f for f in short):
            thread = "sqlite writer thread"
        elif any("concurrent/futures/thread.py" in f for f in short):
            thread = "reader/executor threads"
        threads[thread] += count
        total += count
        if short:
            self_time[short[-1]] += count
            for frame in set(short):
                inclusive[frame] += count
            if thread == "main":
                areas[_area(short)] += count

    def pct(counter: Counter[str], n: int) -> list[list[Any]]:
        return [[k, round(100.0 * v / total, 1)] for k, v in counter.most_common(n)]

    # inclusive time without the frames every stack of a thread goes through (run_forever...)
    roots = {f for f, v in inclusive.items() if v >= 0.9 * max(threads.values(), default=1)}
    relay_frames = Counter(
        {
            f: v
            for f, v in inclusive.items()
            if f not in roots
            and "relay/" in f
            and not any(s in f for s in ("relay/cli/", "relay/__main__", "serve ("))
        }
    )
    main = threads.get("main", 0) or 1
    return {
        "samples": total,
        "threads_pct": {k: round(100.0 * v / total, 1) for k, v in threads.most_common()},
        "main_thread_areas_pct": {k: round(100.0 * v / main, 1) for k, v in areas.most_common()},
        "self_top_pct": pct(self_time, top),
        "inclusive_top_pct": pct(
            Counter({f: v for f, v in inclusive.items() if f not in roots}), top
        ),
        "relay_inclusive_pct": pct(relay_frames, top),
    }


def print_profile(row: str, profile: dict[str, Any]) -> None:
    if "error" in profile:
        print(f"profile of {row}: {profile['error']}")
        return
    print(f"profile of {row} ({profile['samples']} samples, {profile.get('file')}):")
    print(f"  threads: {profile['threads_pct']}")
    areas = ", ".join(f"{k} {v}%" for k, v in list(profile["main_thread_areas_pct"].items())[:8])
    print(f"  event loop thread by area: {areas}")
    print("  self (leaf) time:")
    for frame, pct in profile["self_top_pct"][:8]:
        print(f"    {pct:5.1f}%  {frame}")
    print("  relay's own functions, inclusive:")
    for frame, pct in profile.get("relay_inclusive_pct", [])[:8]:
        print(f"    {pct:5.1f}%  {frame}")


def finish(
    name: str,
    args: argparse.Namespace,
    *,
    rows: Sequence[Mapping[str, Any]],
    goals: Sequence[Goal],
    notes: Sequence[str],
    table: str,
) -> dict[str, Any]:
    """Write a benchmark's results file and return its summary for ``run_all``."""
    path = write_results(
        name,
        params=vars(args) | {"results": str(args.results)},
        rows=rows,
        goals=goals,
        notes=notes,
        results_dir=args.results,
        extra={"table": table},
    )
    print(f"wrote {path}")
    return {"name": name, "rows": rows, "goals": [g.to_json() for g in goals], "table": table}
