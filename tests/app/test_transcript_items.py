"""Every type of transcript item is drawn by the page's renderer."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from tests.support.apptest import run


def _transcript(data_dir: str) -> None:
    from pathlib import Path

    from lib.ui.render import render_item
    from tests.support.items import one_of_each

    for seq, item in enumerate(one_of_each()):
        render_item(item, Path(data_dir), key=f"item_{seq}")


def test_every_item_type_is_drawn(tmp_path: Path) -> None:
    at = AppTest.from_function(_transcript, args=(str(tmp_path),), default_timeout=30)
    run(at)
    assert [m.value for m in at.markdown][:1] == ["The mean is 4.2."]
    assert [e.label for e in at.expander] == ["Reasoning", "Unsupported block: `mystery_block_2027`"]
    assert [c.value for c in at.code] == [
        "print(4.2)",
        "4.2",
        "-a\n+b",
        '{"type": "mystery_block_2027"}',
        "SELECT region, sum(revenue) FROM monthly_sales GROUP BY region",
    ]
    assert any("**SQL** on `demo` · 4 rows in 20 ms" in c.value for c in at.caption)
    assert [e.value for e in at.error] == [
        "**Bash tool error: `unavailable`.** Down. Retry.",
        "**Overloaded.** The API is overloaded.\n\nTry again.",
    ]
    assert [w.value for w in at.warning] == [
        "Could not fetch generated file `lost.csv`. The file is gone.",
        "A new container was started.",
    ]
