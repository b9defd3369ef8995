"""Stopping a worker pool leaves nothing for the interpreter's exit hook to trip over."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ProcessPoolExecutor, process

from sim.experiments.executors import _worker_init, stop_pool


def _block() -> None:
    """A task that never finishes by itself: it is running (or waiting) whenever the pool is stopped."""
    threading.Event().wait()


def _nothing() -> None:
    return None


def test_stopped_pool_has_no_manager_thread_left():
    pool = ProcessPoolExecutor(max_workers=2, initializer=_worker_init, initargs=(os.getpid(),))
    futures = [pool.submit(_block) for _ in range(4)]
    started = pool.submit(_nothing)
    # the pool is up: its manager thread exists once a task has been submitted
    manager = pool._executor_manager_thread
    assert manager is not None
    assert manager.is_alive()
    stop_pool(pool)
    # finished, its wake-up pipe closed: the exit hook skips it instead of writing to a pipe
    # closed under its feet ("Bad file descriptor" after an interrupted sweep)
    assert not manager.is_alive()
    wakeup = process._threads_wakeups.get(manager)
    assert wakeup is None or wakeup._closed
    assert all(f.done() for f in futures + [started])
