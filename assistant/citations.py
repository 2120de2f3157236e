"""One numbering of citations per answer, shared by the answer text and the events.

Each `search_documents` call numbers its hits from 1; an answer may use several calls,
so hits are renumbered across the turn in call order (first call's hits first).
"""

from __future__ import annotations

from pydantic_ai.messages import ToolReturnPart

from retrieval.models import Citation


def _search_hits(returns: list[ToolReturnPart]):
    for call, part in enumerate(returns):
        if part.tool_name != "search_documents" or isinstance(part.content, str):
            continue
        for hit in part.model_response_object().get("hits", []):
            yield call, hit


def number_citations(returns: list[ToolReturnPart]) -> dict[tuple[int, int], int]:
    """(call position, hit number within that call) -> number in the answer."""
    numbers: dict[tuple[int, int], int] = {}
    for call, hit in _search_hits(returns):
        numbers[(call, hit["n"])] = len(numbers) + 1
    return numbers


def citations(returns: list[ToolReturnPart]) -> list[Citation]:
    numbers = number_citations(returns)
    out = []
    for call, hit in _search_hits(returns):
        out.append(Citation.model_validate({**hit, "n": numbers[(call, hit["n"])]}))
    return out
