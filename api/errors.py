"""Every error leaves as JSON ``{"error": {"code", "message"}}`` with a fitting status."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from assistant.approvals import ConflictError, ForbiddenError
from assistant.store import NotFoundError
from retrieval.errors import RetrievalError, UnknownTickerError
from tools.errors import ToolError, UnavailableError, UnknownSymbolError

log = logging.getLogger(__name__)


def error(
    status: int, code: str, message: str, *, headers: dict[str, str] | None = None, **extra
) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "message": message, **extra}},
        status_code=status,
        headers=headers,
    )


DOMAIN_ERRORS: dict[type[Exception], tuple[int, str]] = {
    ForbiddenError: (403, "forbidden"),
    ConflictError: (409, "conflict"),
    NotFoundError: (404, "not_found"),
    UnknownSymbolError: (404, "unknown_symbol"),
    UnknownTickerError: (404, "unknown_symbol"),
    UnavailableError: (409, "unavailable"),
    ToolError: (400, "bad_request"),
    RetrievalError: (400, "bad_request"),
}


def _internal(part) -> bool:
    """pydantic's names for validator steps and union members (model names, capitalised:
    fields are snake_case), not the caller's fields."""
    text = str(part)
    return "[" in text or text.startswith("function-") or text[:1].isupper()


def allowed(request: Request) -> str:
    """Every method some route serves at this path (several routes may share one path:
    GET, PUT and DELETE /v1/profile)."""
    from starlette.routing import Match

    def leaves(routes):  # FastAPI 0.16x nests included routers (see lifecycle.prepare_routes)
        for route in routes:
            if callable(candidates := getattr(route, "effective_candidates", None)):
                yield from leaves(candidates())
            else:
                yield route

    methods: set[str] = set()
    for route in leaves(request.app.router.routes):
        match, _ = route.matches(request.scope)
        if match is not Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    return ", ".join(sorted(methods))


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError):
        problems = [
            {"loc": [str(p) for p in e.get("loc", []) if not _internal(p)], "message": e["msg"]}
            for e in exc.errors()
        ]
        # of a union's alternatives, the one about a field the caller sent, then the one
        # that got furthest, says what is wrong ({"level": "bold"} is about the level)
        sent = set(exc.body) if isinstance(exc.body, dict) else set()
        extra = [
            p["loc"][-1]
            for e, p in zip(exc.errors(), problems, strict=True)
            if e.get("type") == "extra_forbidden" and p["loc"]
        ]
        unknown = {k for k in extra if extra.count(k) > 1}  # no alternative takes it

        def rank(pair):
            error, problem = pair
            kind = error.get("type", "")
            field = problem["loc"][-1] if problem["loc"] else None
            return (
                not (field in sent and kind != "extra_forbidden"),
                not (kind == "extra_forbidden" and field in unknown),
                kind.endswith("_type"),
                -len(problem["loc"]),
            )

        ranked = sorted(zip(exc.errors(), problems, strict=True), key=rank)
        first = ranked[0][1] if ranked else {"loc": [], "message": "invalid request"}
        return error(
            422,
            "invalid_request",
            f"{'.'.join(first['loc'])}: {first['message']}",
            details=problems,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http(request: Request, exc: StarletteHTTPException):
        codes = {
            400: "bad_request",
            401: "unauthorized",
            403: "forbidden",
            404: "not_found",
            405: "method_not_allowed",
            408: "timeout",
            413: "too_large",
            422: "invalid_request",
            429: "rate_limited",
        }
        headers = exc.headers  # Retry-After on 429, Allow on 405
        if exc.status_code == 405:  # Starlette names the first route's methods only
            headers = {**(headers or {}), "Allow": allowed(request)}
        return error(
            exc.status_code,
            codes.get(exc.status_code, "http_error"),
            str(exc.detail),
            headers=headers,
        )

    async def domain(_: Request, exc: Exception):
        # the most specific registered class wins (Starlette walks the exception's MRO)
        status, code = DOMAIN_ERRORS[next(c for c in type(exc).__mro__ if c in DOMAIN_ERRORS)]
        return error(status, code, str(exc))

    for kind in DOMAIN_ERRORS:
        app.add_exception_handler(kind, domain)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):
        """A bug, not the caller's fault: logged with its traceback, answered as JSON."""
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return error(500, "internal_error", "an internal error occurred; it has been logged")
