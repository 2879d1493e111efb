"""HTTP hygiene: request-size limit middleware and problem+json error handlers.

No response ever carries a stack trace, an exception repr or a file path: the
handlers map our errors to a fixed title and our own message, and everything
else to a generic 500 with the request's correlation id.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from rsrp.api._approvals import ApprovalConflictError, ApprovalNotFoundError, SelfApprovalError
from rsrp.api._auth import AuthError, RateLimitedError
from rsrp.api._keys import KeyNotRotatableError
from rsrp.api._pipeline import StageUnavailableError
from rsrp.context import ContextDataError, UnknownAgentError
from rsrp.errors import RsrpError
from rsrp.keys import UnknownKeyError

__all__ = [
    "PROBLEM_RESPONSES",
    "BodyLimitMiddleware",
    "bearer_challenge",
    "install_error_handlers",
    "install_problem_schema",
    "problem",
]

log = logging.getLogger("rsrp.api")

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


def problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    """An RFC 9457 problem document."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    headers = {}
    if "retry_after" in extra:
        headers["Retry-After"] = str(max(1, int(extra["retry_after"] + 0.999)))
    return JSONResponse(
        body, status_code=status, media_type="application/problem+json", headers=headers
    )


_TEXT = {"type": "string"}
#: The RFC 9457 problem document every error answer carries (OpenAPI component ``Problem``).
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": _TEXT,
        "title": _TEXT,
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": _TEXT,
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "loc": {"type": "array", "items": _TEXT},
                    "msg": _TEXT,
                    "type": _TEXT,
                },
            },
        },
        "retry_after": {"type": "number"},
        "error_id": _TEXT,
        "decision": _TEXT,
        "code": _TEXT,
        "request_id": {"type": ["string", "null"]},
    },
}


def _problem_response(description: str, **headers: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "description": description,
        "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        },
    }
    if headers:
        out["headers"] = {k: {"description": v, "schema": _TEXT} for k, v in headers.items()}
    return out


#: Error answers any operation may give (a route's own entry for a code wins).
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _problem_response("Malformed request: not JSON, or an empty bearer token"),
    401: _problem_response(
        "No acceptable client certificate or bearer token",
        **{"WWW-Authenticate": "RFC 6750 §3 Bearer challenge"},
    ),
    403: _problem_response(
        "The caller lacks the role",
        **{"WWW-Authenticate": "Bearer insufficient_scope, for token callers"},
    ),
    404: _problem_response("Not found"),
    409: _problem_response("Conflict with the resource's state"),
    413: _problem_response("Request body too large"),
    415: _problem_response("Request body is not application/json"),
    422: _problem_response("The request does not match the schema"),
    429: _problem_response(
        "Rate limit exceeded", **{"Retry-After": "Seconds to wait (RFC 9110 §10.2.3)"}
    ),
    500: _problem_response("Internal error (no details)"),
    503: _problem_response("A pipeline stage is unavailable: BLOCK, nothing acknowledged"),
}


