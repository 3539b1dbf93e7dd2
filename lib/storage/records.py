"""The rows the store returns: plain, frozen dataclasses that cross from storage to the layers above."""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from lib.identity import LOCAL_OWNER
from lib.transcript import Item, Usage

ACTIVE = ("queued", "running")  # the statuses of a run or turn that someone works on (or should)
NAME_LIMIT = 200  # characters of a run's name


def clean_name(text: str) -> str:
    """A run's name as kept: one line, spaces trimmed and collapsed, at most NAME_LIMIT characters."""
    return " ".join(text.split())[:NAME_LIMIT].rstrip()


@dataclass(frozen=True)
class ColumnProfile:
    """What a profile knows about one column of a table."""

    name: str
    type: str
    missing: float  # share of rows with no value
    min: Any = None
    max: Any = None
    mean: float | None = None
    distinct: int | None = None
    distinct_exact: bool = True
    std: float | None = None  # population standard deviation (numbers)
    q1: float | None = None  # quartiles of numbers, from a sample of the column
    q3: float | None = None


@dataclass(frozen=True)
class TableProfile:
    """A table's profile as kept with its file: exact after one pass over the whole file, or a first look's
    estimate from its head (`exact` False: rows and statistics estimated)."""

    rows: int
    columns: tuple[ColumnProfile, ...]
    exact: bool = True
    notes: tuple[str, ...] = ()  # data-quality notes: encoding, damage, identifiers, extreme values
    delimiter: str | None = None
    encoding: str | None = None
    sheets: tuple[str, ...] = ()
    head: tuple[dict[str, Any], ...] = field(default=(), compare=False)  # the first rows, as shown

    @property
    def names(self) -> list[str]:
        """The column names, in order."""
        return [c.name for c in self.columns]

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, columns)."""
        return self.rows, len(self.columns)

    def to_json(self) -> str:
        """The profile as JSON text (dates and other values that JSON lacks as their ISO text)."""
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "columns"}
        data["columns"] = [{f.name: _plain(getattr(c, f.name)) for f in fields(c)} for c in self.columns]
        data["head"] = [{k: _plain(v) for k, v in row.items()} for row in self.head]
        return json.dumps(data, allow_nan=False)

    @classmethod
    def from_json(cls, text: str) -> TableProfile | None:
        """A profile from `to_json`'s text; None for an empty or unreadable one."""
        try:
            data = json.loads(text) if text else None
            if not isinstance(data, dict):
                return None
            known = {f.name for f in fields(ColumnProfile)}
            columns = tuple(ColumnProfile(**{k: v for k, v in c.items() if k in known}) for c in data["columns"])
            values = {f.name: data[f.name] for f in fields(cls) if f.name in data and f.name != "columns"}
            values["notes"] = tuple(values.get("notes", ()))
            values["sheets"] = tuple(values.get("sheets", ()))
            values["head"] = tuple(values.get("head", ()))
            return cls(columns=columns, **values)
        except (ValueError, TypeError, KeyError):
            return None

    def without_head(self) -> TableProfile:
        """The profile without its first rows (what a request needs)."""
        return replace(self, head=())


def _plain(value: Any) -> Any:
    """A value JSON can hold: numbers that are finite, text, booleans and None; the rest as text."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return _plain(value.item())
    return str(value)


@dataclass(frozen=True)
class FileRecord:
    """A file in the local catalogue (uploaded by the user)."""

    id: str
    filename: str
    mime_type: str
    size_bytes: int
    sha256: str
    kind: str
    local_path: str
    created_at: float
    remote_missing: bool = False
    notes: str = ""
    owner: str = LOCAL_OWNER
    profile: TableProfile | None = None  # a table's profile, made when it was uploaded

    @property
    def shape(self) -> tuple[int, int] | None:
        """(rows, columns) of a profiled table; None for other files."""
        return self.profile.shape if self.profile is not None else None

    def row(self) -> dict[str, Any]:
        """The record as the files table's values."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values["remote_missing"] = int(self.remote_missing)
        values["profile"] = self.profile.to_json() if self.profile is not None else ""
        return values

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> FileRecord:
        """A file from its row in the files table."""
        data = {f.name: row[f.name] for f in fields(cls) if f.name in row}
        data["remote_missing"] = bool(data.get("remote_missing"))
        data["profile"] = TableProfile.from_json(data.get("profile") or "")
        return cls(**data)


