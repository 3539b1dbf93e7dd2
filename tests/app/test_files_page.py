"""Files page: preview, upload, rejection of bad files, delete, remote status."""

from __future__ import annotations

import io
import threading
import zipfile

import pytest
from PIL import Image

from lib.client import make_client
from lib.settings import load_settings
from tests.support.apptest import FILES, SALES, SALES_ROWS, has_key, run, texts, upload, upload_and_submit, wait_until


def _png(size: tuple[int, int] = (8, 8)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, "red").save(buf, "PNG")
    return buf.getvalue()


def _docx() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return buf.getvalue()


def _metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _library(at):
    frames = [d.value for d in at.dataframe if "status" in getattr(d.value, "columns", [])]
    assert frames, "no library table"
    return frames[0]  # the uploads; the files Claude made follow in their own table


@pytest.fixture
def files_page(app):
    app.switch_page(FILES)
    return run(app)


def test_csv_preview_then_upload_lists_file_and_posts_multipart(files_page, emulator):
    at = files_page
    upload(at, [("monthly_sales.csv", SALES.read_bytes(), "text/csv")])
    assert _metrics(at) == {"Rows": f"{SALES_ROWS:,}", "Columns": "5", "Delimiter": "comma", "Encoding": "utf-8"}
    assert at.button(key="files_upload").label == "Upload 1 file to the Files API"
    emulator.clear_requests()
    at.button(key="files_upload").click()
    run(at)
    assert any("monthly_sales.csv" in s.value and "uploaded" in s.value for s in at.success)
    table = _library(at)
    row = table[table["name"] == "monthly_sales.csv"]
    assert len(row) == 1 and row["status"].iloc[0] == "ok" and row["type"].iloc[0] == "csv"
    posts = [r for r in emulator.requests if r.method == "POST" and r.path == "/v1/files"]
    assert len(posts) == 1
    assert posts[0].headers.get("content-type", "").startswith("multipart/form-data")
    assert b'filename="monthly_sales.csv"' in posts[0].body
    assert SALES.read_bytes()[:200] in posts[0].body
    # the uploader was reset and the preview is gone
    assert not at.metric


@pytest.mark.parametrize(
    "name, data, expected",
    [
        (
            "semi.csv",
            b"city;temp;hum\nOslo;3,5;80,1\nRoma;18,25;55,0\nLyon;11,0;60,5\n",
            {"Rows": "3", "Columns": "3", "Delimiter": "semicolon", "Encoding": "utf-8"},
        ),
        (
            "bom.csv",
            b"\xef\xbb\xbfname,score\nA\xc3\xa9,1\nB,2\n",
            {"Rows": "2", "Columns": "2", "Delimiter": "comma", "Encoding": "utf-8-sig"},
        ),
        (
            "latin.csv",
            "nom,ville\nJosé,Málaga\nFrançois,Besançon\nZoë,Köln\n".encode("latin-1"),
            {"Rows": "3", "Columns": "2", "Delimiter": "comma"},
        ),
    ],
)
def test_preview_detects_delimiter_and_encoding(files_page, emulator, name, data, expected):
    at = upload(files_page, [(name, data, "text/csv")])
    got = _metrics(at)
    assert {k: got[k] for k in expected} == expected
    if name == "latin.csv":
        assert got["Encoding"] in ("cp1252", "latin-1", "iso-8859-1")
        # the preview table shows the accented names decoded correctly
        head = [d.value for d in at.dataframe][0]
        assert "François" in head.iloc[:, 0].tolist()
    if name == "semi.csv":
        head = [d.value for d in at.dataframe][0]
        assert list(head.columns) == ["city", "temp", "hum"]
        assert float(head["temp"].iloc[1]) == pytest.approx(18.25)  # decimal commas understood
    upload_button = at.button(key="files_upload")
    upload_button.click()
    run(at)
    assert any(name in s.value for s in at.success)
    assert (_library(at)["name"] == name).any()


BAD_FILES = [
    ("empty.csv", b"", "empty"),
    ("chart.csv", _png(), "PNG image"),
    ("broken.png", _png()[:40] + b"garbage" * 10, "broken image"),
    ("junk.csv", bytes(range(256)) * 8, "binary data"),
    ("bad.json", b'{"a": 1,', "not valid JSON"),
    ("setup.exe", b"MZ\x90\x00" + b"\x00" * 100, ".exe file"),
    ("report.docx", _docx(), ".docx file"),
]


