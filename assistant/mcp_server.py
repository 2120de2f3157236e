"""`assistant mcp`: the read-only tools over MCP (stdio), for other agents to use.

Order placement is deliberately absent: orders only ever go through the approval flow.
"""

from __future__ import annotations

import inspect
import typing

from fastmcp import FastMCP
from fastmcp.exceptions import ToolError as MCPToolError

from assistant import agent as agent_tools
from assistant.auth import Role, User
from assistant.deps import AgentDeps, DirectContext
from assistant.resources import broker, document_index, price_store
from assistant.settings import Settings, get_settings

MCP_USER = User(id="mcp", role=Role.VIEWER)


def build_mcp(settings: Settings | None = None) -> FastMCP:
    settings = settings or get_settings()

    def make_deps() -> AgentDeps:
        return AgentDeps(
            settings=settings,
            store=price_store(settings),
            user=MCP_USER,
            conversation_id="mcp",
            index_factory=lambda: document_index(settings),
            broker_factory=lambda: broker(settings),
        )

    server = FastMCP(
        "market-assistant",
        instructions="Market data, indicators, portfolio optimisation, "
        "backtests and cited document search. Read-only: no orders.",
    )
    for name in agent_tools.READ_ONLY_TOOLS:
        server.add_tool(_plain(getattr(agent_tools, name), make_deps))
    return server


def _plain(fn, make_deps):
    """The tool without its ``ctx`` parameter, so MCP sees only the user-facing arguments."""
    params = agent_tools.tool_parameters(fn)

    def call(**kwargs):
        deps = make_deps()
        try:
            return fn(DirectContext(deps), **kwargs)
        except agent_tools.ModelRetry as exc:
            raise MCPToolError(str(exc)) from None
        finally:
            deps.close()

    call.__name__, call.__doc__ = fn.__name__, fn.__doc__
    returns = typing.get_type_hints(fn).get("return")
    call.__signature__ = inspect.Signature(params, return_annotation=returns)
    call.__annotations__ = {p.name: p.annotation for p in params} | {"return": returns}
    return call
