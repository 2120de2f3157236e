"""Cold start of the command line: each command is a new process, timed from spawn to
exit (median of 3), next to `python -c pass`; and `assistant mcp` from spawn to its
answer to `initialize`.

Run: `.venv/bin/python -m benchmarks.bench_cli` (or `make bench`). Targets (issue 14):
`--help` and `data list` < 0.5 s, a chat without documents < 2 s, a document chat < 4 s,
MCP `initialize` < 1.5 s. The data dir is a temporary one with the sample prices and
documents (loaded first, outside the timing); offline (no price provider). The model
cache is ASSISTANT_MODEL_CACHE_DIR (default <data dir>/models), prepared by a warm-up run.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ASSISTANT = [sys.executable, "-c", "from cli import main; main()"]
CASES = [
    ("python -c pass", [sys.executable, "-c", "pass"], None),
    ("assistant --help", [*ASSISTANT, "--help"], 0.5),
    ("assistant data list", [*ASSISTANT, "data", "list"], 0.5),
    ("assistant chat (prices)", [*ASSISTANT, "chat", "What is Apple's RSI?"], 2.0),
    (
        "assistant chat (documents)",
        [*ASSISTANT, "chat", "What supply chain risks did Apple report?"],
        4.0,
    ),
]
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "bench", "version": "1"},
    },
}


def timed(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv[3:])} failed: {done.stderr.strip()[-500:]}")
    return elapsed


def mcp_initialize(env: dict[str, str]) -> float:
    """Spawn `assistant mcp` and time until its answer to `initialize` arrives."""
    started = time.perf_counter()
    with subprocess.Popen(
        [*ASSISTANT, "mcp"],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as server:
        assert server.stdin and server.stdout
        server.stdin.write(json.dumps(INITIALIZE) + "\n")
        server.stdin.flush()
        answer = json.loads(server.stdout.readline())
        elapsed = time.perf_counter() - started
        server.kill()
    if answer.get("id") != 1 or "result" not in answer:
        raise SystemExit(f"assistant mcp did not initialize: {answer}")
    return elapsed


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "ASSISTANT_DATA_DIR": tmp,
            "ASSISTANT_PRICE_PROVIDER": "none",
            "NO_COLOR": "1",
        }
        env.pop("ASSISTANT_DATABASE_URL", None)
        for setup in (["data", "load-sample"], ["ingest", "--sample"]):
            timed([*ASSISTANT, *setup], env)
        for _, argv, _ in CASES[1:]:
            timed(argv, env)  # warm: the model cache, the OS's file cache
        base = None
        print(f"cold start, median of 3 (data dir {Path(tmp).name}, offline):")
        for name, argv, target in CASES:
            seconds = statistics.median(timed(argv, env) for _ in range(3))
            base = base or seconds
            verdict = (
                ""
                if target is None
                else f"target < {target:.1f} s  " + ("met" if seconds < target else "NOT met")
            )
            print(f"  {name:28s} {seconds:6.2f} s  (python +{seconds - base:5.2f} s)  {verdict}")
        seconds = statistics.median(mcp_initialize(env) for _ in range(3))
        verdict = "met" if seconds < 1.5 else "NOT met"
        print(f"  {'assistant mcp: initialize':28s} {seconds:6.2f} s  target < 1.5 s  {verdict}")


if __name__ == "__main__":
    main()
