"""The self-contained HTML report of a results folder, and its charts.

Everything is drawn from the files a run or a comparison wrote (``bordersim report DIR``
rebuilds it any time): what was run and why it can be trusted (the STRESS-DES reporting
items), a headline table, charts, per-crossing tables and the scenario's assumptions. Images
are embedded, so the page opens anywhere, offline.

Every file is read through ``sim.outputs.results``, where any problem becomes a ``ReportError``
naming the file. Names in the results are free text from the scenario: the page escapes all
text except the markup this module builds itself (``Html``).
"""

from __future__ import annotations

import base64
import html
import io
import numbers
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from sim.experiments.executors import run_tasks
from sim.outputs import charts
from sim.outputs.files import atomic_write, write_text
from sim.outputs.results import (
    COMPARISON_COLUMNS,
    COMPARISON_MANIFEST,
    ReportError,
    RunFolder,
    is_comparison,
    read_csv_table,
    read_manifest,
)


class Html(str):
    """Markup this module built from escaped parts: the only text the page takes as it is."""


def _attr(value: object) -> str:
    """An attribute value: always escaped, quotes included."""
    return html.escape(str(value), quote=True)


def _esc(value: object) -> str:
    """Page text: ``Html`` as it is, anything else escaped, so a name never becomes markup."""
    return value if isinstance(value, Html) else html.escape(str(value), quote=True)


def _el(tag: str, content: object = "", **attrs: object) -> Html:
    """One element around ``content`` (escaped unless ``Html``); ``class_`` gives the class attribute."""
    attributes = "".join(f' {name.rstrip("_")}="{_attr(value)}"' for name, value in attrs.items())
    return Html(f"<{tag}{attributes}>{_esc(content)}</{tag}>")


def _join(parts: Iterable[object]) -> Html:
    return Html("".join(_esc(p) for p in parts))


def _save(fig: Figure, folder: Path, name: str) -> str:
    """Write a chart as PNG and SVG under ``charts/``; return the PNG as base64 for embedding."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    png = buf.getvalue()
    svg = io.StringIO()
    fig.savefig(svg, format="svg", bbox_inches="tight")
    plt.close(fig)
    charts_dir = folder / "charts"
    atomic_write(charts_dir / f"{name}.png", lambda p: p.write_bytes(png))
    atomic_write(charts_dir / f"{name}.svg", lambda p: p.write_text(svg.getvalue()))
    return base64.b64encode(png).decode("ascii")


def _fmt(value: Any, digits: int = 1) -> str:
    """A number as the tables show it (an en dash when there is none); other values as text."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "–"
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return f"{float(value):,.{digits}f}"
    return str(value)


def _pm(mean: Any, half: Any, digits: int = 1) -> str:
    if half is None or pd.isna(half):
        return _fmt(mean, digits)
    return f"{_fmt(mean, digits)} ± {_fmt(half, digits)}"


def _table(df: pd.DataFrame, table_id: str = "", caption: str = "") -> Html:
    """A table of ``df``: every cell is escaped, unless it is ``Html`` the report built itself."""
    head = _el("thead", _el("tr", _join(_el("th", c) for c in df.columns)))
    body = _el(
        "tbody",
        _join(
            _el("tr", _join(_el("td", c if isinstance(c, str) else _fmt(c)) for c in row))
            for row in df.itertuples(index=False)
        ),
    )
    parts = [_el("caption", caption)] if caption else []
    attrs = {"id": table_id} if table_id else {}
    return _el("table", _join([*parts, head, body]), **attrs)