def test_each_bad_file_gets_its_own_error_and_good_files_still_upload(files_page, emulator):
    at = files_page
    good = ("good.csv", b"a,b\n1,2\n3,4\n", "text/csv")
    upload(at, [(n, d, "application/octet-stream") for n, d, _ in BAD_FILES] + [good])
    errors = [e.value for e in at.error]
    assert len(errors) == len(BAD_FILES), errors
    for (name, _, problem), message in zip(BAD_FILES, errors, strict=True):
        assert name in message and problem in message, (name, message)
        assert "was not accepted" in message
    # the good file still previews and is the only one offered for upload
    assert _metrics(at)["Rows"] == "2"
    assert at.button(key="files_upload").label == "Upload 1 file to the Files API"
    at.button(key="files_upload").click()
    run(at)
    assert list(_library(at)["name"]) == ["good.csv"]
    posts = [r for r in emulator.requests if r.method == "POST" and r.path == "/v1/files"]
    assert len(posts) == 1 and b'filename="good.csv"' in posts[0].body


def test_broken_image_error_has_no_python_internals(files_page):
    at = upload(files_page, [("broken.png", _png()[:40] + b"garbage" * 10, "image/png")])
    assert at.error and "broken image" in at.error[0].value
    assert "object at 0x" not in at.error[0].value and "_io." not in at.error[0].value


def test_only_good_file_when_all_bad_has_no_upload_button(files_page):
    at = upload(files_page, [("empty.csv", b"", "text/csv")])
    assert len(at.error) == 1 and "empty.csv" in at.error[0].value and "0 bytes" in at.error[0].value
    assert not has_key(at, "button", "files_upload")


def test_oversize_file_rejected_with_limit(make_app, emulator):
    at = run(make_app(emulator, ANALYST_MAX_UPLOAD_MB="1"))
    at.switch_page(FILES)
    run(at)
    assert "up to 1 MB" in at.file_uploader[0].label
    big = b"x,y\n" + b"1,2\n" * 375_000  # 1.5 MB
    upload(at, [("big.csv", big, "text/csv"), ("small.csv", b"x,y\n1,2\n", "text/csv")])
    assert len(at.error) == 1
    msg = at.error[0].value
    assert "big.csv" in msg and "1.5 MB" in msg and "limit" in msg
    assert at.button(key="files_upload").label == "Upload 1 file to the Files API"


@pytest.mark.parametrize(
    "given, clean",
    [
        ("../../etc/passwd.csv", "passwd.csv"),
        ("C:\\Users\\me\\q1 sales.csv", "q1 sales.csv"),
        ('re<po>rt:"2024"|?*.csv', "report2024.csv"),
        ("line\nbreak\tname.csv", "line break name.csv"),
    ],
)
def test_odd_name_is_sanitised(files_page, emulator, given, clean):
    at = upload(files_page, [(given, b"user,uid\nroot,0\n", "text/csv")])
    assert not at.error
    assert any(e.label.startswith(clean) and f"will be uploaded as `{clean}`" in e.label for e in at.expander)
    at.button(key="files_upload").click()
    run(at)
    assert list(_library(at)["name"]) == [clean]
    post = [r for r in emulator.requests if r.method == "POST" and r.path == "/v1/files"][0]
    assert f'filename="{clean}"'.encode() in post.body
    assert clean in {f.filename for f in emulator.files.values()}


def test_delete_needs_confirmation_and_sends_delete(files_page, emulator, data_dir):
    at = upload_and_submit(files_page, [("monthly_sales.csv", SALES.read_bytes(), "text/csv")])
    file_id = _library(at)["id"].iloc[0]
    [copy] = (data_dir / "uploads").glob("*-monthly_sales.csv")
    # after upload the new file is selected; delete stays disabled until confirmed
    assert at.multiselect(key="files_select").value == [file_id]
    assert at.button(key="files_delete").disabled
    at.checkbox(key="files_delete_confirm").check()
    run(at)
    assert not at.button(key="files_delete").disabled
    at.button(key="files_delete").click()
    run(at)
    assert any("Deleted 1 file" in s.value for s in at.success)
    assert any("No files yet" in c for c in texts(at))
    deletes = [r for r in emulator.requests if r.method == "DELETE"]
    assert [r.path for r in deletes] == [f"/v1/files/{file_id}"]
    assert file_id not in emulator.files
    assert not copy.exists()


def test_remotely_deleted_file_shows_missing_remotely(files_page, emulator, data_dir):
    at = upload_and_submit(files_page, [("monthly_sales.csv", SALES.read_bytes(), "text/csv")])
    file_id = _library(at)["id"].iloc[0]
    client = make_client(load_settings({}, {"ANTHROPIC_API_KEY": "k", "ANTHROPIC_BASE_URL": emulator.url}))
    client.files.delete(file_id)
    at.button(key="files_refresh").click()
    run(at)
    table = _library(at)
    assert table[table["id"] == file_id]["status"].iloc[0] == "missing remotely"
    assert any("Gone from the Files API" in w.value and "monthly_sales.csv" in w.value for w in at.warning)
    # a file missing remotely cannot be analysed
    at.multiselect(key="files_select").set_value([file_id])
    run(at)
    assert at.button(key="files_analyze").disabled


