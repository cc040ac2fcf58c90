"""The HTML post-mortem of recorded runs: what the page says and draws, its size, its safety.

The browser checks (a real Chromium) are in ``tests/browser``; these read the model and the HTML.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import html as html_lib
import itertools
import json
import re
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner
from letta_runs import AsyncRunsClient
from letta_runs.cli import cli
from letta_runs.composites import triage_runs
from letta_runs.diagnosis import diagnose
from letta_runs.diagnosis.triage import TriageReport
from letta_runs.evidence import Evidence, load_bundle
from letta_runs.report import (
    build_fleet_report,
    build_run_report,
    render_fleet_report,
    render_run_report,
)
from letta_runs.report.charts import StepSpan, nice_ticks, token_chart, waterfall

from tests.report_runs import DEMO, HOSTILE, RECORDED, long_run, planted

LOOP_RUN = "run-a30ab545-21d6-4e68-b8a4-3a53f0bd1011"
LOOP = DEMO / "sync_max_steps_default.json"
CHAIN = DEMO / "sync_add_mem_search_note_add.json"
TOOL_ERROR = RECORDED / "stream__tool_error.json"
PROVIDER_ERROR = RECORDED / "stream__llm_error_503.json"
APPROVAL = DEMO / "sync_request_1.json"


def test_a_loop_is_one_band_covering_every_step_of_it() -> None:
    ev = load_bundle(LOOP)
    report = build_run_report(ev)
    bands = [b for b in report.waterfall.bars if b.kind == "band"]
    assert len(bands) == 1
    assert (bands[0].first_step, bands[0].last_step) == (1, len(ev.steps))
    assert bands[0].outcome == "loop"
    assert "lab_add ×50" in bands[0].label
    assert len(bands[0].ticks) == len(ev.steps) - 1  # one tick where each later step begins
    assert report.verdict == "failed"
    assert report.root_cause is not None and report.root_cause.kind == "tool_loop"


def test_a_healthy_chain_has_one_bar_per_step_in_time_order() -> None:
    ev = load_bundle(CHAIN)
    report = build_run_report(ev)
    bars = report.waterfall.bars
    assert [b.kind for b in bars] == ["step"] * len(ev.steps)
    assert [b.first_step for b in bars] == list(range(1, len(ev.steps) + 1))
    assert all(b.outcome == "ok" for b in bars)
    starts = [b.x for b in bars]
    assert starts == sorted(starts)
    assert [b.label.split(" · ")[1] for b in bars][:3] == [
        "lab_add",
        "memory_insert",
        "conversation_search",
    ]
    assert bars[-1].label.endswith("answer")
    assert report.waterfall.timed


def test_a_tool_error_is_a_red_bar_and_a_table_row_with_its_message() -> None:
    report = build_run_report(load_bundle(TOOL_ERROR))
    assert [b.outcome for b in report.waterfall.bars] == ["error", "ok"]
    (row,) = [c for c in report.tool_calls if c.status == "error"]
    assert row.name == "lab_fail"
    assert row.error is not None and "lab_fail raised on purpose" in row.error


def test_a_provider_error_names_the_step_error() -> None:
    ev = load_bundle(PROVIDER_ERROR)
    report = build_run_report(ev)
    assert report.verdict == "failed"
    assert report.root_cause is not None and report.root_cause.kind == "llm_api_error"
    assert report.waterfall.bars[0].outcome == "error"
    step_errors = [m for s in report.transcript for m in s.messages if m.role == "step error"]
    assert step_errors and "503" in step_errors[0].text


def test_an_approval_shows_the_requested_call() -> None:
    report = build_run_report(load_bundle(APPROVAL))
    assert report.verdict == "awaiting_approval"
    assert [c.status for c in report.tool_calls] == ["approval requested"]
    assert report.waterfall.bars[0].label.startswith("1 · approval requested")
    assert report.waterfall.bars[0].outcome == "open"
    assert report.tool_call_count == 1


def test_token_chart_has_a_point_per_step_and_the_window_when_it_matters() -> None:
    ev = load_bundle(LOOP)
    report = build_run_report(ev)
    assert report.tokens is not None
    prompt = report.tokens.prompt.series[0]
    assert len(prompt.points) == len(ev.steps)
    ys = [y for _, y in prompt.points]
    assert ys[0] > ys[-1]  # the prompt grows every step: the line rises (SVG y points down)
    assert report.tokens.window_off_scale  # 10k of 128k: named, not drawn as a flat top line
    near = token_chart([90, 95, 99], [5, 5, 5], context_window=100)
    assert near.window_y is not None and not near.window_off_scale
    assert near.window_y < near.prompt.series[0].points[-1][1]  # the window is above the peak


def test_compaction_markers_sit_on_their_step() -> None:
    chart = token_chart(
        [10, 20, 5, 8], [1, 1, 1, 1], context_window=30, compaction_steps=[(3, "compaction")]
    )
    (marker,) = chart.compactions
    assert marker.step == 3
    assert marker.x == chart.prompt.series[0].points[2][0]


def test_untimed_steps_fall_back_to_the_step_axis() -> None:
    spans = [
        StepSpan(
            first_step=i,
            last_step=i,
            start=None,
            end=None,
            outcome="ok",
            label="",
            title="",
            anchor=f"step-{i}",
        )
        for i in (1, 2, 3)
    ]
    chart = waterfall(spans)
    assert not chart.timed
    assert [b.x for b in chart.bars] == sorted(b.x for b in chart.bars)
    assert len({b.x for b in chart.bars}) == 3


@pytest.mark.parametrize("top", [0.4, 7, 147.3, 1030, 400_550])
def test_nice_ticks_cover_the_range_in_round_steps(top: float) -> None:
    ticks = nice_ticks(top)
    assert ticks[0] == 0 and ticks[-1] >= top
    steps = {round(b - a, 9) for a, b in itertools.pairwise(ticks)}
    assert len(steps) == 1


def test_identical_loop_steps_are_folded_in_the_transcript_and_the_tool_table() -> None:
    ev = load_bundle(LOOP)
    report = build_run_report(ev)
    steps = [s for s in report.transcript if s.step is not None]
    assert len(steps) == 1
    assert [f.steps for f in steps[0].folded] == [str(i) for i in range(2, len(ev.steps) + 1)]
    (row,) = report.tool_calls
    assert (row.count, row.steps) == (50, "1–50")


def test_html_headline_findings_and_sections_come_in_order() -> None:
    html = render_run_report(load_bundle(LOOP))
    headline = re.search(r'<h1 class="headline[^"]*" id="headline">(.*?)</h1>', html, re.S)
    assert headline is not None
    assert 'data-verdict="failed"' in headline.group(1)
    assert "tool_loop" in headline.group(1)
    order = [
        'id="headline"',
        'id="cause-h"',
        'id="remedy-h"',
        'class="figures"',
        'id="findings-h"',
        'id="wf-h"',
        'id="tk-h"',
        'id="tc-h"',
        'id="tr-h"',
        'id="lim-h"',
    ]
    positions = [html.index(marker) for marker in order]
    assert positions == sorted(positions)
    assert "step-7293a85f-3794-40ef-9f8a-3333c4300df6" in html  # evidence ids are shown


def test_the_page_loads_nothing_and_allows_only_its_own_style_and_script() -> None:
    html = render_run_report(load_bundle(CHAIN))
    assert not re.search(r"""\s(?:src|srcset|action|poster)=""", html)
    assert all(h.startswith("#") for h in re.findall(r'href="([^"]*)"', html))
    assert "@import" not in html and "url(" not in html
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html)
    assert csp is not None
    policy = html_lib.unescape(csp.group(1))
    assert "default-src 'none'" in policy
    for tag in ("style", "script"):
        blocks = re.findall(rf"<{tag}>(.*?)</{tag}>", html, re.S)
        assert len(blocks) == 1
        digest = base64.b64encode(hashlib.sha256(blocks[0].encode()).digest()).decode()
        assert f"{tag}-src 'sha256-{digest}'" in policy


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def test_run_content_is_escaped_everywhere() -> None:
    html = render_run_report(planted(TOOL_ERROR))
    parser = _Tags()
    parser.feed(html)
    names = [t for t, _ in parser.tags]
    assert names.count("script") == 1 and names.count("style") == 1
    assert "img" not in names
    assert not any(a.get("id") == "injected" for _, a in parser.tags)
    assert not any(k.startswith("on") for _, a in parser.tags for k in a)
    assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in html


def test_a_500_step_run_with_large_outputs_stays_under_a_megabyte() -> None:
    ev = long_run(500, tool_output_chars=20_000)
    html = render_run_report(ev)
    assert len(html.encode()) < 1_000_000
    report = build_run_report(ev)
    assert len(report.waterfall.bars) == 500
    assert report.transcript_note is not None  # outputs were cut, and the page says so
    assert "cut" in " ".join(report.limitations)


def _demo_cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--demo", *args], env={"LETTA_BASE_URL": None})
    return result.exit_code, result.stdout, result.stderr


def test_cli_writes_the_report_of_a_demo_run(tmp_path: Path) -> None:
    out = tmp_path / "loop.html"
    code, stdout, stderr = _demo_cli("report", LOOP_RUN, "-o", str(out))
    assert code == 0, stderr
    summary = json.loads(stdout)
    assert summary["verdict"] == "failed" and summary["path"] == str(out)
    assert summary["bytes"] == out.stat().st_size
    assert 'data-verdict="failed"' in out.read_text()
    assert "wrote the report of" in stderr


def test_cli_reads_a_bundle_offline(tmp_path: Path) -> None:
    ev = load_bundle(TOOL_ERROR)
    code, stdout, stderr = _demo_cli("report", ev.run.id, "--bundle", str(TOOL_ERROR))
    assert code == 0, stderr
    assert stdout.startswith("<!doctype html>")
    assert f'data-verdict="{diagnose(ev).verdict}"' in stdout


def test_cli_report_without_a_run_id_is_a_usage_error() -> None:
    code, _, stderr = _demo_cli("report")
    assert code == 2
    assert "RUN_ID" in stderr


def test_hostile_payload_reaches_every_kind_of_content() -> None:
    # The planted run must really carry the payload, or the escaping test proves nothing.
    ev = planted(TOOL_ERROR)
    texts = [getattr(m, "text", "") for m in ev.messages]
    assert sum(HOSTILE[:20] in t for t in texts) >= 3


# --- the triage page -------------------------------------------------------------------------


def _demo_triage(since_days: float = 3650) -> TriageReport:
    async def go() -> TriageReport:
        async with AsyncRunsClient(base_url="demo") as client:
            return await triage_runs(client, since=timedelta(days=since_days))

    return asyncio.run(go())


def test_fleet_chart_counts_every_problem_once_by_root_cause() -> None:
    triage = _demo_triage()
    fleet = build_fleet_report(triage)
    assert fleet.chart is not None
    segments = [seg for col in fleet.chart.columns for seg in col.segments]
    assert sum(seg[3] for seg in segments) == triage.problems
    per_cause: dict[str, int] = {}
    for seg in segments:
        per_cause[seg[0]] = per_cause.get(seg[0], 0) + seg[3]
    assert per_cause == {g.key: g.count for g in triage.by_root_cause}
    tallest = max(col.total for col in fleet.chart.columns)
    top_tick = float(fleet.chart.y_ticks[-1].label)
    assert top_tick >= tallest  # the axis covers the tallest column
    assert [g.key for g in fleet.root_causes] == [g.key for g in triage.by_root_cause]


def test_fleet_times_stay_out_of_the_triage_json() -> None:
    triage = _demo_triage()
    assert len(triage.problem_times) == triage.problems
    assert "problem_times" not in triage.model_dump(mode="json")


def test_fleet_page_links_examples_only_when_their_report_exists() -> None:
    triage = _demo_triage()
    first = triage.by_root_cause[0].examples[0]
    html = render_fleet_report(triage, run_links={first: f"runs/{first}.html"})
    assert f'href="runs/{first}.html"' in html
    assert html.count('class="runlink"') == 1
    other = triage.by_root_cause[1].examples[0]
    assert f"letta-runs report {other} -o {other}.html" in html


def test_cli_writes_the_triage_page_with_linked_run_reports(tmp_path: Path) -> None:
    page = tmp_path / "fleet.html"
    code, stdout, stderr = _demo_cli(
        "report",
        "--triage",
        "--since",
        "3650d",
        "-o",
        str(page),
        "--with-runs",
        str(tmp_path / "runs"),
    )
    assert code == 0, stderr
    summary = json.loads(stdout)
    reports = [Path(p) for p in summary["run_reports"]]
    assert reports and all(p.exists() for p in reports)
    html = page.read_text()
    for p in reports:
        assert f'href="runs/{p.name}"' in html
        assert 'href="../fleet.html"' in p.read_text()  # and back


def test_cli_triage_options_are_checked() -> None:
    assert _demo_cli("report", LOOP_RUN, "--triage")[0] == 2
    assert _demo_cli("report", "--triage", "--with-runs", "x")[0] == 2  # needs -o
    assert _demo_cli("report", LOOP_RUN, "--with-runs", "x")[0] == 2  # needs --triage


def test_compactions_the_diagnosis_found_are_marked_on_the_token_chart() -> None:
    ev = long_run(10, tool_output_chars=200)
    data = ev.model_dump(mode="json", by_alias=True)
    step5 = data["steps"][4]["id"]
    at = next(i for i, m in enumerate(data["messages"]) if m.get("step_id") == step5)
    data["messages"].insert(
        at,
        {
            "id": "message-00000000-0000-4000-8000-00000000c0de",
            "message_type": "summary_message",
            "date": data["messages"][at]["date"],
            "step_id": step5,
            "summary": "The following is a summary of the previous 12 messages: …",
            "compaction_stats": {"messages_count_before": 20, "messages_count_after": 8},
        },
    )
    ev = Evidence.model_validate(data)
    diag = diagnose(ev)
    assert [c.step_index for c in diag.compactions] == [5]
    report = build_run_report(ev, diag)
    assert report.tokens is not None
    (marker,) = report.tokens.compactions
    assert marker.step == 5 and "12 messages hidden" in marker.label
    assert marker.x == report.tokens.prompt.series[0].points[4][0]
    html = render_run_report(ev, diag)
    assert html.count('<line class="compaction"') == 1
