"""Where library exceptions and bad requests become JSON errors: `{"error": {"type", "message"}}`,
with no absolute path of this machine in them (see paths.py).

Also the two guards every request passes: a cap on the body size (a client cannot make the server
buffer an unbounded body) and the security headers of the page.
"""
from __future__ import annotations

import json
import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import IndexLoadError, InputError, PaperNotFound, RecommenderError, UsageError
from .paths import public_message

log = logging.getLogger("recommender.server")

MAX_BODY_BYTES = 1_000_000

# The page loads nothing from elsewhere and runs no inline script: corpus text can never become code.
# (/docs is FastAPI's Swagger page, whose inline script this policy would block: it gets the other headers.)
PAGE_CSP = (b"content-security-policy", b"default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
                                        b"frame-ancestors 'none'; form-action 'self'")
COMMON_HEADERS = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")]


def error_response(status: int, kind: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"type": kind, "message": message}}, status_code=status)


def status_of(exc: RecommenderError) -> int:
    if isinstance(exc, PaperNotFound):
        return 404
    if isinstance(exc, (UsageError, InputError)):
        return 400
    if isinstance(exc, IndexLoadError):
        return 500  # the server's own index is broken: not the client's doing
    return 400


def describe_validation(exc: RequestValidationError) -> tuple[int, str]:
    """One line naming each bad field and what is wrong with it; a body that is not JSON is a 400."""
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return 400, "the request body is not valid JSON; send a JSON object"
    parts = []
    for e in errors[:5]:
        where = ".".join(str(p) for p in e.get("loc", ()) if p not in ("body", "query", "path"))
        message = e.get("msg", "invalid")
        if e.get("type") == "extra_forbidden":
            message = "unknown parameter (see /docs for the accepted ones)"
        elif e.get("type") == "model_attributes_type":
            message = "the body must be a JSON object (sent as Content-Type: application/json)"
        parts.append(f"{where or 'body'}: {message}")
    if len(errors) > 5:
        parts.append(f"and {len(errors) - 5} more")
    return 422, "; ".join(parts)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RecommenderError)
    async def library_error(request: Request, exc: RecommenderError):
        rec = getattr(request.app.state, "rec", None)
        message = public_message(str(exc), getattr(rec, "folder", None))
        if isinstance(exc, IndexLoadError):
            log.error("index error on %s %s: %s", request.method, request.url.path, exc)
        return error_response(status_of(exc), type(exc).__name__, message)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        status, message = describe_validation(exc)
        return error_response(status, "BadRequest" if status == 400 else "ValidationError", message)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        kind = {404: "NotFound", 405: "MethodNotAllowed"}.get(exc.status_code, "HTTPError")
        message = exc.detail if isinstance(exc.detail, str) else json.dumps(exc.detail)
        if exc.status_code == 404 and message == "Not Found":
            message = f"no such page or endpoint: {request.url.path} (see /docs)"
        return error_response(exc.status_code, kind, message)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(500, "InternalError", "the server failed on this request; its log says why")


class GuardMiddleware:
    """Pure ASGI: refuses bodies over MAX_BODY_BYTES with a 413 and adds the security headers.

    A body is read here, up to the cap, before the app sees it: a chunked upload without a
    Content-Length is held to the same cap, and the app then parses bytes already in memory.
    """

    def __init__(self, app, max_body: int = MAX_BODY_BYTES):
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            await self._too_large(send)
            return
        chunks, size = [], 0
        if scope["method"] in ("POST", "PUT", "PATCH"):
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                chunks.append(message.get("body", b""))
                size += len(chunks[-1])
                if size > self.max_body:
                    await self._too_large(send)
                    return
                if not message.get("more_body"):
                    break
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        extra = COMMON_HEADERS + ([PAGE_CSP] if scope["path"] == "/" or scope["path"].startswith(("/static/", "/api/")) else [])

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        await self.app(scope, replay, send_with_headers)

    async def _too_large(self, send) -> None:
        body = json.dumps({"error": {"type": "PayloadTooLarge",
                                     "message": f"the request body is over {self.max_body} bytes"}}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
