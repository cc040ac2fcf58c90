#!/usr/bin/env python3
"""Benchmark: the HTML post-mortem of long runs — file size, render time, time to open in Chromium.

Runs of 50, 200 and 500 steps (a healthy tool chain with large tool outputs, built from the shape
of a recorded Letta 0.16.8 chain by ``tests/report_runs.py``) and the recorded 50-step loop are
diagnosed, rendered (``render_run_report``) and opened from a file in Debian's Chromium (driven by
Playwright, no network). Reported per run: HTML bytes, render seconds (median), and the browser's
own navigation timings (median over ``--repeat`` fresh page loads): DOMContentLoaded, load, first
contentful paint.

    python bench/bench_report.py                        # 50 / 200 / 500 steps, 20 KB outputs
    python bench/bench_report.py --steps 500 --output-chars 100000 --repeat 7
    python bench/bench_report.py --json bench/results/report.json
    python bench/bench_report.py --screenshot bench/report-loop.png   # README's picture

``--screenshot`` photographs the top of the recorded loop's report (headline to waterfall), as
``letta-runs --demo report run-a30ab545-21d6-4e68-b8a4-3a53f0bd1011 -o loop.html`` writes it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
try:
    import letta_runs  # noqa: F401
except ImportError:  # a checkout without an install
    sys.path.insert(0, str(ROOT / "skill"))

from letta_runs.diagnosis import diagnose  # noqa: E402
from letta_runs.evidence import Evidence, load_bundle  # noqa: E402
from letta_runs.report import render_run_report  # noqa: E402

from tests.browser.conftest import CHROMIUM, FLAGS  # noqa: E402
from tests.report_runs import DEMO, long_run  # noqa: E402

TIMINGS_JS = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const paint = performance.getEntriesByName('first-contentful-paint')[0];
  return {dcl: nav.domContentLoadedEventEnd, load: nav.loadEventEnd,
          fcp: paint ? paint.startTime : null};
}"""


def measure(name: str, ev: Evidence, browser: Any, folder: Path, repeat: int) -> dict[str, Any]:
    diag = diagnose(ev)
    render_times = []
    html = ""
    for _ in range(repeat):
        start = time.perf_counter()
        html = render_run_report(ev, diag)
        render_times.append(time.perf_counter() - start)
    path = folder / f"{name}.html"
    path.write_text(html, encoding="utf-8")
    loads: list[dict[str, float]] = []
    for _ in range(repeat):
        page = browser.new_page()
        start = time.perf_counter()
        page.goto(path.as_uri(), wait_until="load")
        wall = time.perf_counter() - start
        timings = page.evaluate(TIMINGS_JS)
        timings["wall"] = wall * 1000
        loads.append(timings)
        page.close()

    def med(key: str) -> float | None:
        values = [t[key] for t in loads if t.get(key) is not None]
        return round(statistics.median(values), 1) if values else None

    return {
        "run": name,
        "steps": len(ev.steps),
        "messages": len(ev.messages),
        "run_content_chars": sum(len(getattr(m, "text", "") or "") for m in ev.messages),
        "html_bytes": len(html.encode()),
        "render_s": round(statistics.median(render_times), 3),
        "dom_content_loaded_ms": med("dcl"),
        "load_ms": med("load"),
        "first_contentful_paint_ms": med("fcp"),
        "goto_wall_ms": med("wall"),
    }


def screenshot(target: Path, *, scheme: str = "light") -> int:
    from playwright.sync_api import sync_playwright

    html = render_run_report(load_bundle(DEMO / "sync_max_steps_default.json"))
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        path = Path(tmp) / "loop.html"
        path.write_text(html, encoding="utf-8")
        browser = pw.chromium.launch_persistent_context(
            str(Path(tmp) / "profile"),
            executable_path=CHROMIUM,
            args=FLAGS,
            headless=True,
            viewport={"width": 1200, "height": 900},
            color_scheme=scheme,
        )
        try:
            page = browser.new_page()
            page.goto(path.as_uri())
            box = page.locator("section[aria-labelledby=wf-h]").bounding_box()
            assert box is not None
            height = box["y"] + box["height"] + 16
            page.screenshot(
                path=str(target),
                full_page=True,
                clip={"x": 0, "y": 0, "width": 1200, "height": height},
            )
        finally:
            browser.close()
    print(f"wrote {target}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, nargs="*", default=[50, 200, 500])
    parser.add_argument("--output-chars", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path, help="Also write the results to this file.")
    parser.add_argument(
        "--screenshot", type=Path, help="Only photograph the loop's report into this PNG."
    )
    args = parser.parse_args()
    if args.screenshot:
        return screenshot(args.screenshot)

    from playwright.sync_api import sync_playwright

    cases: list[tuple[str, Evidence]] = [
        (f"chain-{n}", long_run(n, tool_output_chars=args.output_chars)) for n in args.steps
    ]
    cases.append(("recorded-loop-50", load_bundle(DEMO / "sync_max_steps_default.json")))
    results = []
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        browser = pw.chromium.launch_persistent_context(
            str(Path(tmp) / "profile"), executable_path=CHROMIUM, args=FLAGS, headless=True
        )
        try:
            for name, ev in cases:
                results.append(measure(name, ev, browser, Path(tmp), args.repeat))
        finally:
            browser.close()

    header = (
        f"{'run':<18}{'steps':>6}{'content':>12}{'html':>11}{'render':>9}"
        f"{'DCL':>9}{'load':>9}{'FCP':>9}"
    )
    print(header)
    for r in results:
        fcp = r["first_contentful_paint_ms"]
        print(
            f"{r['run']:<18}{r['steps']:>6}{r['run_content_chars'] / 1e6:>10.1f}MB"
            f"{r['html_bytes'] / 1024:>9.0f}KB{r['render_s']:>8.2f}s"
            f"{r['dom_content_loaded_ms']:>7.0f}ms{r['load_ms']:>7.0f}ms"
            + (f"{fcp:>7.0f}ms" if fcp else f"{'n/a':>9}")
        )
    print(
        f"(tool outputs {args.output_chars:,} chars each; medians of {args.repeat}; "
        "DCL/load/FCP from the browser's navigation timing, file:// URL, headless Chromium)"
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
