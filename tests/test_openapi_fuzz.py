"""Schemathesis, every check (as ``schemathesis run --checks all``), against the app's own
/openapi.json with a seeded admin key: generated requests, valid and not, through the
examples, coverage, fuzzing and stateful phases. The schema must tell the truth: no 5xx,
no status, header, content type or body it does not document, nothing it calls valid
refused and nothing it calls invalid accepted, no method it does not list answered."""

import shutil

import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events, from_schema

from api.app import create_app
from assistant.auth import Role
from assistant.keys import KeyStore
from assistant.resources import engine
from assistant.settings import Settings

TOOL_REFUSAL = {
    "include-tag": "tools",
    # a tool refuses arguments that contradict each other or the calendar (start after
    # end, a weight cap below 1/N for N symbols) with 400 tool_error: JSON Schema cannot
    # state rules across fields. Every other operation is held to the default statuses.
    "checks": {
        "positive_data_acceptance": {
            "expected-statuses": ["2xx", "400", "401", "403", "404", "409", "413", "429"]
        }
    },
}


WATCHER = {
    "include-path": "/v1/conversations/{conversation_id}/events",
    # a watcher's stream stays open until later turns; a second is enough to read its start
    "request-timeout": 1,
}
NOTIFICATIONS = {"include-path": "/v1/notifications/stream", "request-timeout": 1}
"""The widget's notification stream stays open; a second is enough to read its start."""
REFUSALS = [str(s) for s in (400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429)]
"""schemathesis's refusals, and 413: a body over the size limit is refused unread."""


def run_schemathesis(app, key: str) -> tuple[list[str], set[str]]:
    config = SchemathesisConfig.from_dict(
        {
            "seed": 20261126,
            "cache": {"enabled": False},  # each run starts fresh: no state between runs
            "headers": {"Authorization": f"Bearer {key}"},
            "generation": {"max-examples": 8},
            "checks": {
                "enabled": True,
                "negative_data_rejection": {"expected-statuses": REFUSALS},
                "positive_data_acceptance": {
                    "expected-statuses": ["2xx", "401", "403", "404", "409", "413", "429"]
                },
            },
            "operations": [TOOL_REFUSAL, WATCHER, NOTIFICATIONS],
        }
    )
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=config)
    failures: list[str] = []
    tested: set[str] = set()
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            recorder = event.recorder
            if recorder.cases:
                tested.add(recorder.label)
            for case_id, checks in recorder.checks.items():
                for check in checks:
                    if check.failure_info is not None:
                        case = recorder.cases[case_id].value
                        failures.append(
                            f"{recorder.label} {check.name}: {check.failure_info.failure.title}"
                            f" (status {getattr(check.failure_info.failure, 'status_code', '?')})"
                            f" | {case.method} {case.formatted_path} query={case.query} "
                            f"body={str(case.body)[:200]}"
                        )
        elif isinstance(event, events.NonFatalError):
            failures.append(f"error in {event.label}: {event.info}")
    return failures, tested


def test_the_schema_tells_the_truth(tmp_path, sample_dir, sample_index_dir):
    (tmp_path / "prices").symlink_to(sample_dir / "prices")
    shutil.copytree(sample_index_dir, tmp_path / "qdrant")
    config = Settings(
        data_dir=tmp_path,
        auth="on",
        rate_limit_per_minute=100_000,
        turn_timeout_seconds=30,
        price_provider="none",
        alert_sweep_seconds=86_400,  # fuzzed alerts' webhooks name hosts on the internet
    )
    key = KeyStore(engine(config)).create(Role.ADMIN, "fuzz")[1]
    failures, tested = run_schemathesis(create_app(config), key)
    assert not failures, "\n".join(sorted(set(failures)))
    assert {"POST /v1/chat", "POST /v1/approvals/{approval_id}/approve"} <= tested
    assert {"POST /v1/tools/get_prices", "POST /v1/chat/completions", "GET /metrics"} <= tested
    assert {"POST /v1/alerts", "PUT /v1/watchlists/{name}", "PUT /v1/profile"} <= tested
    assert {"POST /v1/briefings", "POST /v1/briefings/schedules", "GET /v1/notifications"} <= tested
    assert len(tested) >= 25
