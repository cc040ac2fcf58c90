"""Evidence for a window of runs, read with the bulk lists instead of run by run.

``read_window`` walks up to three lists newest → oldest together — runs (``/v1/runs/``, 1,000 a
page), messages (``/v1/messages/``, or the agent's own list when the window is one agent's) and,
where the server's ``/v1/steps/`` works, steps — and yields each run of the window with the
messages (and steps) that belong to it, newest run first. Memory holds only the runs whose items
are still arriving, never the whole window.

When is a run's part of a list complete? Both lists are in the server's insertion order, and a
run's items are all written after the run was created. A run that *completed* wrote all its items
before its ``completed_at`` (Letta finalises a run after its agent loop returns), so once a walk
has passed an item of a completed run R' whose ``completed_at`` is earlier than ``R.created_at``,
nothing further down the list can belong to R. Cancelled runs (their tool keeps writing) and runs
waiting on an approval are not used as such landmarks. This rule is pinned against the real
server in the integration suite.

A run's bulk messages stand in for ``GET /v1/runs/{id}/messages`` only where the server renders
them the same way: the all-agents list renders text as ``assistant_message`` for every agent, the
run's list only for a ``letta_v1_agent`` (so each agent's type is read once), and the run's list
applies the run's ``include_return_message_types`` (applied here too). Whatever is not proven is
handed back without bulk messages, with the reason, and the caller reads it per run.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ._exceptions import LettaRunsError, NotSupportedError
from .diagnosis.outcome import agent_type_decides
from .evidence import AgentProfile, EndpointError, Evidence, gather_evidence
from .models import Message, Run, Step, ToolReturnMessage

if TYPE_CHECKING:
    from ._client import AsyncRunsClient
    from ._pagination import AsyncPage

__all__ = [
    "DEFAULT_CONCURRENCY",
    "LANDMARK_MARGIN",
    "MESSAGES_PAGE",
    "RUNS_PAGE",
    "STEPS_PAGE",
    "ScanResult",
    "ScanStats",
    "WindowRead",
    "WindowRun",
    "bulk_evidence",
    "read_window",
    "scan_window",
]

RUNS_PAGE = 1000
"""The server's cap for ``/v1/runs/``."""
MESSAGES_PAGE = 2000
"""Internal messages per bulk page (the server has no cap; about 1–2 MB of JSON)."""
STEPS_PAGE = 1000
LANDMARK_MARGIN = timedelta(seconds=1)
"""Clock slack between a landmark's ``completed_at`` and a run's ``created_at``."""
GIVE_UP_PAGES = 3
GIVE_UP_LAG = timedelta(minutes=30)
"""A walk that has read this many pages whose newest item is this much older than a run, and
still met no landmark for it, stops waiting: the run is handed back to be read per run."""
V1_AGENT = "letta_v1_agent"
AGENT_LOOKUPS = 4
"""Agents whose type is read at the same time."""
ASSISTANT_TOOL = "send_message"
ACTIVE_EXAMPLES = 20

T = TypeVar("T", Message, Step)


@dataclass
class WindowRun:
    """One finished run of the window and what the bulk lists hold about it.

    ``messages`` / ``steps`` are oldest first, or ``None`` when the bulk lists cannot stand in for
    the run's own list; ``per_run_reason`` then says why, and the caller reads them per run.
    """

    run: Run
    messages: list[Message] | None
    steps: list[Step] | None
    per_run_reason: str | None = None
    agent_type: str | None = None
    """The agent's type when the window read it anyway (the all-agents messages list)."""

    @property
    def agent(self) -> AgentProfile | None:
        """What the window knows of the run's agent: its type, never its tools."""
        if self.agent_type is None:
            return None
        return AgentProfile(id=self.run.agent_id, agent_type=self.agent_type)

    @property
    def active(self) -> bool:
        """Still ``created``/``running``: its items may still be arriving."""
        return not self.run.is_terminal


