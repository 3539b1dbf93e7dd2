"""HTTP plumbing: parse and record requests, auth, faults, routing, and writing JSON/bytes/SSE."""

from __future__ import annotations

import json
import re
import socket
import sys
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from . import files_api, models
from .errors import ApiError, envelope
from .faults import Fault
from .files_api import Raw
from .messages import Reply
from .sse import Event, encode

if TYPE_CHECKING:
    from .emulator import Emulator

# Upload bodies this far over the limit are refused without reading them.
_MULTIPART_SLACK = 64 * 1024
_DRAIN_LIMIT = 64 * 1024 * 1024


@dataclass(frozen=True)
class Recorded:
    """One request as the emulator received it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    json: Any | None


class EmulatorServer(ThreadingHTTPServer):
    """ThreadingHTTPServer that knows its Emulator."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], emulator: Emulator) -> None:
        self.emulator = emulator
        super().__init__(address, Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients dropping idle keep-alive connections is normal, not worth a traceback.
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


class _Closed(Exception):
    """The connection was dropped on purpose (a `cut` fault)."""


class Handler(BaseHTTPRequestHandler):
    """Every request goes through `_handle`."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; without this, delayed ACKs add ~40 ms per request.
    disable_nagle_algorithm = True
    server: EmulatorServer
    server_version = "anthropic-emulator"
    sys_version = ""

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def version_string(self) -> str:
        return self.server_version

    @property
    def emu(self) -> Emulator:
        return self.server.emulator

    def _handle(self) -> None:
        self.request_id = self.emu.ids.request()
        split = urlsplit(self.path)
        path = split.path.rstrip("/") or "/"
        query = parse_qs(split.query, keep_blank_values=True)
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            body = self._read_body(path, headers)
        except ApiError as err:
            self._record(path, query, headers, b"")
            self._send_error(err)
            return
        parsed = _maybe_json(body, headers)
        self._record(path, query, headers, body, parsed)
        try:
            self._check_auth(headers)
            fault = self.emu.faults.take(path)
            if fault is not None:
                self._apply_fault_before(fault, parsed)
            result = self._route(self.command, path, query, headers, body, parsed)
            self._send_result(result, fault, parsed)
        except ApiError as err:
            self._send_error(err)
        except _Closed:
            self._drop()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception:  # noqa: BLE001 - a bug in the emulator must still look like an API error
            traceback.print_exc(file=sys.stderr)
            self._send_error(ApiError(500, "Internal server error"))

    def _read_body(self, path: str, headers: dict[str, str]) -> bytes:
        length = int(headers.get("content-length") or 0)
        if path == "/v1/files" and self.command == "POST" and length > self.emu.max_file_bytes + _MULTIPART_SLACK:
            if length <= _DRAIN_LIMIT:
                self.rfile.read(length)
            else:
                self.close_connection = True
            raise ApiError(413, f"File exceeds the maximum size of {self.emu.max_file_bytes} bytes.")
        return self.rfile.read(length) if length else b""

    def _record(
        self, path: str, query: dict[str, list[str]], headers: dict[str, str], body: bytes, parsed: Any = None
    ) -> None:
        self.emu._record(Recorded(self.command, path, query, headers, body, parsed))

    def _check_auth(self, headers: dict[str, str]) -> None:
        bearer = re.match(r"Bearer\s+(.+)", headers.get("authorization", ""), re.IGNORECASE)
        keys = [k for k in (headers.get("x-api-key"), bearer.group(1).strip() if bearer else None) if k]
        expected = self.emu.api_key
        if not keys or (expected is not None and expected not in keys):
            raise ApiError(401, "invalid x-api-key")

    def _apply_fault_before(self, fault: Fault, parsed: Any) -> None:
        streaming = isinstance(parsed, dict) and bool(parsed.get("stream"))
        if fault.kind == "status":
            status = fault.status or 500
            raise ApiError(status, fault.message, error_type=fault.error_type, headers=fault.headers())
        if fault.kind == "expire_container" and isinstance(parsed, dict):
            container = parsed.get("container")
            cid = container.get("id") if isinstance(container, dict) else container
            if isinstance(cid, str):
                self.emu.expire_container(cid)
        if not streaming:
            if fault.kind == "cut":
                raise _Closed()
            if fault.kind == "stream_error":
                raise ApiError(529, fault.message, error_type=fault.error_type)
            if fault.kind == "slow":
                time.sleep(fault.delay)

    def _route(
        self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str], body: bytes, parsed: Any
    ) -> Any:
        emu = self.emu
        parts = path.strip("/").split("/")
        if parts[:2] == ["v1", "files"]:
            if len(parts) == 2 and method == "POST":
                return files_api.upload(emu.files, headers.get("content-type", ""), body, emu.max_file_bytes)
            if len(parts) == 2 and method == "GET":
                return files_api.list_files(emu.files, query)
            if len(parts) == 3 and method == "GET":
                return files_api.retrieve(emu.files, parts[2])
            if len(parts) == 3 and method == "DELETE":
                return files_api.delete(emu.files, parts[2])
            if len(parts) == 4 and parts[3] == "content" and method == "GET":
                return files_api.download(emu.files, parts[2])
        if parts[:2] == ["v1", "models"] and method == "GET":
            if len(parts) == 2:
                return models.list_models(emu.models, query)
            if len(parts) == 3:
                return models.get_model(emu.models, parts[2])
        if parts == ["v1", "messages"] and method == "POST":
            if parsed is None:
                raise ApiError(400, "Request body must be valid JSON.")
            return emu._messages.handle(parsed, len(body))
        if parts == ["v1", "messages", "count_tokens"] and method == "POST":
            return {"input_tokens": max(1, len(body) // 4)}
        raise ApiError(404, f"Not found: {method} {path}")

    def _send_result(self, result: Any, fault: Fault | None, parsed: Any) -> None:
        if isinstance(result, Raw):
            self._send(200, result.data, result.content_type)
        elif isinstance(result, Reply) and result.events is not None:
            self._send_stream(result.events, fault)
        elif isinstance(result, Reply):
            self._send_json(200, result.body)
        else:
            self._send_json(200, result)

    def _send(self, status: int, data: bytes, content_type: str, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("request-id", self.request_id)
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def _send_json(self, status: int, body: Any, extra: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(body).encode(), "application/json", extra)

    def _send_error(self, err: ApiError) -> None:
        try:
            self._send_json(err.status, err.body(self.request_id), err.headers)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _send_stream(self, events: Iterator[Event], fault: Fault | None) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("request-id", self.request_id)
        self.end_headers()
        self.wfile.flush()
        sent = 0
        held: list[bytes] | None = [] if self.emu.pacing.buffered else None
        emit = self._chunk if held is None else held.append
        try:
            for name, data in events:
                if fault is not None and fault.kind == "slow" and fault.delay:
                    time.sleep(fault.delay)
                if fault is not None and sent >= fault.after_events:
                    if fault.kind == "cut":
                        raise _Closed()
                    if fault.kind == "stream_error":
                        emit(
                            encode(
                                "error",
                                envelope(
                                    fault.error_type or "overloaded_error",
                                    fault.message or "Overloaded",
                                    self.request_id,
                                ),
                            )
                        )
                        break
                emit(encode(name, data))
                sent += 1
        except _Closed:
            raise
        except (BrokenPipeError, ConnectionResetError):
            raise
        except Exception:  # noqa: BLE001 - any failure mid-stream becomes an error event
            traceback.print_exc(file=sys.stderr)
            emit(encode("error", envelope("api_error", "Internal server error", self.request_id)))
        finally:
            close = getattr(events, "close", None)
            if close is not None:
                close()
        if held:  # Pacing.buffered: the whole response in one write
            self.wfile.write(b"".join(f"{len(data):x}\r\n".encode() + data + b"\r\n" for data in held))
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _drop(self) -> None:
        """Close the socket mid-response so the client sees a broken body."""
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _maybe_json(body: bytes, headers: dict[str, str]) -> Any | None:
    if not body or "multipart/" in headers.get("content-type", ""):
        return None
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
