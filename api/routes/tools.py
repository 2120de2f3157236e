"""``POST /v1/tools/<name>``: one typed route per read-only tool, derived from the toolset.

Each route's request body is the tool's parameters (the same enums, dates and
constrained numbers the model sees) and its response model is the tool's result
model, so OpenAPI documents both. ``place_order`` is not in the read-only toolset and
so has no route: orders only go through the approval flow. MCP serves the same tools
through the same :func:`assistant.toolsets.call_directly`.
"""

import inspect
import types
import typing
from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException
from pydantic import BaseModel, BeforeValidator, Strict, create_model
from pydantic_ai import ModelRetry, ToolFailed

from api import errors
from api.deps import State, Viewer
from assistant.tool_support import ToolRefused
from assistant.toolsets import READ_ONLY, call_directly, parameters
from assistant.workload import BusyError
from tools.errors import NoDataError, UnknownSymbolError

router = APIRouter(prefix="/v1/tools", tags=["tools"])
REFUSALS: dict[type[Exception], tuple[int, str]] = {
    UnknownSymbolError: (404, "unknown_symbol"),
    NoDataError: (404, "no_data"),
}
"""Refusals that are about what the store holds, not about the request's shape; any
other refusal (start after end, a weight cap below 1/N) is a 400 ``tool_error``."""


def json_number(value: Any) -> Any:
    if isinstance(value, (str, bool)):
        raise ValueError(
            "must be a finite number, written as a JSON number (not text or true/false)"
        )
    return value


def strict_scalars(annotation: Any) -> Any:
    """``annotation`` with its booleans and numbers read as JSON has them: FastAPI
    validates a parsed body in pydantic's Python mode, which would take ``0`` for false
    and ``"5"`` for 5, a body the schema calls invalid. (The model's own tool calls keep
    the lax reading.) The check goes after the type's constraints, which stay in the schema."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    base, metadata = (args[0], annotation.__metadata__) if origin is Annotated else (annotation, ())
    if base is bool:
        return Annotated[(bool, *metadata, Strict())]
    if base in (int, float):  # 8.0 is an integer to JSON Schema, as to pydantic
        return Annotated[(base, *metadata, BeforeValidator(json_number))]
    if origin is Annotated:
        return Annotated[(strict_scalars(base), *metadata)]
    if origin in (typing.Union, types.UnionType):
        return typing.Union[tuple(strict_scalars(a) for a in args)]  # noqa: UP007
    if origin in (list, dict, tuple):
        return origin[tuple(strict_scalars(a) for a in args)]
    return annotation


def args_model(fn) -> type[BaseModel]:
    """A request model from a tool's signature (everything after ``ctx``)."""
    fields: dict[str, Any] = {
        p.name: (
            strict_scalars(p.annotation),
            ... if p.default is inspect.Parameter.empty else p.default,
        )
        for p in parameters(fn)
    }
    return create_model(f"{fn.__name__}_args", __config__={"extra": "forbid"}, **fields)


def refusal(exc: ModelRetry):
    error = exc.error if isinstance(exc, ToolRefused) else None
    for kind, (status, code) in REFUSALS.items():
        if isinstance(error, kind):
            return errors.error(status, code, exc.message)
    return errors.error(400, "tool_error", exc.message)


def _endpoint(name: str, fn):
    body = args_model(fn)
    required = any(f.is_required() for f in body.model_fields.values())

    async def endpoint(user, state, args=None):
        deps = state.services.chat.deps(user)
        try:
            result = await call_directly(fn, deps, args.model_dump() if args else {})
        except ModelRetry as exc:
            return refusal(exc)
        except ToolFailed as exc:
            if isinstance(exc.__cause__, BusyError):
                return errors.error(429, "busy", exc.message, headers={"Retry-After": "1"})
            return errors.error(502, "tool_failed", exc.message)
        finally:
            deps.close()
        state.metrics.tool_calls.labels(name).inc()
        return result

    keyword = inspect.Parameter.KEYWORD_ONLY
    endpoint.__name__ = f"tool_{name}"
    endpoint.__signature__ = inspect.Signature(
        [
            inspect.Parameter("user", keyword, annotation=Viewer),
            inspect.Parameter("state", keyword, annotation=State),
            inspect.Parameter(
                "args",
                keyword,
                annotation=Annotated[body, Body()] if required else Annotated[body | None, Body()],
                default=inspect.Parameter.empty if required else None,
            ),
        ]
    )
    return endpoint


for _name, _tool in READ_ONLY.tools.items():
    router.post(
        f"/{_name}",
        summary=(_tool.function.__doc__ or _name).strip().splitlines()[0],
        response_model=typing.get_type_hints(_tool.function)["return"],
    )(_endpoint(_name, _tool.function))


@router.post("/{name}", summary="Unknown tools are a 404", response_model=None)
async def unknown_tool(name: str, _: Viewer) -> None:
    raise HTTPException(
        404, f"unknown tool {name[:100]!r}; available: {', '.join(READ_ONLY.tools)}"
    )
