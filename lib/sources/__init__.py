"""Live SQL sources: declared in secrets, checked per user, browsed through their catalog, queried read-only."""

from lib.sources.access import SourceNotAllowed, demo_offered, may_use, resolve, sources_for
from lib.sources.catalog import Catalog, ColumnInfo, TableInfo, catalog, preview, prompt_text, read_catalog
from lib.sources.config import (
    Allow,
    Declared,
    Limits,
    SourceConfig,
    SourceConfigError,
    SourceView,
    load_sources,
)
from lib.sources.demo import DEMO_NAME, demo_source
from lib.sources.engines import dispose_all
from lib.sources.query import QueryColumn, QueryError, QueryHandle, QueryResult, run_query, tool_result_text
from lib.sources.snapshot import Snapshot, snapshot

__all__ = [
    "DEMO_NAME",
    "Allow",
    "Catalog",
    "ColumnInfo",
    "Declared",
    "Limits",
    "QueryColumn",
    "QueryError",
    "QueryHandle",
    "QueryResult",
    "Snapshot",
    "SourceConfig",
    "SourceConfigError",
    "SourceNotAllowed",
    "SourceView",
    "TableInfo",
    "catalog",
    "demo_offered",
    "demo_source",
    "dispose_all",
    "load_sources",
    "may_use",
    "preview",
    "prompt_text",
    "read_catalog",
    "resolve",
    "run_query",
    "snapshot",
    "sources_for",
    "tool_result_text",
]
