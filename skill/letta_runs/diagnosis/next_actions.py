"""Next actions: the drill-downs a diagnosis suggests, as catalog operations (face-neutral).

``next_actions`` names an operation of ``letta_runs.operations`` and its arguments; each face
renders it in its own names (``letta_runs.operations.render_next_step``; the CLI rendering is
kept in ``next_steps``).
"""

from __future__ import annotations

from .result import NextStep, Verdict

__all__ = ["next_actions"]


def next_actions(
    run_id: str, verdict: Verdict, *, has_tools: bool, has_loop: bool
) -> list[NextStep]:
    """What to look at next for a run with this verdict."""
    out: list[NextStep] = []
    if verdict in ("running", "stuck"):
        out.append(
            NextStep(
                operation="watch_run",
                args={"run_id": run_id},
                why="follow the run while it is still active",
            )
        )
    out += [
        NextStep(
            operation="run_timeline",
            args={"run_id": run_id},
            why="see every step and message in order",
        ),
        NextStep(
            operation="list_steps_for_run",
            args={"run_id": run_id},
            why="read each step's status, stop reason, error and tokens",
        ),
        NextStep(
            operation="list_messages_for_run",
            args={"run_id": run_id},
            why="read what the model and the tools said",
        ),
    ]
    if verdict != "ok" or has_tools or has_loop:
        out.append(
            NextStep(
                operation="diagnose_run",
                args={"run_id": run_id, "detail": "full"},
                why="every finding, loop and tool, uncapped",
            )
        )
    return out
