"""Declaring sources: the secrets and environment forms, and clear messages for every bad declaration."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lib.settings import REPO_ROOT
from lib.sources import Allow, Limits, load_sources
from lib.sources.config import DEFAULT_MAX_BYTES
from lib.sources.statement import first_word, refusal

pytestmark = pytest.mark.sources


def test_secrets_and_environment_declare_sources_and_secrets_win() -> None:
    secrets = {
        "sources": {
            "sales": {
                "url": "postgresql://reader:pw@db.example.com:5432/sales",
                "description": "  Orders and customers ",
                "allow": ["Ana@Example.com", "https://idp.example.com#1234", "admins"],
                "timeout_seconds": 10,
                "max_rows": 5000,
                "max_mb": 0.5,
            },
            "local": {"url": "sqlite:///data/local.db"},
        }
    }
    environ = {
        "ANALYST_SOURCE_SALES_DESCRIPTION": "loses to secrets",
        "ANALYST_SOURCE_SALES_MAX_ROWS": "9",
        "ANALYST_SOURCE_WARE_HOUSE_URL": "duckdb:////srv/warehouse.duckdb",
        "ANALYST_SOURCE_WARE_HOUSE_ALLOW": "signed-in",
        "ANALYST_SOURCE_WARE_HOUSE_MAX_MB": "2",
        "ANALYST_OTHER": "ignored",
    }
    declared = load_sources(secrets, environ)
    assert declared.problems == ()
    assert [s.name for s in declared.sources] == ["local", "sales", "ware_house"]
    sales = declared.get("sales")
    assert sales is not None
    assert sales.url.drivername == "postgresql+psycopg"  # the installed driver
    assert sales.description == "Orders and customers"
    assert sales.allow == Allow(
        admins=True, emails=frozenset({"ana@example.com"}), owners=frozenset({"https://idp.example.com#1234"})
    )
    assert sales.limits == Limits(timeout_seconds=10, max_rows=5000, max_bytes=500_000)
    assert sales.view.dialect == "postgresql" and "pw" not in repr(sales)
    local = declared.get("local")
    assert local is not None and local.url.database == str(REPO_ROOT / "data" / "local.db")
    assert local.allow == Allow() and local.limits.max_bytes == DEFAULT_MAX_BYTES  # admins only by default
    house = declared.get("ware_house")
    assert house is not None and house.allow.signed_in and house.limits.max_bytes == 2_000_000
    assert house.allow.describe() == "everyone signed in" and sales.allow.describe() == "admins and 2 listed users"


@pytest.mark.parametrize(
    ("table", "key", "words"),
    [
        ({"description": "no url"}, "url", "missing"),
        ({"url": "not a url at all"}, "url", "not a SQLAlchemy URL"),
        ({"url": "nosuchdb+x://h/db"}, "url", "no SQLAlchemy dialect"),
        ({"url": "sqlite://"}, "url", "database file"),
        ({"url": "sqlite:///x.db", "alow": "signed-in"}, "alow", "not a known key"),
        ({"url": "sqlite:///x.db", "allow": ["bob"]}, "allow", "`bob` is not"),
        ({"url": "sqlite:///x.db", "allow": []}, "allow", "is empty"),
        ({"url": "sqlite:///x.db", "allow": 3}, "allow", "must be"),
        ({"url": "sqlite:///x.db", "max_rows": 1.5}, "max_rows", "not a whole number"),
        ({"url": "sqlite:///x.db", "timeout_seconds": -1}, "timeout_seconds", "above zero"),
        ({"url": "sqlite:///x.db", "max_mb": "lots"}, "max_mb", "above zero"),
        ({"url": "sqlite:///x.db", "description": 5}, "description", "must be text"),
    ],
)
def test_a_bad_declaration_is_named_with_its_key_and_left_out(table: dict, key: str, words: str) -> None:
    declared = load_sources({"sources": {"good": {"url": "sqlite:///good.db"}, "bad": table}}, {})
    assert [s.name for s in declared.sources] == ["good"]
    (problem,) = declared.problems
    assert problem.source == "bad" and problem.key == key
    assert f"Source `bad`, key `{key}`" in problem.message and words in problem.message
    assert "secrets.toml" in problem.hint


def test_odd_shapes_and_names_are_problems_not_crashes() -> None:
    declared = load_sources({"sources": {"Bad Name": {"url": "sqlite:///x.db"}, "flat": "sqlite:///x.db"}}, {})
    assert declared.sources == () and {p.source for p in declared.problems} == {"bad name", "flat"}
    assert load_sources({"sources": "sqlite:///x.db"}, {}).problems[0].key == "sources"
    from_env = load_sources({}, {"ANALYST_SOURCE_X_MAX_ROWS": "0"})
    assert from_env.problems[0].key == "url" and "the environment" in from_env.problems[0].hint


@given(st.text(max_size=300))
def test_the_statement_check_takes_any_text(sql: str) -> None:
    reason = refusal(sql)
    assert reason is None or isinstance(reason, str)
    assert (reason is None) == (first_word(sql) in ("select", "with", "values", "table", "from"))


@given(
    st.lists(st.sampled_from([" ", "\n", "(", "-- c\n", "/* c */", "/* a /* nested */ b */", "\t"]), max_size=8),
    st.sampled_from(["DROP", "insert", "Update", "COPY", "attach", "PRAGMA", "set", "call", "grant"]),
)
def test_a_write_behind_comments_and_brackets_is_refused(prefix: list[str], word: str) -> None:
    reason = refusal("".join(prefix) + word + " anything")
    assert reason is not None and word.upper() in reason


def test_the_first_word_skips_what_is_not_a_keyword() -> None:
    assert first_word("/* x /* y */ DROP */ select 1") == "select"
    assert first_word("-- DROP\n(( WITH a AS (SELECT 1) SELECT * FROM a))") == "with"
    assert first_word("--only a comment") == "" and refusal("  ") == "The query is empty."
    assert "at most" in (refusal("SELECT " + "1," * 60_000 + "1") or "")


def test_paths_of_file_databases_are_absolute(tmp_path: Path) -> None:
    declared = load_sources({"sources": {"f": {"url": f"duckdb:///{tmp_path}/x.duckdb"}}}, {})
    assert declared.sources[0].url.database == f"{tmp_path}/x.duckdb"
