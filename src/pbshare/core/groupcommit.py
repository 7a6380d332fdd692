"""Group commit: callers that write at the same moment share one transaction, each still waiting for it.

A request that must be durable before it is answered (an envelope in the inbox before its receipt)
pays a transaction, a commit and, on SQLite, a turn at the one write lock. Taken one by one, eight
concurrent callers queue for the lock eight times. ``GroupCommit`` lets the first caller lead: it runs
what every caller handed in meanwhile as one batch (one transaction, one commit), hands each caller
its own result, and passes the lead to a waiting caller if more came in. No timer, no waiting for a
batch to fill: a lone caller runs at once, and the batch grows only while the previous one commits.

Each caller returns only after the batch holding its items has run, so it never answers before its
own commit, and an exception of the batch (the database down) is raised in every caller of it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class _Ticket(Generic[Item, Result]):
    __slots__ = ("done", "error", "items", "lead", "results")

    def __init__(self, items: Sequence[Item]) -> None:
        self.items = items
        self.done = threading.Event()
        self.lead = False  # set with ``done`` when this caller is to run the next batch
        self.results: list[Result] | None = None
        self.error: BaseException | None = None


class GroupCommit(Generic[Item, Result]):
    """Run ``work`` over the items of every caller waiting at the time, at most ``max_items`` a batch.

    ``work`` gets the items of several callers in order and returns one result per item, in order. A
    caller's items are never split across batches.
    """

    def __init__(self, work: Callable[[list[Item]], list[Result]], *, max_items: int = 500) -> None:
        self.work = work
        self.max_items = max_items
        self._lock = threading.Lock()
        self._waiting: list[_Ticket[Item, Result]] = []
        self._leading = False

    def submit(self, items: Sequence[Item]) -> list[Result]:
        """The results of ``items``, once the batch holding them has run (and committed)."""
        if not items:
            return []
        ticket: _Ticket[Item, Result] = _Ticket(items)
        with self._lock:
            self._waiting.append(ticket)
            lead = not self._leading
            self._leading = True
        if not lead:
            ticket.done.wait()
            if not ticket.lead:
                return self._result(ticket)
        while ticket.results is None and ticket.error is None:
            self._run_one_batch()
        self._pass_lead()
        return self._result(ticket)

    def _run_one_batch(self) -> None:
        with self._lock:
            batch: list[_Ticket[Item, Result]] = []
            count = 0
            while self._waiting and (not batch or count + len(self._waiting[0].items) <= self.max_items):
                nxt = self._waiting.pop(0)
                batch.append(nxt)
                count += len(nxt.items)
        items = [item for t in batch for item in t.items]
        try:
            results = self.work(items)
            if len(results) != len(items):
                raise RuntimeError(f"group commit: {len(results)} results for {len(items)} items")
        except BaseException as exc:  # every caller of the batch learns it failed, the leader too
            for t in batch:
                t.error = exc
        else:
            at = 0
            for t in batch:
                t.results = results[at:at + len(t.items)]
                at += len(t.items)
        for t in batch:
            t.done.set()

    def _pass_lead(self) -> None:
        with self._lock:
            if not self._waiting:
                self._leading = False
                return
            nxt = self._waiting[0]
        nxt.lead = True
        nxt.done.set()

    @staticmethod
    def _result(ticket: _Ticket[Item, Result]) -> list[Result]:
        if ticket.error is not None:
            raise ticket.error
        assert ticket.results is not None
        return ticket.results
