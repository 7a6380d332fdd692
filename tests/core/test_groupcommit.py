"""Group commit with real threads: callers at the same moment share a batch, each gets its own results
only after that batch ran, and a failed batch fails every caller in it (and only them)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from pbshare.core.groupcommit import GroupCommit


class Recorder:
    """A stand-in for a transaction that takes a while: records each batch it was given."""

    def __init__(self, pause: float = 0.05, fail_on: str | None = None) -> None:
        self.batches: list[list[str]] = []
        self.pause, self.fail_on = pause, fail_on
        self.lock = threading.Lock()

    def __call__(self, items: list[str]) -> list[str]:
        with self.lock:
            self.batches.append(list(items))
        time.sleep(self.pause)
        if self.fail_on in items:
            raise ConnectionError("database went away")
        return [f"done:{i}" for i in items]


def test_a_lone_caller_runs_at_once():
    rec = Recorder(pause=0)
    group = GroupCommit(rec)
    started = time.perf_counter()
    assert group.submit(["a", "b"]) == ["done:a", "done:b"]
    assert time.perf_counter() - started < 0.05 and rec.batches == [["a", "b"]]
    assert group.submit([]) == []


def test_concurrent_callers_share_batches_and_get_their_own_results():
    rec = Recorder()
    group = GroupCommit(rec)
    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda n: group.submit([f"{n}-x", f"{n}-y"]), range(48)))
    assert results == [[f"done:{n}-x", f"done:{n}-y"] for n in range(48)]
    assert sorted(i for b in rec.batches for i in b) == sorted(f"{n}-{s}" for n in range(48) for s in "xy")
    assert len(rec.batches) < 48 / 2, f"callers waiting together share a batch ({len(rec.batches)} batches)"
    for batch in rec.batches:  # a caller's items are never split
        assert all(f"{i.split('-')[0]}-y" in batch for i in batch if i.endswith("-x"))


def test_batches_keep_to_the_limit_without_splitting_a_caller():
    rec = Recorder()
    group = GroupCommit(rec, max_items=5)
    with ThreadPoolExecutor(12) as pool:
        list(pool.map(lambda n: group.submit([f"{n}.{k}" for k in range(3)]), range(24)))
    assert all(len(b) <= 5 for b in rec.batches)
    big = group.submit([str(k) for k in range(9)])  # larger than the limit: runs alone, whole
    assert len(big) == 9 and rec.batches[-1] == [str(k) for k in range(9)]


def test_a_failed_batch_fails_its_callers_and_the_next_batch_runs():
    rec = Recorder(fail_on="poison")
    group = GroupCommit(rec)
    gate = threading.Event()
    outcomes: dict[str, object] = {}

    def call(item: str) -> None:
        gate.wait()
        try:
            outcomes[item] = group.submit([item])
        except ConnectionError as exc:
            outcomes[item] = exc

    threads = [threading.Thread(target=call, args=(f"m{n}",)) for n in range(6)]
    threads.append(threading.Thread(target=call, args=("poison",)))
    for t in threads:
        t.start()
    gate.set()
    for t in threads:
        t.join(10)
    failed_batch = next(b for b in rec.batches if "poison" in b)
    for item, outcome in outcomes.items():
        if item in failed_batch:
            assert isinstance(outcome, ConnectionError)
        else:
            assert outcome == [f"done:{item}"]
    assert len(outcomes) == 7
    assert group.submit(["after"]) == ["done:after"], "the group still works after a failed batch"


def test_wrong_result_count_is_an_error_not_a_misdelivery():
    group = GroupCommit(lambda items: items[:-1])
    with pytest.raises(RuntimeError, match="results for"):
        group.submit(["a", "b"])
