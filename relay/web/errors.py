"""Error answers of the admin surfaces: JSON ``{"error": code, "detail": text}``."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

__all__ = ["ApiError", "api_error", "http_exception_handler"]

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "too_many_requests",
}


class ApiError(Exception):
    """Raised by an API handler; answered as JSON by ``http_exception_handler``."""

    def __init__(
        self, status: int, code: str, detail: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = dict(headers or {})


def api_error(
    status: int, code: str, detail: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": code, "detail": detail}, status_code=status, headers=headers)


async def http_exception_handler(request: Request, exc: Exception) -> Response:
    """Starlette's own errors (unknown path, wrong method) and ``ApiError``, as JSON under
    /api and /metrics, as a short page elsewhere."""
    if isinstance(exc, ApiError):
        return api_error(exc.status, exc.code, exc.detail, exc.headers)
    if not isinstance(exc, HTTPException):  # only registered for these two
        raise exc
    code = _CODES.get(exc.status_code, "error")
    detail = str(exc.detail) if exc.detail else code.replace("_", " ")
    headers = dict(exc.headers or {})
    if request.url.path.startswith("/ui/"):
        return HTMLResponse(
            f"<!doctype html><title>{exc.status_code}</title><p>{exc.status_code}: {code}</p>",
            status_code=exc.status_code,
            headers=headers,
        )
    return api_error(exc.status_code, code, detail, headers)
