"""What a turn yields: typed events, ending in exactly one Outcome."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from lib.errors import AppError
from lib.transcript import GeneratedFile, Item, Notice, Usage


@dataclass(slots=True)
class ItemEvent:
    """Item number `seq` of the turn is now `item`: new, or a newer state of the same item."""

    seq: int
    item: Item
    final: bool


@dataclass(slots=True)
class NoticeEvent:
    """Something the turn did on the user's behalf, said at position `seq`."""

    seq: int
    notice: Notice


@dataclass(slots=True)
class FileSaved:
    """A generated file at position `seq`: saved under the data directory, or failed with `file.error`."""

    seq: int
    file: GeneratedFile


@dataclass(slots=True)
class UsageEvent:
    """The turn's usage so far, after a response ended."""

    usage: Usage


@dataclass(slots=True)
class ContainerEvent:
    """The container the run should use from now on ('' when the old one was refused and none is known yet)."""

    container_id: str
    expires_at: str = ""


@dataclass(slots=True)
class Outcome:
    """How a turn ended; always the last event."""

    status: Literal["done", "stopped", "failed"]
    content: list[dict[str, Any]]
    usage: Usage
    user_content: list[dict[str, Any]]
    container_id: str
    requests: int
    stop_reason: str = ""
    error: AppError | None = None


TurnEvent = ItemEvent | NoticeEvent | FileSaved | UsageEvent | ContainerEvent | Outcome
