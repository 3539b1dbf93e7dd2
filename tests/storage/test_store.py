"""The SQLite store: schema, items, artifacts and filters, a process killed mid-write, migrations."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from pathlib import Path

import pytest

from lib.runs import recovery
from lib.storage.db import head
from lib.storage.records import ArtifactFilter, FileRecord
from lib.storage.store import Store
from lib.transcript import CodeCell, Text, Usage
from tests.support.legacy_db import legacy_database, legacy_directory

REPO = Path(__file__).resolve().parents[2]


def test_schema_is_versioned_by_alembic_and_in_wal_mode(store):
    db = sqlite3.connect(store.path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("SELECT version_num FROM alembic_version").fetchone()[0] == head()
    assert "notes" in [row[1] for row in db.execute("PRAGMA table_info(files)")]
    assert "stop_requested" in [row[1] for row in db.execute("PRAGMA table_info(turns)")]


def test_a_database_from_a_newer_version_is_refused(store):
    from lib.storage import db as database

    db = sqlite3.connect(store.path)
    db.execute("UPDATE alembic_version SET version_num='9999_from_the_future'")
    db.commit()
    database.forget(store.url)
    with pytest.raises(RuntimeError, match="newer version"):
        Store(store.data_dir)
    database.forget(store.url)


def test_a_hand_written_database_from_a_newer_version_is_refused(data_dir):
    db = legacy_database(data_dir, 99)
    db.commit()
    db.close()
    with pytest.raises(RuntimeError, match="newer version"):
        Store(data_dir)


def test_items_are_upserted_in_order_and_turns_keep_raw_content(store):
    run = store.create_run("title", "m", "tool", ["file_a"])
    idx = store.add_turn(run.id, "q", [{"type": "text", "text": "q"}])
    store.put_item(run.id, idx, 0, Text(text="par"))
    store.put_item(run.id, idx, 1, CodeCell(tool="code_execution", code="print(1)"))
    store.put_item(run.id, idx, 0, Text(text="partial, then whole"))
    assert [s.item for s in store.items(run.id)] == [
        Text(text="partial, then whole"),
        CodeCell(tool="code_execution", code="print(1)"),
    ]
    content = [{"type": "text", "text": "answer"}]
    store.update_turn(run.id, idx, status="done", assistant_content=content, usage=Usage(3, 4, 0, 0, 1))
    turn = store.turns(run.id)[0]
    assert turn.assistant_content == content and turn.usage == Usage(3, 4, 0, 0, 1)
    assert store.run(run.id).status == "running"
    assert store.next_seq(run.id, idx) == 2


def test_files_catalogue_and_remote_flags(store):
    store.add_file(FileRecord("file_1", "a.csv", "text/csv", 10, "abc", "csv", "uploads/a.csv", time.time()))
    store.add_file(FileRecord("file_2", "b.csv", "text/csv", 10, "def", "csv", "uploads/b.csv", time.time()))
    store.mark_remote({"file_2"})
    flags = {f.id: f.remote_missing for f in store.files()}
    assert flags == {"file_1": True, "file_2": False}
    assert store.file_by_hash("abc") is None and store.file_by_hash("def").id == "file_2"


def test_artifact_filters_and_pages(store):
    a = store.create_run("churn drivers", "m", "t", [])
    b = store.create_run("sales trend", "m", "t", [])
    ia = store.add_turn(a.id, "What drives churn?", [])
    ib = store.add_turn(b.id, "Plot the sales trend", [])
    for n in range(5):
        store.add_artifact(a.id, ia, f"file_a{n}", f"chart{n}.png", "image/png", 10, f"artifacts/a/{n}.png", "s")
    store.add_artifact(b.id, ib, "file_b0", "table.csv", "text/csv", 10, "artifacts/b/0.csv", "s")
    everything, total = store.artifacts(ArtifactFilter(limit=4))
    assert total == 6 and len(everything) == 4
    assert store.artifacts(ArtifactFilter(limit=4, offset=4))[1] == 6
    assert len(store.artifacts(ArtifactFilter(limit=4, offset=4))[0]) == 2
    assert store.artifacts(ArtifactFilter(run_id=b.id))[1] == 1
    assert [x.filename for x in store.artifacts(ArtifactFilter(kind="other"))[0]] == ["table.csv"]
    assert store.artifacts(ArtifactFilter(kind="image"))[1] == 5
    churn = store.artifacts(ArtifactFilter(words="churn"))[0]
    assert churn and all(x.question == "What drives churn?" for x in churn)
    assert store.artifacts(ArtifactFilter(words="zebra"))[1] == 0
    assert store.artifacts(ArtifactFilter(since=time.time() + 3600))[1] == 0
    store.forget_artifact(churn[0].id)
    assert store.artifacts()[1] == 5


WRITER = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {repo!r})
    from pathlib import Path
    from lib.storage.store import Store
    from lib.transcript import Text
    store = Store(Path({data!r}))
    run = store.create_run("killed", "m", "t", [])
    idx = store.add_turn(run.id, "q", [])
    print(run.id, flush=True)
    n = 0
    while True:
        store.put_item(run.id, idx, n % 50, Text(text="x" * (n % 5000)))
        n += 1
""")


