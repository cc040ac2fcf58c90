"""Pages that walk themselves, with the cursor rules the real server has (Letta 0.16.8).

The three run lists page differently, and the official SDK's "``after=<last id>``" is wrong for
two of them:

* **runs** (``/v1/runs/``): ``before=<last id>`` is the next page in *either* order;
  ``after=X`` returns the head of the list up to X, so paging with it loops forever.
* **messages** (``/v1/runs/{id}/messages``, default ``asc``): ``after`` = later, ``before`` =
  earlier, whatever the order; ``limit`` counts *internal* messages, one of which can expand to
  several items sharing an ``id`` (reasoning + tool call + assistant). A page may hold more items
  than ``limit``, so the walk ends when a page brings nothing new, not when it is short.
* **steps** (``/v1/runs/{id}/steps``, default ``desc``, and ``/v1/steps/`` where it works):
  ``after=<last id>`` is the next page.
* **bulk messages** (``/v1/messages/`` and ``/v1/agents/{id}/messages``, default ``desc``): a page
  always comes back oldest → newest whatever ``order`` says; ``order=desc`` picks the newest
  ``limit`` internal messages. Paging back in time is ``before=<first (oldest) id of the page>``,
  forward (``asc``) is ``after=<last id>``. Iterating yields items in the order asked for.

Iterating a page walks every following page, never yielding the same item twice.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from ._constants import DEFAULT_PAGE_SIZE

__all__ = [
    "AsyncPage",
    "ListKind",
    "PageInfo",
    "PageSpec",
    "SyncPage",
    "cursor_param",
    "item_key",
    "last_item_probe_params",
    "next_page_params",
    "settles_at_fetch",
]

T = TypeVar("T")
ListKind = Literal["runs", "messages", "steps", "bulk_messages"]


@dataclass(frozen=True)
class PageSpec(Generic[T]):
    """What a list call asked for: the route, its query, and how to parse one item."""

    kind: ListKind
    path: str
    params: dict[str, Any]
    parse: Callable[[dict[str, Any]], T]


def item_key(kind: ListKind, raw: dict[str, Any]) -> Hashable:
    """Identity of one item: messages share ids across their parts, so add type and otid."""
    if kind in ("messages", "bulk_messages"):
        return (raw.get("id"), raw.get("message_type"), raw.get("otid"))
    return raw.get("id")


def _page_limit(params: dict[str, Any]) -> int:
    limit = params.get("limit")
    return int(limit) if isinstance(limit, int) else DEFAULT_PAGE_SIZE


def cursor_param(kind: ListKind, params: dict[str, Any]) -> str:
    """The parameter that takes an item's id to list what comes after it in this listing.

    >>> cursor_param("runs", {}), cursor_param("steps", {}), cursor_param("messages", {"order": "desc"})
    ('before', 'after', 'before')
    """
    if kind == "runs":
        return "before"
    if kind == "messages" and params.get("order") == "desc":
        return "before"
    return "after"


def next_page_params(
    kind: ListKind, params: dict[str, Any], raw_items: list[dict[str, Any]]
) -> dict[str, Any] | None:
    """The query of the page after ``raw_items``, or ``None`` when there is none.

    The caller's own bounds stay in place (an explicit runs ``after``, a messages ``before`` in
    ``asc`` order, …) so the walk never leaves the window the caller asked for.
    """
    if not raw_items:
        return None
    last = raw_items[-1].get("id")
    if not isinstance(last, str):
        return None
    if kind == "runs" and len(raw_items) < min(_page_limit(params), 1000):
        return None
    if kind == "steps" and len(raw_items) < _page_limit(params):
        return None
    # messages: a short page proves nothing (filters, shared ids); walk until nothing new.
    if kind == "bulk_messages" and params.get("order", "desc") == "desc":
        # The page is ascending whatever the order: its first item is the oldest.
        first = raw_items[0].get("id")
        return {**params, "before": first} if isinstance(first, str) else None
    return {**params, cursor_param(kind, params): last}


def last_item_probe_params(kind: ListKind, params: dict[str, Any]) -> dict[str, Any] | None:
    """For messages: the query of the one internal message that would end this listing.

    The same bounds in the opposite order with ``limit=1`` name the last item the walk can
    reach; a page that already holds it is the end. ``None`` for runs and steps, whose short
    page already proves the end.
    """
    if kind not in ("messages", "bulk_messages"):
        return None
    out = dict(params)
    default = "desc" if kind == "bulk_messages" else "asc"
    out["order"] = "asc" if params.get("order", default) == "desc" else "desc"
    out["limit"] = 1
    return out


def settles_at_fetch(kind: ListKind) -> bool:
    """Whether a list call also asks for the listing's last item, so ``has_more`` is known: a
    run's messages, whose short page proves nothing."""
    return kind == "messages"


