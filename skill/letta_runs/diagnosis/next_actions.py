"""Next actions: the drill-downs a diagnosis suggests, as catalog operations (face-neutral).

``next_actions`` names an operation of ``letta_runs.operations`` and its arguments; each face
renders it in its own names. ``cli_command`` is the CLI rendering kept in ``next_steps``.
"""

from __future__ import annotations

from .result import NextStep, Verdict

__all__ = ["cli_command", "next_actions"]

_CLI = "letta-runs"


def next_actions(
    run_id: str, verdict: Verdict, *, has_tools: bool, has_loop: bool
) -> list[NextStep]:
    """What to look at next for a run with this verdict."""
    out: list[NextStep] = []
    if verdict in ("running", "stuck"):
        out.append(
            NextStep(
                operation="retrieve_stream_for_run",
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


def cli_command(step: NextStep) -> str:
    """The CLI command line for one next step (the default rendering of ``next_steps``)."""
    run_id = str(step.args.get("run_id", ""))
    op = step.operation
    if op == "retrieve_stream_for_run":
        return f"{_CLI} watch {run_id}"
    if op == "run_timeline":
        return f"{_CLI} timeline {run_id}"
    if op == "list_steps_for_run":
        return f"{_CLI} runs steps {run_id} --json"
    if op == "list_messages_for_run":
        return f"{_CLI} runs messages {run_id}"
    if op == "diagnose_run":
        detail = step.args.get("detail")
        return f"{_CLI} diagnose {run_id}" + (f" --detail {detail}" if detail else "")
    args = " ".join(f"--{k.replace('_', '-')} {v}" for k, v in step.args.items())
    return f"{_CLI} {op.replace('_', '-')} {args}".strip()
