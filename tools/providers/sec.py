"""SEC XBRL company facts (``/api/xbrl/companyfacts/CIK##########.json``), cached.

A company's facts are one JSON document with every figure it ever filed; it is kept
under the cache dir with the time it was fetched. A cached copy fetched after a day
holds everything filed by that day, so a point-in-time read for an earlier day never
needs the network; a read "as of now" refetches once the copy is older than ``ttl``.
If SEC cannot be reached, an older copy is used and said to be used.

SEC asks automated clients for a User-Agent with a contact email and at most 10
requests per second.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from datetime import UTC, date, datetime
from pathlib import Path

import requests

from tools.errors import ProviderError, RateLimitedError, UnknownSymbolError
from tools.providers.breaker import CircuitBreaker
from tools.redact import mask_urls_in

DATA_URL = "https://data.sec.gov"
MIN_SPACING = 0.1  # 10 requests per second


class CompanyFacts:
    def __init__(
        self,
        user_agent: str | None,
        cache_dir: Path,
        *,
        base_url: str | None = None,
        timeout: float = 10.0,
        ttl_hours: float = 12.0,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        self.user_agent, self.cache_dir = user_agent, Path(cache_dir)
        self.base_url = (base_url or DATA_URL).rstrip("/")
        self.timeout, self.ttl = timeout, ttl_hours * 3600
        self.breaker = breaker or CircuitBreaker("sec", failures=3, cooldown=300)
        self._lock = threading.Lock()
        self._last = 0.0

    def path(self, cik: int) -> Path:
        return self.cache_dir / f"CIK{cik:010d}.json"

    def get(self, cik: int, as_of: date | None = None) -> tuple[dict, str | None]:
        """The company's facts, complete for ``as_of`` (default: now), and a sentence when
        an older copy had to stand in for them."""
        path = self.path(cik)
        cached = self._read(path)
        if cached is not None:
            fetched = datetime.fromtimestamp(path.stat().st_mtime, UTC)
            complete = as_of is not None and fetched.date() > as_of
            if complete or time.time() - fetched.timestamp() < self.ttl:
                return cached, None
        try:
            return self._fetch(cik, path), None
        except UnknownSymbolError:
            raise
        except ProviderError as exc:
            if cached is None:
                raise
            when = datetime.fromtimestamp(path.stat().st_mtime, UTC).date()
            return cached, f"SEC could not be reached ({exc}); the facts fetched {when} are used."

    def _read(self, path: Path) -> dict | None:
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError):
            return None

    def _fetch(self, cik: int, path: Path) -> dict:
        if not self.user_agent or "@" not in self.user_agent:
            raise ProviderError(
                "SEC requires a User-Agent with a contact email, e.g. "
                "'Market Assistant admin@example.com': set ASSISTANT_EDGAR_USER_AGENT"
            )
        if not self.breaker.allow():
            raise ProviderError(f"SEC is paused after failing: {self.breaker.last_error}")
        url = f"{self.base_url}/api/xbrl/companyfacts/CIK{cik:010d}.json"
        with self._lock:  # SEC's rate limit, across threads
            wait = self._last + MIN_SPACING - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self._last = time.monotonic()
        try:
            response = requests.get(
                url,
                headers={"User-Agent": self.user_agent, "Accept-Encoding": "gzip, deflate"},
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            why = "timed out" if isinstance(exc, requests.Timeout) else "no connection"
            self.breaker.failure(f"{type(exc).__name__}: {mask_urls_in(str(exc))}"[:300])
            raise ProviderError(f"SEC could not be reached ({why})") from None
        if response.status_code == 404:
            self.breaker.success()
            raise UnknownSymbolError(f"SEC has no XBRL company facts for CIK {cik}")
        if response.status_code == 429:
            after = response.headers.get("Retry-After", "")
            seconds = float(after) if after.isdigit() else None
            self.breaker.failure("429", retry_after=seconds, rate_limited=True)
            raise RateLimitedError("SEC is rate-limiting requests", retry_after=seconds)
        if response.status_code >= 400:
            self.breaker.failure(f"HTTP {response.status_code}")
            raise ProviderError(f"SEC answered HTTP {response.status_code} for CIK {cik}")
        try:
            facts = response.json()
            if not isinstance(facts, dict) or "facts" not in facts:
                raise ValueError("no 'facts' object")
        except ValueError as exc:
            self.breaker.failure(str(exc))
            raise ProviderError(f"SEC sent company facts that are not usable: {exc}") from None
        self.breaker.success()
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.cache_dir, suffix=".tmp")
        with os.fdopen(fd, "w") as out:
            json.dump(facts, out)
        os.replace(tmp, path)
        return facts
