"""The Data page: the SQL sources the user may use, each with its tables, columns, types, row counts as the
catalog has them, and a bounded preview of a table's first rows."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from lib.errors import AppError
from lib.runs import data_sources
from lib.sources import QueryResult, TableInfo
from lib.ui.demo_session import link_params
from lib.ui.render import show_error
from lib.ui.setup import Context
from lib.ui.state import ANALYZE_PAGE, select_sources


def render(ctx: Context) -> None:
    """Draw the Data page."""
    st.title("Data")
    st.caption(
        "Live SQL sources you may use. During an analysis Claude's code queries them read-only, on this app's "
        "side: their address and password never leave it. Pick them beside files on the Analyze page."
    )
    found = data_sources.declared()
    if ctx.user.admin:
        for problem in found.problems:
            show_error(problem)
    listings = data_sources.browse(ctx.user, ctx.settings, found)
    if not listings:
        st.info(
            "There is no SQL source you may use. An operator declares them in `.streamlit/secrets.toml` "
            "(`[sources.NAME]` with a SQLAlchemy URL) and says who may use each; see the README.",
            icon=":material/database_off:",
        )
        return
    for n, listing in enumerate(listings):
        _source(ctx, listing, expanded=n == 0)


def _source(ctx: Context, listing: data_sources.SourceListing, expanded: bool) -> None:
    catalog = listing.catalog
    tables = (
        f"{len(catalog.tables)} table{'s' * (len(catalog.tables) != 1)}" if catalog.error is None else "unavailable"
    )
    with st.expander(f"{listing.name} · {listing.dialect} · {tables}", expanded=expanded, icon=":material/database:"):
        if listing.description:
            st.markdown(listing.description)
        if catalog.error is not None:
            show_error(catalog.error)
            return
        for warning in catalog.warnings:
            st.warning(warning, icon=":material/warning:")
        if st.button(f"Analyze {listing.name}", key=f"data_analyze_{listing.name}", icon=":material/query_stats:"):
            select_sources([listing.name])
            st.switch_page(ANALYZE_PAGE, query_params=link_params())
        for table in catalog.tables:
            _table(ctx, listing.name, table)
        if catalog.tables_left_out:
            st.caption(f"… and {catalog.tables_left_out} more tables not listed.")


def _table(ctx: Context, source: str, table: TableInfo) -> None:
    st.markdown(f"**{table.qualified}** · {table.kind} · {table.rows_text}")
    columns = pd.DataFrame(
        {
            "column": [c.name for c in table.columns],
            "type": [c.type for c in table.columns],
            "nullable": [c.nullable for c in table.columns],
        }
    )
    st.dataframe(columns, hide_index=True, height=min(35 * (len(table.columns) + 1) + 3, 318))
    if table.columns_left_out:
        st.caption(f"… and {table.columns_left_out} more columns.")
    if st.toggle("First rows", key=f"data_preview_{source}_{table.qualified}"):
        try:
            shown = data_sources.first_rows(ctx.user, ctx.settings, source, table)
        except AppError as err:
            show_error(err)
            return
        _rows(shown)


def _rows(result: QueryResult) -> None:
    if result.error is not None:
        st.error(f"**The preview failed.** {result.error.message} {result.error.hint}".strip(), icon=":material/error:")
        return
    frame = pd.DataFrame(result.rows, columns=[c.name for c in result.columns])
    st.dataframe(frame, hide_index=True)
    st.caption(f"The first {result.row_count} rows, read in {result.elapsed_seconds:.2f} s.")
