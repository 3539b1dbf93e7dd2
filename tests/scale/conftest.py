"""Session fixtures for the team topology on loopback: PostgreSQL, moto's S3 server, the emulator, two app
replicas and two run workers, each replica and worker with its own data directory (its own 'machine')."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from lib import blobs
from lib.emulator import Emulator, Pacing
from lib.settings import Settings, load_settings
from lib.store import Store
from tests.e2e.conftest import App
from tests.runs import upload

from .services import Postgres, S3Server, WorkerProc, postgres_available, replica

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

    def add_worker(self) -> WorkerProc:
        """One more worker process."""
        # a directory of its own, even after a killed worker left the list
        worker = WorkerProc(self.root / f"worker{len(list(self.root.glob('worker*')))}", self.worker_env()).start()
        self.workers.append(worker)
        return worker

    def add_replica(self) -> App:
        """One more app replica."""
        app = replica(self.root / f"replica{len(list(self.root.glob('replica*')))}", self.env(), self.emulator)
        self.replicas.append(app)
        return app


@pytest.fixture(scope="session")
def team(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Team]:
    """PostgreSQL, S3, the emulator (paced like a model, slower code), two workers and two replicas."""
    if not postgres_available():
        pytest.skip("PostgreSQL's initdb and pg_ctl are not installed (apt-get install postgresql)")
    root = tmp_path_factory.mktemp("team")
    pg = Postgres().start()
    s3 = S3Server(root / "s3").start()
    emu = Emulator(pacing=Pacing(text_chunk_delay=0.01, code_delay=0.5))
    emu.start()
    try:
        url = pg.create("analyst")
        s3.bucket(BUCKET)
        found = Team(pg, s3, emu, url, f"s3://{BUCKET}/team", root)
        found.add_worker()
        found.add_worker()
        found.add_replica()
        found.add_replica()
        yield found
    finally:
        for app in found.replicas if "found" in locals() else []:
            app.proc.terminate()
        for worker in found.workers if "found" in locals() else []:
            worker.stop()
        emu.stop()
        s3.stop()
        pg.stop()
