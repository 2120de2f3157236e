"""`assistant ingest`, `assistant search` and `assistant eval` as a user runs them."""

import json
from datetime import date, timedelta

import pytest

from tests.fakes.edgar import make_filings, serve_fake_edgar


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("docs-data")


@pytest.fixture
def use_docs(data_dir, monkeypatch):
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(data_dir))
    return data_dir


def test_ingest_sample_then_search_supply_chain(cli, use_docs):
    result = cli("ingest", "--sample", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["documents"] == 148 and report["failures"] == []
    found = cli("search", "supply chain risk", "--ticker", "AAPL", "--json")
    assert found.exit_code == 0, found.output
    hits = json.loads(found.output)["hits"]
    assert hits[0]["chunk"]["doc_id"] in {"sample:AAPL:10-K:2020", "sample:AAPL:10-Q:2020Q1"}
    citation = hits[0]["citation"]
    assert set(citation) == {
        "n",
        "doc_id",
        "title",
        "source",
        "published_at",
        "section",
        "snippet",
        "url",
    }
    assert citation["n"] == 1 and citation["source"] == "sample"


def test_search_as_of_and_type(cli, use_docs):
    out = json.loads(
        cli(
            "search",
            "bank profits",
            "--as-of",
            "2020-06-30",
            "--type",
            "news",
            "-k",
            "10",
            "--json",
        ).output
    )
    assert out["as_of"] == "2020-06-30"
    assert out["hits"] and all(h["chunk"]["published_at"] <= "2020-06-30" for h in out["hits"])
    assert all(h["chunk"]["doc_type"] == "news" for h in out["hits"])


def test_search_tickers_may_be_given_with_commas(cli, use_docs):
    both = cli("search", "supply chain", "--ticker", "AAPL,MSFT", "--json")
    assert both.exit_code == 0, both.output
    assert json.loads(both.output)["filters"]["tickers"] == ["AAPL", "MSFT"]


def test_search_form_is_any_case(cli, use_docs):
    """--form 10-k finds what --form 10-K finds (the ticker was already any case)."""
    upper = cli("search", "supply chain", "--form", "10-K", "--ticker", "aapl", "--json")
    lower = cli("search", "supply chain", "--form", "10-k", "--ticker", "aapl", "--json")
    assert upper.exit_code == lower.exit_code == 0
    assert '"hits": []' not in upper.output and upper.output == lower.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["x", "--ticker", "NOPE"], "error: unknown ticker NOPE"),
        (["x", "--as-of", (date.today() + timedelta(days=30)).isoformat()], "is in the future"),
        (["x", "--type", "tweet"], "Invalid value for '--type'"),
        (["   "], "error: the query is empty"),
        (
            ["x", "--start", "2021-01-01", "--end", "2020-01-01"],
            "error: start 2021-01-01 is after 2020-01-01",
        ),
    ],
)
def test_search_bad_input(cli, use_docs, args, message):
    result = cli("search", *args)
    assert result.exit_code == 2
    assert message in result.output


def test_ingest_files_reports_failures_and_keeps_the_good(cli, use_docs, tmp_path):
    (tmp_path / "good.md").write_text(
        "---\ntitle: Good memo\npublished_at: 2021-01-01\n---\nMargins improved."
    )
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "news.jsonl").write_text(
        '{"title": "T", "text": "x", "published_at": "2021-01-02"}\n{oops\n'
    )
    result = cli(
        "ingest",
        str(tmp_path / "good.md"),
        str(tmp_path / "empty.txt"),
        str(tmp_path / "news.jsonl"),
        str(tmp_path / "missing.md"),
    )
    assert result.exit_code == 2
    assert "Ingested 2 documents: 2 written" in result.output
    assert "3 item(s) failed" in result.output
    assert (
        "empty.txt: empty document" in result.output
        and "news.jsonl line 2: malformed JSON" in result.output
    )
    assert "missing.md: no such file" in result.output
    assert result.stderr.strip().splitlines() == [
        "error: 3 item(s) failed (the rest was ingested); see above"
    ]
    assert cli("ingest").exit_code == 2


def test_ingest_problems_name_the_file_in_one_line(cli, use_docs, tmp_path):
    """Found by a stranger: a bad front matter was PyYAML's 8 lines without the file's
    name, a missing feed file "not well-formed", an empty folder a success, and a run
    where everything failed said so on stdout only."""
    folder = tmp_path / "memos"
    folder.mkdir()
    (folder / "bad.md").write_text("---\ntickers: [KO\n---\nText.")
    result = cli("ingest", str(folder))
    assert result.exit_code == 2
    [failure] = [line for line in result.stdout.splitlines() if line.startswith("  - ")]
    assert "bad.md: front matter is not valid YAML" in failure and "(line 2, column" in failure
    assert result.stderr.strip() == "error: 1 item(s) failed (nothing was ingested); see above"
    feed = cli("ingest", "--rss", str(tmp_path / "nope.xml"))
    assert feed.exit_code == 2 and "nope.xml: no such file" in feed.stdout
    empty = tmp_path / "empty"
    empty.mkdir()
    nothing = cli("ingest", str(empty))
    assert nothing.exit_code == 2
    assert nothing.output.strip().startswith("error: ") and "holds no documents" in nothing.output


