"""One Settings value for the whole app, read from secrets, then the environment, then defaults."""

from __future__ import annotations

import math
import os
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from lib.cost import DEFAULT_PRICES, PriceTable
from lib.errors import AppError
from lib.identity import admin_list

DEFAULT_MODEL = "claude-sonnet-4-6"
DEFAULT_TOOL_VERSION = "code_execution_20260521"
TOOL_VERSIONS = ("code_execution_20260521", "code_execution_20260120", "code_execution_20250825")
REPO_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Settings:
    """Everything configurable; the key never appears in repr or logs."""

    api_key: str = field(default="", repr=False)
    key_source: str = ""
    base_url: str | None = None
    model: str = DEFAULT_MODEL
    tool_version: str = DEFAULT_TOOL_VERSION
    data_dir: Path = REPO_ROOT / "data"
    max_upload_mb: int = 200
    max_tokens: int = 16000
    max_continuations: int = 8
    run_budget_usd: float = 0.0  # default budget of a new run; 0: no limit
    max_running_per_user: int = 4  # with workers: turns of one user streamed at once; 0: no limit
    request_timeout: float = 600.0
    max_retries: int = 2
    demo: bool = False
    prices: PriceTable = DEFAULT_PRICES
    admins: frozenset[str] = frozenset()  # with sign-in: admins' emails and sign-in ids (ANALYST_ADMINS)
    database_url: str = field(default="", repr=False)  # ANALYST_DATABASE_URL; "": SQLite in the data directory
    blob_url: str = ""  # ANALYST_BLOB_URL; "": files in the data directory

    @property
    def has_key(self) -> bool:
        """Whether a key is configured (or the offline demo stands in for one)."""
        return bool(self.api_key)

    @property
    def max_upload_bytes(self) -> int:
        """The app's own per-file upload limit in bytes."""
        return self.max_upload_mb * 1024 * 1024

    def with_key(self, api_key: str, source: str) -> Settings:
        """A copy using another key (typed in the sidebar, or the demo's)."""
        return replace(self, api_key=api_key, key_source=source)

    def for_demo(self, base_url: str) -> Settings:
        """A copy pointed at the local offline demo server, keeping its data apart from real runs."""
        return replace(
            self,
            api_key="demo-key",
            key_source="offline demo",
            base_url=base_url,
            demo=True,
            data_dir=self.data_dir / "demo",
            database_url="",  # the demo is one person's, offline: always the embedded default
            blob_url="",
        )


def read_secrets(places: list[Path] | None = None) -> dict[str, Any]:
    """Settings from the `.streamlit/secrets.toml` files Streamlit reads (user-wide, then the project's, which
    wins); a file that is not valid TOML is skipped with a warning."""
    if places is None:
        places = [Path.home() / ".streamlit" / "secrets.toml", Path.cwd() / ".streamlit" / "secrets.toml"]
    merged: dict[str, Any] = {}
    for place in places:
        try:
            merged.update(tomllib.loads(place.read_text(encoding="utf-8")))
        except FileNotFoundError:
            continue
        except (OSError, tomllib.TOMLDecodeError) as exc:
            print(f"warning: {place} could not be read ({type(exc).__name__}); fix its TOML syntax.", file=sys.stderr)
    return merged


def load_settings(secrets: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Build settings from a secrets mapping (st.secrets) and the environment; secrets win."""
    secrets = secrets or {}
    environ = os.environ if environ is None else environ

    def get(name: str, default: Any = None) -> Any:
        value = secrets.get(name)
        if value in (None, ""):
            value = environ.get(name)
        return default if value in (None, "") else value

    def number(name: str, default: float, kind: type = int) -> Any:
        value = get(name, default)
        try:
            parsed = kind(value)
        except (TypeError, ValueError):
            parsed = None
        if parsed is None or not math.isfinite(parsed) or parsed < 0:
            expected = "a whole number" if kind is int else "a number"
            raise SettingsError(name, f"`{name}` is `{value}`, which is not {expected} of zero or more.")
        return parsed

    key = str(get("ANTHROPIC_API_KEY", "")).strip()
    source = ""
    if key:
        source = "secrets.toml" if secrets.get("ANTHROPIC_API_KEY") else "environment"
    data_dir = Path(get("ANALYST_DATA_DIR", REPO_ROOT / "data")).expanduser()
    if not data_dir.is_absolute():
        data_dir = REPO_ROOT / data_dir
    return Settings(
        api_key=key,
        key_source=source,
        base_url=get("ANTHROPIC_BASE_URL"),
        model=str(get("ANALYST_MODEL", DEFAULT_MODEL)),
        tool_version=str(get("ANALYST_TOOL_VERSION", DEFAULT_TOOL_VERSION)),
        data_dir=data_dir,
        max_upload_mb=number("ANALYST_MAX_UPLOAD_MB", 200),
        max_tokens=number("ANALYST_MAX_TOKENS", 16000),
        max_continuations=number("ANALYST_MAX_CONTINUATIONS", 8),
        max_retries=number("ANALYST_MAX_RETRIES", 2),
        run_budget_usd=number("ANALYST_RUN_BUDGET_USD", 0.0, float),
        max_running_per_user=number("ANALYST_MAX_RUNNING_PER_USER", 4),
        admins=read_admins(str(get("ANALYST_ADMINS", ""))),
        database_url=str(get("ANALYST_DATABASE_URL", "")).strip(),
        blob_url=str(get("ANALYST_BLOB_URL", "")).strip().rstrip("/"),
    )


def read_admins(text: str) -> frozenset[str]:
    """ANALYST_ADMINS read: emails and sign-in ids; an entry that is neither is a SettingsError."""
    try:
        return admin_list(text)
    except ValueError as err:
        raise SettingsError(
            "ANALYST_ADMINS",
            f"`ANALYST_ADMINS` has an entry that cannot be read: {err}.",
            "Separate the entries with commas.",
        ) from None


class SettingsError(AppError):
    """A setting that cannot be used as it is."""

    def __init__(self, name: str, problem: str, how: str = "") -> None:
        super().__init__(
            "Setting not understood",
            problem,
            f"Fix `{name}` in `.streamlit/secrets.toml` or the environment, then reload the page. {how}".strip(),
            code="settings",
        )
