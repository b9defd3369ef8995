"""The self-contained HTML report of a results folder, and its charts.

Everything is drawn from the files a run or a comparison wrote (``bordersim report DIR``
rebuilds it any time): what was run and why it can be trusted (the STRESS-DES reporting
items), a headline table, charts, per-crossing tables and the scenario's assumptions. Images
are embedded, so the page opens anywhere, offline.
"""

from __future__ import annotations

import base64
import html
import io
import json
import numbers
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from sim import charts
from sim.output import atomic_write, write_text


@dataclass
class RunFolder:
    """The files of one scenario's results."""

    path: Path
    manifest: dict[str, Any]
    summary: pd.DataFrame
    stages: pd.DataFrame
    crossings: pd.DataFrame
    records: pd.DataFrame
    visits: pd.DataFrame

    @property
    def name(self) -> str:
        return str(self.manifest["scenario"])

    @classmethod
    def read(cls, path: Path) -> RunFolder:
        return cls(
            path=path,
            manifest=json.loads((path / "manifest.json").read_text()),
            summary=pd.read_csv(path / "summary.csv", keep_default_na=False, na_values=[""]),
            stages=pd.read_csv(path / "stages.csv", keep_default_na=False, na_values=[""]),
            crossings=pd.read_csv(path / "crossings.csv", keep_default_na=False, na_values=[""]),
            records=pd.read_parquet(path / "records.parquet"),
            visits=pd.read_parquet(path / "visits.parquet"),
        )


class ReportError(Exception):
    """A folder is not a results folder (or misses a file a report needs)."""


def is_comparison(path: Path) -> bool:
    return (path / "comparison.csv").exists()


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
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "–"
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return f"{float(value):,.{digits}f}"
    return html.escape(str(value))


def _pm(mean: Any, half: Any, digits: int = 1) -> str:
    if half is None or pd.isna(half):
        return _fmt(mean, digits)
    return f"{_fmt(mean, digits)} ± {_fmt(half, digits)}"


def _table(df: pd.DataFrame, table_id: str = "", caption: str = "") -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    body = []
    for row in df.itertuples(index=False):
        cells = "".join(f"<td>{c if isinstance(c, str) else _fmt(c)}</td>" for c in row)
        body.append(f"<tr>{cells}</tr>")
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    ident = f' id="{table_id}"' if table_id else ""
    return f"<table{ident}>{cap}<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def headline(summary: pd.DataFrame) -> pd.DataFrame:
    """Border-wide figures per flow (and all flows), as a reader wants them first."""
    rows = summary[(summary["crossing"] == "ALL") & (summary["direction"] == "ALL")]
    return pd.DataFrame(
        {
            "flow": rows["flow"].astype(str),
            "arrivals": rows["arrivals"].map(lambda v: f"{int(v):,}"),
            "completed": rows["completed"].map(lambda v: f"{int(v):,}"),
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
    meta = crossings.set_index("id")
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
            "still inside at end": rows["in_system_at_end"].map(lambda v: f"{int(v):,}"),
        }
    )


def _what_was_run(manifests: list[dict[str, Any]]) -> str:
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
    body = "".join(
        f"<tr><th>{html.escape(k)}</th>" + "".join(f"<td>{html.escape(x)}</td>" for x in vals) + "</tr>"
        for k, vals in rows.items()
    )
    body += "".join(
        f'<tr><th>{html.escape(k)}</th><td colspan="{len(manifests)}">{html.escape(x)}</td></tr>' for k, x in shared
    )
    return f'<table class="kv" id="run-details">{body}</table>'


