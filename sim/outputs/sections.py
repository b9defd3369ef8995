"""The sections a run report and a comparison report share: headline, what was run, trust, notes.

Both pages tell a reader the same things in the same words (what was run, per the STRESS-DES
reporting items; why it can be trusted; why nothing may have completed), so they are built once
here from a results folder's files, and ``sim.outputs.report`` decides which a page shows.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from sim.analysis.kpis import ALL
from sim.outputs import charts
from sim.outputs.html import Html, el, fmt, join, pm
from sim.outputs.readable import (
    UNIT_ORDER,
    UNIT_WORDS,
    amount,
    duration,
    flow_label,
    interval,
    negligible,
    percent_change,
)


def _order(flows: pd.Series, units: dict[str, str]) -> list[int]:
    """Row order: flows grouped by unit (vehicles, persons, trains, vessels), the totals row last."""
    rank = {u: i for i, u in enumerate(UNIT_ORDER)}
    keys = [(1, 0, "") if f == ALL else (0, rank.get(units.get(f, "vehicle"), 9), f) for f in flows.astype(str)]
    return sorted(range(len(keys)), key=keys.__getitem__)


def headline(summary: pd.DataFrame, units: dict[str, str] | None = None) -> pd.DataFrame:
    """Border-wide figures per flow, grouped by unit, as a reader wants them first.

    Counts are per flow in its own unit; the all-flows row gives no count of travellers (it
    would add vehicles, persons and trains), only persons and wagons, which do add up.
    """
    units = units or {}
    rows = summary[(summary["crossing"] == ALL) & (summary["direction"] == ALL)]
    rows = rows.iloc[_order(rows["flow"], units)]
    mixed = rows["flow"].astype(str) == ALL
    persons = rows["persons_per_day"] if "persons_per_day" in rows else pd.Series(float("nan"), index=rows.index)
    return pd.DataFrame(
        {
            "flow": [flow_label(str(f)) for f in rows["flow"]],
            "counted in": [
                "mixed units" if f == ALL else UNIT_WORDS.get(units.get(str(f), "vehicle"), ("", "?"))[1]
                for f in rows["flow"]
            ],
            "arrivals": ["–" if m else fmt(v, 0) for v, m in zip(rows["arrivals"], mixed, strict=True)],
            "throughput per day": [
                "–" if mx else pm(m, h)
                for m, h, mx in zip(rows["throughput_per_day"], rows["throughput_per_day_ci95"], mixed, strict=True)
            ],
            "persons per day": persons.map(lambda v: fmt(v, 0)),
            "mean wait (min)": [
                pm(m, h, 2) for m, h in zip(rows["wait_mean_min"], rows["wait_mean_min_ci95"], strict=True)
            ],
            "p95 wait (min)": rows["wait_p95_min"].map(lambda v: fmt(v, 2)),
            "max wait (min)": rows["wait_max_min"].map(lambda v: fmt(v, 1)),
            "mean time in system (min)": [
                pm(m, h, 2)
                for m, h in zip(rows["time_in_system_mean_min"], rows["time_in_system_mean_min_ci95"], strict=True)
            ],
        }
    )


def comparison_headline(comparison: pd.DataFrame, units: dict[str, str]) -> pd.DataFrame:
    """Whole border, per flow (grouped by unit): mean time at the border, each scenario against the baseline.

    A difference is given in minutes with its interval; a percentage only where the baseline is
    not near zero; "no change" where the scenario leaves a flow exactly as it was; and a flow a
    scenario does not have is said to be missing, never shown as ``nan``.
    """
    c = comparison[(comparison["crossing"] == ALL) & (comparison["direction"] == ALL)]
    head = c[(c["metric"] == "time_in_system_mean_min") & (c["flow"] != ALL)]
    head = head.iloc[_order(head["flow"], units)]
    metric = "time_in_system_mean_min"
    rows = []
    for r in head.itertuples(index=False):
        if pd.isna(r.value) and not pd.isna(r.baseline_value):
            change, span = "not in this scenario", "–"
        elif r.diff == 0 and r.diff_ci95_low == 0 and r.diff_ci95_high == 0:
            change, span = "no change", "–"
        elif negligible(r.diff, r.diff_ci95_low, r.diff_ci95_high, metric):
            change, span = "practically none", "within ±0.1 min"
        else:
            change, span = amount(r.diff, metric, signed=True), interval(r.diff_ci95_low, r.diff_ci95_high, metric)
        overloaded = getattr(r, "overloaded_in", "")
        rows.append(
            {
                "scenario": r.scenario,
                "flow": flow_label(str(r.flow)),
                "counted in": UNIT_WORDS.get(units.get(str(r.flow), "vehicle"), ("", "?"))[1],
                "baseline": duration(r.baseline_value),
                "scenario value": "–" if pd.isna(r.value) else duration(r.value),
                "difference": change,
                "95% interval": span,
                "change": percent_change(r.baseline_value, r.diff, metric),
                "overloaded": "" if pd.isna(overloaded) else str(overloaded),
            }
        )
    columns = [
        "scenario",
        "flow",
        "counted in",
        "baseline",
        "scenario value",
        "difference",
        "95% interval",
        "change",
        "overloaded",
    ]
    return pd.DataFrame(rows, columns=columns)


def per_crossing(summary: pd.DataFrame, crossings: pd.DataFrame) -> pd.DataFrame:
    """One row per crossing, longest mean wait first, so that the bottlenecks head the table."""
    rows = summary[(summary["crossing"] != "ALL") & (summary["direction"] == "ALL") & (summary["flow"] == "ALL")]
    meta = crossings.drop_duplicates("id").set_index("id")
    rows = rows.sort_values("wait_mean_min", ascending=False, na_position="last")
    return pd.DataFrame(
        {
            "crossing": rows["crossing"].astype(str),
            "name": [str(meta.loc[c, "name"]) if c in meta.index else "" for c in rows["crossing"]],
            "category": [str(meta.loc[c, "category"]) if c in meta.index else "" for c in rows["crossing"]],
            "mode": [str(meta.loc[c, "mode"]) if c in meta.index else "" for c in rows["crossing"]],
            "regime": [str(meta.loc[c, "regime"]) if c in meta.index else "" for c in rows["crossing"]],
            "throughput per day": [
                pm(m, h) for m, h in zip(rows["throughput_per_day"], rows["throughput_per_day_ci95"], strict=True)
            ],
            "mean wait (min)": [
                pm(m, h, 2) for m, h in zip(rows["wait_mean_min"], rows["wait_mean_min_ci95"], strict=True)
            ],
            "p95 wait (min)": rows["wait_p95_min"].map(lambda v: fmt(v, 2)),
            "still inside at end": rows["in_system_at_end"].map(lambda v: fmt(v, 0)),
        }
    )


def what_was_run(manifests: list[dict[str, Any]]) -> Html:
    """The STRESS-DES items of what was run: one column per scenario."""
    rows: dict[str, list[str]] = {
        "scenario": [m["scenario"] for m in manifests],
        "files": [", ".join(m.get("files", [])) or "–" for m in manifests],
        "resolved scenario sha256": [m["scenario_sha256"] for m in manifests],
        "run length": [
            f"{(m['horizon_min'] - m['warmup_min']) / 1440:g} days observed after a {m['warmup_min'] / 1440:g}-day "
            f"warm-up (horizon {m['horizon_min'] / 1440:g} days; day 0 is a {m.get('start_weekday', 'monday')})"
            for m in manifests
        ],
        "calendar": [
            "; ".join([f"from {m['start_date']}" if m.get("start_date") else "no start date", *m.get("calendar", [])])
            for m in manifests
        ],
        "episodes": [
            join([el("div", e) for e in m.get("episodes", [])]) if m.get("episodes") else "none" for m in manifests
        ],
        "replications": [str(m["replications"]) for m in manifests],
        "root seed": [str(m["seed"]) for m in manifests],
        "travellers simulated": [f"{m['entities']:,}" for m in manifests],
    }
    first = manifests[0]
    v = first["versions"]
    whole = " (the whole comparison)" if len(manifests) > 1 else ""
    shared = [
        ("random numbers", first.get("random_streams", "")),
        ("wall time", f"{first['wall_time_s']:.1f} s with {first.get('jobs', 1)} worker process(es){whole}"),
        (
            "software",
            f"bordersim {v['bordersim']}, Python {v['python']}, SimPy {v['simpy']}, numpy {v['numpy']}, "
            f"pandas {v['pandas']}; {v.get('platform', '')}, {v.get('cpus', '?')} CPUs",
        ),
    ]
    body = [el("tr", join([el("th", k), *(el("td", x) for x in vals)])) for k, vals in rows.items()]
    body += [el("tr", join([el("th", k), el("td", x, colspan=len(manifests))])) for k, x in shared]
    return el("table", join(body), class_="kv", id="run-details")


def why_nothing_completed(records: pd.DataFrame | None, warmup: float) -> str | None:
    """Why no traveller completed in the observation window, in a reader's words; None when some did.

    None too when the run kept no traveller records (``--records none``): the tables say it then.
    """
    if records is None or len(charts.completed(records, warmup)):
        return None
    if records.empty:
        return "No traveller arrived at all: the demand is empty, or it arrives only after the end of the run."
    late = int((records["arrival_min"] >= warmup).sum())
    if late == 0:
        return (
            f"All {len(records):,} travellers (over all replications) arrived during the {warmup / 1440:g}-day "
            "warm-up, which the statistics leave out; none arrived in the observation window after it."
        )
    return (
        f"{late:,} travellers (over all replications) arrived after the warm-up, but none had left by the end of "
        "the run: all were still inside. The border is overloaded, or a control takes longer than the run "
        "(the stage utilization chart of its report shows where)."
    )


NOTHING_TO_SHOW = "Nothing to show: no traveller completed in the observation window."


def notice(summary: str, reasons: list[str]) -> Html:
    """The plain warning at the top of a page whose charts and tables have no completed traveller."""
    if not reasons:
        return Html("")
    return el(
        "div",
        join(
            [
                el("p", el("strong", summary)),
                *(el("p", r) for r in reasons),
                el("p", "Waits and times in system show as –; arrivals, throughput and queues still apply."),
            ]
        ),
        class_="notice",
        id="nothing-to-show",
    )


TRUST = Html(
    """
<ul>
<li>Conservation is checked on every replication: every traveller who arrived has left or is
counted as still inside at the end, by three separate counts.</li>
<li>Statistics cover the window after the warm-up; means carry the half-width of the 95%
t-interval over independent replications.</li>
<li>Replications draw from named random streams; compared scenarios share them (common random
numbers), and differences carry 95% paired-t intervals.</li>
<li>The engine is tested against exact micro-timelines, an independent waiting-time
recursion, and queueing theory (Erlang C, Pollaczek–Khinchine, Jackson networks, Little's
law): bordersim's <code>docs/validation.md</code> lists every check with its interval.</li>
</ul>
"""
)


def notes(manifest: dict[str, Any]) -> Html:
    """The assumptions and sources the scenario marks, so that a reader sees what the numbers rest on."""
    parts = []
    if manifest.get("assumptions"):
        parts += [
            el("h3", "Assumptions the scenario marks"),
            el("ul", join(el("li", a) for a in manifest["assumptions"])),
        ]
    if manifest.get("sources"):
        parts += [el("h3", "Sources"), el("ul", join(el("li", a) for a in manifest["sources"]))]
    return join(parts) if parts else el("p", "The scenario lists no assumptions or sources.", class_="note")
