"""Benchmark: what an electronic queue costs, on the whole Kazakhstan–Russia border.

Four scenarios, one replication each, in fresh processes (``common.measure``), alternating
so that drift in the machine's speed hits all alike:

* ``no e-queue``: ``scenarios/kz_ru_2011_customs_union.yaml`` (2023 traffic);
* ``e-queue``: ``scenarios/equeue/kz_ru_2023_equeue.yaml``, the same with CarGoRuqsat at 21
  crossings (trucks out of Kazakhstan held, booked, called);
* ``checks, no e-queue``: ``scenarios/reported/kz_ru_2025_autumn_checks_tuned.yaml`` from
  1 September 2025 (the Russian checks from the 15th build queues of thousands);
* ``checks, metered e-queue``: ``scenarios/equeue/kz_ru_2025_autumn_equeue_metered.yaml``,
  where slots sized to the checks hold those thousands in the virtual queue: the slot book's
  worst case.

Printed per variant: travellers, CPU and wall seconds, peak RSS, and the CPU ratio of each
e-queue variant to its scenario without one, taken within a repeat. Plain SimPy's customers
per CPU-second on the tandem queue of ``bench/tandem.py``, measured in the same invocation,
are the machine's yardstick. Then, in this process, the slot book alone: microseconds per
booking into an empty book and into one with a backlog of 10,000 bookings (the union-find's
claim: a backlog costs nothing).

Run: ``python bench/equeue.py [--days 28] [--repeats 3]``.
"""

from __future__ import annotations

import time
from pathlib import Path

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
VARIANTS: dict[str, str] = {
    "no e-queue": "kz_ru_2011_customs_union.yaml",
    "e-queue": "equeue/kz_ru_2023_equeue.yaml",
    "checks, no e-queue": "reported/kz_ru_2025_autumn_checks_tuned.yaml",
    "checks, metered e-queue": "equeue/kz_ru_2025_autumn_equeue_metered.yaml",
}
BASE = {"e-queue": "no e-queue", "checks, metered e-queue": "checks, no e-queue"}
PLAIN = "plain SimPy (tandem)"


def variant_task(name: str, days: float) -> Task:
    """Load the variant's scenario in the measurement process; the timed work is one replication."""
    import sim

    warm_imports()
    scenario = sim.load_scenario(ROOT / VARIANTS[name])

    return one_replication(scenario, days)


def plain_task(travellers: int, seed: int) -> Task:
    from tandem import plain_simpy_task

    return plain_simpy_task(travellers, seed)


def slot_book_micro(bookings: int = 20_000, backlog: int = 10_000) -> tuple[float, float]:
    """CPU microseconds per booking: into an empty book, and behind ``backlog`` bookings."""
    import numpy as np

    from sim.policies.slots import SlotBook

    times = np.arange(bookings + backlog + 10, dtype=float) * 3.0
    classes = np.zeros(len(times), dtype=np.int8)
    out = []
    for ahead in (0, backlog):
        book = SlotBook(times, classes, 0)
        for _ in range(ahead):
            book.book(0.0, 0.0, 0, 0.0)
        t0 = time.process_time()
        for k in range(bookings):
            book.book(float(k), float(k), 0, 0.0)
        out.append((time.process_time() - t0) / bookings * 1e6)
    return out[0], out[1]


def main() -> None:
    args = whole_border_arguments(__doc__)
    names = list(VARIANTS)
    runs = alternate(names, variant_task, plain_task, args, PLAIN)
    rows = []
    for name in names:
        ms = runs[name]
        base = runs[BASE.get(name, name)]
        rows.append(
            [
                name,
                f"{ms[0].value:,}",
                Spread.of(m.cpu_s for m in ms).format(".1f"),
                Spread.of(m.wall_s for m in ms).format(".1f"),
                Spread.of(m.peak_rss_kib * 1024 for m in ms).format(",.0f", MIB),
                Spread.of(m.cpu_s / b.cpu_s for m, b in zip(ms, base, strict=True)).format(".2f"),
                Spread.of(per_cpu(m) / per_cpu(p) for m, p in zip(ms, runs[PLAIN], strict=True)).format(".2f"),
            ]
        )
    header = ["variant", "travellers", "CPU s", "wall s", "peak RSS MiB", "CPU / without", "per CPU-s / plain SimPy"]
    print(table(header, rows))
    plain = runs[PLAIN]
    print(f"plain SimPy yardstick: {Spread.of(per_cpu(m) for m in plain).format(',.0f')} customers per CPU-second")
    empty, behind = slot_book_micro()
    print(f"slot book: {empty:.2f} us per booking into an empty book, {behind:.2f} us behind 10,000 bookings")


if __name__ == "__main__":
    main()
