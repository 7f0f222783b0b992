"""The forecaster's journey in a real browser: Debian's Chromium driven by Playwright.

Skipped, with the reason, where /usr/bin/chromium is missing, unless
FORECASTS_REQUIRE_BROWSER=1 (as .ci/run sets), which turns the skip into a failure.
Playwright never downloads a browser here: it is pointed at the system one.
"""
from __future__ import annotations

import os
import re
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = Path(os.environ.get("FORECASTS_CHROMIUM", "/usr/bin/chromium"))
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def _unavailable(reason: str) -> None:
    if os.environ.get("FORECASTS_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason}, and FORECASTS_REQUIRE_BROWSER=1 requires the browser tests")
    pytest.skip(f"{reason}: install Debian's chromium package to run the browser tests")


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        _unavailable(f"no Chromium at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def live_server(app):
    """The app on 127.0.0.1 at a free port, served from a thread."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


class Shots:
    """Screenshots of the key pages, written under the test's tmp path if the test fails."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.taken: list[tuple[str, bytes]] = []

    def take(self, page, name: str) -> None:
        self.taken.append((name, page.screenshot(full_page=True)))

    def save(self, page) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        for i, (name, png) in enumerate(self.taken):
            (self.folder / f"{i:02d}-{name}.png").write_bytes(png)
        try:
            page.screenshot(path=str(self.folder / "failure.png"), full_page=True)
        except Exception:  # the page itself may be what broke
            pass
        return self.folder


def _open_page(browser, request, tmp_path, viewport):
    context = browser.new_context(viewport=viewport)
    context.set_default_timeout(10_000)
    page = context.new_page()
    problems: list[str] = []
    # Error statuses are expected where a form is rejected; anything else (a CSP
    # violation, a script error) is a problem.
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" and not
            m.text.startswith("Failed to load resource: the server responded with a status of 4")
            else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.problems = problems
    shots = Shots(tmp_path / "screenshots")
    yield page, shots
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        print(f"screenshots in {shots.save(page)}")
    context.close()


@pytest.fixture
def desktop(browser, request, tmp_path):
    yield from _open_page(browser, request, tmp_path, DESKTOP)


@pytest.fixture
def phone(browser, request, tmp_path):
    yield from _open_page(browser, request, tmp_path, PHONE)


def _charts_loaded(page) -> None:
    for width in page.eval_on_selector_all("figure.chart img", "imgs => imgs.map(i => i.naturalWidth)"):
        assert width > 0, "a chart did not render"


def test_forecaster_journey(desktop, live_server, world):
    page, shots = desktop
    page.goto(live_server + "/")
    shots.take(page, "questions")
    page.click("text=Sign up")
    page.fill("#username", "carol")
    page.fill("#password", "a long enough password")
    page.fill("#confirm", "a long enough password")
    page.click("form.stack button[type=submit]")
    page.wait_for_selector("text=Welcome, carol")
    page.click("summary:has-text('carol')")
    page.click("text=Log out")
    page.wait_for_selector("text=You are logged out.")

    page.goto(live_server + "/questions/strike-open")
    page.click("text=Log in to forecast")
    page.fill("#username", "carol")
    page.fill("#password", "a long enough password")
    page.click("form.stack button[type=submit]")
    page.wait_for_url(re.compile(r"/questions/strike-open$"))
    shots.take(page, "binary-question")
    page.fill("#probability", "62.5")
    page.fill("#rationale", "Talks have stalled.")
    page.click("form.forecast-form button[type=submit]")
    page.wait_for_selector("text=Your forecast is saved.")
    history = page.inner_text("#your-forecasts")
    assert "62.5% yes" in history and "Talks have stalled." in history
    _charts_loaded(page)

    page.goto(live_server + "/questions/partner-open")
    shots.take(page, "multiple-choice-question")
    for i, value in enumerate(["40", "30", "20"]):
        page.fill(f"#option-{i}", value)
    page.fill("#option-3", "5")
    assert page.inner_text("#total") == "95%"  # the running total (JavaScript)
    page.fill("#option-3", "10")
    assert page.inner_text("#total") == "100%"
    page.click("form.forecast-form button[type=submit]")
    page.wait_for_selector("text=Your forecast is saved.")
    assert "Canada 40.0% · EU member 30.0%" in page.inner_text("#your-forecasts")
    assert "Canada" in page.inner_text("#crowd-h + ul")  # the crowd now includes carol

    page.goto(live_server + "/leaderboard")
    shots.take(page, "leaderboard")
    table = page.inner_text("table.leaderboard")
    assert "alice" in table and "bob" in table and "The crowd" in table

    page.goto(live_server + "/users/carol")
    assert "Will a strike happen before 2027?" in page.inner_text("table.forecasts")
    _charts_loaded(page)

    page.click("summary:has-text('carol')")
    page.click("text=Log out")
    page.wait_for_selector("text=You are logged out.")
    assert page.is_visible("text=Log in")
    assert page.problems == []  # no CSP violation, no script error


def test_inline_errors_and_phone_layout(phone, live_server, world):
    page, shots = phone
    page.goto(live_server + "/login")
    page.fill("#username", "alice")
    page.fill("#password", "correct horse battery")
    page.click("form.stack button[type=submit]")
    page.goto(live_server + "/questions/partner-open")
    shots.take(page, "phone-question")
    for i, value in enumerate(["10", "10", "10", "10"]):
        page.fill(f"#option-{i}", value)
    assert "off" in page.get_attribute("#total-line", "class")
    page.click("form.forecast-form button[type=submit]")
    page.wait_for_selector(".field-error")
    assert "add up to 40%" in page.inner_text("#forecast")
    # Phones load the narrow variant of the chart.
    current = page.eval_on_selector("figure.chart img", "i => i.currentSrc")
    assert "size=small" in current
    _charts_loaded(page)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], "the page scrolls sideways on a phone"
    assert page.problems == []


