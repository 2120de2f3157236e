"""100 concurrent `/v1/chat` streams against `assistant serve` (offline model, loopback).

Run: `.venv/bin/python -m benchmarks.bench_api_load [--client h11|httpx] [--rounds N]`.

Starts the real server (`assistant serve`, authentication on, a viewer API key) in a
subprocess on a free loopback port, with a throw-away data dir holding the sample prices.
Each round is one burst of 100 streams opened at once; it measures each stream's time
to its first SSE event and to `message_end`, counts errors, and reads the server's
resident memory after start and after the load. Targets: zero errors, p95 time to first
event < 200 ms, RSS after start < 1.5 GB.

Then the starvation case (issue 11): one key runs the largest sweep the server allows
from six connections at once, over and over (those refused with 429 retry at once),
while another user asks simple questions one after another. Targets: every simple
answer completes in < 2 s, and their time to first event has p95 < 1 s.

The client shares the machine's two cores with the server, so its own cost is part of
every figure. The default client speaks HTTP/1.1 through `h11` (sans-IO, one asyncio
connection per stream, as `wrk`-style load tools do) so the figure is mostly the
server's; `--client httpx` repeats the burst through httpx's connection pool, whose
per-stream overhead is several times larger, to show what a heavy Python client sees.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import h11
import httpx

from assistant.auth import Role
from assistant.keys import KeyStore
from assistant.resources import engine
from assistant.settings import Settings
from tools.market_data import PriceStore, load_sample

STREAMS = 100
TARGET_P95_MS = 200
ATTACKERS = 6
SIMPLE_QUESTIONS = 20
TARGET_SIMPLE_TOTAL_MS = 2000
TARGET_SIMPLE_FIRST_P95_MS = 1000
QUESTIONS = [
    "What was the RSI of AAPL at the end of 2020?",
    "How did KO perform in 2021?",
    "Compare the RSI of JPM and BAC at the end of 2021",
    "What's in my portfolio?",
]


class Outcome:
    """One stream: time to first event, time to the end, and whether it completed."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.first: float | None = None
        self.total = float("nan")
        self.ok = False
        self.problem = ""

    def line(self, line: str) -> bool:
        """Feed one SSE line; True once the stream has ended (completed or failed)."""
        if not line.startswith("data:"):
            return False
        if self.first is None:
            self.first = time.perf_counter() - self.started
        event = json.loads(line[5:])
        if event["type"] == "error":
            self.problem = f"error event {event['code']}: {event['message'][:200]}"
            return True
        if event["type"] == "message_end":
            self.ok = True
            return True
        return False

    def finish(self) -> Outcome:
        self.total = time.perf_counter() - self.started
        if not self.ok and not self.problem:
            self.problem = "stream ended without message_end"
        return self


async def one_h11(port: int, key: str, question: str) -> Outcome:
    out = Outcome()
    body = json.dumps({"message": question}).encode()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    conn = h11.Connection(h11.CLIENT)
    headers = [
        ("Host", f"127.0.0.1:{port}"),
        ("Authorization", f"Bearer {key}"),
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(body))),
    ]
    writer.write(conn.send(h11.Request(method="POST", target="/v1/chat", headers=headers)))
    writer.write(conn.send(h11.Data(data=body)) + conn.send(h11.EndOfMessage()))
    buffer = ""
    try:
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                conn.receive_data(await reader.read(65536))
            elif isinstance(event, h11.Response) and event.status_code != 200:
                out.problem = f"HTTP {event.status_code}"
                return out.finish()
            elif isinstance(event, h11.Data):
                buffer += event.data.decode()
                *lines, buffer = buffer.split("\n")
                if any(out.line(line.rstrip("\r")) for line in lines):
                    return out.finish()
            elif isinstance(event, (h11.EndOfMessage, h11.ConnectionClosed)):
                return out.finish()
    finally:
        writer.close()


async def one_httpx(client: httpx.AsyncClient, question: str) -> Outcome:
    out = Outcome()
    async with client.stream("POST", "/v1/chat", json={"message": question}) as response:
        if response.status_code != 200:
            out.problem = f"HTTP {response.status_code}"
            return out.finish()
        async for line in response.aiter_lines():
            if out.line(line):
                break
    return out.finish()


async def burst(kind: str, port: int, key: str) -> list[Outcome]:
    questions = [QUESTIONS[i % len(QUESTIONS)] for i in range(STREAMS)]
    if kind == "h11":
        await one_h11(port, key, "warm up: RSI of AAPL")
        return await asyncio.gather(*(one_h11(port, key, q) for q in questions))
    limits = httpx.Limits(max_connections=STREAMS, max_keepalive_connections=STREAMS)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}",
        headers={"Authorization": f"Bearer {key}"},
        timeout=120,
        limits=limits,
    ) as client:
        await one_httpx(client, "warm up: RSI of AAPL")
        return await asyncio.gather(*(one_httpx(client, q) for q in questions))


