"""One numbering of citations per answer, shared by the answer text and the events.

Each `search_documents` (or `news_sentiment`, `get_briefing`) call numbers its hits from 1;
an answer may use several calls, so hits are renumbered across the turn in call order
(first call's hits first).
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic_ai.messages import ToolReturnPart

from assistant.briefing_facts import BriefingFacts
from assistant.results import SearchSummary, SentimentSummary
from assistant.toolsets import read_result
from retrieval.models import Citation


def _search_hits(returns: list[ToolReturnPart]) -> Iterator[tuple[int, Citation]]:
    for call, part in enumerate(returns):
        result = read_result(part)
        if isinstance(result, SearchSummary | SentimentSummary | BriefingFacts):
            for hit in result.hits:
                yield call, hit


def number_citations(returns: list[ToolReturnPart]) -> dict[tuple[int, int], int]:
    """(call position, hit number within that call) -> number in the answer."""
    numbers: dict[tuple[int, int], int] = {}
    for call, hit in _search_hits(returns):
        numbers[(call, hit.n)] = len(numbers) + 1
    return numbers


def citations(returns: list[ToolReturnPart]) -> list[Citation]:
    numbers = number_citations(returns)
    return [
        hit.model_copy(update={"n": numbers[(call, hit.n)]}) for call, hit in _search_hits(returns)
    ]
