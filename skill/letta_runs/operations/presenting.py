"""Presenting a result for the face that asked: JSON-ready ``data``, compact ``text`` for a model
and the typed ``artifact``, fitted to the face's budgets.

A face with a size budget gets fewer items of a page and the cursor to the rest, or long strings
shortened with the call that reads one whole — never a list silently cut.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from .._text import truncate
from ..models import Message, Run, Step
from ..output import to_jsonable
from .catalog import Face, NextStep, OperationResult, Page, Presenter


def _dumped_len(value: Any) -> int:
    return len(json.dumps(to_jsonable(value), ensure_ascii=False, default=str))


def _cap_strings(value: Any, max_len: int) -> tuple[Any, int]:
    """``value`` with every string longer than ``max_len`` cut; how many were cut."""
    if isinstance(value, str):
        if len(value) <= max_len:
            return value, 0
        return value[:max_len] + f"… [+{len(value) - max_len} chars]", 1
    if isinstance(value, list):
        pairs = [_cap_strings(v, max_len) for v in value]
        return [p[0] for p in pairs], sum(p[1] for p in pairs)
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        cut = 0
        for k, v in value.items():
            out[k], n = _cap_strings(v, max_len)
            cut += n
        return out, cut
    return value, 0


_CAPS = (4000, 2000, 1000, 500, 200, 80)


def _fit_json(data: Any, budget: int | None) -> tuple[Any, int | None]:
    """``data`` with long strings cut until it fits ``budget`` (and the length they were cut to)."""
    if budget is None or _dumped_len(data) <= budget:
        return data, None
    for max_len in _CAPS:
        capped, cut = _cap_strings(data, max_len)
        if cut and _dumped_len(capped) <= budget:
            return capped, max_len
    return _cap_strings(data, _CAPS[-1])[0], _CAPS[-1]


def _fit_lines(lines: list[str], budget: int | None) -> tuple[str, bool]:
    if budget is None:
        return "\n".join(lines), False
    out: list[str] = []
    used = 0
    for line in lines:
        if used + len(line) + 1 > budget:
            return "\n".join(out), True
        out.append(line)
        used += len(line) + 1
    return "\n".join(out), False


def _with_steps(text: str, steps: Sequence[NextStep], face: Face) -> str:
    lines = [text] if text else []
    lines += [f"{step.why}: {face.step(step)}" for step in steps]
    return "\n".join(lines)


def _page_text(page: Page[Any], header: str, line: Callable[[Any], str]) -> list[str]:
    title = header.format(n=len(page.items), run_id=page._arguments.get("run_id", ""))
    return [title] + [line(item) for item in page.items]


def _present_page(header: str, line: Callable[[Any], str]) -> Presenter:
    """Pages: the items that fit the face's budgets, and the call that continues after them."""

    def present(page: Page[Any], args: Any, face: Face) -> OperationResult:
        shown = page
        if _too_big(page, header, line, face):
            # The most items whose JSON and text both fit (the check is monotone in the count).
            lo, hi = 1, len(page.items)
            while lo < hi:
                mid = (lo + hi + 1) // 2
                if _too_big(page.first(mid), header, line, face):
                    hi = mid - 1
                else:
                    lo = mid
            shown = page.first(lo)
        if not shown.items and page.items:
            shown = page.first(1)
        data, cut_to = _fit_json(shown.model_dump(mode="json", by_alias=True), face.json_budget)
        steps: list[NextStep] = []
        if cut_to is not None:
            first = _first_capped(shown, cut_to)
            again = shown.continued_after(first - 1)
            note = f"long strings were shortened to {cut_to} characters to fit"
            if again is not None and first >= 0:
                again["limit"] = 1
                steps.append(NextStep(operation=page._operation, args=again, why="one item whole"))
                note += "; ask for one item (limit=1) to read it whole"
            data["capped"] = note
        if shown.has_more and shown.next_arguments is not None:
            steps.insert(
                0, NextStep(operation=page._operation, args=shown.next_arguments, why="more")
            )
        text, _ = _fit_lines(_page_text(shown, header, line), face.text_budget)
        return OperationResult(data, _with_steps(text, steps, face), page, tuple(steps))

    return present


