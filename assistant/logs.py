"""Logging that neither floods nor leaks.

A dependency that is down (Redis, a broker) fails on every request; its warning is
logged once per ``every`` seconds with a count of what was suppressed, not hundreds of
times a minute. Nothing here logs a URL unmasked: callers pass masked text.
"""

from __future__ import annotations

import logging
import threading
import time


class Throttled:
    """One logger's repeating warnings, at most one per key per ``every`` seconds."""

    def __init__(self, logger: logging.Logger, every: float = 60.0) -> None:
        self.logger, self.every = logger, every
        self._last: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}
        self._lock = threading.Lock()

    def warning(self, key: str, message: str, *args) -> None:
        now = time.monotonic()
        with self._lock:
            if now - self._last.get(key, float("-inf")) < self.every:
                self._suppressed[key] = self._suppressed.get(key, 0) + 1
                return
            self._last[key] = now
            skipped = self._suppressed.pop(key, 0)
        if skipped:
            message += f" ({skipped} more like this since the last report)"
        self.logger.warning(message, *args)