@dataclass
class WindowRead:
    """What ``read_window`` saw (filled in while it walks)."""

    since: datetime | None
    agent_id: str | None
    statuses: list[str] | None
    limit: int | None
    listed: int = 0
    """Runs created in the window, every status."""
    finished: int = 0
    """Finished runs yielded (in the statuses asked for)."""
    active: int = 0
    active_examples: list[Run] = field(default_factory=list)
    other_statuses: Counter[str] = field(default_factory=Counter)
    newest: Run | None = None
    """The newest run of the runs list (inside the window or not)."""
    truncated: bool = False
    requests: Counter[str] = field(default_factory=Counter)
    steps_bulk: bool | None = None
    """Whether ``/v1/steps/`` served the window's steps (``False``: broken or not asked)."""
    bulk: bool = True
    """Whether the bulk lists were read at all (``False``: runs list only)."""
    bulk_failures: list[str] = field(default_factory=list)
    """Bulk lists that failed; the runs they would have served were read one by one instead."""


X = TypeVar("X")


class _PageReader(Generic[X]):
    """The pages of one list in order, the next one already requested while the current one is
    used (a page's cursor is known as soon as it arrives), so network time overlaps work."""

    def __init__(self, first: Callable[[], Awaitable[AsyncPage[X]]]) -> None:
        self._first: Callable[[], Awaitable[AsyncPage[X]]] | None = first
        self._ahead: asyncio.Task[AsyncPage[X] | None] | None = None
        self.requests = 0

    def start(self) -> None:
        """Ask for the first page now, to be awaited by ``next``."""
        if self._first is not None:
            first, self._first = self._first, None
            self.requests += 1
            self._ahead = asyncio.ensure_future(first())

    async def next(self) -> AsyncPage[X] | None:
        """The next page, or ``None`` at the end; errors of the request are raised here."""
        if self._first is not None:
            first, self._first = self._first, None
            self.requests += 1
            page: AsyncPage[X] | None = await first()
        elif self._ahead is not None:
            ahead, self._ahead = self._ahead, None
            page = await ahead
        else:
            return None
        if page is not None and page.items and page.has_next_page():
            self.requests += 1
            self._ahead = asyncio.create_task(page.next_page())
        return page if page is not None and page.items else None

    def close(self) -> None:
        """Drop a page asked for ahead that is no longer needed."""
        ahead, self._ahead = self._ahead, None
        if ahead is None:
            return
        if ahead.done():
            if not ahead.cancelled():
                ahead.exception()  # retrieved: an unused page's error is not an error
        else:
            ahead.cancel()


class _Walk(Generic[T]):
    """One bulk list walked newest → oldest; items are kept per run until the run is done."""

    def __init__(self, name: str, first: Callable[[], Awaitable[AsyncPage[T]]]) -> None:
        self.name = name
        self.pages: _PageReader[T] = _PageReader(first)
        self.done = False
        self.failed: str | None = None
        self.watermark: datetime | None = None
        """Every item not read yet was written before this time (``None``: not known yet)."""
        self.oldest_date: datetime | None = None
        self.page_dates: list[datetime] = []
        """The newest item date of each page read."""
        self.items: dict[str, list[T]] = {}

    @property
    def requests(self) -> int:
        return self.pages.requests

    async def next_page(self) -> list[T]:
        """The next page's items, newest first (an ascending bulk page read from its end)."""
        try:
            page = await self.pages.next()
        except NotSupportedError:
            raise
        except LettaRunsError as exc:
            self.done, self.failed = True, exc.message
            return []
        if page is None:
            self.done = True
            return []
        return page.items if self.name == "steps" else list(reversed(page.items))

    def complete_for(self, run: Run) -> bool:
        if self.done:
            return self.failed is None
        return (
            run.created_at is not None
            and self.watermark is not None
            and self.watermark + LANDMARK_MARGIN < run.created_at
        )

    def gave_up_on(self, run: Run) -> bool:
        if run.created_at is None:
            return True
        limit = run.created_at - GIVE_UP_LAG
        return sum(1 for d in self.page_dates if d < limit) >= GIVE_UP_PAGES


def _landmark(run: Run) -> datetime | None:
    """When every item of ``run`` had been written, if the run says so."""
    if (
        run.status == "completed"
        and run.completed_at is not None
        and run.stop_reason not in ("requires_approval", "cancelled")
    ):
        return run.completed_at
    return None


def _item_date(item: Any) -> datetime | None:
    date = getattr(item, "date", None)
    return date if isinstance(date, datetime) else None


