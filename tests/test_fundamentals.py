"""Fundamentals from SEC company facts: point in time, latest period, TTM, ratios, and
the fetch through a local fake of SEC's API (cache, stale copy, user agent)."""

from __future__ import annotations

import json
from datetime import date

import pytest

from tests.fakes.edgar import APPLE_CIK, M, apple_company_facts, apple_files, serve_fake_edgar
from tools.errors import NoDataError, ProviderError, UnknownSymbolError
from tools.fundamentals import fundamentals
from tools.providers.sec import CompanyFacts

FACTS = apple_company_facts()


def test_as_of_a_day_gives_the_fiscal_year_filed_by_then():
    f = fundamentals(FACTS, "AAPL", date(2021, 12, 31))
    assert f.revenue.value == 365_817 * M and f.revenue.period_end == date(2021, 9, 25)
    assert (f.revenue.filed, f.revenue.form) == (date(2021, 10, 29), "10-K")
    assert f.eps_diluted.value == 5.61 and f.net_income.value == 94_680 * M
    assert f.growth["revenue"] == pytest.approx(365_817 / 274_515 - 1, abs=1e-4)
    assert f.free_cash_flow.value == (104_038 - 11_085) * M
    assert f.shares_outstanding.value == 16_406_397_000  # the cover page filed 2021-10-29
    assert f.total_assets.period_end == date(2021, 9, 25)
    assert f.ttm["revenue"].value == 365_817 * M  # no quarter filed since the 10-K
    assert f.quarterly["revenue"].period_end == date(2020, 12, 26)  # the last one filed


def test_the_latest_period_wins_not_the_latest_filing():
    # the FY2022 10-K (filed 2022-10-28) repeats FY2021 and FY2020: FY2022 is the answer
    f = fundamentals(FACTS, "AAPL", date(2022, 12, 31))
    assert f.revenue.period_end == date(2022, 9, 24) and f.revenue.value == 394_328 * M
    assert f.growth["net_income"] == pytest.approx(99_803 / 94_680 - 1, abs=1e-4)
    # a restatement of a period: the later filing of the same period wins
    restated = json.loads(json.dumps(FACTS))
    rows = restated["facts"]["us-gaap"]["NetIncomeLoss"]["units"]["USD"]
    fy2022 = next(r for r in rows if r["end"] == "2022-09-24")
    rows.append({**fy2022, "val": 1.0, "filed": "2022-11-30", "form": "10-K/A"})
    assert fundamentals(restated, "AAPL", date(2022, 12, 31)).net_income.value == 1.0
    assert fundamentals(restated, "AAPL", date(2022, 11, 1)).net_income.value != 1.0


def test_ttm_adds_the_year_to_date_and_drops_the_same_span_a_year_before():
    f = fundamentals(FACTS, "AAPL", date(2022, 3, 1))
    assert f.revenue.period_end == date(2021, 9, 25)
    ttm = f.ttm["revenue"]
    assert ttm.value == (365_817 + 123_945 - 111_439) * M and ttm.derived
    assert ttm.period_end == date(2021, 12, 25)
    assert f.ttm["eps_diluted"].value == pytest.approx(5.61 + 2.10 - 1.68)
    assert f.ttm["dividends_per_share"].value == pytest.approx(0.85 + 0.22 - 0.205)


def test_ratios_use_the_close_and_the_facts_known_that_day():
    f = fundamentals(FACTS, "AAPL", date(2021, 12, 31), (date(2021, 12, 31), 177.57))
    assert f.market_cap == round(177.57 * 16_406_397_000)
    assert f.pe_ratio == round(177.57 / 5.61, 2)
    assert f.ps_ratio == round(f.market_cap / (365_817 * M), 2)
    assert f.dividend_yield == pytest.approx(0.85 / 177.57, abs=1e-6)
    # a close older than the facts: the ratios use what was filed by the close's day
    g = fundamentals(FACTS, "AAPL", date(2022, 12, 31), (date(2021, 12, 31), 177.57))
    assert g.revenue.period_end == date(2022, 9, 24)
    assert g.pe_ratio == f.pe_ratio and "close of 2021-12-31" in g.notes[0]


def test_nothing_filed_by_the_day_is_a_clear_error():
    with pytest.raises(NoDataError, match="filed on or before 2019-01-01"):
        fundamentals(FACTS, "AAPL", date(2019, 1, 1))


