"""Files API and models endpoints of lib.emulator, driven through the real anthropic SDK."""

from __future__ import annotations

import io
from collections.abc import Iterator

import anthropic
import pytest
from anthropic.types import FileExpiredError, FileNotDownloadableError, ModelCapabilities
from PIL import Image

from lib.emulator import Emulator, Python

TOOLS = [{"type": "code_execution_20260521", "name": "code_execution"}]
PNG_CODE = """\
import os
import matplotlib.pyplot as plt
fig, ax = plt.subplots()
ax.plot([1, 2, 3], [3, 1, 2])
fig.savefig(os.path.join(os.environ["OUTPUT_DIR"], "line.png"))
print("saved")
"""


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(max_file_bytes=10_000) as emulator:
        yield emulator


@pytest.fixture
def client(emu: Emulator) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=emu.url, api_key="test-key", max_retries=0)


def _upload(client: anthropic.Anthropic, name: str = "sales.csv", data: bytes = b"a,b\n1,2\n") -> str:
    return client.files.upload(file=(name, data, "text/csv")).id


def _generated_png(emu: Emulator, client: anthropic.Anthropic) -> str:
    # Really runs matplotlib in a subprocess (~0.8 s).
    emu.queue_script([Python(PNG_CODE)])
    message = client.messages.create(
        model="claude-opus-4-8",
        max_tokens=1024,
        tools=TOOLS,
        messages=[{"role": "user", "content": "plot"}],
    )
    return message.content[1].content.content[0].file_id


def test_upload_tuple_returns_metadata(client: anthropic.Anthropic) -> None:
    meta = client.files.upload(file=("sales.csv", b"month,sales\n1,10\n2,12\n", "text/csv"))
    assert meta.id.startswith("file_011")
    assert meta.type == "file"
    assert meta.filename == "sales.csv"
    assert meta.mime_type == "text/csv"
    assert meta.size_bytes == 22
    assert meta.downloadable is False
    assert meta.expires_at is None
    assert meta._request_id and meta._request_id.startswith("req_")
    assert client.files.retrieve_metadata(meta.id).filename == "sales.csv"


def test_upload_with_expiry_and_detected_mime_types(client: anthropic.Anthropic) -> None:
    meta = client.files.upload(
        file=("blob.bin", b"\x89PNG\r\n\x1a\n" + b"0" * 20, "application/octet-stream"), expires_in_seconds=7200
    )
    assert meta.mime_type == "image/png"
    assert meta.expires_at is not None and meta.expires_at > meta.created_at
    assert client.files.upload(file=("d.json", b'{"a": 1}', "text/plain")).mime_type == "application/json"
    assert client.files.upload(file=("t.parquet", b"PAR1xxxxPAR1")).mime_type == "application/vnd.apache.parquet"


def test_bad_filename_is_400(client: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.BadRequestError):
        client.files.upload(file=("bad:name.csv", b"a\n1\n", "text/csv"))


def test_upload_over_max_size_is_413(client: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.ContentTooLargeError) as info:
        client.files.upload(file=("big.csv", b"x" * 20_000, "text/csv"))
    assert info.value.status_code == 413
    assert info.value.type == "request_too_large"


def test_list_pages_with_limit_two_until_next_page_is_null(emu: Emulator, client: anthropic.Anthropic) -> None:
    ids = [_upload(client, f"p{i}.csv") for i in range(5)]
    emu.clear_requests()
    seen = [f.id for f in client.files.list(limit=2)]
    assert set(ids) <= set(seen)
    assert len(seen) == len(set(seen)) == len(emu.files)
    assert seen[:5] == ids[::-1], "newest first"
    pages = [r.query for r in emu.requests if r.path == "/v1/files"]
    assert len(pages) == -(-len(seen) // 2)
    assert pages[0] == {"limit": ["2"]}
    assert pages[1]["page"][0].startswith("page_")


def test_list_by_ids_drops_unknown(client: anthropic.Anthropic) -> None:
    a, b = _upload(client, "a.csv"), _upload(client, "b.csv")
    page = client.files.list(ids=[a, b, "file_011doesnotexist"])
    assert [f.id for f in page.data] == [b, a]
    assert page.next_page is None


def test_list_rejects_before_id(client: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.BadRequestError):
        client.files.list(extra_query={"before_id": "file_x"})


def test_download_generated_png(emu: Emulator, client: anthropic.Anthropic) -> None:
    file_id = _generated_png(emu, client)
    meta = client.files.retrieve_metadata(file_id)
    assert (meta.filename, meta.mime_type, meta.downloadable) == ("line.png", "image/png", True)
    response = client.files.download(file_id)
    assert response.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(response.read()))
    assert image.format == "PNG" and image.size[0] > 100


