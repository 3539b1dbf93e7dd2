"""The Emulator: owns the stores, queues and the HTTP server thread."""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

from .analyst import plan
from .app import Recorded, build_app
from .containers import ContainerInfo, ContainerRegistry
from .faults import Fault, FaultQueue
from .files import FileStore, StoredFile
from .ids import Clock, IdFactory, system_clock
from .messages import MessagesEndpoint, ScriptQueue
from .models import DEFAULT_MODELS
from .pacing import Pacing
from .runner import python_bin_dir
from .script import Planner, Step, held_script
from .server import ServerThread
from .sse import parse_events
from .turn import PythonForm, TurnSettings


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
        planner: Planner | None = None,
        python_form: PythonForm = "code_execution",
        record: bool = True,
        tool_wait_timeout: float = 600.0,
    ) -> None:
        self.api_key = api_key
        self.pacing = pacing
        self.max_file_bytes = max_file_bytes
        self.code_timeout = code_timeout
        self.models = list(models) if models is not None else list(DEFAULT_MODELS)
        self.host, self.port = host, port
        self.ids = IdFactory(seed)
        self.faults = FaultQueue()
        # Off for a long-lived server (the demo): every request body, uploads included, would stay in memory.
        self.record = record
        self.requests: list[Recorded] = []  # only when recording
        self.first_delta_at: dict[str, float] = {}  # request id -> when its first content delta was sent; ditto
        self._requests_lock = threading.Lock()
        self._own_workdir = workdir is None
        self.workdir = Path(tempfile.mkdtemp(prefix="anthropic-emulator-")) if workdir is None else Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._files = FileStore(self.ids, clock)
        self._containers = ContainerRegistry(self.workdir / "containers", self.ids, clock, container_ttl)
        self._scripts = ScriptQueue()
        self.settings = TurnSettings(
            self._files,
            self.ids,
            pacing,
            code_timeout,
            python_bin_dir(self.workdir),
            self.faults,
            self._containers,
            tool_wait_timeout=tool_wait_timeout,
        )
        self._messages = MessagesEndpoint(self.settings, self._containers, self._scripts, planner or plan)
        self.python_form = python_form
        self._server: ServerThread | None = None
        self.url = ""

    @property
    def planner(self) -> Planner:
        """Plans the steps of a turn no script was queued for: (question, uploaded filenames) -> steps."""
        return self._messages.planner

    @planner.setter
    def planner(self, planner: Planner) -> None:
        self._messages.planner = planner

    @property
    def python_form(self) -> PythonForm:
        """How Python steps come back under code_execution_20260120+: `code_execution` or `bash` blocks."""
        return self.settings.python_form

    @python_form.setter
    def python_form(self, form: PythonForm) -> None:
        if form not in ("code_execution", "bash"):
            raise ValueError(f"python_form must be 'code_execution' or 'bash', not {form!r}")
        self.settings.python_form = form

    def start(self) -> str:
        """Start serving in a daemon thread; returns the base URL."""
        if self._server is None:
            self._server = ServerThread(build_app(self), self.host, self.port)
            self._server.start()
            self.port = self._server.port
            self.url = f"http://{self.host}:{self.port}"
        return self.url

    def stop(self) -> None:
        """Stop serving and remove the working directory if the emulator made it."""
        if self._server is not None:
            self._server.stop()
            self._server = None
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

    def queue_replay(self, raw: bytes, event_delay: float = 0.0) -> None:
        """The next streamed /v1/messages request is answered with a recorded SSE body (see `long_stream`),
        one event every `event_delay` seconds, whatever it asks."""
        self._messages.queue_replay(parse_events(raw), event_delay)

    @contextmanager
    def held_analysis(self, question: str, uploaded: list[str]) -> Iterator[threading.Event]:
        """The next turn plays the planner's analysis but holds after its first step until the block ends
        (or the yielded event is set), so a test can act on the run while it is certainly still going."""
        gate = threading.Event()
        self.queue_script(held_script(self.planner, question, uploaded, gate))
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
        if not self.record:
            return
        with self._requests_lock:
            self.requests.append(request)
