"""Measurement helpers shared by the benchmarks: one measurement per fresh process, and how to report them.

Why a fresh process for every measurement: a second run in the same process starts with
warm caches (compiled models, imported modules, an allocator that already holds memory),
and its peak resident memory can only be the peak of everything before it. A process of
its own makes each measurement cost what a user's run costs, and makes the peak RSS that
of this one run.

Why CPU time first: the machines these run on are shared, and wall time there measures the
neighbours as much as the code (a process waiting for a core is not running). CPU time of
the process (``time.process_time``, all its threads) counts only the time it ran, so it
moves much less with the load, though not at all is too much to ask: neighbours still share
caches, memory bandwidth and clock frequency. Wall time is reported next to it because that
is what a user waits for, and the only figure that shows a gain from worker processes.

Why a frozen copy of the sources (``freeze_sources``): every measurement process imports
``sim`` afresh, and a working tree can change during a benchmark of an hour.

What a measurement holds (see ``Measurement``):

* the work's wall time (``time.perf_counter``) and CPU time (``time.process_time``), both
  taken inside the child around the work alone, after imports and set-up;
* the child's whole CPU time (``getrusage(RUSAGE_SELF)`` user + sys: start-up, imports,
  set-up and the work);
* the child's peak RSS (``getrusage(RUSAGE_SELF).ru_maxrss``, KiB on Linux), and the same
  before the work started, so the work's own growth shows;
* for work that starts worker processes, their CPU time and the largest one's peak RSS
  (``getrusage(RUSAGE_CHILDREN)`` in the child, which covers workers it has waited for).

Linux copies the high-water mark of resident memory into a process created by fork, and
carries it through exec into ``ru_maxrss``: a child reports at least the RSS its parent had
when it started. The benchmark scripts therefore keep their own process small (they never
import pandas or run a simulation themselves, except ``--profile``), and the child also reads
its own ``VmHWM`` from ``/proc/self/status``, which exec does reset; ``inherited_rss`` says when
the two disagree. Worker processes forked by a run inherit the run's high-water mark the
same way, so the workers' peak is at least the parent's RSS when the pool started (most of
those pages are shared copy-on-write, not new memory).
"""

from __future__ import annotations

import atexit
import dataclasses
import gc
import hashlib
import importlib
import importlib.metadata
import importlib.util
import multiprocessing
import os
import platform
import resource
import shutil
import statistics
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

KIB = 1024
MIB = 2**20
GIB = 2**30

WARM_MODULES = (
    "sim.experiments.run",
    "sim.experiments.replicate",
    "sim.outputs.results",
    "sim.policies.admission",
    "sim.policies.fifo",
    "sim.policies.fixed_route",
    "sim.policies.scheduled_capacity",
    "pyarrow.parquet",
    "pyarrow.pandas_compat",
    "pyarrow.vendored.version",
    "multiprocessing.synchronize",  # the worker pool of jobs > 1
)
"""Modules ``sim.run`` imports on first use: imported before the clock starts, so a
measurement is the run and not the one-off cost of loading libraries, which would be a large
part of a short benchmark. ``Measurement.imported`` lists whatever the work still imported,
so this list going stale shows in the output."""


# -- running one measurement ------------------------------------------------------------------
@dataclass
class Task:
    """What a set-up function hands back to be measured.

    ``work`` is timed; ``finish`` gets its return value after the figures are taken, and
    what it returns (small and picklable) is sent back to the parent. Work whose result is
    large or tied to the process (a ``RunResult`` with its temporary files) reduces it there.
    """

    work: Callable[[], Any]
    finish: Callable[[Any], Any] | None = None


def one_replication(scenario: Any, days: float) -> Task:
    """The timed work of a whole-border variant: one replication of ``scenario``, records none.

    What is handed back is the number of travellers simulated.
    """
    import sim

    def work() -> Any:
        return sim.run(scenario, replications=1, days=days, records="none")

    def finish(result: Any) -> int:
        return int(result.manifest["entities"])

    return Task(work, finish)


