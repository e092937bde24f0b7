"""``/api/openapi.json``: an OpenAPI 3.1 document of every endpoint, and a property-based run
over it (schemathesis, 20 examples per operation) against a real server on a loopback port:
no answer is a 5xx, every status and body is the one the document declares."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.routing import Route

from relay.admin.endpoints import ENDPOINTS, Operation, json_content
from relay.admin.openapi import openapi_document, paths
from relay.clock import SystemClock
from relay.delivery.outbound import FakeSender, Reply
from relay.http.app import create_app
from relay.settings import Settings
from relay.store import SqliteStore
from tests.harness import Upstream
from tests.helpers import free_port, github_headers, write_config
from tests.unit.admin.kit import TOKEN, admin_relay, bearer

DOCUMENT = openapi_document()
SCHEMA = schemathesis.openapi.from_dict(DOCUMENT)
OPERATIONS = {
    result.ok().label: result.ok()
    for result in SCHEMA.get_all_operations()
    if isinstance(result, Ok)
}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


async def test_the_document_is_served_and_describes_every_route(tmp_path: Path) -> None:
    async with admin_relay(tmp_path) as relay:
        response = await relay.client.get("/api/openapi.json", headers=bearer())
        routes = {
            (method, route.path)
            for route in relay.app.routes
            if isinstance(route, Route) and (route.path.startswith(("/api/", "/hooks/")))
            for method in route.methods or ()
            if method not in ("HEAD",)
        }
    document = response.json()
    assert document["openapi"] == "3.1.0"
    documented = {
        (method.upper(), path) for path, ops in document["paths"].items() for method in ops
    }
    missing = {(m, p) for m, p in routes if (m, p) not in documented and p != "/api/openapi.json"}
    assert missing <= {(m, "/hooks/{source}") for m in ("GET", "PUT", "PATCH", "DELETE")}
    for path in ("/metrics", "/healthz", "/readyz"):
        assert path in document["paths"]


# Routes that are not the API: the page (HTML) and the document itself; the receiver's other
# methods answer a handshake or 405 (documented as the POST's 400 and 405).
_UNDOCUMENTED = {
    ("GET", "/api/openapi.json"),
    *((method, "/hooks/{source}") for method in ("GET", "PUT", "PATCH", "DELETE")),
}


def _is_page(path: str) -> bool:
    return path in ("/", "/ui") or path.startswith("/ui/")


async def test_every_route_has_an_operation_and_every_operation_a_route(tmp_path: Path) -> None:
    async with admin_relay(tmp_path) as relay:
        served = (await relay.client.get("/api/openapi.json", headers=bearer())).json()
        routes = {
            (method, route.path)
            for route in relay.app.routes
            if isinstance(route, Route) and not _is_page(route.path)
            for method in route.methods or ()
            if method != "HEAD"
        }
    table = {(op.method, op.path) for op in ENDPOINTS}
    assert routes - _UNDOCUMENTED == table
    assert routes >= _UNDOCUMENTED  # the exceptions are real routes, not stale entries
    documented = {(m.upper(), path) for path, ops in served["paths"].items() for m in ops}
    assert documented == table
    assert served == DOCUMENT


def test_the_paths_are_generated_from_the_table_and_refuse_a_second_declaration() -> None:
    op = Operation("GET", "/api/x", "getX", "X", json_content({"type": "object"}, "x"), ("404",))
    generated = paths([op])
    assert set(generated) == {"/api/x"}
    responses = generated["/api/x"]["get"]["responses"]
    assert set(responses) == {"200", "401", "403", "404", "429"}
    with pytest.raises(ValueError, match="twice"):
        paths([op, op])


def test_every_operation_is_valid_for_schemathesis() -> None:
    assert len(OPERATIONS) == sum(len(ops) for ops in DOCUMENT["paths"].values())


def test_every_operation_documents_its_errors_and_refs_resolve() -> None:
    schemas = DOCUMENT["components"]["schemas"]
    text = str(DOCUMENT)
    for name in schemas:
        assert name.replace("_", "").isalnum(), name
    for ref in {part.split("'")[0] for part in text.split("#/components/schemas/")[1:]}:
        assert ref in schemas, ref
    for path, ops in DOCUMENT["paths"].items():
        for op in ops.values():
            codes = set(op["responses"])
            assert "200" in codes, path
            if path.startswith("/api/"):
                assert {"401", "403"} <= codes, path
    error = schemas["ErrorBody"]
    assert set(error["required"]) == {"error", "detail"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """relay on a loopback port (uvicorn in a thread), with an event and a dead letter."""
    tmp = tmp_path_factory.mktemp("openapi")
    settings_ = Settings(
        config_path=str(write_config(tmp / "relay.yaml")),
        database_url=":memory:",
        env={"RELAY_ADMIN_TOKEN": TOKEN},
        poll_interval=0.05,
        config_watch_interval=0,
    )
    upstream = Upstream(answers=[Reply(404, json={"detail": "no function"})])
    outgoing = FakeSender(upstream)
    app = create_app(
        settings_, store=SqliteStore(":memory:"), http_client=outgoing, clock=SystemClock()
    )
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, name="openapi-server", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        if uv.started:
            break
        threading.Event().wait(0.05)
    assert uv.started
    body = b'{"action": "opened", "issue": {"number": 1}, "repository": {"full_name": "o/r"}}'
    httpx.post(f"{url}/hooks/github", content=body, headers=github_headers(body))
    try:
        yield url
    finally:
        uv.should_exit = True
        thread.join(timeout=15)
        asyncio.run(outgoing.aclose())


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_no_operation_answers_500_or_off_the_document(server: str, label: str) -> None:
    operation = OPERATIONS[label]
    session_headers = bearer()

    @settings(
        max_examples=20,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def run(case: Any) -> None:
        response = case.call(base_url=server, headers=session_headers, timeout=10)
        case.validate_response(response, checks=CHECKS, headers=session_headers)

    run()
