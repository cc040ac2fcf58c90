"""The HTML post-mortem as a person sees it: opened from a file in a real Chromium.

For recorded real-server runs (a loop, a tool error, a provider error, an approval, a healthy
chain, and every other recorded bundle) the page must load with no console error and no request
but its own file, say the verdict in its headline, draw one waterfall bar per step (one band per
loop) and one token point per step, and keep planted markup inert. Each page is photographed in
light and dark into ``tests/browser/artifacts/``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from letta_runs.diagnosis import RunDiagnosis, diagnose
from letta_runs.evidence import Evidence, load_bundle
from letta_runs.report import render_run_report

from tests.browser.conftest import ARTIFACTS
from tests.report_runs import DEMO, HOSTILE, RECORDED, long_run, planted

NAMED = {
    "loop": DEMO / "sync_max_steps_default.json",
    "tool_error": RECORDED / "stream__tool_error.json",
    "provider_error": RECORDED / "stream__llm_error_503.json",
    "approval": DEMO / "sync_request_1.json",
    "healthy_chain": DEMO / "sync_add_mem_search_note_add.json",
}
EXPECTED_VERDICTS = {
    "loop": "failed",
    "tool_error": "ok",  # the tool failed, the model recovered and answered
    "provider_error": "failed",
    "approval": "awaiting_approval",
    "healthy_chain": "ok",
}
ALL_BUNDLES = sorted(RECORDED.glob("*.json")) + sorted(DEMO.glob("*.json"))


@dataclass
class Opened:
    page: Any
    url: str
    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def foreign_requests(self) -> list[str]:
        return [u for u in self.requests if u != self.url]


def open_html(browser: Any, html: str, path: Path, *, scheme: str = "light") -> Opened:
    path.write_text(html, encoding="utf-8")
    page = browser.new_page()
    opened = Opened(page=page, url=path.as_uri())
    page.on(
        "console",
        lambda m: opened.console_errors.append(m.text) if m.type in ("error", "warning") else None,
    )
    page.on("pageerror", lambda e: opened.console_errors.append(str(e)))
    page.on("request", lambda r: opened.requests.append(r.url))
    page.emulate_media(color_scheme=scheme)
    page.goto(opened.url, wait_until="load")
    return opened


def expected_bands(diag: RunDiagnosis, ev: Evidence) -> int:
    """Loops of consecutive calls (repeat or cycle) that span more than one step."""
    index = {s.id: i for i, s in enumerate(ev.steps)}
    return sum(
        1
        for loop in diag.loops
        if loop.pattern != "scattered"
        and index.get(loop.last_step_id or "", -1) > index.get(loop.first_step_id or "", -1)
    )


def check_page(opened: Opened, ev: Evidence, diag: RunDiagnosis) -> None:
    page = opened.page
    assert opened.console_errors == []
    assert opened.foreign_requests() == []
    # The headline says the verdict and the diagnosis's headline.
    verdict = page.locator("#headline [data-verdict]")
    assert verdict.get_attribute("data-verdict") == diag.verdict
    assert verdict.inner_text().strip().lower() == diag.verdict.replace("_", " ")
    headline = " ".join((page.locator("#headline").text_content() or "").split())
    assert " ".join(diag.headline.removeprefix(f"{diag.verdict}: ").split()) in headline
    assert diag.verdict.replace("_", " ") in page.title()
    # The waterfall: one bar per step, or one band per loop covering its steps.
    bars = page.locator("svg.waterfall rect.bar")
    bands = page.locator("svg.waterfall rect.band")
    covered = sum(int(bands.nth(i).get_attribute("data-steps")) for i in range(bands.count()))
    assert bars.count() + covered == len(ev.steps)
    assert bands.count() == expected_bands(diag, ev)
    if ev.steps:
        box = (bars if bars.count() else bands).first.bounding_box()
        assert box is not None and box["width"] > 0.5 and box["height"] > 0.5  # drawn, visible
    # Tokens: one point per step that reported a count, for each line.
    for css, values in (
        ("prompt", [s.prompt_tokens for s in ev.steps]),
        ("completion", [s.completion_tokens for s in ev.steps]),
    ):
        line = page.locator(f"svg.tokens polyline.{css}")
        if not any(s.prompt_tokens or s.completion_tokens for s in ev.steps):
            assert line.count() == 0  # nothing counted: a sentence instead of a flat chart
            assert "token count" in page.locator("#tk-h + p").inner_text()
            continue
        points = (line.get_attribute("points") or "").split()
        assert len(points) == sum(v is not None for v in values)
        assert all(re.fullmatch(r"[\d.]+,[\d.]+", p) for p in points)
    # Each chart has a text alternative next to it.
    for chart in ("waterfall", "tokens"):
        if page.locator(f"svg.{chart}").count():
            assert (page.locator(f"svg.{chart} desc").text_content() or "").strip()


@pytest.mark.parametrize("name", sorted(NAMED))
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_recorded_run_as_a_person_sees_it(
    browser: Any, tmp_path: Path, name: str, scheme: str
) -> None:
    ev = load_bundle(NAMED[name])
    diag = diagnose(ev)
    assert diag.verdict == EXPECTED_VERDICTS[name]
    opened = open_html(
        browser, render_run_report(ev, diag), tmp_path / f"{name}.html", scheme=scheme
    )
    try:
        check_page(opened, ev, diag)
        background = opened.page.evaluate(
            "getComputedStyle(document.documentElement).backgroundColor"
        )
        rgb = [int(v) for v in re.findall(r"\d+", background)[:3]]
        assert (sum(rgb) / 3 < 80) == (scheme == "dark"), background
        opened.page.screenshot(path=str(ARTIFACTS / f"{name}-{scheme}.png"), full_page=True)
    finally:
        opened.page.close()


@pytest.mark.parametrize("bundle", ALL_BUNDLES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_recorded_bundle_renders_cleanly(browser: Any, tmp_path: Path, bundle: Path) -> None:
    ev = load_bundle(bundle)
    diag = diagnose(ev)
    opened = open_html(browser, render_run_report(ev, diag), tmp_path / "run.html")
    try:
        check_page(opened, ev, diag)
        opened.page.screenshot(path=str(ARTIFACTS / f"all-{bundle.stem}.png"))
    finally:
        opened.page.close()


def test_a_loop_reads_at_a_glance(browser: Any, tmp_path: Path) -> None:
    ev = load_bundle(NAMED["loop"])
    opened = open_html(browser, render_run_report(ev), tmp_path / "loop.html")
    try:
        band = opened.page.locator("svg.waterfall rect.band")
        assert band.count() == 1
        assert band.get_attribute("data-steps") == str(len(ev.steps))
        box = band.bounding_box()
        assert box is not None and box["height"] >= 30  # a band, not a hairline
        assert "lab_add ×50" in (opened.page.locator("svg.waterfall").text_content() or "")
        # The band is a link to the loop's first step in the transcript, which is open.
        href = opened.page.locator("svg.waterfall a").first.get_attribute("href")
        assert href == "#step-1"
        assert opened.page.locator("details#step-1").get_attribute("open") is not None
        opened.page.locator("svg.waterfall").screenshot(path=str(ARTIFACTS / "loop-waterfall.png"))
    finally:
        opened.page.close()


def test_planted_markup_is_shown_as_text_and_never_runs(browser: Any, tmp_path: Path) -> None:
    ev = planted(NAMED["tool_error"])
    opened = open_html(browser, render_run_report(ev), tmp_path / "planted.html")
    page = opened.page
    try:
        assert page.evaluate("typeof window.__pwned") == "undefined"
        assert page.locator("#injected").count() == 0
        assert page.locator("img").count() == 0
        assert page.locator("script").count() == 1 and page.locator("style").count() == 1
        assert opened.foreign_requests() == []  # the planted <img> never loaded
        assert opened.console_errors == []  # nothing tried to run (CSP would have said so)
        data = page.locator("pre.data")
        texts = [data.nth(i).inner_text() for i in range(data.count())]
        assert any(HOSTILE in t for t in texts)  # shown whole, as text
        assert page.locator("body").is_visible()  # the planted <style> did not hide the page
        page.screenshot(path=str(ARTIFACTS / "planted.png"), full_page=True)
    finally:
        page.close()


def test_the_page_works_with_javascript_off(browser: Any, tmp_path: Path) -> None:
    path = tmp_path / "nojs.html"
    path.write_text(render_run_report(load_bundle(NAMED["healthy_chain"])), encoding="utf-8")
    page = browser.new_page()
    try:
        client = page.context.new_cdp_session(page)
        client.send("Emulation.setScriptExecutionDisabled", {"value": True})
        page.goto(path.as_uri())
        assert page.locator("[data-fold]").is_hidden()  # the expand buttons need the script
        assert page.locator("svg.waterfall rect.bar").count() == 6
        assert page.locator("svg.tokens polyline.prompt").is_visible()
        assert page.locator("details.step[open]").count() == 6
        page.screenshot(path=str(ARTIFACTS / "nojs.png"))
    finally:
        page.close()


def test_expand_all_opens_every_step_when_scripts_run(browser: Any, tmp_path: Path) -> None:
    ev = long_run(40, tool_output_chars=500)
    opened = open_html(browser, render_run_report(ev), tmp_path / "chain.html")
    page = opened.page
    try:
        steps = page.locator("details.step")
        assert steps.count() == 40
        closed_before = page.locator("details.step:not([open])").count()
        assert closed_before > 0  # long transcripts start folded
        page.get_by_role("button", name="Expand all steps").click()
        assert page.locator("details.step:not([open])").count() == 0
        page.get_by_role("button", name="Collapse all steps").click()
        assert page.locator("details.step[open]").count() == 0
    finally:
        page.close()


def test_a_500_step_run_opens_with_every_bar(browser: Any, tmp_path: Path) -> None:
    ev = long_run(500, tool_output_chars=20_000)
    diag = diagnose(ev)
    html = render_run_report(ev, diag)
    assert len(html.encode()) < 1_000_000
    opened = open_html(browser, html, tmp_path / "long.html")
    try:
        check_page(opened, ev, diag)
        opened.page.screenshot(path=str(ARTIFACTS / "long-500.png"))
    finally:
        opened.page.close()


def test_artefacts_folder_is_ignored_by_git() -> None:
    ignore = (Path(__file__).resolve().parents[2] / ".gitignore").read_text().splitlines()
    assert "tests/browser/artifacts/" in ignore


def test_triage_page_charts_every_problem_and_links_to_run_reports(
    browser: Any, tmp_path: Path
) -> None:
    # In a child process: Playwright's sync API holds this thread's event loop.
    page_path = tmp_path / "fleet.html"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "letta_runs",
            "--demo",
            "report",
            "--triage",
            "--since",
            "3650d",
            "-o",
            str(page_path),
            "--with-runs",
            str(tmp_path / "runs"),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={k: v for k, v in os.environ.items() if k != "LETTA_BASE_URL"},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    problems = int(re.findall(r'"problems": (\d+)', result.stdout)[0])
    page = browser.new_page()
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("request", lambda r: requests.append(r.url))
    try:
        page.goto(page_path.as_uri())
        assert errors == [] and requests == [page_path.as_uri()]
        assert page.locator("#headline [data-problems]").get_attribute("data-problems") == str(
            problems
        )
        segments = page.locator("svg.histogram rect.seg")
        counts = [int(segments.nth(i).get_attribute("data-count")) for i in range(segments.count())]
        assert sum(counts) == problems
        page.screenshot(path=str(ARTIFACTS / "fleet-light.png"), full_page=True)
        page.emulate_media(color_scheme="dark")
        page.screenshot(path=str(ARTIFACTS / "fleet-dark.png"), full_page=True)
        # Follow the first example to its report, and come back.
        page.locator("a.runlink").first.click()
        page.wait_for_load_state()
        assert page.url.startswith((tmp_path / "runs").as_uri())
        assert page.locator("#headline [data-verdict]").count() == 1
        page.get_by_role("link", name="back to the triage").click()
        page.wait_for_load_state()
        assert page.url == page_path.as_uri()
        assert errors == []
    finally:
        page.close()