def test_company_facts_are_fetched_once_cached_and_read_point_in_time(tmp_path):
    with serve_fake_edgar(apple_files()) as sec:
        client = CompanyFacts("Tester test@example.com", tmp_path, base_url=sec.url)
        facts, note = client.get(APPLE_CIK)
        assert facts["entityName"] == "Apple Inc." and note is None
        assert sec.agents[-1] == "Tester test@example.com"
        client.get(APPLE_CIK)
        client.get(APPLE_CIK, date(2021, 1, 1))
        assert len(sec.times) == 1  # the cached copy answers
        assert client.path(APPLE_CIK).is_file()
        with pytest.raises(UnknownSymbolError, match="CIK 1234"):
            client.get(1234)
    # SEC unreachable: the cached copy is used and said to be
    late = CompanyFacts(
        "Tester test@example.com", tmp_path, base_url="http://127.0.0.1:9", ttl_hours=0
    )
    facts, note = late.get(APPLE_CIK)
    assert facts["cik"] == APPLE_CIK and note.startswith("SEC could not be reached")
    with pytest.raises(ProviderError, match="User-Agent"):
        CompanyFacts(None, tmp_path / "other", base_url="http://127.0.0.1:9").get(APPLE_CIK)


@pytest.fixture
def sec(monkeypatch, sample_dir, tmp_path):
    data = tmp_path / "data"  # its own data dir (the cache is written), the sample's prices
    data.mkdir()
    (data / "prices").symlink_to(sample_dir / "prices")
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(data))
    with serve_fake_edgar(apple_files()) as fake:
        monkeypatch.setenv("ASSISTANT_EDGAR_BASE_URL", fake.url)
        monkeypatch.setenv("ASSISTANT_EDGAR_USER_AGENT", "Tester test@example.com")
        yield fake


def test_cli_fundamentals_with_the_stored_close(sec, cli, sample_store):
    result = cli("tools", "fundamentals", "AAPL", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["revenue"]["value"] == 394_328 * M
    assert data["revenue"]["period_end"] == "2022-09-24"
    assert (data["revenue"]["filed"], data["revenue"]["form"]) == ("2022-10-28", "10-K")
    close = float(sample_store.load("AAPL").price.iloc[-1])
    assert data["price_date"] == "2022-12-28"
    assert data["pe_ratio"] == round(close / 6.11, 2)
    assert data["market_cap"] == round(close * 15_908_118_000)
    assert data["dividend_yield"] == pytest.approx(0.90 / close, abs=1e-6)

    pinned = json.loads(
        cli("tools", "fundamentals", "AAPL", "--as-of", "2021-12-31", "--json").output
    )
    assert pinned["revenue"]["period_end"] == "2021-09-25"
    assert pinned["eps_diluted"]["value"] == 5.61
    close_2021 = sample_store.load("AAPL", None, date(2021, 12, 31))
    assert pinned["price_date"] == str(close_2021.as_of)
    assert pinned["pe_ratio"] == round(float(close_2021.price.iloc[-1]) / 5.61, 2)
    assert len(sec.times) <= 3  # the company list once, the facts once (then cached)


def test_cli_fundamentals_errors_are_one_line(sec, cli, monkeypatch):
    result = cli("tools", "fundamentals", "ZZZZ")
    assert result.exit_code == 2 and result.output.startswith("error:")
    assert "ZZZZ" in result.output and len(result.output.strip().splitlines()) == 1
    monkeypatch.delenv("ASSISTANT_EDGAR_USER_AGENT")
    result = cli("tools", "fundamentals", "AAPL")
    assert result.exit_code == 2 and "ASSISTANT_EDGAR_USER_AGENT" in result.output


def test_chat_answers_valuation_questions_from_the_filings(sec, cli, sample_store):
    close = float(sample_store.load("AAPL").price.iloc[-1])
    result = cli("chat", "What's Apple's P/E ratio?", "--json")
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)["answer"]
    assert f"AAPL's P/E at the close of 2022-12-28: {close / 6.11:,.2f}" in answer
    assert "Close $125.67 on 2022-12-28; TTM diluted EPS $6.11 to 2022-09-24" in answer
    older = json.loads(cli("chat", "Apple's revenue as of 2021-12-31", "--json").output)["answer"]
    assert "AAPL's revenue for the fiscal year to 2021-09-25: $365.82 billion" in older
    said = {
        "how fast are apple's earnings growing": "AAPL's net income grew +5.41% year over year",
        "apple's profit margin": "AAPL's net margin in the fiscal year to 2022-09-24: 25.31%",
        "how much does apple pay in dividends per share": "AAPL's dividends per share for the "
        "fiscal year to 2022-09-24: $0.90",
        "what is apple's quarterly revenue as of 2022-03-01": "AAPL's revenue for the quarter "
        "to 2021-12-25: $123.94 billion",
        "how much debt does apple have": "AAPL's total liabilities at 2022-09-24: $302.08 billion",
        "apple gross margin vs operating margin": "AAPL's operating margin in the fiscal year to "
        "2022-09-24: 30.29%",
    }
    for question, expected in said.items():
        answer = json.loads(cli("chat", question, "--json").output)["answer"]
        assert expected in answer, (question, answer)
