"""Models and pure accumulators for fleet reports: ``TriageReport`` and ``StuckReport``.

The paging itself lives in ``letta_runs.composites`` (it needs a client); everything here works
on one run or diagnosis at a time and keeps only counters and a few example ids, so memory stays
bounded however many runs are scanned.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from pydantic import BaseModel, Field

from ..durations import format_duration
from ..models import Run
from ..operations.catalog import NextStep, render_next_step
from .engine import RunDiagnosis

__all__ = [
    "EXAMPLES_PER_GROUP",
    "ActiveRun",
    "NewestRun",
    "StuckReport",
    "StuckRun",
    "TriageAccumulator",
    "TriageGroup",
    "TriageReads",
    "TriageReport",
    "stuck_reason",
]

EXAMPLES_PER_GROUP = 3
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
PROBLEM_TIMES_CAP = 100_000


class TriageGroup(BaseModel):
    key: str
    count: int
    examples: list[str] = Field(default_factory=list)


class ActiveRun(BaseModel):
    """A run of the window still ``created``/``running``."""

    run_id: str
    agent_id: str | None = None
    status: str | None = None
    created_at: datetime | None = None
    age_seconds: float | None = None


class NewestRun(BaseModel):
    """The newest run the server has (for the agent), inside the window or not."""

    run_id: str
    status: str | None = None
    created_at: datetime | None = None
    age_seconds: float | None = None


class TriageReads(BaseModel):
    """How the window was read: which runs the bulk lists settled, which were read per run."""

    bulk: bool = True
    """Whether the bulk lists were used (``False``: every run read on its own)."""
    steps_bulk: bool | None = None
    """Whether ``GET /v1/steps/`` served the steps (Letta 0.16.8's answers 400 to every query)."""
    from_bulk: int = 0
    """Runs whose verdict the run and its bulk messages (and steps) settled."""
    per_run: int = 0
    per_run_reasons: dict[str, int] = Field(default_factory=dict)
    requests: int = 0
    requests_per_run: float | None = None
    seconds: float | None = None
    bulk_failures: list[str] = Field(default_factory=list)
    """Bulk lists that failed: their runs were read one by one instead (nothing is missing)."""


class TriageReport(BaseModel):
    schema_version: int = 1
    since: datetime | None = None
    """The window's start (``None``: every run, ``--since all``)."""
    window: str | None = None
    """The window as asked (``24h``, ``all``)."""
    agent_id: str | None = None
    statuses: list[str] | None = None
    limit: int | None = None
    """The opt-in cap on runs scanned (``None``: every run of the window)."""
    scanned: int = 0
    """Runs of the window looked at: finished and still active (``active``), read or not."""
    diagnosed: int = 0
    problems: int = 0
    """Runs whose verdict is neither ``ok`` nor ``running``."""
    active: int = 0
    """Runs of the window still ``created``/``running`` (counted in ``scanned``)."""
    active_runs: list[ActiveRun] = Field(default_factory=list)
    other_statuses: dict[str, int] = Field(default_factory=dict)
    """Runs of the window left out by ``statuses``, per status."""
    newest_run: NewestRun | None = None
    """Set when the window holds no run: the newest run there is, and how old it is."""
    widen_since: str | None = None
    """A ``--since`` that would include ``newest_run``."""
    verdicts: dict[str, int] = Field(default_factory=dict)
    by_root_cause: list[TriageGroup] = Field(default_factory=list)
    by_stop_reason: list[TriageGroup] = Field(default_factory=list)
    by_error_type: list[TriageGroup] = Field(default_factory=list)
    by_tool: list[TriageGroup] = Field(default_factory=list)
    hidden_failures: int = 0
    """Runs the server calls ``completed`` that the diagnosis calls failed."""
    errors: list[str] = Field(default_factory=list)
    """Runs (or lists) that could not be read, with the reason (the first 20)."""
    failed_reads: int = 0
    """Reads that failed, every endpoint counted (``read_errors`` splits them)."""
    read_errors: dict[str, int] = Field(default_factory=dict)
    truncated: bool = False
    reads: TriageReads | None = None
    next_steps: list[str] = Field(default_factory=list)
    """The CLI rendering of ``next_actions`` (kept for existing readers)."""
    next_actions: list[NextStep] = Field(default_factory=list)
    """What to do next as catalog operations; each face renders them in its own names."""
    problem_times: list[tuple[datetime, str]] = Field(default_factory=list, exclude=True)
    """(created_at, root cause) of each problem run, for charts over time (the HTML triage
    page); kept out of the JSON, whose size is budgeted. At most ``PROBLEM_TIMES_CAP``."""


class _Counter:
    """Counts per key, with the newest runs of each key as its examples. Reads finish in any
    order, so nothing here depends on the order runs are added: groups sort by count, then key;
    examples by creation time (newest first), then id."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.examples: dict[str, list[tuple[datetime, str]]] = {}

    def add(self, key: str, run_id: str, created_at: datetime | None = None) -> None:
        self.counts[key] += 1
        ex = self.examples.setdefault(key, [])
        ex.append((created_at or _EPOCH, run_id))
        if len(ex) > EXAMPLES_PER_GROUP:
            ex.sort(reverse=True)
            del ex[EXAMPLES_PER_GROUP:]

    def groups(self) -> list[TriageGroup]:
        return [
            TriageGroup(
                key=k, count=c, examples=[rid for _, rid in sorted(self.examples[k], reverse=True)]
            )
            for k, c in _by_count(self.counts)
        ]


def _by_count(counts: Counter[str]) -> list[tuple[str, int]]:
    """Largest first; equal counts by key, so the order never depends on arrival."""
    return sorted(counts.items(), key=lambda kc: (-kc[1], kc[0]))


class TriageAccumulator:
    """Feed runs (and their diagnoses) one at a time; ``report()`` at the end."""

    def __init__(
        self, *, since: datetime | None, agent_id: str | None, statuses: list[str] | None
    ) -> None:
        self.report_base = TriageReport(since=since, agent_id=agent_id, statuses=statuses)
        self.verdicts: Counter[str] = Counter()
        self.root = _Counter()
        self.stop = _Counter()
        self.error_type = _Counter()
        self.tool = _Counter()
        self.errors: list[str] = []

    def add_run(self, run: Run) -> None:
        """Count a run without a diagnosis (``diagnose_each=False``)."""
        self.report_base.scanned += 1
        self.stop.add(run.stop_reason or f"none ({run.status})", run.id, run.created_at)
        self.verdicts[run.status or "unknown"] += 1
        if run.status != "completed":
            self.report_base.problems += 1

    def add_diagnosis(
        self, diag: RunDiagnosis, *, step_error_types: list[str] | None = None
    ) -> None:
        base = self.report_base
        base.scanned += 1
        base.diagnosed += 1
        self.verdicts[diag.verdict] += 1
        if diag.verdict in ("ok", "running"):
            return
        base.problems += 1
        if diag.status == "completed" and diag.verdict == "failed":
            base.hidden_failures += 1
        root = diag.root_cause.kind if diag.root_cause else diag.verdict
        self.root.add(root, diag.run_id, diag.created_at)
        if diag.created_at is not None and len(base.problem_times) < PROBLEM_TIMES_CAP:
            base.problem_times.append((diag.created_at, root))
        self.stop.add(
            diag.effective_stop_reason or f"none ({diag.status})", diag.run_id, diag.created_at
        )
        for et in sorted(set(step_error_types or [])):
            self.error_type.add(et, diag.run_id, diag.created_at)
        names = {f.tool_name for f in diag.findings if f.tool_name and f.severity == "error"}
        for name in sorted(names):
            self.tool.add(name, diag.run_id, diag.created_at)

    def add_error(self, run_id: str, message: str) -> None:
        """A run that could not be read: scanned, not diagnosed."""
        self.report_base.scanned += 1
        self.note_error(f"{run_id}: {message}")

    def note_error(self, text: str) -> None:
        if len(self.errors) < 20:
            self.errors.append(text)

    def report(self) -> TriageReport:
        out = self.report_base.model_copy()
        out.verdicts = dict(_by_count(self.verdicts))
        out.by_root_cause = self.root.groups()
        out.by_stop_reason = self.stop.groups()
        out.by_error_type = self.error_type.groups()
        out.by_tool = self.tool.groups()
        out.errors = sorted(self.errors)
        top = out.by_root_cause[0].examples[0] if out.by_root_cause else None
        if top:
            out.next_actions = [
                NextStep(
                    operation="diagnose_run",
                    args={"run_id": top},
                    why="the post-mortem of an example of the largest group",
                ),
                NextStep(operation="run_timeline", args={"run_id": top}, why="its steps in order"),
            ]
        out.next_steps = [render_next_step(step, "cli") for step in out.next_actions]
        return out


class StuckRun(BaseModel):
    run_id: str
    agent_id: str | None = None
    status: str | None = None
    stop_reason: str | None = None
    run_type: str | None = None
    background: bool | None = None
    created_at: datetime | None = None
    age_seconds: float | None = None
    reason: str
    next_step: str
    """The CLI rendering of ``next_action``."""
    next_action: NextStep | None = None
    last_message_at: datetime | None = None
    """When the run last wrote a message (``None``: nothing in the messages read)."""
    idle_seconds: float | None = None
    """Seconds since ``last_message_at``."""


class StuckReport(BaseModel):
    schema_version: int = 1
    older_than_seconds: float
    checked: int = 0
    """Active runs (created/running) looked at, every one of them."""
    stuck: list[StuckRun] = Field(default_factory=list)
    active_young: int = 0
    """Active runs younger than the threshold (probably just working)."""
    activity_read_since: datetime | None = None
    """Messages newer than this were read for ``last_message_at`` (``None``: all of them); a
    stuck run without a ``last_message_at`` wrote nothing since then."""


def stuck_reason(run: Run, *, older_than: float, now: datetime | None = None) -> StuckRun | None:
    """Why ``run`` looks stuck, or ``None``. Pure."""
    now = now or datetime.now(UTC)
    age = (now - run.created_at).total_seconds() if run.created_at else None
    if run.is_terminal:
        return None
    if run.stop_reason:
        reason = f"stop_reason {run.stop_reason!r} is set but status is still {run.status!r}"
    elif age is not None and age > older_than:
        reason = f"still {run.status!r} after {format_duration(age, words=True)}"
        if run.status == "created" and run.run_type in (
            "send_message",
            "send_conversation_message",
        ):
            reason += (
                " (sync runs stay 'created' while executing; a non-streaming conversation "
                "message leaves its run 'created' forever)"
            )
    else:
        return None
    action = NextStep(operation="diagnose_run", args={"run_id": run.id}, why="why it is stuck")
    return StuckRun(
        run_id=run.id,
        agent_id=run.agent_id,
        status=run.status,
        stop_reason=run.stop_reason,
        run_type=run.run_type,
        background=run.background,
        created_at=run.created_at,
        age_seconds=round(age, 1) if age is not None else None,
        reason=reason,
        next_step=render_next_step(action, "cli"),
        next_action=action,
    )
