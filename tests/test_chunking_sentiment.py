"""Chunking keeps structure; sentiment runs a real (tiny, local) transformers model."""

from datetime import date

import pytest

from ingest.chunking import ChunkSettings, chunk_document, document_hash
from ingest.sentiment import LexiconSentiment, TransformersSentiment, load_sentiment
from retrieval.models import DocType, Document

FILING = Document(
    doc_id="f1",
    title="Widget 10-K",
    source="sample",
    doc_type=DocType.FILING,
    form="10-K",
    tickers=["WIDG"],
    published_at=date(2021, 2, 1),
    text="# Widget 10-K\n\n## Item 1. Business\n\nWe make widgets.\n\n## Item 1A. Risk Factors\n\n"
    "### Supplier concentration\n\nOne supplier makes all magnets.\n\n### Rates\n\nDebt costs may rise.\n",
)


def test_filing_chunks_follow_items_and_keep_the_heading_path():
    chunks = chunk_document(FILING, ChunkSettings(), "h")
    assert [c.section for c in chunks] == [
        "Item 1. Business",
        "Item 1A. Risk Factors",
        "Item 1A. Risk Factors",
    ]
    assert (
        chunks[1].text
        == "[Widget 10-K › Item 1A. Risk Factors › Supplier concentration]\nOne supplier makes all magnets."
    )
    assert [c.chunk_id for c in chunks] == ["f1#0", "f1#1", "f1#2"]
    assert all(c.tickers == ["WIDG"] and c.doc_hash == "h" for c in chunks)


def test_paragraphs_pack_with_overlap_and_long_ones_split():
    paragraphs = "\n\n".join(f"Paragraph {i} " + "word " * 38 for i in range(6))
    doc = FILING.model_copy(update={"text": paragraphs, "doc_type": DocType.NEWS})
    chunks = chunk_document(doc, ChunkSettings(chunk_words=100, overlap_words=10), "h")
    assert len(chunks) == 3
    assert all(len(c.text.split()) <= 100 + 10 + 5 for c in chunks)
    assert (
        chunks[1].text.split("\n", 1)[1].startswith("word " * 5)
    )  # overlap from the previous chunk
    long = FILING.model_copy(update={"text": "Sentence about widgets. " * 200})
    pieces = chunk_document(long, ChunkSettings(chunk_words=60, overlap_words=10), "h")
    assert len(pieces) > 5
    assert all(len(p.text.split("\n", 1)[1].split()) <= 60 + 10 for p in pieces)  # + overlap


def test_hash_changes_with_content_and_settings():
    base = document_hash(FILING, ChunkSettings(), "")
    assert base == document_hash(FILING, ChunkSettings(), "")
    assert base != document_hash(
        FILING.model_copy(update={"text": FILING.text + "x"}), ChunkSettings(), ""
    )
    assert base != document_hash(FILING, ChunkSettings(chunk_words=50), "")
    assert base != document_hash(FILING, ChunkSettings(), "finbert")


def test_lexicon_scores():
    [(up_label, up), (down_label, down), (flat_label, flat)] = LexiconSentiment().score(
        [
            "Profit surged to a record on strong growth",
            "Shares tumbled after the company warned of losses",
            "The meeting is on Tuesday",
        ]
    )
    assert (up_label, down_label, flat_label) == ("positive", "negative", "neutral")
    assert up == 1.0 and down == -1.0 and flat == 0.0


@pytest.fixture(scope="module")
def tiny_classifier(tmp_path_factory):
    """A one-layer BERT classifier with random weights and a 40-word vocabulary."""
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizer

    folder = tmp_path_factory.mktemp("tiny-finbert")
    words = [
        "[PAD]",
        "[UNK]",
        "[CLS]",
        "[SEP]",
        "[MASK]",
        "profit",
        "loss",
        "rose",
        "fell",
        "the",
        "shares",
    ]
    words += [f"w{i}" for i in range(29)]
    (folder / "vocab.txt").write_text("\n".join(words) + "\n")
    BertTokenizer(str(folder / "vocab.txt")).save_pretrained(folder)
    config = BertConfig(
        vocab_size=len(words),
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=37,
        max_position_embeddings=64,
        num_labels=3,
        id2label={0: "positive", 1: "negative", 2: "neutral"},
        label2id={"positive": 0, "negative": 1, "neutral": 2},
    )
    BertForSequenceClassification(config).save_pretrained(folder)
    return folder


def test_transformers_pipeline_loads_a_local_model(tiny_classifier):
    scorer, note = load_sentiment(str(tiny_classifier))
    assert note is None and isinstance(scorer, TransformersSentiment)
    results = scorer.score(["the profit rose", "shares fell on the loss"])
    assert len(results) == 2
    for label, value in results:
        assert label in {"positive", "negative", "neutral"}
        assert -1.0 <= value <= 1.0


def test_missing_model_falls_back_to_the_lexicon(tmp_path):
    scorer, note = load_sentiment(str(tmp_path / "no-such-model"))
    assert isinstance(scorer, LexiconSentiment)
    assert "did not load offline" in note
    assert load_sentiment(None)[1] is None


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("Shares are down 30 percent after the report", "negative"),
        ("The stock is up 12% since the launch", "positive"),
        ("Losses narrowed in the quarter", "positive"),
        ("Debt was cut by half", "positive"),
        ("Net loss widened", "negative"),
        ("Profit fell sharply", "negative"),
        ("Not good results for the quarter", "negative"),
        ("The company failed to beat estimates", "negative"),
        ("No growth this quarter", "negative"),
        ("Record profit and strong growth", "positive"),
    ],
)
def test_the_lexicon_reads_negation_shrinking_burdens_and_sized_moves(text, label):
    """What a bare word count reads backwards: 'down 30 percent' has no negative word,
    'losses narrowed' has two, 'not good' one positive."""
    [(got, _)] = LexiconSentiment().score([text])
    assert got == label
