"""Team services as processes on loopback: a throwaway PostgreSQL cluster, moto's S3 server, app replicas and
run workers. Facts, not fixtures: `conftest.py` wires them into a session."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import requests

from tests.support.browser import REPO, App, free_port, start_app
from tests.support.runs import wait_for

PG_VERSIONS = Path("/usr/lib/postgresql")  # Debian's packages: <version>/bin, not on PATH


def _pg(tool: str) -> str:
    """A PostgreSQL program: on PATH, else from the newest installed version; the bare name if neither."""
    found = shutil.which(tool)
    if found:
        return found
    installed = [path for path in PG_VERSIONS.glob(f"*/bin/{tool}") if os.access(path, os.X_OK)]
    installed.sort(key=lambda path: _version(path.parents[1].name), reverse=True)
    return str(installed[0]) if installed else tool


def _version(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in name.split(".") if part.isdigit())


def postgres_available() -> bool:
    """Whether initdb and pg_ctl are on this machine."""
    return all(shutil.which(_pg(tool)) for tool in ("initdb", "pg_ctl"))


def _as_postgres(args: list[str]) -> list[str]:
    # the server refuses to run as root; a `postgres` user runs it on a directory it owns
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@dataclass
class Postgres:
    """A PostgreSQL cluster in a temporary directory on a free port; `options` are server settings (`-c`)."""

    root: Path = Path()
    port: int = 0
    options: dict[str, str] = field(default_factory=dict)

    def start(self) -> Postgres:
        """initdb, start on 127.0.0.1, wait until it answers."""
        # directly under the temp directory: the postgres user must be able to reach it
        self.root = Path(tempfile.mkdtemp(prefix="analyst-pg-"))
        self.root.chmod(0o755)
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self.port = free_port()
        data = self.root / "cluster"
        subprocess.run(
            _as_postgres([_pg("initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync"]),
            check=True,
            capture_output=True,
        )
        opts = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        opts += "".join(f" -c {name}={value}" for name, value in self.options.items())
        subprocess.run(
            _as_postgres([_pg("pg_ctl"), "-D", str(data), "-w", "-l", str(self.root / "pg.log"), "-o", opts, "start"]),
            check=True,
            capture_output=True,
        )
        return self

    def create(self, name: str) -> str:
        """A new database; returns its SQLAlchemy URL."""
        subprocess.run(
            _as_postgres([_pg("createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name]),
            check=True,
            capture_output=True,
        )
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"

    @property
    def log_path(self) -> Path:
        """The server's log."""
        return self.root / "pg.log"

    def stop(self) -> None:
        """Stop at once."""
        subprocess.run(
            _as_postgres([_pg("pg_ctl"), "-D", str(self.root / "cluster"), "-m", "immediate", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(self.root, ignore_errors=True)


@dataclass
class S3Server:
    """moto's standalone S3 server on a free port."""

    root: Path
    port: int = 0
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """Its endpoint."""
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        """What points boto3 and s3fs at it."""
        return {
            "AWS_ENDPOINT_URL": self.url,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_DEFAULT_REGION": "us-east-1",
        }

    def start(self) -> S3Server:
        """Start and wait until it answers."""
        self.root.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        log = open(self.root / "moto.log", "w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        wait_for(self._answers, 30, "moto's S3 server to answer", step=0.2)
        return self

    def _answers(self) -> bool:
        """Whether the server answers HTTP yet."""
        try:
            requests.get(self.url, timeout=1)
        except requests.RequestException:
            return False
        return True

    def bucket(self, name: str) -> None:
        """Create a bucket."""
        requests.put(f"{self.url}/{name}", timeout=10).raise_for_status()

    def stop(self) -> None:
        """Stop it."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


@dataclass
class WorkerProc:
    """A `python -m lib.worker` process (`args`: its command-line options)."""

    root: Path
    env: dict[str, str]
    args: list[str] = field(default_factory=list)
    proc: subprocess.Popen | None = None
    name: str = ""  # what its database connections are called

    def start(self) -> WorkerProc:
        """Start it (it logs to worker.log in its directory)."""
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "data").mkdir(exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "ANALYST_"))}
        env.update(self.env, ANALYST_DATA_DIR=str(self.root / "data"), PYTHONUNBUFFERED="1", MPLBACKEND="Agg")
        log = open(self.root / "worker.log", "a")
        command = [sys.executable, "-m", "lib.worker", *self.args]
        self.proc = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=log)
        log.close()
        return self

    def log(self) -> str:
        """What it printed."""
        return (self.root / "worker.log").read_text(errors="replace")

    def kill(self) -> None:
        """kill -9."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        """Stop gracefully."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


def replica(root: Path, env: dict[str, str], emulator, port: int = 0) -> App:
    """`streamlit run app.py` pointed at the emulator and the team services, with its own data directory."""
    return start_app(root, emulator=emulator, env_extra=env, port=port)


def named(url: str, name: str) -> str:
    """A database URL whose connections show as `name` in pg_stat_activity and the server's log."""
    return f"{url}{'&' if '?' in url else '?'}application_name={name}"
