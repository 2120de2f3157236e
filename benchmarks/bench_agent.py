"""Agent overhead per turn with the offline model: everything except tool work (the
planner, pydantic-ai's run loop, event translation, history (de)serialisation, the
database writes). Run: `.venv/bin/python -m benchmarks.bench_agent`. Target: median
under 20 ms.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from assistant.auth import LOCAL_USER
from assistant.events import MessageEnd
from assistant.services import build_services
from assistant.settings import Settings
from tools.market_data import PriceStore, load_sample

QUESTIONS = [  # one symbol per round, so no round repeats a question of an earlier one
    "What was the RSI of {a} at the end of 2020?",
    "How did {a} perform in 2021?",
    "Compare the RSI of {a} and {b} at the end of 2021",
    "Optimise {a}, {b} and KO with minimum variance",
    "What's in my portfolio{p}",
    "hello{p}",
]
PAIRS = [("AAPL", "MSFT", "?"), ("JPM", "BAC", "??"), ("XOM", "CVX", "!"), ("PFE", "MRK", "."),
         ("WMT", "HD", " now?")]  # fmt: skip
ROUNDS = 5


async def measure(services) -> list[tuple[float, float]]:
    """(turn total ms, of which tool work ms) per turn; the chat service records the tool
    time of its last turn."""
    out = []
    for a, b, p in PAIRS[:ROUNDS]:
        for template in QUESTIONS:
            q = template.format(a=a, b=b, p=p)
            started = time.perf_counter()
            end = None
            async for event in services.chat.stream(q, LOCAL_USER):
                if isinstance(event, MessageEnd):
                    end = event
            total = (time.perf_counter() - started) * 1000
            assert end is not None
            out.append((total, services.chat.last_tool_seconds * 1000))
    return out


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        load_sample(PriceStore(data / "prices"))
        services = build_services(Settings(data_dir=data, price_provider="none"))
        asyncio.run(services.chat.ask("warm up: RSI of AAPL", LOCAL_USER))
        samples = asyncio.run(measure(services))
    overhead = [total - tools for total, tools in samples]
    totals = [total for total, _ in samples]
    print(f"offline model, {len(samples)} turns ({len(QUESTIONS)} questions x {ROUNDS})")
    print(f"  turn total      median {statistics.median(totals):7.1f} ms")
    print(
        f"  agent overhead  median {statistics.median(overhead):7.1f} ms   p95 "
        f"{sorted(overhead)[int(len(overhead) * 0.95) - 1]:.1f} ms   target median < 20 ms"
    )


if __name__ == "__main__":
    main()
