"""``POST /v1/tools/<name>``: one typed route per read-only tool, derived from the toolset.

Each route's request body is the tool's parameters (the same enums, dates and
constrained numbers the model sees) and its response model is the tool's result
model, so OpenAPI documents both. ``place_order`` is not in the read-only toolset and
so has no route: orders only go through the approval flow.
"""

import inspect
import typing
from typing import Annotated, Any

from fastapi import Body, FastAPI, HTTPException
from pydantic import BaseModel, create_model
from pydantic_ai import ModelRetry, ToolFailed

from api import errors
from api.metrics import Metrics
from assistant.chat import ChatService
from assistant.toolsets import READ_ONLY, call_directly, parameters
from assistant.workload import BusyError


def args_model(fn) -> type[BaseModel]:
    """A request model from a tool's signature (everything after ``ctx``)."""
    fields: dict[str, Any] = {
        p.name: (p.annotation, ... if p.default is inspect.Parameter.empty else p.default)
        for p in parameters(fn)
    }
    return create_model(f"{fn.__name__}_args", __config__={"extra": "forbid"}, **fields)


def add_tool_routes(app: FastAPI, chat: ChatService, viewer, metrics: Metrics) -> None:
    """``viewer``: the Annotated dependency that yields the calling user (role viewer+)."""
    for name, tool in READ_ONLY.tools.items():
        app.post(
            f"/v1/tools/{name}",
            tags=["tools"],
            summary=(tool.function.__doc__ or name).strip().splitlines()[0],
            response_model=typing.get_type_hints(tool.function)["return"],
        )(_endpoint(name, tool.function, chat, viewer, metrics))

    @app.post("/v1/tools/{name}", tags=["tools"], summary="Unknown tools are a 404")
    async def unknown_tool(name: str, _: viewer) -> None:
        raise HTTPException(
            404, f"unknown tool {name[:100]!r}; available: {', '.join(READ_ONLY.tools)}"
        )


def _endpoint(name: str, fn, chat: ChatService, viewer, metrics: Metrics):
    body = args_model(fn)
    required = any(f.is_required() for f in body.model_fields.values())

    async def endpoint(user, args=None):
        deps = chat.deps(user)
        try:
            result = await call_directly(fn, deps, args.model_dump() if args else {})
        except ModelRetry as exc:
            return errors.error(400, "tool_error", exc.message)
        except ToolFailed as exc:
            if isinstance(exc.__cause__, BusyError):
                return errors.error(429, "busy", exc.message, headers={"Retry-After": "1"})
            return errors.error(502, "tool_failed", exc.message)
        finally:
            deps.close()
        metrics.tool_calls.labels(name).inc()
        return result

    endpoint.__name__ = f"tool_{name}"
    endpoint.__signature__ = inspect.Signature(
        [
            inspect.Parameter("user", inspect.Parameter.KEYWORD_ONLY, annotation=viewer),
            inspect.Parameter(
                "args",
                inspect.Parameter.KEYWORD_ONLY,
                annotation=Annotated[body, Body()] if required else Annotated[body | None, Body()],
                default=inspect.Parameter.empty if required else None,
            ),
        ]
    )
    return endpoint
