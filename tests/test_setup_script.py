"""The two commands a newcomer runs: `make demo` and `make test`, and CI's entry point."""

import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def make(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", "--no-print-directory", "-C", str(ROOT), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=600,
    )


def test_setup_installs_cpu_torch_before_the_project():
    plan = make("-n", "-B", "setup")
    assert plan.returncode == 0, plan.stderr
    lines = plan.stdout.splitlines()
    torch = next(i for i, line in enumerate(lines) if "pip install -q torch==2.13.0" in line)
    project = next(i for i, line in enumerate(lines) if "-e '.[dev,live]'" in line)
    assert torch < project
    assert "-c constraints.txt" in lines[project]


def test_setup_is_a_no_op_when_already_done():
    # This suite runs after `make setup`; nothing changed since, so make has nothing to do.
    assert make("-q", ".venv/.setup-stamp").returncode == 0


def test_ci_runs_make_test_and_readme_shows_both_commands():
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    first_screen = "\n".join((ROOT / "README.md").read_text().splitlines()[:40])
    assert "make demo" in first_screen and "make test" in first_screen


def test_test_target_adds_postgres_when_it_answers():
    plan = make("-n", "test")
    assert "TEST_DATABASE_URL" in plan.stdout
    assert "/dev/tcp/127.0.0.1/5432" in plan.stdout


@pytest.mark.slow
def test_make_demo_shows_the_main_job(tmp_path):
    """After loading data the demo asks the agent a comparison, a backtest, a cited news
    question and an order, which ends waiting for a person; it says how to open the widget."""
    data = tmp_path / "demo-data"
    run = make("demo", env={"ASSISTANT_DATA_DIR": str(data)})
    assert run.returncode == 0, run.stderr[-2000:]
    out = run.stdout
    assert "Loaded 21 symbols" in out and (data / "prices" / "SPX.parquet").is_file()
    # the comparison: both returns over the stated period, and a verdict naming both
    assert "Period: the year to 2022-12-28." in out
    returns = dict(
        re.findall(
            r"(AAPL|MSFT) closed at [\d,.]+ on [\d-]+, from [\d,.]+ on [\d-]+ \(the close before\): "
            r"a return of (-?[\d.]+)%",
            re.sub(r"\s+", " ", out),  # the terminal wraps lines anywhere
        )
    )
    assert set(returns) == {"AAPL", "MSFT"}
    assert re.search(r"Verdict: (AAPL|MSFT) .*against (AAPL|MSFT) -?[\d.]+%", out)
    # the backtest, the cited news, and the order that waits
    assert "Backtest of sma-cross (fast 50, slow 200) on KO from 2010-01-04" in out
    assert re.search(r"Pfizer and BioNTech vaccine.{0,300}?\[1\]", out, re.S)
    flat = " ".join(out.split())  # rich wraps long lines
    assert "Order proposed: buy 10 WMT at market. It is waiting for approval appr_" in flat
    assert re.search(r"appr_\w+\s*│ pending", out)
    assert "assistant serve" in out
