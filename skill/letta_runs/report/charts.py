"""Chart geometry for the HTML reports (pure): coordinates in SVG user units, ready to print.

Templates only place what is computed here (``<rect x=… y=…>``, ``<polyline points=…>``), so
every chart is static SVG that needs no script, and its geometry is testable without a browser.

* :func:`waterfall` — one bar per step on a time axis, consecutive steps of a loop as one band;
* :func:`token_chart` — prompt and completion tokens per step, the context window as a line,
  compaction events as markers;
* :func:`time_histogram` — problems per time bucket, stacked by category (the fleet page).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, Field

__all__ = [
    "Bar",
    "CountColumn",
    "Histogram",
    "Marker",
    "Outcome",
    "Series",
    "StepSpan",
    "Tick",
    "TokenChart",
    "Waterfall",
    "nice_ticks",
    "time_histogram",
    "token_chart",
    "waterfall",
]

Outcome = Literal["ok", "error", "loop", "open"]
"""How a step ended: ``ok``, ``error`` (failed step or tool error), ``loop`` (part of a repeated
tool call), ``open`` (pending, cancelled or unknown)."""

CHART_WIDTH = 960.0
LABEL_GUTTER = 190.0
RIGHT_PAD = 24.0
AXIS_HEIGHT = 34.0
TOP_PAD = 8.0
MAX_PLOT_HEIGHT = 560.0
ROW_MIN, ROW_MAX = 1.5, 24.0
LABEL_MIN_ROW = 13.0
"""Rows at least this tall carry a text label; thinner rows keep theirs in the tooltip."""
MIN_BAR = 2.0
BAND_MIN, BAND_MAX = 34.0, 60.0
INNER_LABEL_MIN_WIDTH = 300.0


class Tick(BaseModel):
    pos: float
    label: str


class StepSpan(BaseModel):
    """One step (or a run of loop steps) with its estimated place on the time axis."""

    first_step: int
    last_step: int
    start: float | None
    """Seconds after the run started; ``None`` when no message of the step carries a date."""
    end: float | None
    outcome: Outcome
    label: str
    title: str
    anchor: str
    tokens: int | None = None
    inner: str | None = None
    """Text drawn inside a band when it is wide enough."""
    step_starts: list[float] = Field(default_factory=list)
    """For a band: where each of its steps after the first begins (drawn as thin ticks)."""


class Bar(BaseModel):
    kind: Literal["step", "band"]
    x: float
    y: float
    w: float
    h: float
    outcome: Outcome
    label: str
    title: str
    anchor: str
    first_step: int
    last_step: int
    steps: int
    show_label: bool
    label_y: float
    inner: str | None = None
    ticks: list[float] = Field(default_factory=list)


class Waterfall(BaseModel):
    width: float
    height: float
    gutter: float
    plot_top: float
    plot_bottom: float
    plot_right: float
    bars: list[Bar]
    ticks: list[Tick]
    axis_label: str
    timed: bool
    first_label: str = ""
    last_label: str = ""
    """Where the rows start and end, written in the gutter when rows are too thin for labels."""
    """False when no step could be placed in time: the axis is then the step number."""


def nice_ticks(top: float, *, count: int = 5, whole: bool = False) -> list[float]:
    """Round tick values from 0 to at least ``top`` (1, 2, 2.5 or 5 × 10^k apart);
    ``whole``: counts, so steps of at least 1 and never 2.5."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / max(count, 1)
    mag = 10 ** math.floor(math.log10(raw))
    multipliers = (1, 2, 5, 10) if whole else (1, 2, 2.5, 5, 10)
    step = next(m * mag for m in multipliers if m * mag >= raw)
    if whole:
        step = max(step, 1.0)
    n = math.ceil(top / step - 1e-9)
    return [round(i * step, 10) for i in range(n + 1)]


