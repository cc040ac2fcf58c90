"""Evidence for diagnosis tests, built from recorded real runs by the edits Letta itself makes.

Every builder starts from a run recorded on a real Letta 0.16.8 server and changes it the way
the server's source does for the shape under test (message formats from ``letta/system.py`` and
``letta/server/rest_api/utils.py``), never from nothing.
"""

from __future__ import annotations

import json
import re
import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from letta_runs.evidence import Evidence, load_bundle
from letta_runs.models import (
    AssistantMessage,
    Message,
    ToolCall,
    ToolCallMessage,
    ToolReturn,
    ToolReturnMessage,
    UserMessage,
)

DATA = Path(__file__).resolve().parents[1] / "data"
FIXTURES = DATA / "fixtures"
RECORDED = DATA / "recorded"
LATE = datetime(2026, 11, 28, 12, 30, tzinfo=UTC)
SYSTEM_PREFIX = "[This is an automated system message hidden from the user] "


def fixture(label: str) -> Evidence:
    for entry in json.loads((FIXTURES / "index.json").read_text()):
        if label in (entry["label"], entry["run_id"]):
            return Evidence.from_fixture_dir(FIXTURES / entry["path"])
    raise KeyError(label)


def recorded(stem: str) -> Evidence:
    return load_bundle(RECORDED / f"{stem}.json")


def all_recorded() -> dict[str, Evidence]:
    """Every recorded real run: the shared fixtures and the harness's bundles."""
    out = {
        f"fixture:{e['label']}": Evidence.from_fixture_dir(FIXTURES / e["path"])
        for e in json.loads((FIXTURES / "index.json").read_text())
    }
    out.update({f"recorded:{p.stem}": load_bundle(p) for p in sorted(RECORDED.glob("*.json"))})
    return out


def edit_run(ev: Evidence, **fields: Any) -> Evidence:
    return ev.model_copy(update={"run": ev.run.model_copy(update=fields)})


def edit_step(ev: Evidence, index: int = -1, **fields: Any) -> Evidence:
    steps = list(ev.steps)
    steps[index] = steps[index].model_copy(update=fields)
    return ev.model_copy(update={"steps": steps})


def with_messages(ev: Evidence, messages: list[Message]) -> Evidence:
    return ev.model_copy(update={"messages": messages})


def _later(msg: Message, seconds: int = 1) -> datetime | None:
    return msg.date + timedelta(seconds=seconds) if msg.date else None


def letta_user_note(after: Message, packed: dict[str, Any], *, step_id: str | None) -> UserMessage:
    """A user_message Letta writes itself, as the messages API returns it (packed JSON text)."""
    return UserMessage(
        id=f"message-{uuid.uuid4()}",
        date=_later(after),
        content=json.dumps(packed),
        step_id=step_id,
        run_id=after.run_id,
    )


def heartbeat(after: Message, reason: str | None = None) -> UserMessage:
    """``create_heartbeat_system_message``: ``get_heartbeat(timezone, reason)``."""
    text = (
        reason or SYSTEM_PREFIX + "Function called using request_heartbeat=true, returning control"
    )
    packed = {"type": "heartbeat", "reason": text, "time": "2026-11-28 10:17:49 AM UTC+0000"}
    return letta_user_note(after, packed, step_id=after.step_id)


def compaction_alert(after: Message, *, hidden: int = 12, total: int = 20) -> UserMessage:
    """``package_summarize_message``: the summariser's note after it compacted the context."""
    packed = {
        "type": "system_alert",
        "message": f"Note: prior messages ({hidden} of {total} total messages) have been hidden "
        "from view due to conversation memory constraints.\nThe following is a summary of the "
        f"previous {hidden} messages:\n The user asked for a sum.",
        "time": "2026-11-28 10:17:49 AM UTC+0000",
        "compaction_stats": {
            "trigger": "post_step_context_check",
            "context_tokens_before": 110000,
            "context_tokens_after": 9000,
            "context_window": 128000,
            "messages_count_before": total,
            "messages_count_after": total - hidden,
        },
    }
    return letta_user_note(after, packed, step_id=after.step_id)


def tool_call(
    after: Message, name: str, arguments: dict[str, Any], *, step_id: str | None
) -> ToolCallMessage:
    call = ToolCall(
        name=name, arguments=json.dumps(arguments), tool_call_id=f"call_{uuid.uuid4().hex[:12]}"
    )
    return ToolCallMessage(
        id=f"message-{uuid.uuid4()}",
        date=_later(after, 0),
        step_id=step_id,
        run_id=after.run_id,
        tool_call=call,
        tool_calls=[call],
    )


def tool_return(call: ToolCallMessage, text: str, *, status: str = "success") -> ToolReturnMessage:
    tc = call.calls[0]
    ret = ToolReturn(type="tool", tool_return=text, status=status, tool_call_id=tc.tool_call_id)
    return ToolReturnMessage(
        id=f"message-{uuid.uuid4()}",
        date=call.date,
        name=tc.name,
        step_id=call.step_id,
        run_id=call.run_id,
        tool_return=text,
        status=status,
        tool_call_id=tc.tool_call_id,
        tool_returns=[ret],
    )


def without_answer(ev: Evidence) -> Evidence:
    """The run with every assistant message removed (the answer cut)."""
    return with_messages(ev, [m for m in ev.messages if not isinstance(m, AssistantMessage)])


_IDS = re.compile(
    r"\b(run|agent|step|message|conversation|tool|provider|org|user)-[0-9a-f]{8}-[0-9a-f]{4}-"
    r"[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b|\bcall_[0-9A-Za-z]{6,}\b"
)


def rename_ids(ev: Evidence) -> tuple[Evidence, dict[str, str]]:
    """The same run with every id replaced by a fresh one, consistently everywhere."""
    text = json.dumps(ev.to_bundle())
    mapping: dict[str, str] = {}

    def fresh(match: re.Match[str]) -> str:
        old = match.group(0)
        if old not in mapping:
            prefix = old.split("-", 1)[0] if not old.startswith("call_") else "call"
            mapping[old] = (
                f"call_{uuid.uuid4().hex[:12]}" if prefix == "call" else f"{prefix}-{uuid.uuid4()}"
            )
        return mapping[old]

    renamed = _IDS.sub(fresh, text)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "renamed.json"
        path.write_text(renamed)
        return load_bundle(path), mapping
