"""100 concurrent `/v1/chat` streams against `assistant serve` (offline model, loopback).

Run: `.venv/bin/python -m benchmarks.bench_api_load`. Starts the real server in a
subprocess on a free loopback port (ASSISTANT_AUTH=off, a throw-away data dir with the
sample prices), measures time to first event and completion of every stream, counts
errors, and reads the server's resident memory after start and after the load.
Targets: zero errors, p95 time to first event < 200 ms, RSS after start < 1.5 GB.
The load is bounded: one burst of N streams, then the server is stopped.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from tools.market_data import PriceStore, load_sample

STREAMS = 100
QUESTIONS = [
    "What was the RSI of AAPL at the end of 2020?",
    "How did KO perform in 2021?",
    "Compare the RSI of JPM and BAC at the end of 2021",
    "What's in my portfolio?",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def one(client: httpx.AsyncClient, question: str) -> tuple[float, float, bool]:
    started = time.perf_counter()
    first = None
    ok = False
    async with client.stream("POST", "/v1/chat", json={"message": question}) as response:
        if response.status_code != 200:
            print(f"  HTTP {response.status_code}: {(await response.aread())[:200]!r}")
            return float("nan"), float("nan"), False
        async for line in response.aiter_lines():
            if not line.startswith("data:"):
                continue
            event = json.loads(line[5:])
            first = first or time.perf_counter() - started
            if event["type"] == "error":
                print(f"  error event: {event['code']}: {event['message'][:200]}")
                return first, time.perf_counter() - started, False
            if event["type"] == "message_end":
                ok = True
    return first or float("nan"), time.perf_counter() - started, ok


async def load(url: str) -> list[tuple[float, float, bool]]:
    limits = httpx.Limits(max_connections=STREAMS, max_keepalive_connections=STREAMS)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:
        await one(client, "warm up: RSI of AAPL")
        return await asyncio.gather(
            *(one(client, QUESTIONS[i % len(QUESTIONS)]) for i in range(STREAMS))
        )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        load_sample(PriceStore(Path(tmp) / "prices"))
        port = free_port()
        env = {
            **os.environ,
            "ASSISTANT_DATA_DIR": tmp,
            "ASSISTANT_AUTH": "off",
            "ASSISTANT_RATE_LIMIT_PER_MINUTE": "100000",
        }
        exe = str(Path(sys.executable).with_name("assistant"))
        server = subprocess.Popen(
            [exe, "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            start_rss = rss_mb(server.pid)
            began = time.perf_counter()
            results = asyncio.run(load(url))
            wall = time.perf_counter() - began
            end_rss = rss_mb(server.pid)
        finally:
            server.terminate()
            server.wait(timeout=20)
    firsts = sorted(r[0] * 1000 for r in results if r[2])
    totals = sorted(r[1] * 1000 for r in results if r[2])
    errors = sum(not r[2] for r in results)
    p95 = firsts[int(len(firsts) * 0.95) - 1] if firsts else float("nan")
    print(f"{STREAMS} concurrent /v1/chat streams, offline model, one burst in {wall:.1f} s")
    print(f"  errors {errors}   completed {len(totals)}")
    print(
        f"  time to first event  p50 {statistics.median(firsts):.0f} ms   p95 {p95:.0f} ms   target p95 < 200 ms"
    )
    print(
        f"  stream duration      p50 {statistics.median(totals):.0f} ms   max {totals[-1]:.0f} ms"
    )
    print(
        f"  server RSS after start {start_rss:.0f} MB (target < 1536 MB), after the load {end_rss:.0f} MB"
    )


if __name__ == "__main__":
    main()
