"""Who may use which source, checked here for every listing, catalog, preview and query."""

from __future__ import annotations

from lib.errors import AppError
from lib.identity import User
from lib.settings import Settings
from lib.sources.config import Declared, SourceConfig
from lib.sources.demo import DEMO_NAME, demo_source
from lib.sources.query import QueryError, QueryHandle, QueryResult, run_query


class SourceNotAllowed(AppError):
    """A source this user may not use, or one that is not declared (the two read the same to the user)."""

    def __init__(self, name: str) -> None:
        super().__init__(
            "Not allowed",
            f"There is no SQL source `{name}` that you may use.",
            "Pick one of the sources listed for you; an admin of this app decides who may use which.",
            code="not_allowed",
        )
        self.source = name


def may_use(user: User, source: SourceConfig) -> bool:
    """Whether this user may see and query the source."""
    if source.demo or not user.signed_in:
        return True  # the demo's samples are public; without sign-in the one local user runs the app
    allow = source.allow
    if allow.signed_in or (allow.admins and user.admin):
        return True
    # an email counts only when the provider verified it, as for admins: with some providers anyone can set it
    by_email = user.email_verified and bool(user.email) and user.email.lower() in allow.emails
    return user.owner in allow.owners or by_email


def demo_offered(user: User, settings: Settings) -> bool:
    """Whether the demo source is offered: in the single-user app (no sign-in) and in the offline demo."""
    return settings.demo or not user.signed_in


def sources_for(user: User, declared: Declared, settings: Settings) -> tuple[SourceConfig, ...]:
    """The sources a user may use, in name order, with the demo source where it is offered.

    A declared source named like the demo takes its place."""
    usable = [s for s in declared.sources if may_use(user, s)]
    if demo_offered(user, settings) and declared.get(DEMO_NAME) is None:
        usable.append(demo_source(settings.data_dir))
    return tuple(sorted(usable, key=lambda s: s.name))


def resolve(user: User, declared: Declared, settings: Settings, name: str) -> SourceConfig:
    """The source named, if this user may use it; else SourceNotAllowed."""
    found = next((s for s in sources_for(user, declared, settings) if s.name == name), None)
    if found is None:
        raise SourceNotAllowed(name)
    return found


def run_for(
    user: User, declared: Declared, settings: Settings, name: str, sql: str, *, handle: QueryHandle | None = None
) -> QueryResult:
    """A query the analysis code asked for, as this user: a source they may not use is an error value, not a raise."""
    try:
        source = resolve(user, declared, settings, name)
    except SourceNotAllowed as err:
        return QueryResult(name, sql, error=QueryError("not_allowed", err.message, err.hint))
    return run_query(source, sql, handle=handle)
