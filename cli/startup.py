"""The collector during start-up: off while the command imports its modules, back on
(with everything loaded so far frozen) once a long-running command settles; and the
way out, which skips the interpreter's teardown.

Start-up builds hundreds of thousands of long-lived objects (pydantic schemas, pandas,
fastmcp, pydantic-ai) and the cyclic collector rescans them again and again as they
arrive: a fifth of `assistant mcp`'s time to answer `initialize` on this machine
(benchmarks/bench_cli.py). A one-shot command ends before it matters; a command that
runs on (serve, mcp, slack, an interactive chat, an eval, an ingest) calls
:func:`settled` when its imports are done, so what it allocates afterwards is collected.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import os
import sys
import threading


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


def leave(code: object) -> None:
    """End the process as ``sys.exit(code)`` would, without tearing the interpreter down.

    Teardown deallocates every object start-up made, one by one: 0.35 s of a 2 s price
    chat on this machine, for memory the OS takes back anyway. What an exit must still
    do runs first: the ``atexit`` handlers (logging's flush, the database pools'
    dispose, temporary directories) and the flush of stdout and stderr. A thread that
    is not a daemon is still working (a command left one running): then the ordinary
    exit, which waits for it, so nothing it writes is lost.
    """
    if isinstance(code, str):  # sys.exit("message"): printed, exit status 1
        if sys.stderr is not None:
            print(code, file=sys.stderr)
        code = 1
    status = code if isinstance(code, int) else 0 if code is None else 1
    others = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon]
    if others:
        raise SystemExit(status)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        if stream is None:  # started with the descriptor closed (`assistant config >&-`)
            continue
        with contextlib.suppress(OSError, ValueError):  # a reader gone (| head), closed
            stream.flush()
    os._exit(status)
