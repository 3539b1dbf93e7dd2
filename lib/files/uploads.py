"""An upload's way in: the checks it must pass (name, size, type by content), its one copy on disk, a first look at
once, and the exact check and profile of the whole file in the background.

`receive(name, data, max_bytes, data_dir)` writes the bytes once, into the data directory's `incoming/` folder
(`library.upload_accepted` later moves that copy, never writes it again), and returns as soon as the sandbox
has looked at the file's head (`Intake.look`); for a table larger than its head, a thread of this process
writes the rest meanwhile, then has the whole file read in a sandbox worker, whose progress (bytes read of
all) it keeps in the Intake for the page to show. Only then is the file `Accepted`, with its exact profile.
`inspect_upload` does all of it and waits (the CLI, samples, tests).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path

from lib.errors import without_paths
from lib.files import kinds, preview, profile, sandbox
from lib.files.kinds import ACCEPTED_TYPES_TEXT, sanitize_filename
from lib.files.preview import HEAD_KINDS, Preview, Refused, TablePreview
from lib.files.tables import LOOK_BYTES
from lib.limits import LIMITS
from lib.storage.records import TableProfile

MB = 1_000_000
FILES_API_MAX_BYTES = 500 * MB
INCOMING = "incoming"  # the data directory's folder for checked copies not uploaded yet
FORGET_AFTER = 86_400.0  # seconds after which a copy nobody uploaded is removed
WRITE_BYTES = 8 << 20  # bytes written at a time
LOWER_PRIORITY = 10  # niceness of the thread writing the rest of a file

__all__ = [
    "ACCEPTED_TYPES_TEXT",
    "Accepted",
    "Checked",
    "Intake",
    "Rejected",
    "check_upload",
    "inspect_upload",
    "preview_path",
]


@dataclass(frozen=True)
class Accepted:
    """A file that passed every check, with what the upload needs: where its one copy is (relative to the data
    directory) and, for a table, its exact profile."""

    name: str
    kind: str
    mime: str
    size: int
    sha256: str
    rel: str = ""
    profile: TableProfile | None = None


@dataclass(frozen=True)
class Rejected:
    """A file that failed a check: what was wrong and what the user can do."""

    name: str
    reason: str
    hint: str


@dataclass(frozen=True)
class Checked:
    """The verdict on one file and, when it was accepted, its preview."""

    verdict: Accepted | Rejected
    preview: Preview | None = None


@dataclass(eq=False)
class Intake:
    """One file on its way in: the first look at once, then the whole file's check and profile in the background."""

    name: str
    clean: str = ""
    kind: str = ""
    size: int = 0
    path: Path | None = None  # the one copy
    data_dir: Path | None = None
    look: Preview | None = None
    exact: Preview | None = None
    rejected: Rejected | None = None
    sha256: str = ""
    done: int = 0  # bytes of the file the whole check has read
    started: float = field(default_factory=time.monotonic)
    finished: threading.Event = field(default_factory=threading.Event)

    @property
    def profiling(self) -> bool:
        """Whether the whole file is still being written, checked or profiled."""
        return not self.finished.is_set()

    @property
    def preview(self) -> Preview | None:
        """The first look, with the exact figures in place of its estimates once they are known."""
        if isinstance(self.look, TablePreview) and isinstance(self.exact, TablePreview):
            return self.look.with_exact(self.exact)
        return self.exact or self.look

    def checked(self) -> Checked | None:
        """The verdict once the whole file was checked (None while it is being read)."""
        if self.rejected is not None:
            return Checked(self.rejected)
        if self.profiling:
            return None
        found = self.preview
        rel = str(self.path.relative_to(self.data_dir)) if self.path and self.data_dir else ""
        info = kinds.get(self.kind)
        profile = found.table_profile() if isinstance(found, TablePreview) else None
        accepted = Accepted(self.clean, self.kind, info.mime if info else "", self.size, self.sha256, rel, profile)
        return Checked(accepted, found)

    def wait(self, timeout: float | None = None) -> Checked | None:
        """The verdict, waiting up to `timeout` seconds for the whole check."""
        self.finished.wait(timeout)
        return self.checked()

    def told(self, done: int) -> None:
        """The whole check has read `done` bytes of the file."""
        self.done = done

    def discard(self) -> None:
        """Remove the copy of a file that will not be uploaded (once its writing is over)."""
        threading.Thread(target=self._discard, daemon=True).start()

    def _discard(self) -> None:
        self.finished.wait()
        if self.path is not None:
            self.path.unlink(missing_ok=True)

    def _refuse(self, reason: str, hint: str) -> None:
        self.rejected = Rejected(self.name, without_paths(reason), hint)


