"""Request size limits, security headers, request metrics and per-key rate limits."""

from __future__ import annotations

import asyncio
import logging
import time

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders

from api.errors import error
from api.metrics import Metrics
from assistant.logs import Throttled
from assistant.settings import Settings

log = logging.getLogger(__name__)
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


class RateLimiter:
    """A token bucket per caller, in process (a Redis bucket is the scale-out option)."""

    def __init__(self, per_minute: int) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self._buckets: dict[str, tuple[float, float]] = {}

    async def allow(self, key: str) -> bool:
        """Async to share the Redis limiter's signature; no await inside, so atomic on the loop."""
        now = time.monotonic()
        tokens, last = self._buckets.get(key, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - last) * self.rate)
        if tokens < 1:
            self._buckets[key] = (tokens, now)
            return False
        self._buckets[key] = (tokens - 1, now)
        return True


# The token bucket of RateLimiter, atomically in Redis. The clock is Redis's own (TIME),
# so API processes with skewed clocks still share one bucket. The key expires once a
# full bucket would have refilled, so idle callers cost nothing.
TOKEN_BUCKET = """
local capacity, rate = tonumber(ARGV[1]), tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local tokens, ts = capacity, now
local state = redis.call('GET', KEYS[1])
if state then
  local sep = string.find(state, ' ', 1, true)
  tokens, ts = tonumber(string.sub(state, 1, sep - 1)), tonumber(string.sub(state, sep + 1))
end
tokens = math.min(capacity, tokens + math.max(0, now - ts) * rate)
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('SET', KEYS[1], tokens .. ' ' .. now, 'EX', math.ceil(capacity / rate) + 1)
return allowed
"""


class RedisRateLimiter:
    """The same token bucket, shared by every API process through Redis.

    One EVALSHA per request (redis-py falls back to EVAL when the script is not cached).
    """

    def __init__(self, url: str, per_minute: int, prefix: str = "ma:rate") -> None:
        from assistant.resources import redis_client

        self.client = redis_client(url)
        self.script = self.client.register_script(TOKEN_BUCKET)
        self.capacity, self.rate = per_minute, per_minute / 60.0
        self.prefix = prefix
        self.warn = Throttled(log)

    async def allow(self, key: str) -> bool:
        """Fails open: with Redis unreachable requests are served (and /readyz says why),
        rather than the whole API answering 500 for a missing counter."""
        from redis.exceptions import RedisError

        try:
            allowed = await self.script(
                keys=[f"{self.prefix}:{key}"], args=[self.capacity, self.rate]
            )
        except (RedisError, OSError) as exc:
            self.warn.warning("redis", "rate limiter cannot reach Redis, not limiting: %s", exc)
            return True
        return bool(allowed)


def rate_limiter(settings: Settings) -> RateLimiter | RedisRateLimiter:
    if settings.redis_url:
        return RedisRateLimiter(settings.redis_url, settings.rate_limit_per_minute)
    return RateLimiter(settings.rate_limit_per_minute)


class Guard:
    """Pure ASGI middleware: body size limit, security headers, request metrics.

    (Starlette's BaseHTTPMiddleware wraps every response in an extra task and stream,
    which costs on a server that mostly streams.)
    """

    def __init__(self, app, settings: Settings, metrics: Metrics) -> None:
        self.app, self.settings, self.metrics = app, settings, metrics
        merged = {**SECURITY_HEADERS, **settings.security_headers}
        self.headers = {name: value for name, value in merged.items() if value}

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.settings.max_request_bytes
        length = dict(scope["headers"]).get(b"content-length", b"")
        if length.isdigit() and int(length) > limit:
            response = error(
                413, "too_large", f"request body of {int(length)} bytes exceeds {limit}"
            )
            await response(scope, receive, send)
            return
        seconds = self.settings.body_timeout_seconds
        try:
            async with asyncio.timeout(seconds):  # a body trickled in holds a connection
                body = await _read_body(receive, limit)
        except TimeoutError:
            response = error(
                408, "timeout", f"the request body did not arrive within {seconds:g} s"
            )
            await response(scope, receive, send)
            return
        if body is None:  # a chunked body (no length announced) grew past the limit
            response = error(413, "too_large", f"request body exceeds {limit} bytes")
            await response(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_with_headers(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers.setdefault(name, value)
            await send(message)

        try:
            await self.app(scope, _replay(body, receive), send_with_headers)
        finally:
            path = route_path(scope)
            self.metrics.requests.labels(scope["method"], path, str(status)).inc()
            self.metrics.latency.labels(path).observe(time.perf_counter() - started)


def route_path(scope) -> str:
    """The route's template (``/v1/approvals/{approval_id}``), so metrics have one label
    per route, not per id. FastAPI records its API routes in the scope; plain Starlette
    routes and mounts (``/docs``, ``/openapi.json``, the docs' assets) are matched here.
    No route: "unmatched" (one label for every 404)."""
    route = scope.get("route")
    if route is not None:
        return getattr(route, "path", "unmatched")
    from starlette.routing import Match

    app = scope.get("app")
    for candidate in getattr(app, "routes", []):
        match, _ = candidate.matches(scope)
        if match is Match.FULL:
            return getattr(candidate, "path", "unmatched")
    return "unmatched"


async def _read_body(receive, limit: int) -> bytes | None:
    """The whole request body, counting the bytes actually received (a Content-Length
    can be absent, with chunked transfer): None once it exceeds ``limit``."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive):
    """A ``receive`` that hands the app the body already read, then waits for the client
    to disconnect (streaming responses watch for it)."""
    sent = False

    async def replay():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def install_middleware(app: FastAPI, settings: Settings, metrics: Metrics) -> None:
    app.add_middleware(Guard, settings=settings, metrics=metrics)