def waterfall(spans: Sequence[StepSpan]) -> Waterfall:
    """Lay out ``spans`` (in run order) as rows of a waterfall.

    Spans without a time are laid end to end after the previous span with a nominal width; when
    no span has a time at all, the axis becomes the step number (``timed=False``).
    """
    timed = any(s.start is not None and s.end is not None for s in spans)
    rows = max(len(spans), 1)
    row_h = max(ROW_MIN, min(ROW_MAX, MAX_PLOT_HEIGHT / rows))
    # A band stands for many steps: it is drawn taller than a step so a loop reads at a glance.
    heights = [
        min(max(row_h * 2.5, BAND_MIN), BAND_MAX) if s.last_step > s.first_step else row_h
        for s in spans
    ]
    plot_top = TOP_PAD
    plot_bottom = plot_top + sum(heights)
    plot_left, plot_right = LABEL_GUTTER, CHART_WIDTH - RIGHT_PAD
    plot_w = plot_right - plot_left

    placed: list[tuple[float, float]] = []
    if timed:
        cursor = 0.0
        for s in spans:
            start = s.start if s.start is not None else cursor
            end = s.end if s.end is not None else start
            placed.append((start, max(end, start)))
            cursor = max(cursor, end)
        total = max((e for _, e in placed), default=0.0)
    else:
        for s in spans:
            placed.append((float(s.first_step - 1), float(s.last_step)))
        total = float(spans[-1].last_step) if spans else 1.0
    # Ticks in one unit: minutes once the run is longer than ten minutes.
    unit = 60.0 if timed and total > 600 else 1.0
    ticks_v = [v * unit for v in nice_ticks((total if total > 0 else 1.0) / unit, count=6)]
    domain = ticks_v[-1] or 1.0
    scale = plot_w / domain

    bars: list[Bar] = []
    row_top = plot_top
    for s, (start, end), rh in zip(spans, placed, heights, strict=True):
        x = plot_left + start * scale
        w = max((end - start) * scale, MIN_BAR)
        if x + w > plot_right:
            x = max(plot_right - w, plot_left)
        y = row_top + (1.0 if rh >= 8 else 0.0)
        h = rh - (2.0 if rh >= 8 else 0.6)
        band = s.last_step > s.first_step
        bars.append(
            Bar(
                kind="band" if band else "step",
                x=round(x, 1),
                y=round(y, 1),
                w=round(w, 1),
                h=round(h, 1),
                outcome=s.outcome,
                label=s.label,
                title=s.title,
                anchor=s.anchor,
                first_step=s.first_step,
                last_step=s.last_step,
                steps=s.last_step - s.first_step + 1,
                show_label=rh >= LABEL_MIN_ROW,
                label_y=round(row_top + rh / 2 + 4, 1),
                inner=s.inner if band and w >= INNER_LABEL_MIN_WIDTH else None,
                ticks=[round(plot_left + t * scale, 1) for t in s.step_starts if timed],
            )
        )
        row_top += rh
    ticks = [
        Tick(
            pos=round(plot_left + v * scale, 1),
            label=(f"{v / 60:g} min" if unit == 60.0 else f"{v:g} s") if timed else f"{v:g}",
        )
        for v in ticks_v
    ]
    return Waterfall(
        width=CHART_WIDTH,
        height=round(plot_bottom + AXIS_HEIGHT, 1),
        gutter=plot_left,
        plot_top=plot_top,
        plot_bottom=round(plot_bottom, 1),
        plot_right=plot_right,
        bars=bars,
        ticks=ticks,
        first_label=f"step {spans[0].first_step}" if spans else "",
        last_label=f"step {spans[-1].last_step}" if spans else "",
        axis_label="time since the run started (estimated from message times)"
        if timed
        else "step number (no step could be placed in time)",
        timed=timed,
    )


# --- tokens per step ---------------------------------------------------------------------------


class Series(BaseModel):
    name: str
    css: str
    points: list[tuple[float, float]]
    """Plot coordinates, one per step that reported this count."""
    steps: list[int]

    @property
    def svg_points(self) -> str:
        return " ".join(f"{x:g},{y:g}" for x, y in self.points)


class Marker(BaseModel):
    x: float
    step: int
    label: str