async def read_window(
    client: AsyncRunsClient,
    *,
    since: datetime | None,
    agent_id: str | None = None,
    statuses: list[str] | None = None,
    limit: int | None = None,
    stats: WindowRead | None = None,
    bulk: bool = True,
    read_steps: bool = True,
    include_active: bool = False,
    messages_page: int = MESSAGES_PAGE,
    steps_page: int = STEPS_PAGE,
) -> AsyncIterator[WindowRun]:
    """Every finished run created at or after ``since`` (all runs when ``None``), newest first,
    with its bulk messages and steps.

    Runs still ``created``/``running`` are counted in ``stats.active`` and yielded (without bulk
    items: theirs are still arriving) only with ``include_active``; ``statuses`` keeps only runs
    in those statuses (the others are counted in ``stats.other_statuses``); ``limit`` stops after
    that many runs of the window (``stats.truncated``). ``bulk=False`` reads the runs list alone
    (every run is handed back to be read per run); ``read_steps=False`` skips ``/v1/steps/``.

    >>> async for item in read_window(client, since=now - timedelta(days=1)):   # doctest: +SKIP
    ...     item.run.id, len(item.messages or [])
    """
    stats = stats or WindowRead(since=since, agent_id=agent_id, statuses=statuses, limit=limit)

    async def first_messages() -> AsyncPage[Message]:
        if agent_id is not None:
            return await client.agents.messages.list(agent_id, limit=messages_page)
        return await client.messages.list(limit=messages_page)

    async def first_steps() -> AsyncPage[Step]:
        start = since - LANDMARK_MARGIN if since is not None else None
        return await client.steps.list(
            start_date=start, agent_id=agent_id, limit=steps_page, order="desc"
        )

    reader = _WindowReader(
        client, stats, since=since, statuses=statuses, limit=limit, include_active=include_active
    )
    stats.bulk = bulk
    if bulk:
        reader.messages = _Walk("messages", first_messages)
    if bulk and read_steps and client.steps.supported is not False:
        reader.steps = _Walk("steps", first_steps)
    else:
        stats.steps_bulk = False
    async for item in reader.read():
        yield item


