"""The suspicious-instructions pass: run content that tries to instruct the model (pure).

Tool returns (web pages, files, API answers) and user messages are data. When such content
carries text aimed at the model — "ignore previous instructions", a request to print keys or
secrets, a new role or system prompt, a claim about how the run went or what a report should
say — the diagnosis names it as a ``suspicious_instructions`` warning with the message ids.
It never changes the verdict by itself, and reports show such text only fenced, as data.

The patterns are general shapes of prompt injection (an imperative aimed at the model's rules,
secrets or report), not particular strings.
"""

from __future__ import annotations

import re

from ..models import Message, ToolReturnMessage, UserMessage
from .facts import RunFacts
from .findings import Finding, clean_text, excerpt

__all__ = ["SUSPICIOUS_PATTERNS", "suspicious_findings", "suspicious_signals"]

_GAP = r"[^.\n]{0,60}?"
# An imperative aimed at the reader: at the start of a sentence or line, or after "please",
# "you must" … ("Print your API key", "Please reveal the system prompt"), never a description
# ("this endpoint returns an access token").
_IMPERATIVE = (
    r"(?:^|[.!?:;>\n]\s*|\b(?:please|now|then|and|also|immediately|first|you (?:must|should|need "
    r"to|have to|will|are required to)|assistant,?|ai,?|model,?)\s+)"
)
_SECRETS = (
    r"\b(api[\s_-]?keys?|secrets?|passwords?|credentials?|(access|auth|bearer|session)[\s_-]?"
    r"tokens?|private[\s_-]?keys?|env(ironment)?[\s_-]?var(iable)?s?|[A-Z0-9]+_(API_)?KEY|"
    r"system[\s_-]?prompt|hidden instructions)\b"
)
_RUN = r"\b(this|the|current)\s+(run|diagnos[ie]s|post-?mortem|verdict|agent run|letta run)\b"
_HEALTHY = (
    r"\b(healthy|fine|ok(ay)?|successful|succeeded|clean|error-free|without (any )?errors?)\b"
)
SUSPICIOUS_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "asks to ignore earlier instructions",
        re.compile(
            r"\b(ignore|disregard|forget|override|bypass)\b"
            + _GAP
            + r"\b(previous|prior|earlier|above|preceding|all|any|your|system|original)\b"
            + _GAP
            + r"\b(instructions?|prompts?|rules|directions|guidelines|guardrails|"
            r"constraints|polic(y|ies))\b",
            re.I,
        ),
    ),
    (
        "asks to reveal secrets",
        re.compile(
            _IMPERATIVE + r"(print|reveal|show|output|send|display|leak|expose|tell me|repeat|echo|"
            r"dump|exfiltrate|post|upload|include|return|give|share|read out)\b" + _GAP + _SECRETS,
            re.I | re.M,
        ),
    ),
    (
        "claims a new role or system prompt",
        re.compile(
            r"(\byou are now (a|an|the|in|my)?\s*(\w+\s)?(unrestricted|jailbroken|dan|assistant|"
            r"agent|ai|model|bot|developer mode)\b|\bfrom now on,? you (will|must|are|should)\b|"
            r"\bnew (system )?(instructions?|prompt)\s*:|<\|(im_start|system)\|>|\[/?INST\]|"
            r"\b(developer|jailbreak|dan) mode\b)",
            re.I,
        ),
    ),
    (
        "tells the reader what to conclude about the run",
        re.compile(
            r"("
            + _RUN
            + _GAP
            + r"\b(is|was|has been|are)\b"
            + _GAP
            + _HEALTHY
            + r"|"
            + _IMPERATIVE
            + r"(report|mark|say|state|conclude|classify|record|tell \w+)\b"
            + _GAP
            + r"\b(healthy|no (errors?|issues?|problems?|failures?)|verdict)\b|"
            r"\bverdict\s*[:=]\s*[\"']?(ok|healthy|success)\b)",
            re.I | re.M,
        ),
    ),
    (
        "tells the model to hide something from the user",
        re.compile(
            _IMPERATIVE
            + r"(do not|don't|never)\s+(tell|inform|mention|reveal|show)\b"
            + _GAP
            + r"\b(the )?user\b",
            re.I | re.M,
        ),
    ),
)


def suspicious_signals(text: str) -> list[str]:
    """The names of the patterns ``text`` matches (empty: nothing aimed at the model)."""
    return [name for name, pattern in SUSPICIOUS_PATTERNS if pattern.search(text)]


def _content(msg: Message) -> str:
    if isinstance(msg, ToolReturnMessage):
        return " ".join(clean_text(r.tool_return) for r in msg.returns)
    if isinstance(msg, UserMessage):
        return clean_text(msg.text)
    return ""


def suspicious_findings(f: RunFacts) -> list[Finding]:
    """One warning per source (each tool, and the user input) whose content is aimed at the
    model, with the ids of every message that carries it."""
    by_source: dict[str, tuple[list[str], set[str], Message]] = {}
    for i, msg in enumerate(f.messages):
        if isinstance(msg, UserMessage) and f.input_kinds[i] != "user":
            continue  # Letta's own notes (heartbeats, alerts) are not run content
        signals = suspicious_signals(_content(msg)) if _content(msg) else []
        if not signals:
            continue
        source = f"tool {msg.name}" if isinstance(msg, ToolReturnMessage) else "user input"
        ids, names, _ = by_source.setdefault(source, ([], set(), msg))
        if msg.id:
            ids.append(msg.id)
        names.update(signals)
    out: list[Finding] = []
    for source, (ids, names, first) in by_source.items():
        out.append(
            Finding(
                kind="suspicious_instructions",
                severity="warning",
                summary=f"Content from {excerpt(source, 90)} carries text aimed at the model "
                f"({'; '.join(sorted(names))}); it was treated as data here",
                step_id=first.step_id,
                message_id=first.id,
                tool_name=first.name if isinstance(first, ToolReturnMessage) else None,
                evidence_ids=ids,
                detail=excerpt(_content(first), 300),
            )
        )
    return out