@dataclass(frozen=True)
class Measurement:
    """The figures of one measurement in a fresh process (times in seconds, memory in KiB)."""

    wall_s: float
    """Wall time of the work, in the child."""
    cpu_s: float
    """CPU time of the child's work (all its threads), not counting its worker processes."""
    process_cpu_s: float
    """CPU time of the child's whole life up to the end of the work: start-up, imports, set-up, work."""
    peak_rss_kib: int
    """Peak RSS of the child up to the end of the work (``ru_maxrss``)."""
    setup_peak_rss_kib: int
    """Peak RSS of the child before the work started (imports and set-up)."""
    hwm_kib: int | None
    """The child's own high-water mark (``VmHWM``) at the end of the work, where Linux gives it."""
    children_cpu_s: float
    """CPU time of the worker processes the work started and waited for."""
    children_peak_rss_kib: int
    """Peak RSS of the largest of those workers (0 without workers)."""
    process_wall_s: float
    """Wall time of the whole child as the parent saw it: start, imports, set-up, work, finish."""
    sources: str
    """Hash of the ``sim`` sources when the child started (see ``source_hash``)."""
    imported: tuple[str, ...] = ()
    """Modules first imported during the work (see ``WARM_MODULES``)."""
    value: Any = None
    """What the task's ``finish`` returned (or the work's return value without one)."""
    after: dict[str, Any] = field(default_factory=dict)
    """Figures taken after ``finish``: its own CPU and wall time and the peak RSS at its end."""

    @property
    def total_cpu_s(self) -> float:
        """CPU time of the work including its worker processes: what the run cost the machine."""
        return self.cpu_s + self.children_cpu_s

    @property
    def inherited_rss(self) -> bool:
        """True when ``ru_maxrss`` reports more than the child's own peak (the parent's, through fork)."""
        return self.hwm_kib is not None and self.peak_rss_kib > 1.05 * self.hwm_kib + 4 * KIB


def vm_hwm_kib() -> int | None:
    """This process's own peak RSS in KiB from ``/proc/self/status`` (None where there is none)."""
    try:
        with open("/proc/self/status", encoding="utf-8") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def warm_imports(modules: Iterable[str] = WARM_MODULES) -> None:
    """Import ``modules`` now, so that their loading is not part of what is measured next."""
    for name in modules:
        importlib.import_module(name)


