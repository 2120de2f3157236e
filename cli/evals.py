"""`assistant eval`: quality gates over the bundled datasets."""

from __future__ import annotations

import typer

from assistant.settings import get_settings
from cli.options import JsonOption
from cli.output import emit, table
from cli.startup import settled

SUITES = ("retrieval", "agent")


def eval_cmd(
    suite: str = typer.Option("agent", "--suite", help="agent or retrieval."),
    model: str | None = typer.Option(
        None, "--model", help="agent suite: litellm model string or 'offline'."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Run an evaluation suite; exit code 1 when a quality gate fails."""
    settled()  # hundreds of turns: their garbage must be collected
    if suite not in SUITES:
        raise typer.BadParameter(
            f"unknown suite {suite!r}; available: {', '.join(SUITES)}", param_hint="--suite"
        )
    if suite == "retrieval":
        from evals.retrieval.runner import run_retrieval_eval

        result = run_retrieval_eval()
        emit(result, as_json, lambda: _render_retrieval(result))
    else:
        from assistant.models import check_model
        from evals.agent.runner import run_agent_eval

        check_model(model, get_settings())
        result = run_agent_eval(
            model or get_settings().model, out_dir=get_settings().data_dir / "evals"
        )
        emit(
            result.model_dump(exclude={"results": {"__all__": {"answer"}}}),
            as_json,
            lambda: _render_agent(result),
        )
    if not result.passed:
        raise typer.Exit(1)


def _render_retrieval(r):
    out = table(
        f"Retrieval eval: {r.queries} queries over {r.documents} sample documents ({r.embedder})",
        ["mode", "recall@5", "MRR@10", "nDCG@10"],
        [(m.mode, m.recall_at_5, m.mrr_at_10, m.ndcg_at_10) for m in r.modes],
    )
    out.caption = "; ".join(f"{'PASS' if g.passed else 'FAIL'} {g.name}" for g in r.gates)
    return out


def _render_agent(r):
    out = table(
        f"Agent eval: {r.cases} cases, model {r.model}, {r.seconds}s — {'PASSED' if r.passed else 'FAILED'}",
        ["score", "value", "target"],
        [(k, v, r.targets.get(k)) for k, v in r.scores.items()],
    )
    failing = [f"{x.id}: {'; '.join(x.problems)}" for x in r.results if x.problems]
    out.caption = (
        ("problems: " + " | ".join(failing[:5]))
        if failing
        else "report written to <data dir>/evals/"
    )
    return out
