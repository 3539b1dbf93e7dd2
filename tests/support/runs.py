"""Setup shared by the tests that drive runs: files into the library, a run to its end, what it stored and sent."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import anthropic

from lib.client import make_client
from lib.emulator import Emulator
from lib.files import library, uploads
from lib.runs import jobs
from lib.settings import Settings
from lib.storage.records import FileRecord
from lib.storage.store import Store

CSV = b"month,region,sales\n2024-01,North,100\n2024-02,North,120\n2024-03,South,90\n2024-04,South,130\n"
MAX_UPLOAD_BYTES = Settings().max_upload_bytes


def upload_bytes(
    client: anthropic.Anthropic,
    store: Store,
    data_dir: Path,
    name: str,
    data: bytes,
    max_bytes: int = MAX_UPLOAD_BYTES,
) -> FileRecord:
    """Check and upload one file through the library, as the Files page does; returns its record."""
    checked = uploads.check_upload(name, data, max_bytes, data_dir)
    assert isinstance(checked, uploads.Accepted), checked
    result = library.upload_accepted(client, store, data_dir, checked)
    assert result.record is not None, result.error
    return result.record


def upload(settings: Settings, store: Store, name: str = "sales.csv", data: bytes = CSV) -> str:
    """Upload through the library with these settings; returns the file id."""
    client = make_client(settings)
    return upload_bytes(client, store, settings.data_dir, name, data, settings.max_upload_bytes).id


def run_to_end(store: Store, settings: Settings, question: str, file_ids: list[str]) -> str:
    """Start a run on these files and wait for it to finish; returns the run id."""
    run = jobs.new_run(store, settings, question, file_ids)
    assert jobs.wait(run.id, 60)
    return run.id


def items_of(store: Store, run_id: str, turn: int | None = None) -> list:
    """The run's transcript items, of one turn or of all."""
    return [s.item for s in store.items(run_id) if turn is None or s.turn_idx == turn]


def messages_requests(emulator: Emulator) -> list:
    """The POST /v1/messages requests the emulator received, in order."""
    return [r for r in emulator.requests if r.method == "POST" and r.path == "/v1/messages"]


def wait_for(predicate: Callable[[], object], timeout: float, what: str, step: float = 0.05) -> None:
    """Poll until `predicate()` is true; fail naming `what` once `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out after {timeout}s waiting for {what}"
        time.sleep(step)