def _maxrss_kib(usage: resource.struct_rusage) -> int:
    # KiB on Linux, bytes on macOS
    return int(usage.ru_maxrss // KIB if sys.platform == "darwin" else usage.ru_maxrss)


def _cpu(usage: resource.struct_rusage) -> float:
    return usage.ru_utime + usage.ru_stime


def _child(conn: Connection, setup: Callable[..., Task | Callable[[], Any]], args: tuple[Any, ...]) -> None:
    """Body of the measurement process: set up untimed, time the work, send the figures back."""
    try:
        sources = source_hash()
        task = setup(*args)
        if not isinstance(task, Task):
            task = Task(task)
        gc.collect()  # garbage left by the set-up is not the work's to collect
        setup_peak = _maxrss_kib(resource.getrusage(resource.RUSAGE_SELF))
        children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        modules0 = set(sys.modules)
        c0, t0 = time.process_time(), time.perf_counter()
        out = task.work()
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        own = resource.getrusage(resource.RUSAGE_SELF)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        imported = tuple(sorted(set(sys.modules) - modules0))
        hwm = vm_hwm_kib()
        c1, t1 = time.process_time(), time.perf_counter()
        value = task.finish(out) if task.finish is not None else out
        del out
        after = {
            "cpu_s": time.process_time() - c1,
            "wall_s": time.perf_counter() - t1,
            "peak_rss_kib": _maxrss_kib(resource.getrusage(resource.RUSAGE_SELF)),
        }
        measurement = Measurement(
            wall_s=wall,
            cpu_s=cpu,
            process_cpu_s=_cpu(own),
            peak_rss_kib=_maxrss_kib(own),
            setup_peak_rss_kib=setup_peak,
            hwm_kib=hwm,
            children_cpu_s=_cpu(children) - _cpu(children0),
            children_peak_rss_kib=_maxrss_kib(children),
            process_wall_s=0.0,
            sources=sources,
            imported=imported,
            value=value,
            after=after,
        )
        conn.send(("ok", measurement))
    except BaseException:  # the parent reports it; a child that just died would say nothing
        conn.send(("error", traceback.format_exc()))
    finally:
        conn.close()


class MeasurementFailed(RuntimeError):
    """The measured work raised, or its process died (for instance killed for lack of memory)."""


def whole_border_arguments(doc: str | None) -> Any:
    """The options every whole-border comparison takes: ``--days``, ``--repeats``, ``--plain``."""
    import argparse

    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    parser.add_argument("--days", type=float, default=28.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--plain", type=int, default=200_000, help="customers of the plain SimPy yardstick")
    return parser.parse_args()


def alternate(
    names: Sequence[str],
    variant_task: Callable[..., Task],
    plain_task: Callable[..., Task],
    args: Any,
    plain: str,
) -> dict[str, list[Measurement]]:
    """Each variant and the plain SimPy yardstick once per repeat, in fresh processes.

    The order of the variants rotates every repeat, so that drift in the machine's speed
    hits all alike; the sources are frozen first and the versions printed.
    """
    sources, _ = freeze_sources(Path(__file__).resolve().parents[1] / "sim")
    print_versions(sources)
    print(f"whole border, 1 replication of {args.days:g} days, records none; {args.repeats} repeats, fresh processes")
    runs: dict[str, list[Measurement]] = {n: [] for n in [*names, plain]}
    for r in range(args.repeats):
        order = list(names[r % len(names) :]) + list(names[: r % len(names)])
        for name in order:
            runs[name].append(measure(variant_task, name, args.days))
        runs[plain].append(measure(plain_task, args.plain, r))
        print(f"  repeat {r + 1}: " + ", ".join(f"{n} {runs[n][-1].cpu_s:.1f} s" for n in names), flush=True)
    return runs


def per_cpu(m: Measurement) -> float:
    """Travellers (or customers) per CPU-second of a measurement."""
    value = m.value[0] if isinstance(m.value, tuple) else m.value
    return value / m.cpu_s


def measure(setup: Callable[..., Task | Callable[[], Any]], *args: Any) -> Measurement:
    """Run ``setup(*args)`` in a fresh process, then measure the work it returns.

    ``setup`` must be a module-level function (it is pickled by name into a "spawn"
    process, which imports the calling script again as ``__mp_main__``). It runs untimed:
    imports, loading files, building inputs. It returns the work as a ``Task`` or a plain
    callable. A process started with "spawn" shares nothing with this one, unlike "fork".
    """
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(sender, setup, args), name="bench-measurement")
    t0 = time.perf_counter()
    process.start()
    sender.close()
    try:
        status, payload = receiver.recv()
    except EOFError:
        process.join()
        raise MeasurementFailed(
            f"the measurement process ended without a result (exit code {process.exitcode})"
        ) from None
    finally:
        receiver.close()
    process.join()
    elapsed = time.perf_counter() - t0
    if status != "ok":
        raise MeasurementFailed(f"the measured work failed in its process:\n{payload}")
    return dataclasses.replace(payload, process_wall_s=elapsed)


# -- statistics and formatting ----------------------------------------------------------------
@dataclass(frozen=True)
class Spread:
    """Median and range of repeated measurements: the median resists an outlier, the range shows the noise."""

    median: float
    low: float
    high: float
    n: int

    @classmethod
    def of(cls, values: Iterable[float]) -> Spread:
        """Median, min and max of ``values`` (at least one)."""
        data = [float(v) for v in values]
        if not data:
            raise ValueError("no values")
        return cls(statistics.median(data), min(data), max(data), len(data))

    def format(self, spec: str = ",.2f", scale: float = 1.0) -> str:
        """'median (min–max)', or the value alone for a single measurement; values divided by ``scale``."""
        m = format(self.median / scale, spec)
        if self.n == 1:
            return m
        return f"{m} ({format(self.low / scale, spec)}–{format(self.high / scale, spec)})"


def spread(values: Iterable[float]) -> Spread:
    """Median, min and max of ``values``."""
    return Spread.of(values)


def table(header: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[bool] | None = None) -> str:
    """A plain-text table with columns as wide as their widest cell (text left, numbers right)."""
    right = right if right is not None else [i > 0 for i in range(len(header))]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            str(c).rjust(w) if r else str(c).ljust(w) for c, w, r in zip(cells, widths, right, strict=True)
        ).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def check_consistent(measurements: Iterable[Measurement]) -> list[str]:
    """Warnings about measurements that cannot be compared as they are.

    The sources changing between measurements (someone editing ``sim/`` during a long
    benchmark), modules imported inside the timed work, and a peak RSS inherited from the
    parent process each make a figure mean something other than what the table says.
    """
    ms = list(measurements)
    notes = []
    hashes = sorted({m.sources for m in ms})
    if len(hashes) > 1:
        notes.append(f"WARNING: the sim/ sources changed during the benchmark (hashes {', '.join(hashes)})")
    imported = sorted({name for m in ms for name in m.imported})
    if imported:
        shown = ", ".join(imported[:8]) + (f" and {len(imported) - 8} more" if len(imported) > 8 else "")
        notes.append(f"note: the timed work imported {shown} (first use; add to WARM_MODULES)")
    if any(m.inherited_rss for m in ms):
        notes.append("WARNING: some peak RSS figures include the parent's (ru_maxrss above the child's VmHWM)")
    return notes


