"""Charts of run and comparison results, drawn from the tables a run writes to disk.

Each function takes DataFrames and returns a matplotlib ``Figure``, so the report, the
command line and tests draw the same pictures. Titles, axis labels with units and legends
are on every chart, sized to stay readable when printed.
"""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from sim.analysis.day_profile import waiting_by_hour_of_day  # noqa: E402

plt.rcParams.update(
    {
        "figure.dpi": 110,
        "savefig.dpi": 110,
        "font.size": 10,
        "axes.titlesize": 11,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.spines.top": False,
        "axes.spines.right": False,
    }
)

COLOURS = plt.get_cmap("tab10").colors
MAX_FLOWS = 12
"""Flows a chart of small multiples draws; any more are named in its title as "n more"."""

Palette = dict[str, tuple[float, float, float]]


def palette(names: list[str]) -> Palette:
    """One colour per scenario, by its place in the report (the baseline first), for every chart of a report."""
    return {name: COLOURS[i % len(COLOURS)] for i, name in enumerate(dict.fromkeys(names))}


def _colour(i: int) -> tuple[float, float, float]:
    return COLOURS[i % len(COLOURS)]


def _pick(colours: Palette | None, names: list[str]) -> Palette:
    """The report's colours, or the charts' own order when drawn alone."""
    return colours if colours is not None else palette(names)


def _more(shown: int, total: int, what: str = "flows") -> str:
    """The title's note of what a chart leaves out, so nothing is dropped silently."""
    return "" if total <= shown else f" ({total - shown} more {what} not drawn: see the tables)"


NOTHING_COMPLETED = "no traveller completed in the observation window"


def _label(text: object, n: int = 34) -> str:
    """User text as a chart draws it: one line of at most ``n`` characters, and ``$`` shown as ``$``.

    Names are free text; matplotlib would read ``$...$`` as mathtext (and fail on a broken
    formula), and a newline or a very long name would break the layout.
    """
    line = " ".join("".join(ch if ch.isprintable() else " " for ch in str(text)).split())
    short = line if len(line) <= n else line[: n - 1] + "…"
    return short.replace("$", r"\$")


def _placeholder(ax: Axes, text: str) -> None:
    """Say on an empty chart why it is empty, instead of leaving blank axes."""
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, fontsize=10, color="#555555")
    ax.set_xticks([])
    ax.set_yticks([])


def completed(records: pd.DataFrame, warmup: float) -> pd.DataFrame:
    """The travellers who arrived after the warm-up and had left by the end: the ones waits describe."""
    return records[(records["arrival_min"] >= warmup) & records["release_min"].notna()]


def wait_ecdf(records: dict[str, pd.DataFrame], warmup: float, colours: Palette | None = None) -> Figure:
    """Empirical distribution of waits per flow, one line per scenario, with the p95 marked.

    One panel per flow (small multiples, every flow up to ``MAX_FLOWS``) and a log time axis,
    so that a scenario far off the others does not flatten them.
    """
    colours = _pick(colours, list(records))
    waits: dict[str, dict[str, np.ndarray]] = {}
    counts: dict[str, int] = {}
    for name, r in records.items():
        d = completed(r, warmup)
        groups = d.groupby(d["flow"].astype(str), observed=True)["wait_min"]
        waits[name] = {flow: g.to_numpy() for flow, g in groups}
        for flow, w in waits[name].items():
            counts[flow] = counts.get(flow, 0) + len(w)
    flows = sorted(counts, key=lambda f: -counts[f])[:MAX_FLOWS]
    title = "Distribution of waits by flow (dashed line and dot: 95th percentile)" + _more(len(flows), len(counts))
    if not flows:
        fig, ax = plt.subplots(figsize=(8.4, 3.3))
        _placeholder(ax, NOTHING_COMPLETED)
        fig.suptitle(title)
        fig.tight_layout()
        return fig
    cols = min(3, max(1, len(flows)))
    rows = max(1, math.ceil(len(flows) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.0 * rows + 0.6), squeeze=False)
    for ax, flow in zip(axes.flat, flows, strict=False):
        upper = 0.0
        for name in waits:
            w = waits[name].get(flow, np.empty(0))
            if len(w) == 0:
                continue
            # the ECDF at 2,000 levels: the same curve as every point, at a fraction of the ink
            y = np.linspace(0.0, 1.0, 2001)
            x = np.quantile(w, y, method="inverted_cdf")
            ax.step(x, y, where="post", color=colours[name], label=_label(name), linewidth=1.6)
            p95 = float(np.quantile(w, 0.95))
            ax.axvline(p95, color=colours[name], linestyle="--", linewidth=1)
            ax.plot([p95], [0.95], marker="o", color=colours[name], markersize=4)
            upper = max(upper, float(np.quantile(w, 0.995)))
        ax.set_xscale("symlog", linthresh=1.0)
        ax.set_xlim(0, max(upper * 1.2, 2.0))
        ax.set_ylim(0, 1.01)
        ax.set_title(_label(flow.replace("_", " ")))
        ax.set_xlabel("wait (minutes; log scale above 1)")
        ax.set_ylabel("share of travellers")
    for ax in list(axes.flat)[len(flows) :]:
        ax.set_visible(False)
    seen: dict[str, object] = {}
    for ax in axes.flat:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            seen.setdefault(label, handle)
    labels = list(seen)
    if labels:
        fig.legend(list(seen.values()), labels, loc="lower center", ncol=min(len(labels), 3), frameon=False)
    fig.suptitle(title)
    bottom = (0.08 if len(labels) <= 3 else 0.13) / max(1, rows) ** 0.5
    fig.tight_layout(rect=(0, bottom, 1, 1 - 0.05 / max(1, rows) ** 0.5))
    return fig


