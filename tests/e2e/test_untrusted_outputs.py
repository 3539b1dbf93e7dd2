"""Two signed-in users: one opens a run whose code made a 60,000-column CSV and an 8000×8000 PNG and whose answer
quotes 2e9999999, and compares it; the other's Home and Analyze pages load as usual meanwhile."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
from playwright.sync_api import Browser, BrowserContext, Page, expect

from lib.emulator import Emulator, Pacing, Python, Text
from tests.support.browser import SCREENSHOTS, VIEWPORT, WAIT_MS, App, start_app, wait_for_app_run
from tests.support.model_outputs import HUGE_NUMBER_ANSWER
from tests.support.oidc_provider import ALICE, BOB, OIDCProvider, TestUser, auth_secrets
from tests.support.pages import main, open_app, sidebar_link, wait_until_finished

pytestmark = [pytest.mark.browser, pytest.mark.auth]

DATA = "regions.csv"
QUESTION = "Make the widest table and the biggest chart you can"
# what the emulator's container really runs: the files are made there, as a model's code would make them
HOSTILE_CODE = """\
import os
from PIL import Image, ImageDraw

out = os.environ["OUTPUT_DIR"]
with open(os.path.join(out, "wide.csv"), "w") as f:
    f.write(",".join(f"c{i}" for i in range(60000)) + "\\n")
    for r in range(2):
        f.write(",".join(str((i + r) % 10) for i in range(60000)) + "\\n")
image = Image.new("RGB", (8000, 8000), (240, 240, 250))
draw = ImageDraw.Draw(image)
for n in range(0, 8000, 500):
    draw.line((0, n, 8000, 8000 - n), fill=(30, 110, 200), width=9)
image.save(os.path.join(out, "big.png"))
print("saved wide.csv and big.png")
"""


@pytest.fixture(scope="module")
def two_user_app(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    """The app with sign-in through the test provider, and an emulator that runs code for real."""
    provider = OIDCProvider().start()
    emu = Emulator(pacing=Pacing(text_chunk_delay=0.005, code_delay=0.2))
    emu.start()
    toml = auth_secrets(provider, "http://127.0.0.1:{port}/oauth2callback", secrets.token_hex(16))
    try:
        app = start_app(tmp_path_factory.mktemp("untrusted"), emulator=emu, secrets_toml=toml)
    except BaseException:
        emu.stop()
        provider.stop()
        raise
    provider.redirect_uris.add(f"{app.url}/oauth2callback")
    yield app
    app.stop()
    provider.stop()


def signed_in(browser: Browser, app: App, user: TestUser) -> tuple[BrowserContext, Page]:
    """A fresh browser profile signed in as `user` through the provider's page."""
    ctx = browser.new_context(viewport=VIEWPORT)
    ctx.set_default_timeout(WAIT_MS)
    expect.set_options(timeout=WAIT_MS)
    page = ctx.new_page()
    open_app(page, app)
    page.get_by_role("button", name=re.compile("Sign in$")).click()
    page.get_by_role("button", name=f"Continue as {user.name}").click()
    page.wait_for_url(re.compile(rf"^{re.escape(app.url)}/?$"))
    wait_for_app_run(page)
    expect(page.get_by_test_id("stSidebar").get_by_text(f"Signed in as {user.email}")).to_be_visible()
    return ctx, page


def upload(page: Page, path: Path) -> None:
    """Add one file on the Files page and upload it."""
    sidebar_link(page, "Files")
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(path))
    wait_for_app_run(page)
    main(page).get_by_role("button", name=re.compile("Upload 1 file")).click()
    wait_for_app_run(page)
    expect(main(page).get_by_text(f"{path.name} uploaded")).to_be_visible()


def bob_works_as_usual(bob: Page, app: App) -> None:
    """Bob's Home and Analyze pages, loaded while Alice's run is drawn: what he sees there, in the usual wait."""
    open_app(bob, app)
    expect(main(bob).get_by_role("heading", name="Try a sample dataset")).to_be_visible()
    open_app(bob, app, "Analyze")
    expect(main(bob).get_by_role("heading", name="Analyze")).to_be_visible()
    expect(main(bob).get_by_text("Your library is empty. Upload files first")).to_be_visible()
    expect(bob.get_by_test_id("stSidebar").get_by_text("No runs yet.")).to_be_visible()


def test_a_hostile_run_is_drawn_while_another_user_works_as_usual(
    browser: Browser, two_user_app: App, tmp_path: Path
) -> None:
    data = tmp_path / DATA
    data.write_text("region,sales\nNorth,10\nSouth,12\n")
    (alice_ctx, alice), (bob_ctx, bob) = signed_in(browser, two_user_app, ALICE), signed_in(browser, two_user_app, BOB)
    try:
        upload(alice, data)
        sidebar_link(alice, "Analyze")
        assert two_user_app.emulator is not None
        two_user_app.emulator.queue_script([Python(HOSTILE_CODE), Text(HUGE_NUMBER_ANSWER)])
        expect(main(alice).get_by_text(f"{DATA} (csv)")).to_be_visible()  # the upload is selected for analysis
        box = alice.get_by_label("Your question")
        box.fill(QUESTION)
        box.press("Control+Enter")
        wait_for_app_run(alice)
        main(alice).get_by_role("button", name="Run analysis").click()
        expect(alice).to_have_url(re.compile(r"[?&]run=[0-9a-f]+"))
        run_id = re.search(r"run=([0-9a-f]+)", alice.url).group(1)

        bob_works_as_usual(bob, two_user_app)  # while Alice's run makes its files and her page draws them

        wait_until_finished(alice, timeout=180_000)
        answer = alice.get_by_test_id("stChatMessage").nth(1)
        expect(answer).to_contain_text("saved wide.csv and big.png")
        expect(answer.get_by_text("wide.csv (first rows, first 50 of 60,000 columns)")).to_be_visible()
        expect(answer.get_by_test_id("stDataFrame")).to_have_count(1)
        image = answer.get_by_test_id("stImage").locator("img")
        expect(image).to_have_count(1)
        assert alice.evaluate("i => i.naturalWidth", image.element_handle()) == 1400
        expect(answer).to_contain_text("2e9999999")
        expect(main(alice).get_by_test_id("stException")).to_have_count(0)

        alice.goto(f"{two_user_app.url}/Compare?a={run_id}&b={run_id}")  # the answer's numbers are read now
        bob_works_as_usual(bob, two_user_app)
        wait_for_app_run(alice)
        expect(main(alice).get_by_text("1 number(s) quoted the same in both.")).to_be_visible()
        expect(main(alice).get_by_test_id("stException")).to_have_count(0)
    except BaseException:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        alice.screenshot(path=str(SCREENSHOTS / "FAILED-untrusted-alice.png"))
        bob.screenshot(path=str(SCREENSHOTS / "FAILED-untrusted-bob.png"))
        raise
    finally:
        alice_ctx.close()
        bob_ctx.close()
