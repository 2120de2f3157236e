"""What an unreachable price provider costs a question about a stored symbol: the same
questions answered offline (provider `none`) and with yfinance pointed at an address
where nothing listens (connection refused, as on a machine without network) and at one
that never answers (a blackholed network: each request waits for its timeout). Each
answer must say the prices could not be refreshed.

Run: `.venv/bin/python -m benchmarks.bench_freshness`. Target (issue 13): every answer
within 2 s of the offline time, the first question of a process included.
"""

from __future__ import annotations

import asyncio
import socket
import statistics
import tempfile
import threading
import time
from pathlib import Path

from assistant.auth import LOCAL_USER
from assistant.services import build_services
from assistant.settings import Settings
from tools.market_data import PriceStore, load_sample

QUESTIONS = [
    "What's the RSI of Coca-Cola?",
    "How has Apple done over the last year?",
    "compare JPM and BAC this year",
    "tell me about exxon",
    "is pfizer overbought?",
]


def silent_server() -> tuple[str, socket.socket]:
    """Accepts connections and never answers: every request waits for its timeout."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                held.append(server.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    return f"http://127.0.0.1:{server.getsockname()[1]}", server


def timed(data: Path, **settings) -> list[tuple[float, str]]:
    services = build_services(Settings(data_dir=data, **settings))
    out = []
    for question in QUESTIONS:
        started = time.perf_counter()
        turn = asyncio.run(services.chat.ask(question, LOCAL_USER))
        out.append(((time.perf_counter() - started) * 1000, turn.answer))
    return out


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        load_sample(PriceStore(data / "prices"))
        timed(data, price_provider="none")  # warm: the intent model, the caches
        offline = timed(data, price_provider="none")
        refused = timed(data, price_provider="yfinance", yahoo_base_url="http://127.0.0.1:9")
        url, server = silent_server()
        silent = timed(data, price_provider="yfinance", yahoo_base_url=url)
        server.close()
    print(f"{len(QUESTIONS)} questions about stored symbols, one process each setting")
    for name, rows in (("offline (none)", offline), ("refused", refused), ("silent", silent)):
        extra = [t - o for (t, _), (o, _) in zip(rows, offline, strict=True)]
        said = sum("could not be refreshed" in answer for _, answer in rows)
        print(
            f"  {name:15s} median {statistics.median(t for t, _ in rows):7.0f} ms   "
            f"worst extra over offline {max(extra):6.0f} ms   says not refreshed {said}/{len(rows)}"
        )
    print("  target: worst extra < 2000 ms, and every answer says so when refused or silent")


if __name__ == "__main__":
    main()
