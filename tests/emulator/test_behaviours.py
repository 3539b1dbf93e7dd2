"""Real-API edges the emulator produces on request, as the real anthropic SDK sees them on the wire."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import anthropic
import httpx2
import pytest
from anthropic.types import CitationCharLocation, CitationContentBlockLocation

from lib.emulator import Bash, Emulator, Fault, Python, Text
from lib.emulator.faults import CONTENT
from lib.emulator.long_stream import event_heavy_script, record
from lib.emulator.script import Later
from lib.emulator.sse import parse_events

MODEL = "claude-opus-4-8"
TOOLS = [{"type": "code_execution_20260521", "name": "code_execution"}]
HELLO = [{"role": "user", "content": "hello"}]
WRITE_FILE = "import os\nopen(os.path.join(os.environ['OUTPUT_DIR'], '{name}'), 'wb').write(b'x' * {size})\nprint('ok')"
ERROR_TYPES = [
    "overloaded_error",
    "api_error",
    "rate_limit_error",
    "invalid_request_error",
    "authentication_error",
    "permission_error",
    "not_found_error",
    "request_too_large",
    "billing_error",
    "timeout_error",
]


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator() as emulator:
        yield emulator


@pytest.fixture
def client(emu: Emulator) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=emu.url, api_key="test-key", max_retries=0)


def _sse(client: anthropic.Anthropic, **kwargs: object) -> list[tuple[str, dict]]:
    """The raw SSE events of one streamed request."""
    with client.messages.with_streaming_response.create(stream=True, **kwargs) as response:  # type: ignore[call-overload]
        return parse_events(response.read())


def _turn(client: anthropic.Anthropic, container: str | None = None) -> anthropic.types.Message:
    extra = {"container": container} if container else {}
    return client.messages.create(model=MODEL, max_tokens=100, tools=TOOLS, messages=HELLO, **extra)


def _generated(emu: Emulator, client: anthropic.Anthropic, name: str = "out.bin", size: int = 200_000) -> str:
    emu.queue_script([Python(WRITE_FILE.format(name=name, size=size))])
    return _turn(client).content[1].content.content[0].file_id


# sparse usage


def test_sparse_usage_sends_input_and_cache_counts_only_in_message_start(
    emu: Emulator, client: anthropic.Anthropic
) -> None:
    emu.queue_script([Text("counted")])
    emu.inject(Fault("sparse_usage"))
    events = dict(_sse(client, model=MODEL, max_tokens=10, messages=HELLO))
    start = events["message_start"]["message"]["usage"]
    assert start["input_tokens"] > 0 and start["cache_creation_input_tokens"] > 0
    assert start["cache_read_input_tokens"] > 0
    assert set(events["message_delta"]["usage"]) == {"output_tokens", "server_tool_use"}


def test_sparse_usage_final_message_keeps_message_start_counts(emu: Emulator, client: anthropic.Anthropic) -> None:
    emu.queue_script([Text("counted")])
    emu.inject(Fault("sparse_usage"))
    with client.messages.stream(model=MODEL, max_tokens=10, messages=HELLO) as stream:
        events = list(stream)
        message = stream.get_final_message()
    start = next(e for e in events if e.type == "message_start").message.usage
    delta = next(e for e in events if e.type == "message_delta").usage
    assert delta.input_tokens is None and delta.cache_read_input_tokens is None
    assert (message.usage.cache_read_input_tokens, message.usage.cache_creation_input_tokens) == (
        start.cache_read_input_tokens,
        start.cache_creation_input_tokens,
    )
    assert message.usage.output_tokens == delta.output_tokens
    # The next response is back to full usage in message_delta.
    emu.queue_script([Text("again")])
    usage = dict(_sse(client, model=MODEL, max_tokens=10, messages=HELLO))["message_delta"]["usage"]
    assert {"input_tokens", "cache_read_input_tokens", "output_tokens"} <= set(usage)


def test_sparse_usage_non_stream_message_has_every_count(emu: Emulator, client: anthropic.Anthropic) -> None:
    emu.queue_script([Text("counted")])
    emu.inject(Fault("sparse_usage"))
    usage = client.messages.create(model=MODEL, max_tokens=10, messages=HELLO).usage
    assert usage.input_tokens > 0 and usage.output_tokens > 0
    assert usage.cache_creation_input_tokens > 0 and usage.cache_read_input_tokens > 0


# refused containers


def test_expired_container_is_400_invalid_request_naming_it(emu: Emulator, client: anthropic.Anthropic) -> None:
    emu.queue_script([Text("first")])
    first = _turn(client)
    emu.expire_container(first.container.id)
    with pytest.raises(anthropic.BadRequestError) as info:
        _turn(client, first.container.id)
    assert (info.value.type, info.value.error_code) == ("invalid_request_error", None)
    assert f"`{first.container.id}`" in info.value.api_message


@pytest.mark.parametrize(
    ("status", "error", "error_type", "names_container"),
    [
        (400, anthropic.BadRequestError, "invalid_request_error", True),
        (404, anthropic.NotFoundError, "not_found_error", True),
        (500, anthropic.InternalServerError, "api_error", False),
    ],
)
def test_refuse_container_applies_only_to_requests_with_a_container(
    emu: Emulator,
    client: anthropic.Anthropic,
    status: int,
    error: type[anthropic.APIStatusError],
    error_type: str,
    names_container: bool,
) -> None:
    emu.queue_script([Text("first")])
    first = _turn(client)
    emu.inject(Fault("refuse_container", status=status, times=2))
    emu.queue_script([Text("no container, not refused")])
    assert _turn(client).content[0].text == "no container, not refused"
    for _ in range(2):
        with pytest.raises(error) as info:
            _turn(client, first.container.id)
        assert info.value.status_code == status and info.value.type == error_type
        assert (first.container.id in info.value.api_message) is names_container
    if status == 500:
        assert info.value.api_message == "Internal server error"
    emu.queue_script([Text("the container works again")])
    assert _turn(client, first.container.id).content[0].text == "the container works again"


def test_refused_500_is_retried_by_the_sdk_like_any_5xx(emu: Emulator) -> None:
    client = anthropic.Anthropic(base_url=emu.url, api_key="k", max_retries=2)
    emu.queue_script([Text("first")])
    first = _turn(client)
    emu.inject(Fault("refuse_container", status=500, times=3))
    with pytest.raises(anthropic.InternalServerError):
        _turn(client, first.container.id)
    assert sum(1 for r in emu.requests if r.path == "/v1/messages") == 4


@pytest.mark.parametrize(
    ("form", "step", "result_type"),
    [
        ("code_execution", Python("print('never runs')"), "code_execution_tool_result_error"),
        ("bash", Python("print('never runs')"), "bash_code_execution_tool_result_error"),
        ("code_execution", Bash("echo never runs"), "bash_code_execution_tool_result_error"),
    ],
)
def test_container_expired_tool_result(
    emu: Emulator, client: anthropic.Anthropic, form: str, step: Python | Bash, result_type: str
) -> None:
    emu.python_form = form  # type: ignore[assignment]
    emu.inject(Fault("container_expired_result"))
    emu.queue_script([Text("Running."), step, Python("print('after')")])
    message = _turn(client)
    error, after = message.content[2].content, message.content[4].content
    assert (error.type, error.error_code) == (result_type, "container_expired")
    assert after.stdout == "after\n", "only the next code step is affected"
    assert emu.containers[message.container.id].expires_at.timestamp() < time.time()
    with pytest.raises(anthropic.BadRequestError) as info:
        _turn(client, message.container.id)
    assert message.container.id in info.value.api_message


# downloads


def test_a_cut_download_announces_the_whole_file_and_sends_half(emu: Emulator, client: anthropic.Anthropic) -> None:
    file_id = _generated(emu, client)
    emu.inject(Fault("cut", path=CONTENT))
    received = 0
    with client.files.with_streaming_response.download(file_id) as response:
        assert response.headers["content-length"] == "200000"
        with pytest.raises(httpx2.RemoteProtocolError, match="received 100000 bytes, expected 200000"):
            for chunk in response.iter_bytes():
                received += len(chunk)
    assert received == 100_000
    emu.inject(Fault("cut", path=CONTENT))
    with pytest.raises(anthropic.APIConnectionError):
        client.files.download(file_id)
    assert len(client.files.download(file_id).read()) == 200_000, "faults are used up"


def test_a_cut_on_downloads_is_not_used_up_by_metadata_requests(emu: Emulator, client: anthropic.Anthropic) -> None:
    file_id = _generated(emu, client)
    emu.inject(Fault("cut", path=CONTENT))
    assert client.files.retrieve_metadata(file_id).size_bytes == 200_000
    with pytest.raises(anthropic.APIConnectionError):
        client.files.download(file_id)


def test_status_and_slow_faults_on_the_content_path(emu: Emulator, client: anthropic.Anthropic) -> None:
    file_id = _generated(emu, client, size=10)
    emu.inject(Fault("status", path="/v1/files/*/content", status=503))
    with pytest.raises(anthropic.InternalServerError) as info:
        client.files.download(file_id)
    assert info.value.status_code == 503
    emu.inject(Fault("slow", path="/v1/files/*/content", delay=2.0))
    with pytest.raises(anthropic.APITimeoutError):
        client.with_options(timeout=0.3).files.download(file_id)
    assert client.files.download(file_id).read() == b"x" * 10


def test_not_downloadable_fault_marks_the_next_generated_file(emu: Emulator, client: anthropic.Anthropic) -> None:
    emu.inject(Fault("not_downloadable"))
    emu.queue_script([Python(WRITE_FILE.format(name="a.txt", size=3)), Python(WRITE_FILE.format(name="b.txt", size=3))])
    message = _turn(client)
    first, second = (b.content.content[0].file_id for b in message.content if b.type.endswith("_result"))
    assert client.files.retrieve_metadata(first).downloadable is False
    with pytest.raises(anthropic.BadRequestError) as info:
        client.files.download(first)
    assert info.value.error_code == "file_not_downloadable"
    assert client.files.retrieve_metadata(second).downloadable is True
    assert client.files.download(second).read() == b"xxx"


# errors inside a stream


@pytest.mark.parametrize("error_type", ERROR_TYPES)
def test_stream_error_event_carries_its_type(emu: Emulator, client: anthropic.Anthropic, error_type: str) -> None:
    emu.queue_script([Text("one two three four five six seven eight nine ten eleven twelve")])
    emu.inject(Fault("stream_error", error_type=error_type, message=f"{error_type} happened", after_events=4))
    texts: list[str] = []
    with pytest.raises(anthropic.APIStatusError) as info:
        with client.messages.stream(model=MODEL, max_tokens=10, messages=HELLO) as stream:
            texts.extend(stream.text_stream)
    assert (info.value.status_code, info.value.type) == (200, error_type)
    assert info.value.body["error"] == {"type": error_type, "message": f"{error_type} happened"}
    assert texts == ["one two three four "]


def test_stream_error_default_message_follows_its_type(emu: Emulator, client: anthropic.Anthropic) -> None:
    emu.inject(Fault("stream_error", error_type="rate_limit_error", after_events=1))
    events = _sse(client, model=MODEL, max_tokens=10, messages=HELLO)
    assert [name for name, _ in events] == ["message_start", "error"]
    assert events[-1][1]["error"]["type"] == "rate_limit_error"
    assert "rate limit" in events[-1][1]["error"]["message"]


def test_stream_error_on_a_non_stream_request_is_its_http_status(emu: Emulator, client: anthropic.Anthropic) -> None:
    emu.inject(Fault("stream_error", error_type="api_error"))
    with pytest.raises(anthropic.InternalServerError) as info:
        client.messages.create(model=MODEL, max_tokens=10, messages=HELLO)
    assert (info.value.status_code, info.value.type) == (500, "api_error")


# Python block forms


def test_python_form_code_execution_is_the_default(emu: Emulator, client: anthropic.Anthropic) -> None:
    assert emu.python_form == "code_execution"
    emu.queue_script([Python(WRITE_FILE.format(name="c.txt", size=2))])
    use, result = _turn(client).content
    assert (use.name, use.input) == ("code_execution", {"code": WRITE_FILE.format(name="c.txt", size=2)})
    assert (result.type, result.content.type) == ("code_execution_tool_result", "code_execution_result")
    assert result.content.content[0].type == "code_execution_output"


@pytest.mark.parametrize("tool", ["code_execution_20260120", "code_execution_20260521"])
def test_python_form_bash_runs_python_through_bash(tool: str) -> None:
    with Emulator(python_form="bash") as emu:
        client = anthropic.Anthropic(base_url=emu.url, api_key="k", max_retries=0)
        code = WRITE_FILE.format(name="b.txt", size=2)
        emu.queue_script([Python(code)])
        use, result = client.messages.create(
            model=MODEL, max_tokens=10, tools=[{"type": tool, "name": "code_execution"}], messages=HELLO
        ).content
    assert use.name == "bash_code_execution"
    assert use.input["command"] == f"python3 - <<'EOF'\n{code}\nEOF"
    assert (result.type, result.content.type) == ("bash_code_execution_tool_result", "bash_code_execution_result")
    assert result.content.stdout == "ok\n"
    assert result.content.content[0].type == "bash_code_execution_output"


def test_python_form_is_settable_and_checked(emu: Emulator, client: anthropic.Anthropic) -> None:
    emu.python_form = "bash"
    emu.queue_script([Python("print(1)")])
    assert _turn(client).content[0].name == "bash_code_execution"
    emu.python_form = "code_execution"
    emu.queue_script([Python("print(1)")])
    assert _turn(client).content[0].name == "code_execution"
    with pytest.raises(ValueError, match="python_form"):
        emu.python_form = "repl"  # type: ignore[assignment]


def test_20250825_has_only_the_bash_form(emu: Emulator, client: anthropic.Anthropic) -> None:
    emu.queue_script([Python("print(1)")])
    tools = [{"type": "code_execution_20250825", "name": "code_execution"}]
    use = client.messages.create(model=MODEL, max_tokens=10, tools=tools, messages=HELLO).content[0]
    assert use.name == "bash_code_execution"


# citations

CITATIONS = [
    {
        "type": "char_location",
        "cited_text": "Revenue is in EUR.",
        "document_index": 0,
        "document_title": "notes.txt",
        "start_char_index": 0,
        "end_char_index": 18,
        "file_id": None,
    },
    {
        "type": "content_block_location",
        "cited_text": "Sales rose 12% in March.",
        "document_index": 1,
        "document_title": "report",
        "start_block_index": 2,
        "end_block_index": 3,
    },
]


def test_citations_stream_as_deltas_and_end_up_in_the_text_block(emu: Emulator, client: anthropic.Anthropic) -> None:
    emu.queue_script([Text("Revenue is reported in euros and rose in March.", citations=CITATIONS), Text("Done.")])
    raw = _sse(client, model=MODEL, max_tokens=10, messages=HELLO)
    deltas = [data["delta"] for name, data in raw if name == "content_block_delta" and data["index"] == 0]
    assert [d["citation"] for d in deltas if d["type"] == "citations_delta"] == CITATIONS
    emu.queue_script([Text("Revenue is reported in euros and rose in March.", citations=CITATIONS), Text("Done.")])
    with client.messages.stream(model=MODEL, max_tokens=10, messages=HELLO) as stream:
        seen = [e for e in stream if e.type == "citation"]
        message = stream.get_final_message()
    assert len(seen) == 2
    cited, plain = message.content
    assert isinstance(cited.citations[0], CitationCharLocation) and cited.citations[0].end_char_index == 18
    assert isinstance(cited.citations[1], CitationContentBlockLocation) and cited.citations[1].start_block_index == 2
    assert cited.text == "Revenue is reported in euros and rose in March." and not plain.citations


def test_citations_in_a_non_stream_message(emu: Emulator, client: anthropic.Anthropic) -> None:
    emu.queue_script([Text("Revenue is in EUR.", citations=CITATIONS[:1])])
    block = client.messages.create(model=MODEL, max_tokens=10, messages=HELLO).content[0]
    assert [c.cited_text for c in block.citations] == ["Revenue is in EUR."]


# long recorded streams


def test_event_heavy_script_streams_about_the_asked_number_of_events(emu: Emulator) -> None:
    raw = record(emu, event_heavy_script(events=1_500, cells=4))
    events = parse_events(raw)
    assert abs(len(events) - 1_500) <= 30
    assert sum(1 for name, _ in events if name == "content_block_delta") > 1_300
    assert events[-1][0] == "message_stop"


def test_replay_serves_a_recording_verbatim_through_the_sdk(emu: Emulator, client: anthropic.Anthropic) -> None:
    raw = record(emu, event_heavy_script(events=400, cells=2))
    emu.queue_replay(raw, event_delay=0.001)
    with client.messages.with_streaming_response.create(
        model=MODEL, max_tokens=10, messages=HELLO, stream=True
    ) as response:
        assert response.read() == raw
    emu.queue_replay(raw)
    with client.messages.stream(model=MODEL, max_tokens=10, messages=HELLO) as stream:
        message = stream.get_final_message()
    assert [b.type for b in message.content].count("code_execution_tool_result") == 2
    assert message.content[-1].text.startswith("w2.0 w2.1")


# serving


def test_many_held_streams_do_not_starve_other_requests(emu: Emulator, client: anthropic.Anthropic) -> None:
    """More streams than anyio's default 40 worker threads wait at once; other requests still get answers."""
    gate = threading.Event()
    streams = 50
    started = threading.Semaphore(0)

    def wait_at_gate(turn: object) -> list:
        started.release()
        gate.wait(30)
        return [Text("released")]

    finished: list[str] = []

    def run() -> None:
        with client.messages.stream(model=MODEL, max_tokens=10, tools=TOOLS, messages=HELLO) as stream:
            finished.append(stream.get_final_text())

    for _ in range(streams):
        emu.queue_script([Text("waiting"), Later(wait_at_gate)])
    threads = [threading.Thread(target=run) for _ in range(streams)]
    try:
        for thread in threads:
            thread.start()
        for _ in range(streams):
            assert started.acquire(timeout=20), "not every stream reached the gate"
        assert client.files.list().data == []
        emu.queue_script([Text("still served")])
        assert client.messages.create(model=MODEL, max_tokens=10, messages=HELLO).content[0].text == "still served"
    finally:
        gate.set()
        for thread in threads:
            thread.join(30)
    assert finished == ["waitingreleased"] * streams


