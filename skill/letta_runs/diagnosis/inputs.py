"""Which ``user_message``s are requests, and which Letta wrote itself (pure).

Letta 0.16.8 stores several things as ``user_message`` that no user wrote (``letta/system.py``,
``letta/server/rest_api/utils.py``); the messages API returns them as packed JSON text:

* heartbeats — ``{"type": "heartbeat", "reason": "…", "time": "…"}``: a memgpt-style agent's
  ``request_heartbeat`` follow-up (reason ``[This is an automated system message hidden from the
  user] Function called using request_heartbeat=true, returning control``), and the loop's
  tool-rule notes (``Continuing: tool rule violation.``, ``Continuing: child tool rule.``,
  ``ToolRuleViolated: You must call … at least once to exit the loop.``, ``user expects these
  tools … to be called still``);
* system alerts — ``{"type": "system_alert", "message": "Note: … have been hidden from view …
  The following is a summary …", "compaction_stats": {…}}``: the summariser's note after it
  compacted the context (also returned as a ``summary_message`` when asked for), and the
  "history will soon reach its maximum length" warning;
* login events — ``{"type": "login", …}``.

None of them is a new request: the answer before them still answers the run.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from ..models import ApprovalResponseMessage, Message, SummaryMessage, UserMessage

__all__ = [
    "SYSTEM_PREFIX",
    "Compaction",
    "InputKind",
    "compaction_of",
    "input_kind",
    "packed_system_message",
]

InputKind = Literal[
    "user", "approval", "heartbeat", "tool_rule_note", "compaction", "system_alert", "login"
]
SYSTEM_PREFIX = "[This is an automated system message hidden from the user]"
_TOOL_RULE_NOTE = re.compile(
    r"tool rule|ToolRuleViolated|expects these tools|must call \S+ at least once", re.I
)
_HIDDEN = (
    re.compile(r"\((\d+) of (\d+) total messages\) have been hidden", re.I),
    re.compile(
        r"(\d+) (?:prior )?messages?(?: with the user| from the beginning[^.]*?)? have been hidden",
        re.I,
    ),
)
_COMPACTION_TEXT = re.compile(r"hidden from view|summary of the previous", re.I)


@dataclass(frozen=True)
class Compaction:
    """What a compaction note says: how many messages it hid, and Letta's ``compaction_stats``."""

    hidden: int | None
    total: int | None
    trigger: str | None
    context_tokens_before: int | None
    context_tokens_after: int | None
    context_window: int | None


def packed_system_message(text: str) -> dict[str, Any] | None:
    """The JSON object Letta packs a system-generated user message into, else ``None``."""
    stripped = text.strip()
    if not stripped.startswith("{"):
        return None
    try:
        data = json.loads(stripped)
    except ValueError:
        return None
    if isinstance(data, dict) and data.get("type") in ("heartbeat", "system_alert", "login"):
        return data
    return None


def _is_compaction(data: dict[str, Any]) -> bool:
    return "compaction_stats" in data or bool(_COMPACTION_TEXT.search(str(data.get("message"))))


def input_kind(msg: Message) -> InputKind | None:
    """What kind of input ``msg`` is (``None``: not an input: the agent's own output)."""
    if isinstance(msg, ApprovalResponseMessage):
        return "approval"
    if isinstance(msg, SummaryMessage):
        return "compaction"
    if not isinstance(msg, UserMessage):
        return None
    text = msg.text
    data = packed_system_message(text)
    if data is not None:
        kind = data.get("type")
        if kind == "heartbeat":
            return (
                "tool_rule_note" if _TOOL_RULE_NOTE.search(str(data.get("reason"))) else "heartbeat"
            )
        if kind == "login":
            return "login"
        return "compaction" if _is_compaction(data) else "system_alert"
    if text.lstrip().startswith(SYSTEM_PREFIX):
        return "tool_rule_note" if _TOOL_RULE_NOTE.search(text) else "heartbeat"
    return "user"


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def compaction_of(msg: Message) -> Compaction | None:
    """The compaction a message records (a packed system alert or a ``summary_message``)."""
    if isinstance(msg, SummaryMessage):
        stats: dict[str, Any] = msg.compaction_stats or {}
        text = msg.text
    elif isinstance(msg, UserMessage) and input_kind(msg) == "compaction":
        data = packed_system_message(msg.text) or {}
        raw = data.get("compaction_stats")
        stats = raw if isinstance(raw, dict) else {}
        text = str(data.get("message") or "")
    else:
        return None
    hidden = total = None
    for pattern in _HIDDEN:
        match = pattern.search(text)
        if match:
            hidden = int(match.group(1))
            total = int(match.group(2)) if match.lastindex and match.lastindex > 1 else None
            break
    before, after = (
        _int(stats.get("messages_count_before")),
        _int(stats.get("messages_count_after")),
    )
    if hidden is None and before is not None and after is not None:
        hidden = max(before - after, 0)
    return Compaction(
        hidden=hidden,
        total=total if total is not None else before,
        trigger=stats.get("trigger") if isinstance(stats.get("trigger"), str) else None,
        context_tokens_before=_int(stats.get("context_tokens_before")),
        context_tokens_after=_int(stats.get("context_tokens_after")),
        context_window=_int(stats.get("context_window")),
    )
