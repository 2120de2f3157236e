"""A local OpenAI-compatible chat-completions server that replays scripted replies.

Each request takes the next reply from the script (text, or tool calls), or asks a
``responder`` for it (a model that reads the request, like the gullible one). Streamed
requests get the chunk layout OpenAI sends (tool-call id and name first, then argument
fragments keyed by index, ``finish_reason`` "tool_calls", a final usage chunk,
``[DONE]``). Requests are recorded so tests can check what the client sent.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

from tests.fakes import running, send_json


@dataclass
class Reply:
    text: str | None = None
    tool_calls: list[tuple[str, dict]] = field(default_factory=list)
    status: int = 200
    ids: list[str] = field(default_factory=list)
    """Tool call ids; unique per call like OpenAI's unless a test sets them."""

    def call_id(self, i: int) -> str:
        while len(self.ids) <= i:
            self.ids.append(f"call_{uuid.uuid4().hex[:12]}")
        return self.ids[i]


@dataclass
class FakeOpenAI:
    script: list[Reply]
    requests: list[dict] = field(default_factory=list)
    url: str = ""
    responder: Callable[[dict], Reply] | None = None
    delay: float = 0.0
    """Seconds before each reply (a slow provider)."""

    def reply(self, body: dict) -> Reply:
        if self.responder is not None:
            return self.responder(body)
        return self.script.pop(0) if self.script else Reply(text="(script exhausted)")

    def completion(self, reply: Reply, model: str) -> dict:
        message: dict = {"role": "assistant", "content": reply.text}
        if reply.tool_calls:
            message["tool_calls"] = [
                {
                    "id": reply.call_id(i),
                    "type": "function",
                    "function": {"name": n, "arguments": json.dumps(a)},
                }
                for i, (n, a) in enumerate(reply.tool_calls)
            ]
        return {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "finish_reason": "tool_calls" if reply.tool_calls else "stop",
                }
            ],
            "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18},
        }

    def chunks(self, reply: Reply, model: str) -> Iterator[dict]:
        base = {
            "id": "chatcmpl-fake",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
        }

        def chunk(delta: dict, finish: str | None = None) -> dict:
            return {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

        yield chunk({"role": "assistant", "content": ""})
        if reply.text:
            for word in reply.text.split(" "):
                yield chunk({"content": word + " "})
        for i, (name, args) in enumerate(reply.tool_calls):
            yield chunk(
                {
                    "tool_calls": [
                        {
                            "index": i,
                            "id": reply.call_id(i),
                            "type": "function",
                            "function": {"name": name, "arguments": ""},
                        }
                    ]
                }
            )
            text = json.dumps(args)
            for piece in (text[: len(text) // 2], text[len(text) // 2 :]):
                yield chunk({"tool_calls": [{"index": i, "function": {"arguments": piece}}]})
        yield chunk({}, "tool_calls" if reply.tool_calls else "stop")
        yield {
            **base,
            "choices": [],
            "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18},
        }


@contextmanager
def serve_fake_openai(
    script: list[Reply] = (),
    *,
    responder: Callable[[dict], Reply] | None = None,
    delay: float = 0.0,
) -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI(list(script), responder=responder, delay=delay)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            fake.requests.append(body)
            reply = fake.reply(body)
            time.sleep(fake.delay)
            if reply.status != 200:
                error = {"error": {"message": "upstream failure", "type": "server_error"}}
                send_json(self, reply.status, error)
                return
            if body.get("stream"):
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                for c in fake.chunks(reply, body["model"]):
                    self.wfile.write(f"data: {json.dumps(c)}\n\n".encode())
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
                self.close_connection = True
                return
            send_json(self, 200, fake.completion(reply, body["model"]))

    with running(Handler) as url:
        fake.url = url + "/v1"
        yield fake
