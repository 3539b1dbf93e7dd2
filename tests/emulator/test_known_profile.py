"""The demo analyst reads a table's profile from the files note: the roles it finds there for each column are
those its profiling cell finds in the container, so skipping that cell changes no answer."""

from __future__ import annotations

import pytest

from lib.emulator.analyst.cells import LOADER
from lib.emulator.analyst.known import column_roles, known_table, split
from lib.files.profile import exact_profile
from lib.files.samples import list_samples
from lib.turn.request import files_note, profile_lines


@pytest.mark.parametrize("sample", list_samples(), ids=lambda s: s.name)
def test_the_roles_read_from_the_note_are_those_the_container_finds(sample):
    note = "\n".join(profile_lines(sample.name, exact_profile(sample.path)))
    known = known_table(note, sample.name)
    assert known is not None and known.listed[0].name in note
    container: dict = {}
    exec(LOADER, container)  # the cell's own definitions, run on the same file
    assert column_roles(known) == container["column_roles"](container["load_table"](str(sample.path)))


def test_a_wide_table_whose_note_lists_only_some_columns_is_not_taken_as_known():
    from lib.storage.records import ColumnProfile, TableProfile

    profile = TableProfile(rows=3, columns=tuple(ColumnProfile(f"c{i}", "int64", 0.0) for i in range(80)))
    note = "\n".join(profile_lines("wide.csv", profile))
    assert "and 20 more columns" in note and known_table(note, "wide.csv") is None


def test_the_question_is_told_apart_from_the_files_note():
    class File:
        filename, kind, size_bytes, notes, profile = "a.csv", "csv", 10, "", None

    message = "Which region sells most?\n" + files_note([File()])
    assert split(message) == ("Which region sells most?", files_note([File()]))
