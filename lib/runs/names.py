"""Run names: renaming a run, finding runs by name, question, file or date, and how a run is told apart in a list
(reruns of one question share a name: their start, files and status differ)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from lib.storage.records import RunRecord
from lib.storage.store import Store

LABEL_NAME_CHARS = 60  # of a name in a one-line label
LABEL_FILES = 2  # file names in a label before "+n more"
MIN_PREFIX = 4  # characters of a run id that may stand for it


@dataclass(frozen=True)
class RunEntry:
    """A run in a list, with the names of its input files."""

    run: RunRecord
    files: list[str]

    @property
    def started(self) -> str:
        """When the run was started, to the minute, on this machine's clock."""
        return datetime.fromtimestamp(self.run.created_at).strftime("%Y-%m-%d %H:%M")

    @property
    def files_text(self) -> str:
        """The input files' names, the first few, or "no files"."""
        if not self.files:
            return "no files"
        more = len(self.files) - LABEL_FILES
        return ", ".join(self.files[:LABEL_FILES]) + (f" +{more} more" if more > 0 else "")

    @property
    def label(self) -> str:
        """One line that tells the run apart from its reruns: name, start, files, status."""
        name = self.run.name
        if len(name) > LABEL_NAME_CHARS:
            cut = name[: LABEL_NAME_CHARS - 1]
            name = (cut.rsplit(" ", 1)[0] if " " in cut[LABEL_NAME_CHARS // 2 :] else cut).rstrip(" ,;:") + "…"
        return f"{name} · {self.started} · {self.files_text} · {self.run.status}"


def rename(store: Store, run_id: str, name: str) -> RunRecord:
    """Rename one of the store owner's runs (empty: back to its question); NotAllowedError for anyone else's."""
    return store.rename_run(run_id, name)


def entries(store: Store, runs: list[RunRecord]) -> list[RunEntry]:
    """The runs with their input files' names (a file no longer in the owner's library shows as its id)."""
    names = store.file_names(sorted({f for r in runs for f in r.file_ids}))
    return [RunEntry(r, [names.get(f, f) for f in r.file_ids]) for r in runs]


def find(store: Store, text: str, limit: int = 50) -> list[RunEntry]:
    """The store owner's runs that match a search (every run for an empty one), most recently active first."""
    return entries(store, store.search_runs(text, limit=limit))


def matching(store: Store, ref: str) -> list[RunRecord]:
    """The store owner's runs `ref` may stand for: its whole id; else those whose id starts with it (at least
    MIN_PREFIX characters) and those of that name."""
    exact = store.run(ref.strip())
    if exact is not None:
        return [exact]
    found = store.find_runs(ref.strip(), limit=10) if len(ref.strip()) >= MIN_PREFIX else []
    for run in store.runs_named(ref):
        if all(run.id != f.id for f in found):
            found.append(run)
    return found
