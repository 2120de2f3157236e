"""The MCP server speaks the protocol (in-memory transport) and offers no order tool."""

import asyncio
import shutil

import pytest
from fastmcp import Client

from assistant.mcp_server import build_mcp
from assistant.settings import Settings


@pytest.fixture
def server(tmp_path, sample_dir, sample_index_dir):
    (tmp_path / "prices").symlink_to(sample_dir / "prices")
    shutil.copytree(sample_index_dir, tmp_path / "qdrant")
    return build_mcp(Settings(data_dir=tmp_path))


def test_read_only_tools_over_mcp(server):
    async def session():
        async with Client(server) as client:
            names = {t.name for t in await client.list_tools()}
            rsi = await client.call_tool("get_indicators", {"symbol": "AAPL", "end": "2020-12-31"})
            hits = await client.call_tool(
                "search_documents", {"query": "supply chain risk", "tickers": ["AAPL"]}
            )
            failed = await client.call_tool("get_prices", {"symbol": "NOPE"}, raise_on_error=False)
            chart = await client.call_tool("run_backtest", {"symbol": "KO", "start": "2021-01-01"})
            found = await client.call_tool("find_symbol", {"query": "exxon"})
            compared = await client.call_tool(
                "compare_symbols", {"symbols": ["KO", "PEP"], "start": "2022-01-01"}
            )
            return names, rsi, hits, failed, chart, found, compared

    names, rsi, hits, failed, chart, found, compared = asyncio.run(session())
    assert compared.structured_content["correlation"]["KO"]["PEP"] == pytest.approx(0.84, abs=0.01)
    assert found.structured_content["matches"][0]["symbol"] == "XOM"
    assert names == {
        "get_prices",
        "find_symbol",
        "get_indicators",
        "optimize_portfolio",
        "run_backtest",
        "run_walk_forward",
        "run_rebalance",
        "search_documents",
        "get_fundamentals",
        "get_portfolio",
        "compare_symbols",
        "portfolio_risk",
        "screen_symbols",
        "news_sentiment",
        "detect_anomalies",
        "find_sma_crosses",
    }
    assert rsi.structured_content["values"]["rsi_14"] == 62.77
    assert hits.structured_content["hits"][0]["doc_id"].startswith("sample:AAPL:")
    assert failed.is_error and "unknown symbol" in failed.content[0].text
    artifact = chart.structured_content["result"]["chart"]  # a URL, not a server path
    assert artifact["url"] == f"/v1/artifacts/{artifact['name']}" and "/tmp" not in str(chart)


def test_assistant_mcp_speaks_stdio(tmp_path, sample_dir):
    """The real command over stdio: initialise, list tools, call one."""
    import os
    import sys
    from pathlib import Path

    from fastmcp.client.transports import StdioTransport

    (tmp_path / "prices").symlink_to(sample_dir / "prices")
    exe = str(Path(sys.executable).with_name("assistant"))
    transport = StdioTransport(
        command=exe, args=["mcp"], env={**os.environ, "ASSISTANT_DATA_DIR": str(tmp_path)}
    )

    async def session():
        async with Client(transport) as client:
            tools = {t.name for t in await client.list_tools()}
            result = await client.call_tool(
                "get_prices", {"symbol": "KO", "start": "2021-01-01", "end": "2021-12-31"}
            )
            return tools, result

    tools, result = asyncio.run(session())
    assert "place_order" not in tools and "get_prices" in tools
    assert (
        result.structured_content["symbol"] == "KO"
        and result.structured_content["end"] == "2021-12-31"
    )