class _WindowReader:
    def __init__(
        self,
        client: AsyncRunsClient,
        stats: WindowRead,
        *,
        since: datetime | None,
        statuses: list[str] | None,
        limit: int | None,
        include_active: bool,
    ) -> None:
        self.client = client
        self.stats = stats
        self.since = since
        self.wanted = set(statuses) if statuses else None
        self.limit = limit
        self.include_active = include_active
        self.active_ready: deque[Run] = deque()
        self.messages: _Walk[Message] | None = None
        self.steps: _Walk[Step] | None = None
        self.pending: deque[Run] = deque()  # newest first
        self.pending_ids: set[str] = set()
        self.landmarks: dict[str, datetime] = {}
        self.runs: _PageReader[Run] = _PageReader(
            lambda: client.runs.list(agent_id=stats.agent_id, limit=RUNS_PAGE)
        )
        self.runs_done = False
        self.oldest_listed: datetime | None = None
        self.agent_lookups: dict[str, asyncio.Future[str | None]] = {}
        self.agent_slots = asyncio.Semaphore(AGENT_LOOKUPS)

    # -- runs

    async def _more_runs(self) -> None:
        page = await self.runs.next()
        if page is None:
            self.runs_done = True
            return
        for run in page.items:
            self._take(run)
        if self.runs_done:
            self.runs.close()
            self._forget_unclaimed()

    def _take(self, run: Run) -> None:
        stats = self.stats
        if stats.newest is None:
            stats.newest = run
        landmark = _landmark(run)
        if landmark is not None:
            self.landmarks[run.id] = landmark
        if run.created_at is not None:
            self.oldest_listed = run.created_at
        if self.runs_done:
            return  # past the window: only a landmark
        if self.since is not None and run.created_at is not None and run.created_at < self.since:
            self.runs_done = True
            return
        if self.limit is not None and stats.listed >= self.limit:
            stats.truncated = self.runs_done = True
            return
        stats.listed += 1
        if self.wanted is not None and run.status not in self.wanted:
            stats.other_statuses[run.status or "unknown"] += 1
            return
        if not run.is_terminal:
            stats.active += 1
            if len(stats.active_examples) < ACTIVE_EXAMPLES:
                stats.active_examples.append(run)
            if self.include_active:
                self.active_ready.append(run)
            return
        self.pending.append(run)
        self.pending_ids.add(run.id)
        self._look_up_agent(run.agent_id)

    def _forget_unclaimed(self) -> None:
        for walk in (self.messages, self.steps):
            if walk is not None:
                for run_id in [r for r in walk.items if r not in self.pending_ids]:
                    del walk.items[run_id]

    # -- walks

    async def _advance(self, walk: _Walk[Any]) -> None:
        items = await walk.next_page()
        newest: datetime | None = None
        for item in items:
            date = _item_date(item)
            if date is not None:
                newest = date if newest is None or date > newest else newest
                if walk.oldest_date is None or date < walk.oldest_date:
                    walk.oldest_date = date
            run_id = item.run_id
            if not run_id:
                continue
            landmark = self.landmarks.get(run_id)
            if landmark is not None and (walk.watermark is None or landmark < walk.watermark):
                walk.watermark = landmark
            if run_id in self.pending_ids or not self.runs_done:
                walk.items.setdefault(run_id, []).append(item)
        if newest is not None:
            walk.page_dates.append(newest)
        if not self.runs_done:
            return
        for run_id in [r for r in walk.items if r not in self.pending_ids]:
            del walk.items[run_id]

    def _behind(self, run: Run) -> _Walk[Any] | None:
        for walk in (self.messages, self.steps):
            if walk is None or walk.done:
                continue
            if not walk.complete_for(run) and not walk.gave_up_on(run):
                return walk
        return None

    def _runs_lag(self, walk: _Walk[Any]) -> bool:
        """The walk reads items that may belong to runs the runs list has not reached yet."""
        if self.runs_done:
            return False
        if self.oldest_listed is None or walk.oldest_date is None:
            return self.oldest_listed is None
        return walk.oldest_date <= self.oldest_listed

    async def read(self) -> AsyncIterator[WindowRun]:
        readers: dict[str, _PageReader[Any]] = {"runs": self.runs}
        readers.update({w.name: w.pages for w in (self.messages, self.steps) if w is not None})
        # The first page of every list is asked for at once: none depends on another.
        for reader in readers.values():
            reader.start()
        try:
            async for item in self._read():
                yield item
        finally:
            for name, reader in readers.items():
                reader.close()
                self.stats.requests[name] += reader.requests
            for task in self.agent_lookups.values():
                task.cancel()

    async def _read(self) -> AsyncIterator[WindowRun]:
        await self._more_runs()
        if self.steps is not None:
            try:
                await self._advance(self.steps)
                self.stats.steps_bulk = True
            except NotSupportedError:
                self.stats.steps_bulk = False
                self.steps = None
        while True:
            while self.active_ready:
                run = self.active_ready.popleft()
                yield WindowRun(run, None, None, "it is still active: its items are still arriving")
            if not self.pending:
                if self.runs_done:
                    break
                await self._more_runs()
                continue
            head = self.pending[0]
            walk = self._behind(head)
            if walk is None:
                self.pending.popleft()
                self.pending_ids.discard(head.id)
                yield await self._finish(head)
                continue
            if self._runs_lag(walk):
                await self._more_runs()
            else:
                await self._advance(walk)
        for walk in (self.messages, self.steps):
            if walk is not None and walk.failed:
                self.stats.bulk_failures.append(
                    f"the bulk {walk.name} list failed ({walk.failed}); its runs were read one by one"
                )

    async def _finish(self, run: Run) -> WindowRun:
        self.stats.finished += 1
        reasons: list[str] = []
        messages = self._collect(self.messages, run, reasons)
        steps = self._collect(self.steps, run, reasons) if self.steps is not None else None
        if messages is not None:
            why = await self._renders_differently(run, messages)
            if why:
                messages = None
                reasons.append(why)
            else:
                messages = _apply_request_filter(run, messages)
        return WindowRun(
            run=run,
            messages=messages,
            steps=steps,
            per_run_reason="; ".join(reasons) or None,
            agent_type=self._known_agent_type(run.agent_id),
        )

    def _collect(self, walk: _Walk[T] | None, run: Run, reasons: list[str]) -> list[T] | None:
        if walk is None:
            reasons.append(
                "the bulk lists were not read" if not self.stats.bulk else "no bulk messages list"
            )
            return None
        items = walk.items.pop(run.id, [])
        if not walk.complete_for(run):
            reasons.append(
                f"the bulk {walk.name} list failed"
                if walk.failed
                else f"its {walk.name} were not proven complete in the bulk list"
            )
            return None
        items.reverse()  # the walk read newest first
        return items

    async def _renders_differently(self, run: Run, messages: list[Message]) -> str | None:
        if any(isinstance(m, ToolReturnMessage) and m.name == ASSISTANT_TOOL for m in messages):
            return f"its {ASSISTANT_TOOL} returns may be hidden differently in its own list"
        if self.stats.agent_id is not None or run.agent_id is None:
            return None  # the agent's own list renders like the run's
        agent_type = await self._agent_type(run.agent_id)
        if agent_type != V1_AGENT:
            return f"its agent is {agent_type or 'of unknown type'}, whose text renders differently"
        return None

    def _look_up_agent(self, agent_id: str | None) -> None:
        """Start reading the agent's type as soon as one of its runs is listed (the all-agents
        list only; an agent's own list renders for its type)."""
        if agent_id is None or agent_id in self.agent_lookups:
            return
        if self.stats.agent_id is not None or self.messages is None:
            return
        self.stats.requests["agents"] += 1
        self.agent_lookups[agent_id] = asyncio.ensure_future(self._read_agent_type(agent_id))

    async def _read_agent_type(self, agent_id: str) -> str | None:
        async with self.agent_slots:
            return await _read_agent_type(self.client, agent_id)

    def _known_agent_type(self, agent_id: str | None) -> str | None:
        """The agent's type if it was already read (never a new request)."""
        task = self.agent_lookups.get(agent_id or "")
        if task is None or not task.done() or task.cancelled() or task.exception() is not None:
            return None
        return task.result()

    async def _agent_type(self, agent_id: str) -> str | None:
        self._look_up_agent(agent_id)
        return await self.agent_lookups[agent_id]


