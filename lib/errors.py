"""The project's own exceptions, and the one place SDK errors become sentences a user can act on."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import anthropic

# a path in quotes (as OSError shows it, spaces and all), or bare after a space or bracket; never inside a URL
_QUOTED_PATH = re.compile(r"""(['"])(?:/|[A-Za-z]:\\)[^'"]*\1""")
_BARE_PATH = re.compile(r"""(?<![\w:/.~-])(?:/|[A-Za-z]:\\)[^\s'"]+""")


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


class NotAllowedError(AppError):
    """Something asked of another user's data, or an admin's operation asked by someone else."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__("Not allowed", message, hint, code="not_allowed")


def describe(exc: BaseException) -> AppError:
    """Turn any exception from the SDK or the network into an AppError."""
    if isinstance(exc, AppError):
        return exc
    import anthropic  # here, not at the top: settings and the command line's checks need no SDK

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
            f"The response stream was cut off ({type(exc).__name__}: {without_paths(str(exc))}).",
            "Ask again or ask a follow-up; everything received so far is kept.",
            retryable=True,
            code="connection",
        )
    if isinstance(exc, OSError) and not isinstance(exc, (ConnectionError, TimeoutError)):
        return AppError(
            "Local file problem",
            f"A file could not be written or read on the server ({exc.strerror or without_paths(str(exc))}).",
            "Try again. If it keeps happening, ask whoever runs this app to check that the data directory has free "
            "space and can be written to.",
            code="local_file",
        )
    return AppError(
        "Unexpected error",
        f"{type(exc).__name__}: {without_paths(str(exc))}",
        "Try again. If it keeps happening, the run's transcript so far is kept for reference.",
        code="unexpected",
    )


def _cause(exc: BaseException) -> str:
    inner = exc.__cause__ or exc.__context__
    return without_paths(f"{type(inner).__name__}: {inner}" if inner else str(exc))


def without_paths(text: str) -> str:
    """Text with every file path of the server cut to its last part: the data directory, the app's own folder
    and temporary files are nobody's business, and the file's own name is what the user knows it by."""
    text = _QUOTED_PATH.sub(lambda m: m.group(1) + _last_part(m.group()[1:-1]) + m.group(1), text)
    return _BARE_PATH.sub(lambda m: _last_part(m.group()), text)


def _last_part(path: str) -> str:
    return re.split(r"[\\/]", path.rstrip("\\/"))[-1] or "…"


def _api_message(exc: anthropic.APIStatusError) -> str:
    body = exc.body if isinstance(exc.body, dict) else {}
    error = body.get("error") if isinstance(body.get("error"), dict) else body
    return str((error or {}).get("message") or exc.message)


# what each `error.type` of the API means to the user; retryable ones may be sent again
BY_TYPE: dict[str, tuple[str, str, bool, str]] = {
    "overloaded_error": (
        "API overloaded",
        "Wait a minute and ask again; everything received so far is kept.",
        True,
        "overloaded",
    ),
    "rate_limit_error": (
        "Rate limited",
        "Wait a minute and try again, or lower the pace of requests.",
        True,
        "rate_limit",
    ),
    "api_error": ("API error", "A temporary problem on the API side; try again shortly.", True, "server"),
    "timeout_error": (
        "API timed out",
        "The API gave up on the request; try again, or ask for smaller steps.",
        True,
        "timeout",
    ),
    "authentication_error": (
        "API key rejected",
        "Check ANTHROPIC_API_KEY in .streamlit/secrets.toml or the environment, or type a key in the sidebar.",
        False,
        "auth",
    ),
    "billing_error": (
        "Billing problem",
        "Check the billing settings of your Anthropic organisation.",
        False,
        "billing",
    ),
    "permission_error": (
        "Permission denied",
        "This key's workspace may not have access to this feature or file.",
        False,
        "permission",
    ),
    "not_found_error": ("Not found", "It may have been deleted; refresh the library.", False, "not_found"),
    "request_too_large": ("Too large", "Files can be at most 500 MB, requests 32 MB.", False, "too_large"),
    "invalid_request_error": (
        "Request refused",
        "Check the inputs named in the message and try again.",
        False,
        "bad_request",
    ),
}
BY_STATUS = {
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    408: "timeout_error",
    413: "request_too_large",
    429: "rate_limit_error",
    504: "timeout_error",
    529: "overloaded_error",
}
BY_CODE = {
    "file_not_downloadable": (
        "File not downloadable",
        "Only files made by Claude's code can be downloaded; your own uploads stay in your local library.",
    ),
    "file_expired": ("File expired", "Upload the file again to use it."),
    "storage_quota_exceeded": ("Storage full", "Delete files you no longer need on the Files page, then try again."),
}


def _status_error(exc: anthropic.APIStatusError) -> AppError:
    """Named by the error's code, else its `error.type` (an error inside a stream has status 200), else its status."""
    status, code = exc.status_code, getattr(exc, "error_code", None) or ""
    message = _api_message(exc)
    if code in BY_CODE:
        title, hint = BY_CODE[code]
        return AppError(title, message, hint, code=code)
    err_type = getattr(exc, "type", None) or ""
    if err_type not in BY_TYPE:
        err_type = BY_STATUS.get(status) or ("api_error" if status >= 500 or status == 200 else "invalid_request_error")
    title, hint, retryable, name = BY_TYPE[err_type]
    return AppError(title, message or title, hint, retryable=retryable, code=code or name)
