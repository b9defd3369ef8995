"""Benchmark: one replication of the whole Kazakhstan–Russia border, over horizons up to a year.

``scenarios/kz_ru_2011_customs_union.yaml`` is the largest scenario shipped (about 16,000
travellers a day over every crossing), so it is the one whose cost a user feels: this script
measures what one replication of it costs in CPU time, wall time and memory, and how that
grows with the horizon. Each run is ``sim.run(scenario, replications=1, days=D, jobs=J,
records=R, pieces=K)``, timed around the whole call, in a fresh process (``common.measure``:
imports and loading the scenario happen before the clock starts, and the peak RSS is that
run's alone). Every repeat uses the scenario's seed, so repeats do the same work and their
spread is the machine's noise.

* ``--days 28 91 365 --repeats 3 --records full|travellers|none``: per horizon, travellers,
  CPU seconds, wall seconds, peak RSS, travellers per CPU-second, as median (min–max). CPU
  time is the primary figure: on a shared machine wall time measures the neighbours too.
  Next to them, the targets: at most 90 CPU-seconds and 1.5 GiB peak RSS for 365 days with
  one job, and peak memory flat in the horizon (a run streams its records to disk, so only
  the current day's and week's work should be held).
* ``--write``: after the measurement, write the results (``result.write(folder, report=False)``),
  report the sizes of ``records.parquet`` and ``visits.parquet`` and bytes per million
  travellers, then delete them. The write is timed on its own and not added to the run.
* ``--pieces K --jobs J``: the same runs split into K pieces (groups of crossings) on J local
  worker processes, alternated with the one-job, one-piece run in the same invocation; the
  wall-time speed-up is taken within each repeat. Workers' CPU time and peak RSS are shown
  too (taken with ``RUSAGE_CHILDREN`` in the process that called ``sim.run``).
* ``--profile DAYS``: one run under cProfile, top 25 functions by total time in the
  function itself.

Run: ``python bench/whole_border.py`` (all three horizons, 3 repeats: expect roughly 3 x the
365-day run's time), ``python bench/whole_border.py --days 7 --repeats 1`` for a quick check.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import shutil
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from common import (
    GIB,
    MIB,
    Measurement,
    Spread,
    Task,
    check_consistent,
    freeze_sources,
    measure,
    print_versions,
    source_hash,
    spread,
    table,
    warm_imports,
)

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "kz_ru_2011_customs_union.yaml"
RECORDS = ("full", "travellers", "none")
RECORD_FILES = ("records.parquet", "visits.parquet")

TARGET_DAYS = 365
TARGET_CPU_S = 90.0
TARGET_RSS = 1.5 * GIB
FLAT_TOLERANCE = 0.10
"""Peak RSS at the longest horizon within this fraction of the shortest's counts as flat."""


# -- the measured run --------------------------------------------------------------------------
def run_task(path: Path, days: float, jobs: int, pieces: int, records: str, write: bool) -> Task:
    """Set up one replication in the measurement process; the timed work is the ``sim.run`` call."""
    import sim

    warm_imports()
    scenario = sim.load_scenario(path)

    def work() -> Any:
        return sim.run(scenario, replications=1, days=days, jobs=jobs, records=records, pieces=pieces)

    def finish(result: Any) -> dict[str, Any]:
        out: dict[str, Any] = {"travellers": int(result.manifest["entities"])}
        if pieces > 1:
            out["largest_piece"] = largest_piece_share(result.scenario, pieces)
        if write:
            out.update(write_sizes(result))
        if result.spool is not None:  # a process that ends through os._exit runs no clean-up
            result.spool.remove()
        return out

    return Task(work, finish)


def largest_piece_share(scenario: Any, pieces: int) -> float:
    """Share of the expected travellers in the largest piece: the split's limit on the speed-up."""
    from sim.experiments.replicate import model_of

    model = model_of(scenario)
    parts = model.pieces(pieces)
    loads = [sum(model.sources[i].arrivals.expected for i in p.sources) for p in parts]
    return max(loads) / sum(loads)


