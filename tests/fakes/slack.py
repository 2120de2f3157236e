"""A local Slack: the Web API methods the bot calls (recorded), the file-upload URLs of
`files_upload_v2`, and the Socket Mode websocket that `apps.connections.open` hands out."""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from aiohttp import WSMsgType, web

from tests.fakes import running, send_json


@dataclass
class FakeSocket:
    """The Socket Mode side: envelopes pushed to the bot, and what the bot sent back."""

    url: str = ""
    received: list[dict] = field(default_factory=list)
    loop: asyncio.AbstractEventLoop | None = None
    sockets: list[web.WebSocketResponse] = field(default_factory=list)

    def push(self, envelope: dict) -> None:
        async def send():
            for ws in self.sockets:
                await ws.send_str(json.dumps(envelope))

        asyncio.run_coroutine_threadsafe(send(), self.loop).result(timeout=5)

    def connected(self) -> bool:
        return bool(self.sockets)


@dataclass
class FakeSlack:
    calls: list[tuple[str, dict]] = field(default_factory=list)
    uploads: dict[str, bytes] = field(default_factory=dict)
    url: str = ""
    socket: FakeSocket = field(default_factory=FakeSocket)

    def of(self, method: str) -> list[dict]:
        return [params for m, params in self.calls if m == method]


@contextmanager
def serve_socket_mode(socket: FakeSocket) -> Iterator[None]:
    async def link(request):
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        socket.sockets.append(ws)
        await ws.send_str(json.dumps({"type": "hello", "num_connections": 1}))
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                socket.received.append(json.loads(msg.data))
        socket.sockets.remove(ws)
        return ws

    loop = asyncio.new_event_loop()
    app = web.Application()
    app.router.add_get("/link", link)
    runner = web.AppRunner(app)
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run_until_complete(site.start())
    port = site._server.sockets[0].getsockname()[1]
    socket.url, socket.loop = f"ws://127.0.0.1:{port}/link", loop
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)


@contextmanager
def serve_fake_slack() -> Iterator[FakeSlack]:
    fake = FakeSlack()
    stamps = itertools.count(1)
    file_ids = itertools.count(1)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            parts = urlsplit(self.path)
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
            if parts.path.startswith("/upload/"):  # step 2 of files_upload_v2
                fake.uploads[parts.path.rsplit("/", 1)[-1]] = raw
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"OK")
                return
            method = parts.path.rsplit("/", 1)[-1]
            if "json" in self.headers.get("Content-Type", ""):
                params = json.loads(raw or b"{}")
            else:
                params = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
            params.update({k: v[0] for k, v in parse_qs(parts.query).items()})
            for name in ("blocks", "files"):
                if isinstance(params.get(name), str):
                    params[name] = json.loads(params[name])
            params["_auth"] = self.headers.get("Authorization", "")
            fake.calls.append((method, params))
            body: dict = {"ok": True}
            if params["_auth"].endswith("-revoked"):
                body = {"ok": False, "error": "invalid_auth"}
            elif method == "auth.test":
                body.update(team_id="T1", user_id="UBOT", bot_id="B1", url="https://fake.slack/")
            elif method in ("chat.postMessage", "chat.update"):
                body.update(
                    channel=params.get("channel"),
                    ts=params.get("ts") or f"1700000000.{next(stamps):06d}",
                )
                params["_ts"] = body["ts"]  # the message's ts, as Slack answered it
            elif method == "files.getUploadURLExternal":
                file_id = f"F{next(file_ids):04d}"
                body.update(file_id=file_id, upload_url=f"{base}/upload/{file_id}")
            elif method == "files.completeUploadExternal":
                body.update(files=[{"id": f["id"], "title": f["title"]} for f in params["files"]])
            elif method == "apps.connections.open":
                body.update(url=fake.socket.url)
            send_json(self, 200, body)

    with running(Handler) as base, serve_socket_mode(fake.socket):
        fake.url = base + "/api/"
        yield fake
