"""Generated files whose names are near the file system's limit: saved, retried, and failures told without paths."""

from __future__ import annotations

from pathlib import Path

from lib.emulator import Fault, Python, Text
from lib.runs import jobs
from lib.transcript import GeneratedFile
from tests.support.runs import items_of, run_to_end, upload

LONG_NAME = "regional_revenue_breakdown_" + "q" * 219 + ".csv"  # 250 bytes: the container could write it
MAKE_IT = (
    "import os\n"
    f"open(os.path.join(os.environ['OUTPUT_DIR'], {LONG_NAME!r}), 'w').write('region,revenue\\nNorth,1\\n')\n"
    "print('saved')\n"
)


def _generated(store, run_id: str) -> GeneratedFile:
    (item,) = [i for i in items_of(store, run_id) if isinstance(i, GeneratedFile)]
    return item


def _saved_under_its_own_name(store, settings, run_id: str, item: GeneratedFile) -> None:
    assert item.path and not item.error, item.error
    on_disk = Path(item.path).name
    assert len(on_disk.encode()) <= 255 and on_disk.endswith("qqq.csv")
    assert (settings.data_dir / item.path).read_text() == "region,revenue\nNorth,1\n"
    assert item.filename == LONG_NAME, "the name shown is the one the code gave it"
    (artifact,) = store.artifacts()[0]
    assert (artifact.filename, artifact.path, artifact.run_id) == (LONG_NAME, item.path, run_id)


def test_a_generated_file_named_near_255_bytes_is_saved(emulator, settings, store):
    file_id = upload(settings, store)
    emulator.queue_script([Python(MAKE_IT), Text("Saved it.")])
    run_id = run_to_end(store, settings, "Save the breakdown", [file_id])
    assert store.run(run_id).status == "done"
    _saved_under_its_own_name(store, settings, run_id, _generated(store, run_id))


def test_retry_saves_a_file_named_near_255_bytes(emulator, settings, store):
    file_id = upload(settings, store)
    emulator.inject(Fault("cut", path="/v1/files/*/content"))
    emulator.queue_script([Python(MAKE_IT), Text("Saved it.")])
    run_id = run_to_end(store, settings, "Save the breakdown", [file_id])
    broken = _generated(store, run_id)
    assert broken.error and broken.retryable and not broken.path

    fixed = jobs.retry_file(store, settings, run_id, broken.file_id)
    _saved_under_its_own_name(store, settings, run_id, fixed)
    assert _generated(store, run_id) == fixed


def test_a_file_that_cannot_be_saved_says_so_without_the_servers_paths(emulator, settings, store):
    file_id = upload(settings, store)
    blocker = settings.data_dir / "artifacts"
    blocker.write_text("not a folder")  # the artifacts folder cannot be made
    emulator.queue_script([Python(MAKE_IT), Text("Saved it.")])
    run_id = run_to_end(store, settings, "Save the breakdown", [file_id])
    failed = _generated(store, run_id)
    assert failed.retryable and not failed.path
    assert "could not be written or read on the server" in failed.error
    assert str(settings.data_dir) not in failed.error and "/" not in failed.error, failed.error

    blocker.unlink()
    _saved_under_its_own_name(store, settings, run_id, jobs.retry_file(store, settings, run_id, failed.file_id))
