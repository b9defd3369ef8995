"""Benchmark: what the outputs a reader sees cost, on a whole-border results folder.

One replication of ``scenarios/kz_ru_2011_customs_union.yaml`` (2023 traffic, all 75 crossings)
is run once, untimed, with every record kept. Then, in fresh processes (``common.measure``),
alternating so that drift in the machine's speed hits all alike:

* ``report``: the run's charts (static and interactive) and ``report.html``, as
  ``bordersim report`` draws them;
* ``event log``: ``event_log.parquet``, every traveller event in vidigi's columns;
* ``animation, one crossing``: the page of Kurmangazy–Karaozek over the whole run;
* ``animation, whole border``: the page of every crossing over the whole run.

Printed per output: CPU and wall seconds, peak RSS, the size written, and the CPU time per
simulated traveller. The simulation of the same replication, timed the same way, and plain
SimPy's customers per CPU-second on the tandem queue of ``bench/tandem.py`` are the yardsticks.

Run: ``python bench/outputs.py [--days 8] [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from common import (
    MIB,
    Measurement,
    Spread,
    Task,
    measure,
    one_replication,
    per_cpu,
    print_versions,
    table,
    warm_imports,
)

ROOT = Path(__file__).resolve().parents[1] / "scenarios"
SCENARIO = ROOT / "kz_ru_2011_customs_union.yaml"
CROSSING = "kurmangazy_karauzek_road"
OUTPUTS = ("report", "event log", "animation, one crossing", "animation, whole border")
SIMULATION = "simulation (yardstick)"
PLAIN = "plain SimPy (tandem)"


def output_task(name: str, folder: str, out: str) -> Task:
    """Import what the output needs in the measurement process; the timed work is writing it."""
    from sim.outputs.animation import write_animation
    from sim.outputs.eventlog import write_event_log
    from sim.outputs.report import build_report

    source, target = Path(folder), Path(out)
    work = {
        "report": lambda: build_report(source),
        "event log": lambda: write_event_log(source, target / "event_log.parquet"),
        "animation, one crossing": lambda: write_animation(source, target / "one.html", crossing=CROSSING),
        "animation, whole border": lambda: write_animation(source, target / "border.html"),
    }[name]
    written = {
        "report": lambda: sum(p.stat().st_size for p in [source / "report.html", *(source / "charts").iterdir()]),
        "event log": lambda: (target / "event_log.parquet").stat().st_size,
        "animation, one crossing": lambda: (target / "one.html").stat().st_size,
        "animation, whole border": lambda: (target / "border.html").stat().st_size,
    }[name]
    return Task(work, lambda _out: written())


def simulation_task(days: float) -> Task:
    import sim

    warm_imports()
    return one_replication(sim.load_scenario(SCENARIO), days)


def plain_task(travellers: int, seed: int) -> Task:
    from tandem import plain_simpy_task

    return plain_simpy_task(travellers, seed)


def prepare(days: float, folder: Path) -> int:
    """The results folder the outputs are drawn from: one replication, every record kept, no report."""
    import sim

    scenario = sim.load_scenario(SCENARIO)
    result = sim.run(scenario, replications=1, days=days, records="full")
    result.write(folder, report=False)
    return int(result.manifest["entities"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=8.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--plain", type=int, default=200_000, help="customers of the plain SimPy yardstick")
    args = parser.parse_args()
    print_versions()
    work = Path(tempfile.mkdtemp(prefix="bench-outputs-"))
    try:
        travellers = prepare(args.days, work / "run")
        print(f"whole border, 1 replication of {args.days:g} days, {travellers:,} travellers; {args.repeats} repeats")
        runs: dict[str, list[Measurement]] = {n: [] for n in [*OUTPUTS, SIMULATION, PLAIN]}
        for r in range(args.repeats):
            order = list(OUTPUTS[r % len(OUTPUTS) :]) + list(OUTPUTS[: r % len(OUTPUTS)])
            for name in order:
                out = work / f"out-{r}"
                out.mkdir(exist_ok=True)
                runs[name].append(measure(output_task, name, str(work / "run"), str(out)))
            runs[SIMULATION].append(measure(simulation_task, args.days))
            runs[PLAIN].append(measure(plain_task, args.plain, r))
            print(f"  repeat {r + 1}: " + ", ".join(f"{n} {runs[n][-1].cpu_s:.1f} s" for n in OUTPUTS), flush=True)
        rows = []
        for name in [*OUTPUTS, SIMULATION]:
            ms = runs[name]
            size = "" if name == SIMULATION else Spread.of(m.value for m in ms).format(",.2f", MIB)
            rows.append(
                [
                    name,
                    Spread.of(m.cpu_s for m in ms).format(".1f"),
                    Spread.of(m.wall_s for m in ms).format(".1f"),
                    Spread.of(m.peak_rss_kib * 1024 for m in ms).format(",.0f", MIB),
                    size,
                    Spread.of(m.cpu_s / travellers * 1e6 for m in ms).format(",.1f"),
                ]
            )
        print(table(["output", "CPU s", "wall s", "peak RSS MiB", "written MiB", "CPU us per traveller"], rows))
        plain = runs[PLAIN]
        print(f"plain SimPy yardstick: {Spread.of(per_cpu(m) for m in plain).format(',.0f')} customers per CPU-second")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