def write_sizes(result: Any) -> dict[str, Any]:
    """Write the results to a temporary folder, measure the record files, delete the folder."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-whole-border-"))
    try:
        c0, t0 = time.process_time(), time.perf_counter()
        folder = result.write(tmp / "results", report=False)
        cpu, wall = time.process_time() - c0, time.perf_counter() - t0
        sizes = {name: (folder / name).stat().st_size for name in RECORD_FILES if (folder / name).exists()}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {"sizes": sizes, "write_cpu_s": cpu, "write_wall_s": wall}


# -- reporting ---------------------------------------------------------------------------------
def days_label(days: float) -> str:
    """A horizon as typed (28, not 28.0)."""
    return f"{days:g}"


def travellers(ms: list[Measurement]) -> str:
    """Travellers of the runs: one number when every repeat simulated the same (same seed), else a range."""
    counts = sorted({m.value["travellers"] for m in ms})
    return f"{counts[0]:,}" if len(counts) == 1 else Spread.of(counts).format(",.0f")


def per_cpu(m: Measurement) -> float:
    """Travellers per CPU-second of the run, workers included."""
    return m.value["travellers"] / m.total_cpu_s


def single_rows(days: list[float], runs: dict[float, list[Measurement]]) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the one-job table, one row per horizon."""
    header = ["days", "travellers", "CPU s", "wall s", "peak RSS MiB", "set-up RSS MiB", "travellers per CPU-s"]
    rows = []
    for d in days:
        ms = runs[d]
        rows.append(
            [
                days_label(d),
                travellers(ms),
                Spread.of(m.cpu_s for m in ms).format(".1f"),
                Spread.of(m.wall_s for m in ms).format(".1f"),
                Spread.of(m.peak_rss_kib * 1024 for m in ms).format(",.0f", MIB),
                Spread.of(m.setup_peak_rss_kib * 1024 for m in ms).format(",.0f", MIB),
                Spread.of(per_cpu(m) for m in ms).format(",.0f"),
            ]
        )
    return header, rows


def print_sizes(days: list[float], runs: dict[float, list[Measurement]], records: str) -> None:
    """Sizes of the written record files per horizon, in total and per million travellers."""
    header = ["days", "travellers", *RECORD_FILES, "size per million travellers", "write CPU s", "write wall s"]
    rows = []
    for d in days:
        m = runs[d][0]  # every repeat writes the same records (same seed)
        sizes, n = m.value["sizes"], m.value["travellers"]
        total = sum(sizes.values())
        per_million = ", ".join(f"{name.split('.')[0]} {size / n * 1e6 / MIB:,.1f} MiB" for name, size in sizes.items())
        rows.append(
            [
                days_label(d),
                f"{n:,}",
                *(f"{sizes[name] / MIB:,.1f} MiB" if name in sizes else "-" for name in RECORD_FILES),
                f"{total / n * 1e6 / MIB:,.1f} MiB" + (f" ({per_million})" if len(sizes) > 1 else ""),
                Spread.of(x.value["write_cpu_s"] for x in runs[d]).format(".1f"),
                Spread.of(x.value["write_wall_s"] for x in runs[d]).format(".1f"),
            ]
        )
    print(f"size on disk of the written results (records={records!r}; written after the run, not timed with it):")
    print(table(header, rows))


