"""POST /v1/decisions from a certificate caller, without FastAPI's per-request machinery.

The decision route is the service's hot path. Routing it through FastAPI costs the
route lookup, the dependency solver and its exit stacks, and the exception
middleware on every request: on this stack about as much event-loop time as the
whole of an empty endpoint. This ASGI middleware answers the one common case
itself, with the same checks in the same order and the same objects:

* the caller authenticates with the verified client certificate (no
  ``Authorization`` header) and holds the agent role (:class:`Authenticator`);
* the body is JSON that :class:`DecisionIn` accepts, parsed and validated as the
  route does (``json.loads``, then python-mode validation: same semantics);
* the per-identity rate limit admits it (one token, as the route takes);
* the decision is acknowledged only after the batcher's durable ledger append.

Everything else (a bearer token, no or a refused certificate, a missing role, a
body that is not valid, a rate limit refusal, any other method or path) is handed,
before anything was counted or decided, to the FastAPI application with the
request exactly as received: those answers, their problem documents and the
OpenAPI description come from the route in :mod:`rsrp.api.routes.decisions`, which
stays the contract. An error once the request was admitted (a stage unavailable)
goes through the application's own exception handlers.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import FastAPI
from pydantic import ValidationError
from starlette.requests import Request

from rsrp.api._auth import AuthError, RateLimitedError, Role
from rsrp.api._models import DecisionIn
from rsrp.api.routes.decisions import decision_json, decision_request
from rsrp.errors import RsrpError

__all__ = ["DECISIONS_PATH", "DecisionFastPath"]

DECISIONS_PATH = "/v1/decisions"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_JSON_HEADERS = (b"content-type", b"application/json")


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """``receive`` that first hands back ``messages`` (already read), then reads on."""
    pending = list(messages)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed


class DecisionFastPath:
    """ASGI middleware (inside the body-size limit): see the module docstring.

    ``owner`` is the FastAPI application: its ``state.service`` and its exception
    handlers, read per request (tests and ``create_app`` set them after the
    middleware stack is declared).
    """

    def __init__(self, app: ASGIApp, owner: FastAPI) -> None:
        self.app = app
        self.owner = owner

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["path"] != DECISIONS_PATH
            or scope["method"] != "POST"
            or scope.get("query_string")
            or scope.get("root_path")
        ):
            await self.app(scope, receive, send)
            return
        # The body first (the route's parser reads it before its dependencies too);
        # what was read is replayed if the request goes the general way.
        messages: list[Message] = []
        chunks: list[bytes] = []
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":  # the client went away
                await self.app(scope, _replay(messages, receive), send)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        if not await self._decide(scope, b"".join(chunks), send):
            await self.app(scope, _replay(messages, receive), send)

    async def _decide(self, scope: Scope, body: bytes, send: Send) -> bool:
        """Answer the request and return True, or return False having done nothing."""
        service = self.owner.state.service
        for name, _ in scope["headers"]:
            if name == b"authorization":
                return False  # bearer tokens: verified in a thread by the route
        try:
            identity = service.auth.authenticate(scope.get("extensions"), None)
            if Role.AGENT not in identity.roles:
                return False  # the route answers 403 and counts it
            parsed = DecisionIn.model_validate(json.loads(body))
            service.limiter.take(identity.principal)
        except (AuthError, RateLimitedError, ValidationError, ValueError, RecursionError):
            # Refused or malformed (json.JSONDecodeError and UnicodeDecodeError are
            # ValueErrors): the route gives the precise answer. Nothing was counted:
            # a refused take leaves no token spent.
            return False
        # Admitted: from here on this request is answered here, whatever happens.
        request = decision_request(parsed, identity.principal)
        try:
            result = await service.batcher.decide(request)
        except RsrpError as e:  # e.g. a stage unavailable: 503, as the route answers
            handler = self.owner.exception_handlers[RsrpError]
            response = await handler(Request(scope), e)  # type: ignore[misc]
            await response(scope, _no_body, send)
            return True
        payload = decision_json(result, service.stages.proof.mode)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-length", str(len(payload)).encode()), _JSON_HEADERS],
            }
        )
        await send({"type": "http.response.body", "body": payload})
        return True


async def _no_body() -> Message:
    return {"type": "http.disconnect"}