def receive(name: str, data: bytes, max_bytes: int, data_dir: Path, max_rows: int = preview.HEAD_ROWS) -> Intake:
    """Take in one uploaded file: checks of its name and size, its one copy, and the first look at its head
    (returned at once); the rest is written, checked and profiled by a thread of its own."""
    clean = sanitize_filename(name)
    intake = Intake(name, clean)
    found = _precheck(name, clean, data, max_bytes)
    if isinstance(found, Rejected):
        intake.rejected = found
        intake.finished.set()
        return intake
    intake.kind, intake.size, intake.data_dir = found.key, len(data), Path(data_dir)
    folder = intake.data_dir / INCOMING
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _forget_old(folder)
        intake.path = folder / kinds.disk_name(uuid.uuid4().hex, clean)
        handle = open(intake.path, "wb")  # the writing thread closes it
    except OSError as exc:
        intake._refuse(f"{clean} could not be kept on the server: {exc.strerror or exc}.", "Try again later.")
        intake.finished.set()
        return intake
    head_only = intake.kind in HEAD_KINDS and len(data) > LOOK_BYTES
    first = LOOK_BYTES if head_only else len(data)
    try:
        handle.write(data[:first])
        handle.flush()
    except OSError as exc:
        handle.close()
        intake._refuse(f"{clean} could not be kept on the server: {exc.strerror or exc}.", "Try again later.")
        intake.path.unlink(missing_ok=True)
        intake.finished.set()
        return intake
    written = threading.Event()
    rest = threading.Thread(target=_write_rest, args=(intake, handle, data, first, written), daemon=True)
    rest.start()
    try:
        intake.look = sandbox.call(
            preview.first_look, intake.path, clean, intake.kind, len(data), max_rows, seconds=_look_seconds(intake)
        )
    except Refused as refused:
        intake._refuse(refused.reason, refused.hint)
    except Exception as exc:  # noqa: BLE001 - includes sandbox.LimitExceeded; no upload may raise into the page
        intake._refuse(f"{clean} could not be checked: {exc}.", _hint_for(intake.kind))
    profile.warm_for(intake.look)
    threading.Thread(target=_finish, args=(intake, rest, written, max_rows), daemon=True).start()
    return intake


def _look_seconds(intake: Intake) -> float:
    """A first look at a head has the time of a small file; one that reads the whole file, its size's time."""
    return parse_seconds(LOOK_BYTES if intake.kind in HEAD_KINDS else intake.size)


def _write_rest(intake: Intake, handle, data: bytes, start: int, written: threading.Event) -> None:  # type: ignore[no-untyped-def]
    """Write the bytes after the head and hash the whole upload (hashing releases the GIL on large buffers), at a
    lower priority than the first look, which a busy machine should not slow down."""
    with contextlib.suppress(OSError, AttributeError, ValueError):  # Linux: a thread's niceness is its own
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), LOWER_PRIORITY)
    digest = hashlib.sha256()
    view = memoryview(data)
    try:
        with handle:
            digest.update(view[:start])
            for at in range(start, len(data), WRITE_BYTES):
                part = view[at : at + WRITE_BYTES]
                handle.write(part)
                digest.update(part)
    except OSError as exc:
        intake._refuse(f"{intake.clean} could not be kept on the server: {exc.strerror or exc}.", "Try again later.")
    intake.sha256 = digest.hexdigest()
    written.set()


def _finish(intake: Intake, rest: threading.Thread, written: threading.Event, max_rows: int) -> None:
    """After the first look: wait for the copy, then read the whole file exactly where the look saw only a part."""
    try:
        written.wait()
        rest.join()
        if intake.rejected is None and not preview.complete(intake.look):  # type: ignore[arg-type]
            intake.exact = profile.in_sandbox(
                intake.look,
                intake.path,  # type: ignore[arg-type]
                intake.clean,
                intake.kind,
                max_rows,
                parse_seconds(intake.size),
                on_progress=lambda done, total: intake.told(done),
            )
        intake.done = intake.size
    except Refused as refused:
        intake._refuse(refused.reason, refused.hint)
    except Exception as exc:  # noqa: BLE001 - includes sandbox.LimitExceeded
        intake._refuse(f"{intake.clean} could not be checked: {exc}.", _hint_for(intake.kind))
    finally:
        if intake.rejected is not None and intake.path is not None:
            intake.path.unlink(missing_ok=True)
        intake.finished.set()


def _forget_old(folder: Path) -> None:
    """Remove copies of files checked long ago and never uploaded (a closed tab, a server restart)."""
    cutoff = time.time() - FORGET_AFTER
    for old in folder.iterdir():
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink()
        except OSError:
            continue


