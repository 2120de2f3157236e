"""Shared fixtures: an isolated data dir per test and one sample-loaded store per session."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from cli import app
from tools.market_data import PriceStore, load_sample

_ENV_VARS = ("DATABASE_URL", "QDRANT_URL", "REDIS_URL")
OFFLINE = {"ASSISTANT_PRICE_PROVIDER": "none"}
"""Nothing reaches the internet: a test that fetches points a provider at a local fake.
Set at import too, for fixtures of a wider scope than the per-test environment."""
os.environ.update(OFFLINE)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
"""CI's machine has PostgreSQL, Redis and Chromium: there a test that needs one fails when
it is missing, so the concurrency tests can never pass by silently running on SQLite."""


def missing(what: str) -> None:
    """Skip on a developer's machine; fail under CI=true."""
    if IN_CI:
        pytest.fail(f"CI=true and {what} is not available: CI must run this test")
    pytest.skip(f"{what} is not available on this machine")


def _port_open(port: int) -> bool:
    import socket

    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


@pytest.fixture
def redis_url() -> str:
    if not _port_open(6379):
        missing("Redis on 127.0.0.1:6379")
    return "redis://127.0.0.1:6379/0"


@pytest.fixture
def chromium() -> str:
    path = "/usr/bin/chromium"
    if not Path(path).exists():
        missing("Debian's chromium (`make setup` installs it)")
    return path


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Prepared models (the offline router's ONNX MiniLM) once per test session, not
    once per data dir: preparing takes seconds."""
    return tmp_path_factory.mktemp("model-cache")


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, model_cache: Path) -> Path:
    """No test sees the developer's settings or writes outside its tmp dir."""
    for name in list(os.environ):
        if name.startswith("ASSISTANT_") or name in _ENV_VARS:
            monkeypatch.delenv(name)
    data_dir = tmp_path / "data"
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(data_dir))
    monkeypatch.setenv("ASSISTANT_MODEL_CACHE_DIR", str(model_cache))
    for name, value in OFFLINE.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)  # a stray .env in the repo must not leak in
    return data_dir


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir with the bundled sample loaded once; tests must only read it."""
    data_dir = tmp_path_factory.mktemp("sample-data")
    load_sample(PriceStore(data_dir / "prices"))
    return data_dir


@pytest.fixture
def sample_store(sample_dir: Path) -> PriceStore:
    return PriceStore(sample_dir / "prices")


@pytest.fixture
def use_sample(sample_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the CLI at the session's sample data dir."""
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(sample_dir))
    return sample_dir


class Cli:
    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None):
        return self.runner.invoke(app, list(args), input=input)


@pytest.fixture
def cli() -> Cli:
    return Cli()


def make_ohlcv(n: int = 400, seed: int = 7, start: str = "2015-01-02") -> pd.DataFrame:
    """A plausible random-walk OHLCV frame (business days) for indicator and import tests."""
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range(start, periods=n)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.015, n)))
    open_ = close * np.exp(rng.normal(0, 0.005, n))
    high = np.maximum(open_, close) * (1 + rng.uniform(0, 0.01, n))
    low = np.minimum(open_, close) * (1 - rng.uniform(0, 0.01, n))
    volume = rng.integers(100_000, 2_000_000, n).astype(float)
    return pd.DataFrame(
        {"open": open_, "high": high, "low": low, "close": close, "volume": volume},
        index=pd.DatetimeIndex(dates, name="date"),
    )


def _database_kinds() -> list[str]:
    kinds = ["sqlite"]
    if os.environ.get("TEST_DATABASE_URL") or IN_CI:
        kinds.append("postgresql")
    return kinds


@pytest.fixture(params=_database_kinds())
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database: a SQLite file, and (when TEST_DATABASE_URL is set) a PostgreSQL
    schema of its own, dropped afterwards, so runs never see each other's rows."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        missing("PostgreSQL (TEST_DATABASE_URL; `make test` sets it when the server answers)")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{base}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def sample_index_dir(tmp_path_factory: pytest.TempPathFactory, model_cache: Path) -> Path:
    """The sample corpus indexed once per session; open it with DocumentIndex(path=...)."""
    from ingest.pipeline import ingest, sample_documents
    from ingest.sentiment import LexiconSentiment
    from retrieval.embeddings import shared_embedder
    from retrieval.index import DocumentIndex

    path = tmp_path_factory.mktemp("sample-index") / "qdrant"
    index = DocumentIndex(shared_embedder(cache_dir=model_cache), path=path)
    ingest(index, sample_documents(), sentiment=LexiconSentiment())
    index.close()
    return path