def throughput_by_category(
    summaries: dict[str, pd.DataFrame],
    crossings: pd.DataFrame,
    units: dict[str, str] | None = None,
    colours: Palette | None = None,
) -> Figure:
    """Travellers leaving per day by crossing category and mode, one panel per unit, per scenario.

    Vehicles, persons on foot, trains and vessels are never added together: each unit has its
    own panel and axis, so a thousand pedestrians do not hide ten trains.
    """
    from sim.outputs.readable import UNIT_ORDER, per_day

    colours = _pick(colours, list(summaries))
    units = units or {}
    kinds = crossings.assign(kind=crossings["category"] + " " + crossings["mode"])[["id", "kind"]]
    frames = []
    for name, s in summaries.items():
        rows = s[(s["crossing"] != "ALL") & (s["direction"] != "ALL") & (s["flow"] != "ALL")]
        rows = rows.assign(unit=[units.get(str(f), "vehicle") for f in rows["flow"]])
        t = rows.merge(kinds, left_on="crossing", right_on="id").groupby(["unit", "kind"])["throughput_per_day"].sum()
        frames.append(t.rename(name))
    table = pd.concat(frames, axis=1).fillna(0.0) if frames else pd.DataFrame()
    present = [u for u in UNIT_ORDER if not table.empty and u in table.index.get_level_values(0)]
    present += [u for u in dict.fromkeys(table.index.get_level_values(0)) if u not in present] if len(table) else []
    title = "Throughput per day by crossing category and mode (one panel per unit; units are never added)"
    if not present:
        fig, ax = plt.subplots(figsize=(6.5, 3.2))
        _placeholder(ax, "no crossing in the results")
        ax.set_title(title)
        fig.tight_layout()
        return fig
    widths = [max(1, len(table.loc[u])) for u in present]
    fig, axes = plt.subplots(
        1,
        len(present),
        figsize=(min(15, 3.0 + 1.25 * sum(widths) * max(1, len(summaries)) ** 0.4), 4.4),
        squeeze=False,
        gridspec_kw={"width_ratios": widths},
    )
    for ax, unit in zip(axes.flat, present, strict=True):
        part = table.loc[unit]
        width = 0.8 / max(1, len(summaries))
        x = np.arange(len(part))
        for i, name in enumerate(part.columns):
            offset = (i - (len(part.columns) - 1) / 2) * width
            ax.bar(x + offset, part[name], width, label=_label(name), color=colours[name])
        ax.set_xticks(x, ["\n".join(_label(word, 14) for word in k.split(" ")) for k in part.index], fontsize=8)
        ax.set_ylabel(per_day(unit))
        ax.set_title(per_day(unit))
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 3), frameon=False, fontsize=8)
    fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.1 if len(labels) <= 3 else 0.16, 1, 0.94))
    return fig


