"""Replays: a finished run's questions asked again, in order, on other files, as a new run linked to it.

The replay's files stand in for the original's by position, so the swap is known for every question without
keeping anything beside the run: a question that names an original file by name names its stand-in instead.
A run's SQL sources go with it: the replay queries them again, so its answers show the data as it is now.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lib.errors import AppError
from lib.storage.records import FileRecord, RunRecord
from lib.storage.store import Store


@dataclass(frozen=True)
class Swap:
    """One of the original run's files and the library file that stands in for it in the replay."""

    original_id: str
    original_name: str
    replacement: FileRecord | None  # None: the original file is no longer in the library


@dataclass(frozen=True)
class ColumnCheck:
    """How a stand-in's columns compare with the original file's (empty lists: same columns)."""

    missing: list[str]  # in the original, not in the stand-in
    added: list[str]  # in the stand-in only

    @property
    def same(self) -> bool:
        """Whether both files have the same columns (in any order)."""
        return not self.missing and not self.added


class ReplayError(AppError):
    """A replay that cannot start."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__("Cannot replay this run", message, hint, code="replay")


def swaps(store: Store, original: RunRecord, choice: dict[str, str]) -> list[Swap]:
    """The original's files in order, each with its stand-in: the library file chosen for it, else itself."""
    found = []
    for file_id in original.file_ids:
        record = store.file(file_id)
        name = record.filename if record else file_id
        chosen = choice.get(file_id, file_id)
        found.append(Swap(file_id, name, store.file(chosen)))
    return found


def compare_columns(before: list[str], after: list[str]) -> ColumnCheck:
    """Which columns a stand-in lacks or adds."""
    return ColumnCheck([c for c in before if c not in after], [c for c in after if c not in before])


def renamed(question: str, renames: dict[str, str]) -> str:
    """A question with every whole mention of an original file name replaced by its stand-in's name."""
    for old, new in sorted(renames.items(), key=lambda kv: -len(kv[0])):
        if old and old != new:
            question = re.sub(rf"(?<![\w.-]){re.escape(old)}(?![\w-]|\.\w)", new, question)
    return question


TITLE_PREFIX = "Replay: "


def title_for(original: RunRecord) -> str:
    """A replay's title: the original's name, marked once however many replays deep."""
    return TITLE_PREFIX + original.name.removeprefix(TITLE_PREFIX)


def sources_note(original: RunRecord) -> str:
    """What a replay does with the run's SQL sources, in a sentence ('' without any)."""
    if not original.sources:
        return ""
    names = ", ".join(f"`{name}`" for name in original.sources)
    return f"The SQL sources {names} are queried again, so the answers show their data as it is now."


def renames_for(store: Store, replay: RunRecord, original: RunRecord) -> dict[str, str]:
    """Original file name → stand-in file name, pairing the two runs' files by position."""
    names: dict[str, str] = {}
    for old_id, new_id in zip(original.file_ids, replay.file_ids, strict=False):
        old, new = store.file(old_id), store.file(new_id)
        if old is not None and new is not None:
            names[old.filename] = new.filename
    return names


def stand_ins(store: Store, replay: RunRecord, original: RunRecord) -> list[tuple[str, str]]:
    """(original file name, stand-in file name) for each of the original's files, in order; a file no longer in
    the library is named by its id."""

    def name(file_id: str) -> str:
        record = store.file(file_id)
        return record.filename if record else file_id

    return [(name(old), name(new)) for old, new in zip(original.file_ids, replay.file_ids, strict=False)]


def next_question(store: Store, replay: RunRecord) -> str | None:
    """The replay's next question (as it will be sent), or None when every question was asked or it is no replay."""
    if not replay.replay_of:
        return None
    original = store.run(replay.replay_of)
    if original is None:
        return None
    pending = store.questions(original.id)[len(store.questions(replay.id)) :]
    if not pending:
        return None
    return renamed(pending[0], renames_for(store, replay, original))


def progress(store: Store, replay: RunRecord) -> tuple[int, int]:
    """How many of the original's questions the replay has asked, and how many there are."""
    total = len(store.questions(replay.replay_of)) if replay.replay_of else 0
    return len(store.questions(replay.id)), total


def plan(store: Store, original_id: str, choice: dict[str, str]) -> tuple[RunRecord, list[Swap], list[str]]:
    """The original run, its files' stand-ins and its questions, refusing what cannot be replayed."""
    original = store.run(original_id)
    if original is None:
        raise ReplayError("The run was not found, or is not yours and not shared.", "Open one of your runs.")
    if original.active:
        raise ReplayError("The run is still answering.", "Wait for it to finish, or press Stop, then replay it.")
    asked = store.questions(original_id)
    if not asked:
        raise ReplayError("The run has no questions to ask again.", "Replay a run that has at least one answer.")
    found = swaps(store, original, choice)
    lost = [s.original_name for s in found if s.replacement is None]
    if lost:
        raise ReplayError(
            f"No file was chosen in place of {', '.join(lost)}, which is not in your library.",
            "Choose a file from your library for each of the run's files.",
        )
    return original, found, asked
