"""When a browser session runs the offline demo, and where the demo keeps its runs."""

from __future__ import annotations

import pytest

from lib import demo
from lib.settings import load_settings
from tests.support.seed import seed_chart_run


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        ({"has_key": True, "started": True, "url_flag": True}, False),
        ({"started": True}, True),
        ({"url_flag": True, "left": True}, True),
        ({"is_demo_run": lambda: True}, True),
        ({"is_demo_run": lambda: True, "left": True}, False),
        ({"is_demo_run": lambda: False}, False),
    ],
)
def test_wanted(kw, expected):
    args = {"has_key": False, "started": False, "left": False, "url_flag": False, "is_demo_run": lambda: False} | kw
    assert demo.wanted(**args) is expected


def test_demo_runs_are_found_in_the_demo_folder_only(data_dir):
    settings = load_settings({}, {"ANALYST_DATA_DIR": str(data_dir)})
    assert demo.data_dir(settings) == data_dir / "demo"
    assert demo.run_count(settings) == 0 and not demo.has_run(settings, "abc")
    assert not (data_dir / "demo").exists()  # looking does not create it
    rid = seed_chart_run(data_dir / "demo", demo=True)
    seed_chart_run(data_dir)  # a real run is not the demo's
    assert demo.run_count(settings) == 1 and demo.has_run(settings, rid) and not demo.has_run(settings, "")
