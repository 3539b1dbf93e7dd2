"""The Emulator: owns the stores, queues and the HTTP server thread."""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

from .analyst import held_default_script
from .containers import ContainerInfo, ContainerRegistry
from .faults import Fault, FaultQueue
from .files import FileStore, StoredFile
from .ids import Clock, IdFactory, system_clock
from .messages import MessagesEndpoint, ScriptQueue
from .models import DEFAULT_MODELS
from .pacing import Pacing
from .runner import python_bin_dir
from .script import Step
from .server import EmulatorServer, Recorded
from .turn import TurnSettings


class Emulator:
    """A local server the anthropic SDK cannot tell from the API (files, models, messages)."""

    def __init__(
        self,
        api_key: str | None = None,
        pacing: Pacing = Pacing(),
        container_ttl: float = 3600.0,
        workdir: Path | None = None,
        max_file_bytes: int = 500 * 1024 * 1024,
        code_timeout: float = 60.0,
        models: list[str] | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int | None = None,
        clock: Clock = system_clock,
    ) -> None:
        self.api_key = api_key
        self.pacing = pacing
        self.max_file_bytes = max_file_bytes
        self.code_timeout = code_timeout
        self.models = list(models) if models is not None else list(DEFAULT_MODELS)
        self.host, self.port = host, port
        self.ids = IdFactory(seed)
        self.faults = FaultQueue()
        self.requests: list[Recorded] = []
        self._requests_lock = threading.Lock()
        self._own_workdir = workdir is None
        self.workdir = Path(tempfile.mkdtemp(prefix="anthropic-emulator-")) if workdir is None else Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._files = FileStore(self.ids, clock)
        self._containers = ContainerRegistry(self.workdir / "containers", self.ids, clock, container_ttl)
        self._scripts = ScriptQueue()
        settings = TurnSettings(self._files, self.ids, pacing, code_timeout, python_bin_dir(self.workdir))
        self._messages = MessagesEndpoint(settings, self._containers, self._scripts)
        self._server: EmulatorServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    def start(self) -> str:
        """Start serving in a daemon thread; returns the base URL."""
        if self._server is None:
            self._server = EmulatorServer((self.host, self.port), self)
            self.port = self._server.server_address[1]
            self.url = f"http://{self.host}:{self.port}"
            self._thread = threading.Thread(
                target=self._server.serve_forever, args=(0.05,), name="anthropic-emulator", daemon=True
            )
            self._thread.start()
        return self.url

    def stop(self) -> None:
        """Stop serving and remove the working directory if the emulator made it."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        # A caller-supplied workdir is the caller's: leave the container dirs for inspection.
        if self._own_workdir:
            self._containers.remove_all()
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Emulator:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def queue_script(self, steps: list[Step]) -> None:
        """The next new /v1/messages turn plays these steps instead of the default analyst."""
        self._scripts.put(steps)

    @contextmanager
    def held_analysis(self, question: str, uploaded: list[str]) -> Iterator[threading.Event]:
        """The next turn plays the default analysis but holds after its first sentence until the block ends
        (or the yielded event is set), so a test can act on the run while it is certainly still going."""
        gate = threading.Event()
        self.queue_script(held_default_script(question, uploaded, gate))
        try:
            yield gate
        finally:
            gate.set()

    def inject(self, fault: Fault) -> None:
        """Apply a fault to the next matching request(s)."""
        self.faults.add(fault)

    def expire_container(self, container_id: str) -> None:
        """Make a container expired now."""
        self._containers.expire(container_id)

    def expire_file(self, file_id: str) -> None:
        """Make a file expired now (404 file_expired on download)."""
        self._files.expire(file_id)

    @property
    def containers(self) -> dict[str, ContainerInfo]:
        """Container id -> workdir, expiry and uploaded file ids."""
        return self._containers.snapshot()

    @property
    def files(self) -> Mapping[str, StoredFile]:
        """Read-only view of stored files (metadata and bytes)."""
        return self._files

    def clear_requests(self) -> None:
        """Forget recorded requests."""
        with self._requests_lock:
            self.requests.clear()

    def _record(self, request: Recorded) -> None:
        with self._requests_lock:
            self.requests.append(request)
