"""What a triage report says, without its example run ids (they depend on which read finished
first): for comparing two triages of the same runs."""

from __future__ import annotations

from typing import Any

from letta_runs.diagnosis.triage import TriageReport


def triage_counts(report: TriageReport) -> dict[str, Any]:
    data = report.model_dump(mode="json")
    out = {k: data[k] for k in ("scanned", "diagnosed", "problems", "hidden_failures", "active")}
    out["verdicts"] = data["verdicts"]
    for key in ("by_root_cause", "by_stop_reason", "by_error_type", "by_tool"):
        out[key] = sorted((g["key"], g["count"]) for g in data[key])
    return out
