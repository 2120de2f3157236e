"""One data dir, many processes: with `assistant serve` running on the embedded index,
the command line searches, answers document questions, serves MCP and ingests — and each
side sees what the other wrote. (Embedded Qdrant locks its folder while a client is open;
readers use the mirror the writer publishes, see retrieval/mirror.py.)"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import httpx

from tests.serving import served

APPLE_QUESTION = "What did Apple's 10-K say about supply chain risk?"


def _mcp_search(env: dict[str, str], query: str) -> dict:
    """`assistant mcp` as a real process: initialize, then call search_documents."""
    exe = str(Path(sys.executable).with_name("assistant"))
    requests = [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "test", "version": "1"},
            },
        },
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "tools/call",
            "params": {"name": "search_documents", "arguments": {"query": query}},
        },
    ]
    with subprocess.Popen(
        [exe, "mcp"],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as server:
        assert server.stdin and server.stdout
        killer = threading.Timer(120, server.kill)  # a wedged server fails the test, not CI
        killer.start()
        try:
            server.stdin.write("".join(json.dumps(r) + "\n" for r in requests))
            server.stdin.flush()  # stdin stays open: EOF would end the session before it answers
            for line in server.stdout:
                answer = json.loads(line)
                if answer.get("id") == 2:
                    return answer
        finally:
            killer.cancel()
            server.kill()
    raise AssertionError("assistant mcp ended without answering")


def test_cli_search_chat_mcp_and_ingest_while_the_server_runs(
    tmp_path, sample_dir, sample_index_dir, cli, monkeypatch
):
    data = tmp_path / "data"
    data.mkdir()
    (data / "prices").symlink_to(sample_dir / "prices")
    shutil.copytree(sample_index_dir, data / "qdrant")
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(data))
    env = {"ASSISTANT_DATA_DIR": str(data), "ASSISTANT_AUTH": "off"}
    with served(env, tmp_path / "serve.log") as server, httpx.Client(base_url=server.url) as api:
        first = api.get("/v1/search", params={"q": "supply chain", "ticker": "AAPL"}, timeout=60)
        assert first.status_code == 200 and first.json()["hits"]  # the server holds a mirror

        found = cli("search", "supply chain", "--ticker", "AAPL", "--json")
        assert found.exit_code == 0, found.output
        assert json.loads(found.output)["hits"]

        answer = cli("chat", APPLE_QUESTION)
        assert answer.exit_code == 0, answer.output
        assert "[1]" in answer.output and "open in another process" not in answer.output

        note = tmp_path / "memo.md"
        note.write_text(
            "---\ntitle: Zorbulax memo\npublished_at: 2022-06-01\ntickers: [AAPL]\n---\n"
            "The zorbulax supplier in Penang doubled its prices this quarter."
        )
        written = cli("ingest", str(note))
        assert written.exit_code == 0, written.output
        assert "1 written" in written.output

        seen = api.get("/v1/search", params={"q": "zorbulax supplier"}, timeout=60).json()
        assert seen["hits"][0]["chunk"]["title"] == "Zorbulax memo"  # the server sees it

        sent = api.post(
            "/v1/ingest",
            json={
                "documents": [
                    {
                        "doc_id": "memo:quuxite",
                        "title": "Quuxite memo",
                        "source": "test",
                        "doc_type": "news",
                        "tickers": ["KO"],
                        "published_at": "2022-07-01",
                        "text": "Quuxite sweetener shortages hit bottlers in July.",
                    }
                ]
            },
            timeout=120,
        )
        assert sent.status_code == 200, sent.text
        mine = cli("search", "quuxite sweetener", "--json")
        assert mine.exit_code == 0, mine.output
        assert json.loads(mine.output)["hits"][0]["chunk"]["doc_id"] == "memo:quuxite"

        over_mcp = _mcp_search({**os.environ, **env}, "quuxite sweetener")
        assert "result" in over_mcp, over_mcp
        assert "Quuxite memo" in json.dumps(over_mcp["result"])
