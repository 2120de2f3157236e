"""Who is calling: API keys (``Authorization: Bearer``) and browser sessions (a cookie).

Bad credentials are slowed down: after ``auth_failures_per_minute`` failures from one
address, that address gets 429 for a while, so keys cannot be guessed at wire speed.
A stream re-checks its caller while it runs (:meth:`Authenticator.still_valid`): a
revoked key or a logged-out session stops its open streams too.
"""

from __future__ import annotations

import ipaddress
import math
from urllib.parse import urlsplit

from fastapi import HTTPException, Request

from api.limits import RateLimiter, rate_limiter
from assistant.auth import Role, User
from assistant.keys import KeyStore
from assistant.settings import Settings

SESSION_COOKIE = "ma_session"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
ANONYMOUS = User(id="anonymous", role=Role.ADMIN)


def is_loopback(host: str) -> bool:
    """True for an address only this machine can reach. An empty host or 0.0.0.0 / ::
    binds every interface: not loopback."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def from_this_site(request: Request) -> bool:
    """Whether the browser says the request comes from this server's own page.

    A session cookie is sent with any request the browser makes to this server, whoever's
    page makes it; ``SameSite=Strict`` keeps other sites out, but not another port of
    this host or a sibling subdomain. So a request that changes something (an approval,
    an order's chat) and is signed in by the cookie must carry the browser's own word:
    ``Sec-Fetch-Site: same-origin``, or, from a browser that does not send it, an
    ``Origin`` naming this host. A script holds an API key instead."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site in ("same-origin", "none")
    origin = request.headers.get("origin")
    return origin is not None and urlsplit(origin).netloc == request.headers.get("host")


def credential(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return request.cookies.get(SESSION_COOKIE) or None


class Authenticator:
    def __init__(self, settings: Settings, keys: KeyStore) -> None:
        self.settings, self.keys = settings, keys
        self.requests = rate_limiter(settings)
        self.failures = RateLimiter(settings.auth_failures_per_minute)

    async def current_user(self, request: Request) -> User:
        """Async all the way: a sync dependency costs a thread hop on every request."""
        token = credential(request)
        bearer = request.headers.get("authorization", "").lower().startswith("bearer ")
        by_cookie = token is not None and not bearer
        if by_cookie and request.method not in SAFE_METHODS and not from_this_site(request):
            raise HTTPException(
                403,
                "a change made with the session cookie must come from this server's own page "
                "(a script uses 'Authorization: Bearer <key>')",
            )
        user = await self.keys.verify_cached(token) if token else None
        if user is None:
            if self.settings.auth != "off":
                await self._failed(request, token)
            user = ANONYMOUS
        if not await self.requests.allow(user.id):
            per_minute = self.settings.rate_limit_per_minute
            raise HTTPException(
                429,
                f"rate limit of {per_minute} requests per minute reached",
                # a token bucket: one request's worth refills in 60/N seconds
                headers={"Retry-After": str(math.ceil(60 / max(per_minute, 1)))},
            )
        return user

    async def _failed(self, request: Request, token: str | None) -> None:
        address = request.client.host if request.client else "unknown"
        if token is not None and not await self.failures.allow(address):
            raise HTTPException(
                429,
                "too many requests with invalid keys from this address: wait a minute, then "
                "check the key",
                headers={"Retry-After": "60"},
            )
        raise HTTPException(401, "missing or invalid API key: send 'Authorization: Bearer <key>'")

    async def still_valid(self, token: str | None) -> bool:
        """Whether a stream's caller may go on (with auth off, anyone may)."""
        if self.settings.auth == "off":
            return True
        return token is not None and await self.keys.verify_cached(token) is not None