def test_download_of_upload_is_not_downloadable(client: anthropic.Anthropic) -> None:
    file_id = _upload(client)
    with pytest.raises(FileNotDownloadableError) as info:
        client.files.download(file_id)
    assert info.value.status_code == 400
    assert info.value.error_code == "file_not_downloadable"


def test_download_of_expired_file_is_404_file_expired(emu: Emulator, client: anthropic.Anthropic) -> None:
    file_id = _generated_png(emu, client)
    emu.expire_file(file_id)
    with pytest.raises(FileExpiredError) as info:
        client.files.download(file_id)
    assert info.value.status_code == 404
    assert info.value.error_code == "file_expired"
    assert client.files.retrieve_metadata(file_id).id == file_id, "metadata stays readable"


def test_delete_then_404(client: anthropic.Anthropic) -> None:
    file_id = _upload(client)
    deleted = client.files.delete(file_id)
    assert (deleted.id, deleted.type) == (file_id, "file_deleted")
    with pytest.raises(anthropic.NotFoundError) as info:
        client.files.retrieve_metadata(file_id)
    assert info.value.type == "not_found_error"
    assert info.value.api_message == f"File `{file_id}` not found."
    assert info.value.request_id and info.value.request_id.startswith("req_")


def test_models_list_and_retrieve(client: anthropic.Anthropic) -> None:
    models = list(client.models.list(limit=2))
    assert [m.id for m in models] == [
        "claude-opus-4-8",
        "claude-sonnet-4-8",
        "claude-haiku-4-5",
        "claude-3-haiku-20240307",
    ]
    assert models[0].display_name == "Claude Opus 4.8"
    assert client.models.retrieve("claude-haiku-4-5").display_name == "Claude Haiku 4.5"
    with pytest.raises(anthropic.NotFoundError):
        client.models.retrieve("claude-nope-1")


def test_models_report_capabilities_in_the_sdk_shape(client: anthropic.Anthropic) -> None:
    models = {m.id: m for m in client.models.list()}
    assert all(isinstance(m.capabilities, ModelCapabilities) for m in models.values())
    code_execution = {i: m.capabilities.server_tools.code_execution.supported for i, m in models.items()}
    assert code_execution == {
        "claude-opus-4-8": True,
        "claude-sonnet-4-8": True,
        "claude-haiku-4-5": True,
        "claude-3-haiku-20240307": False,
    }
    old = models["claude-3-haiku-20240307"].capabilities
    assert old.thinking.types.disabled.supported and not old.thinking.types.enabled.supported
    assert models["claude-opus-4-8"].capabilities.effort.high.supported
    # Every required key is present: validating the raw JSON against the SDK type raises on a missing one.
    raw = client.models.with_raw_response.retrieve("claude-3-haiku-20240307").http_response.json()
    ModelCapabilities.model_validate(raw["capabilities"])


def test_code_execution_on_a_model_without_it_is_400(client: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.BadRequestError) as info:
        client.messages.create(
            model="claude-3-haiku-20240307", max_tokens=10, tools=TOOLS, messages=[{"role": "user", "content": "x"}]
        )
    assert "claude-3-haiku-20240307" in info.value.api_message


def test_no_anthropic_beta_header_is_sent(emu: Emulator, client: anthropic.Anthropic) -> None:
    _upload(client)
    list(client.files.list())
    assert emu.requests
    assert all("anthropic-beta" not in r.headers for r in emu.requests)


def test_auth_bearer_and_x_api_key() -> None:
    with Emulator(api_key="right") as emu:
        with pytest.raises(anthropic.AuthenticationError) as info:
            anthropic.Anthropic(base_url=emu.url, api_key="wrong", max_retries=0).files.list()
        assert info.value.type == "authentication_error"
        assert emu.requests[-1].headers["authorization"] == "Bearer wrong"
        good = anthropic.Anthropic(base_url=emu.url, api_key="right", max_retries=0)
        assert good.files.list().data == []
        via_header = anthropic.Anthropic(
            base_url=emu.url,
            api_key="ignored",
            max_retries=0,
            default_headers={"authorization": anthropic.Omit(), "x-api-key": "right"},
        )
        assert via_header.models.list().data
        assert "authorization" not in emu.requests[-1].headers
        assert emu.requests[-1].headers["x-api-key"] == "right"
