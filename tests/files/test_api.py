"""lib.files.api and lib.files.library with the real SDK against the emulator: every call and its errors."""

from __future__ import annotations

import time

import anthropic
import pytest

from lib.emulator import Emulator, Fault, Python
from lib.errors import AppError
from lib.files import api, library, uploads
from lib.storage.records import FileRecord

CSV = b"a,b\n1,2\n3,4\n"


def test_upload_sends_the_tuple_form_and_returns_metadata(emulator, client):
    meta = api.upload(client, "sales.csv", CSV, "text/csv")
    assert meta.id.startswith("file_") and meta.filename == "sales.csv" and meta.size_bytes == len(CSV)
    assert meta.downloadable is False
    post = [r for r in emulator.requests if r.method == "POST" and r.path == "/v1/files"][0]
    assert b'filename="sales.csv"' in post.body and b"Content-Type: text/csv" in post.body
    assert all("anthropic-beta" not in r.headers for r in emulator.requests)


def test_list_follows_next_page_to_the_end(emulator, client):
    ids = {api.upload(client, f"f{n}.csv", CSV, "text/csv").id for n in range(5)}
    listed = api.list_all(client, page_size=2)
    assert {f.id for f in listed} == ids
    pages = [r for r in emulator.requests if r.method == "GET" and r.path == "/v1/files"]
    assert len(pages) == 3 and "page" in pages[1].query and pages[0].query["limit"] == ["2"]


def test_generated_file_downloads_to_disk_and_uploads_do_not(emulator, client, tmp_path):
    upload = api.upload(client, "data.csv", CSV, "text/csv")
    emulator.queue_script(
        [Python("import os\nopen(os.path.join(os.environ['OUTPUT_DIR'], 'out.txt'), 'w').write('hello generated')")]
    )
    message = client.messages.create(
        model="claude-sonnet-4-6",
        max_tokens=100,
        tools=[{"type": "code_execution_20260521", "name": "code_execution"}],
        messages=[
            {
                "role": "user",
                "content": [{"type": "text", "text": "go"}, {"type": "container_upload", "file_id": upload.id}],
            }
        ],
    )
    result = next(b for b in message.content if b.type == "code_execution_tool_result")
    generated = result.content.content[0].file_id
    meta = api.metadata(client, generated)
    assert meta.downloadable and meta.filename == "out.txt"
    size = api.download(client, generated, tmp_path / "out.txt")
    assert (tmp_path / "out.txt").read_bytes() == b"hello generated" and size == 15
    with pytest.raises(AppError) as err:
        api.download(client, upload.id, tmp_path / "nope.csv")
    assert err.value.title == "File not downloadable" and "local library" in err.value.hint
    assert not (tmp_path / "nope.csv").exists() and not list(tmp_path.glob(".part-*"))


def test_expired_and_deleted_files(emulator, client, tmp_path):
    emulator.queue_script([Python("import os\nopen(os.path.join(os.environ['OUTPUT_DIR'], 'x.txt'), 'w').write('x')")])
    up = api.upload(client, "d.csv", CSV, "text/csv")
    msg = client.messages.create(
        model="m",
        max_tokens=10,
        tools=[{"type": "code_execution_20260521", "name": "code_execution"}],
        messages=[{"role": "user", "content": [{"type": "container_upload", "file_id": up.id}]}],
    )
    gen = next(b for b in msg.content if b.type == "code_execution_tool_result").content.content[0].file_id
    emulator.expire_file(gen)
    with pytest.raises(AppError) as err:
        api.download(client, gen, tmp_path / "x.txt")
    assert err.value.title == "File expired"
    api.delete(client, up.id)
    api.delete(client, up.id)  # already gone counts as deleted
    with pytest.raises(AppError) as err:
        api.metadata(client, up.id)
    assert err.value.title == "Not found"


def test_too_large_and_bad_key_become_clear_errors(tmp_path):
    with Emulator(api_key="right-key", max_file_bytes=10) as emu:
        good = anthropic.Anthropic(api_key="right-key", base_url=emu.url, max_retries=0)
        with pytest.raises(AppError) as err:
            api.upload(good, "big.csv", CSV, "text/csv")
        assert err.value.title == "Too large"
        bad = anthropic.Anthropic(api_key="wrong", base_url=emu.url, max_retries=0)
        with pytest.raises(AppError) as err:
            api.list_all(bad)
        assert err.value.title == "API key rejected" and "secrets.toml" in err.value.hint


def test_list_retries_after_a_rate_limit(emulator, client):
    emulator.inject(Fault("status", path="/v1/files", status=429, retry_after_ms=10))
    assert api.list_all(client) == []
    assert len([r for r in emulator.requests if r.path == "/v1/files"]) == 2


