"""Benchmark: what route choice and diversion cost, on the whole Kazakhstan–Russia border.

The same traffic is run four ways, one replication each, in fresh processes
(``common.measure``), alternating so that drift in the machine's speed hits all alike:

* ``fixed crossings``: ``scenarios/kz_ru_2011_customs_union.yaml``, every traveller's
  crossing given (per-crossing demand);
* ``fixed shares``: ``scenarios/network/kz_ru_network_2011.yaml`` with
  ``route_choice.rule: fixed_shares`` and no diversion (corridors, departures, drives);
* ``least cost + diversion``: that scenario as shipped (least cost on an hourly published
  board, diversion on closures and hourly reviews);
* ``logit, live + diversion``: ``rule: logit`` on the live queues.

The target: route choice makes a run at most 1.5 times slower than the same scenario with
fixed crossings, in CPU time. Two readings are printed: against ``fixed shares`` (the same
corridors, drives and records, each traveller's crossing fixed in advance: what route choice
itself costs) and against ``fixed crossings`` (per-crossing demand: what corridors and route
choice cost together). Each ratio is taken within a repeat (same machine state) and its
median and range printed. Plain SimPy's customers per CPU-second on the tandem queue of
``bench/tandem.py``, measured in the same invocation, are printed as the machine's yardstick:
every variant's travellers per CPU-second is also given as a multiple of it.

Run: ``python bench/route_choice.py [--days 28] [--repeats 3]``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from common import (
    MIB,
    Spread,
    Task,
    alternate,
    one_replication,
    per_cpu,
    table,
    warm_imports,
    whole_border_arguments,
)

ROOT = Path(__file__).resolve().parents[1] / "scenarios"
VARIANTS: dict[str, tuple[str, dict[str, Any] | None]] = {
    "fixed crossings": ("kz_ru_2011_customs_union.yaml", None),
    "fixed shares": ("network/kz_ru_network_2011.yaml", {"rule": "fixed_shares", "diversion": None}),
    "least cost + diversion": ("network/kz_ru_network_2011.yaml", {}),
    "logit, live + diversion": ("network/kz_ru_network_2011.yaml", {"rule": "logit", "information": "now"}),
}
TARGET_RATIO = 1.5
PLAIN = "plain SimPy (tandem)"


def variant_task(name: str, days: float) -> Task:
    """Load the variant's scenario in the measurement process; the timed work is one replication."""
    import sim

    warm_imports()
    path, change = VARIANTS[name]
    scenario = sim.load_scenario(ROOT / path)
    if change:
        update: dict[str, Any] = {}
        choice = {k: v for k, v in change.items() if k != "diversion"}
        if choice:
            update["route_choice"] = scenario.route_choice.model_copy(update=choice)
        if "diversion" in change:
            update["diversion"] = change["diversion"]
        scenario = scenario.model_copy(update=update)

    return one_replication(scenario, days)


def plain_task(travellers: int, seed: int) -> Task:
    from tandem import plain_simpy_task

    return plain_simpy_task(travellers, seed)


def main() -> None:
    args = whole_border_arguments(__doc__)
    names = list(VARIANTS)
    runs = alternate(names, variant_task, plain_task, args, PLAIN)
    base = runs["fixed crossings"]
    rows = []
    for name in names:
        ms = runs[name]
        ratio = Spread.of(m.cpu_s / b.cpu_s for m, b in zip(ms, base, strict=True))
        yard = Spread.of(per_cpu(m) / per_cpu(p) for m, p in zip(ms, runs[PLAIN], strict=True))
        rows.append(
            [
                name,
                f"{ms[0].value:,}",
                Spread.of(m.cpu_s for m in ms).format(".1f"),
                Spread.of(m.wall_s for m in ms).format(".1f"),
                Spread.of(m.peak_rss_kib * 1024 for m in ms).format(",.0f", MIB),
                ratio.format(".2f"),
                yard.format(".2f"),
            ]
        )
    header = [
        "variant",
        "travellers",
        "CPU s",
        "wall s",
        "peak RSS MiB",
        "CPU / fixed crossings",
        "CPU / fixed shares",
        "per CPU-s / plain SimPy",
    ]
    shares = runs["fixed shares"]
    for row, name in zip(rows, names, strict=True):
        row.insert(6, Spread.of(m.cpu_s / f.cpu_s for m, f in zip(runs[name], shares, strict=True)).format(".2f"))
    print(table(header, rows))
    plain = runs[PLAIN]
    print(f"plain SimPy yardstick: {Spread.of(per_cpu(m) for m in plain).format(',.0f')} customers per CPU-second")
    choice = ["least cost + diversion", "logit, live + diversion"]
    for label, ref in (("fixed shares (the same corridors, crossings fixed)", shares), ("fixed crossings", base)):
        worst = max(Spread.of(m.cpu_s / b.cpu_s for m, b in zip(runs[n], ref, strict=True)).median for n in choice)
        verdict = "met" if worst <= TARGET_RATIO else "NOT met"
        print(f"route choice at most {TARGET_RATIO}x the CPU time of {label}: {verdict} (worst median {worst:.2f})")


if __name__ == "__main__":
    main()
