"""Prometheus metrics, one registry per app (tests build many apps in one process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "ma_http_requests_total",
            "HTTP requests",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "ma_http_request_seconds", "HTTP request latency", ["route"], registry=self.registry
        )
        self.tool_calls = Counter(
            "ma_tool_calls_total", "Tool calls", ["tool"], registry=self.registry
        )
        self.tokens = Counter(
            "ma_model_tokens_total", "Model tokens", ["kind"], registry=self.registry
        )
        self.approvals = Counter(
            "ma_approval_decisions_total",
            "Approval decisions by outcome",
            ["status"],
            registry=self.registry,
        )
        self.approval_states = Gauge(
            "ma_approvals", "Approvals by state", ["status"], registry=self.registry
        )

    def render(self, approval_counts: dict[str, int]) -> bytes:
        for status, count in approval_counts.items():
            self.approval_states.labels(status).set(count)
        return generate_latest(self.registry)