async def _read_agent_type(client: AsyncRunsClient, agent_id: str) -> str | None:
    """The agent's type, ``None`` when it cannot be read (the diagnosis then says so)."""
    try:
        return (await client.agents.retrieve(agent_id)).agent_type
    except LettaRunsError:
        return None


def _apply_request_filter(run: Run, messages: list[Message]) -> list[Message]:
    """What ``GET /v1/runs/{id}/messages`` leaves out: the types the run's request excluded."""
    types = (run.request_config or {}).get("include_return_message_types")
    if not types:
        return messages
    keep = set(types)
    return [m for m in messages if m.message_type in keep]


# --- evidence for every run of a window --------------------------------------------------------

DEFAULT_CONCURRENCY = 8
"""Per-run reads in flight at once (each is one or two requests)."""
QUEUED_RUNS = 64
"""Runs waiting for a per-run read slot before the window reading pauses: enough that the bulk
walk goes on while per-run reads are in flight, few enough to keep memory flat."""
PROGRESS_EVERY = 2.0
"""Seconds between progress lines."""

R = TypeVar("R")
Progress = Callable[[str], None]


@dataclass
class ScanResult(Generic[R]):
    """One run of the window: what ``settle``/``finish`` made of its evidence, and how it was read.

    ``path`` is ``"bulk"`` (the bulk lists sufficed) or ``"per_run"`` (``reason`` says why);
    ``error`` is set instead of ``result`` when the run's own reads failed outright.
    """

    run: Run
    result: R | None
    path: str
    reason: str | None = None
    error: LettaRunsError | None = None
    evidence: Evidence | None = None


@dataclass
class ScanStats:
    """Counts of a scan, for its report and its progress lines."""

    window: WindowRead
    bulk_settled: int = 0
    per_run: int = 0
    per_run_reasons: Counter[str] = field(default_factory=Counter)
    failed_runs: int = 0
    failed_reads: Counter[str] = field(default_factory=Counter)
    """Endpoints that could not be read, per endpoint (``steps``, ``messages`` …)."""
    requests: int = 0
    started: float = 0.0
    seconds: float = 0.0

    @property
    def done(self) -> int:
        return self.bulk_settled + self.per_run + self.failed_runs


class _RequestCounter:
    """Counts the requests a client sends while a scan runs (an httpx event hook)."""

    def __init__(self, client: AsyncRunsClient, stats: ScanStats) -> None:
        self._hooks: list[Callable[..., Any]] = client._http.event_hooks.setdefault("request", [])
        self._stats = stats

    async def _count(self, request: Any) -> None:
        self._stats.requests += 1

    def __enter__(self) -> _RequestCounter:
        self._hooks.append(self._count)
        return self

    def __exit__(self, *exc: object) -> None:
        self._hooks.remove(self._count)


