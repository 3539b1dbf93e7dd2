"""The HTTP face of the emulator: Starlette routes, request recording, auth, faults, and JSON/bytes/SSE replies."""

from __future__ import annotations

import json
import re
import sys
import time
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qs

import anyio
import anyio.to_thread
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Send

from . import files_api, models
from .containers import expired_message, not_found_message
from .errors import ApiError, envelope, status_for
from .faults import Fault, FaultQueue
from .files import StoredFile
from .files_api import Part, Raw
from .ids import IdFactory
from .messages import MessagesEndpoint, Reply
from .pacing import Pacing
from .sse import Event, encode

# Upload bodies this far over the file limit are refused from their Content-Length, unread.
MULTIPART_SLACK = 64 * 1024
# Past this, the refused body is not drained either: the connection is closed after the 413.
DRAIN_LIMIT = 64 * 1024 * 1024
# Worker threads for blocking work (code runs, paced or held streams); anyio's default of 40 would make
# the 41st concurrent stream wait for another to finish.
WORKER_THREADS = 400
_END = object()


@dataclass(frozen=True)
class Recorded:
    """One request as the emulator received it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    json: Any | None
    request_id: str = ""
    received_at: float = 0.0  # epoch seconds


class Served(Protocol):
    """What the HTTP face reads and calls on the emulator it serves: the Emulator, which it does not import."""

    api_key: str | None
    max_file_bytes: int
    models: list[str]
    ids: IdFactory
    faults: FaultQueue
    pacing: Pacing
    record: bool
    first_delta_at: dict[str, float]
    _messages: MessagesEndpoint

    @property
    def files(self) -> Mapping[str, StoredFile]: ...

    def expire_container(self, container_id: str) -> None: ...

    def _record(self, request: Recorded) -> None: ...


@dataclass
class Call:
    """One request as a handler sees it."""

    emu: Served
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    json: Any | None
    params: dict[str, str]
    form: dict[str, Part] | None = None
    fault: Fault | None = None


class Cut(Exception):
    """Raised by a body iterator to drop the connection there (the client sees a truncated body)."""


class CuttableStream(StreamingResponse):
    """A streaming response whose body iterator may raise `Cut`: the response is then left unfinished, and
    uvicorn closes the socket without the final chunk (or short of the Content-Length)."""

    async def stream_response(self, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        body = self.body_iterator
        try:
            async for chunk in body:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        except Cut:
            return
        finally:
            aclose = getattr(body, "aclose", None)
            if aclose is not None:
                await aclose()
        await send({"type": "http.response.body", "body": b"", "more_body": False})


Handler = Callable[[Call], Any]


def build_app(emu: Served) -> Starlette:
    """The Starlette app serving Files, Models and Messages for `emu`."""

    def route(path: str, method: str, handler: Handler, form: bool = False) -> Route:
        return Route(path, _endpoint(emu, handler, form), methods=[method])

    routes = [
        route("/v1/files", "POST", lambda c: files_api.upload(c.emu.files, c.form or {}, c.emu.max_file_bytes), True),
        route("/v1/files", "GET", lambda c: files_api.list_files(c.emu.files, c.query)),
        route("/v1/files/{file_id}", "GET", lambda c: files_api.retrieve(c.emu.files, c.params["file_id"])),
        route("/v1/files/{file_id}", "DELETE", lambda c: files_api.delete(c.emu.files, c.params["file_id"])),
        route("/v1/files/{file_id}/content", "GET", lambda c: files_api.download(c.emu.files, c.params["file_id"])),
        route("/v1/models", "GET", lambda c: models.list_models(c.emu.models, c.query)),
        route("/v1/models/{model_id}", "GET", lambda c: models.get_model(c.emu.models, c.params["model_id"])),
        route("/v1/messages", "POST", _messages),
        route("/v1/messages/count_tokens", "POST", lambda c: {"input_tokens": max(1, len(c.body) // 4)}),
        Route("/{rest:path}", _endpoint(emu, _not_found, False), methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
    ]
    return Starlette(routes=routes, lifespan=_lifespan)


@asynccontextmanager
async def _lifespan(app: Starlette) -> AsyncIterator[None]:
    anyio.to_thread.current_default_thread_limiter().total_tokens = WORKER_THREADS
    yield


def _messages(call: Call) -> Reply:
    if call.json is None:
        raise ApiError(400, "Request body must be valid JSON.")
    sparse = call.fault is not None and call.fault.kind == "sparse_usage"
    return call.emu._messages.handle(call.json, len(call.body), sparse_usage=sparse)


def _not_found(call: Call) -> Any:
    raise ApiError(404, f"Not found: {call.method} {call.path}")


def _endpoint(emu: Served, handler: Handler, form: bool) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        request_id = emu.ids.request()
        method, path = request.method, request.url.path
        query = parse_qs(request.url.query, keep_blank_values=True)
        headers = {k.lower(): v for k, v in request.headers.items()}
        try:
            body = await _read_body(request, emu.max_file_bytes + MULTIPART_SLACK if form else None)
        except ApiError as err:
            emu._record(Recorded(method, path, query, headers, b"", None, request_id, time.time()))
            return _error(err, request_id)
        parsed = _maybe_json(body, headers)
        emu._record(Recorded(method, path, query, headers, body, parsed, request_id, time.time()))
        call = Call(emu, method, path, query, headers, body, parsed, dict(request.path_params))
        fault: Fault | None = None
        try:
            _check_auth(emu, headers)
            has_container = isinstance(parsed, dict) and parsed.get("container") is not None
            fault = emu.faults.take(path, has_container)
            streaming = isinstance(parsed, dict) and bool(parsed.get("stream"))
            if fault is not None:
                await _apply_fault_before(emu, fault, parsed, streaming)
            call.fault = fault
            if form:
                call.form = await _parse_form(request, body)
            result = await run_in_threadpool(handler, call)
        except ApiError as err:
            return _error(err, request_id)
        except Exception:  # noqa: BLE001 - a bug in the emulator must still look like an API error
            traceback.print_exc(file=sys.stderr)
            return _error(ApiError(500, "Internal server error"), request_id)
        return _reply(emu, result, fault, request_id)

    return endpoint


async def _read_body(request: Request, limit: int | None) -> bytes:
    """The whole body; with a limit, 413 from the Content-Length (unread) or once the stream passes it."""
    declared = request.headers.get("content-length", "")
    if limit is not None and declared.isdigit() and int(declared) > limit:
        raise ApiError(
            413,
            f"File exceeds the maximum size of {limit - MULTIPART_SLACK} bytes.",
            headers={"connection": "close"} if int(declared) > DRAIN_LIMIT else None,
        )
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if limit is not None and size > limit:
            raise ApiError(413, f"File exceeds the maximum size of {limit - MULTIPART_SLACK} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)


async def _parse_form(request: Request, body: bytes) -> dict[str, Part]:
    """Multipart form parts by name, parsed by python-multipart (via Starlette)."""
    if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        raise ApiError(400, "Expected a multipart/form-data body with a `file` part.")

    async def once() -> AsyncIterator[bytes]:
        yield body

    parser = MultiPartParser(request.headers, once(), max_part_size=1024 * 1024)
    try:
        form = await parser.parse()
    except MultiPartException as err:
        raise ApiError(400, f"Invalid multipart body: {err.message}") from None
    parts: dict[str, Part] = {}
    try:
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                parts[name] = Part(name, value.filename, value.content_type, await value.read())
            else:
                parts[name] = Part(name, None, None, value.encode())
    finally:
        await form.close()
    return parts


def _check_auth(emu: Served, headers: dict[str, str]) -> None:
    bearer = re.match(r"Bearer\s+(.+)", headers.get("authorization", ""), re.IGNORECASE)
    keys = [k for k in (headers.get("x-api-key"), bearer.group(1).strip() if bearer else None) if k]
    if not keys or (emu.api_key is not None and emu.api_key not in keys):
        raise ApiError(401, "invalid x-api-key")


async def _apply_fault_before(emu: Served, fault: Fault, parsed: Any, streaming: bool) -> None:
    if fault.kind == "status":
        raise ApiError(fault.status or 500, fault.message, error_type=fault.error_type, headers=fault.headers())
    if fault.kind == "expire_container":
        cid = _container_id(parsed)
        if cid is not None:
            emu.expire_container(cid)
    if fault.kind == "refuse_container":
        raise _refusal(fault, _container_id(parsed) or "")
    if not streaming:
        if fault.kind == "stream_error":
            raise _stream_error(fault)
        if fault.kind == "slow":
            await anyio.sleep(fault.delay)


def _stream_error(fault: Fault) -> ApiError:
    """A `stream_error` fault's error: an `event: error` mid-stream, or its HTTP status on a non-stream request."""
    kind = fault.error_type or "overloaded_error"
    return ApiError(fault.status or status_for(kind), fault.message, error_type=kind)


