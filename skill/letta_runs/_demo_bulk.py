"""The bulk lists of the demo server: ``/v1/messages/``, ``/v1/agents/{id}/messages``,
``/v1/agents/{id}`` and ``/v1/steps/`` over a set of bundles, with Letta 0.16.8's rules.

The server keeps one insertion sequence for every message. Bundles hold only dates, so the
sequence is rebuilt the way Letta writes it: a run's leading input messages (stamped when the
request arrived) are inserted with the run's first output, every other message when its step
ends; within a run the order is kept (a running maximum), and runs interleave by time. Each agent
also has one system message (no ``run_id``), inserted before its first run.

Pages follow the real server (see ``letta_runs._bulk``): always ascending, ``order=desc`` takes the
newest ``limit`` internal messages, ``before``/``after`` compare insertion positions, unknown
cursors answer 404, ``limit`` has no cap (0 → ``[]``, negative → 500), and
``include_return_message_types`` filters after the limit. ``/v1/steps/`` answers 0.16.8's 400 to
every query unless the index is built with ``steps_bulk=True``, which serves the documented
behaviour instead (newest first, ``after=<last id>`` is the next page, exclusive date bounds).
"""

from __future__ import annotations

import bisect
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from ._bulk import AGENT_ID_PATTERN, MESSAGE_TYPES

__all__ = ["BulkIndex"]

_INPUT_TYPES = ("user_message", "approval_response_message")
STEPS_400 = "Argument order does not match type typing.Optional[str]; is {} of type <class 'bool'>"

Group = list[dict[str, Any]]
"""One internal message: the consecutive items that share an id."""


def _json(status: int, body: Any) -> httpx.Response:
    return httpx.Response(status, json=body)


