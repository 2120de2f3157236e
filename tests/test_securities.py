"""The security master: companies found by ticker, name, short name or misspelling;
SEC's company list adds CIKs, exchanges and companies outside the indices; the agent,
the CLI and the API look up through it."""

from __future__ import annotations

import json

import pytest

from tests.fakes.edgar import serve_fake_edgar
from tests.test_api import api, client  # noqa: F401 - the module's server fixture
from tools.errors import InvalidInputError
from tools.securities import Security, SecurityMaster, bundled, from_sec

SEC_LIST = {
    "fields": ["cik", "name", "ticker", "exchange"],
    "data": [
        [320193, "Apple Inc.", "AAPL", "Nasdaq"],
        [1045810, "NVIDIA CORP", "NVDA", "Nasdaq"],
        [1999999, "Tiny Widgets Holdings Inc", "TWDG", "OTC"],
    ],
}


@pytest.fixture
def own_data(isolated_env, sample_dir):
    """A data dir of the test's own (a refresh writes into it) with the sample's prices."""
    isolated_env.mkdir(parents=True, exist_ok=True)
    (isolated_env / "prices").symlink_to(sample_dir / "prices")
    return isolated_env


@pytest.fixture(scope="module")
def master() -> SecurityMaster:
    return SecurityMaster(bundled())


@pytest.mark.parametrize(
    ("query", "symbol"),
    [
        ("aapl", "AAPL"),
        ("$msft", "MSFT"),
        ("nvidia", "NVDA"),
        ("jp morgan", "JPM"),
        ("procter gambel", "PG"),
        ("coke", "KO"),
        ("Bank of America Corp.", "BAC"),
        ("exxon", "XOM"),
    ],
)
def test_a_company_is_found_however_it_is_written(master, query, symbol):
    assert master.search(query, 5)[0].symbol == symbol


def test_bundled_companies_carry_exchange_sector_and_indices(master):
    assert len(master) > 1000
    apple = master.get("aapl")
    assert apple.exchange == "NASDAQ" and apple.sector == "Information Technology"
    assert "S&P 500" in apple.indices and apple.cik is None  # CIKs come from SEC


def test_nothing_like_it_is_an_empty_list_and_bad_queries_are_named(master):
    assert master.search("qqqqzzzz") == []
    with pytest.raises(InvalidInputError, match="ticker or a company name"):
        master.search("   ")
    with pytest.raises(InvalidInputError, match="at most 100"):
        master.search("x" * 101)


def test_secs_list_adds_ciks_and_companies_outside_the_indices():
    merged = SecurityMaster(bundled(), from_sec(SEC_LIST))
    assert merged.get("AAPL").cik == 320193 and merged.get("AAPL").name == "Apple Inc."
    assert merged.get("TWDG") == Security(
        symbol="TWDG", name="Tiny Widgets Holdings Inc", cik=1999999, exchange="OTC"
    )
    assert merged.search("tiny widgets")[0].symbol == "TWDG"
    with pytest.raises(InvalidInputError, match="expected shape"):
        from_sec({"fields": ["ticker"], "data": [["X"]]})


def test_cli_looks_up_and_refreshes_from_sec(cli, own_data, monkeypatch):
    found = json.loads(cli("data", "symbols", "coca cola", "--json").output)
    assert found[0]["symbol"] == "KO" and found[0]["in_store"] is True
    stored = json.loads(cli("data", "symbols", "--json").output)
    assert {"AAPL", "KO", "XOM"} <= {s["symbol"] for s in stored}
    assert all(s["in_store"] for s in stored)

    no_agent = cli("data", "symbols", "nvidia", "--refresh")
    assert no_agent.exit_code == 2 and no_agent.output.startswith("error: EDGAR requires")
    files = {"/files/company_tickers_exchange.json": json.dumps(SEC_LIST).encode()}
    with serve_fake_edgar(files) as fake:
        monkeypatch.setenv("ASSISTANT_EDGAR_BASE_URL", fake.url)
        monkeypatch.setenv("ASSISTANT_EDGAR_USER_AGENT", "MA tests@example.com")
        refreshed = cli("data", "symbols", "nvidia", "--refresh", "--json")
    assert refreshed.exit_code == 0, refreshed.output
    nvda = json.loads(refreshed.output)[0]
    assert (nvda["symbol"], nvda["cik"], nvda["in_store"]) == ("NVDA", 1045810, False)
    # kept: the next lookup, offline, still has the CIK
    assert json.loads(cli("data", "symbols", "AAPL", "--json").output)[0]["cik"] == 320193


def test_refresh_refuses_a_list_of_another_shape(cli, own_data, monkeypatch):
    files = {"/files/company_tickers_exchange.json": b'{"0": {"ticker": "AAPL"}}'}
    with serve_fake_edgar(files) as fake:
        monkeypatch.setenv("ASSISTANT_EDGAR_BASE_URL", fake.url)
        monkeypatch.setenv("ASSISTANT_EDGAR_USER_AGENT", "MA tests@example.com")
        result = cli("data", "symbols", "apple", "--refresh")
    assert result.exit_code == 2 and "not in the expected shape" in result.output
    assert not (own_data / "securities").exists()


def test_api_tool_finds_symbols(api):  # noqa: F811
    with client(api) as c:
        found = c.post("/v1/tools/find_symbol", json={"query": "home depot", "limit": 3})
        assert found.status_code == 200, found.text
        body = found.json()
        assert body["matches"][0]["symbol"] == "HD" and body["matches"][0]["in_store"] is True
        assert c.post("/v1/tools/find_symbol", json={"query": ""}).status_code == 422
        assert c.post("/v1/tools/find_symbol", json={"query": "x", "limit": 99}).status_code == 422
