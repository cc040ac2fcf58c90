"""Metamorphic properties of the diagnosis over every recorded real run.

Changes that must not matter (Letta's own notes after a healthy answer, new ids) keep the
diagnosis; a change that must matter (cutting a healthy run's answer) fails it.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from letta_runs.diagnosis import RunDiagnosis, diagnose
from letta_runs.evidence import Evidence
from letta_runs.models import AssistantMessage

from tests.unit.diagnosis_evidence import (
    all_recorded,
    compaction_alert,
    heartbeat,
    rename_ids,
    with_messages,
    without_answer,
)

RUNS = all_recorded()


def _when(ev: Evidence) -> datetime:
    assert ev.run.created_at is not None
    return ev.run.created_at + timedelta(days=1)


def _diag(ev: Evidence) -> RunDiagnosis:
    return diagnose(ev, now=_when(ev))


HEALTHY = sorted(name for name, ev in RUNS.items() if _diag(ev).verdict == "ok")
ANSWERED = sorted(
    name
    for name in HEALTHY
    if _diag(RUNS[name]).outcome is not None
    and _diag(RUNS[name]).outcome.kind == "assistant_message"  # type: ignore[union-attr]
)


def test_the_recorded_runs_cover_healthy_and_failing_shapes() -> None:
    verdicts = {_diag(ev).verdict for ev in RUNS.values()}
    assert {"ok", "failed", "cancelled", "awaiting_approval", "stuck"} <= verdicts
    assert len(HEALTHY) >= 8 and len(ANSWERED) >= 8


@pytest.mark.parametrize("name", HEALTHY)
@pytest.mark.parametrize("note", ["compaction", "heartbeat"])
def test_a_letta_note_after_a_healthy_run_keeps_it_ok(name: str, note: str) -> None:
    ev = RUNS[name]
    last = ev.messages[-1]
    extra = compaction_alert(last) if note == "compaction" else heartbeat(last)
    diag = _diag(with_messages(ev, [*ev.messages, extra]))
    assert diag.verdict == "ok", diag.headline
    assert diag.outcome == _diag(ev).outcome


def _shape(diag: RunDiagnosis, mapping: dict[str, str]) -> dict[str, object]:
    """The diagnosis with the renamed ids mapped back."""
    back = {new: old for old, new in mapping.items()}
    text = diag.model_dump_json(exclude={"evaluated_at", "source"})
    return {
        "json": re.sub("|".join(map(re.escape, back)) or "$^", lambda m: back[m.group(0)], text)
    }


@pytest.mark.parametrize("name", sorted(RUNS))
def test_renaming_every_id_keeps_the_diagnosis(name: str) -> None:
    ev = RUNS[name]
    renamed, mapping = rename_ids(ev)
    assert mapping and renamed.run.id != ev.run.id
    before, after = _diag(ev), _diag(renamed)
    assert (after.verdict, after.root_cause and after.root_cause.kind) == (
        before.verdict,
        before.root_cause and before.root_cause.kind,
    )
    assert _shape(after, mapping) == _shape(before, {})


@pytest.mark.parametrize("name", ANSWERED)
def test_cutting_a_healthy_runs_answer_fails_it(name: str) -> None:
    ev = RUNS[name]
    assert any(isinstance(m, AssistantMessage) for m in ev.messages)
    diag = _diag(without_answer(ev))
    assert diag.verdict == "failed"
    assert "no_final_answer" in {f.kind for f in diag.findings}
    # The cause is the missing answer, a tool error it no longer recovered from, or a repeated
    # call that now never ends in an answer.
    assert diag.root_cause is not None
    assert diag.root_cause.kind in (
        "no_final_answer",
        "tool_error",
        "invalid_tool_call",
        "tool_loop",
    )
