"""The diagnosis engine: pure functions over ``Evidence`` that return typed models.

>>> from letta_runs.evidence import load_bundle
>>> from letta_runs.diagnosis import diagnose
>>> diag = diagnose(load_bundle("run.json"))            # doctest: +SKIP
>>> diag.verdict, diag.root_cause and diag.root_cause.kind  # doctest: +SKIP
"""

from __future__ import annotations

from .engine import ROOT_CAUSE_PRIORITY, diagnose
from .findings import (
    FINDING_KINDS,
    Finding,
    kind_for_error,
    kind_for_stop_reason,
    kind_for_stream_error,
)
from .loops import ToolLoop, find_loops
from .result import (
    SCHEMA_VERSION,
    ApiCall,
    ContextSummary,
    FinalAnswer,
    FirstFailure,
    LatencySummary,
    NextStep,
    PendingToolCall,
    Remedy,
    RunDiagnosis,
    StepDuration,
    ToolUsage,
    UsageSummary,
    Verdict,
)

__all__ = [
    "FINDING_KINDS",
    "ROOT_CAUSE_PRIORITY",
    "SCHEMA_VERSION",
    "ApiCall",
    "ContextSummary",
    "FinalAnswer",
    "Finding",
    "FirstFailure",
    "LatencySummary",
    "NextStep",
    "PendingToolCall",
    "Remedy",
    "RunDiagnosis",
    "StepDuration",
    "ToolLoop",
    "ToolUsage",
    "UsageSummary",
    "Verdict",
    "diagnose",
    "find_loops",
    "kind_for_error",
    "kind_for_stop_reason",
    "kind_for_stream_error",
]