class Panel(BaseModel):
    top: float
    bottom: float
    series: list[Series]
    ticks: list[Tick]
    title: str
    domain: float
    """The value at the top of the panel."""

    def y_of(self, value: float) -> float:
        return round(self.bottom - (self.bottom - self.top) * (value / self.domain), 1)


class TokenChart(BaseModel):
    width: float
    height: float
    left: float
    right: float
    prompt: Panel
    completion: Panel
    window_y: float | None = None
    window_label: str | None = None
    window_off_scale: bool = False
    compactions: list[Marker] = Field(default_factory=list)
    x_ticks: list[Tick] = Field(default_factory=list)
    dots: bool = True
    """Draw a dot per point (short runs); long runs are lines only."""


def _fmt_tokens(v: float) -> str:
    if v >= 1_000_000:
        return f"{v / 1_000_000:g}M"
    if v >= 1000:
        return f"{v / 1000:g}k"
    return f"{v:g}"


def _panel(
    title: str,
    series_values: list[tuple[str, str, list[int | None]]],
    *,
    top: float,
    bottom: float,
    x_of: list[float],
    ceiling: float,
) -> Panel:
    ticks_v = nice_ticks(ceiling, count=4, whole=True)
    domain = ticks_v[-1] or 1.0
    height = bottom - top

    def y_of(v: float) -> float:
        return round(bottom - height * (v / domain), 1)

    series: list[Series] = []
    for name, css, values in series_values:
        pts = [(x_of[i], y_of(v)) for i, v in enumerate(values) if v is not None]
        steps = [i + 1 for i, v in enumerate(values) if v is not None]
        series.append(Series(name=name, css=css, points=pts, steps=steps))
    ticks = [Tick(pos=y_of(v), label=_fmt_tokens(v)) for v in ticks_v]
    return Panel(top=top, bottom=bottom, series=series, ticks=ticks, title=title, domain=domain)


def token_chart(
    prompt: Sequence[int | None],
    completion: Sequence[int | None],
    *,
    context_window: int | None,
    compaction_steps: Sequence[tuple[int, str]] = (),
) -> TokenChart:
    """Prompt tokens (with the context window) above, completion tokens below, per step.

    The prompt panel is scaled to the context window when the peak reaches at least a third of
    it; otherwise to the peak, and the window is named as off the scale (a flat line at the top
    would hide every variation below it).
    """
    n = max(len(prompt), 1)
    left, right = 70.0, CHART_WIDTH - RIGHT_PAD
    slot = (right - left) / n
    x_of = [round(left + (i + 0.5) * slot, 1) for i in range(n)]
    peak = max((v for v in prompt if v is not None), default=0)
    on_scale = bool(context_window) and peak >= (context_window or 0) / 3
    ceiling = float(max(peak, context_window or 0)) if on_scale else float(peak) * 1.1
    top_panel = _panel(
        "prompt tokens",
        [("prompt tokens", "prompt", list(prompt))],
        top=18.0,
        bottom=190.0,
        x_of=x_of,
        ceiling=max(ceiling, 1.0),
    )
    c_peak = max((v for v in completion if v is not None), default=0)
    bottom_panel = _panel(
        "completion tokens",
        [("completion tokens", "completion", list(completion))],
        top=226.0,
        bottom=316.0,
        x_of=x_of,
        ceiling=max(float(c_peak) * 1.1, 1.0),
    )
    window_y = top_panel.y_of(context_window) if context_window and on_scale else None
    step_ticks = nice_ticks(float(n), count=min(n, 10))
    x_ticks = [
        Tick(pos=round(left + (v - 0.5) * slot, 1), label=f"{v:g}")
        for v in step_ticks
        if 1 <= v <= n
    ]
    if not x_ticks or x_ticks[0].label != "1":
        x_ticks.insert(0, Tick(pos=x_of[0], label="1"))
    markers = [
        Marker(x=x_of[min(max(step, 1), n) - 1], step=step, label=label)
        for step, label in compaction_steps
    ]
    return TokenChart(
        width=CHART_WIDTH,
        height=350.0,
        left=left,
        right=right,
        prompt=top_panel,
        completion=bottom_panel,
        window_y=window_y,
        window_label=f"context window {context_window:,}" if context_window else None,
        window_off_scale=bool(context_window) and not on_scale,
        compactions=markers,
        x_ticks=x_ticks,
        dots=n <= 80,
    )


