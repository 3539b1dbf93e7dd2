"""SQL sources in runs: which a user may pick and browse, the check when a run starts, the schemas for the
prompt, who asks (kept with a queued turn, so a worker runs the queries as that user), and a query's rows
snapshotted into a Parquet file of the library where code cannot call tools.

Only names, schemas and the asker's identity are kept; a source's URL is read from the declarations each
time, on whichever machine runs the turn.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import anthropic

from lib.errors import AppError
from lib.files import library, uploads
from lib.identity import LOCAL_OWNER, User, local_user
from lib.settings import Settings
from lib.sources import (
    Catalog,
    Declared,
    QueryHandle,
    QueryResult,
    SourceConfig,
    TableInfo,
    catalog_for,
    load_sources,
    preview,
    prompt_text,
    resolve,
    run_for,
    sources_for,
    to_parquet,
)
from lib.storage.records import FileRecord
from lib.storage.store import Store
from lib.turn.queries import QueryRunner

# tool versions whose code can call the request's client tools (programmatic tool calling)
PTC_TOOL_VERSIONS = ("code_execution_20260120", "code_execution_20260521")


def declared() -> Declared:
    """The declared sources, read now from `.streamlit/secrets.toml` and the environment (never kept)."""
    return load_sources()


def usable(user: User, settings: Settings, found: Declared | None = None) -> tuple[SourceConfig, ...]:
    """The sources this user may use (the demo source where it is offered)."""
    return sources_for(user, found or declared(), settings)


@dataclass(frozen=True)
class SourceListing:
    """One source as the Data page lists it: what may be shown of it and its catalog (tables, columns, rows)."""

    name: str
    description: str
    dialect: str
    catalog: Catalog


def browse(user: User, settings: Settings, found: Declared | None = None) -> list[SourceListing]:
    """The sources this user may use, each with its catalog (read at most once a minute)."""
    return [SourceListing(s.name, s.description, s.dialect, catalog_for(s)) for s in usable(user, settings, found)]


def first_rows(user: User, settings: Settings, name: str, table: TableInfo) -> QueryResult:
    """A bounded preview of a table of a source this user may use (SourceNotAllowed otherwise)."""
    return preview(resolve(user, declared(), settings, name), table)


def check(user: User, settings: Settings, names: list[str], found: Declared | None = None) -> list[SourceConfig]:
    """The named sources, each checked for this user (SourceNotAllowed for the first they may not use)."""
    found = found or declared()
    return [resolve(user, found, settings, name) for name in dict.fromkeys(names)]


def schemas(sources: list[SourceConfig]) -> list[str]:
    """Each source's schema as the system prompt gives it."""
    return [prompt_text(catalog_for(s)) for s in sources]


def asker_of(store: Store, user: User | None) -> User:
    """Who asks a question: the user given, or the single-user app's one user."""
    if user is not None:
        return user
    if store.owner != LOCAL_OWNER:
        raise AppError(
            "Sign-in needed",
            "A question on SQL sources has to say who asks, so that only sources they may use are queried.",
            "Ask from the app while signed in.",
            code="not_allowed",
        )
    return local_user()


def asker_dict(user: User) -> dict[str, Any]:
    """Who asks, as kept with a queued turn (no secret: the sign-in id, email and whether they are an admin)."""
    return {
        "owner": user.owner,
        "email": user.email,
        "name": user.name,
        "admin": user.admin,
        "signed_in": user.signed_in,
        "email_verified": user.email_verified,
    }


def asker_from(values: dict[str, Any], owner: str) -> User:
    """Who asked a queued turn; it must be the run's owner (a turn is never run as anyone else)."""
    asker = values.get("asker") or {}
    user = User(
        owner=str(asker.get("owner", "")),
        email=str(asker.get("email", "")),
        name=str(asker.get("name", "")),
        admin=bool(asker.get("admin", False)),
        signed_in=bool(asker.get("signed_in", True)),
        email_verified=bool(asker.get("email_verified", False)),
    )
    if user.owner != owner:
        raise AppError(
            "Not allowed",
            "This question was queued without the run's owner as the one who asks, so its SQL sources are not queried.",
            "Ask the question again from the app.",
            code="not_allowed",
        )
    return user


def runner_for(user: User, settings: Settings, found: Declared | None = None) -> QueryRunner:
    """Runs the code's queries as this user: each source is checked again for them, in lib.sources."""
    found = found or declared()

    def run(name: str, sql: str, handle: QueryHandle) -> QueryResult:
        return run_for(user, found, settings, name, sql, handle=handle)

    return run


def tools_from_code(tool_version: str, model_can: bool | None) -> str:
    """Why code cannot call tools with this tool version and model ('' when it can); `model_can` is the model's
    `capabilities.code_execution` (None: not reported)."""
    if tool_version not in PTC_TOOL_VERSIONS:
        return (
            f"`{tool_version}` cannot call tools from code: programmatic tool calling needs "
            "code_execution_20260120 or later."
        )
    if model_can is False:
        return "This model cannot call tools from code (programmatic tool calling)."
    return ""


@dataclass(frozen=True)
class SnapshotResult:
    """A query's rows saved as a Parquet file in the library, or why not."""

    record: FileRecord | None
    rows: int = 0
    truncated: bool = False
    error: AppError | None = None


def snapshot_to_file(
    client: anthropic.Anthropic, store: Store, settings: Settings, user: User, name: str, sql: str, stem: str = ""
) -> SnapshotResult:
    """Run a query on a source this user may use and put its rows in the library as a Parquet file, through
    the same checks and upload as any other file (the fallback where code cannot query sources itself)."""
    result = run_for(user, declared(), settings, name, sql)
    if result.error is not None:
        error = AppError("Query failed", result.error.message, result.error.hint, code=f"query_{result.error.kind}")
        return SnapshotResult(None, error=error)
    snap = to_parquet(result, stem)
    checked = uploads.check_upload(snap.name, snap.data, settings.max_upload_bytes, settings.data_dir)
    if isinstance(checked, uploads.Rejected):
        return SnapshotResult(None, error=AppError("Snapshot not accepted", checked.reason, checked.hint))
    done = library.upload_accepted(client, store, settings.data_dir, checked)
    return SnapshotResult(done.record, snap.rows, snap.truncated, done.error)
