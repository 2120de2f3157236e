"""Every error leaves as JSON ``{"error": {"code", "message"}}`` with a fitting status."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from assistant.approvals import ConflictError, ForbiddenError
from assistant.store import NotFoundError
from retrieval.errors import RetrievalError
from tools.errors import ToolError, UnknownSymbolError


def error(status: int, code: str, message: str, **extra) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, **extra}}, status_code=status)


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError):
        problems = [
            {"loc": [str(p) for p in e.get("loc", [])], "message": e.get("msg", "")}
            for e in exc.errors()
        ]
        first = problems[0] if problems else {"loc": [], "message": "invalid request"}
        return error(
            422,
            "invalid_request",
            f"{'.'.join(first['loc'])}: {first['message']}",
            details=problems,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http(_: Request, exc: StarletteHTTPException):
        codes = {
            401: "unauthorized",
            403: "forbidden",
            404: "not_found",
            405: "method_not_allowed",
            413: "too_large",
            429: "rate_limited",
        }
        return error(
            exc.status_code,
            codes.get(exc.status_code, "http_error"),
            str(exc.detail),
        )

    @app.exception_handler(ForbiddenError)
    async def forbidden(_: Request, exc: ForbiddenError):
        return error(403, "forbidden", str(exc))

    @app.exception_handler(ConflictError)
    async def conflict(_: Request, exc: ConflictError):
        return error(409, "conflict", str(exc))

    @app.exception_handler(NotFoundError)
    async def not_found(_: Request, exc: NotFoundError):
        return error(404, "not_found", str(exc))

    @app.exception_handler(UnknownSymbolError)
    async def unknown_symbol(_: Request, exc: UnknownSymbolError):
        return error(404, "unknown_symbol", str(exc))

    @app.exception_handler(ToolError)
    async def tool(_: Request, exc: ToolError):
        return error(400, "bad_request", str(exc))

    @app.exception_handler(RetrievalError)
    async def retrieval(_: Request, exc: RetrievalError):
        return error(400, "bad_request", str(exc))
