"""Rendering reports (Markdown or JSON) from analysis models, through one jinja2 environment.

Templates live in ``prompts/`` (shipped inside the package as ``letta_runs/prompts``). Run content
is untrusted: templates pass it through ``fence`` (a Markdown code fence longer than any backtick
run inside it) or ``data_block`` (a ``<data>`` block with the markers escaped), always capped.

Output is bounded: ``detail="standard"`` (the default) caps lists with "+N more" while keeping
every fact; ``summary`` keeps the verdict, root cause and next steps; ``full`` shows everything.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import jinja2

from .diagnosis.compare import RunComparison
from .diagnosis.engine import RunDiagnosis
from .diagnosis.findings import clean_text, excerpt
from .diagnosis.timeline import RunTimeline, build_timeline
from .diagnosis.triage import StuckReport, TriageReport
from .durations import format_duration
from .evidence import Evidence
from .models import AssistantMessage, ToolReturnMessage, UserMessage

__all__ = [
    "Detail",
    "Format",
    "diagnosis_dict",
    "environment",
    "render",
    "render_analyze_prompt",
    "render_comparison",
    "render_diagnosis",
    "render_stuck",
    "render_timeline",
    "render_triage",
    "template_dirs",
    "timeline_dict",
    "triage_dict",
]

Detail = Literal["summary", "standard", "full"]
Format = Literal["markdown", "json"]

_CAPS: dict[str, dict[str, int]] = {
    "summary": {"findings": 0, "loops": 0, "tools": 0, "entries": 15, "groups": 5},
    "standard": {"findings": 12, "loops": 5, "tools": 10, "entries": 40, "groups": 10},
    "full": {
        "findings": 10_000,
        "loops": 10_000,
        "tools": 10_000,
        "entries": 10_000,
        "groups": 10_000,
    },
}


def template_dirs() -> list[Path]:
    """Where templates are looked up: the installed package, then a source checkout."""
    here = Path(__file__).resolve().parent
    return [p for p in (here / "prompts", here.parents[1] / "prompts") if p.is_dir()]


def _fence(value: Any, limit: int = 600, lang: str = "text") -> str:
    text = excerpt(value, limit)
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{lang}\n{text}\n{ticks}"


def _data_block(value: Any, limit: int = 600) -> str:
    text = excerpt(value, limit)
    text = re.sub(r"</?\s*data\s*>", lambda m: m.group(0).replace("<", "&lt;"), text, flags=re.I)
    return f"<data>\n{text}\n</data>"


def _data_inline(value: Any, limit: int = 160) -> str:
    """Untrusted text on one line, wrapped in ``<data>`` markers that it cannot close."""
    text = excerpt(value, limit, one_line=True)
    text = re.sub(r"</?\s*data\s*>", lambda m: m.group(0).replace("<", "&lt;"), text, flags=re.I)
    return f"<data>{text}</data>"


def _oneline(value: Any, limit: int = 200) -> str:
    return excerpt(value, limit, one_line=True)


def _cell(value: Any, limit: int = 200) -> str:
    return _oneline(value, limit).replace("|", "\\|").replace("`", "'")


def _json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The one jinja2 environment every renderer uses."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(p) for p in template_dirs()]),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        # Markdown and prompts are not HTML (untrusted text goes through fence/data_block); HTML
        # templates (``*.html.j2``) escape every value unless it is marked safe.
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html.j2",), default_for_string=False, default=False
        ),
    )
    env.filters["fence"] = _fence
    env.filters["data_block"] = _data_block
    env.filters["data_inline"] = _data_inline
    env.filters["oneline"] = _oneline
    env.filters["cell"] = _cell
    env.filters["json"] = _json_text
    env.filters["age"] = _age
    return env


def _age(seconds: float) -> str:
    """``42 s``, ``17 min``, ``5.2 h``, ``3.1 d``."""
    return format_duration(seconds, words=True)


def render(template_name: str, **ctx: Any) -> str:
    """Render ``prompts/<template_name>`` with ``ctx``."""
    text = environment().get_template(template_name).render(**ctx)
    return re.sub(r"\n{3,}", "\n\n", text)


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=1) + "\n"


def _capped(items: list[Any], cap: int) -> tuple[list[Any], int]:
    return items[:cap], max(len(items) - cap, 0)


def diagnosis_dict(diag: RunDiagnosis, *, detail: Detail = "standard") -> dict[str, Any]:
    """The diagnosis as JSON data, trimmed to ``detail`` (``full`` = every field).

    Trimmed lists keep their first items and say how many were left out in ``omitted``.
    """
    data = diag.to_json_dict()
    if detail == "full":
        return data
    if detail == "summary":
        keys = [
            "schema_version",
            "run_id",
            "agent_id",
            "verdict",
            "headline",
            "status",
            "stop_reason",
            "effective_stop_reason",
            "step_count",
            "root_cause",
            "final_answer",
            "pending_approval",
            "next_steps",
            "remedies",
            "next_actions",
            "outcome",
            "settled",
            "missing_evidence",
        ]
        out = {k: data[k] for k in keys}
        out["usage"] = {"total_tokens": data["usage"]["total_tokens"]}
        out["finding_counts"] = _severity_counts(diag)
        out["detail"] = "summary"
        return out
    caps = _CAPS["standard"]
    omitted: dict[str, int] = {}
    for key, cap in (
        ("findings", caps["findings"]),
        ("loops", caps["loops"]),
        ("tools", caps["tools"]),
    ):
        data[key], extra = _capped(data[key], cap)
        if extra:
            omitted[key] = extra
    data["detail"] = "standard"
    if omitted:
        data["omitted"] = omitted
    return data


def _severity_counts(diag: RunDiagnosis) -> dict[str, int]:
    out: dict[str, int] = {}
    for f in diag.findings:
        out[f.severity] = out.get(f.severity, 0) + f.count
    return out


def _full_detail(operation: str, run_id: str) -> str:
    """The call that shows everything, as the command line spells it (faces pass their own)."""
    from .operations import NextStep, render_next_step

    step = NextStep(operation=operation, args={"run_id": run_id, "detail": "full"})
    return render_next_step(step, "cli")


def render_diagnosis(
    diag: RunDiagnosis,
    *,
    detail: Detail = "standard",
    fmt: Format = "markdown",
    full_detail: str | None = None,
) -> str:
    """A post-mortem of one run as Markdown or JSON; ``full_detail`` is how the reader asks for
    everything (default: the command line).

    >>> print(render_diagnosis(diag, detail="summary"))     # doctest: +SKIP
    """
    if fmt == "json":
        return _dumps(diagnosis_dict(diag, detail=detail))
    return render(
        "postmortem.md.j2",
        d=diag.to_json_dict(),
        detail=detail,
        caps=_CAPS[detail],
        full_detail=full_detail or _full_detail("diagnose_run", diag.run_id),
    )


def timeline_dict(tl: RunTimeline, *, detail: Detail = "standard") -> dict[str, Any]:
    """The timeline as JSON data; below ``full`` the entries are capped (``omitted`` says how
    many were left out)."""
    data: dict[str, Any] = tl.model_dump(mode="json")
    if detail != "full":
        data["entries"], extra = _capped(data["entries"], _CAPS[detail]["entries"])
        if extra:
            data["omitted"] = {"entries": extra}
    return data


def render_timeline(
    tl: RunTimeline,
    *,
    detail: Detail = "standard",
    fmt: Format = "markdown",
    full_detail: str | None = None,
) -> str:
    if fmt == "json":
        return _dumps(timeline_dict(tl, detail=detail))
    return render(
        "timeline.md.j2",
        t=tl.model_dump(mode="json"),
        caps=_CAPS[detail],
        full_detail=full_detail or _full_detail("run_timeline", tl.run_id),
    )


def triage_dict(report: TriageReport, *, detail: Detail = "standard") -> dict[str, Any]:
    """The triage report as JSON data; below ``full`` each grouping keeps its largest groups
    (``omitted`` says how many were left out)."""
    data: dict[str, Any] = report.model_dump(mode="json")
    if detail != "full":
        cap = _CAPS[detail]["groups"]
        for key in ("by_root_cause", "by_stop_reason", "by_error_type", "by_tool"):
            data[key], extra = _capped(data[key], cap)
            if extra:
                data.setdefault("omitted", {})[key] = extra
    return data


def render_triage(
    report: TriageReport, *, detail: Detail = "standard", fmt: Format = "markdown"
) -> str:
    if fmt == "json":
        return _dumps(triage_dict(report, detail=detail))
    return render("triage.md.j2", r=report.model_dump(mode="json"), caps=_CAPS[detail])


def render_comparison(cmp: RunComparison, *, fmt: Format = "markdown") -> str:
    data = cmp.model_dump(mode="json")
    return _dumps(data) if fmt == "json" else render("compare.md.j2", c=data)


def render_stuck(report: StuckReport, *, fmt: Format = "markdown") -> str:
    data = report.model_dump(mode="json")
    return _dumps(data) if fmt == "json" else render("stuck.md.j2", s=data)


def _content_excerpts(ev: Evidence, limit: int = 6) -> list[dict[str, str]]:
    items: list[dict[str, str]] = []
    first_user = next((m for m in ev.messages if isinstance(m, UserMessage)), None)
    if first_user is not None:
        items.append(
            {"label": f"user input ({first_user.id})", "text": clean_text(first_user.text)}
        )
    errors = [m for m in ev.messages if isinstance(m, ToolReturnMessage) and m.status == "error"]
    for m in errors[:2]:
        stderr = "".join(m.stderr or [])
        items.append(
            {
                "label": f"tool error from {clean_text(m.name)} (step {m.step_id})",
                "text": clean_text(m.text) + ("\nstderr: " + stderr[-400:] if stderr else ""),
            }
        )
    last_answer = next((m for m in reversed(ev.messages) if isinstance(m, AssistantMessage)), None)
    if last_answer is not None:
        items.append(
            {
                "label": f"last assistant message ({last_answer.id})",
                "text": clean_text(last_answer.text),
            }
        )
    return items[:limit]


def render_analyze_prompt(ev: Evidence, diag: RunDiagnosis) -> str:
    """An LLM-facing prompt with the compact evidence of one run, for a chat post-mortem.

    Run content is wrapped in ``<data>`` blocks and the prompt says it is data, not instructions.
    """
    return render(
        "analyze_run.j2",
        d=diag.to_json_dict(),
        timeline=build_timeline(ev, compact=True).model_dump(mode="json"),
        data=_content_excerpts(ev),
    )
