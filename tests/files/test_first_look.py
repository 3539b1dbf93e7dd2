"""The first look (head and size alone) against the exact profile (the whole file): they agree wherever the first
look claims to be exact, and where it estimates, it says "about"; the exact profile tells its progress."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from lib.files import sandbox
from lib.files.preview import TablePreview, complete, first_look, inspect_path
from lib.files.profile import exact_profile
from lib.files.samples import list_samples
from lib.files.tables import LOOK_BYTES
from tests.support.hostile import CASES, parquet

ACCEPTED = [
    c for c in CASES if c.rejected is None and c.name.rsplit(".", 1)[-1] in ("csv", "tsv", "json", "xlsx", "parquet")
]


def large_csv(rows: int, seed: int = 3) -> bytes:
    """A sales-like CSV several times larger than a first look's head."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "order_id": np.arange(rows),
            "date": (np.datetime64("2024-01-01") + rng.integers(0, 365, rows)).astype(str),
            "region": np.array(["North", "South", "East", "West"])[rng.integers(0, 4, rows)],
            "amount": rng.normal(250, 80, rows).round(2),
            "units": rng.integers(1, 50, rows),
        }
    )
    return frame.to_csv(index=False).encode()


def large_json_lines(rows: int) -> bytes:
    return b"".join(
        json.dumps({"id": i, "city": ["Oslo", "Köln"][i % 2], "v": i * 0.5}).encode() + b"\n" for i in range(rows)
    )


LARGE = [
    ("large.csv", lambda: large_csv(120_000)),
    ("semicolons.csv", lambda: large_csv(90_000).replace(b",", b";")),
    ("events.json", lambda: large_json_lines(60_000)),
    ("records.json", lambda: json.dumps([{"id": i, "v": i % 7} for i in range(150_000)]).encode()),
    (
        "wide_rows.parquet",
        lambda: parquet(pa.table({"id": range(200_000), "v": [i % 5 or None for i in range(200_000)]})),
    ),
]


def agree(look: TablePreview, exact: TablePreview) -> None:
    """What a first look says is what the whole file says, unless it says it is an estimate."""
    assert [c.name for c in look.profile] == [c.name for c in exact.profile]
    assert look.columns == exact.columns
    if not look.estimated:
        assert look.rows == exact.rows and look.dtypes == exact.dtypes
        assert dict(look.missing) == pytest.approx(dict(exact.missing))
        return
    if not look.rows_exact:
        assert look.note.startswith("about "), look.note  # shown on the page, with "about N" rows
        assert look.rows == pytest.approx(exact.rows, rel=0.25)
    else:
        assert look.rows == exact.rows


@pytest.mark.timeout(120)
@pytest.mark.parametrize("case", ACCEPTED, ids=[c.id for c in ACCEPTED])
def test_first_look_and_exact_profile_agree_on_the_hostile_corpus(case, tmp_path):
    kind = case.name.rsplit(".", 1)[-1]
    name = f"upload.{kind}"
    path = tmp_path / name
    path.write_bytes(case.make())
    look = first_look(path, name, kind)
    exact = inspect_path(path, name, kind)
    if isinstance(exact, TablePreview):
        assert isinstance(look, TablePreview), look
        agree(look, exact)
    else:
        assert type(look) is type(exact)


@pytest.mark.parametrize("sample", list_samples(), ids=lambda s: s.name)
def test_first_look_and_exact_profile_agree_on_the_samples(sample):
    look = first_look(sample.path)
    exact = inspect_path(sample.path, sample.name, "csv")
    assert isinstance(look, TablePreview) and isinstance(exact, TablePreview)
    assert complete(look), "a sample is smaller than a first look's head: it is read whole at once"
    agree(look, exact)
    assert look.quality == exact.quality


@pytest.mark.timeout(120)
@pytest.mark.parametrize(("name", "make"), LARGE, ids=[n for n, _ in LARGE])
def test_first_look_estimates_a_large_table_and_the_exact_profile_replaces_it(name, make, tmp_path):
    data = make()
    assert len(data) > LOOK_BYTES
    path = tmp_path / name
    path.write_bytes(data)
    kind = name.rsplit(".", 1)[-1]
    look = first_look(path)
    assert isinstance(look, TablePreview) and look.estimated and not complete(look)
    exact = inspect_path(path, name, kind)
    agree(look, exact)
    merged = look.with_exact(exact)
    assert (merged.rows, merged.rows_exact, merged.sampled) == (exact.rows, True, 0)
    assert merged.head.equals(look.head), "the first rows shown stay"


def test_a_first_look_needs_only_the_head_of_a_file_still_being_written(tmp_path):
    data = large_csv(300_000)
    path = tmp_path / "arriving.csv"
    path.write_bytes(data[: LOOK_BYTES + 100])  # the rest is not on disk yet
    look = first_look(path, size=len(data))
    assert isinstance(look, TablePreview) and not look.rows_exact
    assert look.rows == pytest.approx(300_000, rel=0.05)
    assert [c.name for c in look.profile] == ["order_id", "date", "region", "amount", "units"]
    assert dict(look.dtypes) == {
        "order_id": "int64",
        "date": "date",
        "region": "str",
        "amount": "float64",
        "units": "int64",
    }
    assert len(look.head) == 50 and look.head["order_id"].tolist()[:3] == [0, 1, 2]


def test_the_exact_profile_tells_how_many_bytes_it_has_read(tmp_path):
    path = tmp_path / "big.csv"
    path.write_bytes(large_csv(400_000))  # over 8 MB: the one-pass DuckDB scan
    heard: list[tuple[int, int]] = []
    profile = exact_profile(path, lambda done, total: heard.append((done, total)))
    assert profile.exact and profile.rows == 400_000 and profile.names[0] == "order_id"
    assert heard and heard[-1] == (path.stat().st_size, path.stat().st_size)
    assert [d for d, _ in heard] == sorted(d for d, _ in heard)
    # in a sandbox worker, as the Files page runs it, the progress crosses the pipe
    across: list[int] = []
    found = sandbox.call(inspect_path, path, "big.csv", "csv", on_progress=lambda done, total: across.append(done))
    assert found.rows == 400_000 and across[-1] == path.stat().st_size


def test_a_parquet_first_look_has_the_exact_rows_and_missing_counts_of_its_footer(tmp_path):
    path = tmp_path / "t.parquet"
    path.write_bytes(
        parquet(pa.table({"id": range(200_000), "v": [None if i % 4 == 0 else i for i in range(200_000)]}))
    )
    look = first_look(path)
    assert isinstance(look, TablePreview) and look.rows_exact and look.rows == 200_000 and look.sampled
    assert dict(look.missing)["v"] == pytest.approx(0.25)
