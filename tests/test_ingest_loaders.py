"""Loaders: files with metadata, news JSON lines and feeds, EDGAR against a local fake."""

import json
from datetime import date

import pytest

from ingest.edgar import EdgarClient, split_items
from ingest.files import expand_paths, html_to_text, load_file
from ingest.news import dedupe, read_feed, read_jsonl
from retrieval.errors import IngestError
from retrieval.models import DocType
from tests.fakes.edgar import make_filings, serve_fake_edgar

UA = "Market Assistant tests@example.com"


def test_markdown_with_front_matter(tmp_path):
    path = tmp_path / "note.md"
    path.write_text(
        "---\ndoc_id: n1\ntitle: Widget outlook\nform: 10-K\ntickers: [widg]\n"
        "published_at: 2021-03-01\nsource: Acme\n---\n# Heading\n\nBody text.\n"
    )
    doc = load_file(path)
    assert (doc.doc_id, doc.title, doc.source, doc.form) == ("n1", "Widget outlook", "Acme", "10-K")
    assert doc.doc_type is DocType.FILING  # a form implies a filing
    assert doc.tickers == ["WIDG"]
    assert doc.published_at == date(2021, 3, 1)
    assert doc.text.startswith("# Heading")


def test_text_with_sidecar_json_and_defaults(tmp_path):
    path = tmp_path / "memo.txt"
    path.write_text("Plain memo about margins.")
    (tmp_path / "memo.txt.json").write_text(
        json.dumps({"title": "Memo", "published_at": "2020-01-05"})
    )
    doc = load_file(path)
    assert (doc.title, doc.doc_type) == ("Memo", DocType.NEWS)
    assert doc.doc_id.startswith("file:memo.txt:")
    assert doc.published_at == date(2020, 1, 5)


def test_html_headings_become_sections_and_scripts_vanish():
    text = html_to_text("<h2>Item 1A. Risk Factors</h2><p>Rates may rise.</p><script>x=1</script>")
    assert text == "## Item 1A. Risk Factors\n\nRates may rise."


def _pdf(path, words: str | None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure()
    if words:
        fig.text(0.1, 0.5, words)
    fig.savefig(path)
    plt.close(fig)


def test_pdf_text_and_pdf_without_text(tmp_path):
    _pdf(tmp_path / "report.pdf", "Quarterly revenue rose on cloud demand")
    (tmp_path / "report.json").write_text(json.dumps({"published_at": "2022-01-01"}))
    doc = load_file(tmp_path / "report.pdf")
    assert "cloud demand" in doc.text
    _pdf(tmp_path / "blank.pdf", None)
    with pytest.raises(IngestError, match=r"blank\.pdf: the PDF has no extractable text"):
        load_file(tmp_path / "blank.pdf")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.md", b"", "empty document"),
        ("blob.txt", b"\x00\x01\x02binary", "binary file"),
        ("sheet.xlsx", b"x", "unsupported file type .xlsx"),
        ("bad.md", b"---\ntitle: [unclosed\n---\nbody", "front matter is not valid YAML"),
        ("date.md", b"---\npublished_at: yesterday\n---\nbody", "bad metadata: published_at"),
    ],
)
def test_bad_files_are_named(tmp_path, name, content, message):
    (tmp_path / name).write_bytes(content)
    with pytest.raises(IngestError, match=message):
        load_file(tmp_path / name)


def test_folders_expand_to_supported_files(tmp_path):
    (tmp_path / "a.md").write_text("x")
    (tmp_path / "a.md.json").write_text("{}")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.html").write_text("<p>x</p>")
    assert [p.name for p in expand_paths([tmp_path])] == ["a.md", "b.html"]


def test_jsonl_reports_bad_lines_and_keeps_good_ones(tmp_path):
    path = tmp_path / "news.jsonl"
    good = {
        "title": "Rates rise",
        "text": "The Fed raised rates.",
        "published_at": "2022-03-16",
        "url": "https://example.com/a",
        "tickers": ["jpm"],
    }
    path.write_text(
        json.dumps(good)
        + "\n{not json\n"
        + json.dumps({"text": "no title", "published_at": "2022-01-01"})
        + "\n\n"
        + json.dumps({**good, "title": "Same story again"})
        + "\n"
    )
    items = list(read_jsonl(path))
    docs = [i for i in items if not isinstance(i, IngestError)]
    errors = [str(i) for i in items if isinstance(i, IngestError)]
    assert errors == [
        "news.jsonl line 2: malformed JSON (Expecting property name enclosed in double quotes)",
        "news.jsonl line 3: no title",
    ]
    assert docs[0].tickers == ["JPM"] and docs[0].doc_id == docs[1].doc_id  # id from the URL
    assert len(dedupe(docs)) == 1