@pytest.mark.parametrize("record", [True, False])
def test_recording_keeps_requests_and_first_delta_times_only_when_on(record: bool) -> None:
    with Emulator(record=record) as emu:
        client = anthropic.Anthropic(base_url=emu.url, api_key="k", max_retries=0)
        client.files.upload(file=("a.csv", b"a,b\n1,2\n", "text/csv"))
        emu.queue_script([Text("hi")])
        with client.messages.stream(model=MODEL, max_tokens=10, messages=HELLO) as stream:
            assert stream.get_final_text() == "hi"
    assert [r.path for r in emu.requests] == (["/v1/files", "/v1/messages"] if record else [])
    assert len(emu.first_delta_at) == (1 if record else 0)


def test_chunked_upload_over_the_limit_is_413_without_content_length() -> None:
    with Emulator(max_file_bytes=100_000) as emu:
        boundary = "b0undary"
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n\r\n'.encode()

        def body() -> Iterator[bytes]:
            yield head
            for _ in range(100):
                yield b"x" * 10_000

        response = httpx2.post(
            emu.url + "/v1/files",
            content=body(),
            headers={"x-api-key": "k", "content-type": f"multipart/form-data; boundary={boundary}"},
        )
    assert response.status_code == 413
    assert response.json()["error"]["type"] == "request_too_large"


