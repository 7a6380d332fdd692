"""Shutdown of the channel runtime cannot hang on a task that swallows its cancellation.

Python 3.11's ``asyncio.wait_for`` returns the inner result instead of raising when it is cancelled
at the moment the inner call finished; a loop that then keeps running must not keep ``pbshare serve``
(or the app's lifespan) from stopping.
"""

from __future__ import annotations

import asyncio

from pbshare.exchange.channel import ChannelConfig
from pbshare.exchange.runtime import Runtime, cancel_and_wait


async def swallows_one_cancel(stopped: list[str]) -> None:
    try:
        await asyncio.sleep(3600)
    except asyncio.CancelledError:
        stopped.append("lost one cancellation")  # what the wait_for race does
    try:
        while True:
            await asyncio.sleep(0.05)
    finally:
        stopped.append("yes")


async def ignores_cancellation(release: asyncio.Event) -> None:
    while not release.is_set():
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            continue


async def let_go(task: asyncio.Task, release: asyncio.Event) -> None:
    release.set()
    task.cancel()
    await asyncio.wait({task}, timeout=1)


async def test_a_task_that_loses_a_cancellation_is_cancelled_again():
    stopped: list[str] = []
    task = asyncio.create_task(swallows_one_cancel(stopped))
    await asyncio.sleep(0.01)
    assert await cancel_and_wait(task, grace=3) is True
    assert task.cancelled() and stopped == ["lost one cancellation", "yes"]


async def test_a_task_that_never_stops_is_left_after_the_grace():
    release = asyncio.Event()
    task = asyncio.create_task(ignores_cancellation(release))
    await asyncio.sleep(0.01)
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await cancel_and_wait(task, grace=0.6) is False
    assert loop.time() - started < 2
    await let_go(task, release)


async def test_the_caller_own_cancellation_is_not_swallowed():
    release = asyncio.Event()

    async def parent(inner: asyncio.Task) -> str:
        await cancel_and_wait(inner, grace=30)
        return "kept running"

    # a listener still closing its broker connection when shutdown comes
    inner = asyncio.create_task(ignores_cancellation(release))
    outer = asyncio.create_task(parent(inner))
    await asyncio.sleep(0.05)
    outer.cancel()
    await asyncio.wait({outer}, timeout=2)
    assert outer.cancelled()
    await let_go(inner, release)


async def test_runtime_stop_returns_although_a_listener_ignores_cancel(tmp_path):
    rt = Runtime(database=None, config=ChannelConfig(data_dir=tmp_path))
    stopped: list[str] = []
    rt.listeners["stubborn"] = asyncio.create_task(swallows_one_cancel(stopped))
    await asyncio.sleep(0.01)
    await asyncio.wait_for(rt.stop(), timeout=10)
    assert stopped == ["lost one cancellation", "yes"] and rt.listeners == {}
