"""File names from outside (uploads, the container, the API) as they become on-disk names and zip entries."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib.files import kinds
from lib.files.kinds import DISK_NAME_BYTES, MAX_NAME_BYTES, disk_name, sanitize_filename, unique_names

FILE_ID = "file_011CNha8iCJcU1wXNR6q4V8w"
NEAR_LIMIT = "quarterly_revenue_by_region_" + "x" * 218 + ".csv"  # 250 bytes: a name a file system accepts
HOSTILE = "..\\..\\AppData\\Roaming\\Microsoft\\Windows\\Start Menu\\Programs\\Startup\\report.bat"

ids = st.one_of(st.from_regex(r"file_[A-Za-z0-9]{1,40}", fullmatch=True), st.text(max_size=80))
names = st.one_of(
    st.text(max_size=600),
    st.builds(lambda stem, ext: stem + ext, st.text(max_size=400), st.sampled_from([".csv", ".png", ".vl.json", ""])),
    st.sampled_from([NEAR_LIMIT, HOSTILE, "..", ".", "/", "con.csv", "a\u202egpj.csv", "\ud800.csv", "数" * 120]),
)


def _one_component(name: str) -> None:
    assert name and name not in (".", "..")
    assert len(name.encode("utf-8")) <= MAX_NAME_BYTES
    assert not any(ch in name for ch in "/\\\x00")
    assert not any(unicodedata.category(ch) in ("Cc", "Cf", "Cs") for ch in name), ascii(name)


@pytest.mark.fuzz
@settings(max_examples=300, deadline=None)
@given(file_id=ids, name=names)
def test_any_name_becomes_one_valid_component_that_the_file_system_accepts(tmp_path_factory, file_id, name):
    on_disk = disk_name(file_id, name)
    _one_component(on_disk)
    assert len(on_disk.encode("utf-8")) <= DISK_NAME_BYTES
    assert disk_name(file_id, name) == on_disk, "the same id and name always give the same name"
    assert sanitize_filename(on_disk) == on_disk, "nothing left to clean"
    if kinds.extension_of(name) in (".csv", ".png", ".json"):
        assert on_disk.endswith(kinds.extension_of(name))
    folder = tmp_path_factory.getbasetemp()
    (folder / on_disk).write_bytes(b"x")  # the file system itself agrees: no ENAMETOOLONG, no subfolder
    assert (folder / on_disk).parent == folder
    (folder / on_disk).unlink()


@pytest.mark.fuzz
@settings(max_examples=300, deadline=None)
@given(first=ids, second=ids, name=names, other=names)
def test_distinct_ids_never_share_an_on_disk_name(first, second, name, other):
    if first != second:
        assert disk_name(first, name) != disk_name(second, other)


@pytest.mark.fuzz
@settings(max_examples=300, deadline=None)
@given(given_names=st.lists(names, max_size=12))
def test_zip_entry_names_never_escape_and_never_repeat(given_names):
    entries = unique_names(given_names)
    assert len(entries) == len(given_names)
    assert len({e.casefold() for e in entries}) == len(entries)
    for entry in entries:
        _one_component(entry)
        assert not entry.startswith("/") and ":" not in entry
        assert ".." not in Path(entry).parts


def test_a_name_near_255_bytes_keeps_its_extension_and_fits_after_the_id():
    on_disk = disk_name(FILE_ID, NEAR_LIMIT)
    assert on_disk.startswith(f"{FILE_ID}-quarterly_revenue_by_region_xxx") and on_disk.endswith("xxx.csv")
    assert len(on_disk.encode()) == DISK_NAME_BYTES
    wide = disk_name(FILE_ID, "收入" * 100 + ".xlsx")  # 3 bytes a character: cut between characters
    assert wide.endswith("入.xlsx") or wide.endswith("收.xlsx")
    assert len(wide.encode()) <= DISK_NAME_BYTES
    assert disk_name("../../etc", "passwd") != disk_name("etc", "passwd")
    assert "/" not in disk_name("../../etc", "passwd")


def test_zip_entries_are_the_last_part_of_container_names_numbered_when_they_repeat():
    assert unique_names([HOSTILE, "report.bat", "REPORT.bat", "..", "/etc/passwd", "a" * 300 + ".csv"]) == [
        "report.bat",
        "report-2.bat",
        "REPORT-3.bat",
        "file",
        "passwd",
        "a" * 251 + ".csv",
    ]
