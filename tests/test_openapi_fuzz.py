"""Schemathesis against the service's own /openapi.json: generated requests (valid and
not) never get a 5xx, and statuses and JSON bodies match what the schema documents."""

import shutil

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from api.app import create_app
from assistant.auth import Role
from assistant.keys import KeyStore
from assistant.resources import engine
from assistant.settings import Settings

CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]


def test_every_operation_survives_generated_requests(tmp_path, sample_dir, sample_index_dir):
    (tmp_path / "prices").symlink_to(sample_dir / "prices")
    shutil.copytree(sample_index_dir, tmp_path / "qdrant")
    config = Settings(data_dir=tmp_path, rate_limit_per_minute=100_000, turn_timeout_seconds=30)
    key = KeyStore(engine(config)).create(Role.ADMIN, "fuzz")[1]
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(config))
    headers = {"Authorization": f"Bearer {key}"}
    tested = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=10, deadline=None, suppress_health_check=list(HealthCheck), database=None
        )
        def run(case):
            case.call_and_validate(headers=headers, checks=CHECKS)

        run()
        tested.append(operation.label)
    assert "POST /v1/chat" in tested and "POST /v1/approvals/{approval_id}/approve" in tested
    assert len(tested) >= 15
