"""CPU-heavy tool work (backtests, sweeps, optimisation) apart from everything else.

The threads that serve requests, read the database and check keys are the event
loop's default executor; a sweep that ran there could occupy all of them and make
another user's first event wait for seconds. Heavy work therefore runs in its own
small pool, and each caller may have only a few heavy calls running at once: one key
cannot queue enough work to starve the others. The bound is per process.
"""

from __future__ import annotations

import asyncio
import functools
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from tools.errors import ToolError

T = TypeVar("T")


class BusyError(ToolError):
    """The caller already has as many heavy calculations running as it may."""


class HeavyWork:
    def __init__(self, workers: int = 1, per_caller: int = 1) -> None:
        self.workers, self.per_caller = workers, per_caller
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="heavy-tool")
        self._running: Counter[str] = Counter()

    async def run(self, caller: str, fn: Callable[..., T], /, *args, **kwargs) -> T:
        """Run ``fn`` in the heavy pool for ``caller``, or refuse at once if the caller is
        at its limit (the check and the count happen on the loop, so they are atomic)."""
        if self._running[caller] >= self.per_caller:
            running = self._running[caller]
            what = "a calculation" if running == 1 else f"{running} calculations"
            raise BusyError(
                f"you already have {what} (a backtest, sweep or optimisation) running, and "
                f"{self.per_caller} at a time is the limit: wait for it to finish, then ask again"
            )
        self._running[caller] += 1
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._pool, functools.partial(fn, *args, **kwargs))
        finally:
            self._running[caller] -= 1
            if self._running[caller] <= 0:
                del self._running[caller]

    def running(self, caller: str) -> int:
        return self._running[caller]

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
