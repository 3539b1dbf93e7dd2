"""When the API refuses a run's container, and what the turn says about it."""

from __future__ import annotations

import anthropic

from lib.errors import AppError, describe

CONTAINER_REPLACED = (
    "The run's container could no longer be used ({why}), so a new one was started and the run's files were "
    "attached to it again. Files made in earlier turns are not in the new container."
)


def refuses_container(exc: BaseException, container_id: str) -> str:
    """Why a failed request that carried `container_id` failed because of the container ('' if it did not).

    The API's refusal is untyped: a 400/404 whose message names the container's id, or (seen in the wild for a
    container the docs call restorable) a plain 500 `api_error` that outlived the SDK's retries.
    """
    if not container_id or not isinstance(exc, anthropic.APIStatusError):
        return ""
    status, message = exc.status_code, describe(exc).message
    # the id, not the word: the API's file errors speak of `container_upload` blocks, and a new container
    # would not bring a missing file back
    if status in (400, 404) and container_id in message:
        return f"the API answered {status}: {message}"
    if status >= 500 and status != 529 and (getattr(exc, "type", None) or "api_error") == "api_error":
        return f"the API answered {status} for it"
    return ""


def container_lost(why: str) -> AppError:
    """The error of a turn whose container was refused while Claude's paused work was being continued."""
    return AppError(
        "Container no longer usable",
        f"The run's container could no longer be used ({why}) while Claude's paused work was being continued. "
        "Everything received so far is kept.",
        "Ask a follow-up such as 'continue': it starts a new container with the run's files attached again. "
        "Files made in this run are not in it.",
        retryable=True,
        code="container",
    )


def code_state_lost(why: str) -> AppError:
    """The error of a turn whose container was refused while Claude's code waited for query results."""
    return AppError(
        "Container no longer usable",
        f"The run's container could no longer be used ({why}) while Claude's code was waiting for the results of "
        "its SQL queries, so the code and everything it held in memory are gone. Everything received so far is kept.",
        "Ask the question again: it starts a new container with the run's files attached again.",
        retryable=True,
        code="container",
    )
