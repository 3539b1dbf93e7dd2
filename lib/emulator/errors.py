"""The API's error envelope and the exception the handlers raise to produce it."""

from __future__ import annotations

from typing import Any

ERROR_TYPES: dict[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    408: "timeout_error",
    409: "conflict_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}

DEFAULT_MESSAGES: dict[str, str] = {
    "invalid_request_error": "Invalid request.",
    "authentication_error": "invalid x-api-key",
    "permission_error": "Your API key does not have permission to use the specified resource.",
    "not_found_error": "Not found.",
    "request_too_large": "Request exceeds the maximum allowed number of bytes.",
    "rate_limit_error": "Number of request tokens has exceeded your per-minute rate limit.",
    "api_error": "Internal server error",
    "overloaded_error": "Overloaded",
    "timeout_error": "Request timed out.",
    "conflict_error": "Conflict.",
    "billing_error": "Your credit balance is too low.",
}


# The status each error type comes with when it is an HTTP error rather than an in-stream event.
STATUS_FOR_TYPE: dict[str, int] = {
    **{kind: status for status, kind in reversed(list(ERROR_TYPES.items()))},
    "timeout_error": 504,
}


def status_for(error_type: str) -> int:
    """The HTTP status the API pairs with an `error.type` (500 for unknown types)."""
    return STATUS_FOR_TYPE.get(error_type, 500)


def error_type_for(status: int) -> str:
    """The `error.type` the real API uses for an HTTP status."""
    if status in ERROR_TYPES:
        return ERROR_TYPES[status]
    return "api_error" if status >= 500 else "invalid_request_error"


def envelope(error_type: str, message: str, request_id: str, error_code: str | None = None) -> dict[str, Any]:
    """Build `{"type":"error","error":{…},"request_id":…}`."""
    error: dict[str, Any] = {"type": error_type, "message": message}
    if error_code:
        error["details"] = {"error_code": error_code}
    return {"type": "error", "error": error, "request_id": request_id}


class ApiError(Exception):
    """Raised by handlers; the server turns it into an error response."""

    def __init__(
        self,
        status: int,
        message: str | None = None,
        *,
        error_type: str | None = None,
        error_code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.status = status
        self.error_type = error_type or error_type_for(status)
        self.message = message or DEFAULT_MESSAGES.get(self.error_type, "Error.")
        self.error_code = error_code
        self.headers = headers or {}
        super().__init__(f"{status} {self.error_type}: {self.message}")

    def body(self, request_id: str) -> dict[str, Any]:
        """The JSON body for this error."""
        return envelope(self.error_type, self.message, request_id, self.error_code)


def parse_limit(query: dict[str, list[str]]) -> int:
    """The `limit` query parameter (default 20, 1 to 1000), validated as the API does."""
    try:
        limit = int(query.get("limit", ["20"])[0])
    except ValueError:
        raise ApiError(400, "limit: Input should be a valid integer") from None
    if not 1 <= limit <= 1000:
        raise ApiError(400, "limit: Input should be between 1 and 1000")
    return limit