def inspect_upload(name: str, data: bytes, max_bytes: int, max_rows: int = 20, data_dir: Path | None = None) -> Checked:
    """Check a file and preview it, whole, waiting for the result. With `data_dir`, its one copy waits in the
    data directory for `library.upload_accepted`; without, the check alone is done (the copy goes afterwards)."""
    if data_dir is not None:
        intake = receive(name, data, max_bytes, data_dir, max_rows)
        return intake.wait()  # type: ignore[return-value]
    scratch = Path(tempfile.mkdtemp(prefix="analyst-check-"))
    try:
        checked = receive(name, data, max_bytes, scratch, max_rows).wait()
        assert checked is not None
        verdict = checked.verdict
        return replace(checked, verdict=replace(verdict, rel="")) if isinstance(verdict, Accepted) else checked
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def check_upload(name: str, data: bytes, max_bytes: int, data_dir: Path | None = None) -> Accepted | Rejected:
    """Decide whether a file may be uploaded, and if not say why and what to do."""
    return inspect_upload(name, data, max_bytes, data_dir=data_dir).verdict


def _precheck(name: str, clean: str, data: bytes, max_bytes: int) -> kinds.FileKind | Rejected:
    """The checks that need no parsing: a known extension, some content, a size within the limits."""
    kind = kinds.upload_kind(clean)
    if kind is None:
        return _unknown_extension(name, clean, data)
    if not data:
        return Rejected(
            name,
            f"{clean} is empty (0 bytes).",
            "Export the data again and upload a file that has a header row and at least one data row."
            if kind.table
            else "Export or save the file again and upload the copy that has content.",
        )
    limit = min(max_bytes, FILES_API_MAX_BYTES)
    if len(data) > limit:
        return Rejected(
            name,
            f"{clean} is {_mb(len(data))}, over the {_mb(limit)} limit.",
            "Upload a smaller file: filter the rows or drop columns you don't need, "
            "split it into parts, or save it as Parquet, which is usually much smaller.",
        )
    return kind


def preview_path(path: Path, name: str, kind: str, max_rows: int = 20) -> Preview:
    """lib.files.preview.inspect_path on a file, run in a limited worker process, never in this one; raises
    Refused (or the worker's limit error) like the check before an upload."""
    return sandbox.call(preview.inspect_path, path, name, kind, max_rows, seconds=parse_seconds(path.stat().st_size))


def parse_seconds(size: int) -> float:
    """Wall-clock time a file of this size may take to check: 10 s, plus 1 s per 20 MB so a big legitimate
    table is not refused on a busy machine (bombs are refused by their measurements before any parsing)."""
    return float(round(LIMITS.parse_seconds + size / LIMITS.parse_bytes_per_extra_second))


def warm() -> None:
    """Start a parsing worker in the background so the first file checked does not wait for one."""
    sandbox.warm()


def _hint_for(kind: str) -> str:
    """What to try when a file of this kind could not be read in time or memory."""
    if kind == "xlsx":
        return "Export the sheet as CSV (or save it as Parquet) and upload that instead."
    if (info := kinds.get(kind)) is not None and info.image:
        return "Resize the image or export it again, then upload the new copy."
    return "Upload a smaller or simpler copy (fewer rows or columns, or CSV/Parquet instead)."


def _mb(size: int) -> str:
    """Size in MB with enough precision to tell two sizes apart near a limit."""
    value = size / MB
    return f"{value:.0f} MB" if value >= 10 and value == int(value) else f"{value:.1f} MB"


def _unknown_extension(name: str, clean: str, data: bytes) -> Rejected:
    """Reject a file type we cannot analyse, pointing at the right extension if the content is known."""
    ext = kinds.extension_of(clean).lstrip(".")
    if ext == "xls":
        return Rejected(
            name,
            f"{clean} is an old-format Excel file (.xls), which can't be analysed here.",
            "Open it in Excel and use Save As > Excel Workbook (.xlsx), or export the sheet as CSV.",
        )
    reason = f"{clean} is a .{ext} file, which can't be analysed here." if ext else f"{clean} has no file extension."
    hint = f"Upload one of these types: {ACCEPTED_TYPES_TEXT}."
    # Zip directories are not read here (that is the child's job); magic bytes alone name the rest.
    found = kinds.get(kinds.detect_content(data[:65536])) if not data.startswith(b"PK") else None
    if found is not None and found.uploadable:
        hint = f"It looks like {found.described}: rename it to end in {found.extension}. " + hint
    return Rejected(name, reason, hint)