def test_upload_refused_by_api_shows_error_and_keeps_library_clean(files_page, emulator):
    from lib.emulator import Fault

    at = upload(files_page, [("monthly_sales.csv", SALES.read_bytes(), "text/csv")])
    emulator.inject(Fault("status", path="/v1/files", status=400, message="The file is malformed somehow"))
    at.button(key="files_upload").click()
    run(at)
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "monthly_sales.csv" in errors[0] and "could not be uploaded" in errors[0]
    assert "The file is malformed somehow" in errors[0]
    assert any("No files yet" in t for t in texts(at))


def test_file_missing_remotely_can_be_uploaded_again(files_page, emulator):
    at = upload_and_submit(files_page, [("monthly_sales.csv", SALES.read_bytes(), "text/csv")])
    old_id = _library(at)["id"].iloc[0]
    make_client(load_settings({}, {"ANTHROPIC_API_KEY": "k", "ANTHROPIC_BASE_URL": emulator.url})).files.delete(old_id)
    at.button(key="files_refresh").click()
    run(at)
    assert _library(at)["status"].tolist() == ["missing remotely"]
    # as the warning suggests: upload it again
    at = upload_and_submit(at, [("monthly_sales.csv", SALES.read_bytes(), "text/csv")])
    assert any("monthly_sales.csv** uploaded" in s.value for s in at.success), [s.value for s in at.success]
    table = _library(at)
    fresh = table[table["id"] != old_id]
    assert len(fresh) == 1 and fresh["status"].iloc[0] == "ok"


def test_chosen_expiry_is_sent_and_shown_in_the_library(files_page, emulator):
    at = upload(files_page, [("monthly_sales.csv", SALES.read_bytes(), "text/csv")])
    assert "not eligible for zero data retention" in " ".join(c.value for c in at.caption)
    at.selectbox(key="files_expiry").select(7 * 86_400)
    run(at)
    at.button(key="files_upload").click()
    run(at)
    post = [r for r in emulator.requests if r.method == "POST" and r.path == "/v1/files"][-1]
    assert b'name="expires_in_seconds"' in post.body and b"604800" in post.body
    row = _library(at).iloc[0]
    assert row["name"] == "monthly_sales.csv" and row["expires"] != ""


def test_notes_on_a_file_are_saved_and_sent_with_the_analysis(files_page, emulator):
    from tests.support.apptest import ANALYZE, finish, start_analysis

    at = upload_and_submit(files_page, [("monthly_sales.csv", SALES.read_bytes(), "text/csv")])
    file_id = _library(at)["id"].iloc[0]
    at.multiselect(key="files_select").set_value([file_id])
    run(at)
    assert at.button(key="files_save_notes").disabled, "nothing to save yet"
    at.text_area(key=f"files_notes_{file_id}").input("revenue is in EUR excluding VAT")
    run(at)
    at.button(key="files_save_notes").click()
    run(at)
    assert any("Notes saved for **monthly_sales.csv**" in s.value for s in at.success)
    assert at.text_area(key=f"files_notes_{file_id}").value == "revenue is in EUR excluding VAT"
    assert at.button(key="files_save_notes").disabled, "saved in the click, so nothing is left to save"
    at.switch_page(ANALYZE)
    run(at)
    rid = start_analysis(at, "What is the revenue?")
    finish(at, rid)
    first = [r for r in emulator.requests if r.path == "/v1/messages"][0].json
    texts_sent = [b["text"] for b in first["messages"][0]["content"] if b["type"] == "text"]
    assert texts_sent[0] == "What is the revenue?"
    assert "Notes from the analyst about `monthly_sales.csv`: revenue is in EUR excluding VAT" in texts_sent[1]


def _big_csv(rows: int) -> bytes:
    return b"order_id,region,units\n" + b"".join(
        b"%d,%s,%d\n" % (i, [b"North", b"South"][i % 2], i % 9) for i in range(rows)
    )


