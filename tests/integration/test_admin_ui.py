"""The web page in a real headless Chromium (Playwright, Debian's /usr/bin/chromium; never a
downloaded browser) against ``relay serve`` and ``relay local-runner`` processes: log in with
the token, see a just-sent webhook appear, open it, replay a dead letter, see the new attempt.

It saves screenshots of the main views: into docs/screenshots/ with
``RELAY_UPDATE_SCREENSHOTS=1`` (``make screenshots``), else into the test's directory."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.helpers import API_KEY, GITHUB_SECRET, free_port, github_headers, issue_opened
from tests.helpers import write_config as write_relay_config
from tests.integration.procs import Proc, spawn_relay, wait_ready, wait_until

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TOKEN = "ui-admin-token-93c1d7"
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
FUNCTIONS = ROOT / "config" / "functions"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="needs Debian's Chromium at /usr/bin/chromium (apt-get install -y chromium)",
)

ROUTES = """
  - name: new-issues
    source: github
    function_id: triage_issue
    match: {event_type: issues, body: {action: opened}}
    variables:
      repo: body.repository.full_name
      number: body.issue.number
      title: body.issue.title
    retry: {max_attempts: 1}
"""


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    if os.environ.get("RELAY_UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        return SCREENSHOTS
    return tmp_path


@pytest.fixture
def relay(tmp_path: Path) -> Iterator[tuple[Proc, int]]:
    """relay whose target (a local runner's port) is down until the test starts it."""
    runner_port = free_port()
    config = write_relay_config(
        tmp_path / "relay.yaml", base_url=f"http://127.0.0.1:{runner_port}", routes=ROUTES
    )
    proc = spawn_relay(
        config, tmp_path / "relay.db", tmp_path / "relay.log", env={"RELAY_ADMIN_TOKEN": TOKEN}
    )
    try:
        wait_ready(proc, within=30)
        yield proc, runner_port
    finally:
        proc.stop()


@contextmanager
def _runner(tmp_path: Path, port: int) -> Iterator[None]:
    """The target comes back: ``relay local-runner`` with the example functions."""
    log = (tmp_path / "runner.log").open("ab")
    args = ["local-runner", "--port", str(port), "--functions", str(FUNCTIONS)]
    process = subprocess.Popen(
        [sys.executable, "-m", "relay", *args],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        stats = f"http://127.0.0.1:{port}/_local/stats"
        wait_until(lambda: httpx.get(stats).status_code == 200, within=60, what="runner")
        yield
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()


def _send(url: str, number: int, delivery: str) -> str:
    body = issue_opened(number)
    response = httpx.post(
        f"{url}/hooks/github", content=body, headers=github_headers(body, delivery=delivery)
    )
    assert response.status_code == 200, response.text
    event_id: str = response.json()["id"]
    return event_id


def test_log_in_watch_an_event_arrive_and_replay_its_dead_letter(
    relay: tuple[Proc, int], tmp_path: Path, shots: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    proc, runner_port = relay
    url = proc.url
    pages: dict[str, str] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page(viewport={"width": 1360, "height": 860})
            page.set_default_timeout(20_000)

            # The page needs the token: it sends us to log in.
            page.goto(f"{url}/ui/")
            expect(page).to_have_url(f"{url}/ui/login?next=/ui/")
            page.fill("#token", "not-the-token")
            page.click("#login")
            expect(page.locator("#login-error")).to_be_visible()
            page.fill("#token", TOKEN)
            page.click("#login")
            expect(page).to_have_url(f"{url}/ui/")

            # A webhook sent now shows up without a reload (the list polls the API).
            _send(url, 41, "ui-1")
            body = issue_opened(43)
            forged = github_headers(body, delivery="ui-forged", secret="a-guessed-secret")
            assert (
                httpx.post(f"{url}/hooks/github", content=body, headers=forged).status_code == 401
            )
            event_id = _send(url, 42, "ui-2")
            row = page.locator(f'tr[data-id="{event_id}"]')
            expect(row).to_be_visible()
            expect(row).to_contain_text("new-issues")
            expect(row.locator(".badge", has_text="dead")).to_be_visible()
            expect(page.locator("#event-rows tr", has_text="signature_mismatch")).to_be_visible()
            pages["events"] = page.content()
            page.screenshot(path=str(shots / "events.png"), full_page=True)

            # Its delivery died: the target was down and the route allows one attempt.
            row.locator("a").click()
            expect(page).to_have_url(f"{url}/ui/events/{event_id}")
            delivery = page.locator("section.delivery")
            expect(delivery.locator("header .badge")).to_have_text("dead")
            expect(delivery.locator("li.attempt")).to_have_count(1)
            expect(page.locator("#payload")).to_contain_text('"number": 42')
            pages["event before replay"] = page.content()
            delivery_id = delivery.get_attribute("data-delivery")
            assert delivery_id is not None

            # Dead letters: the target comes back, replay this one from the list.
            page.click("text=Dead letters")
            expect(page).to_have_url(f"{url}/ui/dead-letters")
            dead_row = page.locator(f'#dead-letters tr[data-id="{delivery_id}"]')
            expect(dead_row).to_be_visible()
            expect(page.locator("#dead-letters tbody tr")).to_have_count(2)
            page.click('button[data-action="bulk-preview"]')
            expect(page.locator("#bulk-result")).to_have_text("2 would be re-queued")
            pages["dead letters"] = page.content()
            page.screenshot(path=str(shots / "dead-letters.png"), full_page=True)
            with _runner(tmp_path, runner_port):
                dead_row.locator('button[data-action="replay"]').click()
                expect(page.locator("#flash")).to_contain_text("re-queued")

                # The event's page shows the new attempt: it succeeded, with the run's logs.
                page.goto(f"{url}/ui/events/{event_id}")
                delivery = page.locator("section.delivery")
                expect(delivery.locator("li.attempt")).to_have_count(2)
                expect(delivery.locator("header .badge")).to_have_text("succeeded")
                second = delivery.locator('li.attempt[data-attempt="2"]')
                expect(second).to_contain_text("HTTP 200")
                expect(second).to_contain_text("Starting function triage_issue")
                pages["event after replay"] = page.content()
                page.screenshot(path=str(shots / "event-detail.png"), full_page=True)

            # Targets: in use / limit, breaker, pause and resume, the config in force.
            page.click("text=Targets & config")
            target = page.locator('#targets tr[data-target="notte"]')
            expect(target).to_contain_text("/ 10")
            expect(target).to_contain_text("closed")
            target.locator('button[data-action="pause"]').click()
            expect(target.locator('button[data-action="resume"]')).to_be_visible()
            expect(target).to_contain_text("paused")
            expect(page.locator("#config")).to_contain_text(_config_sha(url))
            pages["targets"] = page.content()
            page.screenshot(path=str(shots / "targets.png"), full_page=True)
            target.locator('button[data-action="resume"]').click()
            expect(target.locator('button[data-action="pause"]')).to_be_visible()
        finally:
            browser.close()

    for name, html in pages.items():
        for secret in (TOKEN, GITHUB_SECRET, API_KEY):
            assert secret not in html, f"a secret on the {name} page"
    assert TOKEN not in proc.output()


def _config_sha(url: str) -> str:
    sha: str = httpx.get(f"{url}/api/config", headers={"Authorization": f"Bearer {TOKEN}"}).json()[
        "sha256"
    ]
    return sha
