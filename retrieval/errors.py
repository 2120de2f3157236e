"""Errors from the index and ingestion that a user can act on (CLI exit 2, HTTP 4xx)."""


class RetrievalError(ValueError):
    """A bad query or filter, or a document that cannot be ingested; the message says why."""


class IngestError(RetrievalError):
    """One item could not be loaded; the message names the item."""


class UnknownTickerError(RetrievalError):
    """A search names a ticker no indexed document mentions (the message lists those that are)."""