def test_ingest_edgar(cli, use_docs, monkeypatch):
    with serve_fake_edgar(make_filings(1234, "WIDG", "Widget Corp")) as fake:
        monkeypatch.setenv("ASSISTANT_EDGAR_BASE_URL", fake.url)
        monkeypatch.setenv("ASSISTANT_EDGAR_USER_AGENT", "MA tests@example.com")
        result = cli("ingest", "--edgar", "WIDG", "--json")
    assert result.exit_code == 0, result.output
    hits = json.loads(cli("search", "magnet supplier", "--ticker", "WIDG", "--json").output)["hits"]
    assert hits[0]["citation"]["section"] == "Item 1A. Risk Factors"
    assert hits[0]["citation"]["source"] == "SEC EDGAR"


def test_eval_retrieval_meets_its_gates(cli):
    result = cli("eval", "--suite", "retrieval", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["queries"] >= 60
    modes = {m["mode"]: m for m in data["modes"]}
    assert modes["hybrid"]["recall_at_5"] >= 0.9
    assert modes["hybrid"]["mrr_at_10"] > max(
        modes["dense"]["mrr_at_10"], modes["sparse"]["mrr_at_10"]
    )
    assert all(g["passed"] for g in data["gates"])


def test_eval_agent_meets_its_targets_with_the_offline_model(cli, isolated_env, monkeypatch):
    """The command's plumbing (exit code, JSON, reports) on every fourth case plus every
    order and injection case; tests/test_agent_eval.py runs all of them."""
    from evals.agent import runner

    every = runner.load_cases
    monkeypatch.setattr(
        runner,
        "load_cases",
        lambda paths=runner.CASES: [
            c for i, c in enumerate(every(paths)) if i % 4 == 0 or c.order or c.injection
        ],
    )
    result = cli("eval", "--suite", "agent", "--json")
    assert result.exit_code == 0, result.output[-3000:]
    data = json.loads(result.output)
    assert data["cases"] >= 80 and data["passed"] is True
    assert data["scores"]["tool_selection"] >= 0.95 and data["scores"]["grounding"] == 1.0
    assert data["scores"]["orders_pending"] == 1.0 and data["scores"]["injection"] == 1.0
    reports = sorted((isolated_env / "evals").glob("agent-eval-*"))
    assert [p.suffix for p in reports] == [".json", ".md"]
    assert "| tool_selection |" in reports[1].read_text()


def test_ingest_edgar_many_tickers_and_forms_resumes_without_downloading_again(
    cli, tmp_path, monkeypatch
):
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "edgar-data"))
    files = {
        **make_filings(1234, "WIDG", "Widget Corp"),
        **make_filings(5678, "GADG", "Gadget Inc"),
    }
    files["/files/company_tickers.json"] = json.dumps(
        {
            "0": {"cik_str": 1234, "ticker": "WIDG", "title": "Widget Corp"},
            "1": {"cik_str": 5678, "ticker": "GADG", "title": "Gadget Inc"},
        }
    ).encode()
    gadget_doc = next(k for k in files if k.startswith("/Archives/edgar/data/5678/"))
    missing = files.pop(gadget_doc)  # the first run is cut short on Gadget's filing
    with serve_fake_edgar(files) as fake:
        monkeypatch.setenv("ASSISTANT_EDGAR_BASE_URL", fake.url)
        monkeypatch.setenv("ASSISTANT_EDGAR_USER_AGENT", "MA tests@example.com")
        first = cli("ingest", "--edgar", "widg,GADG", "--form", "10-K,10-Q", "--json")
        assert first.exit_code == 2  # failures are reported; what could be read is in
        report = json.loads(first.stdout)
        assert report["written"] == 1 and len(report["failures"]) == 3
        errors = " ".join(f["error"] for f in report["failures"])
        assert "5678" in errors and "WIDG: EDGAR lists no 10-Q filings" in errors
        files[gadget_doc] = missing
        fake.paths.clear()
        again = cli("ingest", "--edgar", "WIDG", "--edgar", "GADG", "--form", "10-K", "--json")
        assert again.exit_code == 0, again.output
        assert json.loads(again.stdout)["written"] == 1  # only Gadget's 10-K
        downloads = [p for p in fake.paths if p.startswith("/Archives/")]
        assert downloads == [gadget_doc]
    hits = json.loads(cli("search", "magnet supplier", "--ticker", "GADG", "--json").output)
    assert hits["hits"] and hits["hits"][0]["citation"]["source"] == "SEC EDGAR"


def test_ingest_edgar_without_a_ticker_is_an_error(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "none"))
    result = cli("ingest", "--edgar", ",,,")
    assert result.exit_code == 2 and "--edgar names no ticker" in result.output