def _refusal(fault: Fault, cid: str) -> ApiError:
    """How the API refuses a request's container, in the registry's words unless the fault has its own."""
    status = fault.status or 400
    if status == 404:
        return ApiError(404, fault.message or not_found_message(cid), error_type=fault.error_type or "not_found_error")
    if status >= 500:
        return ApiError(status, fault.message or "Internal server error", error_type=fault.error_type or "api_error")
    return ApiError(status, fault.message or expired_message(cid), error_type=fault.error_type)


def _container_id(parsed: Any) -> str | None:
    container = parsed.get("container") if isinstance(parsed, dict) else None
    cid = container.get("id") if isinstance(container, dict) else container
    return cid if isinstance(cid, str) else None


def _reply(emu: Served, result: Any, fault: Fault | None, request_id: str) -> Response:
    headers = {"request-id": request_id}
    if isinstance(result, Reply) and result.events is not None:
        headers["cache-control"] = "no-cache"
        first_delta_at = emu.first_delta_at if emu.record else None
        events = _sse(emu.pacing.spread(result.events), fault, request_id, emu.pacing.buffered, first_delta_at)
        return CuttableStream(events, headers=headers, media_type="text/event-stream; charset=utf-8")
    if isinstance(result, Raw):
        data, media_type = result.data, result.content_type
    else:
        data, media_type = _json_bytes(result.body if isinstance(result, Reply) else result), "application/json"
    if fault is not None and fault.kind == "cut":
        # Announce the whole body, send about half of it, then drop the connection.
        headers["content-length"] = str(len(data))
        return CuttableStream(_half_then_cut(data), headers=headers, media_type=media_type)
    return Response(data, headers=headers, media_type=media_type)


