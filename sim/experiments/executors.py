"""Where replications run: this process, a local pool of worker processes, or a Dask cluster.

Every task depends only on its arguments (scenario, seed, replication), so results are the
same to the last digit whatever the backend and the number of workers. Tasks are grouped in
chunks so that the per-task overhead stays small next to the simulation itself.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, TypeVar

T = TypeVar("T")

BACKENDS = ("local", "dask")

log = logging.getLogger(__name__)

_CLOSE_TIMEOUT_S = 2.0  # closing a cluster that is stopped on purpose waits no longer
_SETTLE_TIMEOUT_S = 1.5  # nor does an interrupted start-up for its last worker processes
_MANAGER_TIMEOUT_S = 10.0  # a stopped pool's manager thread, its workers ended, is waited for no longer
_WORKER_LOG_LEVEL = "DASK_LOGGING__DISTRIBUTED"

_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def _worker_init(parent: int) -> None:
    """Set up a worker: Ctrl-C is the main process's to handle, SIGTERM ends it, and it dies with its parent.

    A worker that outlived a killed main process would run on for minutes, holding the
    terminal's output open.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if not _die_with_parent():
        threading.Thread(target=_watch_parent, args=(parent,), name="watch-parent", daemon=True).start()
    if os.getppid() != parent:  # the parent died before the kernel was told to end this worker with it
        os._exit(1)


def _die_with_parent() -> bool:
    """Ask Linux to SIGKILL this process when its parent dies; False where that cannot be asked."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return False
    return prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0


def _watch_parent(parent: int) -> None:
    """Where the kernel cannot end a worker with its parent, notice the parent is gone (the worker is adopted)."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def stop_pool(pool: ProcessPoolExecutor, grace: float = 1.0) -> None:
    """Stop a worker pool at once (interrupt or failure): cancel what has not started, end the rest.

    Workers get SIGTERM, which ends them at once; one still alive after ``grace`` seconds
    is killed, so stopping never waits for a task to finish.
    """
    processes = list((getattr(pool, "_processes", None) or {}).values())
    manager = getattr(pool, "_executor_manager_thread", None)  # shutdown forgets it
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    deadline = time.monotonic() + grace
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
    for process in processes:
        if process.is_alive():
            process.kill()
            process.join(grace)
    if manager is not None:
        _settle_manager(manager)


def _settle_manager(manager: threading.Thread, bound: float = _MANAGER_TIMEOUT_S) -> None:
    """Let the pool's manager thread see its workers gone and finish before the command ends.

    Left running, it can close its wake-up pipe while the interpreter's exit hook writes to
    it, and the user sees a "Bad file descriptor" traceback after the interrupt line. With
    every worker ended it finishes in milliseconds, but on a loaded machine that may take
    more than a second, so it is waited for up to ``bound``; one still running then is taken
    out of the exit hook's list (the interpreter still waits for it, as for any thread).
    """
    manager.join(bound)
    if manager.is_alive():
        from concurrent.futures import process

        getattr(process, "_threads_wakeups", {}).pop(manager, None)


def _run_chunk(fn: Callable[..., T], items: Sequence[tuple[Any, ...]]) -> list[T]:
    return [fn(*args) for args in items]


def _chunks(n_tasks: int, workers: int, chunk: int | None) -> list[range]:
    size = chunk or max(1, math.ceil(n_tasks / (4 * max(1, workers))))
    return [range(i, min(n_tasks, i + size)) for i in range(0, n_tasks, size)]


def run_tasks(
    fn: Callable[..., T],
    tasks: Sequence[tuple[Any, ...]],
    jobs: int = 1,
    backend: str = "local",
    scheduler: str | None = None,
    on_done: Callable[[int, T], None] | None = None,
    chunk: int | None = None,
) -> list[T]:
    """Call ``fn(*task)`` for every task and return the results in task order.

    ``on_done(index, result)`` is called in this process as each task finishes (in any
    order), so a caller can save finished work at once.
    """
    if backend == "dask":
        return _run_dask(fn, tasks, jobs, scheduler, on_done, chunk)
    if jobs <= 1 or len(tasks) <= 1:
        out = []
        for i, args in enumerate(tasks):
            result = fn(*args)
            out.append(result)
            if on_done is not None:
                on_done(i, result)
        return out
    results: list[Any] = [None] * len(tasks)
    groups = _chunks(len(tasks), jobs, chunk or 1)
    pool = ProcessPoolExecutor(max_workers=min(jobs, len(groups)), initializer=_worker_init, initargs=(os.getpid(),))
    try:
        futures = {pool.submit(_run_chunk, fn, [tasks[i] for i in g]): g for g in groups}
        for future in as_completed(futures):
            for i, result in zip(futures[future], future.result(), strict=True):
                results[i] = result
                if on_done is not None:
                    on_done(i, result)
    except BaseException:
        stop_pool(pool)
        raise
    pool.shutdown()
    return results


