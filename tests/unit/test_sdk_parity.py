"""Code written for the official ``letta-client`` SDK runs here: the names of its runs namespace
exist, with signatures that accept the same calls, and pages answer the same questions.

The SDK is a dev dependency (``letta-client``); every method of ``Letta().runs`` and of its
sub-resources is listed from the SDK itself, so a name the SDK adds shows up here as a failure.
Per-request options (``extra_headers``, ``extra_query``, ``extra_body``, ``timeout``) are the
SDK's transport; here they are set on the client (``headers=``, ``timeout=``), not per call.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

import pytest
from letta_runs import AsyncRunsClient, RunsClient
from letta_runs._pagination import AsyncPage, SyncPage

letta_client = pytest.importorskip("letta_client")

REQUEST_OPTIONS = {"extra_headers", "extra_query", "extra_body", "timeout"}
PROXIES = {"with_raw_response", "with_streaming_response"}


def public(obj: Any) -> list[str]:
    return sorted(n for n in dir(obj) if not n.startswith("_"))


def methods(sdk: Any, ours: Any, prefix: str = "runs") -> Iterator[tuple[str, Any, Any]]:
    """(dotted name, SDK member, our member) for every public member of the SDK resource."""
    for name in public(sdk):
        sdk_member = getattr(sdk, name)
        assert hasattr(ours, name), f"{prefix}.{name} is missing"
        our_member = getattr(ours, name)
        if name in PROXIES:
            yield from methods(sdk_member, our_member, f"{prefix}.{name}")
        elif callable(sdk_member):
            yield f"{prefix}.{name}", sdk_member, our_member
        else:
            yield from methods(sdk_member, our_member, f"{prefix}.{name}")


def accepts_the_same_calls(name: str, sdk: Any, ours: Any) -> None:
    theirs = inspect.signature(sdk).parameters
    mine = inspect.signature(ours).parameters
    takes_any = any(p.kind is p.VAR_KEYWORD for p in mine.values())
    positional = [p for p in theirs.values() if p.kind is p.POSITIONAL_OR_KEYWORD]
    our_positional = [
        p for p in mine.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    # The run id comes first, positionally, in both (named path_run_id in the SDK's stream).
    assert len(our_positional) >= len(positional), name
    for param in theirs.values():
        if param.name in REQUEST_OPTIONS or param.kind is not param.KEYWORD_ONLY:
            continue
        assert param.name in mine or takes_any, f"{name}: no keyword {param.name!r}"
    required = [
        p.name
        for p in mine.values()
        if p.default is p.empty and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    assert len(required) <= len(positional), f"{name} requires {required}"


@pytest.mark.parametrize(
    ("sdk_client", "our_client"),
    [
        (lambda: letta_client.Letta(api_key="x", base_url="http://sdk.test"), RunsClient),
        (lambda: letta_client.AsyncLetta(api_key="x", base_url="http://sdk.test"), AsyncRunsClient),
    ],
    ids=["sync", "async"],
)
def test_every_name_of_the_sdk_runs_namespace_exists_with_a_compatible_signature(
    sdk_client: Any, our_client: Any
) -> None:
    sdk = sdk_client()
    ours = our_client(base_url="demo")
    seen = []
    for name, sdk_method, our_method in methods(sdk.runs, ours.runs):
        accepts_the_same_calls(name, sdk_method, our_method)
        seen.append(name)
    assert {"runs.list", "runs.retrieve", "runs.messages.list", "runs.messages.stream"} <= set(seen)
    assert "runs.with_raw_response.retrieve" in seen


@pytest.mark.parametrize(
    ("sdk_page", "our_page"),
    [
        ("SyncArrayPage", SyncPage),
        ("AsyncArrayPage", AsyncPage),
    ],
)
def test_pages_have_the_sdk_pages_attributes(sdk_page: str, our_page: type) -> None:
    from letta_client import pagination
    from letta_client._base_client import BasePage

    sdk_cls = getattr(pagination, sdk_page)
    names = set(sdk_cls.__annotations__) | {
        n for n in dir(sdk_cls) if not n.startswith("_") and n not in dir(BasePage)
    }
    names |= {"has_next_page", "next_page_info"}
    names -= {"build", "items"}  # the SDK's constructor from a response; items is per instance
    missing = [n for n in sorted(names) if not hasattr(our_page, n)]
    assert missing == []
    assert isinstance(inspect.getattr_static(our_page, "has_more"), property)  # not a method


def test_sdk_style_code_runs_unchanged_on_the_demo_runs() -> None:
    run_id = "run-5ab019dd-6498-4ae8-9c53-271145402d1b"  # a background run with a stream
    with RunsClient(base_url="demo") as client:
        page = client.runs.messages.list(run_id, limit=2)
        items = list(page.items)
        while page.has_next_page() and page.has_more:
            page = page.get_next_page()
            items += page.items
        assert [m.id for m in items] == [m.id for m in client.runs.messages.list(run_id)]
        events = list(client.runs.messages.stream(run_id, include_pings=False))
        assert events[-1].kind == "done"
        raw = client.runs.with_raw_response.retrieve(run_id)
        assert raw.status_code == 200 and raw.json()["id"] == run_id == raw.parse().id


async def test_a_raw_response_is_the_answer_to_the_call_even_when_its_probe_answers_first() -> None:
    import asyncio

    import httpx

    run_id = "run-39e39189-9b0f-49e1-aa16-49a02c1268f4"
    page = [{"id": f"message-{i}", "message_type": "user_message"} for i in range(5)]

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("limit") == "1":  # the end probe: answers at once
            return httpx.Response(200, json=page[-1:])
        await asyncio.sleep(0.05)  # the page itself answers later
        return httpx.Response(200, json=page)

    async with AsyncRunsClient(
        base_url="http://letta.test", transport=httpx.MockTransport(handler)
    ) as client:
        raw = await client.runs.messages.with_raw_response.list(run_id, limit=5)
    assert raw.json() == page
    assert raw.parse().has_more is False