@dataclass(frozen=True)
class PageInfo:
    """What the next page's request adds (letta-client's ``PageInfo``): the cursor."""

    params: dict[str, Any]


class _PageBase(Generic[T]):
    def __init__(
        self,
        spec: PageSpec[T],
        raw_items: list[dict[str, Any]],
        params: dict[str, Any],
        last: list[dict[str, Any]] | None = None,
    ) -> None:
        self._spec = spec
        self._raw = raw_items
        self._params = params
        self._last = last
        self.items: list[T] = [spec.parse(item) for item in raw_items]

    @property
    def has_more(self) -> bool | None:
        """Whether items exist beyond this page (an attribute, as in letta-client).

        Runs and steps: a short page is the end, a full one counts as more. A run's messages,
        where a short page proves nothing: the list call also asked the server for the
        listing's last item, and this page either holds it or not. ``None`` where that was not
        asked (a page reached by walking, whose walk ends on an empty page).
        """
        if not self._next_params():
            return False
        if last_item_probe_params(self._spec.kind, self._params) is None:
            return True
        if self._last is None:
            return None
        return bool(self._last) and self._last[-1].get("id") not in {r.get("id") for r in self._raw}

    @property
    def next_cursor(self) -> str | None:
        """The id to continue after (under the parameter ``next_page_info()`` names)."""
        info = self.next_page_info() if self.has_more is not False else None
        return next(iter(info.params.values())) if info else None

    def next_page_info(self) -> PageInfo | None:
        """The cursor of the next page's request, or ``None`` when there is none."""
        params = self._next_params()
        if params is None:
            return None
        return PageInfo({k: v for k, v in params.items() if self._params.get(k) != v})

    @property
    def kind(self) -> ListKind:
        """Which list this page belongs to: ``runs``, ``messages`` or ``steps``."""
        return self._spec.kind

    @property
    def raw_items(self) -> list[dict[str, Any]]:
        """The items as the server sent them (JSON)."""
        return list(self._raw)

    @property
    def params(self) -> dict[str, Any]:
        """The query string this page was fetched with."""
        return dict(self._params)

    def _next_params(self) -> dict[str, Any] | None:
        return next_page_params(self._spec.kind, self._params, self._raw)

    def _walk_order(self) -> list[tuple[dict[str, Any], T]]:
        """This page's items in the order a walk yields them: a bulk ``desc`` walk goes back in
        time, so its ascending pages are read from the end."""
        pairs = list(zip(self._raw, self.items, strict=True))
        if self._spec.kind == "bulk_messages" and self._params.get("order", "desc") == "desc":
            pairs.reverse()
        return pairs

    def has_next_page(self) -> bool:
        """True when another request might bring more items (messages: until proven empty)."""
        return self._next_params() is not None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._spec.kind} items={len(self.items)}>"


