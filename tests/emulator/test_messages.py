"""Messages with the code execution tool against lib.emulator, through the real SDK.

The default-analyst tests really run pandas and matplotlib in subprocesses, so each takes ~1-2 s.
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import altair
import anthropic
import httpx2
import jsonschema
import pandas as pd
import pytest
from anthropic.types import Message
from PIL import Image

from lib.emulator import Bash, Edit, Emulator, Pause, Python, RawBlock, Text, ToolFailure

MODEL = "claude-opus-4-8"
TOOLS = [{"type": "code_execution_20260521", "name": "code_execution"}]
ROWS = 120
# The default analyst really runs pandas + matplotlib in subprocesses: ~1-3 s per turn.
REAL_ANALYSIS = pytest.mark.timeout(60)


def _sales_csv() -> bytes:
    lines = ["date,region,sales,units"]
    for i in range(ROWS):
        region = "" if i % 10 == 3 else ["north", "south", "east"][i % 3]
        lines.append(f"2025-{1 + i // 10 % 12:02d}-{1 + i % 28:02d},{region},{100 + i * 2.5},{i % 17}")
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator() as emulator:
        yield emulator


@pytest.fixture
def client(emu: Emulator) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=emu.url, api_key="test-key", max_retries=0)


def _ask(file_id: str, question: str = "Give me a first look at this data") -> list[dict]:
    return [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": question},
                {"type": "container_upload", "file_id": file_id},
            ],
        }
    ]


def _results(message: Message) -> list:
    return [b for b in message.content if b.type.endswith("_tool_result")]


def _output_ids(message: Message) -> list[str]:
    ids = []
    for block in _results(message):
        inner = block.content
        ids += [o.file_id for o in getattr(inner, "content", None) or []]
    return ids


@pytest.fixture(scope="module")
def first_turn(emu: Emulator) -> Message:
    client = anthropic.Anthropic(base_url=emu.url, api_key="test-key", max_retries=0)
    file_id = client.files.upload(file=("sales.csv", _sales_csv(), "text/csv")).id
    with client.messages.stream(model=MODEL, max_tokens=4096, tools=TOOLS, messages=_ask(file_id)) as stream:
        kinds = {event.type for event in stream}
        message = stream.get_final_message()
    assert {
        "message_start",
        "content_block_start",
        "content_block_delta",
        "text",
        "input_json",
        "message_delta",
        "message_stop",
    } <= kinds
    return message


@REAL_ANALYSIS
def test_streamed_default_analysis_over_csv(first_turn: Message, client: anthropic.Anthropic) -> None:
    message = first_turn
    types = [b.type for b in message.content]
    assert types[0] == "text" and types[-1] == "text"
    assert "server_tool_use" in types and "code_execution_tool_result" in types
    stdout = "".join(b.content.stdout for b in _results(message))
    assert f"Rows: {ROWS}" in stdout and "Columns: 4" in stdout
    assert "region" in stdout and "Missing values per column" in stdout
    final = message.content[-1].text
    assert f"{ROWS} rows" in final and "`region`" in final
    pngs = [i for i in _output_ids(message) if client.files.retrieve_metadata(i).mime_type == "image/png"]
    assert pngs
    assert Image.open(io.BytesIO(client.files.download(pngs[0]).read())).format == "PNG"
    summaries = [i for i in _output_ids(message) if client.files.retrieve_metadata(i).mime_type == "text/csv"]
    assert summaries and b"missing" in client.files.download(summaries[0]).read()
    assert message.container is not None and message.container.id.startswith("container_011")
    assert message.stop_reason == "end_turn"
    assert message.usage.server_tool_use.code_execution_requests >= 1
    assert message.usage.input_tokens > 0 and message.usage.output_tokens > 0


@REAL_ANALYSIS
def test_default_analysis_saves_a_vega_lite_spec_beside_its_chart(
    first_turn: Message, client: anthropic.Anthropic
) -> None:
    files = {client.files.retrieve_metadata(i).filename: i for i in _output_ids(first_turn)}
    pngs = [name for name in files if name.endswith(".png")]
    assert pngs == ["sales_trend.png"]
    meta = client.files.retrieve_metadata(files["sales_trend.vl.json"])
    assert (meta.mime_type, meta.downloadable) == ("application/json", True)
    spec = json.loads(client.files.download(meta.id).read())
    assert spec["$schema"] == "https://vega.github.io/schema/vega-lite/v5.json"
    line = spec["spec"]["layer"][0]
    assert line["mark"]["type"] == "line"
    assert {line["encoding"]["x"]["type"], line["encoding"]["y"]["type"]} == {"temporal", "quantitative"}
    assert line["encoding"]["y"]["scale"]["zero"] is False, "no zero baseline the PNG does not have"
    panels = spec["facet"]["row"]["sort"]
    assert panels == ["sales (sum per day)", "units (sum per day)"], "the PNG's panels, in its order, totals as sums"
    values = spec["data"]["values"]
    assert values and {"_when", "measure", "value"} <= set(values[0])
    assert {v["measure"] for v in values} == set(panels)
    assert not list(_vega_lite_validator().iter_errors(spec))
    assert "`sales_trend.vl.json`" in first_turn.content[-1].text


def _vega_lite_validator() -> jsonschema.Draft7Validator:
    """The Vega-Lite JSON schema that ships with Altair (v5 specs are valid under it)."""
    schema = Path(altair.__file__).parent / "vegalite" / "v6" / "schema" / "vega-lite-schema.json"
    return jsonschema.Draft7Validator(json.loads(schema.read_text()))


def test_planner_plans_turns_no_script_was_queued_for() -> None:
    asked: list[tuple[str, list[str]]] = []

    def planner(question: str, uploaded: list[str]) -> list:
        asked.append((question, uploaded))
        return [Text(f"planned for {question}")]

    with Emulator(planner=planner) as emu:
        client = anthropic.Anthropic(base_url=emu.url, api_key="k", max_retries=0)
        file_id = client.files.upload(file=("a.csv", b"a\n1\n", "text/csv")).id
        message = client.messages.create(model=MODEL, max_tokens=10, tools=TOOLS, messages=_ask(file_id, "why?"))
        assert message.content[0].text == "planned for why?"
        assert asked == [("why?", ["a.csv"])]
        emu.planner = lambda question, uploaded: [Text("another planner")]
        message = client.messages.create(model=MODEL, max_tokens=10, messages=[{"role": "user", "content": "x"}])
        assert message.content[0].text == "another planner"


@REAL_ANALYSIS
def test_follow_up_in_same_container_sees_turn_one_outputs(
    first_turn: Message, emu: Emulator, client: anthropic.Anthropic
) -> None:
    turn1 = first_turn.to_param()
    messages = [{"role": "user", "content": "first look"}, turn1, {"role": "user", "content": "any anomalies?"}]
    message = client.messages.create(
        model=MODEL, max_tokens=4096, tools=TOOLS, messages=messages, container=first_turn.container.id
    )
    assert message.container.id == first_turn.container.id
    bash = [b for b in _results(message) if b.type == "bash_code_execution_tool_result"]
    listing = bash[0].content.stdout
    names = [client.files.retrieve_metadata(i).filename for i in _output_ids(first_turn)]
    assert names and all(name in listing for name in names)
    new_png = [i for i in _output_ids(message) if client.files.retrieve_metadata(i).filename.endswith(".png")]
    assert new_png and "anomaly" in client.files.retrieve_metadata(new_png[0]).filename
    assert message.content[-1].type == "text"


@REAL_ANALYSIS
def test_held_analysis_streams_its_first_sentence_then_waits_for_the_gate(
    emu: Emulator, client: anthropic.Anthropic
) -> None:
    file_id = client.files.upload(file=("sales.csv", _sales_csv(), "text/csv")).id
    with (
        emu.held_analysis("first look", ["sales.csv"]) as gate,
        client.messages.stream(model=MODEL, max_tokens=4096, tools=TOOLS, messages=_ask(file_id)) as stream,
    ):
        events = iter(stream)
        first_text = next(e for e in events if e.type == "text")
        assert first_text.snapshot.startswith("I'll load `sales.csv`")
        later: list[str] = []
        reader = threading.Thread(target=lambda: later.extend(e.type for e in events))
        reader.start()
        reader.join(1.5)
        assert reader.is_alive() and "content_block_start" not in later, "the turn went on before the gate"
        gate.set()
        reader.join(30)
        assert "content_block_start" in later
        message = stream.get_final_message()
    assert message.stop_reason == "end_turn"
    stdout = "".join(b.content.stdout for b in _results(message))
    assert f"Rows: {ROWS}" in stdout
    assert f"{ROWS} rows" in message.content[-1].text


@REAL_ANALYSIS
def test_non_stream_default_analysis(client: anthropic.Anthropic) -> None:
    file_id = client.files.upload(file=("sales.csv", _sales_csv(), "text/csv")).id
    message = client.messages.create(
        model=MODEL, max_tokens=4096, tools=TOOLS, messages=_ask(file_id, "what drives sales? correlation please")
    )
    stdout = "".join(b.content.stdout for b in _results(message))
    assert f"Rows: {ROWS}" in stdout
    assert "strongest relationship" in message.content[-1].text
    assert any(client.files.retrieve_metadata(i).filename == "sales_correlation.png" for i in _output_ids(message))
    assert message.container is not None
    assert message.usage.server_tool_use.code_execution_requests == 2


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "when": pd.date_range("2024-01-01", periods=40, freq="D"),
            "city": ["Zürich", "Malmö", None, "Köln"] * 10,
            "amount": [float(i % 9) if i % 7 else None for i in range(40)],
            "count": range(40),
        }
    )


def _encoded(kind: str) -> tuple[str, bytes]:
    df = _frame()
    if kind == "latin1_semicolon":
        return "data.csv", df.to_csv(index=False, sep=";").encode("latin-1")
    if kind == "bom_tab":
        return "data.tsv", df.to_csv(index=False, sep="\t").encode("utf-8-sig")
    if kind == "xlsx":
        buffer = io.BytesIO()
        df.to_excel(buffer, index=False)
        return "data.xlsx", buffer.getvalue()
    if kind == "parquet":
        return "data.parquet", df.to_parquet(index=False)
    return "data.json", df.assign(when=df["when"].astype(str)).to_json(orient="records").encode()


@REAL_ANALYSIS
@pytest.mark.parametrize("kind", ["latin1_semicolon", "bom_tab", "xlsx", "parquet", "json"])
def test_default_analyst_reads_each_table_format(kind: str, client: anthropic.Anthropic) -> None:
    name, data = _encoded(kind)
    file_id = client.files.upload(file=(name, data, "application/octet-stream")).id
    message = client.messages.create(
        model=MODEL, max_tokens=4096, tools=TOOLS, messages=_ask(file_id, "show me the trend")
    )
    stdout = "".join(b.content.stdout for b in _results(message))
    assert "Rows: 40" in stdout and "Columns: 4" in stdout, stdout + str(_results(message))
    assert "40 rows" in message.content[-1].text
    assert any(client.files.retrieve_metadata(i).filename == "data_trend.png" for i in _output_ids(message))


@REAL_ANALYSIS
def test_default_analyst_without_a_table_lists_files(client: anthropic.Anthropic) -> None:
    file_id = client.files.upload(file=("notes.txt", b"just some notes\n", "text/plain")).id
    message = client.messages.create(model=MODEL, max_tokens=1024, tools=TOOLS, messages=_ask(file_id))
    listing = _results(message)[0].content.stdout
    assert "notes.txt" in listing
    assert "none of them is a table" in message.content[-1].text


def test_without_code_tool_default_analyst_only_talks(client: anthropic.Anthropic) -> None:
    message = client.messages.create(model=MODEL, max_tokens=100, messages=[{"role": "user", "content": "hi"}])
    assert [b.type for b in message.content] == ["text"]
    assert message.container is None


ALL_STEPS = [
    Text("Working on it."),
    Python("print('py says hi')"),
    Bash("echo bash says hi; echo warn >&2; exit 3"),
    Edit("create", "notes.md", file_text="alpha\nbeta\ngamma\n"),
    Edit("view", "notes.md"),
    Edit("str_replace", "notes.md", old_str="beta", new_str="BETA\nbeta2"),
    Edit("view", "missing.md"),
    *[
        ToolFailure("code_execution", code)
        for code in ("invalid_tool_input", "unavailable", "too_many_requests", "execution_time_exceeded")
    ],
    *[
        ToolFailure("bash_code_execution", code)
        for code in (
            "invalid_tool_input",
            "unavailable",
            "too_many_requests",
            "execution_time_exceeded",
            "output_file_too_large",
        )
    ],
    *[
        ToolFailure("text_editor_code_execution", code)
        for code in (
            "invalid_tool_input",
            "unavailable",
            "too_many_requests",
            "execution_time_exceeded",
            "file_not_found",
        )
    ],
    RawBlock({"type": "mystery_block_2027", "payload": {"x": 1}}),
    Text("Done."),
]


@pytest.mark.parametrize("stream", [True, False])
def test_queued_script_with_every_step_kind_parses(stream: bool, emu: Emulator, client: anthropic.Anthropic) -> None:
    emu.queue_script(ALL_STEPS)
    kwargs = dict(model=MODEL, max_tokens=1024, tools=TOOLS, messages=[{"role": "user", "content": "go"}])
    if stream:
        with client.messages.stream(**kwargs) as s:
            message = s.get_final_message()
    else:
        message = client.messages.create(**kwargs)
    blocks = message.content
    assert blocks[0].text == "Working on it." and blocks[-1].text == "Done."
    assert blocks[1].name == "code_execution" and blocks[1].input == {"code": "print('py says hi')"}
    assert blocks[2].content.stdout == "py says hi\n"
    bash = blocks[4].content
    assert (bash.stdout, bash.stderr, bash.return_code) == ("bash says hi\n", "warn\n", 3)
    assert blocks[5].input == {"command": "create", "path": "notes.md", "file_text": "alpha\nbeta\ngamma\n"}
    assert blocks[6].content.type == "text_editor_code_execution_create_result"
    assert blocks[6].content.is_file_update is False
    view = blocks[8].content
    assert (view.type, view.file_type, view.num_lines, view.start_line, view.total_lines) == (
        "text_editor_code_execution_view_result",
        "text",
        3,
        1,
        3,
    )
    assert view.content == "alpha\nbeta\ngamma\n"
    replace = blocks[10].content
    assert replace.type == "text_editor_code_execution_str_replace_result"
    assert (replace.old_start, replace.old_lines, replace.new_start, replace.new_lines) == (2, 1, 2, 2)
    assert replace.lines == ["-beta", "+BETA", "+beta2"]
    missing = blocks[12].content
    assert (missing.type, missing.error_code) == ("text_editor_code_execution_tool_result_error", "file_not_found")
    errors = [b.content for b in blocks[13:-2] if b.type.endswith("_tool_result")]
    assert [e.error_code for e in errors] == [s.error_code for s in ALL_STEPS if isinstance(s, ToolFailure)]
    assert {e.type for e in errors} == {
        "code_execution_tool_result_error",
        "bash_code_execution_tool_result_error",
        "text_editor_code_execution_tool_result_error",
    }
    unknown = blocks[-2]
    assert unknown.type == "mystery_block_2027"
    assert unknown.to_dict()["payload"] == {"x": 1}
    used = sum(1 for b in blocks if b.type == "server_tool_use")
    assert message.usage.server_tool_use.code_execution_requests == used == 20


def test_encrypted_result_raw_block_parses(emu: Emulator, client: anthropic.Anthropic) -> None:
    emu.queue_script(
        [
            RawBlock(
                {
                    "type": "code_execution_tool_result",
                    "tool_use_id": "srvtoolu_01x",
                    "content": {
                        "type": "encrypted_code_execution_result",
                        "encrypted_stdout": "AbCd==",
                        "stderr": "",
                        "return_code": 0,
                        "content": [],
                    },
                }
            )
        ]
    )
    with client.messages.stream(
        model=MODEL, max_tokens=100, tools=TOOLS, messages=[{"role": "user", "content": "x"}]
    ) as s:
        message = s.get_final_message()
    assert message.content[0].content.type == "encrypted_code_execution_result"
    assert message.content[0].content.encrypted_stdout == "AbCd=="


def test_pause_turn_then_continuation(emu: Emulator, client: anthropic.Anthropic) -> None:
    emu.queue_script(
        [
            Text("Part one."),
            Python("open('state.txt', 'w').write('kept')"),
            Pause(),
            Python("print(open('state.txt').read())"),
            Text("Part two."),
        ]
    )
    messages: list = [{"role": "user", "content": "long job"}]
    first = client.messages.create(model=MODEL, max_tokens=1024, tools=TOOLS, messages=messages)
    assert first.stop_reason == "pause_turn"
    assert [b.type for b in first.content] == ["text", "server_tool_use", "code_execution_tool_result"]
    messages.append(first.to_param())
    with client.messages.stream(
        model=MODEL, max_tokens=1024, tools=TOOLS, messages=messages, container=first.container.id
    ) as s:
        second = s.get_final_message()
    assert second.stop_reason == "end_turn" and second.id != first.id
    assert second.content[1].content.stdout == "kept\n"
    assert second.content[-1].text == "Part two."
    assert second.usage.server_tool_use.code_execution_requests == 1


def test_legacy_20250825_runs_python_through_bash(emu: Emulator, client: anthropic.Anthropic) -> None:
    emu.queue_script([Python("import sys\nprint(sys.version_info[0])")])
    message = client.messages.create(
        model=MODEL,
        max_tokens=100,
        tools=[{"type": "code_execution_20250825", "name": "code_execution"}],
        messages=[{"role": "user", "content": "py"}],
    )
    use, result = message.content
    assert use.name == "bash_code_execution"
    assert use.input["command"].startswith("python3 - <<'EOF'\n") and use.input["command"].endswith("\nEOF")
    assert result.type == "bash_code_execution_tool_result"
    assert result.content.type == "bash_code_execution_result" and result.content.stdout == "3\n"


def test_outputs_dir_env_and_generated_files(emu: Emulator, client: anthropic.Anthropic) -> None:
    emu.queue_script(
        [
            Python(
                "import os\nopen(os.path.join(os.environ['OUTPUT_DIR'], 'r.json'), 'w').write('{}')\n"
                "print(os.environ['MPLBACKEND'])"
            )
        ]
    )
    message = client.messages.create(
        model=MODEL, max_tokens=100, tools=TOOLS, messages=[{"role": "user", "content": "x"}]
    )
    result = message.content[1].content
    assert result.stdout == "Agg\n"
    meta = client.files.retrieve_metadata(result.content[0].file_id)
    assert (meta.filename, meta.mime_type, meta.downloadable) == ("r.json", "application/json", True)
    info = emu.containers[message.container.id]
    assert (info.workdir / "outputs" / "r.json").is_file()


def test_code_timeout_gives_execution_time_exceeded() -> None:
    with Emulator(code_timeout=0.3) as emu:
        client = anthropic.Anthropic(base_url=emu.url, api_key="test-key", max_retries=0)
        emu.queue_script([Python("import time\ntime.sleep(5)")])
        message = client.messages.create(
            model=MODEL, max_tokens=100, tools=TOOLS, messages=[{"role": "user", "content": "sleep"}]
        )
    error = message.content[1].content
    assert (error.type, error.error_code) == ("code_execution_tool_result_error", "execution_time_exceeded")


def test_upload_requires_code_execution_tool(client: anthropic.Anthropic) -> None:
    file_id = client.files.upload(file=("a.csv", b"a\n1\n", "text/csv")).id
    with pytest.raises(anthropic.BadRequestError) as info:
        client.messages.create(model=MODEL, max_tokens=100, messages=_ask(file_id))
    assert "code_execution" in info.value.api_message


def test_unknown_upload_file_is_400(client: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.BadRequestError) as info:
        client.messages.create(model=MODEL, max_tokens=100, tools=TOOLS, messages=_ask("file_011nope"))
    assert "file_011nope" in info.value.api_message


def test_unknown_container_is_400(client: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.BadRequestError) as info:
        client.messages.create(
            model=MODEL,
            max_tokens=100,
            tools=TOOLS,
            container="container_011nope",
            messages=[{"role": "user", "content": "x"}],
        )
    assert info.value.type == "invalid_request_error"


def test_expired_container_is_400_naming_it(emu: Emulator, client: anthropic.Anthropic) -> None:
    emu.queue_script([Text("made a container")])
    first = client.messages.create(
        model=MODEL, max_tokens=100, tools=TOOLS, messages=[{"role": "user", "content": "x"}]
    )
    emu.expire_container(first.container.id)
    with pytest.raises(anthropic.BadRequestError) as info:
        client.messages.create(
            model=MODEL,
            max_tokens=100,
            tools=TOOLS,
            container=first.container.id,
            messages=[{"role": "user", "content": "x"}],
        )
    assert (info.value.type, info.value.error_code) == ("invalid_request_error", None)
    assert info.value.api_message == (
        f"Container `{first.container.id}` has expired and cannot be used; "
        "send the request without `container` to start a new one."
    )


def test_sse_wire_format(emu: Emulator, client: anthropic.Anthropic) -> None:
    emu.queue_script([Text("one two three four five six seven eight nine ten"), Python("print(1)")])
    with client.messages.with_streaming_response.create(
        model=MODEL, max_tokens=100, tools=TOOLS, stream=True, messages=[{"role": "user", "content": "x"}]
    ) as response:
        raw = response.read().decode()
    events = [chunk.split("\n") for chunk in raw.strip().split("\n\n")]
    names = [lines[0].removeprefix("event: ") for lines in events]
    assert names[:2] == ["message_start", "ping"] and names[-2:] == ["message_delta", "message_stop"]
    datas = [json.loads(lines[1].removeprefix("data: ")) for lines in events]
    text_deltas = [d["delta"]["text"] for d in datas if d.get("delta", {}).get("type") == "text_delta"]
    assert len(text_deltas) >= 3 and "".join(text_deltas) == "one two three four five six seven eight nine ten"
    pieces = [d["delta"]["partial_json"] for d in datas if d.get("delta", {}).get("type") == "input_json_delta"]
    assert pieces[0] == "" and len(pieces) >= 3 and json.loads("".join(pieces)) == {"code": "print(1)"}
    result_starts = [
        d
        for d in datas
        if d["type"] == "content_block_start" and d["content_block"]["type"] == "code_execution_tool_result"
    ]
    assert result_starts[0]["content_block"]["content"]["stdout"] == "1\n"
    assert names[names.index("content_block_start", 8) + 1] == "content_block_stop"
    delta = datas[-2]
    assert delta["delta"]["container"]["expires_at"].endswith("Z")
    assert delta["usage"]["server_tool_use"]["code_execution_requests"] == 1


FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "sse"
EXPECTED_STOP = {"pause_turn": "pause_turn"}


@pytest.mark.parametrize(
    "name",
    [
        "text_only",
        "python_png",
        "bash_stderr",
        "editor_ops",
        "tool_errors",
        "encrypted_and_unknown",
        "pause_turn",
        "pause_turn_continuation",
        "legacy_20250825",
    ],
)
def test_recorded_sse_fixture_parses_with_sdk(name: str) -> None:
    """The recorded fixtures (scripts/record_sse_fixtures.py) replay through the SDK's stream parser."""
    raw = (FIXTURES / f"{name}.sse").read_bytes()
    transport = httpx2.MockTransport(
        lambda request: httpx2.Response(200, content=raw, headers={"content-type": "text/event-stream"})
    )
    client = anthropic.Anthropic(
        base_url="http://fixture.test", api_key="k", max_retries=0, http_client=httpx2.Client(transport=transport)
    )
    with client.messages.stream(model=MODEL, max_tokens=10, messages=[{"role": "user", "content": "x"}]) as s:
        message = s.get_final_message()
    assert message.stop_reason == EXPECTED_STOP.get(name, "end_turn")
    assert message.container is not None and message.container.id.startswith("container_011")
    assert message.content