def print_targets(days: list[float], runs: dict[float, list[Measurement]]) -> None:
    """The targets next to the one-job figures: CPU and memory for a year, memory flat in horizon."""
    print("targets (one job, one piece):")
    if TARGET_DAYS in runs:
        ms = runs[TARGET_DAYS]
        cpu = spread(m.cpu_s for m in ms)
        rss = spread(m.peak_rss_kib * 1024 for m in ms)
        print(
            f"  {TARGET_DAYS} days, CPU <= {TARGET_CPU_S:.0f} s: median {cpu.median:.1f} s "
            f"({'met' if cpu.median <= TARGET_CPU_S else 'NOT met'}; x{cpu.median / TARGET_CPU_S:.2f} of target)"
        )
        print(
            f"  {TARGET_DAYS} days, peak RSS <= {TARGET_RSS / GIB:.1f} GiB: median {rss.median / GIB:.2f} GiB "
            f"({'met' if rss.median <= TARGET_RSS else 'NOT met'})"
        )
    else:
        print(f"  CPU <= {TARGET_CPU_S:.0f} s and peak RSS <= {TARGET_RSS / GIB:.1f} GiB: no {TARGET_DAYS}-day run")
    if len(days) < 2:
        print("  memory flat in horizon: needs two horizons or more")
        return
    short, long = min(days), max(days)
    a = spread(m.peak_rss_kib * 1024 for m in runs[short]).median
    b = spread(m.peak_rss_kib * 1024 for m in runs[long]).median
    flat = b <= a * (1 + FLAT_TOLERANCE)
    print(
        f"  memory flat in horizon: median peak RSS {a / MIB:,.0f} MiB at {days_label(short)} days, "
        f"{b / MIB:,.0f} MiB at {days_label(long)} days: {100 * (b / a - 1):+.0f}%, "
        f"{(b - a) / MIB / (long - short):+.2f} MiB per added day "
        f"({'flat' if flat else 'NOT flat'} within {100 * FLAT_TOLERANCE:.0f}%)"
    )


def notes(measurements: Iterable[Measurement]) -> None:
    """Any reason the measurements are not comparable as they stand."""
    for note in check_consistent(measurements):
        print(note)


def single(args: argparse.Namespace) -> None:
    """Each horizon ``--repeats`` times; the horizons interleave so drift in the machine's speed spreads over all."""
    runs: dict[float, list[Measurement]] = {d: [] for d in args.days}
    for r in range(1, args.repeats + 1):
        for d in args.days:
            m = measure(run_task, args.scenario, d, 1, 1, args.records, args.write)
            runs[d].append(m)
            print(
                f"  repeat {r}, {days_label(d)} days: {m.value['travellers']:,} travellers, {m.cpu_s:.1f} CPU-s, "
                f"{m.wall_s:.1f} s, peak RSS {m.peak_rss_kib / 1024:,.0f} MiB",
                flush=True,
            )
    print()
    print(f"median (min–max) over {args.repeats} repeats; jobs 1, pieces 1:")
    print(table(*single_rows(args.days, runs)))
    print()
    if args.write:
        print_sizes(args.days, runs, args.records)
        print()
    print_targets(args.days, runs)
    notes(m for ms in runs.values() for m in ms)


def split(args: argparse.Namespace) -> None:
    """Split runs alternated with one-job, one-piece runs; the speed-up is taken within each repeat."""
    base: dict[float, list[Measurement]] = {d: [] for d in args.days}
    other: dict[float, list[Measurement]] = {d: [] for d in args.days}
    for r in range(1, args.repeats + 1):
        for d in args.days:
            order = [(base, 1, 1), (other, args.jobs, args.pieces)]
            for runs, jobs, pieces in order if r % 2 == 1 else order[::-1]:
                m = measure(run_task, args.scenario, d, jobs, pieces, args.records, args.write)
                runs[d].append(m)
                print(
                    f"  repeat {r}, {days_label(d)} days, jobs {jobs}, pieces {pieces}: {m.cpu_s:.1f} CPU-s "
                    f"(+{m.children_cpu_s:.1f} in workers), {m.wall_s:.1f} s wall",
                    flush=True,
                )
    print()
    print(f"median (min–max) over {args.repeats} repeats, records={args.records!r}:")
    header = [
        "days",
        "jobs",
        "pieces",
        "travellers",
        "CPU s (run)",
        "CPU s (workers)",
        "CPU s (total)",
        "wall s",
        "peak RSS MiB",
        "workers' peak RSS MiB",
    ]
    rows = []
    for d in args.days:
        for ms, jobs, pieces in ((base[d], 1, 1), (other[d], args.jobs, args.pieces)):
            rows.append(
                [
                    days_label(d),
                    str(jobs),
                    str(pieces),
                    travellers(ms),
                    Spread.of(m.cpu_s for m in ms).format(".1f"),
                    Spread.of(m.children_cpu_s for m in ms).format(".1f"),
                    Spread.of(m.total_cpu_s for m in ms).format(".1f"),
                    Spread.of(m.wall_s for m in ms).format(".1f"),
                    Spread.of(m.peak_rss_kib * 1024 for m in ms).format(",.0f", MIB),
                    Spread.of(m.children_peak_rss_kib * 1024 for m in ms).format(",.0f", MIB) if jobs > 1 else "-",
                ]
            )
    print(table(header, rows))
    print()
    for d in args.days:
        pairs = list(zip(base[d], other[d], strict=True))
        speedup = spread(b.wall_s / o.wall_s for b, o in pairs)
        cpu = spread(o.total_cpu_s / b.total_cpu_s for b, o in pairs)
        share = other[d][0].value.get("largest_piece")
        limit = f"; largest piece {100 * share:.0f}% of expected travellers (limit x{1 / share:.2f})" if share else ""
        print(
            f"{days_label(d)} days, jobs {args.jobs} pieces {args.pieces} vs jobs 1 pieces 1: "
            f"wall-time speed-up x{speedup.format('.2f')}, total CPU x{cpu.format('.2f')}{limit}"
        )
    print()
    print_targets(args.days, base)
    print(
        "workers' peak RSS: the largest worker's; forked workers start from the parent's high-water mark "
        "(pages shared copy-on-write)"
    )
    notes([*(m for ms in base.values() for m in ms), *(m for ms in other.values() for m in ms)])


