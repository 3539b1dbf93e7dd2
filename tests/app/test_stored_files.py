"""A delimited file made by code shows its first rows, known by the file-kind registry and read once per version."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from tests.support.apptest import run


def _transcript(data_dir: str) -> None:
    from pathlib import Path

    from lib.transcript import GeneratedFile
    from lib.ui.render import render_item

    for name in ("scores.tab", "notes.txt"):
        size = (Path(data_dir) / name).stat().st_size
        render_item(
            GeneratedFile(file_id=name, filename=name, mime_type="", size_bytes=size, path=name),
            Path(data_dir),
            key=name,
        )


def test_table_head_by_kind_read_once_per_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from lib.files import decoded, heads, sandbox

    decoded.clear()
    reads: list[str] = []
    real = sandbox.Pool.call_sized

    def counted(self, fn, *args, seconds=None):
        if fn is heads.table_head:
            reads.append(args[1])
        return real(self, fn, *args, seconds=seconds)

    monkeypatch.setattr(sandbox.Pool, "call_sized", counted)
    table = tmp_path / "scores.tab"
    table.write_text("team\tscore\nred\t1.234567\nblue\t\n")
    (tmp_path / "notes.txt").write_text("team,score\nred,1\n")
    at = AppTest.from_function(_transcript, args=(str(tmp_path),), default_timeout=30)
    run(at)
    assert len(at.dataframe) == 1, "a .tab file is a TSV; a text file with commas is not a table"
    frame = at.dataframe[0].value
    assert list(frame.columns) == ["team", "score"]
    assert [str(v) for v in frame["score"]] == ["1.2346", ""]  # rounded, and an empty cell left blank
    head = heads.head_of(table, "tsv").value
    assert head is not None
    pa.Table.from_pandas(head.frame)  # as the page sends it: no fallback conversion on every draw
    assert any(c.value == ":material/table: `scores.tab` (first rows)" for c in at.caption)
    run(at)
    assert reads == ["tsv"], "the head is read once, not on every redraw"
    table.write_text("team\tscore\ngreen\t3\n")
    os.utime(table, (table.stat().st_atime, table.stat().st_mtime + 5))
    run(at)
    assert reads == ["tsv", "tsv"] and list(at.dataframe[0].value["team"]) == ["green"]
