"""Loop detection over a run's tool calls (pure).

Two tool calls are *the same* when the tool name and the arguments, parsed as JSON and dumped
with sorted keys (raw text with whitespace collapsed when they do not parse), are equal.

* ``repeat``: the same call ≥ 3 times in a row;
* ``cycle``: a sequence of 2 or 3 different calls repeated ≥ 2 times in a row (A→B→A→B);
* ``scattered``: the same call ≥ 3 times in the run, not in a row and not part of the above.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from ..models import Message, Step, ToolCallMessage
from .findings import excerpt

__all__ = ["MIN_CYCLE_REPEATS", "MIN_REPEAT", "ToolCallRecord", "ToolLoop", "find_loops"]

MIN_REPEAT = 3
MIN_CYCLE_REPEATS = 2
CYCLE_PERIODS = (2, 3)


class ToolCallRecord(BaseModel):
    """One executed tool call, in run order."""

    index: int
    name: str
    arguments: str
    key: str
    step_id: str | None = None
    message_id: str | None = None
    tool_call_id: str | None = None
    date: datetime | None = None


class ToolLoop(BaseModel):
    """Repeated tool calls. ``count`` is calls for a repeat, repetitions for a cycle."""

    pattern: Literal["repeat", "cycle", "scattered"]
    tool_names: list[str]
    arguments: str
    count: int
    calls: int
    first_step_id: str | None = None
    last_step_id: str | None = None
    first_call_index: int
    last_call_index: int
    steps: int = 0
    tokens: int | None = None
    seconds: float | None = None
    reaches_end: bool = False
    """The loop runs until the run's last tool call (it was never broken)."""


def normalize_arguments(arguments: str | None) -> str:
    if not arguments:
        return ""
    try:
        return json.dumps(json.loads(arguments), sort_keys=True, separators=(",", ":"))
    except ValueError:
        return " ".join(arguments.split())


def tool_call_records(messages: list[Message]) -> list[ToolCallRecord]:
    records: list[ToolCallRecord] = []
    seen: set[str] = set()
    for msg in messages:
        if not isinstance(msg, ToolCallMessage):
            continue
        for call in msg.calls:
            if call.tool_call_id and call.tool_call_id in seen:
                continue
            if call.tool_call_id:
                seen.add(call.tool_call_id)
            name = call.name or "?"
            norm = normalize_arguments(call.arguments)
            records.append(
                ToolCallRecord(
                    index=len(records),
                    name=name,
                    arguments=call.arguments or "",
                    key=f"{name}\x00{norm}",
                    step_id=msg.step_id,
                    message_id=msg.id,
                    tool_call_id=call.tool_call_id,
                    date=msg.date,
                )
            )
    return records


def _measure(
    loop: ToolLoop, records: list[ToolCallRecord], steps: list[Step], last_index: int
) -> ToolLoop:
    span = records[loop.first_call_index : loop.last_call_index + 1]
    step_ids = {r.step_id for r in span if r.step_id}
    by_id = {s.id: s for s in steps}
    tokens = [by_id[s].total_tokens or 0 for s in step_ids if s in by_id]
    dates = [r.date for r in span if r.date]
    loop.steps = len(step_ids)
    loop.tokens = sum(tokens) if tokens else None
    loop.seconds = (max(dates) - min(dates)).total_seconds() if len(dates) >= 2 else None
    loop.reaches_end = loop.last_call_index == last_index
    return loop


def find_loops(messages: list[Message], steps: list[Step]) -> list[ToolLoop]:
    """Every repeat, cycle and scattered repetition among the run's tool calls."""
    records = tool_call_records(messages)
    keys = [r.key for r in records]
    n = len(keys)
    covered = [False] * n
    loops: list[ToolLoop] = []

    def make(
        pattern: Literal["repeat", "cycle", "scattered"], start: int, end: int, period: int
    ) -> ToolLoop:
        cycle = records[start : start + period]
        calls = end - start + 1
        return ToolLoop(
            pattern=pattern,
            tool_names=[r.name for r in cycle],
            arguments=excerpt(" | ".join(r.arguments for r in cycle), 160, one_line=True),
            count=calls if period == 1 else calls // period,
            calls=calls,
            first_step_id=records[start].step_id,
            last_step_id=records[end].step_id,
            first_call_index=start,
            last_call_index=end,
        )

    i = 0
    while i < n:
        j = i
        while j + 1 < n and keys[j + 1] == keys[i]:
            j += 1
        if j - i + 1 >= MIN_REPEAT:
            loops.append(make("repeat", i, j, 1))
            for k in range(i, j + 1):
                covered[k] = True
        i = j + 1

    for period in CYCLE_PERIODS:
        start = 0
        while start + period < n:
            if any(covered[start : start + period]) or len(set(keys[start : start + period])) < 2:
                start += 1
                continue
            end = start + period - 1
            while end + 1 < n and not covered[end + 1] and keys[end + 1] == keys[end + 1 - period]:
                end += 1
            reps = (end - start + 1) // period
            if reps >= MIN_CYCLE_REPEATS:
                end = start + reps * period - 1
                loops.append(make("cycle", start, end, period))
                for k in range(start, end + 1):
                    covered[k] = True
                start = end + 1
            else:
                start += 1

    counts = Counter(keys[k] for k in range(n) if not covered[k])
    for key, count in counts.items():
        if count >= MIN_REPEAT:
            idx = [k for k in range(n) if keys[k] == key and not covered[k]]
            loop = make("scattered", idx[0], idx[-1], 1)
            loop.count = loop.calls = count
            loops.append(loop)

    return [
        _measure(loop, records, steps, n - 1)
        for loop in sorted(loops, key=lambda x: x.first_call_index)
    ]
