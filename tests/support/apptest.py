"""AppTest helpers: the whole Streamlit app driven headless against the emulator, and what the page tests read."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from streamlit.testing.v1 import AppTest

from lib.runs import jobs
from tests.support.runs import messages_requests

REPO = Path(__file__).resolve().parents[2]


APP = str(REPO / "app.py")


FILES = "pages/1_Files.py"


ANALYZE = "pages/2_Analyze.py"


GALLERY = "pages/3_Gallery.py"


SAMPLES = REPO / "samples"


SALES = SAMPLES / "monthly_sales.csv"


SALES_ROWS = 576


def ok(at: AppTest) -> AppTest:
    """Assert the last run raised nothing; return the app for chaining."""
    assert not at.exception, [e.value for e in at.exception]
    return at


def run(at: AppTest) -> AppTest:
    """Run and check for exceptions."""
    return ok(at.run())


def wait_until(at: AppTest, cond: Callable[[AppTest], bool], timeout: float = 30.0, step: float = 0.2) -> AppTest:
    """Re-run the page (what the run_every fragment does in a browser) until `cond` holds."""
    deadline = time.monotonic() + timeout
    while True:
        run(at)
        if cond(at):
            return at
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s; markdown={texts(at)[:20]}")
        time.sleep(step)


def texts(at: AppTest) -> list[str]:
    """Every markdown, caption, info, warning, error and success text on the page."""
    out: list[str] = []
    for kind in (at.markdown, at.caption, at.info, at.warning, at.error, at.success):
        out.extend(str(e.value) for e in kind)
    return out


def page_text(at: AppTest) -> str:
    """All visible text of the page as one string."""
    return "\n".join(texts(at) + [str(c.value) for c in at.code])


def query_param(at: AppTest, name: str) -> str:
    """One query parameter of the page's URL ("" when it is not there)."""
    value = at.query_params.get(name)
    if isinstance(value, list):
        value = value[0] if value else ""
    return value or ""


def run_id(at: AppTest) -> str:
    """The run shown on the Analyze page (query parameter `run`)."""
    return query_param(at, "run")


messages_posts = messages_requests  # the name the page tests know it by


def run_status(at: AppTest) -> str:
    """The run's status label in the header (e.g. 'done', 'stopped')."""
    for md in at.markdown:
        v = str(md.value)
        if v.startswith(":") and "● " in v:
            return v.split("● ", 1)[1].rstrip("]")
    return ""


def upload(at: AppTest, files: list[tuple[str, bytes, str]]) -> AppTest:
    """Choose files in the Files page uploader (does not press Upload)."""
    at.file_uploader[0].set_value(files)
    return run(at)


def upload_and_submit(at: AppTest, files: list[tuple[str, bytes, str]]) -> AppTest:
    """Choose files and press Upload."""
    upload(at, files)
    at.button(key="files_upload").click()
    return run(at)


def start_analysis(at: AppTest, question: str | None = None, prompt: str | None = "prompt_first_look") -> str:
    """On the Analyze page (files already selected): fill the question, press Run; returns the run id."""
    if question is not None:
        at.text_area(key="analyze_question").input(question)
        run(at)
    elif prompt:
        at.button(key=prompt).click()
        run(at)
    at.button(key="analyze_run").click()
    run(at)
    rid = run_id(at)
    assert rid, "no run id in the URL after Run"
    return rid


def upload_sales_and_open_analyze(at: AppTest) -> AppTest:
    """Upload the monthly sales sample on the Files page and open Analyze with it selected."""
    at.switch_page(FILES)
    run(at)
    upload_and_submit(at, [("monthly_sales.csv", SALES.read_bytes(), "text/csv")])
    at.button(key="files_analyze").click()
    run(at)
    at.switch_page(ANALYZE)
    return run(at)


def finish(at: AppTest, rid: str, timeout: float = 30.0) -> AppTest:
    """Wait for the run's thread, then re-render until the page is static again."""
    assert jobs.wait(rid, timeout=timeout), "run did not finish"
    return wait_until(at, lambda a: run_status(a) not in ("", "running", "queued") and not _has_stop(a), 10)


def _has_stop(at: AppTest) -> bool:
    try:
        at.button(key="analyze_stop")
    except KeyError:
        return False
    return True


def has_key(at: AppTest, kind: str, key: str) -> bool:
    """Whether a widget with this key is on the page."""
    try:
        getattr(at, kind)(key=key)
    except KeyError:
        return False
    return True


class MediaCapture:
    """What the app handed Streamlit's media file manager: image bytes by URL, download callables by id, and the
    MIME type of each by file name (by URL or id when it has none)."""

    def __init__(self) -> None:
        self.by_url: dict[str, tuple[bytes, str]] = {}
        self.deferred: dict[str, Callable[[], object]] = {}
        self.mimetypes: dict[str, str] = {}

    def image_bytes(self, url: str) -> bytes:
        """The bytes behind an `at.image[i].value[j]` URL."""
        return self.by_url[url][0]

    def download(self, button) -> bytes:
        """The bytes a click on this download button would deliver (static or deferred)."""
        proto = button.proto
        if proto.url:
            return self.by_url[proto.url][0]
        assert proto.deferred_file_id, "download button has neither data nor a deferred callable"
        data = self.deferred[proto.deferred_file_id]()
        if isinstance(data, str):
            return data.encode()
        if hasattr(data, "read"):
            data = data.read()
        return bytes(data)
