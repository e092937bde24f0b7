"""``relay serve`` with OpenTelemetry on (the console exporter): an incoming trace continued
to the real local runner, and the spans flushed when relay stops."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.helpers import github_headers, issue_opened, write_config
from tests.integration.procs import spawn_relay, start_runner, wait_ready, wait_until

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
INCOMING = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


def _spans(log: str) -> list[dict[str, object]]:
    """The console exporter's spans (indented JSON objects) among relay's log lines."""
    decoder = json.JSONDecoder()
    found: list[dict[str, object]] = []
    at = log.find("{\n")
    while at != -1:
        value, end = decoder.raw_decode(log, at)
        if isinstance(value, dict) and "context" in value:
            found.append(value)
        at = log.find("{\n", end)
    return found


def test_relay_serve_continues_a_trace_to_the_runner_and_exports_its_spans(
    tmp_path: Path,
) -> None:
    with start_runner(tmp_path) as runner:
        config = write_config(tmp_path / "relay.yaml", base_url=runner.url)
        env = {"OTEL_TRACES_EXPORTER": "console", "OTEL_SERVICE_NAME": "relay-test"}
        relay = wait_ready(
            spawn_relay(config, tmp_path / "relay.db", tmp_path / "relay.log", env=env)
        )
        try:
            body = issue_opened(42)
            headers = {**github_headers(body), "traceparent": INCOMING}
            response = httpx.post(f"{relay.url}/hooks/github", content=body, headers=headers)
            assert response.status_code == 200
            wait_until(lambda: httpx.get(f"{runner.url}/_local/runs").json(), what="the run start")
            (run,) = httpx.get(f"{runner.url}/_local/runs").json()
        finally:
            relay.stop()  # the batch processor's spans go out at exit
        sent = run["headers"]["traceparent"]
        assert sent.split("-")[1] == TRACE_ID
        spans = {str(s["name"]): s for s in _spans(relay.output())}
        assert {"relay.receive", "relay.verify", "relay.route", "relay.store"} <= set(spans)
        attempt = spans["relay.attempt"]
        context = attempt["context"]
        assert isinstance(context, dict)
        assert context["trace_id"] == f"0x{TRACE_ID}"
        assert sent.split("-")[2] == str(context["span_id"]).removeprefix("0x")
