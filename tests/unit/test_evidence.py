"""Evidence loads recorded runs chronologically and round-trips through the bundle format."""

from __future__ import annotations

import json
from pathlib import Path

from letta_runs.diagnosis import diagnose
from letta_runs.evidence import BUNDLE_FORMAT, Evidence, load_bundle, save_bundle
from letta_runs.models import ToolReturnMessage, UserMessage

SHARED_FIXTURES = (Path(__file__).resolve().parents[1] / "data" / "fixtures").resolve()


def run_dir(label: str) -> Path:
    for entry in json.loads((SHARED_FIXTURES / "index.json").read_text()):
        if entry["label"] == label:
            return SHARED_FIXTURES / entry["path"]
    raise KeyError(label)


def test_fixture_steps_are_reversed_into_chronological_order() -> None:
    folder = run_dir("sync_fail_then_answer")
    raw_steps = json.loads((folder / "steps.json").read_text())
    ev = Evidence.from_fixture_dir(folder)
    assert [s.id for s in ev.steps] == [s["id"] for s in reversed(raw_steps)]
    # The first message (the input) belongs to the first step.
    assert isinstance(ev.messages[0], UserMessage)
    assert ev.messages[0].step_id == ev.steps[0].id
    assert ev.steps[-1].stop_reason == "end_turn"


def test_fixture_records_trace_and_stream_errors_not_health() -> None:
    ev = Evidence.from_fixture_dir(run_dir("sync_plain"))
    assert ev.trace is None
    assert ev.endpoint_errors["trace"].status_code == 501
    assert ev.endpoint_errors["trace"].kind == "not_supported"
    assert ev.endpoint_errors["stream"].status_code == 400
    assert ev.usage is not None and ev.metrics is not None


def test_background_stream_is_parsed_into_events() -> None:
    ev = Evidence.from_fixture_dir(run_dir("stream_bg_steps"))
    assert ev.stream_events is not None
    kinds = [e.kind for e in ev.stream_events]
    assert kinds[0] == "ping" and kinds[-1] == "done" and "stop_reason" in kinds


def test_bundle_round_trip_keeps_everything(tmp_path: Path) -> None:
    ev = Evidence.from_fixture_dir(run_dir("stream_bg_steps"))
    path = save_bundle(ev, tmp_path / "bundle.json")
    data = json.loads(path.read_text())
    assert data["format"] == BUNDLE_FORMAT
    assert data["trace"]["status"] == 501
    assert data["stream"]["status"] == 200 and "data: [DONE]" in data["stream"]["sse"]
    again = load_bundle(path)
    assert again.run == ev.run
    assert [s.id for s in again.steps] == [s.id for s in ev.steps]
    assert [m.id for m in again.messages] == [m.id for m in ev.messages]
    assert again.usage == ev.usage and again.metrics == ev.metrics
    assert again.endpoint_errors["trace"].status_code == 501
    assert [e.kind for e in again.stream_events or []] == [e.kind for e in ev.stream_events or []]
    assert diagnose(again).verdict == diagnose(ev).verdict == "ok"


def test_load_bundle_accepts_a_recorded_folder() -> None:
    ev = load_bundle(run_dir("sync_max_steps_3"))
    assert len(ev.steps) == 3 and ev.run.stop_reason == "max_steps"


def test_messages_keep_their_types_and_unknown_ones() -> None:
    folder = run_dir("sync_fail_then_answer")
    bundle = Evidence.from_fixture_dir(folder).to_bundle()
    bundle["messages"].append({"id": "message-x", "message_type": "hologram_message", "beam": 1})
    ev = Evidence.model_validate(
        {"run": bundle["run"], "steps": bundle["steps"], "messages": bundle["messages"]}
    )
    assert any(isinstance(m, ToolReturnMessage) for m in ev.messages)
    assert ev.messages[-1].message_type == "hologram_message"