def headline(summary: pd.DataFrame) -> pd.DataFrame:
    """Border-wide figures per flow (and all flows), as a reader wants them first."""
    rows = summary[(summary["crossing"] == "ALL") & (summary["direction"] == "ALL")]
    return pd.DataFrame(
        {
            "flow": rows["flow"].astype(str),
            "arrivals": rows["arrivals"].map(lambda v: _fmt(v, 0)),
            "completed": rows["completed"].map(lambda v: _fmt(v, 0)),
            "throughput per day": [
                _pm(m, h) for m, h in zip(rows["throughput_per_day"], rows["throughput_per_day_ci95"], strict=True)
            ],
            "mean wait (min)": [
                _pm(m, h, 2) for m, h in zip(rows["wait_mean_min"], rows["wait_mean_min_ci95"], strict=True)
            ],
            "p95 wait (min)": rows["wait_p95_min"].map(lambda v: _fmt(v, 2)),
            "max wait (min)": rows["wait_max_min"].map(lambda v: _fmt(v, 1)),
            "mean time in system (min)": [
                _pm(m, h, 2)
                for m, h in zip(rows["time_in_system_mean_min"], rows["time_in_system_mean_min_ci95"], strict=True)
            ],
        }
    )


def per_crossing(summary: pd.DataFrame, crossings: pd.DataFrame) -> pd.DataFrame:
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
                _pm(m, h) for m, h in zip(rows["throughput_per_day"], rows["throughput_per_day_ci95"], strict=True)
            ],
            "mean wait (min)": [
                _pm(m, h, 2) for m, h in zip(rows["wait_mean_min"], rows["wait_mean_min_ci95"], strict=True)
            ],
            "p95 wait (min)": rows["wait_p95_min"].map(lambda v: _fmt(v, 2)),
            "still inside at end": rows["in_system_at_end"].map(lambda v: _fmt(v, 0)),
        }
    )


def _what_was_run(manifests: list[dict[str, Any]]) -> Html:
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
    body = [_el("tr", _join([_el("th", k), *(_el("td", x) for x in vals)])) for k, vals in rows.items()]
    body += [_el("tr", _join([_el("th", k), _el("td", x, colspan=len(manifests))])) for k, x in shared]
    return _el("table", _join(body), class_="kv", id="run-details")


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


