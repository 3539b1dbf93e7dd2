"""Session fixtures for the team topology on loopback: PostgreSQL, moto's S3 server, the emulator, two app
replicas and two run workers, each replica and worker with its own data directory (its own 'machine')."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from lib.emulator import Emulator, Pacing
from tests.support.services import Postgres, S3Server, postgres_available
from tests.support.team import BUCKET, Team


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
        for worker in found.workers:
            found.wait_serving(worker)
        yield found
    finally:
        for app in found.replicas if "found" in locals() else []:
            app.proc.terminate()
        for worker in found.workers if "found" in locals() else []:
            worker.stop()
        emu.stop()
        s3.stop()
        pg.stop()