def _date(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _groups(messages: list[dict[str, Any]]) -> list[Group]:
    out: list[Group] = []
    for item in messages:
        if out and out[-1][0].get("id") == item.get("id"):
            out[-1].append(item)
        else:
            out.append([item])
    return out


def _unprocessable(loc: str, msg: str, value: str) -> httpx.Response:
    detail = [{"type": "value_error", "loc": ("query", loc), "msg": msg, "input": value}]
    return _json(422, {"trace_id": "", "detail": str(detail)})


class BulkIndex:
    """Every message (and step) of the bundles in the server's insertion order."""

    def __init__(self, bundles: list[dict[str, Any]], *, steps_bulk: bool = False) -> None:
        self.steps_bulk = steps_bulk
        keyed: list[tuple[datetime, int, int, Group, str | None]] = []
        first_seen: dict[str, datetime] = {}
        step_times: list[tuple[datetime, str, dict[str, Any]]] = []
        self.recorded_agents: dict[str, dict[str, Any]] = {}
        """What a bundle's ``agent`` section recorded of its agent (type and tool names)."""
        for run_no, bundle in enumerate(
            sorted(bundles, key=lambda b: (b["run"].get("created_at") or "", b["run"]["id"]))
        ):
            run = bundle["run"]
            agent = run.get("agent_id")
            created = _date(run.get("created_at")) or datetime(1970, 1, 1, tzinfo=UTC)
            if isinstance(agent, str):
                first_seen[agent] = min(first_seen.get(agent, created), created)
                section = bundle.get("agent")
                if isinstance(section, dict) and section.get("status") == 200:
                    self.recorded_agents[agent] = section.get("body") or {}
            times = self._insertion_times(_groups(bundle.get("messages") or []), created)
            for pos, (when, group) in enumerate(times):
                keyed.append((when, run_no, pos, group, agent))
            step_times.extend(self._step_times(bundle, times, created))
        for agent, when in first_seen.items():
            keyed.append(
                (when - timedelta(seconds=1), -1, 0, [_system_message(agent, when)], agent)
            )
        keyed.sort(key=lambda k: (k[0], k[1], k[2]))
        self.groups: list[Group] = [k[3] for k in keyed]
        self.agents: list[str | None] = [k[4] for k in keyed]
        self.position = {g[0].get("id"): i for i, g in enumerate(self.groups)}
        self.by_agent: dict[str, list[int]] = {}
        for i, agent in enumerate(self.agents):
            if agent is not None:
                self.by_agent.setdefault(agent, []).append(i)
        self.known_agents = set(first_seen)
        step_times.sort(key=lambda s: (s[0], s[1]))
        self.steps = [(when, sid, step) for when, sid, step in step_times]

    @staticmethod
    def _insertion_times(groups: list[Group], created: datetime) -> list[tuple[datetime, Group]]:
        first_output = next(
            (
                _date(g[0].get("date"))
                for g in groups
                if g[0].get("message_type") not in _INPUT_TYPES and _date(g[0].get("date"))
            ),
            None,
        )
        out: list[tuple[datetime, Group]] = []
        latest = created
        leading = True
        for group in groups:
            when = _date(group[0].get("date")) or latest
            if leading and group[0].get("message_type") in _INPUT_TYPES:
                when = first_output or when
            else:
                leading = False
            latest = max(latest, when)
            out.append((latest, group))
        return out

    @staticmethod
    def _step_times(
        bundle: dict[str, Any], times: list[tuple[datetime, Group]], created: datetime
    ) -> list[tuple[datetime, str, dict[str, Any]]]:
        """A step's ``created_at`` (not in its JSON): the time of its first message, strictly
        increasing within the run."""
        first: dict[str, datetime] = {}
        for when, group in times:
            step_id = group[0].get("step_id")
            if isinstance(step_id, str):
                first.setdefault(step_id, when)
        out = []
        previous = created
        for step in bundle.get("steps") or []:
            when = max(first.get(step["id"], previous), previous + timedelta(microseconds=1))
            out.append((when, str(step["id"]), step))
            previous = when
        return out

    # -- messages

    def messages(self, query: dict[str, list[str]], agent_id: str | None) -> httpx.Response:
        if agent_id is not None:
            if not AGENT_ID_PATTERN.match(agent_id):
                return _unprocessable(
                    "agent_id", "String should match pattern 'agent-{uuid4}'", agent_id
                )
            if agent_id not in self.known_agents:
                return _json(404, {"detail": "Agent not found"})
        one = {k: v[-1] for k, v in query.items()}
        order = one.get("order", "desc")
        if order not in ("asc", "desc"):
            return _unprocessable("order", "Input should be 'asc' or 'desc'", order)
        types = query.get("include_return_message_types")
        for value in types or []:
            if value not in MESSAGE_TYPES:
                return _unprocessable("include_return_message_types", "Input should be …", value)
        try:
            limit = int(one.get("limit", "100"))
        except ValueError:
            return _unprocessable("limit", "Input should be a valid integer", one["limit"])
        low, high = -1, len(self.groups)
        for key in ("after", "before"):
            cursor = one.get(key)
            if cursor is None:
                continue
            if cursor not in self.position:
                return _json(
                    404, {"detail": f"No message found with id '{cursor}' for agent '{agent_id}'."}
                )
            if key == "after":
                low = max(low, self.position[cursor])
            else:
                high = min(high, self.position[cursor])
        if limit < 0:
            return _json(500, {"detail": "A database error occurred."})
        chosen = self._window(agent_id, low, high, one.get("conversation_id"))
        chosen = chosen[:limit] if order == "asc" else chosen[max(len(chosen) - limit, 0) :]
        items = [item for i in chosen for item in self.groups[i]]
        if types:
            items = [m for m in items if m.get("message_type") in types]
        return _json(200, items)

    def _window(
        self, agent_id: str | None, low: int, high: int, conversation: str | None
    ) -> list[int]:
        if agent_id is None:
            positions = list(range(low + 1, high))
        else:
            every = self.by_agent.get(agent_id, [])
            positions = every[bisect.bisect_right(every, low) : bisect.bisect_left(every, high)]
        if conversation is None:
            return positions
        keep: Callable[[Group], bool] = (
            (lambda g: not g[0].get("conversation_id"))
            if conversation == "default"
            else (lambda g: g[0].get("conversation_id") == conversation)
        )
        return [i for i in positions if keep(self.groups[i])]

    def agent(self, agent_id: str) -> httpx.Response:
        if not AGENT_ID_PATTERN.match(agent_id):
            return _unprocessable(
                "agent_id", "String should match pattern 'agent-{uuid4}'", agent_id
            )
        if agent_id not in self.known_agents:
            return _json(404, {"detail": f"Agent with id {agent_id} not found"})
        recorded = self.recorded_agents.get(agent_id)
        if recorded is not None:
            tools = [{"name": name} for name in recorded.get("tool_names") or []]
            body = {"agent_type": recorded.get("agent_type"), "tools": tools}
        else:
            body = {"agent_type": "letta_v1_agent"}
        return _json(200, {"id": agent_id, "name": f"demo-{agent_id[6:14]}", **body})

    # -- steps

    def list_steps(self, query: dict[str, list[str]]) -> httpx.Response:
        one = {k: v[-1] for k, v in query.items()}
        order = one.get("order", "desc")
        if order not in ("asc", "desc"):
            return _unprocessable("order", "Input should be 'asc' or 'desc'", order)
        try:
            limit = int(one.get("limit", "50"))
        except ValueError:
            return _unprocessable("limit", "Input should be a valid integer", one["limit"])
        bounds: dict[str, datetime] = {}
        for key in ("start_date", "end_date"):
            if key in one:
                try:
                    parsed = datetime.fromisoformat(one[key])
                except ValueError:
                    return _json(400, {"detail": f"Invalid isoformat string: '{one[key]}'"})
                bounds[key] = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        if not self.steps_bulk:
            return _json(400, {"detail": STEPS_400.format(order == "asc")})
        agent = one.get("agent_id")
        rows = [
            (when, sid, step)
            for when, sid, step in self.steps
            if ("start_date" not in bounds or when > bounds["start_date"])
            and ("end_date" not in bounds or when < bounds["end_date"])
            and (agent is None or step.get("agent_id") == agent)
        ]
        if order == "desc":
            rows.reverse()
        ids = [sid for _, sid, _ in rows]
        for key in ("after", "before"):
            cursor = one.get(key)
            if cursor is None:
                continue
            if cursor not in ids:
                return _json(404, {"detail": f"No Step found with id {cursor}"})
            pos = ids.index(cursor)
            rows = rows[pos + 1 :] if key == "after" else rows[:pos]
            ids = [sid for _, sid, _ in rows]
        return _json(200, [step for _, _, step in rows[: max(limit, 0)]])


def _system_message(agent_id: str, first_run: datetime) -> dict[str, Any]:
    when = (first_run - timedelta(seconds=1)).isoformat()
    return {
        "id": f"message-{uuid.uuid5(uuid.NAMESPACE_URL, agent_id)}",
        "date": when,
        "name": None,
        "message_type": "system_message",
        "otid": None,
        "sender_id": None,
        "step_id": None,
        "is_err": None,
        "seq_id": None,
        "run_id": None,
        "content": "You are a helpful assistant.",
    }