def bulk_evidence(item: WindowRun, *, source: str) -> Evidence:
    """The evidence the bulk lists give for one run: the run from the runs list, its messages,
    and its steps where ``/v1/steps/`` works (else marked ``not_fetched``, as are ``/usage``,
    ``/metrics`` and ``/trace``, none of which a list carries)."""
    errors = {
        name: EndpointError(
            endpoint=name, kind="not_fetched", message="not read from the bulk lists"
        )
        for name in ("usage", "metrics")
    }
    if item.steps is None:
        errors["steps"] = EndpointError(
            endpoint="steps",
            kind="not_fetched",
            message="not read: the server's /v1/steps/ is unavailable",
        )
    return Evidence(
        run=item.run,
        steps=list(item.steps or []),
        messages=list(item.messages or []),
        agent=item.agent,
        endpoint_errors=errors,
        source=source,
        fetched_at=datetime.now(UTC),
    )


class _AgentTypes:
    """The agent types a scan reads: once per agent, the one read shared by its runs in flight."""

    def __init__(self, client: AsyncRunsClient) -> None:
        self._client = client
        self._lookups: dict[str, asyncio.Future[str | None]] = {}

    async def of(self, agent_id: str) -> str | None:
        """The agent's type, read on the first ask; later asks await that same read."""
        # Once per agent, never per run: only runs whose verdict rests on it ask.
        if agent_id not in self._lookups:
            self._lookups[agent_id] = asyncio.ensure_future(
                _read_agent_type(self._client, agent_id)
            )
        return await self._lookups[agent_id]

    async def add_to(self, item: WindowRun, ev: Evidence) -> Evidence:
        """``ev`` with its agent's type, where the verdict rests on it and the type is known."""
        if ev.agent is not None or not item.run.agent_id or not agent_type_decides(ev):
            return ev
        found = await self.of(item.run.agent_id)
        if found is None:
            return ev
        return ev.model_copy(update={"agent": AgentProfile(id=item.run.agent_id, agent_type=found)})


class _ProgressTicker:
    """A scan's progress line, at most every ``PROGRESS_EVERY`` seconds, and a last one."""

    def __init__(self, progress: Progress | None, what: str, stats: ScanStats) -> None:
        self._progress = progress
        self._what = what
        self._stats = stats
        self._last_line = stats.started

    def __call__(self, final: bool = False) -> None:
        now = time.monotonic()
        if self._progress is None or (not final and now - self._last_line < PROGRESS_EVERY):
            return
        self._last_line = now
        self._progress(_progress_line(self._what, self._stats, now, final=final))


def _count_per_run_read(stats: ScanStats, ev: Evidence, reason: str) -> None:
    """Counts one run read per run: why it was read and which of its endpoints failed."""
    for name, err in ev.endpoint_errors.items():
        if err.kind != "not_fetched":
            stats.failed_reads[name] += 1
    stats.per_run += 1
    stats.per_run_reasons[reason] += 1


async def _settle_from_bulk(
    item: WindowRun,
    *,
    source: str,
    settle: Callable[[Evidence], R | None],
    finish: Callable[[Evidence], R],
    agent_types: _AgentTypes,
    per_run_extras: bool,
) -> tuple[Evidence, R | None]:
    """The run's bulk evidence and its result from that alone (``None``: read it per run)."""
    ev = bulk_evidence(item, source=source)
    result = settle(ev) if not per_run_extras else None
    if result is None and item.steps is not None and not per_run_extras:
        # Messages and steps: nothing left to read per run but, where the verdict
        # rests on it, the agent's type.
        ev = await agent_types.add_to(item, ev)
        result = finish(ev)
    return ev, result


