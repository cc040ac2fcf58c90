"""Each error text once per diagnosis: findings and ``first_failure`` refer to it by ``ref``.

A failed run used to repeat the same traceback in ``root_cause``, in ``findings`` and in
``first_failure``; now the text lives in ``RunDiagnosis.errors`` and the others point at it.
"""

from __future__ import annotations

from .facts import RunFacts
from .findings import Finding, excerpt
from .result import ErrorText, FirstFailure

__all__ = ["share_error_texts"]

SHORT = 160


def _error_type(f: RunFacts, finding: Finding) -> str | None:
    if finding.tool_name and finding.kind in ("tool_error", "invalid_tool_call"):
        return finding.kind
    step = next((s for s in f.steps if s.id == finding.step_id), None)
    return step.error_type if step is not None else None


def _source(finding: Finding, f: RunFacts) -> str:
    if finding.tool_name and finding.kind in ("tool_error", "invalid_tool_call"):
        return f"tool {finding.tool_name}"
    index = f.index_of(finding.step_id)
    return f"step {index}" if index is not None else "run"


def share_error_texts(
    f: RunFacts, findings: list[Finding], first: FirstFailure | None
) -> tuple[list[Finding], FirstFailure | None, list[ErrorText]]:
    """Move every finding's error text into one ``ErrorText`` (identical texts share one)."""
    book: dict[str, ErrorText] = {}
    out: list[Finding] = []
    for finding in findings:
        text = finding.detail
        if not text:
            out.append(finding)
            continue
        entry = book.get(text)
        if entry is None:
            entry = ErrorText(
                ref=f"error-{len(book) + 1}",
                source=_source(finding, f),
                error_type=_error_type(f, finding),
                text=text,
            )
            book[text] = entry
        if finding.step_id and finding.step_id not in entry.step_ids:
            entry.step_ids.append(finding.step_id)
        out.append(finding.model_copy(update={"detail": None, "error_ref": entry.ref}))
    return out, _point(first, out), list(book.values())


def _point(first: FirstFailure | None, findings: list[Finding]) -> FirstFailure | None:
    if first is None:
        return None
    match = next(
        (
            x
            for x in findings
            if x.error_ref
            and (
                (first.tool_call_id and x.tool_call_id == first.tool_call_id)
                or (not first.tool_call_id and x.step_id == first.step_id)
            )
        ),
        None,
    )
    if match is None:
        return first
    return first.model_copy(
        update={
            "error_ref": match.error_ref,
            "error_message": excerpt(first.error_message, SHORT, one_line=True) or None,
            "stderr": None,
        }
    )