async def starvation(port: int, heavy_key: str, user_key: str) -> tuple[float, float, dict]:
    """One key sweeps as hard as it may; another asks simple questions meanwhile.
    Returns (p95 first event ms, slowest answer ms, what the attacker got)."""
    base = f"http://127.0.0.1:{port}"
    cap = Settings().max_sweep_combinations
    fast = [float(x) for x in range(2, 42)]
    grid = {"fast": fast, "slow": [float(x) for x in range(100, 100 + cap // len(fast))]}
    stop = asyncio.Event()
    got = {"sweeps": 0, "busy": 0, "other": 0}

    async def attacker() -> None:
        async with httpx.AsyncClient(
            base_url=base, headers={"Authorization": f"Bearer {heavy_key}"}, timeout=120
        ) as client:
            while not stop.is_set():
                r = await client.post(
                    "/v1/tools/run_backtest", json={"symbol": "AAPL", "sweep_grid": grid}
                )
                key = {200: "sweeps", 429: "busy"}.get(r.status_code, "other")
                got[key] += 1

    attackers = [asyncio.create_task(attacker()) for _ in range(ATTACKERS)]
    await asyncio.sleep(1.0)  # the sweeps are running
    answers = []
    for i in range(SIMPLE_QUESTIONS):
        answers.append(await one_h11(port, user_key, QUESTIONS[i % len(QUESTIONS)]))
        await asyncio.sleep(0.1)
    stop.set()
    await asyncio.gather(*attackers)
    firsts = [a.first * 1000 for a in answers if a.first is not None]
    failed = [a.problem for a in answers if not a.ok]
    if failed:
        print(f"  simple questions that failed: {failed[:3]}")
    return percentile(firsts, 0.95), max(a.total * 1000 for a in answers), got


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * q + 0.5) - 1)] if ordered else float("nan")


def report(kind: str, n: int, results: list[Outcome], wall: float) -> float:
    firsts = [r.first * 1000 for r in results if r.first is not None]
    totals = [r.total * 1000 for r in results if r.ok]
    failed = [r for r in results if not r.ok]
    p95 = percentile(firsts, 0.95)
    verdict = "meets" if p95 < TARGET_P95_MS and not failed else "MISSES"
    print(f"round {n} ({kind} client): {STREAMS} streams in {wall:.1f} s")
    print(f"  errors {len(failed)}   completed {len(totals)}")
    for r in failed[:5]:
        print(f"    {r.problem}")
    print(
        f"  time to first event  p50 {statistics.median(firsts):.0f} ms   p95 {p95:.0f} ms"
        f"   ({verdict} the target p95 < {TARGET_P95_MS} ms)"
    )
    if totals:
        print(
            f"  stream duration      p50 {statistics.median(totals):.0f} ms   max {max(totals):.0f} ms"
        )
    return p95


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--client", choices=["h11", "httpx"], default="h11")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        load_sample(PriceStore(Path(tmp) / "prices"))
        keys = KeyStore(engine(Settings(data_dir=Path(tmp))))
        key = keys.create(Role.VIEWER, "load")[1]
        heavy_key = keys.create(Role.VIEWER, "sweeper")[1]
        port = free_port()
        env = {
            **os.environ,
            "ASSISTANT_DATA_DIR": tmp,
            "ASSISTANT_RATE_LIMIT_PER_MINUTE": "100000",
        }
        env.pop("ASSISTANT_AUTH", None)
        exe = str(Path(sys.executable).with_name("assistant"))
        server = subprocess.Popen(
            [exe, "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        p95s = []
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).is_success:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            start_rss = rss_mb(server.pid)
            gc.collect()
            gc.freeze()  # the client's own full collections must not show up as latency
            for n in range(1, args.rounds + 1):
                began = time.perf_counter()
                results = asyncio.run(burst(args.client, port, key))
                p95s.append(report(args.client, n, results, time.perf_counter() - began))
            end_rss = rss_mb(server.pid)
            first_p95, slowest, got = asyncio.run(starvation(port, heavy_key, key))
        finally:
            server.terminate()
            server.wait(timeout=20)
    print(
        f"p95 time to first event over {args.rounds} rounds: "
        + ", ".join(f"{p:.0f}" for p in p95s)
        + f" ms (target < {TARGET_P95_MS} ms)"
    )
    print(
        f"server RSS after start {start_rss:.0f} MB (target < 1536 MB), after the load {end_rss:.0f} MB"
    )
    ok = first_p95 < TARGET_SIMPLE_FIRST_P95_MS and slowest < TARGET_SIMPLE_TOTAL_MS
    print(
        f"starvation: {ATTACKERS} connections of one key sweeping ({got['sweeps']} sweeps done, "
        f"{got['busy']} refused as busy, {got['other']} other); another user's "
        f"{SIMPLE_QUESTIONS} simple answers: first event p95 {first_p95:.0f} ms "
        f"(target < {TARGET_SIMPLE_FIRST_P95_MS}), slowest answer {slowest:.0f} ms "
        f"(target < {TARGET_SIMPLE_TOTAL_MS}): {'meets' if ok else 'MISSES'} the targets"
    )


if __name__ == "__main__":
    main()
