"""Secrets out of anything a person reads: settings shown by `assistant config`, log
lines, error messages that quote a URL (a provider's client puts the whole URL in its
exception).

Masked: the password of ``scheme://user:password@host``, a bare token as userinfo
(``https://TOKEN@host``), and query parameters named like secrets (``?password=``,
``?api-key=``, ``?token=``, ``?sig=``...).
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "**********"
SECRET_NAME = re.compile(
    r"(pass(word|wd)?|pwd|secret|token|(api[-_]?)?key|auth\w*|credential\w*|sig(nature)?|"
    r"cookie|session)$",
    re.I,
)
URL = re.compile(r"[a-z][a-z0-9+.-]*://[^\s'\"<>]+|[^\s'\"<>?]*\?[^\s'\"<>]*=[^\s'\"<>]*", re.I)


def mask_url(url: str) -> str:
    """``url`` with its credentials masked; other text passes unchanged."""
    try:
        parts = urlsplit(url)
        password, user = parts.password, parts.username
    except ValueError:  # not a URL after all (an impossible port, say)
        return url
    netloc = parts.netloc
    if password is not None:
        netloc = netloc.replace(f":{password}@", f":{MASK}@", 1)
    elif user is not None:  # a token as the user name
        netloc = f"{MASK}@{netloc.rsplit('@', 1)[1]}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(SECRET_NAME.search(k) for k, _ in pairs):
            query = urlencode(
                [(k, MASK if SECRET_NAME.search(k) else v) for k, v in pairs], safe="*"
            )
    if netloc == parts.netloc and query == parts.query:
        return url  # nothing secret; urlunsplit would also turn sqlite://// into sqlite://
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def mask_urls_in(text: str) -> str:
    """Every URL quoted in a message, masked."""
    return URL.sub(lambda m: mask_url(m[0]), text)