def test_a_process_killed_mid_run_leaves_a_readable_database(data_dir):
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER.format(repo=str(REPO), data=str(data_dir))], stdout=subprocess.PIPE, text=True
    )
    run_id = proc.stdout.readline().strip()
    time.sleep(1.0)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    store = Store(data_dir)
    assert sqlite3.connect(store.path).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert len(store.items(run_id)) > 0
    recovery._recovered.discard(str(store.path))
    assert run_id in recovery.recover(store)
    assert store.run(run_id).status == "interrupted"


def test_a_version_1_database_is_migrated_and_keeps_its_rows(data_dir):
    legacy_directory(data_dir, 1)
    store = Store(data_dir)
    assert sqlite3.connect(store.path).execute("SELECT version_num FROM alembic_version").fetchone()[0] == head()
    assert store.files()[0].id == "file_old" and store.files()[0].notes == ""
    assert store.run("run_old").budget_usd == 0.0  # runs from before budgets have none
    store.set_file_notes("file_old", "  amounts in EUR  ")
    assert store.file("file_old").notes == "amounts in EUR"


def test_a_files_profile_is_kept_with_it_and_read_back(store):
    import datetime as dt
    import math

    from lib.storage.records import ColumnProfile, TableProfile

    profile = TableProfile(
        rows=3,
        columns=(
            ColumnProfile("when", "date", 0.0, dt.date(2024, 1, 1), dt.date(2024, 3, 1), None, 3, True),
            ColumnProfile("units", "int64", 1 / 3, 1, 7, 4.0, 2, True, 3.0, 2.5, 5.5),
            ColumnProfile("ratio", "float64", 0.0, 0.5, math.inf, math.nan),
        ),
        notes=("Identifier-like column: `when`.",),
        delimiter=";",
        encoding="mixed",
        head=({"when": dt.date(2024, 1, 1), "units": 1, "ratio": math.nan},),
    )
    store.add_file(FileRecord("file_p", "p.csv", "text/csv", 10, "h", "csv", "uploads/p.csv", 1.0, profile=profile))
    store.add_file(FileRecord("file_q", "q.png", "image/png", 10, "h2", "png", "uploads/q.png", 2.0))
    got = store.file("file_p").profile
    assert got is not None and store.file("file_p").shape == (3, 3) and store.file("file_q").shape is None
    assert got.names == ["when", "units", "ratio"] and got.notes == profile.notes and got.encoding == "mixed"
    assert got.columns[0].min == "2024-01-01" and got.columns[1] == profile.columns[1]
    assert got.columns[2].max is None and got.columns[2].mean is None, "JSON has no infinities or NaN"
    assert got.head == ({"when": "2024-01-01", "units": 1, "ratio": None},)
    store.set_file_profile("file_q", replace(profile, rows=9))
    assert store.file("file_q").shape == (9, 3)