async def scan_window(
    client: AsyncRunsClient,
    *,
    since: datetime | None,
    settle: Callable[[Evidence], R | None],
    finish: Callable[[Evidence], R],
    agent_id: str | None = None,
    statuses: list[str] | None = None,
    limit: int | None = None,
    bulk: bool = True,
    include_active: bool = True,
    include_usage: bool = False,
    include_metrics: bool = False,
    concurrency: int = DEFAULT_CONCURRENCY,
    stats: ScanStats | None = None,
    progress: Progress | None = None,
    what: str = "scan",
) -> AsyncIterator[ScanResult[R]]:
    """Every run of the window, read with as few requests as its result needs.

    Each run's bulk evidence (``bulk_evidence``) goes to ``settle``; a result other than
    ``None`` is final. Otherwise — or when the bulk lists cannot stand in for the run's own
    lists — the run's missing lists are read per run (steps, and messages where needed; never
    the run itself, which the runs list already returned), ``concurrency`` runs at a time, and
    ``finish`` makes the result. Results come in completion order; memory holds the runs in
    flight, not the window. ``progress`` gets a line every few seconds and a last one.
    """
    stats = stats or ScanStats(
        window=WindowRead(since=since, agent_id=agent_id, statuses=statuses, limit=limit)
    )
    stats.started = time.monotonic()
    source = f"api:{client.base_url}"
    per_run_extras = include_usage or include_metrics
    sem = asyncio.Semaphore(max(1, concurrency))
    pending: set[asyncio.Task[ScanResult[R]]] = set()
    tick = _ProgressTicker(progress, what, stats)
    agent_types = _AgentTypes(client)

    async def per_run(item: WindowRun, reason: str) -> ScanResult[R]:
        async with sem:
            try:
                ev = await gather_evidence(
                    client,
                    item.run.id,
                    run=item.run,
                    messages=item.messages,
                    steps=item.steps,
                    include_trace=False,
                    include_usage=include_usage,
                    include_metrics=include_metrics,
                    # A triage never reads the agent per run: only a type already read.
                    include_agent=False,
                    agent=item.agent,
                )
                ev = await agent_types.add_to(item, ev)
            except LettaRunsError as exc:
                stats.failed_runs += 1
                stats.failed_reads["run"] += 1
                return ScanResult(item.run, None, "per_run", reason, error=exc)
        _count_per_run_read(stats, ev, reason)
        return ScanResult(item.run, finish(ev), "per_run", reason, evidence=ev)

    with _RequestCounter(client, stats):
        async for item in read_window(
            client,
            since=since,
            agent_id=agent_id,
            statuses=statuses,
            limit=limit,
            stats=stats.window,
            bulk=bulk,
            include_active=include_active,
        ):
            reason = item.per_run_reason
            if item.messages is not None and not item.active:
                ev, result = await _settle_from_bulk(
                    item,
                    source=source,
                    settle=settle,
                    finish=finish,
                    agent_types=agent_types,
                    per_run_extras=per_run_extras,
                )
                if result is not None:
                    stats.bulk_settled += 1
                    yield ScanResult(item.run, result, "bulk", evidence=ev)
                    tick()
                    continue
                reason = (
                    "its /usage and /metrics are asked for"
                    if per_run_extras
                    else "its verdict needs its steps"
                )
            task = asyncio.create_task(per_run(item, reason or "read per run"))
            pending.add(task)
            while len(pending) >= max(1, concurrency) + QUEUED_RUNS:
                done, _ = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for finished in done:
                    pending.discard(finished)
                    yield finished.result()
                tick()
        while pending:
            done, _ = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for finished in done:
                pending.discard(finished)
                yield finished.result()
            tick()
    stats.seconds = time.monotonic() - stats.started
    tick(final=True)


def _progress_line(what: str, stats: ScanStats, now: float, *, final: bool) -> str:
    elapsed = max(now - stats.started, 1e-6)
    window = stats.window
    failed = sum(stats.failed_reads.values())
    done = stats.done
    per_run_rate = f"{stats.requests / done:.2f} per run" if done else "none per run"
    line = (
        f"{what}: {'scanned' if final else 'read'} {done} runs in {elapsed:.1f} s "
        f"({done / elapsed:.0f}/s): {stats.bulk_settled} settled from the bulk lists, "
        f"{stats.per_run} read per run, {stats.requests} requests ({per_run_rate})"
    )
    if failed:
        which = ", ".join(f"{k} {v}" for k, v in stats.failed_reads.items())
        line += f"; {failed} reads FAILED ({which})"
    if window.bulk_failures:
        line += "; " + "; ".join(window.bulk_failures)
    if not final:
        return line
    left_out = sum(window.other_statuses.values())
    if left_out:
        line += f"; {left_out} runs of the window left out by --status"
    if window.active:
        line += f"; {window.active} still active (see `letta-runs stuck`)"
    if window.truncated:
        line += f"; capped at --limit {window.limit}: older runs of the window were not scanned"
    return line