def _accent_pixels(png: bytes) -> int:
    """How many pixels of a screenshot are near the accent colour (#0b6e99)."""
    from io import BytesIO

    from PIL import Image
    image = Image.open(BytesIO(png)).convert("RGB")
    return sum(1 for r, g, b in image.getdata()
               if abs(r - 0x0b) < 40 and abs(g - 0x6e) < 40 and abs(b - 0x99) < 40)


def test_forecast_form_tab_order_total_and_slider(desktop, live_server, world, session):
    from forecasts.services import questions
    from tests.builders import mc_data
    from tests.web.conftest import around_now
    questions.create_question(session, mc_data(slug="three-way", options=["a", "b", "c"],
                                               **around_now()))
    session.commit()
    page, shots = desktop
    page.goto(live_server + "/login")
    page.fill("#username", "alice")
    page.fill("#password", "correct horse battery")
    page.click("form.stack button[type=submit]")
    page.wait_for_selector("text=Welcome")

    # Tab from the top of the page reaches the forecast before bob's rationale link.
    page.goto(live_server + "/questions/strike-open")
    shots.take(page, "binary-form")
    assert page.is_visible("#discussion .comment a[href='/users/bob']")
    page.evaluate("document.activeElement && document.activeElement.blur()")
    reached = None
    for _ in range(80):
        page.keyboard.press("Tab")
        where = page.evaluate("""() => { const e = document.activeElement;
            return e.id === 'probability' ? 'form' : (e.closest('.comment') ? 'rationale' : ''); }""")
        if where:
            reached = where
            break
    assert reached == "form", "a rationale comes before the forecast form in tab order"

    # The slider shows no position (no thumb, no fill) until a value is entered.
    slider = page.locator("input.slider")
    assert "unset" in slider.get_attribute("class")
    assert slider.get_attribute("aria-valuetext") == "not set"
    assert _accent_pixels(slider.screenshot()) == 0
    page.fill("#probability", "70")
    assert "unset" not in slider.get_attribute("class")
    assert slider.input_value() == "70" and slider.get_attribute("aria-valuetext") == "70%"
    assert _accent_pixels(slider.screenshot()) > 20

    # Multiple choice: the script reveals the total and keeps it current; 33.3 x 3 is taken.
    page.goto(live_server + "/questions/three-way")
    assert page.is_visible("#total-line")
    for i in range(3):
        page.fill(f"#option-{i}", "33.4")
    assert page.inner_text("#total") == "100.2%"
    assert "off" in page.get_attribute("#total-line", "class")
    for i in range(3):
        page.fill(f"#option-{i}", "33.3")
    assert page.inner_text("#total") == "99.9%"
    assert "ok" in page.get_attribute("#total-line", "class")
    page.click("form.forecast-form button[type=submit]")
    page.wait_for_selector("text=Your forecast is saved.")
    assert "a 33.3% · b 33.3% · c 33.3%" in page.inner_text("#your-forecasts")
    assert page.problems == []  # no CSP violation, no script error


def test_forecast_form_without_javascript(browser, live_server, world):
    context = browser.new_context(viewport=DESKTOP, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(live_server + "/login")
        page.fill("#username", "alice")
        page.fill("#password", "correct horse battery")
        page.click("form.stack button[type=submit]")
        page.goto(live_server + "/questions/partner-open")
        assert not page.is_visible("#total-line") and page.locator("input.slider").count() == 0
        for i, value in enumerate(["10", "20", "30", "30"]):
            page.fill(f"#option-{i}", value)
        page.click("form.forecast-form button[type=submit]")
        page.wait_for_selector(".field-error")
        assert page.is_visible("#total-line") and page.inner_text("#total") == "90%"
    finally:
        context.close()
