"""The Solara page (`solara run app.py`) in a real headless Chromium.

The fixture starts `solara run app.py --host 127.0.0.1 --port <free port> --production` as a subprocess
(with its own answer cache in POPSIM_CACHE) and drives it with Playwright on Debian's chromium. One test
runs a round of the real embedded model (6 agents, ESS-21, value_prompt) and checks the views hold data
(figures as images of real size, tables with numbers); the other checks that bad settings show one-line
errors, never a traceback, and leave the page usable.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
#: the real model on a 2-core machine: ~30 s when the CPU is free; minutes when other jobs load it
STEP_TIMEOUT_MS = 900_000

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The page served on a free loopback port; yields its URL. With POPSIM_PAGE_URL set, the page already served
    there instead (tests/test_packaging.py serves an installed wheel's page and runs these tests against it)."""
    pytest.importorskip("playwright.sync_api")
    if shutil.which("chromium") is None:
        pytest.fail("Debian's chromium is needed for the browser test: apt-get install -y chromium (setup.sh --test)")
    if os.environ.get("POPSIM_PAGE_URL"):
        yield os.environ["POPSIM_PAGE_URL"]
        return
    from popsim.page.assets import ensure_assets

    ensure_assets()  # Solara's browser assets, from the npm registry when its CDN cannot be reached
    tmp = tmp_path_factory.mktemp("page")
    port = _free_port()
    env = {**os.environ, "POPSIM_CACHE": str(tmp / "answers.sqlite"), "PYTHONUNBUFFERED": "1"}
    env.pop("HOST", None)
    log = open(tmp / "solara.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "solara", "run", "app.py", "--host", "127.0.0.1", "--port",
                             str(port), "--production"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 90
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            log.close()
            pytest.fail(f"solara did not start: {(tmp / 'solara.log').read_text()[-2000:]}")
        time.sleep(0.5)
    yield url
    os.killpg(proc.pid, signal.SIGTERM)  # the process group this fixture started
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    log.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(server, browser):
    ctx = browser.new_context(viewport={"width": 1500, "height": 1800})
    pg = ctx.new_page()
    pg.goto(server)
    pg.get_by_label("Number of agents").wait_for(timeout=90_000)
    yield pg
    ctx.close()


def expect(locator):
    from playwright.sync_api import expect as _expect

    return _expect(locator)


def _choose(page, label: str, value: str) -> None:
    page.get_by_role("combobox", name=label, exact=True).click(force=True)
    page.get_by_role("option", name=value, exact=True).click()


def _type(page, label: str, text: str) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(text)
    box.press("Tab")  # inputs commit on focus out


def _view(page, name: str):
    """Show a result view and return its container (its content, not the previous view's)."""
    page.get_by_role("button", name=name, exact=True).click()
    view = page.locator(".popsim-view-" + name.lower().replace(" ", "-"))
    view.wait_for(timeout=30_000)
    return view


def _images(where, min_width: int = 300) -> list[tuple[int, int]]:
    """Natural sizes of the loaded images at least `min_width` wide (waits for at least one)."""
    where.locator("img").first.wait_for(timeout=30_000)
    where.page.wait_for_function("() => [...document.images].every(e => e.complete)")
    sizes = where.locator("img").evaluate_all("els => els.map(e => [e.naturalWidth, e.naturalHeight])")
    return [tuple(x) for x in sizes if x[0] >= min_width]


def _numeric_cells(where) -> list[float]:
    out = []
    for text in where.locator("table td").all_inner_texts():
        t = text.strip()
        if re.fullmatch(r"-?\d+(\.\d+)?", t):
            out.append(float(t))
    return out


def _body(page) -> str:
    return page.locator("body").inner_text()


def _message(page, contains: str) -> str:
    msg = page.locator(".popsim-message", has_text=contains)
    msg.wait_for(timeout=60_000)
    return msg.inner_text()


def test_bad_settings_show_an_error_and_the_page_stays_usable(page, tmp_path):
    _type(page, "Number of agents", "0")
    page.get_by_role("button", name="Step").click()
    text = _message(page, "Number of agents")
    assert "at least 1" in text

    _type(page, "Number of agents", "6")
    _choose(page, "Backend", "openai")
    _type(page, "Base URL", "http://127.0.0.1:9/v1")
    _type(page, "Model name", "some-model")
    page.get_by_role("button", name="Step").click()
    text = _message(page, "cannot reach")
    assert "127.0.0.1:9" in text and "Base URL" in text

    _type(page, "Base URL", "ftp://nowhere")
    page.get_by_role("button", name="Step").click()
    assert "not an http(s) URL" in _message(page, "http(s)")

    body = _body(page)
    assert "Traceback" not in body and 'File "' not in body
    # still usable: the controls are enabled and a valid setting builds a population
    expect(page.get_by_role("button", name="Step")).to_be_enabled(timeout=30_000)
    _choose(page, "Policy", "reference")
    page.get_by_role("button", name="Reset").click()
    page.locator(".popsim-head", has_text="Round 0 of 1").wait_for(timeout=60_000)
    assert page.locator(".popsim-message").count() == 0
    page.screenshot(path=str(tmp_path / "errors.png"), full_page=True)


def test_a_round_of_the_embedded_model_fills_the_views(page, tmp_path):
    started = time.time()
    _type(page, "Number of agents", "6")
    assert page.get_by_role("combobox", name="Backend", exact=True).input_value() == "embedded"
    page.get_by_role("button", name="Step").click()
    # the round runs in the background: progress and Cancel while it does
    page.locator(".popsim-progress").wait_for(timeout=30_000)
    expect(page.get_by_role("button", name="Cancel")).to_be_enabled()
    page.locator(".popsim-head", has_text="Round 1 of 1").wait_for(timeout=STEP_TIMEOUT_MS)
    stepped = time.time()
    head = page.locator(".popsim-head").inner_text()
    calls = int(re.search(r"model calls (\d+)", head).group(1))
    assert calls > 0, head  # the LLM was asked (the cache of this test starts empty)
    messages = page.locator(".popsim-message").all_inner_texts()
    assert all(m.strip().startswith("Finished") for m in messages), messages

    # value profile vs the human means: a matplotlib figure and a table of numbers
    view = _view(page, "Value profile")
    assert any(w > 300 and h > 200 for w, h in _images(view)), _images(view)
    nums = _numeric_cells(view)
    assert len(nums) >= 30 and any(abs(x) > 0.05 for x in nums), nums[:40]
    page.screenshot(path=str(tmp_path / "profile.png"), full_page=True)

    # item answer distributions simulated vs human: figure and table (21 items x 7 numbers)
    view = _view(page, "Items")
    view.locator("table td", has_text="ipcrtiv").first.wait_for(timeout=30_000)
    assert len(_images(view)) >= 1
    assert len(_numeric_cells(view)) >= 21 * 5

    # structure: circumplex and heatmaps, or a stated reason when 6 agents leave a value without variance
    view = _view(page, "Structure")
    view.locator("img, .v-alert").first.wait_for(timeout=30_000)
    assert view.locator("img").count() >= 2 or "not computed" in view.inner_text()
    if view.locator("img").count():
        assert len(_images(view, 500)) >= 2

    # the whole report, with its figures
    view = _view(page, "Report")
    view.get_by_text("Verdict").first.wait_for(timeout=30_000)
    assert len(_images(view)) >= 2
    assert "Traceback" not in _body(page)

    view = _view(page, "Value profile")
    _images(view)
    shot = tmp_path / "app.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 20_000
    if os.environ.get("POPSIM_UPDATE_SCREENSHOT"):
        shutil.copy(shot, ROOT / "docs" / "app.png")
    print(f"\nembedded round (build, LLM, evaluation): {stepped - started:.1f} s; views: {time.time() - stepped:.1f} s")


def test_saved_runs_are_browsed_and_compared(page, tmp_path):
    from popsim.reporting.runs import execute

    cache = tmp_path / "answers.sqlite"
    execute(tmp_path / "runs" / "llm", n_agents=12, backend="scripted", cache_path=cache, progress=False, rng=3)
    execute(tmp_path / "runs" / "twins", n_agents=12, policy="reference", cache_path=cache, progress=False, rng=3)

    page.get_by_role("button", name="Saved runs", exact=True).click()
    # the tab first opens its default folder (runs/ or .): a list of runs or a message saying there is none
    page.locator(".popsim-saved-state").first.wait_for(timeout=30_000)
    _type(page, "Folder with runs (a run, sweep or demo --out folder)", str(tmp_path / "runs"))
    page.get_by_text(str(tmp_path / "runs" / "llm"), exact=True).wait_for(timeout=30_000)
    page.get_by_role("combobox", name="Run folder", exact=True).click(force=True)
    page.get_by_role("option", name=re.compile(r"^llm: ess21, 12 agents")).click()
    page.get_by_text("Verdict").first.wait_for(timeout=30_000)
    report = page.locator("body")
    assert len(_images(report)) >= 3
    assert len(_numeric_cells(report)) >= 20

    page.get_by_role("button", name="Compare runs", exact=True).click()
    page.get_by_role("button", name="Compare", exact=True).click()
    page.locator("table td", has_text="structure_r").first.wait_for(timeout=60_000)
    assert len(_numeric_cells(page.locator("body"))) >= 10
    assert len(_images(page.locator("body"))) >= 4  # the two runs' figures side by side
    page.screenshot(path=str(tmp_path / "compare.png"), full_page=True)


def test_a_study_folder_is_opened_and_drawn(page, tmp_path):
    """The Study tab: a sweep over shift.UN (reference twins) drawn as a response curve with its slope; another
    outcome redraws; a folder without a study is one line."""
    from popsim.studies.sweep import run_sweep

    study = {"name": "uni", "scenario": "ess21", "fixed": {"n_agents": 60, "policy": "reference"},
             "grid": {"shift.UN": [-1.0, 0.0, 1.0], "seed": [1, 2]}}
    run_sweep(study, out=tmp_path / "studies" / "uni", workers=1, progress=False)
    page.get_by_role("button", name="Study", exact=True).click()
    view = page.locator(".popsim-study")
    _type(page, "Study folder (popsim sweep --out, or a folder above it)", str(tmp_path / "nowhere"))
    assert "does not exist" in _message(page, "does not exist")
    _type(page, "Study folder (popsim sweep --out, or a folder above it)", str(tmp_path / "studies"))
    assert page.get_by_role("combobox", name="Outcome", exact=True).input_value(timeout=60_000) == "value_mean.UN"
    assert len(_images(view)) >= 2  # the chosen outcome's response curve and summary.md's figures
    view.get_by_text("Slope per unit of each parameter").wait_for(timeout=30_000)
    slopes = [x for x in _numeric_cells(view) if 0.4 < x < 0.9]
    assert slopes, "the slope of value_mean.UN per SD of shift.UN (about 0.64 = the human SD of UN) is shown"
    _choose(page, "Outcome", "structure_r")
    expect(page.get_by_role("combobox", name="Outcome", exact=True)).to_have_value("structure_r")
    assert len(_images(view)) >= 2
