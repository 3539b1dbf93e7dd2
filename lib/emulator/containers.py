"""Containers: a working directory per id, rolling expiry, and any paused script."""

from __future__ import annotations

import shutil
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from .errors import ApiError
from .files import StoredFile, clean_filename
from .ids import Clock, IdFactory, rfc3339, utc
from .live import Awaiting
from .script import OUTPUTS, Step


# How the API refuses a container. The real wording is unknown (GUESSES.md); what matters is that it names the id.
def not_found_message(cid: str) -> str:
    """The refusal of a container id the API does not know."""
    return f"Container `{cid}` not found."


def expired_message(cid: str) -> str:
    """The refusal of an expired container."""
    return f"Container `{cid}` has expired and cannot be used; send the request without `container` to start a new one."


@dataclass(frozen=True)
class ContainerInfo:
    """Public read-only view of a container."""

    id: str
    workdir: Path
    expires_at: datetime
    file_ids: list[str]


@dataclass
class Container:
    """A live container and its state between turns."""

    id: str
    workdir: Path
    expires: float
    file_ids: list[str] = field(default_factory=list)
    pending: list[Step] = field(default_factory=list)
    awaiting: Awaiting | None = None  # a cell stopped at client tool calls, waiting for their results
    turns: int = 0

    @property
    def expires_at(self) -> str:
        return rfc3339(self.expires)

    def info(self) -> ContainerInfo:
        return ContainerInfo(self.id, self.workdir, utc(self.expires), list(self.file_ids))

    def drop_awaiting(self) -> None:
        """Kill a cell still waiting for tool results: the conversation went on without them."""
        if self.awaiting is not None:
            self.awaiting.live.abandon()
            self.awaiting = None

    def add_file(self, stored: StoredFile) -> None:
        """Copy an uploaded file into the working directory under its safe name."""
        name = clean_filename(stored.filename, stored.data)
        (self.workdir / name).write_bytes(stored.data)
        if stored.id not in self.file_ids:
            self.file_ids.append(stored.id)


class ContainerRegistry:
    """Creates, finds and expires containers."""

    def __init__(self, root: Path, ids: IdFactory, clock: Clock, ttl: float) -> None:
        self._root = root
        self._ids = ids
        self._clock = clock
        self._ttl = ttl
        self._items: dict[str, Container] = {}
        self._lock = threading.Lock()

    def create(self) -> Container:
        """A new empty container with an outputs/ folder."""
        cid = self._ids.container()
        workdir = self._root / cid
        (workdir / OUTPUTS).mkdir(parents=True)
        container = Container(cid, workdir, self._clock() + self._ttl)
        with self._lock:
            self._items[cid] = container
        return container

    def live(self, cid: str) -> Container:
        """The container, or a 400 invalid_request_error naming an unknown or expired id."""
        with self._lock:
            container = self._items.get(cid)
        if container is None:
            raise ApiError(400, not_found_message(cid))
        if self._clock() >= container.expires:
            container.drop_awaiting()  # the code's state went with the container
            raise ApiError(400, expired_message(cid))
        return container

    def now(self) -> float:
        return self._clock()

    def touch(self, container: Container) -> None:
        """Restart the idle timer of a live container; an expired one stays expired."""
        now = self._clock()
        if now < container.expires:
            container.expires = now + self._ttl

    def expire(self, cid: str) -> None:
        """Make a container expired now (no-op for unknown ids)."""
        with self._lock:
            container = self._items.get(cid)
        if container is not None:
            container.expires = self._clock() - 1

    def snapshot(self) -> dict[str, ContainerInfo]:
        with self._lock:
            return {cid: c.info() for cid, c in self._items.items()}

    def remove_all(self) -> None:
        with self._lock:
            items, self._items = list(self._items.values()), {}
        for container in items:
            container.drop_awaiting()
            shutil.rmtree(container.workdir, ignore_errors=True)
