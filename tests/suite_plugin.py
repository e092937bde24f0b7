"""Suite-wide hooks (registered by tests/conftest.py): the secret scan and the figures.

A test fails when any configured test secret (or a signature-shaped value) shows up in its
captured output or in a structlog event it caused; the session fails when one shows up in a
``*.log`` file under the session's temporary directory (tests/secret_scan.py). ``figures``
lets a test print its counts (e.g. sent / acknowledged / delivered / lost) in the terminal
summary.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator, Mapping, MutableMapping
from pathlib import Path
from typing import Any

import pytest
import structlog

from tests.secret_scan import Leak, SecretScanner, known_secrets

__all__ = ["Figures"]

_SCANNER = pytest.StashKey[SecretScanner]()
_ALLOWED_DIRS = pytest.StashKey[dict[Path, list[str]]]()
_BASETEMP = pytest.StashKey[Path]()
_FIGURES = pytest.StashKey[list[tuple[str, dict[str, object]]]]()
_FILE_LEAKS = pytest.StashKey[list[Leak]]()
_REPORTED = pytest.StashKey[set[str]]()

Figures = Callable[[str, Mapping[str, object]], None]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "secret_expected(*values): the test sends these secret values on purpose (to prove "
        "they are redacted); the secret scan allows them in its own output",
    )
    config.stash[_SCANNER] = SecretScanner(known_secrets())
    config.stash[_ALLOWED_DIRS] = {}
    config.stash[_FIGURES] = []
    config.stash[_FILE_LEAKS] = []
    config.stash[_REPORTED] = set()


def _expected(item: pytest.Item) -> list[str]:
    return [str(v) for mark in item.iter_markers("secret_expected") for v in mark.args]


@pytest.fixture(scope="session", autouse=True)
def _session_basetemp(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> None:
    request.config.stash[_BASETEMP] = tmp_path_factory.getbasetemp()


@pytest.fixture(autouse=True)
def _scan_structlog_events(request: pytest.FixtureRequest) -> Iterator[None]:
    """Scan every structlog event the test causes, before it is rendered (or captured)."""
    scanner = request.config.stash[_SCANNER]
    item = request.node
    allowed = _expected(item)
    if allowed and "tmp_path" in request.fixturenames:
        tmp: Path = request.getfixturevalue("tmp_path")
        request.config.stash[_ALLOWED_DIRS][tmp] = allowed

    def scan(logger: Any, method: str, event: MutableMapping[str, Any]) -> Any:
        scanner.check_event(item.nodeid, event, allowed)
        return event

    previous = structlog.get_config()["processors"]
    structlog.configure(processors=[scan, *previous])
    try:
        yield
    finally:
        structlog.configure(processors=previous)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if report.when not in ("call", "teardown"):
        return
    scanner = item.config.stash[_SCANNER]
    captured = "\n".join(content for _, content in report.sections)
    scanner.check(item.nodeid, captured, _expected(item))
    leaks = sorted({leak.what for leak in scanner.leaks if leak.where == item.nodeid})
    reported = item.config.stash[_REPORTED]
    if leaks and report.passed and item.nodeid not in reported:
        reported.add(item.nodeid)
        report.outcome = "failed"
        report.longrepr = "secret scan: the test's output or logs hold " + ", ".join(leaks)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    basetemp = config.stash.get(_BASETEMP, None)
    if basetemp is None:
        return
    scanner = SecretScanner(config.stash[_SCANNER].secrets)
    allowed: dict[Path, list[str]] = config.stash[_ALLOWED_DIRS]
    scanner.check_files(basetemp, allowed)
    config.stash[_FILE_LEAKS] = scanner.leaks
    if scanner.leaks:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    figures = config.stash.get(_FIGURES, [])
    if figures:
        terminalreporter.section("reliability figures")
        for title, values in figures:
            shown = " / ".join(f"{k} {v}" for k, v in values.items())
            terminalreporter.write_line(f"{title}: {shown}")
    leaks = config.stash.get(_FILE_LEAKS, [])
    if leaks:
        terminalreporter.section("secret scan: secrets in log files", red=True)
        for leak in leaks:
            terminalreporter.write_line(f"{leak.where}: {leak.what}")


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Figures:
    """``figures(title, {"sent": 1500, ...})``: printed in the terminal summary."""
    recorded = request.config.stash[_FIGURES]

    def record(title: str, values: Mapping[str, object]) -> None:
        recorded.append((title, dict(values)))
        print(f"{title}: " + " / ".join(f"{k} {v}" for k, v in values.items()))

    return record
