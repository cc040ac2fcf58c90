"""The client and the operation catalog against Letta's published OpenAPI documents.

Both documents (Letta Cloud, and the one the self-hosted 0.16.8 server serves) must agree with
what letta-runs offers: every Runs operation exists under its operationId, every query parameter
is accepted by the client method, every Run / Step field is modelled, and every stop reason and
status the API can return is known.
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any

import pytest
from letta_runs import RunsClient
from letta_runs.models import KNOWN_RUN_STATUSES, KNOWN_STOP_REASONS, Run, Step
from letta_runs.operations import OPERATIONS

OPENAPI = Path(__file__).resolve().parents[1] / "data" / "openapi"
SPECS = ["letta-openapi.cloud.json", "letta-openapi.0.16.8.json"]
HEADER_PARAMS = {"user_id", "User-Agent", "X-Project-Id"}

CLIENT_METHODS = {
    "list_runs": lambda c: c.runs.list,
    "list_active_runs": lambda c: c.runs.list_active,
    "retrieve_run": lambda c: c.runs.retrieve,
    "delete_run": lambda c: c.runs.delete,
    "list_messages_for_run": lambda c: c.runs.messages.list,
    "retrieve_usage_for_run": lambda c: c.runs.usage.retrieve,
    "retrieve_metrics_for_run": lambda c: c.runs.metrics.retrieve,
    "list_steps_for_run": lambda c: c.runs.steps.list,
    "retrieve_trace_for_run": lambda c: c.runs.trace.retrieve,
    "retrieve_stream_for_run": lambda c: c.runs.stream,
}


def load(spec: str) -> dict[str, Any]:
    path = OPENAPI / spec
    if not path.is_file():
        pytest.fail(f"OpenAPI document missing: {path}")
    return json.loads(path.read_text())


def runs_operations(doc: dict[str, Any]) -> dict[str, tuple[str, str, dict[str, Any]]]:
    out = {}
    for path, methods in doc["paths"].items():
        if path.startswith("/v1/runs"):
            for method, op in methods.items():
                out[op["operationId"]] = (method.upper(), path, op)
    return out


def resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref:
        return resolve(doc, doc["components"]["schemas"][ref.rsplit("/", 1)[-1]])
    return schema


@pytest.mark.parametrize("spec", SPECS)
def test_every_runs_operation_is_in_the_catalog_with_its_route(spec: str) -> None:
    ops = runs_operations(load(spec))
    assert set(ops) == set(CLIENT_METHODS)
    catalog = {op.name: op for op in OPERATIONS}
    for operation_id, (method, path, _) in ops.items():
        assert operation_id in catalog, operation_id
        assert (catalog[operation_id].http_method, catalog[operation_id].http_path) == (
            method,
            path,
        )


@pytest.mark.parametrize("spec", SPECS)
def test_the_client_accepts_every_documented_parameter(spec: str) -> None:
    doc = load(spec)
    with RunsClient(base_url="demo") as client:
        for operation_id, (_, _, op) in runs_operations(doc).items():
            accepted = set(inspect.signature(CLIENT_METHODS[operation_id](client)).parameters)
            documented = {p["name"] for p in op.get("parameters", [])} - HEADER_PARAMS
            body = op.get("requestBody", {}).get("content", {}).get("application/json")
            if body:
                props = resolve(doc, body["schema"]).get("properties", {})
                # The server ignores run_id/agent_id/otid in the stream body (verified).
                documented |= set(props) - {"run_id", "agent_id", "otid"}
            missing = documented - accepted
            assert not missing, f"{operation_id}: client lacks {sorted(missing)}"


@pytest.mark.parametrize("spec", SPECS)
def test_run_and_step_models_declare_every_documented_field(spec: str) -> None:
    schemas = load(spec)["components"]["schemas"]
    assert set(schemas["Run"]["properties"]) <= set(Run.model_fields)
    ignored = {"messages"}  # deprecated: always empty
    assert set(schemas["Step"]["properties"]) - ignored <= set(Step.model_fields)


@pytest.mark.parametrize("spec", SPECS)
def test_every_status_and_stop_reason_of_the_api_is_known(spec: str) -> None:
    schemas = load(spec)["components"]["schemas"]
    assert set(schemas["RunStatus"]["enum"]) <= set(KNOWN_RUN_STATUSES)
    assert set(schemas["StopReasonType"]["enum"]) <= set(KNOWN_STOP_REASONS)


def test_the_catalogs_argument_enums_are_the_models_known_values() -> None:
    from typing import get_args

    from letta_runs.params import RunStatusName, StopReasonType

    assert tuple(reason.value for reason in StopReasonType) == KNOWN_STOP_REASONS
    assert get_args(RunStatusName) == KNOWN_RUN_STATUSES