def install_problem_schema(app: FastAPI) -> None:
    """Add the ``Problem`` component that :data:`PROBLEM_RESPONSES` refers to."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = generate()
            doc.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]


def bearer_challenge(error: str | None = None, description: str = "") -> str:
    """A ``WWW-Authenticate`` value per RFC 6750 §3 (``error`` from §3.1, or none)."""
    value = 'Bearer realm="rsrp"'
    if error is not None:
        value += f', error="{error}"'
        # §3: error_description is limited to %x20-21 / %x23-5B / %x5D-7E.
        text = "".join(c for c in description if " " <= c <= "~" and c not in '"\\')
        if text:
            value += f', error_description="{text[:200]}"'
    return value


_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def _is_json(content_type: bytes) -> bool:
    """``application/json`` or a ``+json`` structured syntax (RFC 6839), any parameters."""
    media = content_type.split(b";", 1)[0].strip().lower()
    return media == b"application/json" or (
        media.startswith(b"application/") and media.endswith(b"+json")
    )


class BodyLimitMiddleware:
    """Refuse bodies over ``limit`` bytes (413, RFC 9110 §15.5.14) by ``Content-Length``
    and while streaming (chunked), and a request body that is not JSON (415, §15.5.16).

    A streamed body over the limit is answered 413 at once; the application then sees
    the client as gone (``http.disconnect``) and whatever it answers is dropped.
    """

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length: bytes | None = None
        content_type: bytes | None = None
        chunked = False
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                length = value
            elif name == b"content-type":
                content_type = value
            elif name == b"transfer-encoding":
                chunked = True
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            await _send(
                send, 413, "Payload Too Large", f"request body larger than {self.limit} bytes"
            )
            return
        has_body = chunked or (length is not None and int(length) > 0)
        json_body = content_type is not None and _is_json(content_type)
        if has_body and scope.get("method") in _BODY_METHODS and not json_body:
            await _send(
                send, 415, "Unsupported Media Type", "the request body must be application/json"
            )
            return
        if not chunked:  # Content-Length bounds the body; h11/httptools enforce it
            await self.app(scope, receive, send)
            return
        seen = 0
        started = False
        refused = False

        async def limited_receive() -> MutableMapping[str, Any]:
            nonlocal seen, started, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit and not started:
                    refused = started = True
                    await _send(
                        send,
                        413,
                        "Payload Too Large",
                        f"request body larger than {self.limit} bytes",
                    )
                    return {"type": "http.disconnect"}
            return message

        async def tracking_send(message: MutableMapping[str, Any]) -> None:
            nonlocal started
            if refused:
                return  # the 413 is the answer
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, limited_receive, tracking_send)


async def _send(send: Send, status: int, title: str, detail: str) -> None:
    resp = problem(status, title, detail)
    await send({"type": "http.response.start", "status": status, "headers": resp.raw_headers})
    await send({"type": "http.response.body", "body": resp.body})


def _validation_detail(exc: RequestValidationError) -> list[dict[str, Any]]:
    # loc/msg/type only: never echo the (possibly hostile, possibly huge) input.
    return [
        {
            "loc": [str(p) for p in err.get("loc", ())],
            "msg": str(err.get("msg", ""))[:300],
            "type": err.get("type"),
        }
        for err in exc.errors()[:50]
    ]


def install_error_handlers(app: FastAPI) -> None:
    async def on_validation(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = _validation_detail(exc)
        if any(e["type"] == "json_invalid" for e in errors):
            # Not JSON at all is a syntax error (RFC 9110 §15.5.1), not 422 (§15.5.21).
            return problem(400, "Bad Request", "the request body is not valid JSON", errors=errors)
        return problem(
            422, "Invalid request", "the request does not match the schema", errors=errors
        )

    async def on_http(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        detail = exc.detail if isinstance(exc.detail, str) else "request refused"
        resp = problem(exc.status_code, _title(exc.status_code), detail)
        if exc.headers:
            resp.headers.update(exc.headers)
        return resp

    async def on_rsrp(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RsrpError)
        metrics = getattr(getattr(request.app.state, "service", None), "metrics", None)
        if metrics is not None and isinstance(exc, AuthError | RateLimitedError):
            reason = "unauthenticated" if isinstance(exc, AuthError) else "rate_limited"
            metrics.rejected.labels(reason).inc()
        if isinstance(exc, AuthError):
            # RFC 6750 §3.1: a malformed request is 400, a refused token 401.
            if exc.bearer_error == "invalid_request":
                resp = problem(400, "Bad Request", str(exc))
            else:
                resp = problem(401, "Unauthorized", str(exc))
            resp.headers["WWW-Authenticate"] = bearer_challenge(exc.bearer_error, str(exc))
            return resp
        if isinstance(exc, RateLimitedError):
            return problem(429, "Too Many Requests", str(exc), retry_after=exc.retry_after)
        if isinstance(exc, ApprovalNotFoundError | UnknownAgentError | UnknownKeyError):
            return problem(404, "Not Found", str(exc))
        if isinstance(exc, ApprovalConflictError | KeyNotRotatableError):
            return problem(409, "Conflict", str(exc))
        if isinstance(exc, SelfApprovalError):
            return problem(403, "Forbidden", str(exc))
        if isinstance(exc, ContextDataError):
            return problem(422, "Invalid request", str(exc))
        if isinstance(exc, StageUnavailableError):
            return problem(
                503, "Service Unavailable", str(exc), decision="BLOCK", code="STAGE_UNAVAILABLE",
                request_id=exc.request_id,
            )  # fmt: skip
        log.warning("unmapped rsrp error: %s", type(exc).__name__)
        return problem(500, "Internal Server Error", "the request failed", code=type(exc).__name__)

    async def on_any(_: Request, exc: Exception) -> JSONResponse:
        error_id = str(uuid.uuid4())
        log.exception("unhandled error %s", error_id, exc_info=exc)
        return problem(500, "Internal Server Error", "internal error", error_id=error_id)

    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RsrpError, on_rsrp)
    app.add_exception_handler(Exception, on_any)


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
