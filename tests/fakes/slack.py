"""A local Slack Web API: answers the methods the bot calls and records them."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs

from tests.fakes import running, send_json


@dataclass
class FakeSlack:
    calls: list[tuple[str, dict]] = field(default_factory=list)
    url: str = ""

    def of(self, method: str) -> list[dict]:
        return [params for m, params in self.calls if m == method]


@contextmanager
def serve_fake_slack() -> Iterator[FakeSlack]:
    fake = FakeSlack()
    stamps = itertools.count(1)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            method = self.path.rsplit("/", 1)[-1]
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0) or 0)).decode()
            if "json" in self.headers.get("Content-Type", ""):
                params = json.loads(raw or "{}")
            else:
                params = {k: v[0] for k, v in parse_qs(raw).items()}
            if isinstance(params.get("blocks"), str):
                params["blocks"] = json.loads(params["blocks"])
            fake.calls.append((method, params))
            body = {"ok": True}
            if method == "auth.test":
                body.update(team_id="T1", user_id="UBOT", bot_id="B1", url="https://fake.slack/")
            elif method in ("chat.postMessage", "chat.update"):
                body.update(
                    channel=params.get("channel"),
                    ts=params.get("ts") or f"1700000000.{next(stamps):06d}",
                )
            send_json(self, 200, body)

    with running(Handler) as url:
        fake.url = url + "/api/"
        yield fake
