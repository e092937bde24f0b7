"""The runner's wire format: request bodies, authentication, errors, SSE events and log lines.

Errors are answered as FastAPI answers them (``{"detail": ...}``); a body is read and
JSON-decoded first (422 ``json_invalid``), validated later (422 with pydantic's errors, each
``loc`` under ``"body"``), as FastAPI does for the real endpoint.
"""

from __future__ import annotations

import email.message
import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

__all__ = [
    "MASKED_HEADERS",
    "RunFunctionRequest",
    "StartRunRequest",
    "check_api_key",
    "detail",
    "iso",
    "log_line",
    "masked_headers",
    "read_body",
    "sse",
    "validate",
]

MASKED_HEADERS = frozenset({"x-notte-api-key", "authorization"})
_STRICT = ConfigDict(extra="forbid", strict=True, populate_by_name=False)
M = TypeVar("M", bound=BaseModel)


class RunFunctionRequest(BaseModel):
    """The body of ``POST /functions/{function_id}/runs/start`` (the SDK's generated model,
    plus ``function_id`` as an alias of ``workflow_id``, as ``notte_core``'s model accepts)."""

    model_config = _STRICT

    workflow_id: str = Field(validation_alias=AliasChoices("workflow_id", "function_id"))
    variables: dict[str, Any] | None = None
    runtime: Literal["standard", "extended"] | None = None
    stream: bool = True
    callback_url: str | None = None


class StartRunRequest(RunFunctionRequest):
    """The body of ``POST /functions/{function_id}/runs/{run_id}``: the SDK's ``run_start``
    also sends ``workflow_run_id`` (``StartFunctionRunRequest``), which must name the path's run."""

    workflow_run_id: str | None = Field(
        default=None, validation_alias=AliasChoices("workflow_run_id", "function_run_id")
    )


def detail(status_code: int, what: Any, headers: Mapping[str, str] | None = None) -> Response:
    return JSONResponse({"detail": what}, status_code=status_code, headers=headers)


def _is_json_content_type(value: str | None) -> bool:
    if not value:
        return True
    message = email.message.Message()
    message["content-type"] = value
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


async def read_body(request: Request) -> Any:
    """The body as FastAPI hands it to validation, or an error response.

    Empty body -> ``None``; JSON content type (or none) -> decoded JSON; otherwise raw bytes.
    """
    raw = await request.body()
    if not raw:
        return None
    if not _is_json_content_type(request.headers.get("content-type")):
        return raw
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        error = {
            "type": "json_invalid",
            "loc": ["body", exc.pos],
            "msg": "JSON decode error",
            "input": {},
            "ctx": {"error": exc.msg},
        }
        return detail(422, [error])
    except UnicodeDecodeError:
        return detail(400, "There was an error parsing the body")


def validate(model: type[M], body: Any) -> M | Response:
    if body is None:
        missing = {"type": "missing", "loc": ["body"], "msg": "Field required", "input": None}
        return detail(422, [missing])
    try:
        return model.model_validate(body, from_attributes=True)
    except ValidationError as exc:
        errors = json.loads(exc.json(include_url=False))
        for error in errors:
            error["loc"] = ["body", *error["loc"]]
        return detail(422, errors)


def _credentials(request: Request) -> list[str]:
    given: list[str] = []
    header = request.headers.get("x-notte-api-key")
    if header:
        given.append(header)
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        given.append(token.strip())
    return given


def check_api_key(request: Request, expected: str | None) -> Response | None:
    """``x-notte-api-key: KEY`` or ``Authorization: Bearer KEY``: either one will do.

    Neither -> 401 ``Not authenticated``; with ``expected`` set, none matching -> 401
    ``Invalid API key``; without it, any key is accepted.
    """
    given = _credentials(request)
    if not given:
        return detail(401, "Not authenticated", {"WWW-Authenticate": "Bearer"})
    if expected is None:
        return None
    if any(hmac.compare_digest(key.encode(), expected.encode()) for key in given):
        return None
    return detail(401, "Invalid API key")


def masked_headers(request: Request) -> dict[str, str]:
    return {
        name: "***" if name in MASKED_HEADERS else value for name, value in request.headers.items()
    }


def sse(event: Mapping[str, str]) -> bytes:
    return f"data: {json.dumps(event)}\n\n".encode()


def iso(timestamp: float | None) -> str | None:
    """Unix seconds as ISO 8601 (UTC), as the API's datetimes are serialised."""
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, UTC).isoformat()


_GREEN, _BOLD, _CYAN, _RED, _RESET = "\x1b[32m", "\x1b[1m", "\x1b[36m", "\x1b[31m", "\x1b[0m"


def log_line(timestamp: float, text: str, *, level: str = "INFO") -> str:
    """A log line as the real API streams it: loguru's colours and ``time | level | module |``
    before the text (the SDK converts the colours and keeps what follows the third ``|``)."""
    when = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    colour = _RED if level == "ERROR" else _BOLD
    return (
        f"{_GREEN}{when}{_RESET} | {colour}{level:<8}{_RESET} | "
        f"{_CYAN}relay.runner{_RESET} | {text}"
    )
