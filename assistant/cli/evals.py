"""`assistant eval`: quality gates over the bundled datasets."""

from __future__ import annotations

import typer

from assistant.cli.options import JsonOption
from assistant.cli.output import emit, table
from evals.retrieval.runner import RetrievalEval, run_retrieval_eval


def eval_cmd(
    suite: str = typer.Option("retrieval", "--suite", help="Which suite: retrieval."),
    as_json: bool = JsonOption,
) -> None:
    """Run an evaluation suite; exit code 1 when a quality gate fails."""
    if suite != "retrieval":
        raise typer.BadParameter(
            f"unknown suite {suite!r}; available: retrieval", param_hint="--suite"
        )
    result = run_retrieval_eval()
    emit(result, as_json, lambda: _render(result))
    if not result.passed:
        raise typer.Exit(1)


def _render(r: RetrievalEval):
    out = table(
        f"Retrieval eval: {r.queries} queries over {r.documents} sample documents",
        ["mode", "recall@5", "MRR@10", "nDCG@10"],
        [(m.mode, m.recall_at_5, m.mrr_at_10, m.ndcg_at_10) for m in r.modes],
    )
    out.caption = "; ".join(f"{'PASS' if g.passed else 'FAIL'} {g.name}" for g in r.gates)
    return out