def check(data_dir, name: str = "sales.csv") -> uploads.Accepted:
    """A fresh check of CSV, its copy waiting in the data directory, as each drop on the Files page makes."""
    checked = uploads.check_upload(name, CSV, 10_000, data_dir)
    assert isinstance(checked, uploads.Accepted), checked
    return checked


def test_library_dedupes_keeps_a_local_copy_and_flags_missing(emulator, client, store, data_dir):
    first = library.upload_accepted(client, store, data_dir, check(data_dir))
    again = library.upload_accepted(client, store, data_dir, check(data_dir))
    assert again.reused and again.record.id == first.record.id
    assert (data_dir / first.record.local_path).read_bytes() == CSV
    assert len([r for r in emulator.requests if r.method == "POST"]) == 1
    rows = library.merge(store.files(), api.list_all(client))
    assert [(r.filename, r.status) for r in rows] == [("sales.csv", "ok")]
    api.delete(client, first.record.id)
    rows = library.merge(store.files(), api.list_all(client))
    assert rows[0].status == "missing remotely" and not rows[0].usable
    assert library.file_bytes(client, store, data_dir, rows[0]) == CSV
    assert library.delete(client, store, data_dir, [first.record.id]) == []
    assert store.files() == [] and not (data_dir / first.record.local_path).exists()


def test_library_shows_remote_only_files_and_unchecked_when_offline(store):
    store.add_file(FileRecord("file_1", "a.csv", "text/csv", 3, "h", "csv", "", time.time()))
    assert library.merge(store.files(), None)[0].status == "unchecked"
    remote = [api.RemoteFile("file_9", "plot.png", "image/png", 5, library.datetime.now(library.UTC), True, None)]
    rows = {r.id: r for r in library.merge(store.files(), remote)}
    assert rows["file_9"].status == "generated" and rows["file_9"].generated  # made by code: a result, not an input
    assert rows["file_9"].download_from == "Files API"
    uploaded = [api.RemoteFile("file_8", "b.csv", "text/csv", 5, library.datetime.now(library.UTC), False, None)]
    assert library.merge([], uploaded)[0].status == "remote only"
    assert rows["file_1"].status == "missing remotely"


def test_an_identical_upload_whose_remote_copy_is_gone_is_uploaded_again(emulator, client, store, data_dir):
    first = library.upload_accepted(client, store, data_dir, check(data_dir))
    api.delete(client, first.record.id)  # expired, deleted in the Console, or made against another API
    again = library.upload_accepted(client, store, data_dir, check(data_dir))
    assert not again.reused and again.record.id != first.record.id
    assert api.exists(client, again.record.id) is True and api.exists(client, first.record.id) is False
    assert store.file(first.record.id).remote_missing, "the old entry stays for the runs that used it, flagged"
    assert library.upload_accepted(client, store, data_dir, check(data_dir)).record.id == again.record.id
    emulator.inject(Fault("status", path=f"/v1/files/{again.record.id}", status=500, times=5))
    assert library.upload_accepted(client, store, data_dir, check(data_dir)).reused, "an API hiccup does not re-upload"


NEAR_LIMIT = "customer_orders_export_" + "o" * 223 + ".csv"  # 250 bytes


def test_an_upload_named_near_255_bytes_is_kept_locally_and_in_the_library(emulator, client, store, data_dir):
    checked = uploads.check_upload(NEAR_LIMIT, CSV, 10_000, data_dir)
    result = library.upload_accepted(client, store, data_dir, checked)
    assert result.error is None and result.record is not None
    assert result.record.filename == NEAR_LIMIT, "the name shown keeps the original"
    assert (data_dir / result.record.local_path).read_bytes() == CSV
    assert [f.id for f in store.files()] == [result.record.id] == list(emulator.files)


def test_a_local_failure_sends_nothing_to_the_files_api(emulator, client, store, data_dir):
    (data_dir / "uploads").write_text("not a folder")  # the local copy cannot be written
    result = library.upload_accepted(client, store, data_dir, check(data_dir))
    assert result.record is None and result.error is not None
    assert "could not be written" in result.error.message and str(data_dir) not in result.error.message
    assert not [r for r in emulator.requests if r.method == "POST" and r.path == "/v1/files"]
    assert not emulator.files and store.files() == []


def test_a_failed_upload_keeps_no_library_copy_and_can_be_tried_again(emulator, client, store, data_dir):
    emulator.inject(Fault("status", path="/v1/files", status=400))
    checked = check(data_dir)
    result = library.upload_accepted(client, store, data_dir, checked)
    assert result.record is None and result.error.title == "Request refused"
    assert not list((data_dir / "uploads").glob("*")) and store.files() == []
    assert (data_dir / checked.rel).read_bytes() == CSV, "the checked copy waits for another try"
    again = library.upload_accepted(client, store, data_dir, checked)
    assert again.record is not None and (data_dir / again.record.local_path).read_bytes() == CSV
    assert not (data_dir / checked.rel).exists()
