"""Files page in Chromium: a large CSV dropped shows its first rows and estimated size before the whole file has
been read, then the exact figures replace the estimates by themselves."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
from playwright.sync_api import Page, expect

from tests.support.browser import wait_for_app_run
from tests.support.pages import main, open_app, seed_file, sidebar_link

pytestmark = pytest.mark.browser

ROWS = 1_800_000  # about 110 MB: its whole reading takes a while, its first look does not

# Notes, as the page changes, when each state is first seen (a state may last less than a poll would catch).
WATCH = """() => {
  window.__seen = {};
  const mark = (key, extra) => { if (!(key in window.__seen)) window.__seen[key] = [performance.now(), extra]; };
  const check = () => {
    for (const m of document.querySelectorAll('[data-testid="stMetric"]')) {
      const text = m.innerText;
      if (text.includes('Rows') && text.includes('about')) mark('estimate', text);
      if (text.includes('Rows') && text.includes('1,800,000') && !text.includes('about')) mark('exact', text);
    }
    if (document.querySelector('[data-testid="stExpander"] [data-testid="stDataFrame"]')) mark('rows', '');
    if (document.body.innerText.includes('Reading the whole file for its exact profile')) mark('reading', '');
  };
  new MutationObserver(check).observe(document.body, {childList: true, subtree: true, characterData: true});
}"""


@pytest.fixture(scope="module")
def large_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(4)
    path = tmp_path_factory.mktemp("large") / "orders_2025.csv"
    with open(path, "w") as handle:
        for start in range(0, ROWS, 300_000):
            n = min(300_000, ROWS - start)
            pd.DataFrame(
                {
                    "order_id": np.arange(start, start + n),
                    "date": (np.datetime64("2025-01-01") + rng.integers(0, 365, n)).astype(str),
                    "region": np.array(["North", "South", "East", "West"])[rng.integers(0, 4, n)],
                    "customer": np.char.add("C", rng.integers(0, 90_000, n).astype(str)),
                    "amount": rng.normal(250, 80, n).round(2),
                    "units": rng.integers(1, 50, n),
                }
            ).to_csv(handle, index=False, header=start == 0)
    return path


def test_a_large_csv_shows_its_first_rows_before_its_profile_completes(page: Page, fast_app, large_csv, shot):
    small = large_csv.with_name("regions.csv")
    small.write_bytes(b"region,target\nNorth,5\nSouth,7\n")
    seed_file(fast_app, small)  # a library to come back to, as an analyst has
    open_app(page, fast_app)
    sidebar_link(page, "Files")
    page.evaluate(WATCH)
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(large_csv))
    exact = main(page).get_by_test_id("stMetric").filter(has_text=re.compile(r"^Rows\s*1,800,000$"))
    expect(exact).to_be_visible(timeout=180_000)
    wait_for_app_run(page)
    expect(main(page).get_by_test_id("stMetric").filter(has_text="about")).to_have_count(0)
    seen = page.evaluate("window.__seen")
    assert {"estimate", "rows", "reading", "exact"} <= set(seen), seen
    assert seen["rows"][0] < seen["exact"][0] and seen["estimate"][0] < seen["exact"][0], seen
    assert seen["reading"][0] < seen["exact"][0], "the progress of the whole reading was shown"
    # the first rows shown are those of the first look: the file's own first rows
    grid = main(page).get_by_test_id("stExpander").first.get_by_test_id("stDataFrame").first
    grid.scroll_into_view_if_needed()
    expect(grid).to_contain_text("2025-")
    estimate = int(seen["estimate"][1].split("about", 1)[1].split()[0].replace(",", ""))
    assert abs(estimate - ROWS) < 0.1 * ROWS, seen["estimate"]
    expect(main(page).get_by_role("button", name="Upload 1 file to the Files API")).to_be_enabled()
    expect(main(page).get_by_text("Identifier-like column: order_id").first).to_be_visible()
    shot("files_first_look_exact")
