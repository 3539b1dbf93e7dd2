"""Runs an ASGI app under uvicorn in a daemon thread, on a socket bound up front (so port 0 works)."""

from __future__ import annotations

import logging
import socket
import threading
import time

import uvicorn
from starlette.types import ASGIApp

# uvicorn reports a response left unfinished on purpose (a `cut` fault) as an error; it is not one here.
_CUT_NOTICE = "ASGI callable returned without completing response."


class _QuietCuts(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != _CUT_NOTICE


_quiet = _QuietCuts()


class ServerThread:
    """uvicorn (h11, asyncio) serving `app` on host:port in a daemon thread."""

    def __init__(self, app: ASGIApp, host: str, port: int) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        # An explicit IPPROTO_TCP makes asyncio set TCP_NODELAY on accepted connections (it checks `proto`);
        # without it, headers and body in separate writes wait ~40 ms for delayed ACKs.
        self._socket = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        self.port: int = self._socket.getsockname()[1]
        config = uvicorn.Config(
            app,
            http="h11",
            loop="asyncio",
            ws="none",
            lifespan="on",
            log_config=None,
            access_log=False,
            server_header=False,
            date_header=False,
            # Clients keep connections open between requests, as with the real API.
            timeout_keep_alive=300,
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, name="anthropic-emulator", daemon=True
        )
        logging.getLogger("uvicorn.error").addFilter(_quiet)

    def start(self, timeout: float = 10.0) -> None:
        """Start serving; returns once uvicorn accepts connections."""
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self._socket.close()
                raise RuntimeError("the emulator's HTTP server did not start")
            time.sleep(0.005)

    def stop(self) -> None:
        """Ask uvicorn to exit and wait (briefly) for it."""
        self._server.should_exit = True
        self._thread.join(timeout=5)
        self._socket.close()
