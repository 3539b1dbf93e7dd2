"""One Settings value for the whole app, read from secrets, then the environment, then defaults."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from lib.cost import DEFAULT_PRICES, PriceTable

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
    request_timeout: float = 600.0
    max_retries: int = 2
    demo: bool = False
    prices: PriceTable = DEFAULT_PRICES

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
        return replace(self, api_key="demo-key", key_source="offline demo", base_url=base_url, demo=True,
                       data_dir=self.data_dir / "demo")


def load_settings(secrets: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Build settings from a secrets mapping (st.secrets) and the environment; secrets win."""
    secrets = secrets or {}
    environ = os.environ if environ is None else environ

    def get(name: str, default: Any = None) -> Any:
        value = secrets.get(name)
        if value in (None, ""):
            value = environ.get(name)
        return default if value in (None, "") else value

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
        max_upload_mb=int(get("ANALYST_MAX_UPLOAD_MB", 200)),
        max_tokens=int(get("ANALYST_MAX_TOKENS", 16000)),
        max_continuations=int(get("ANALYST_MAX_CONTINUATIONS", 8)),
        max_retries=int(get("ANALYST_MAX_RETRIES", 2)),
    )
