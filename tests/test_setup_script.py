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
def test_make_demo_prints_real_indicators(tmp_path):
    run = make("demo", env={"ASSISTANT_DATA_DIR": str(tmp_path / "demo-data")})
    assert run.returncode == 0, run.stderr[-2000:]
    assert "Loaded 21 symbols" in run.stdout
    assert (tmp_path / "demo-data" / "prices" / "SPX.parquet").is_file()
    rsi = re.search(r"rsi_14\s*│\s*([0-9.]+)", run.stdout)
    assert rsi, run.stdout[-3000:]
    assert 0 < float(rsi.group(1)) < 100