def test_a_large_table_shows_its_first_look_at_once_then_the_exact_profile(files_page, emulator, monkeypatch):
    from lib.files import uploads

    reading, go_on = threading.Event(), threading.Event()
    told = uploads.Intake.told

    def held(self, done):  # the whole file is being read: hold it there until the page was looked at
        told(self, done)
        reading.set()
        go_on.wait(60)

    monkeypatch.setattr(uploads.Intake, "told", held)
    data = _big_csv(300_000)  # several times a first look's head
    at = upload(files_page, [("orders.csv", data, "text/csv")])
    try:
        assert reading.wait(60)
        run(at)
        rows = _metrics(at)["Rows"]
        assert rows.startswith("about ") and abs(int(rows[6:].replace(",", "")) - 300_000) < 30_000, (
            rows
        )  # ids grow longer further down
        assert _metrics(at)["Columns"] == "3"
        head = [d.value for d in at.dataframe][0]
        assert head["order_id"].tolist()[:3] == [0, 1, 2] and len(head) == 50
        assert at.get("progress") and "Reading the whole file for its exact profile" in at.get("progress")[0].proto.text
        assert any("(about: from the first" in e.label for e in at.expander)
        assert at.button(key="files_upload").disabled, "uploaded only once it is checked whole"
    finally:
        go_on.set()
    wait_until(at, lambda a: _metrics(a).get("Rows") == "300,000")
    assert not at.button(key="files_upload").disabled and not at.get("progress")
    assert [d.value for d in at.dataframe][0]["order_id"].tolist()[:3] == [0, 1, 2]
    at.button(key="files_upload").click()
    run(at)
    row = _library(at).iloc[0]
    assert row["name"] == "orders.csv"


def test_data_quality_notes_are_shown_before_the_upload(files_page):
    mixed = "id,city\n1,München\n".encode() + "2,München\n".encode("cp1252") + "3,Köln\n".encode()
    at = upload(files_page, [("cities.csv", mixed, "text/csv")])
    [notes] = [i.value for i in at.info if "Before you analyse" in i.value]
    assert "Mixed encoding: line 3 of the file is in Windows-1252" in notes
    assert "Identifier-like column: `id`" not in notes  # three rows say nothing about identifiers
    assert [d.value for d in at.dataframe][0]["city"].tolist() == ["München", "München", "Köln"]


def test_after_an_upload_the_new_file_is_selected_and_its_preview_can_be_opened_again(files_page, monkeypatch):
    at = upload_and_submit(files_page, [("monthly_sales.csv", SALES.read_bytes(), "text/csv")])
    first = _library(at)["id"].iloc[0]
    assert at.multiselect(key="files_select").value == [first]
    at.multiselect(key="files_select").set_value([])
    run(at)
    run(at)  # then the selection is the user's, run after run
    assert at.multiselect(key="files_select").value == []
    churn = (SALES.parent / "subscriptions_churn.csv").read_bytes()
    at = upload_and_submit(at, [("subscriptions_churn.csv", churn, "text/csv")])
    table = _library(at)
    second = table[table["name"] == "subscriptions_churn.csv"]["id"].iloc[0]
    assert at.multiselect(key="files_select").value == [second], "the selection follows the upload"
    assert table.set_index("name")["download"].to_dict() == {
        "monthly_sales.csv": "local copy",
        "subscriptions_churn.csv": "local copy",
    }
    assert at.download_button(key="files_download").label == "Download subscriptions_churn.csv"
    # the preview comes back from the stored copy, parsed in the limited worker: never in the server process
    from lib.files import preview

    def not_here(*args, **kwargs):
        raise AssertionError("parsed in the server process")

    monkeypatch.setattr(preview, "inspect_path", not_here)
    assert not at.metric, "closed until asked for"
    at.toggle(key=f"files_preview_{second}").set_value(True)
    run(at)
    assert _metrics(at) == {"Rows": "1,500", "Columns": "10", "Delimiter": "comma", "Encoding": "utf-8"}
    assert not at.error


def test_files_claude_made_are_kept_apart_from_the_uploads(files_page, emulator):
    from tests.support.apptest import ANALYZE, finish, start_analysis

    at = upload_and_submit(files_page, [("monthly_sales.csv", SALES.read_bytes(), "text/csv")])
    at.switch_page(ANALYZE)
    run(at)
    finish(at, start_analysis(at, "How do monthly sales move over time?"))
    at.switch_page(FILES)
    run(at)
    at.button(key="files_refresh").click()
    run(at)
    inputs = _library(at)
    assert list(inputs["name"]) == ["monthly_sales.csv"] and "remote only" not in set(inputs["status"])
    made = [e for e in at.expander if e.label.startswith("Made by Claude's code: ")]
    assert made and made[0].label.startswith("Made by Claude's code: 3 file(s)")
    generated = [d.value for d in made[0].dataframe][0]
    assert set(generated["status"]) == {"generated"} and set(generated["download"]) == {"Files API"}
    assert "monthly_sales_trend.png" in set(generated["name"])
    assert at.multiselect(key="files_select").options == [f"monthly_sales.csv (csv, {inputs['id'].iloc[0][-8:]})"]
