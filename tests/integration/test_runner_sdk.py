"""The official notte-sdk (1.10.0) against ``relay local-runner`` on a real socket: every example
of the docs' "Function Invocations" page that needs no cloud, in the SDK 1.10.0 spelling (the
page's ``client.functions.run/get_run/stop_run`` are ``run_start/run_get_metadata/run_stop``
there, and ``create_run`` takes no ``local``), plus the raw JSON of each endpoint validated
against both the SDK's generated (OpenAPI) models and notte_core's models."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import AliasChoices, BaseModel

from tests.integration.procs import Proc, start_runner, wait_until

os.environ.setdefault("DISABLE_TELEMETRY", "true")  # read by notte_core when imported

import notte_core.types as core
import notte_sdk.endpoints.base as sdk_base
from notte_sdk import NotteClient
from notte_sdk._generated import models as generated
from notte_sdk.endpoints.functions import FailedToRunCloudFunctionError
from notte_sdk.errors import NotteAPIError

KEY = "sdk-test-key"
FUNCTIONS = {
    "echo": "def run(**variables):\n    return variables\n",
    "webhook": (
        "def run(event_type: str, data: dict):\n"
        "    return {'status': 'processed', 'event': event_type}\n"
    ),
    "boom": "def run(**variables):\n    raise ValueError('boom')\n",
    "gated": (
        "import asyncio, os\n\n"
        "async def run(gate: str):\n"
        "    while not os.path.exists(gate):\n"
        "        await asyncio.sleep(0.01)\n"
        "    return 'opened'\n"
    ),
}


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proc]:
    tmp = tmp_path_factory.mktemp("sdk")
    functions = tmp / "functions"
    functions.mkdir()
    for name, source in FUNCTIONS.items():
        (functions / f"{name}.py").write_text(source)
    args = ["--functions", str(functions), "--api-key", KEY, "--sync-wait", "1"]
    with start_runner(tmp, *args, echo_unknown=False) as proc:
        yield proc


@pytest.fixture
def client(runner: Proc, monkeypatch: pytest.MonkeyPatch) -> NotteClient:
    # The SDK asks PyPI for its latest version once per process: not from a test.
    monkeypatch.setattr(sdk_base, "_version_check_performed", True)
    return NotteClient(api_key=KEY, server_url=runner.url)


def raw(runner: Proc, method: str, path: str, **kwargs: Any) -> Any:
    response = httpx.request(
        method, f"{runner.url}{path}", headers={"x-notte-api-key": KEY}, timeout=30, **kwargs
    )
    assert response.status_code == 200, response.text
    return response.json()


def conforms(data: dict[str, Any], *models: type[BaseModel]) -> None:
    """``data`` parses with every model and has no field the first (the API's schema) lacks."""
    for model in models:
        model.model_validate(data)
    known = set(models[0].model_fields)
    for info in models[0].model_fields.values():  # and the names notte_core accepts for them
        if isinstance(info.validation_alias, AliasChoices):
            known |= {c for c in info.validation_alias.choices if isinstance(c, str)}
    assert set(data) <= known, set(data) - known


def gate_path(tmp_path: Path) -> str:
    return str(tmp_path / "gate")


# --- Via Python SDK ------------------------------------------------------------------------------


@pytest.mark.parametrize("stream", [True, False])
def test_invoke_function_runs_it_with_its_variables(client: NotteClient, stream: bool) -> None:
    function = client.Function(function_id="echo")
    result = function.run(url="https://example.com", search_query="laptop", stream=stream)
    assert result.result == {"url": "https://example.com", "search_query": "laptop"}
    assert result.status == "closed"
    assert result.session_id is not None
    assert (result.function_id, result.function_run_id.startswith("run_")) == ("echo", True)


def test_run_parameters_pass_sdk_options_and_inputs(client: NotteClient) -> None:
    function = client.Function(function_id="echo")
    with pytest.warns(DeprecationWarning, match="local"):  # 1.10.0 drops `local`
        result = function.run(
            url="https://example.com",
            query="search term",
            stream=True,
            timeout=300,
            raise_on_failure=True,
            local=False,
        )
    assert result.result == {"url": "https://example.com", "query": "search term"}


def test_a_failing_function_raises_unless_raise_on_failure_is_off(client: NotteClient) -> None:
    function = client.Function(function_id="boom")
    with pytest.raises(FailedToRunCloudFunctionError) as raised:
        function.run(url="https://example.com")
    assert raised.value.response.status == "failed"
    assert raised.value.response.result == "ValueError: boom"
    for stream in (True, False):
        result = function.run(url="https://example.com", raise_on_failure=False, stream=stream)
        assert (result.status, result.result) == ("failed", "ValueError: boom")


def test_an_unknown_function_is_an_api_error_not_a_run(client: NotteClient) -> None:
    with pytest.raises(NotteAPIError, match="404"):
        client.Function(function_id="func_abc123").run(url="https://example.com")


def test_batch_and_sequential_invocations(client: NotteClient) -> None:
    function = client.Function(function_id="echo")
    urls = ["https://site1.com", "https://site2.com", "https://site3.com"]
    with ThreadPoolExecutor(max_workers=3) as executor:
        results = list(executor.map(lambda url: function.run(url=url), urls))
    sequential = [function.run(url=url, stream=False).result for url in urls]
    assert [r.result for r in results] == [{"url": url} for url in urls]
    assert sequential == [{"url": url} for url in urls]
    assert len({r.function_run_id for r in results}) == 3


def test_get_curl_points_at_the_runner(client: NotteClient, runner: Proc) -> None:
    curl = client.Function(function_id="echo").get_curl(url="https://example.com")
    assert f"{runner.url}/functions/echo/runs/start" in curl


# --- Via HTTP API and cURL (the docs' bodies: function_id, Bearer only) --------------------------


def test_the_docs_http_request_with_a_bearer_token_and_function_id(runner: Proc) -> None:
    url = f"{runner.url}/functions/webhook/runs/start"
    body = {
        "function_id": "webhook",
        "variables": {"event_type": "order.created", "data": {"order_id": "123"}},
    }
    headers = {"Authorization": f"Bearer {KEY}"}
    plain = httpx.post(url, json={**body, "stream": False}, headers=headers, timeout=30)
    streamed = httpx.post(url, json=body, headers=headers, timeout=30)
    assert plain.status_code == 200
    conforms(plain.json(), core.FunctionRunResponse)
    assert plain.json()["result"] == {"status": "processed", "event": "order.created"}
    events = [json.loads(line[6:]) for line in streamed.text.splitlines() if line]
    assert events[0]["type"] == "session_start"
    assert events[-1]["type"] == "result"
    conforms(json.loads(events[-1]["message"]), core.FunctionRunResponse)


# --- Async invocation: create and start separately, status, stop, list ---------------------------


def test_create_then_start_the_run_by_id(client: NotteClient, runner: Proc) -> None:
    created = client.functions.create_run("echo")
    before = client.functions.run_get_metadata("echo", created.function_run_id)
    done = client.functions.run_start(
        created.function_run_id, function_id="echo", variables={"url": "https://example.com"}
    )
    status = client.Function("echo").get_run(created.function_run_id)
    assert (before.status, before.session_id, before.logs) == ("active", None, [])
    assert done.function_run_id == created.function_run_id
    assert (done.status, done.result) == ("closed", {"url": "https://example.com"})
    assert status.status == "closed"
    assert json.loads(status.result or "null") == {"url": "https://example.com"}
    assert [log.split("|", 3)[-1].strip() for log in status.logs] == [
        "Starting function echo",
        "Function echo finished with status closed",
    ]
    with pytest.raises(NotteAPIError, match="409"):  # a run starts once
        client.functions.run_start(created.function_run_id, function_id="echo", variables={})


def test_a_long_run_answers_active_and_is_followed_with_get_run(
    client: NotteClient, tmp_path: Path
) -> None:
    function = client.Function("gated")
    gate = gate_path(tmp_path)
    result = function.run(gate=gate, stream=False)
    assert (result.status, result.result) == ("active", None)
    Path(gate).touch()
    wait_until(lambda: function.get_run(result.function_run_id).status == "closed")
    assert function.get_run(result.function_run_id).result == "opened"


def test_stop_run_ends_a_long_streamed_run_failed(client: NotteClient, tmp_path: Path) -> None:
    function = client.Function("gated")
    outcome: list[core.FunctionRunResponse] = []
    running = threading.Thread(
        target=lambda: outcome.append(
            function.run(gate=gate_path(tmp_path), raise_on_failure=False)
        )
    )
    running.start()
    try:
        wait_until(lambda: len(client.functions.list_runs("gated").items) == 1, what="active run")
        [active] = client.functions.list_runs("gated").items
        wait_until(lambda: function.get_run(active.function_run_id).session_id is not None)
        stopped = function.stop_run(active.function_run_id)
    finally:
        running.join(timeout=60)
    status = function.get_run(active.function_run_id)
    assert stopped.status == "stopped"
    assert [o.status for o in outcome] == ["failed"]
    assert (status.status, status.result) == ("failed", "Function run stopped")
    assert client.functions.list_runs("gated").items == []  # only active runs by default
    with pytest.raises(NotteAPIError, match="409"):
        client.functions.run_stop("gated", active.function_run_id)


def test_list_runs_pages_through_every_run(client: NotteClient) -> None:
    function = client.Function("webhook")
    ids = [function.run(event_type="e", data={}).function_run_id for _ in range(3)]
    page = client.functions.list_runs("webhook", only_active=False, page_size=2)
    rest = client.functions.list_runs("webhook", only_active=False, page_size=2, page=2)
    listed = [item.function_run_id for item in [*page.items, *rest.items]]
    assert set(ids) <= set(listed)
    assert page.has_next
    assert rest.has_previous


# --- every endpoint's raw JSON against the SDK's models ------------------------------------------


def test_every_endpoint_answers_what_the_sdk_models_describe(runner: Proc, tmp_path: Path) -> None:
    function = raw(runner, "GET", "/functions/echo")
    conforms(function, generated.FunctionWithLinkResponse, core.GetFunctionWithLinkResponse)
    created = raw(runner, "POST", "/functions/echo/runs/create", json={})
    conforms(created, core.CreateFunctionRunResponse)
    run_id = created["function_run_id"]
    fresh = raw(runner, "GET", f"/functions/echo/runs/{run_id}?payload_mode=references")
    conforms(fresh, generated.GetFunctionRunResponse, core.GetFunctionRunResponse)
    started = raw(
        runner,
        "POST",
        f"/functions/echo/runs/{run_id}",
        json={
            "workflow_id": "echo",
            "workflow_run_id": run_id,
            "variables": {"n": 1},
            "stream": False,
        },
    )
    conforms(started, core.FunctionRunResponse)
    assert started["status"] == "closed"
    gate = gate_path(tmp_path)
    long = raw(
        runner,
        "POST",
        "/functions/gated/runs/start",
        json={"workflow_id": "gated", "variables": {"gate": gate}, "stream": False},
    )
    conforms(long, core.FunctionRunResponse)
    listed = raw(runner, "GET", "/functions/gated/runs/?only_active=True&page=1&page_size=10")
    conforms(listed, generated.PaginatedResponseFunctionRunListItemResponse)
    conforms(listed, core.ListFunctionRunsResponse)
    for item in listed["items"]:
        conforms(item, generated.FunctionRunListItemResponse, core.FunctionRunListItemResponse)
    stopped = raw(runner, "DELETE", f"/functions/gated/runs/{long['function_run_id']}")
    conforms(stopped, generated.UpdateFunctionRunResponse, core.UpdateFunctionRunResponse)
    ended = raw(runner, "GET", f"/functions/gated/runs/{long['function_run_id']}")
    conforms(ended, generated.GetFunctionRunResponse, core.GetFunctionRunResponse)
    assert (ended["status"], ended["stopped_at"] is not None) == ("failed", True)
    Path(gate).touch()


# --- cut_after_start on a real connection --------------------------------------------------------


def test_cut_after_start_closes_the_connection_but_the_run_goes_on(runner: Proc) -> None:
    raw(runner, "POST", "/_local/faults", json={"cut_after_start": 2})
    url = f"{runner.url}/functions/echo/runs/start"
    headers = {"x-notte-api-key": KEY}
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.post(
            url,
            json={"workflow_id": "echo", "variables": {"cut": "plain"}, "stream": False},
            headers=headers,
            timeout=30,
        )
    lines: list[str] = []
    with (
        pytest.raises(httpx.RemoteProtocolError),
        httpx.stream(
            "POST",
            url,
            json={"workflow_id": "echo", "variables": {"cut": "stream"}},
            headers=headers,
            timeout=30,
        ) as response,
    ):
        lines.extend(line for line in response.iter_lines() if line)
    after = httpx.post(
        url,
        json={"workflow_id": "echo", "variables": {}, "stream": False},
        headers=headers,
        timeout=30,
    )
    assert [json.loads(line[6:])["type"] for line in lines][:1] == ["session_start"]
    assert "result" not in "".join(lines)
    assert after.status_code == 200
    local = raw(runner, "GET", "/_local/runs")
    cut = [run for run in local if run["variables"] and "cut" in run["variables"]]
    assert [(run["started"], run["status"]) for run in cut] == [(True, "closed")] * 2
    assert raw(runner, "GET", "/_local/faults")["cut_after_start"] == 0
    assert "Exception in ASGI application" not in runner.log.read_text()