@dataclass(frozen=True)
class RunRecord:
    """One conversation as stored: a first question and its follow-ups, in one container."""

    id: str
    title: str
    created_at: float
    updated_at: float
    status: str
    model: str
    tool_version: str
    container_id: str
    container_expires_at: str
    file_ids: list[str]
    error: str
    demo: bool
    budget_usd: float = 0.0  # 0: no limit
    owner: str = LOCAL_OWNER
    shared: bool = False  # readable by everyone signed in
    replay_of: str = ""  # the run whose questions this one asks again on other files
    name: str = ""  # what the run is called: its owner's name for it, else its title
    sources: list[str] = field(default_factory=list)  # the SQL sources picked for it, by name

    @property
    def active(self) -> bool:
        """Whether a job is (or should be) working on it."""
        return self.status in ACTIVE

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> RunRecord:
        """A run from its row in the runs table (an empty name is the title)."""
        data = dict(row)
        data["name"] = data.get("name") or data["title"]
        data["file_ids"] = json.loads(data["file_ids"])
        data["sources"] = json.loads(data.get("sources") or "[]")
        data["demo"] = bool(data["demo"])
        data["shared"] = bool(data["shared"])
        return cls(**data)


@dataclass(frozen=True)
class TurnRecord:
    """One question of a run as stored, and everything the API answered to it."""

    run_id: str
    idx: int
    question: str
    status: str
    started_at: float
    finished_at: float | None
    user_content: list[dict[str, Any]]
    assistant_content: list[dict[str, Any]]
    usage: Usage
    stop_reason: str
    container_id: str
    requests: int
    error: str

    @property
    def uses_container(self) -> bool:
        """Whether the turn was billed container time (it ran code or had files attached)."""
        return bool(
            self.usage.code_execution_requests
            or self.container_id
            or any(b.get("type") == "container_upload" for b in self.user_content)
        )

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> TurnRecord:
        """A turn from a row holding the turns table's columns (others are ignored)."""
        data = {k: row[k] for k in cls.__dataclass_fields__}
        data["user_content"] = json.loads(data["user_content"])
        data["assistant_content"] = json.loads(data["assistant_content"])
        data["usage"] = Usage(**json.loads(data["usage"] or "{}"))
        return cls(**data)


@dataclass(frozen=True)
class StoredItem:
    """A transcript item with its place in the run."""

    turn_idx: int
    seq: int
    item: Item
    updated_at: float = 0.0  # when it was last written: the live view's watermark


@dataclass(frozen=True)
class Artifact:
    """A generated file kept on disk, with where it came from."""

    id: int
    run_id: str
    turn_idx: int
    file_id: str
    filename: str
    mime_type: str
    size_bytes: int
    path: str
    created_at: float
    tool_use_id: str
    question: str = ""


@dataclass(frozen=True)
class ArtifactFilter:
    """Which artifacts the gallery shows."""

    run_id: str = ""
    kind: str = ""  # "image" or "other" or ""
    since: float | None = None
    until: float | None = None
    words: str = ""
    limit: int = 24
    offset: int = 0


@dataclass(frozen=True)
class UserRecord:
    """Someone who has signed in, with the monthly budget an admin gave them."""

    owner: str
    email: str
    name: str
    first_seen: float
    last_seen: float
    monthly_budget_usd: float = 0.0  # 0: no limit


@dataclass(frozen=True)
class TurnUsage:
    """What one turn used, with whose run and which model it was (for monthly usage)."""

    owner: str
    run_id: str
    model: str
    turn: TurnRecord


@dataclass(frozen=True)
class Claim:
    """A queued turn a worker took: whose run it is, which turn, and the request to send."""

    owner: str
    run_id: str
    idx: int
    request: dict[str, Any]
    demo: bool


@dataclass(frozen=True)
class TurnState:
    """Where the newest turn of a run is in the queue."""

    idx: int
    status: str
    worker: str
    lease_until: float
    stop_requested: bool


@dataclass(frozen=True)
class QueuedTurn:
    """A turn waiting for a worker, as the fair order sees it."""

    owner: str
    run_id: str
    idx: int
    started_at: float


@dataclass(frozen=True)
class QueueSnapshot:
    """The queue as one statement saw it: every queued turn, when each owner last had a turn claimed, how many
    turns each runs, and how many workers are alive and claiming."""

    queued: list[QueuedTurn]
    last_claim: dict[str, float]
    running: dict[str, int]
    live_workers: int


@dataclass(frozen=True)
class WorkerRecord:
    """A run worker process as it last announced itself, with the turns it runs now."""

    name: str
    host: str
    pid: int
    capacity: int
    started_at: float
    last_beat: float
    draining: bool
    running: int