def test_rss_feed_items_and_broken_feed(tmp_path):
    feed = tmp_path / "feed.xml"
    feed.write_text("""<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>
<item><title>Oil jumps</title><link>https://example.com/oil</link>
<pubDate>Tue, 08 Mar 2022 10:00:00 GMT</pubDate><description>&lt;p&gt;Crude rose 5%.&lt;/p&gt;</description></item>
<item><title>No date</title><link>https://example.com/x</link><description>x</description></item>
</channel></rss>""")
    items = list(read_feed(str(feed), ["XOM"]))
    doc = items[0]
    assert (doc.title, doc.source, doc.published_at, doc.tickers) == (
        "Oil jumps",
        "Wire",
        date(2022, 3, 8),
        ["XOM"],
    )
    assert doc.text == "Crude rose 5%."
    assert isinstance(items[1], IngestError) and "no publication date" in str(items[1])
    (tmp_path / "junk.xml").write_text("this is not a feed <<<")
    with pytest.raises(IngestError, match="failed to parse"):
        list(read_feed(str(tmp_path / "junk.xml")))


def test_edgar_fetches_splits_items_and_sends_user_agent():
    with serve_fake_edgar(make_filings(1234, "WIDG", "Widget Corp")) as fake:
        client = EdgarClient(UA, base_url=fake.url)
        [doc] = client.filings("widg", form="10-K")
    assert doc.source == "SEC EDGAR" and doc.form == "10-K" and doc.tickers == ["WIDG"]
    assert doc.published_at == date(2023, 2, 15)
    assert doc.url.endswith("/Archives/edgar/data/1234/000000123423000042/widg-20221231.htm")
    headings = [h for h, _ in doc.sections]
    assert headings == [
        "Item 1. Business",
        "Item 1A. Risk Factors",
        "Item 7. Management's Discussion and Analysis",
    ]
    risk = dict(doc.sections)["Item 1A. Risk Factors"]
    assert "rare earth magnets" in risk and "Item 9" not in doc.text
    assert set(fake.agents) == {UA}


def test_edgar_rate_limit_and_errors():
    with serve_fake_edgar(make_filings(1234, "WIDG", "Widget Corp")) as fake:
        client = EdgarClient(UA, base_url=fake.url, rate=10)
        for _ in range(3):
            client.cik("WIDG")
        assert len(fake.times) == 1  # the company list is read once per client
        for _ in range(3):
            client._get(f"{fake.url}/files/company_tickers.json")
        gaps = [b - a for a, b in zip(fake.times, fake.times[1:], strict=False)]
        # at most 10 requests per second: times are taken on arrival, where a loaded
        # machine's scheduling jitters single gaps, so the span is held to it
        assert sum(gaps) >= 0.095 * len(gaps) and min(gaps) >= 0.05
        with pytest.raises(IngestError, match="unknown ticker 'NOPE'"):
            client.filings("NOPE")
        with pytest.raises(IngestError, match="no 10-Q filings"):
            client.filings("WIDG", form="10-Q")
    with pytest.raises(IngestError, match="User-Agent with a contact email"):
        EdgarClient("anonymous")


def test_split_items_prefers_the_real_section_over_the_contents_line():
    text = "Item 1. Business\nItem 1A. Risk Factors\n\nItem 1. Business\nWe sell.\n\nItem 1A. Risk Factors\nRisky things happen here."
    assert split_items(text) == [
        ("Item 1. Business", "We sell."),
        ("Item 1A. Risk Factors", "Risky things happen here."),
    ]


def test_two_files_of_one_name_are_two_documents_and_a_ticker_string_is_one_ticker(tmp_path):
    """Two README.md in different folders used to share an id (the second replaced the
    first); 'tickers: KO' used to become ['K', 'O']."""
    for folder, ticker in (("a", "KO"), ("b", "AAPL, MSFT")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "README.md").write_text(
            f"---\ntitle: {folder}\npublished_at: 2021-01-01\ntickers: {ticker}\n---\nText."
        )
    first, second = (load_file(tmp_path / f / "README.md") for f in ("a", "b"))
    assert first.doc_id != second.doc_id
    assert load_file(tmp_path / "a" / "README.md").doc_id == first.doc_id  # stable
    assert (first.tickers, second.tickers) == (["KO"], ["AAPL", "MSFT"])


def test_an_unreachable_edgar_is_said_to_be_unreachable_not_to_send_bad_json():
    from ingest.edgar import EdgarClient
    from retrieval.errors import IngestError
    from tests.serving import free_port

    client = EdgarClient("Test t@example.com", base_url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(IngestError, match="EDGAR request failed"):
        client.company_list()