class SyncPage(_PageBase[T]):
    """One page of a list call. ``.items`` is this page; iterating walks all pages.

    >>> for run in client.runs.list(statuses=["failed"]):    # doctest: +SKIP
    ...     print(run.id)
    """

    def __init__(
        self,
        spec: PageSpec[T],
        raw_items: list[dict[str, Any]],
        params: dict[str, Any],
        fetch: Callable[[str, dict[str, Any]], list[dict[str, Any]]],
        last: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(spec, raw_items, params, last)
        self._fetch = fetch

    def next_page(self) -> SyncPage[T] | None:
        """The page after this one, or ``None`` (a walk's step: ``has_more`` may be ``None``)."""
        params = self._next_params()
        if params is None:
            return None
        raw = self._fetch(self._spec.path, params)
        return SyncPage(self._spec, raw, params, self._fetch)

    def settle_has_more(self) -> bool:
        """``has_more``, asking the server for the listing's last item when it is not known."""
        if self.has_more is None:
            probe = last_item_probe_params(self._spec.kind, self._params)
            self._last = self._fetch(self._spec.path, probe) if probe else []
        return bool(self.has_more)

    def get_next_page(self) -> SyncPage[T]:
        """The page after this one, ``has_more`` settled (letta-client's name).

        Raises ``RuntimeError`` when there is no next page, as letta-client does.
        """
        params = self._next_params()
        if params is None or self.has_more is False:
            raise RuntimeError("No next page expected; check `.has_next_page()` first")
        probe = last_item_probe_params(self._spec.kind, params)
        raw = self._fetch(self._spec.path, params)
        last = (
            self._fetch(self._spec.path, probe) if probe and settles_at_fetch(self.kind) else None
        )
        return SyncPage(self._spec, raw, params, self._fetch, last)

    def iter_pages(self) -> Iterator[SyncPage[T]]:
        page: SyncPage[T] | None = self
        while page is not None:
            yield page
            page = page.next_page() if page.has_more is not False else None

    def iter_all(self, max_items: int | None = None) -> Iterator[T]:
        """Every item of every page, once each, up to ``max_items``."""
        seen: set[Hashable] = set()
        count = 0
        if max_items is not None and max_items <= 0:
            return
        for page in self.iter_pages():
            new = 0
            for raw, item in page._walk_order():
                key = item_key(self._spec.kind, raw)
                if key in seen:
                    continue
                seen.add(key)
                new += 1
                yield item
                count += 1
                if max_items is not None and count >= max_items:
                    return
            if new == 0:
                return

    def __iter__(self) -> Iterator[T]:
        return self.iter_all()

    def to_list(self, max_items: int | None = None) -> list[T]:
        return list(self.iter_all(max_items))


class AsyncPage(_PageBase[T]):
    """The async twin of ``SyncPage``: ``async for`` walks every page."""

    def __init__(
        self,
        spec: PageSpec[T],
        raw_items: list[dict[str, Any]],
        params: dict[str, Any],
        fetch: Callable[[str, dict[str, Any]], Awaitable[list[dict[str, Any]]]],
        last: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(spec, raw_items, params, last)
        self._fetch = fetch

    async def next_page(self) -> AsyncPage[T] | None:
        """The page after this one, or ``None`` (a walk's step: ``has_more`` may be ``None``)."""
        params = self._next_params()
        if params is None:
            return None
        raw = await self._fetch(self._spec.path, params)
        return AsyncPage(self._spec, raw, params, self._fetch)

    async def settle_has_more(self) -> bool:
        """``has_more``, asking the server for the listing's last item when it is not known."""
        if self.has_more is None:
            probe = last_item_probe_params(self._spec.kind, self._params)
            self._last = await self._fetch(self._spec.path, probe) if probe else []
        return bool(self.has_more)

    async def get_next_page(self) -> AsyncPage[T]:
        """The page after this one, ``has_more`` settled (see :meth:`SyncPage.get_next_page`)."""
        params = self._next_params()
        if params is None or self.has_more is False:
            raise RuntimeError("No next page expected; check `.has_next_page()` first")
        probe = last_item_probe_params(self._spec.kind, params)
        if probe and settles_at_fetch(self.kind):
            import asyncio

            raw, last = await asyncio.gather(
                self._fetch(self._spec.path, params), self._fetch(self._spec.path, probe)
            )
            return AsyncPage(self._spec, raw, params, self._fetch, last)
        return AsyncPage(
            self._spec, await self._fetch(self._spec.path, params), params, self._fetch
        )

    async def iter_pages(self) -> AsyncIterator[AsyncPage[T]]:
        page: AsyncPage[T] | None = self
        while page is not None:
            yield page
            page = await page.next_page() if page.has_more is not False else None

    async def iter_all(self, max_items: int | None = None) -> AsyncIterator[T]:
        """Every item of every page, once each, up to ``max_items``."""
        seen: set[Hashable] = set()
        count = 0
        if max_items is not None and max_items <= 0:
            return
        async for page in self.iter_pages():
            new = 0
            for raw, item in page._walk_order():
                key = item_key(self._spec.kind, raw)
                if key in seen:
                    continue
                seen.add(key)
                new += 1
                yield item
                count += 1
                if max_items is not None and count >= max_items:
                    return
            if new == 0:
                return

    def __aiter__(self) -> AsyncIterator[T]:
        return self.iter_all()

    async def to_list(self, max_items: int | None = None) -> list[T]:
        return [item async for item in self.iter_all(max_items)]