async def _half_then_cut(data: bytes) -> AsyncIterator[bytes]:
    yield data[: len(data) // 2]
    raise Cut()


async def _sse(
    events: Iterator[Event],
    fault: Fault | None,
    request_id: str,
    buffered: bool,
    first_delta_at: dict[str, float] | None,
) -> AsyncIterator[bytes]:
    """Wire bytes per event, each sent as it is made; faults cut, fail or slow the stream.

    When the first content delta goes out is noted in `first_delta_at[request_id]` (epoch seconds), if given."""
    held: list[bytes] = []
    sent = 0
    try:
        while True:
            # The script runs code and sleeps for pacing, so each event is made in a worker thread.
            item = await run_in_threadpool(next, events, _END)
            if item is _END:
                break
            if fault is not None and fault.kind == "slow" and fault.delay:
                await anyio.sleep(fault.delay)
            if fault is not None and sent >= fault.after_events:
                if fault.kind == "cut":
                    raise Cut()
                if fault.kind == "stream_error":
                    error = encode("error", _stream_error(fault).body(request_id))
                    if buffered:
                        held.append(error)
                    else:
                        yield error
                    break
            name, data = item
            if buffered:
                held.append(encode(name, data))
            else:
                if name == "content_block_delta" and first_delta_at is not None and request_id not in first_delta_at:
                    first_delta_at[request_id] = time.time()
                yield encode(name, data)
            sent += 1
    except Cut:
        if held:
            yield b"".join(held)
        raise
    except Exception:  # noqa: BLE001 - any failure mid-stream becomes an error event
        traceback.print_exc(file=sys.stderr)
        held.append(encode("error", envelope("api_error", "Internal server error", request_id)))
        if not buffered:
            yield held.pop()
    finally:
        close = getattr(events, "close", None)
        if close is not None:
            try:
                close()
            except ValueError:  # still running in a worker thread that outlived a disconnect
                pass
    if held:  # Pacing.buffered: the whole response in one write
        yield b"".join(held)


def _error(err: ApiError, request_id: str) -> Response:
    return JSONResponse(err.body(request_id), status_code=err.status, headers={**err.headers, "request-id": request_id})


def _json_bytes(body: Any) -> bytes:
    return json.dumps(body).encode()


def _maybe_json(body: bytes, headers: dict[str, str]) -> Any | None:
    if not body or "multipart/" in headers.get("content-type", ""):
        return None
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
