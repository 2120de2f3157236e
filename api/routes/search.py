"""The document index: hybrid search (viewer) and ingestion (admin)."""

import asyncio
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query

from api.deps import Admin, State, Viewer
from api.schemas import IngestRequest, Question
from assistant.resources import chunk_settings
from ingest.pipeline import IngestReport, ingest, sample_documents
from ingest.sentiment import load_sentiment
from retrieval.days import PastDay
from retrieval.models import DocType, SearchFilters, SearchResult, Ticker

router = APIRouter(prefix="/v1")


@router.get("/search", tags=["search"], response_model=SearchResult)
async def search(
    _: Viewer,
    state: State,
    q: Annotated[Question, Query(max_length=1000)],
    ticker: Annotated[list[Ticker], Query(max_length=20)] = [],  # noqa: B006 - FastAPI copies it
    type: DocType | None = None,
    as_of: Annotated[PastDay | None, Query()] = None,
    k: Annotated[int, Query(ge=1, le=50)] = 5,
) -> SearchResult:
    """An unknown ticker (no indexed document mentions it) is a 404 that lists the known ones."""
    filters = SearchFilters(tickers=ticker or None, doc_type=type, as_of=as_of)
    index = await asyncio.to_thread(state.index)
    await asyncio.to_thread(index.check_tickers, filters.tickers or [])
    return await asyncio.to_thread(index.search, q, filters, k=k)


@router.post(
    "/ingest",
    tags=["ingest"],
    summary="Add documents to the index (admin)",
    response_model=IngestReport,
)
async def ingest_documents(body: IngestRequest, _: Admin, state: State) -> IngestReport:
    items = [*(sample_documents() if body.sample else []), *body.documents]
    if not items:
        raise HTTPException(422, "nothing to ingest: send documents or sample=true")
    settings = state.settings
    sentiment, note = await asyncio.to_thread(load_sentiment, settings.sentiment_model)
    index = await asyncio.to_thread(state.index)
    report = await asyncio.to_thread(
        ingest, index, items, settings=chunk_settings(settings), sentiment=sentiment
    )
    if note:
        report.notes.append(note)
    if report.written and state.services.jobs is not None:  # new documents: alerts now
        await asyncio.to_thread(state.services.jobs.poke, "alerts")
    return report
