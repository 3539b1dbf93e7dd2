"""A run shared read-only, opened by another signed-in user: no control to change it, and what the pages read
from the session, forged to name the owner's things, is refused by lib."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
from streamlit.testing.v1 import AppTest

from lib import identity
from lib.emulator import Emulator
from lib.identity import User
from lib.runs import options, threads
from lib.runs.threads import Job
from lib.storage.records import ArtifactFilter
from lib.storage.store import Store
from lib.storage.users import store_for, welcome
from lib.transcript import GeneratedFile, Text, Usage
from lib.ui import signin
from tests.support.apptest import ANALYZE, GALLERY, has_key, page_text, run

pytestmark = pytest.mark.auth

ISSUER = "https://idp.example.com"
ALICE = identity.from_claims({"iss": ISSUER, "sub": "a", "email": "alice@example.com"}, frozenset())
BOB = identity.from_claims({"iss": ISSUER, "sub": "b", "email": "bob@example.com"}, frozenset())


def _run(store: Store, question: str, status: str = "done") -> tuple[str, int]:
    """A run of the store's owner: an answer, a kept chart (in the gallery) and a file whose download was cut;
    returns its id and the chart's artifact id."""
    run = store.create_run(question, "claude-sonnet-4-6", "code_execution_20260521", [])
    idx = store.add_turn(run.id, question, [{"type": "text", "text": question}])
    rel = f"artifacts/{run.id}/file_{run.id[:6]}_chart.png"
    (store.data_dir / rel).parent.mkdir(parents=True, exist_ok=True)
    (store.data_dir / rel).write_bytes(b"\x89PNG\r\n\x1a\n")
    kept = GeneratedFile(f"file_{run.id[:6]}", "chart.png", "image/png", 8, rel, "srvtoolu_1")
    cut = GeneratedFile("file_cut", "table.csv", "text/csv", 0, "", "srvtoolu_1", "The connection was cut.", True)
    for seq, item in enumerate([Text(text=f"The answer to {question}"), kept, cut]):
        store.put_item(run.id, idx, seq, item)
    store.add_artifact(run.id, idx, kept.file_id, kept.filename, kept.mime_type, 8, rel, kept.tool_use_id)
    store.update_turn(run.id, idx, status=status, usage=Usage(input_tokens=10, output_tokens=5))
    store.update_run(run.id, status=status)
    (art,) = store.artifacts(ArtifactFilter(run_id=run.id))[0]
    return run.id, art.id


@pytest.fixture
def as_user(
    monkeypatch: pytest.MonkeyPatch, make_app: Callable[..., AppTest], emulator: Emulator
) -> Callable[[User], AppTest]:
    """A fresh session of the app signed in as `user`."""

    def build(user: User) -> AppTest:
        monkeypatch.setattr(signin, "current_user", lambda admins: user)
        return run(make_app(emulator))

    return build


@pytest.fixture
def live_job() -> Iterator[Callable[[str], None]]:
    """Make a run's turn look worked on by a thread of this process until the test ends."""
    gate = threading.Event()

    def hold(run_id: str) -> None:
        job = Job(run_id, thread=threading.Thread(target=gate.wait, daemon=True))
        assert job.thread is not None
        job.thread.start()
        threads.register(job)

    yield hold
    gate.set()


def _open(at: AppTest, page: str, **params: str) -> AppTest:
    at.switch_page(page)
    for name, value in params.items():
        at.query_params[name] = value
    return run(at)


def _controls(at: AppTest) -> dict[str, bool]:
    """Which of the controls that change a run the page offers."""
    return {
        "retry": any(b.label == "Retry download" for b in at.button),
        "stop": has_key(at, "button", "analyze_stop"),
        "budget": has_key(at, "button", "analyze_budget_save"),
        "follow-up": has_key(at, "chat_input", "analyze_followup"),
        "delete": any("Delete" in b.label for b in at.button),
    }


def test_a_reader_of_a_shared_run_has_no_controls_and_forged_ids_are_refused(data_dir, as_user, live_job):
    base = Store(data_dir)
    alice, bob = store_for(base, ALICE), store_for(base, BOB)
    welcome(alice, ALICE)
    welcome(bob, BOB)
    done, chart = _run(alice, "Which region sells most?")
    live, _ = _run(alice, "And by month?", status="running")
    live_job(live)
    for run_id in (done, live):
        options.set_shared(alice, run_id, True)
    private, _ = _run(alice, "What is private?")
    _run(bob, "Bob's own question")  # so that Bob's gallery has a page to act on

    # the owner has every control: Retry and Budget on the finished run, Stop on the live one
    at = as_user(ALICE)
    assert _controls(_open(at, ANALYZE, run=done)) == {
        "retry": True,
        "stop": False,
        "budget": True,
        "follow-up": True,
        "delete": False,
    }
    assert _controls(_open(at, ANALYZE, run=live))["stop"]

    # the reader reads both, with none of them
    at = as_user(BOB)
    _open(at, ANALYZE, run=done)
    assert "Shared read-only by alice@example.com" in page_text(at) and "The answer to" in page_text(at)
    assert not any(_controls(at).values()), _controls(at)
    _open(at, ANALYZE, run=live)
    assert "The answer to And by month?" in page_text(at)
    assert not any(_controls(at).values()), _controls(at)

    # forged: the URL names Alice's run that is not shared
    _open(at, ANALYZE, run=private)
    assert "That run was not found" in page_text(at) and "What is private?" not in page_text(at)
    assert not any(_controls(at).values()), _controls(at)

    # forged: the session state the gallery reads names Alice's chart as opened and ticked; lib finds nothing
    # of Bob's by that id, so nothing opens and nothing is offered to zip or delete
    at.session_state["gallery_open"] = chart
    at.session_state[f"gallery_sel_{chart}"] = True
    _open(at, GALLERY)
    assert [h.value for h in at.subheader] == [], "Alice's chart opened for Bob"
    assert (
        at.download_button(key="gallery_zip").label == "Download 0 as zip" and at.button(key="gallery_delete").disabled
    )
    assert alice.artifact(chart) is not None and (data_dir / alice.artifact(chart).path).exists()
    assert alice.run(done).status == "done" and alice.run(live).status == "running"
    assert [t.status for t in alice.turns(live)] == ["running"] and not alice.turn_state(live).stop_requested
