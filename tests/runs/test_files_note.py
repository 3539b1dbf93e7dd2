"""Every analysis request carries each table's stored profile and data-quality notes in its files note, so the
model need not spend a first cell finding out what is in the file (the demo analyst then skips it)."""

from __future__ import annotations

from dataclasses import replace

from lib.transcript import CodeCell, Output
from tests.support.runs import items_of, messages_requests, run_to_end, upload

SALES = b"order_id,region,units,price\n" + b"".join(
    b"%d,%s,%d,%.2f\n" % (i, [b"North", b"South"][i % 2], 5 + i % 7, 10 + (i % 13) * 1.5) for i in range(1, 201)
)


def sent_text(emulator) -> str:  # type: ignore[no-untyped-def]
    first = messages_requests(emulator)[0].json
    return "\n".join(b["text"] for b in first["messages"][0]["content"] if b["type"] == "text")


def test_the_request_holds_the_stored_profile_and_its_notes(emulator, settings, store):
    file_id = upload(settings, store, "sales.csv", SALES)
    profile = store.file(file_id).profile
    assert profile is not None and profile.shape == (200, 4)
    emulator.clear_requests()
    run_to_end(store, settings, "Which region sells most?", [file_id])
    text = sent_text(emulator)
    assert "Profile of `sales.csv` (read whole when it was uploaded" in text
    assert "200 rows × 4 columns (comma-delimited, utf-8)" in text
    assert "- `order_id` int64: 0 missing, 1 to 200, mean 100.5" in text
    assert "- `region` str: 0 missing, 2 distinct" in text
    assert "Data-quality note on `sales.csv`: Identifier-like column: `order_id`." in text
    assert text.index("Which region sells most?") < text.index("Profile of")


def test_with_the_profile_the_demo_analyst_needs_no_cell_to_learn_the_columns(emulator, settings, store):
    file_id = upload(settings, store, "sales.csv", SALES)
    with_profile = run_to_end(store, settings, "Give me a first look at this data", [file_id])
    record = store.file(file_id)
    store.add_file(replace(record, profile=None))  # as a file uploaded before profiles were kept
    without = run_to_end(store, settings, "Give me a first look at this data", [file_id])
    cells = {run: [i for i in items_of(store, run) if isinstance(i, CodeCell)] for run in (with_profile, without)}
    assert len(cells[with_profile]) == 1 and len(cells[without]) == 2
    assert "Column types:" in cells[without][0].code, "without a profile, the first cell profiles the table"
    assert not any("Column types:" in c.code for c in cells[with_profile])
    printed = [i.stdout for i in items_of(store, with_profile) if isinstance(i, Output)]
    assert "Rows: 200" in printed[0], "the one cell checks the shape the profile gave"
    for run in (with_profile, without):
        answer = items_of(store, run)[-1].text
        assert "**200 rows** and **4 columns**" in answer and "No values are missing." in answer