def profile(path: Path, days: float, records: str, top: int = 25) -> None:
    """Profile one one-job run in this process (imports first, so they stay out of the profile)."""
    import sim

    warm_imports()
    scenario = sim.load_scenario(path)
    print(f"cProfile of one run of {SCENARIO.name}, {days_label(days)} days, jobs 1, records={records!r}")
    gc.collect()
    profiler = cProfile.Profile()
    profiler.enable()
    result = sim.run(scenario, replications=1, days=days, jobs=1, records=records)
    profiler.disable()
    print(f"{result.manifest['entities']:,} travellers")
    if result.spool is not None:
        result.spool.remove()
    print(f"\ntop {top} by total time in the function itself (tottime)")
    pstats.Stats(profiler).strip_dirs().sort_stats("tottime").print_stats(top)


def main() -> None:
    """Parse the command line, freeze the sources and scenarios, then measure or profile."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--days", type=float, nargs="+", default=[28, 91, 365], help="horizons (default 28 91 365)")
    parser.add_argument("--jobs", type=int, default=1, help="local worker processes (default 1)")
    parser.add_argument("--pieces", type=int, default=1, help="pieces the replication is split into (default 1)")
    parser.add_argument("--records", choices=RECORDS, default="full", help="records kept (default full)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per horizon and setting (default 3)")
    parser.add_argument("--write", action="store_true", help="write the results and report their size on disk")
    parser.add_argument("--profile", type=float, metavar="DAYS", help="profile one run of DAYS days instead")
    args = parser.parse_args()
    if args.repeats < 1 or args.jobs < 1 or args.pieces < 1 or min(args.days) <= 0:
        parser.error("--repeats, --jobs and --pieces must be at least 1, and --days positive")
    args.days = sorted(set(args.days))
    # every run imports this copy of sim/ and reads this copy of scenarios/, whatever happens to the working tree
    sources, copies = freeze_sources(SCENARIO.parent)
    args.scenario = copies[SCENARIO.parent] / SCENARIO.name
    print_versions(sources)
    print(f"scenarios/** sha256 {source_hash(copies[SCENARIO.parent], '*')}")
    if args.profile is not None:
        profile(args.scenario, args.profile, args.records)
        return
    print(
        f"{SCENARIO.name}: one replication per run, each in a fresh process; records={args.records!r}, "
        f"{args.repeats} repeats, seed of the scenario"
    )
    if args.jobs > 1 or args.pieces > 1:
        split(args)
    else:
        single(args)


if __name__ == "__main__":
    main()
