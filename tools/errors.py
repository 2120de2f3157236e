"""Errors a user can act on.

Every tool raises a subclass of :class:`ToolError` for bad input or missing data, with
a message that names the problem; the CLI turns it into one line and exit code 2 and
the API into a 4xx JSON body. Anything else escaping a tool is a bug.
"""


class ToolError(ValueError):
    """A problem with the request or the data that the user can fix."""


class InvalidInputError(ToolError):
    """A parameter is out of range or inconsistent (e.g. start after end)."""


class UnknownSymbolError(ToolError):
    """The symbol has no data in the store."""


class NoDataError(ToolError):
    """The symbol exists but the requested range holds no (or too little) data."""


class ImportValidationError(ToolError):
    """A price file failed validation; the message names the file and row."""


class DataExistsError(ToolError):
    """Writing would overwrite existing data and replacement was not asked for."""


class ProviderError(ToolError):
    """A live data provider failed or is not installed."""


class RateLimitedError(ProviderError):
    """The provider answered 429: ask again after ``retry_after`` seconds (None: unknown)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class UnavailableError(ToolError):
    """What was asked needs something this server or account does not have yet: a channel
    the server is not configured for, symbols on a watchlist (HTTP 409, exit 2)."""
