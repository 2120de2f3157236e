"""Request size limits, security headers, request metrics and per-key rate limits."""

from __future__ import annotations

import threading
import time

from fastapi import FastAPI, Request
from starlette.middleware.base import BaseHTTPMiddleware

from api.errors import error
from api.metrics import Metrics
from assistant.settings import Settings

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
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens < 1:
                self._buckets[key] = (tokens, now)
                return False
            self._buckets[key] = (tokens - 1, now)
            return True


class RedisRateLimiter:
    """The same budget shared by every API process: a per-minute counter in Redis.

    A fixed window (INCR + EXPIRE in one round trip) is coarser than the in-process token
    bucket but needs no script and stays correct across processes.
    """

    def __init__(self, url: str, per_minute: int, prefix: str = "ma:rate") -> None:
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=1.0)
        self.limit, self.prefix = per_minute, prefix

    def allow(self, key: str) -> bool:
        window = int(time.time() // 60)
        name = f"{self.prefix}:{key}:{window}"
        pipe = self.client.pipeline()
        pipe.incr(name)
        pipe.expire(name, 61)
        count, _ = pipe.execute()
        return int(count) <= self.limit


def rate_limiter(settings: Settings) -> RateLimiter | RedisRateLimiter:
    if settings.redis_url:
        return RedisRateLimiter(settings.redis_url, settings.rate_limit_per_minute)
    return RateLimiter(settings.rate_limit_per_minute)


def install_middleware(app: FastAPI, settings: Settings, metrics: Metrics) -> None:
    class Guard(BaseHTTPMiddleware):
        async def dispatch(self, request: Request, call_next):
            length = request.headers.get("content-length")
            if length and length.isdigit() and int(length) > settings.max_request_bytes:
                return error(
                    413,
                    "too_large",
                    f"request body of {length} bytes exceeds {settings.max_request_bytes}",
                )
            started = time.perf_counter()
            response = await call_next(request)
            route = request.scope.get("route")
            path = getattr(route, "path", "unmatched")
            metrics.requests.labels(request.method, path, str(response.status_code)).inc()
            metrics.latency.labels(path).observe(time.perf_counter() - started)
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
            return response

    app.add_middleware(Guard)