def _queue_by_hour(visits: pd.DataFrame, warmup: float, horizon: float) -> np.ndarray:
    """Mean number waiting (all pools together) in each hour of the day, over the window."""
    replications = max(1, visits["replication"].nunique())
    return waiting_by_hour_of_day(visits["enter_min"], visits["start_min"], warmup, horizon, replications)


def _minutes(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:.1f} min"


def _log_if_spread(ax: Axes, label: str) -> None:
    """A log axis when the lines span more than 30 times: one scenario far off must not flatten the others."""
    values = np.concatenate([line.get_ydata() for line in ax.get_lines()]) if ax.get_lines() else np.empty(0)
    values = values[np.isfinite(values) & (values > 0)] if len(values) else values
    if len(values) and values.max() > 30 * max(values.min(), 1e-3):
        ax.set_yscale("log")
        ax.set_ylabel(f"{label} (log scale)")
    else:
        ax.set_ylabel(label)


def day_profile(
    records: dict[str, pd.DataFrame],
    visits: dict[str, pd.DataFrame],
    warmup: float,
    horizon: float,
    colours: Palette | None = None,
) -> Figure:
    """Mean wait by hour of arrival and mean number waiting by hour of day; peak hours shaded."""
    colours = _pick(colours, list(records))
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    peak_hours: list[int] = []
    observed = {name: completed(r, warmup) for name, r in records.items()}
    # the peak is the first scenario's with a completed traveller (the baseline's, normally)
    first = next((name for name, d in observed.items() if len(d)), None)
    if first is None:
        _placeholder(ax1, NOTHING_COMPLETED)
    for name, d in observed.items():
        hour = ((d["arrival_min"] // 60) % 24).astype(int)
        wait = d.groupby(hour)["wait_min"].mean().reindex(range(24))
        if name == first:
            arrivals = hour.value_counts().reindex(range(24), fill_value=0)
            peak_hours = sorted(arrivals.sort_values(ascending=False).index[:4].tolist())
            peak = d[hour.isin(peak_hours)]["wait_min"].mean()
            off = d[~hour.isin(peak_hours)]["wait_min"].mean()
            ax1.text(
                0.02,
                0.97,
                f"{_label(name, 26)}: peak {_minutes(peak)}, off-peak {_minutes(off)}",
                transform=ax1.transAxes,
                va="top",
                fontsize=8,
            )
        ax1.plot(range(24), wait.to_numpy(), marker="o", markersize=3, color=colours[name], label=_label(name))
        ax2.plot(
            range(24),
            _queue_by_hour(visits[name], warmup, horizon),
            marker="o",
            markersize=3,
            color=colours[name],
            label=_label(name),
        )
    for ax in (ax1, ax2):
        for h in peak_hours:
            ax.axvspan(h - 0.5, h + 0.5, color="orange", alpha=0.12, linewidth=0)
        ax.set_xticks(range(0, 24, 3))
        ax.set_xlabel("hour of the day")
        ax.set_xlim(-0.5, 23.5)
    _log_if_spread(ax1, "mean wait (minutes)")
    ax1.set_title("Mean wait by hour of arrival")
    _log_if_spread(ax2, "mean number waiting (all booths)")
    ax2.set_title("Queue length by hour of day")
    ax2.legend(frameon=False, fontsize=8)
    fig.suptitle("The day's profile (shaded: the 4 busiest arrival hours, the peak)")
    fig.tight_layout()
    return fig


def utilization_heatmap(stages: pd.DataFrame, top: int = 25, countries: tuple[str, str] = ("A", "B")) -> Figure:
    """Utilization per crossing and post stage (busiest pool of each), the busiest crossings first."""
    s = stages[~stages["secondary"].astype(bool)].astype({"crossing": str, "side": str, "role": str, "stage": str})
    table = pd.DataFrame()
    if not s.empty:
        table = s.pivot_table(index="crossing", columns=["side", "role", "stage"], values="utilization", aggfunc="max")
    if table.empty:
        fig, ax = plt.subplots(figsize=(6.5, 2.6))
        _placeholder(ax, "no control stage with a utilization in the results")
        ax.set_title("Stage utilization")
        fig.tight_layout()
        return fig
    table = table.loc[table.max(axis=1).sort_values(ascending=False).index[:top]]
    posts = [
        f"{_label(countries[0] if side == 'a' else countries[1] if side == 'b' else side, 14)}, "
        f"{_label(role, 12)}\n{_label(stage.replace('_', ' '))}"
        for side, role, stage in table.columns
    ]
    fig, ax = plt.subplots(figsize=(min(13, max(6.5, 1.05 * table.shape[1] + 4.5)), 0.3 * len(table) + 2.2))
    im = ax.imshow(table.to_numpy(dtype=float), aspect="auto", cmap="viridis", vmin=0, vmax=1)
    ax.set_xticks(range(table.shape[1]), posts, fontsize=8)
    ax.set_yticks(range(len(table)), [_label(c, 40) for c in table.index], fontsize=8)
    for (r, c), value in np.ndenumerate(table.to_numpy(dtype=float)):
        if not np.isnan(value):
            ax.text(
                c, r, f"{value:.2f}", ha="center", va="center", fontsize=7, color="white" if value < 0.6 else "black"
            )
    ax.grid(False)
    fig.colorbar(im, ax=ax, label="utilization (busy share of booth time)")
    ax.set_xlabel("country's post, its role (exit or entry) and stage")
    ax.set_title(f"Stage utilization: the {len(table)} busiest crossings (busiest pool of each)")
    fig.tight_layout()
    return fig


def daily_backlog(daily: pd.DataFrame, top: int = 5) -> Figure:
    """Travellers inside at the end of each day: the whole border per flow, and the rows that end with the most.

    A backlog that climbs day after day is an overloaded queue whatever its mean wait says;
    one that returns to the same level each night is a queue that clears.
    """
    x_col = "date" if "date" in daily.columns else "day"
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12.5, 4.0))
    border = daily[(daily["crossing"] == "ALL") & (daily["direction"] == "ALL")]
    flows = sorted(border["flow"].astype(str).unique(), key=lambda f: (f == "ALL", f))
    for i, flow in enumerate(flows):
        d = border[border["flow"].astype(str) == flow]
        x = pd.to_datetime(d[x_col]) if x_col == "date" else d[x_col]
        label = "all flows" if flow == "ALL" else _label(flow.replace("_", " "))
        colour = "#1b1b1b" if flow == "ALL" else _colour(i)
        ax1.plot(x, d["backlog_end"], marker="o", markersize=3, color=colour, label=label)
        half = d["backlog_end_ci95"].fillna(0.0)
        ax1.fill_between(x, d["backlog_end"] - half, d["backlog_end"] + half, color=colour, alpha=0.15)
    ax1.set_title("Whole border, per flow (band: 95% interval)")
    ax1.set_ylabel("travellers inside at the day's end")
    ax1.set_xlabel(x_col)
    if flows:
        ax1.legend(frameon=False, fontsize=8)
    rows = daily[(daily["crossing"] != "ALL") & (daily["direction"] != "ALL") & (daily["flow"] != "ALL")]
    last = rows[rows["day"] == rows["day"].max()] if len(rows) else rows
    worst = last.sort_values("backlog_end", ascending=False, kind="stable").head(top)
    worst = worst[worst["backlog_end"] > 0]
    for i, key in enumerate(worst[["crossing", "direction", "flow"]].itertuples(index=False, name=None)):
        d = rows[(rows["crossing"] == key[0]) & (rows["direction"] == key[1]) & (rows["flow"] == key[2])]
        x = pd.to_datetime(d[x_col]) if x_col == "date" else d[x_col]
        ax2.plot(x, d["backlog_end"], marker="o", markersize=3, color=_colour(i), label=_label(" ".join(key), 40))
    if worst.empty:
        _placeholder(ax2, "no traveller inside at the end of the last day")
    else:
        ax2.legend(frameon=False, fontsize=8)
        ax2.set_ylabel("travellers inside at the day's end")
        ax2.set_xlabel(x_col)
    ax2.set_title(f"The {len(worst)} crossing x direction x flow rows ending with the most inside")
    for ax in (ax1, ax2):
        ax.set_ylim(bottom=0)
        if x_col == "date":
            ax.tick_params(axis="x", labelrotation=30)
        else:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    fig.suptitle("Backlog at the end of each day")
    fig.tight_layout()
    return fig