def _notice(summary: str, reasons: list[str]) -> Html:
    """The plain warning at the top of a page whose charts and tables have no completed traveller."""
    if not reasons:
        return Html("")
    return _el(
        "div",
        _join(
            [
                _el("p", _el("strong", summary)),
                *(_el("p", r) for r in reasons),
                _el("p", "Waits and times in system show as –; arrivals, throughput and queues still apply."),
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

STYLE = Html(
    """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1180px;
color:#1b1b1b;line-height:1.45;padding:0 1rem}
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
table{border-collapse:collapse;margin:.6rem 0;font-size:.88rem}
th,td{border:1px solid #d6d6d6;padding:.25rem .5rem;text-align:right;vertical-align:top}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}
table.kv th{text-align:left;width:12rem}table.kv td{text-align:left;word-break:break-word}
caption{caption-side:top;text-align:left;font-weight:600;padding:.2rem 0}
figure{margin:1rem 0}figure img{max-width:100%;border:1px solid #eee}figcaption{font-size:.85rem;color:#555}
.note{color:#555;font-size:.9rem}details{margin:.5rem 0}
.notice{border-left:4px solid #b3261e;background:#fcf1f0;padding:.4rem 1rem;margin:1rem 0}
@media print{details{display:block}}
"""
)


def _page(title: str, sections: list[Html]) -> str:
    head = _join(
        [
            Html('<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">'),
            _el("title", title),
            _el("style", STYLE),
        ]
    )
    body = _join([_el("h1", title), *sections])
    return f"<!DOCTYPE html>{_el('html', _join([_el('head', head), _el('body', body)]), lang='en')}\n"


def _figure(b64: str, alt: str, caption: str) -> Html:
    image = Html(f'<img src="data:image/png;base64,{_attr(b64)}" alt="{_attr(alt)}">')
    return _el("figure", _join([image, _el("figcaption", caption)]))


def _notes(manifest: dict[str, Any]) -> Html:
    parts = []
    if manifest.get("assumptions"):
        parts += [
            _el("h3", "Assumptions the scenario marks"),
            _el("ul", _join(_el("li", a) for a in manifest["assumptions"])),
        ]
    if manifest.get("sources"):
        parts += [_el("h3", "Sources"), _el("ul", _join(_el("li", a) for a in manifest["sources"]))]
    return _join(parts) if parts else _el("p", "The scenario lists no assumptions or sources.", class_="note")


def run_report(folder: Path) -> Path:
    """Charts and report.html for one scenario's results folder."""
    r = RunFolder.read(folder)
    m = r.manifest
    warm, horizon = float(m["warmup_min"]), float(m["horizon_min"])
    figs = [
        None
        if r.records is None
        else (
            "wait_distribution",
            charts.wait_ecdf({r.name: r.records}, warm),
            "Distribution of waits",
            "Share of travellers who waited at most a given time, per flow; the dashed line marks the 95th percentile.",
        ),
        (
            "throughput_by_category",
            charts.throughput_by_category({r.name: r.summary}, r.crossings),
            "Throughput by category",
            "Travellers (vehicles, trains, vessels, pedestrians) leaving per day.",
        ),
        None
        if r.records is None or r.visits is None
        else (
            "day_profile",
            charts.day_profile({r.name: r.records}, {r.name: r.visits}, warm, horizon),
            "Day profile",
            "Mean wait by hour of arrival and mean queue length by hour of day; peak hours shaded.",
        ),
        (
            "utilization",
            charts.utilization_heatmap(r.stages),
            "Stage utilization",
            "Busy share of booth time per crossing and post; the bottlenecks stand out.",
        ),
        (
            "border_map",
            charts.border_map(r.summary, r.crossings),
            "Crossings along the border",
            "Each crossing at its coordinates, coloured by mean wait and sized by throughput.",
        ),
    ]
    images = _join(_figure(_save(fig, folder, key), alt, cap) for key, fig, alt, cap in filter(None, figs))
    reason = why_nothing_completed(r.records, warm)
    sections = [
        _notice(NOTHING_TO_SHOW, [reason] if reason else []),
        _el("h2", "Headline"),
        _table(headline(r.summary), "headline", "Whole border, per flow: mean ± 95% half-width over replications"),
        _el("h2", "What was run"),
        _what_was_run([m]),
        _el("h2", "Why it can be trusted"),
        TRUST,
        _el("h2", "Charts"),
        images,
        _el("h2", "Per crossing"),
        _el(
            "details",
            _join(
                [
                    _el("summary", "All crossings, longest mean wait first"),
                    _table(per_crossing(r.summary, r.crossings), "crossings"),
                ]
            ),
            open="",
        ),
        _el("h2", "Notes on assumptions"),
        _notes(m),
    ]
    out = folder / "report.html"
    write_text(out, _page(f"bordersim report: {r.name}", sections))
    return out


def comparison_report(folder: Path, jobs: int = 1) -> Path:
    """Charts and report.html for a comparison folder (and each scenario's own report)."""
    manifest = read_manifest(folder / "manifest.json", COMPARISON_MANIFEST)
    comparison = read_csv_table(folder / "comparison.csv", COMPARISON_COLUMNS)
    runs = [RunFolder.read(folder / name) for name in manifest["scenarios"]]
    # worker processes are stopped at once on Ctrl-C, not waited for
    run_tasks(run_report, [(r.path,) for r in runs], jobs)
    base = runs[0]
    warm, horizon = float(base.manifest["warmup_min"]), float(base.manifest["horizon_min"])
    records = {r.name: r.records for r in runs if r.records is not None}
    visits = {r.name: r.visits for r in runs if r.visits is not None}
    kept = len(records) == len(runs)
    figs = [
        (
            "differences",
            charts.forest(comparison),
            "Differences from the baseline",
            "Each scenario minus the baseline, whole border, with the 95% paired confidence interval.",
        ),
        None
        if not kept
        else (
            "wait_distribution",
            charts.wait_ecdf(records, warm),
            "Distribution of waits",
            "Share of travellers who waited at most a given time, per flow and scenario; dashed: 95th percentile.",
        ),
        (
            "throughput_by_category",
            charts.throughput_by_category({r.name: r.summary for r in runs}, base.crossings),
            "Throughput by category",
            "Travellers leaving per day by crossing category and mode, per scenario.",
        ),
        None
        if not kept or len(visits) < len(runs)
        else (
            "day_profile",
            charts.day_profile(records, visits, warm, horizon),
            "Day profile",
            "Mean wait by hour of arrival and queue length by hour of day, per scenario.",
        ),
    ]
    images = _join(_figure(_save(fig, folder, key), alt, cap) for key, fig, alt, cap in filter(None, figs))
    c = comparison[(comparison["crossing"] == "ALL") & (comparison["direction"] == "ALL")]
    head = c[c["metric"] == "time_in_system_mean_min"]
    table = pd.DataFrame(
        {
            "scenario": head["scenario"],
            "flow": head["flow"],
            "baseline (min)": head["baseline_value"].map(lambda v: _fmt(v, 2)),
            "scenario (min)": head["value"].map(lambda v: _fmt(v, 2)),
            "difference (min)": head["diff"].map(lambda v: _fmt(v, 2)),
            "95% CI": [
                f"[{_fmt(lo, 2)}, {_fmt(hi, 2)}]"
                for lo, hi in zip(head["diff_ci95_low"], head["diff_ci95_high"], strict=True)
            ],
            "change (%)": head["pct_change"].map(lambda v: _fmt(v, 1)),
        }
    )
    reasons = [
        f"{r.name}: {reason}"
        for r in runs
        if (reason := why_nothing_completed(r.records, float(r.manifest["warmup_min"])))
    ]
    links = _el("ul", _join(_el("li", _el("a", r.name, href=f"{quote(r.name, safe='')}/report.html")) for r in runs))
    summary = (
        NOTHING_TO_SHOW
        if len(reasons) == len(runs)
        else f"{len(reasons)} of {len(runs)} scenarios have nothing to show: no traveller completed in their "
        "observation window, so their waits and differences in waits are empty."
    )
    sections = [
        _notice(summary, reasons),
        _el(
            "p",
            _join(
                [
                    "Baseline: ",
                    _el("b", manifest["baseline"]),
                    f". Every scenario ran with the same seed ({manifest['seed']}) and "
                    f"{manifest['replications']} replications, sharing random numbers.",
                ]
            ),
        ),
        _el("h2", "Headline"),
        _table(table, "headline", "Whole border: mean time in system, each scenario against the baseline"),
        _el("h2", "What was run"),
        _what_was_run([r.manifest for r in runs]),
        _el("h2", "Why it can be trusted"),
        TRUST,
        _el("h2", "Charts"),
        images,
        _el("h2", "Each scenario"),
        _join(
            _el(
                "details",
                _join([_el("summary", f"{r.name}: headline"), _table(headline(r.summary), f"headline-{r.name}")]),
            )
            for r in runs
        ),
        _el("p", "Full reports:"),
        links,
        _el("h2", "Notes on assumptions"),
        _notes(base.manifest),
    ]
    out = folder / "report.html"
    write_text(out, _page(f"bordersim comparison: {manifest['baseline']} and {len(runs) - 1} other(s)", sections))
    return out


def build_report(folder: str | Path, jobs: int = 1) -> Path:
    """Rebuild the charts and report.html of a results folder from its files."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ReportError(f"{folder}: no such folder")
    try:
        if is_comparison(folder):
            return comparison_report(folder, jobs)
        return run_report(folder)
    except OSError as exc:
        # reading turns every problem into a ReportError: what is left is writing the charts or the page
        raise ReportError(f"{exc.filename or folder}: cannot be written ({exc.strerror or exc})") from None
