"""`assistant mcp`: the read-only toolset over MCP (stdio), for other agents to use.

The tools are those of :data:`assistant.toolsets.READ_ONLY`, with the same typed
parameters and result models. Order placement is absent by construction: orders only
ever go through the approval flow.

``initialize`` is answered before the toolset is imported (pydantic-ai, pandas and the
tools take about a second): the tools are registered by a thread started with the
server, and listing or calling them waits for it.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import threading
import typing

from fastmcp import FastMCP
from fastmcp.exceptions import ToolError as MCPToolError
from fastmcp.server.middleware import Middleware

from assistant.auth import Role, User
from assistant.settings import Settings, get_settings

if typing.TYPE_CHECKING:
    from assistant.deps import AgentDeps
    from assistant.services import Services

MCP_USER = User(id="mcp", role=Role.VIEWER)
log = logging.getLogger(__name__)


def build_mcp(settings: Settings | None = None) -> FastMCP:
    settings = settings or get_settings()
    services: list[Services] = []
    lock = threading.Lock()

    def make_deps() -> AgentDeps:
        """The services are built on the first call, not at start (``initialize`` must
        answer fast): the same services as the API's, so a tool here sees what
        ``/v1/tools`` sees (the live price provider included)."""
        from assistant.services import build_services  # the approvals and chat: 0.6 s

        with lock:
            if not services:
                # no model answers here: a configured LLM's missing key must not stop tools
                services.append(build_services(settings, model="offline"))
        return services[0].chat.deps(MCP_USER)

    server = FastMCP(
        "market-assistant",
        instructions="Market data, indicators, portfolio optimisation, "
        "backtests and cited document search. Read-only: no orders.",
    )
    ready = threading.Event()
    failed: list[BaseException] = []

    def register() -> None:
        try:
            from assistant.toolsets import READ_ONLY

            for tool in READ_ONLY.tools.values():
                server.add_tool(_plain(tool.function, make_deps))
        except BaseException as exc:  # said on every later request, never a silent hang
            log.exception("MCP tools could not be loaded")
            failed.append(exc)
        finally:
            ready.set()

    server.add_middleware(_ToolsReady(ready, failed))
    threading.Thread(target=register, name="mcp-tools", daemon=True).start()
    return server


class _ToolsReady(Middleware):
    """Listing or calling tools waits until they are registered."""

    def __init__(self, ready: threading.Event, failed: list[BaseException]) -> None:
        self.ready, self.failed = ready, failed

    async def _wait(self) -> None:
        if not self.ready.is_set():
            await asyncio.to_thread(self.ready.wait)
        if self.failed:
            raise MCPToolError(f"the tools could not be loaded: {self.failed[0]}")

    async def on_list_tools(self, context, call_next):
        await self._wait()
        return await call_next(context)

    async def on_call_tool(self, context, call_next):
        await self._wait()
        return await call_next(context)


def _plain(fn, make_deps):
    """The tool without its ``ctx`` parameter, so MCP sees only the user-facing arguments."""
    from pydantic_ai import ModelRetry, ToolFailed

    from assistant.toolsets import call_directly, parameters

    params = parameters(fn)

    async def call(**kwargs):
        deps = await asyncio.to_thread(make_deps)
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