def test_stop_is_quick_with_a_stream_still_open() -> None:
    emu = Emulator()
    emu.start()
    client = anthropic.Anthropic(base_url=emu.url, api_key="k", max_retries=0)
    gate = threading.Event()
    emu.queue_script([Text("open"), Later(lambda turn: [Text("x")] if gate.wait(10) else [])])
    stream = client.messages.stream(model=MODEL, max_tokens=10, tools=TOOLS, messages=HELLO).__enter__()
    next(iter(stream))
    began = time.monotonic()
    emu.stop()
    took = time.monotonic() - began
    gate.set()
    stream.close()
    assert took < 3, f"stop() took {took:.1f} s"


def test_cli_module_serves(tmp_path: object) -> None:
    import subprocess
    import sys

    proc = subprocess.Popen(
        [sys.executable, "-m", "lib.emulator", "--port", "0"], stdout=subprocess.PIPE, text=True, cwd="."
    )
    try:
        url = proc.stdout.readline().strip() if proc.stdout else ""
        assert url.startswith("http://127.0.0.1:")
        models = anthropic.Anthropic(base_url=url, api_key="k", max_retries=0).models.list()
        assert json.loads(models.to_json())["data"]
    finally:
        proc.terminate()
        proc.wait(10)


def test_code_runs_without_the_apps_secrets_in_its_environment(
    emu: Emulator, client: anthropic.Anthropic, monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets = {
        "ANTHROPIC_API_KEY": "sk-ant-secret",
        "AWS_SECRET_ACCESS_KEY": "aws-secret",
        "ANALYST_DATABASE_URL": "postgresql+psycopg://app:db-password@db/analyst",
    }
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    emu.queue_script(
        [
            Python("import json, os\nprint(json.dumps(dict(os.environ)))"),
            Bash("env"),
        ]
    )
    python, bash = [b.content.stdout for b in _turn(client).content if b.type.endswith("_tool_result")]
    seen = json.loads(python)
    assert not set(secrets) & set(seen) and not [v for v in secrets.values() if v in python + bash]
    assert seen["OUTPUT_DIR"].endswith("outputs") and seen["MPLBACKEND"] == "Agg" and seen["PATH"]
