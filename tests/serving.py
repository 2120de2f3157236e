"""`assistant serve` as a real process, for tests that need several servers or signals."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    def __init__(self, process: subprocess.Popen, url: str, log: Path) -> None:
        self.process, self.url, self.log = process, url, log

    def terminate(self, timeout: float = 60) -> int:
        """SIGTERM, as a process manager stops a server; its exit code."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)


@contextmanager
def served(env: dict[str, str], log: Path, *, start_timeout: float = 60) -> Iterator[Served]:
    port = free_port()
    exe = str(Path(sys.executable).with_name("assistant"))
    full = {**os.environ, **env, "ASSISTANT_HOST": "127.0.0.1"}
    with open(log, "w") as out:
        process = subprocess.Popen(
            [exe, "serve", "--port", str(port)], env=full, stdout=out, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + start_timeout
    try:
        while True:
            if process.poll() is not None:
                raise AssertionError(f"the server exited: {log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"the server did not start: {log.read_text()[-2000:]}")
            time.sleep(0.2)
        yield Served(process, url, log)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
