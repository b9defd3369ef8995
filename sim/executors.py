"""Where replications run: this process, a local pool of worker processes, or a Dask cluster.

Every task depends only on its arguments (scenario, seed, replication), so results are the
same to the last digit whatever the backend and the number of workers. Tasks are grouped in
chunks so that the per-task overhead stays small next to the simulation itself.
"""

from __future__ import annotations

import math
import signal
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, TypeVar

T = TypeVar("T")

BACKENDS = ("local", "dask")


def _worker_signals() -> None:
    """Workers leave Ctrl-C to the main process, which stops them; SIGTERM ends them at once."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def stop_pool(pool: ProcessPoolExecutor) -> None:
    """Stop a worker pool at once (interrupt or failure): cancel what has not started, end the rest."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=5)


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
    pool = ProcessPoolExecutor(max_workers=min(jobs, len(groups)), initializer=_worker_signals)
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
        from distributed import Client, LocalCluster
        from distributed import as_completed as dask_completed
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise RuntimeError("the dask backend needs the 'distributed' package: pip install 'bordersim[dask]'") from exc
    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(n_workers=max(1, jobs), threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
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
        client.close()
        if cluster is not None:
            cluster.close()
