"""The collector during start-up: off while the command imports its modules, back on
(with everything loaded so far frozen) once a long-running command settles.

Start-up builds hundreds of thousands of long-lived objects (pydantic schemas, pandas,
fastmcp, pydantic-ai) and the cyclic collector rescans them again and again as they
arrive: a fifth of `assistant mcp`'s time to answer `initialize` on this machine
(benchmarks/bench_cli.py). A one-shot command ends before it matters; a command that
runs on (serve, mcp, slack, an interactive chat, an eval, an ingest) calls
:func:`settled` when its imports are done, so what it allocates afterwards is collected.
"""

from __future__ import annotations

import gc


def starting() -> None:
    gc.disable()


def settled() -> None:
    """Startup is over: freeze what it made (it lives as long as the process, and the
    collector stops rescanning it) and collect again from here on. Nothing to do when
    the collector was never stopped (a command run in tests, through the app object)."""
    if gc.isenabled():
        return
    gc.collect()
    gc.freeze()
    gc.enable()
