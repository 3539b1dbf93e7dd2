"""Live SQL sources: declared in secrets, checked per user, browsed through their catalog, queried read-only."""

from lib.sources.access import SourceNotAllowed, demo_offered, may_use, resolve, run_for, sources_for
from lib.sources.catalog import Catalog, ColumnInfo, TableInfo, catalog_for, preview, prompt_text, read_catalog
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
from lib.sources.query import (
    QueryColumn,
    QueryError,
    QueryHandle,
    QueryResult,
    fitted,
    run_query,
    tool_result_text,
)
from lib.sources.snapshot import Snapshot, to_parquet

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
    "catalog_for",
    "demo_offered",
    "demo_source",
    "dispose_all",
    "fitted",
    "load_sources",
    "may_use",
    "preview",
    "prompt_text",
    "read_catalog",
    "resolve",
    "run_for",
    "run_query",
    "sources_for",
    "to_parquet",
    "tool_result_text",
]
