"""Errors as the user reads them: what happened and what to do, never the server's paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from lib.errors import describe, without_paths

NEAR_LIMIT = "quarterly_revenue_by_region_" + "x" * 218 + ".csv"


def test_errors_never_show_the_servers_paths(data_dir):
    long = data_dir / "artifacts" / "run1" / f"file_011CNha8iCJcU1wXNR6q4V8w_{NEAR_LIMIT}"
    long.parent.mkdir(parents=True)
    try:
        long.write_bytes(b"x")
    except OSError as exc:
        err = describe(exc)
    else:  # pragma: no cover - a file system without the 255-byte limit
        pytest.skip("this file system accepts the name")
    shown = f"{err.title} {err.message} {err.hint}"
    assert str(data_dir) not in shown and "/" not in shown
    assert "File name too long" in err.message
    repo = str(Path(__file__).resolve().parents[1])
    assert without_paths(f"KeyError: '{repo}/data/x y.csv' at {repo}/lib/a.py") == "KeyError: 'x y.csv' at a.py"
    assert without_paths("see https://api.anthropic.com/v1/files, 1/2") == "see https://api.anthropic.com/v1/files, 1/2"
    assert describe(ValueError(f"cannot parse {repo}/data/uploads/a.csv")).message == "ValueError: cannot parse a.csv"
