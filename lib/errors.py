"""The project's own exceptions, and the one place SDK errors become sentences a user can act on."""

from __future__ import annotations

from dataclasses import dataclass

import anthropic


@dataclass
class AppError(Exception):
    """A failure with a title, what happened, and what to do about it."""

    title: str
    message: str
    hint: str = ""
    retryable: bool = False
    code: str = ""

    def __str__(self) -> str:
        return f"{self.title}: {self.message}"


def describe(exc: BaseException) -> AppError:
    """Turn any exception from the SDK or the network into an AppError."""
    if isinstance(exc, AppError):
        return exc
    if isinstance(exc, anthropic.APIStatusError):
        return _status_error(exc)
    if isinstance(exc, anthropic.APITimeoutError):
        return AppError(
            "Request timed out",
            "The API did not answer in time.",
            "Try again; for long analyses ask for smaller steps.",
            retryable=True,
            code="timeout",
        )
    if isinstance(exc, anthropic.APIConnectionError):
        return AppError(
            "Connection lost",
            f"The connection to the API failed or was cut ({_cause(exc)}).",
            "Check the network and try again; everything received so far is kept.",
            retryable=True,
            code="connection",
        )
    if type(exc).__module__.split(".")[0] in ("httpx", "httpx2", "httpcore", "httpcore2"):
        # a transport failure while reading a stream surfaces from the HTTP library, not the SDK
        return AppError(
            "Connection lost",
            f"The response stream was cut off ({type(exc).__name__}: {exc}).",
            "Ask again or ask a follow-up; everything received so far is kept.",
            retryable=True,
            code="connection",
        )
    return AppError(
        "Unexpected error",
        f"{type(exc).__name__}: {exc}",
        "Try again. If it keeps happening, the run's transcript so far is kept for reference.",
        code="unexpected",
    )


def _cause(exc: BaseException) -> str:
    inner = exc.__cause__ or exc.__context__
    return f"{type(inner).__name__}: {inner}" if inner else str(exc)


def _api_message(exc: anthropic.APIStatusError) -> str:
    body = exc.body if isinstance(exc.body, dict) else {}
    error = body.get("error") if isinstance(body.get("error"), dict) else body
    return str((error or {}).get("message") or exc.message)


def _status_error(exc: anthropic.APIStatusError) -> AppError:
    status, code = exc.status_code, getattr(exc, "error_code", None) or ""
    message = _api_message(exc)
    err_type = getattr(exc, "type", None) or ""
    if code == "file_not_downloadable":
        return AppError(
            "File not downloadable",
            message,
            "Only files made by Claude's code can be downloaded; your own uploads stay in your local library.",
            code=code,
        )
    if code == "file_expired":
        return AppError("File expired", message, "Upload the file again to use it.", code=code)
    if code == "storage_quota_exceeded":
        return AppError(
            "Storage full", message, "Delete files you no longer need on the Files page, then try again.", code=code
        )
    if code == "container_expired":
        return AppError(
            "Container expired", message, "A new container is started and your files re-attached.", code=code
        )
    if status == 200 or err_type == "overloaded_error" or status == 529:
        return AppError(
            "API overloaded",
            message or "The API is overloaded.",
            "Wait a minute and ask again; everything received so far is kept.",
            retryable=True,
            code="overloaded",
        )
    if status == 401:
        return AppError(
            "API key rejected",
            message,
            "Check ANTHROPIC_API_KEY in .streamlit/secrets.toml or the environment, or type a key in the sidebar.",
            code="auth",
        )
    if status == 402:
        return AppError(
            "Billing problem", message, "Check the billing settings of your Anthropic organisation.", code="billing"
        )
    if status == 403:
        return AppError(
            "Permission denied",
            message,
            "This key's workspace may not have access to this feature or file.",
            code="permission",
        )
    if status == 404:
        return AppError("Not found", message, "It may have been deleted; refresh the library.", code="not_found")
    if status == 413:
        return AppError("Too large", message, "Files can be at most 500 MB, requests 32 MB.", code="too_large")
    if status == 429:
        return AppError(
            "Rate limited",
            message,
            "Wait a minute and try again, or lower the pace of requests.",
            retryable=True,
            code="rate_limit",
        )
    if status >= 500:
        return AppError(
            "API error",
            message,
            "A temporary problem on the API side; try again shortly.",
            retryable=True,
            code="server",
        )
    return AppError(
        "Request refused",
        message,
        "Check the inputs named in the message and try again.",
        code=code or err_type or "bad_request",
    )