# --- the fleet page: problems over time -----------------------------------------------------------


class CountColumn(BaseModel):
    x: float
    w: float
    start: datetime
    label: str
    segments: list[tuple[str, float, float, int]]
    """(category, y, height, count) from the bottom up."""
    total: int


class Histogram(BaseModel):
    width: float
    height: float
    left: float
    right: float
    bottom: float
    columns: list[CountColumn]
    categories: list[str]
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    bucket: str


def _bucket_size(span: timedelta) -> tuple[timedelta, str]:
    for size, name in (
        (timedelta(minutes=5), "5-minute"),
        (timedelta(minutes=15), "15-minute"),
        (timedelta(hours=1), "1-hour"),
        (timedelta(hours=3), "3-hour"),
        (timedelta(hours=6), "6-hour"),
        (timedelta(days=1), "1-day"),
        (timedelta(days=7), "7-day"),
    ):
        if span / size <= 36:
            return size, name
    return timedelta(days=30), "30-day"


def time_histogram(
    events: Sequence[tuple[datetime, str]],
    *,
    start: datetime,
    end: datetime,
    categories: Sequence[str],
) -> Histogram:
    """Stacked columns of ``(time, category)`` events between ``start`` and ``end``."""
    size, name = _bucket_size(max(end - start, timedelta(minutes=5)))
    # Columns begin on round times (…:00, …:15, 00:00 UTC) so their labels read naturally.
    epoch = datetime(2000, 1, 1, tzinfo=start.tzinfo)
    start = epoch + ((start - epoch) // size) * size
    n = max(math.ceil((end - start) / size), 1)
    counts: list[dict[str, int]] = [dict.fromkeys(categories, 0) for _ in range(n)]
    for at, cat in events:
        idx = min(max(int((at - start) / size), 0), n - 1)
        counts[idx][cat] = counts[idx].get(cat, 0) + 1
    top = max((sum(c.values()) for c in counts), default=0)
    y_ticks_v = nice_ticks(float(max(top, 1)), count=3, whole=True)
    domain = y_ticks_v[-1] or 1.0
    left, right, top_y, bottom = 50.0, CHART_WIDTH - RIGHT_PAD, 10.0, 150.0
    slot = (right - left) / n
    columns: list[CountColumn] = []
    for i, c in enumerate(counts):
        y = bottom
        segments: list[tuple[str, float, float, int]] = []
        for cat in categories:
            count = c.get(cat, 0)
            if not count:
                continue
            h = (bottom - top_y) * count / domain
            y -= h
            segments.append((cat, round(y, 1), round(h, 1), count))
        at = start + i * size
        columns.append(
            CountColumn(
                x=round(left + i * slot + slot * 0.1, 1),
                w=round(slot * 0.8, 1),
                start=at,
                label=at.strftime("%Y-%m-%d %H:%M"),
                segments=segments,
                total=sum(c.values()),
            )
        )
    every = max(1, math.ceil(n / 8))
    fmt = "%m-%d" if size >= timedelta(days=1) else "%H:%M"
    x_ticks = [
        Tick(pos=round(left + i * slot, 1), label=(start + i * size).strftime(fmt))
        for i in range(0, n, every)
    ]
    y_ticks = [
        Tick(pos=round(bottom - (bottom - top_y) * v / domain, 1), label=f"{v:g}")
        for v in y_ticks_v
    ]
    return Histogram(
        width=CHART_WIDTH,
        height=bottom + 28.0,
        left=left,
        right=right,
        bottom=bottom,
        columns=columns,
        categories=list(categories),
        y_ticks=y_ticks,
        x_ticks=x_ticks,
        bucket=name,
    )