def _run_dask(
    fn: Callable[..., T],
    tasks: Sequence[tuple[Any, ...]],
    jobs: int,
    scheduler: str | None,
    on_done: Callable[[int, T], None] | None,
    chunk: int | None,
) -> list[T]:
    """The same work on a Dask cluster: an existing one at ``scheduler``, or a local one."""
    try:
        from distributed import as_completed as dask_completed
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise RuntimeError("the dask backend needs the 'distributed' package: pip install 'bordersim[dask]'") from exc
    cluster, client = _connect(jobs, scheduler)
    try:
        workers = max(1, len(client.scheduler_info().get("workers", {})) or jobs)
        groups = _chunks(len(tasks), workers, chunk)
        futures = [client.submit(_run_chunk, fn, [tasks[i] for i in g], pure=False) for g in groups]
        index = {f.key: g for f, g in zip(futures, groups, strict=True)}
        results: list[Any] = [None] * len(tasks)
        for future in dask_completed(futures):
            for i, result in zip(index[future.key], future.result(), strict=True):
                results[i] = result
                if on_done is not None:
                    on_done(i, result)
        return results
    finally:
        with _quiet():
            _close(client)
            if cluster is not None:
                _close(cluster)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Mute log lines and warnings while a Dask cluster starts or stops.

    Its chatter is not for the user, and an interrupted start-up or shutdown makes it print
    warnings and tracebacks about tasks and workers it is abandoning on purpose.
    """
    previous = logging.root.manager.disable
    logging.disable(logging.CRITICAL)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logging.disable(previous)


@contextlib.contextmanager
def _workers_muted() -> Iterator[None]:
    """Worker processes started meanwhile log only critical errors: the rest is chatter, above all when stopping.

    They read their log levels from the environment as they start, before anything else could set them.
    """
    before = os.environ.get(_WORKER_LOG_LEVEL)
    os.environ[_WORKER_LOG_LEVEL] = "critical"
    try:
        yield
    finally:
        if before is None:
            del os.environ[_WORKER_LOG_LEVEL]
        else:
            os.environ[_WORKER_LOG_LEVEL] = before


def _connect(jobs: int, scheduler: str | None) -> tuple[Any, Any]:
    """(cluster, client): a client of the scheduler at ``scheduler``, or a new local cluster and its client.

    An interrupted start-up is undone here, since the caller never sees a cluster half made.
    """
    from distributed import Client, LocalCluster

    if scheduler:
        log.info("connecting to the Dask scheduler at %s", scheduler)
        with _quiet():
            return None, Client(scheduler)
    started: list[LocalCluster] = []

    class Cluster(LocalCluster):
        """A local cluster known from the start of its start-up, so that an interrupted one can be closed."""

        def __init__(self, **options: Any) -> None:
            started.append(self)
            super().__init__(**options)

    log.info("starting a local Dask cluster of %d workers", max(1, jobs))
    with _quiet(), _workers_muted():
        try:
            cluster = Cluster(
                n_workers=max(1, jobs),
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
            return cluster, Client(cluster)
        except BaseException:
            for half_made in started:
                _settle(half_made, max(1, jobs))
                _close(half_made)
            raise


def _settle(cluster: Any, workers: int) -> None:
    """Let the worker processes of a start-up cut short finish starting, for a moment, before it is closed.

    A process stopped while it starts prints a traceback of its own, which no setting here can mute.
    """
    from distributed.core import Status

    with contextlib.suppress(Exception):
        if getattr(cluster, "status", None) == Status.running:  # its workers are under way
            cluster.wait_for_workers(workers, timeout=_SETTLE_TIMEOUT_S)


def _close(thing: Any) -> None:
    """Close a Dask client or cluster, however far its start got: an error now would only hide the real one."""
    with contextlib.suppress(Exception):
        thing.close(timeout=_CLOSE_TIMEOUT_S)
    if hasattr(thing, "shutdown_on_close"):  # a cluster that could not close is not closed again, noisily, at exit
        thing.shutdown_on_close = False
