"""`assistant mcp`: the read-only toolset over MCP (stdio), for other agents to use.

The tools are those of :data:`assistant.toolsets.READ_ONLY`, with the same typed
parameters and result models. Order placement is absent by construction: orders only
ever go through the approval flow.
"""

from __future__ import annotations

import inspect
import logging
import typing

from fastmcp import FastMCP
from fastmcp.exceptions import ToolError as MCPToolError
from pydantic_ai import ModelRetry, ToolFailed

from assistant.auth import Role, User
from assistant.deps import AgentDeps
from assistant.resources import broker, document_index, price_store
from assistant.settings import Settings, get_settings
from assistant.toolsets import READ_ONLY, call_directly, parameters
from assistant.workload import HeavyWork

MCP_USER = User(id="mcp", role=Role.VIEWER)
log = logging.getLogger(__name__)


def build_mcp(settings: Settings | None = None) -> FastMCP:
    settings = settings or get_settings()
    heavy = HeavyWork(settings.heavy_workers, settings.heavy_calls_per_key)

    def make_deps() -> AgentDeps:
        return AgentDeps(
            settings=settings,
            store=price_store(settings),
            user=MCP_USER,
            owner=MCP_USER.id,
            conversation_id="mcp",
            index_factory=lambda: document_index(settings),
            broker_factory=lambda: broker(settings),
            heavy=heavy,
        )

    server = FastMCP(
        "market-assistant",
        instructions="Market data, indicators, portfolio optimisation, "
        "backtests and cited document search. Read-only: no orders.",
    )
    for tool in READ_ONLY.tools.values():
        server.add_tool(_plain(tool.function, make_deps))
    return server


def _plain(fn, make_deps):
    """The tool without its ``ctx`` parameter, so MCP sees only the user-facing arguments."""
    params = parameters(fn)

    async def call(**kwargs):
        deps = make_deps()
        try:
            return await call_directly(fn, deps, kwargs)
        except (ModelRetry, ToolFailed) as exc:
            raise MCPToolError(exc.message) from None
        except Exception as exc:  # a bug: the caller still gets an answer, never silence
            log.exception("MCP tool %s failed", fn.__name__)
            raise MCPToolError(f"{fn.__name__} failed unexpectedly; it has been logged") from exc
        finally:
            deps.close()

    call.__name__, call.__doc__ = fn.__name__, fn.__doc__
    returns = typing.get_type_hints(fn).get("return")
    call.__signature__ = inspect.Signature(params, return_annotation=returns)
    call.__annotations__ = {p.name: p.annotation for p in params} | {"return": returns}
    return call