# -- what the numbers were measured on --------------------------------------------------------
def sim_root() -> Path:
    """The folder of the ``sim`` package that the measurement processes import."""
    import sim  # light: the package defers its submodules

    return Path(sim.__file__).resolve().parent


def source_hash(root: Path | None = None, pattern: str = "*.py") -> str:
    """First 12 hex digits of a sha256 over every file matching ``pattern`` under ``root`` (default ``sim/**/*.py``).

    Ties numbers to a version of the code (or of a scenario's files) without needing version
    control: the relative path and the contents of each file go in, in sorted path order,
    so a renamed or moved file changes it too.
    """
    root = root or sim_root()
    digest = hashlib.sha256()
    for path in sorted(root.rglob(pattern), key=lambda p: p.relative_to(root).as_posix()):
        if not path.is_file() or "__pycache__" in path.parts:
            continue
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def freeze_sources(*folders: Path) -> tuple[str, dict[Path, Path]]:
    """Copy the ``sim`` package (and ``folders``) aside and import it from the copy, here and in every measurement.

    A benchmark runs for minutes to an hour while the working tree may change under it, and
    every measurement process imports ``sim`` afresh: without a frozen copy, one table could
    mix several versions of the code, or of a scenario. The copy is taken once, its hash
    names the numbers, and it is removed when this process exits. Measurement processes
    find it first because "spawn" hands them this process's ``sys.path``.

    Call it before anything imports ``sim``. Returns the hash of the copied sources and,
    for each of ``folders``, where its copy is.
    """
    if "sim" in sys.modules:
        raise RuntimeError("freeze_sources() must run before sim is imported")
    spec = importlib.util.find_spec("sim")
    if spec is None or spec.origin is None:
        raise RuntimeError("the sim package is not importable")
    root = Path(spec.origin).parent
    tmp = Path(tempfile.mkdtemp(prefix="bench-sources-"))
    atexit.register(shutil.rmtree, tmp, True)
    skip = shutil.ignore_patterns("__pycache__")
    shutil.copytree(root, tmp / "sim", ignore=skip)
    copies = {}
    for folder in folders:
        copies[folder] = tmp / "data" / folder.name
        shutil.copytree(folder, copies[folder], ignore=skip)
    sys.path.insert(0, str(tmp))
    importlib.invalidate_caches()
    if sim_root() != (tmp / "sim").resolve():
        raise RuntimeError(f"sim was not imported from its copy in {tmp}")
    return source_hash(tmp / "sim"), copies


def _version(package: str) -> str:
    """An installed distribution's version, without importing it."""
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "absent"


def cpu_model() -> str:
    """The processor's name as the kernel reports it (empty where it does not)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def versions_line(sources: str | None = None) -> str:
    """Software, machine and sources hash, on two lines.

    Library versions come from the installed distributions' metadata rather than from
    importing them, so that this process stays small (see the module docstring on RSS).
    """
    import sim

    software = (
        f"Python {platform.python_version()} ({platform.python_implementation()}), SimPy {_version('simpy')}, "
        f"numpy {_version('numpy')}, pandas {_version('pandas')}, pyarrow {_version('pyarrow')}, "
        f"bordersim {sim.__version__}"
    )
    machine = (
        f"{platform.platform()}, {os.cpu_count()} CPUs ({cpu_model() or 'unknown CPU'}); "
        f"sim/**/*.py sha256 {sources or source_hash()}"
    )
    return f"{software}\n{machine}"


def print_versions(sources: str | None = None) -> None:
    """Print ``versions_line`` and the date, so a pasted result says what produced it."""
    print(versions_line(sources))
    print(f"measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; load average {_load()}")


def _load() -> str:
    """The load averages, which say how busy the machine was when the numbers were taken."""
    try:
        return ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"