TRUST = """
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

STYLE = """
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
@media print{details{display:block}}
"""


def _page(title: str, sections: list[str]) -> str:
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{html.escape(title)}</title>'
        f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>{''.join(sections)}</body></html>\n"
    )


def _figure(b64: str, alt: str, caption: str) -> str:
    return (
        f'<figure><img src="data:image/png;base64,{b64}" alt="{html.escape(alt)}">'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def _notes(manifest: dict[str, Any]) -> str:
    parts = []
    if manifest.get("assumptions"):
        parts.append(
            "<h3>Assumptions the scenario marks</h3><ul>"
            + "".join(f"<li>{html.escape(a)}</li>" for a in manifest["assumptions"])
            + "</ul>"
        )
    if manifest.get("sources"):
        parts.append(
            "<h3>Sources</h3><ul>" + "".join(f"<li>{html.escape(a)}</li>" for a in manifest["sources"]) + "</ul>"
        )
    return "".join(parts) or '<p class="note">The scenario lists no assumptions or sources.</p>'


def run_report(folder: Path) -> Path:
    """Charts and report.html for one scenario's results folder."""
    r = RunFolder.read(folder)
    m = r.manifest
    warm, horizon = float(m["warmup_min"]), float(m["horizon_min"])
    figs = [
        (
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
        (
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
    images = "".join(_figure(_save(fig, folder, key), alt, cap) for key, fig, alt, cap in figs)
    sections = [
        "<h2>Headline</h2>",
        _table(headline(r.summary), "headline", "Whole border, per flow: mean ± 95% half-width over replications"),
        "<h2>What was run</h2>",
        _what_was_run([m]),
        "<h2>Why it can be trusted</h2>",
        TRUST,
        "<h2>Charts</h2>",
        images,
        "<h2>Per crossing</h2>",
        "<details open><summary>All crossings, longest mean wait first</summary>"
        + _table(per_crossing(r.summary, r.crossings), "crossings")
        + "</details>",
        "<h2>Notes on assumptions</h2>",
        _notes(m),
    ]
    out = folder / "report.html"
    write_text(out, _page(f"bordersim report: {r.name}", sections))
    return out


def comparison_report(folder: Path, jobs: int = 1) -> Path:
    """Charts and report.html for a comparison folder (and each scenario's own report)."""
    manifest = json.loads((folder / "manifest.json").read_text())
    comparison = pd.read_csv(folder / "comparison.csv", keep_default_na=False, na_values=[""])
    runs = [RunFolder.read(folder / name) for name in manifest["scenarios"]]
    if jobs > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=min(jobs, len(runs))) as pool:
            list(pool.map(run_report, [r.path for r in runs]))
    else:
        for r in runs:
            run_report(r.path)
    base = runs[0]
    warm, horizon = float(base.manifest["warmup_min"]), float(base.manifest["horizon_min"])
    records = {r.name: r.records for r in runs}
    figs = [
        (
            "differences",
            charts.forest(comparison),
            "Differences from the baseline",
            "Each scenario minus the baseline, whole border, with the 95% paired confidence interval.",
        ),
        (
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
        (
            "day_profile",
            charts.day_profile(records, {r.name: r.visits for r in runs}, warm, horizon),
            "Day profile",
            "Mean wait by hour of arrival and queue length by hour of day, per scenario.",
        ),
    ]
    images = "".join(_figure(_save(fig, folder, key), alt, cap) for key, fig, alt, cap in figs)
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
    links = "".join(f'<li><a href="{html.escape(r.name)}/report.html">{html.escape(r.name)}</a></li>' for r in runs)
    sections = [
        f"<p>Baseline: <b>{html.escape(manifest['baseline'])}</b>. Every scenario ran with the same seed "
        f"({manifest['seed']}) and {manifest['replications']} replications, sharing random numbers.</p>",
        "<h2>Headline</h2>",
        _table(table, "headline", "Whole border: mean time in system, each scenario against the baseline"),
        "<h2>What was run</h2>",
        _what_was_run([r.manifest for r in runs]),
        "<h2>Why it can be trusted</h2>",
        TRUST,
        "<h2>Charts</h2>",
        images,
        "<h2>Each scenario</h2>",
        "".join(
            f"<details><summary>{html.escape(r.name)}: headline</summary>"
            + _table(headline(r.summary), f"headline-{html.escape(r.name)}")
            + "</details>"
            for r in runs
        ),
        f"<p>Full reports: <ul>{links}</ul></p>",
        "<h2>Notes on assumptions</h2>",
        _notes(base.manifest),
    ]
    out = folder / "report.html"
    write_text(out, _page(f"bordersim comparison: {manifest['baseline']} and {len(runs) - 1} other(s)", sections))
    return out


def build_report(folder: str | Path, jobs: int = 1) -> Path:
    """Rebuild the charts and report.html of a results folder from its files."""
    folder = Path(folder)
    try:
        if is_comparison(folder):
            return comparison_report(folder, jobs)
        return run_report(folder)
    except FileNotFoundError as exc:
        raise ReportError(f"{folder}: not a complete results folder ({Path(exc.filename).name} is missing)") from None
