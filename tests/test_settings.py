import json

import pytest

from assistant.settings import MASK, Settings, mask_url_password


def test_prefix_and_unprefixed_aliases(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:pw@db/x")
    monkeypatch.setenv("ASSISTANT_MODEL", "openai/gpt-4o-mini")
    monkeypatch.setenv("REDIS_URL", "redis://localhost:6379/0")
    s = Settings()
    assert s.database_url == "postgresql://u:pw@db/x"
    assert s.model == "openai/gpt-4o-mini"
    assert s.redis_url == "redis://localhost:6379/0"


def test_prefixed_name_wins_over_alias(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("ASSISTANT_DATABASE_URL", "sqlite:///a.db")
    monkeypatch.setenv("DATABASE_URL", "sqlite:///b.db")
    assert Settings().database_url == "sqlite:///a.db"


def test_default_database_is_sqlite_inside_data_dir(isolated_env):
    s = Settings()
    assert s.data_dir == isolated_env
    assert s.effective_database_url == f"sqlite:///{isolated_env.resolve() / 'assistant.db'}"


def test_mask_url_password():
    assert (
        mask_url_password("postgresql://bob:s3cret@h:5432/db")
        == f"postgresql://bob:{MASK}@h:5432/db"
    )
    assert mask_url_password("redis://localhost:6379") == "redis://localhost:6379"


def test_config_command_masks_secrets(cli, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("ASSISTANT_API_KEY", "sk-very-secret")
    monkeypatch.setenv("DATABASE_URL", "postgresql://bob:hunter2@db/prod")
    result = cli("config", "--json")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown["api_key"] == MASK
    assert "hunter2" not in result.output and "sk-very-secret" not in result.output
    assert shown["database_url"] == f"postgresql://bob:{MASK}@db/prod"
    assert shown["model"] == "offline"


def test_a_url_without_secrets_is_shown_exactly():
    """An absolute SQLite path keeps its four slashes (urlunsplit would drop two)."""
    from tools.redact import mask_url

    assert mask_url("sqlite:////var/lib/assistant/assistant.db") == (
        "sqlite:////var/lib/assistant/assistant.db"
    )
    assert mask_url("postgresql://u:pw@db/x") == "postgresql://u:**********@db/x"
