"""Declared SQL sources: `[sources.NAME]` tables in secrets, or `ANALYST_SOURCE_<NAME>_<KEY>` variables."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL

from lib.errors import AppError
from lib.settings import REPO_ROOT, read_secrets

MB = 1_000_000
DEFAULT_TIMEOUT_SECONDS = 30.0
DEFAULT_MAX_ROWS = 200_000
# A result travels back inside the next Messages request (32 MB at most, with the whole conversation and any
# other result of the same pause), so one result may take a quarter of it.
DEFAULT_MAX_BYTES = 8 * MB
ENV_PREFIX = "ANALYST_SOURCE_"
SECRETS = "`.streamlit/secrets.toml`"
KEYS = ("url", "description", "allow", "timeout_seconds", "max_rows", "max_mb")
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
FILE_DIALECTS = ("sqlite", "duckdb")
# query-string parameters of a URL that carry a credential, masked like the password
SECRET_PARAMS = re.compile(r"pass|pwd|secret|token|key|credential", re.IGNORECASE)


@dataclass(frozen=True)
class Limits:
    """What one query may take: seconds, rows, and bytes of its result as sent back to the code."""

    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    max_rows: int = DEFAULT_MAX_ROWS
    max_bytes: int = DEFAULT_MAX_BYTES


@dataclass(frozen=True)
class Allow:
    """Who may use a source: admins, everyone signed in, and listed emails or owner ids (issuer#subject)."""

    admins: bool = True
    signed_in: bool = False
    emails: frozenset[str] = frozenset()
    owners: frozenset[str] = frozenset()

    def describe(self) -> str:
        """In words, for a page."""
        if self.signed_in:
            return "everyone signed in"
        parts = ["admins"] if self.admins else []
        listed = len(self.emails) + len(self.owners)
        if listed:
            parts.append(f"{listed} listed user{'s' if listed != 1 else ''}")
        return " and ".join(parts) or "nobody"


@dataclass(frozen=True)
class SourceView:
    """What may be shown of a source anywhere (page, prompt, store, export): never its URL."""

    name: str
    description: str
    dialect: str


@dataclass(frozen=True)
class SourceConfig:
    """One declared source; its URL (with any password) stays on the app's side and out of repr and str."""

    name: str
    url: URL = field(repr=False)
    description: str = ""
    allow: Allow = Allow()
    limits: Limits = Limits()
    demo: bool = False

    @property
    def dialect(self) -> str:
        """The database kind: postgresql, sqlite, duckdb, mysql…"""
        return self.url.get_backend_name()

    @property
    def safe_url(self) -> str:
        """The URL with its password and credential parameters masked."""
        return safe_url(self.url)

    @property
    def view(self) -> SourceView:
        """The public view."""
        return SourceView(self.name, self.description, self.dialect)

    def __repr__(self) -> str:
        return f"SourceConfig(name={self.name!r}, url={self.safe_url!r}, description={self.description!r})"

    __str__ = __repr__

    def secrets(self) -> tuple[str, ...]:
        """Every credential in the URL, to scrub from driver messages."""
        found = [self.url.password] if self.url.password else []
        found += [str(v) for k, v in self.url.query.items() if SECRET_PARAMS.search(k) and isinstance(v, str)]
        return tuple(str(s) for s in found if s)


def safe_url(url: URL) -> str:
    """A URL for display: the password and credential-like query parameters as ***."""
    query = {k: ("***" if SECRET_PARAMS.search(k) else v) for k, v in url.query.items()}
    return url.set(query=query).render_as_string(hide_password=True)


def scrub(text: str, source: SourceConfig) -> str:
    """A driver's message with the source's credentials masked (drivers rarely echo them, but may)."""
    for secret in source.secrets():
        text = text.replace(secret, "***")
    return text


class SourceConfigError(AppError):
    """A declaration that cannot be used, naming the source and the key."""

    def __init__(self, name: str, key: str, problem: str, where: str) -> None:
        super().__init__(
            "SQL source not understood",
            f"Source `{name}`, key `{key}`: {problem}",
            f"Fix it in {where}, then reload the page; the source is left out until then.",
            code="source_config",
        )
        self.source = name
        self.key = key


@dataclass(frozen=True)
class Declared:
    """The usable declarations, in name order, and one error per declaration left out."""

    sources: tuple[SourceConfig, ...] = ()
    problems: tuple[SourceConfigError, ...] = ()

    def get(self, name: str) -> SourceConfig | None:
        """A source by name."""
        return next((s for s in self.sources if s.name == name), None)


def load_sources(secrets: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> Declared:
    """Every declared source; each key from secrets wins over the same key from the environment."""
    secrets = read_secrets() if secrets is None else secrets
    environ = os.environ if environ is None else environ
    raw: dict[str, dict[str, tuple[Any, str]]] = {}
    problems: list[SourceConfigError] = []
    for name, values in _from_environ(environ).items():
        raw.setdefault(name, {}).update({k: (v, "the environment") for k, v in values.items()})
    tables = secrets.get("sources") or {}
    if not isinstance(tables, Mapping):
        problems.append(SourceConfigError("*", "sources", "must be a table of `[sources.NAME]` tables.", SECRETS))
        tables = {}
    for name, values in tables.items():
        if not isinstance(values, Mapping):
            problems.append(SourceConfigError(str(name), "-", "must be a `[sources.NAME]` table.", SECRETS))
            continue
        raw.setdefault(str(name).lower(), {}).update({str(k): (v, SECRETS) for k, v in values.items()})
    sources = []
    for name in sorted(raw):
        try:
            sources.append(parse_source(name, raw[name]))
        except SourceConfigError as err:
            problems.append(err)
    return Declared(tuple(sources), tuple(problems))


def _from_environ(environ: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """ANALYST_SOURCE_SALES_EU_URL=… as {"sales_eu": {"url": …}}; the longest known key suffix wins."""
    found: dict[str, dict[str, str]] = {}
    suffixes = sorted(KEYS, key=len, reverse=True)
    for var, value in environ.items():
        if not var.startswith(ENV_PREFIX) or value == "":
            continue
        rest = var[len(ENV_PREFIX) :]
        key = next((k for k in suffixes if rest.lower().endswith("_" + k)), None)
        if key is None:
            continue
        found.setdefault(rest[: -len(key) - 1].lower(), {})[key] = value
    return found


def parse_source(name: str, values: Mapping[str, tuple[Any, str]]) -> SourceConfig:
    """One declaration (each value with where it came from) as a SourceConfig, or SourceConfigError."""
    where = " or ".join(sorted({w for _, w in values.values()})) or SECRETS

    def fail(key: str, problem: str) -> SourceConfigError:
        return SourceConfigError(name, key, problem, values[key][1] if key in values else where)

    if not NAME_PATTERN.match(name):
        raise fail("-", "a name is 1 to 40 lowercase letters, digits and underscores, starting with a letter.")
    unknown = sorted(set(values) - set(KEYS))
    if unknown:
        raise fail(unknown[0], f"is not a known key (known: {', '.join(KEYS)}).")
    if "url" not in values or not str(values["url"][0]).strip():
        raise fail("url", "is missing: give a SQLAlchemy URL such as `postgresql+psycopg://user:password@host/db`.")
    url = _url(str(values["url"][0]).strip(), fail)
    description = values.get("description", ("", ""))[0]
    if not isinstance(description, str):
        raise fail("description", "must be text.")
    allow = parse_allow(values["allow"][0], lambda problem: fail("allow", problem)) if "allow" in values else Allow()
    limits = Limits(
        timeout_seconds=_number(values, "timeout_seconds", DEFAULT_TIMEOUT_SECONDS, fail, whole=False),
        max_rows=int(_number(values, "max_rows", DEFAULT_MAX_ROWS, fail, whole=True)),
        max_bytes=int(_number(values, "max_mb", DEFAULT_MAX_BYTES / MB, fail, whole=False) * MB),
    )
    return SourceConfig(name=name, url=url, description=description.strip(), allow=allow, limits=limits)


def _url(text: str, fail: Callable[[str, str], SourceConfigError]) -> URL:
    """Parse and check a URL; the messages never repeat it (it may hold a password)."""
    try:
        url = sa.engine.make_url(text)
    except (sa.exc.ArgumentError, ValueError):
        raise fail("url", "is not a SQLAlchemy URL (`dialect+driver://user:password@host:port/database`).") from None
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")  # the driver this app installs
    try:
        url.get_dialect()
    except sa.exc.NoSuchModuleError:
        raise fail(
            "url", f"no SQLAlchemy dialect `{url.drivername}` is installed: pip install the database's driver."
        ) from None
    if url.get_backend_name() in FILE_DIALECTS:
        database = url.database or ""
        if database in ("", ":memory:") or database.startswith("file:"):
            raise fail(
                "url", f"a {url.get_backend_name()} source is a database file: `{url.drivername}:///path/to/file`."
            )
        path = Path(database).expanduser()
        url = url.set(database=str(path if path.is_absolute() else REPO_ROOT / path))
    return url


def parse_allow(value: Any, fail: Callable[[str], SourceConfigError]) -> Allow:
    """`"admins"`, `"signed-in"`, or a list of those words, emails and owner ids (issuer#subject)."""
    if isinstance(value, str):
        items = [part.strip() for part in value.split(",") if part.strip()]
    elif isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        items = [v.strip() for v in value if v.strip()]
    else:
        raise fail('must be "admins", "signed-in", or a list of emails and issuer#subject ids.')
    if not items:
        raise fail('is empty: say "admins", "signed-in", or list who may use the source.')
    admins = signed_in = False
    emails: set[str] = set()
    owners: set[str] = set()
    for item in items:
        if item.lower() == "admins":
            admins = True
        elif item.lower() == "signed-in":
            signed_in = True
        elif "#" in item:
            owners.add(item)
        elif "@" in item:
            emails.add(item.lower())
        else:
            raise fail(f'`{item}` is not "admins", "signed-in", an email or an issuer#subject id.')
    return Allow(admins=admins, signed_in=signed_in, emails=frozenset(emails), owners=frozenset(owners))


def _number(
    values: Mapping[str, tuple[Any, str]],
    key: str,
    default: float,
    fail: Callable[[str, str], SourceConfigError],
    whole: bool,
) -> float:
    if key not in values:
        return default
    value = values[key][0]
    try:
        number = float(value) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number) or number <= 0 or (whole and number != int(number)):
        raise fail(key, f"is `{value}`, which is not a {'whole ' if whole else ''}number above zero.")
    return number
