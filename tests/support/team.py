"""The team topology on loopback: PostgreSQL, moto's S3 server, the emulator, replicas and workers."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from lib.emulator import Emulator
from lib.settings import Settings, load_settings
from lib.storage import blobs
from lib.storage.store import Store
from tests.support.browser import App
from tests.support.runs import upload, wait_for
from tests.support.services import Postgres, S3Server, WorkerProc, named, replica

BUCKET = "analyst"


@dataclass
class Team:
    """Everything of one team deployment, and how to reach it from the test."""

    pg: Postgres
    s3: S3Server
    emulator: Emulator
    database_url: str
    blob_url: str
    root: Path
    workers: list[WorkerProc] = field(default_factory=list)
    replicas: list[App] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        """The settings every replica and worker gets."""
        return {"ANALYST_DATABASE_URL": self.database_url, "ANALYST_BLOB_URL": self.blob_url, **self.s3.env()}

    def worker_env(self) -> dict[str, str]:
        """A worker's settings: the team's, and the emulator as the API."""
        return {
            **self.env(),
            "ANTHROPIC_API_KEY": "test-key",
            "ANTHROPIC_BASE_URL": self.emulator.url,
            "ANALYST_MAX_RETRIES": "1",
        }

    def settings(self) -> Settings:
        """Settings of a client in this test process (its own data directory, the team's database and files)."""
        data = self.root / "tester" / "data"
        data.mkdir(parents=True, exist_ok=True)
        env = {**self.worker_env(), "ANALYST_DATA_DIR": str(data)}
        os.environ.update(self.s3.env())
        settings = load_settings({}, env)
        blobs.configure(settings.data_dir, settings.blob_url)
        return settings

    def store(self) -> Store:
        """The team's database as the local user sees it."""
        settings = self.settings()
        return Store(settings.data_dir, url=settings.database_url)

    def upload(self, path: Path) -> str:
        """Put a file in the local user's library (the API's Files and the team's object store)."""
        return upload(self.settings(), self.store(), path.name, path.read_bytes())

    def add_worker(self, args: list[str] | None = None) -> WorkerProc:
        """One more worker process (its connections named `worker<n>`), with these command-line options."""
        # a directory of its own, even after a killed worker left the list
        name = f"worker{len(list(self.root.glob('worker*')))}"
        env = {**self.worker_env(), "ANALYST_DATABASE_URL": named(self.database_url, name)}
        worker = WorkerProc(self.root / name, env, args or []).start()
        worker.name = name
        self.workers.append(worker)
        return worker

    def add_replica(self, port: int = 0) -> App:
        """One more app replica (its connections named `replica<n>`), on `port` (to take a stopped one's place)."""
        name = f"replica{len(list(self.root.glob('replica*')))}"
        env = {**self.env(), "ANALYST_DATABASE_URL": named(self.database_url, name)}
        app = replica(self.root / name, env, self.emulator, port)
        app.extra["name"] = name
        self.replicas.append(app)
        return app

    def wait_serving(self, worker: WorkerProc, timeout: float = 60) -> None:
        """Wait until a worker announced itself in the workers table (it is healthy: it claims turns)."""
        store = self.store()
        wait_for(
            lambda: any(w.pid == worker.proc.pid and not w.draining for w in store.workers()),
            timeout,
            f"worker {worker.proc.pid} to serve",
            step=0.2,
        )
