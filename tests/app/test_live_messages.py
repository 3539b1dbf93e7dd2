"""What the server sends the browser for a live page: every element whole, never a reference to the browser's
message cache. When a fragment runs again before its last run's elements are sent, Streamlit 1.67 clears them from
the send queue but keeps such a reference; the browser then has nowhere to put it and the page goes blank."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit import config
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.runtime.forward_msg_cache import populate_hash_if_needed

REPO = Path(__file__).resolve().parents[2]


def _large_element() -> ForwardMsg:
    """A long code cell (360 KB): far over Streamlit's 10 KB threshold for caching."""
    msg = ForwardMsg()
    msg.delta.new_element.code.code_text = "print('a number')\n" * 20_000
    return msg


def _cacheable_under(directory: Path, monkeypatch: pytest.MonkeyPatch) -> bool:
    monkeypatch.chdir(directory)
    config.get_config_options(force_reparse=True)
    msg = _large_element()
    populate_hash_if_needed(msg)
    assert msg.hash
    return msg.metadata.cacheable


def test_the_app_sends_every_element_whole(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    try:
        assert _cacheable_under(tmp_path, monkeypatch), "without the app's configuration, Streamlit would cache it"
        assert not _cacheable_under(REPO, monkeypatch), "with it, the element is sent whole on every draw"
    finally:
        monkeypatch.chdir(REPO)
        config.get_config_options(force_reparse=True)