def _too_big(page: Page[Any], header: str, line: Callable[[Any], str], face: Face) -> bool:
    if face.text_budget is not None:
        _, cut = _fit_lines(_page_text(page, header, line), face.text_budget - 400)
        if cut:
            return True
    if face.json_budget is not None and len(page.items) > 1:
        return _dumped_len(page.model_dump(mode="json", by_alias=True)) > face.json_budget
    return False


def _first_capped(page: Page[Any], max_len: int) -> int:
    for i, item in enumerate(page.items):
        if _cap_strings(to_jsonable(item), max_len)[1]:
            return i
    return -1


def _present_value(line: Callable[[Any, Any], str]) -> Presenter:
    """A single object: its JSON, and one or a few lines of text."""

    def present(value: Any, args: Any, face: Face) -> OperationResult:
        data, cut_to = _fit_json(to_jsonable(value), face.json_budget)
        if cut_to is not None and isinstance(data, dict):
            data["capped"] = f"long strings were shortened to {cut_to} characters to fit"
        text, _ = _fit_lines(line(value, args).splitlines(), face.text_budget)
        return OperationResult(data, text, value)

    return present


def _run_line(run: Run) -> str:
    created = run.created_at.strftime("%Y-%m-%d %H:%M:%S") if run.created_at else "?"
    return (
        f"{run.id} {run.status or '?'} stop={run.stop_reason or '-'} agent={run.agent_id or '-'} "
        f"created={created}Z type={run.run_type or '-'}" + (" background" if run.background else "")
    )


def _message_line(m: Message) -> str:
    return (
        f"{m.id} {m.message_type} step={m.step_id or '-'}: {truncate(m.text, 200, one_line=True)}"
    )


def _step_line(s: Step) -> str:
    err = (
        f" error={s.error_type}: {truncate(s.error_message, 120, one_line=True)}"
        if s.error_type
        else ""
    )
    return f"{s.id} {s.status or '?'} stop={s.stop_reason or '-'} tokens={s.total_tokens or 0}{err}"


def _span_line(span: dict[str, Any]) -> str:
    name = span.get("span_name") or span.get("name") or "span"
    return truncate(f"{name} {json.dumps(span, default=str)}", 200, one_line=True)


def _present_report(
    to_data: Callable[[Any, Any, Face], dict[str, Any]],
    to_text: Callable[[Any, Any, Face], str],
) -> Presenter:
    def present(report: Any, args: Any, face: Face) -> OperationResult:
        data, cut_to = _fit_json(to_data(report, args, face), face.json_budget)
        if cut_to is not None:
            data["capped"] = (
                f"long strings were shortened to {cut_to} characters to fit; ask for less "
                "detail to read them whole"
            )
        text = to_text(report, args, face)
        if face.text_budget is not None and len(text) > face.text_budget:
            text = text[: face.text_budget] + "\n… (cut to fit; ask for less detail)"
        return OperationResult(data, text, report)

    return present


def _faced(report: Any, face: Face) -> Any:
    """``report`` with its next steps spelled in ``face``'s names."""
    actions = getattr(report, "next_actions", None)
    update: dict[str, Any] = {}
    if actions is not None:
        update["next_steps"] = face.steps(actions)
        update["next_actions"] = [face.named(a) for a in actions]
    stuck = getattr(report, "stuck", None)
    if stuck is not None:
        update["stuck"] = [
            s.model_copy(
                update={
                    "next_step": face.step(s.next_action),
                    "next_action": face.named(s.next_action),
                }
            )
            if getattr(s, "next_action", None) is not None
            else s
            for s in stuck
        ]
    return report.model_copy(update=update) if update else report
