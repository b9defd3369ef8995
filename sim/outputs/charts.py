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
MAX_FLOWS = 6


def _colour(i: int) -> tuple[float, float, float]:
    return COLOURS[i % len(COLOURS)]


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


def wait_ecdf(records: dict[str, pd.DataFrame], warmup: float) -> Figure:
    """Empirical distribution of waits per flow, one line per scenario, with the p95 marked."""
    waits: dict[str, dict[str, np.ndarray]] = {}
    counts: dict[str, int] = {}
    for name, r in records.items():
        d = completed(r, warmup)
        groups = d.groupby(d["flow"].astype(str), observed=True)["wait_min"]
        waits[name] = {flow: g.to_numpy() for flow, g in groups}
        for flow, w in waits[name].items():
            counts[flow] = counts.get(flow, 0) + len(w)
    flows = sorted(counts, key=lambda f: -counts[f])[:MAX_FLOWS]
    title = "Distribution of waits by flow (dashed line and dot: 95th percentile)"
    if not flows:
        fig, ax = plt.subplots(figsize=(8.4, 3.3))
        _placeholder(ax, NOTHING_COMPLETED)
        fig.suptitle(title)
        fig.tight_layout()
        return fig
    cols = min(3, max(1, len(flows)))
    rows = max(1, math.ceil(len(flows) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.3 * rows), squeeze=False)
    for ax, flow in zip(axes.flat, flows, strict=False):
        upper = 0.0
        for i, name in enumerate(waits):
            w = waits[name].get(flow, np.empty(0))
            if len(w) == 0:
                continue
            # the ECDF at 2,000 levels: the same curve as every point, at a fraction of the ink
            y = np.linspace(0.0, 1.0, 2001)
            x = np.quantile(w, y, method="inverted_cdf")
            ax.step(x, y, where="post", color=_colour(i), label=_label(name), linewidth=1.6)
            p95 = float(np.quantile(w, 0.95))
            ax.axvline(p95, color=_colour(i), linestyle="--", linewidth=1)
            ax.plot([p95], [0.95], marker="o", color=_colour(i), markersize=4)
            upper = max(upper, float(np.quantile(w, 0.995)))
        ax.set_xscale("symlog", linthresh=1.0)
        ax.set_xlim(0, max(upper * 1.2, 2.0))
        ax.set_ylim(0, 1.01)
        ax.set_title(_label(flow.replace("_", " ")))
        ax.set_xlabel("wait (minutes; log scale above 1)")
        ax.set_ylabel("share of travellers")
    for ax in list(axes.flat)[len(flows) :]:
        ax.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    if labels:
        fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 3), frameon=False)
    fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.08 if len(labels) <= 3 else 0.13, 1, 0.95))
    return fig


def throughput_by_category(summaries: dict[str, pd.DataFrame], crossings: pd.DataFrame) -> Figure:
    """Vehicles (and trains, vessels) leaving per day, by crossing category and mode, per scenario."""
    kinds = crossings.assign(kind=crossings["category"] + " " + crossings["mode"])[["id", "kind"]]
    frames = []
    for name, s in summaries.items():
        rows = s[(s["crossing"] != "ALL") & (s["direction"] == "ALL") & (s["flow"] == "ALL")]
        t = rows.merge(kinds, left_on="crossing", right_on="id").groupby("kind")["throughput_per_day"].sum()
        frames.append(t.rename(name))
    table = pd.concat(frames, axis=1).fillna(0.0)
    fig, ax = plt.subplots(figsize=(max(6.5, 1.2 * len(table) * max(1, len(summaries)) ** 0.5 + 3), 4.2))
    ax.set_title("Throughput per day by crossing category and mode")
    if table.empty:
        _placeholder(ax, "no crossing in the results")
        fig.tight_layout()
        return fig
    width = 0.8 / max(1, len(summaries))
    x = np.arange(len(table))
    for i, name in enumerate(table.columns):
        ax.bar(x + (i - (len(table.columns) - 1) / 2) * width, table[name], width, label=_label(name), color=_colour(i))
    ax.set_xticks(x, ["\n".join(_label(word, 20) for word in k.split(" ")) for k in table.index])
    ax.set_ylabel("throughput (leaving per day)")
    ax.set_xlabel("crossing category and mode")
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig


def _queue_by_hour(visits: pd.DataFrame, warmup: float, horizon: float) -> np.ndarray:
    """Mean number waiting (all pools together) in each hour of the day, over the window."""
    v = visits
    enter = np.clip(v["enter_min"].to_numpy(), warmup, horizon)
    start = np.clip(np.where(np.isnan(v["start_min"]), horizon, v["start_min"]), warmup, horizon)
    keep = start > enter
    enter, start = enter[keep], start[keep]
    hours = int(math.ceil(horizon / 60.0))
    # waiting time falling in each absolute hour: the partial first and last hours of each
    # wait, plus 60 minutes for every whole hour in between (a difference array)
    edges = np.arange(hours + 1) * 60.0
    area = np.zeros(hours)
    first = np.minimum((enter // 60).astype(int), hours - 1)
    last = np.minimum((start // 60).astype(int), hours - 1)
    same = first == last
    np.add.at(area, first[same], (start - enter)[same])
    diff = ~same
    np.add.at(area, first[diff], edges[first[diff] + 1] - enter[diff])
    np.add.at(area, last[diff], start[diff] - edges[last[diff]])
    cover = np.zeros(hours + 1)
    np.add.at(cover, first[diff] + 1, 1)
    np.add.at(cover, last[diff], -1)
    area += np.cumsum(cover)[:hours] * 60.0
    replications = max(1, v["replication"].nunique())
    observed = np.clip(edges[1:], warmup, horizon) - np.clip(edges[:-1], warmup, horizon)
    by_hour = np.zeros(24)
    minutes = np.zeros(24)
    np.add.at(by_hour, np.arange(hours) % 24, area)
    np.add.at(minutes, np.arange(hours) % 24, observed * replications)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(minutes > 0, by_hour / minutes, np.nan)


def _minutes(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:.1f} min"


def day_profile(
    records: dict[str, pd.DataFrame], visits: dict[str, pd.DataFrame], warmup: float, horizon: float
) -> Figure:
    """Mean wait by hour of arrival and mean number waiting by hour of day; peak hours shaded."""
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    peak_hours: list[int] = []
    observed = {name: completed(r, warmup) for name, r in records.items()}
    # the peak is the first scenario's with a completed traveller (the baseline's, normally)
    first = next((name for name, d in observed.items() if len(d)), None)
    if first is None:
        _placeholder(ax1, NOTHING_COMPLETED)
    for i, (name, d) in enumerate(observed.items()):
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
        ax1.plot(range(24), wait.to_numpy(), marker="o", markersize=3, color=_colour(i), label=_label(name))
        ax2.plot(
            range(24),
            _queue_by_hour(visits[name], warmup, horizon),
            marker="o",
            markersize=3,
            color=_colour(i),
            label=_label(name),
        )
    for ax in (ax1, ax2):
        for h in peak_hours:
            ax.axvspan(h - 0.5, h + 0.5, color="orange", alpha=0.12, linewidth=0)
        ax.set_xticks(range(0, 24, 3))
        ax.set_xlabel("hour of the day")
        ax.set_xlim(-0.5, 23.5)
    ax1.set_ylabel("mean wait (minutes)")
    ax1.set_title("Mean wait by hour of arrival")
    ax2.set_ylabel("mean number waiting (all booths)")
    ax2.set_title("Queue length by hour of day")
    ax2.legend(frameon=False, fontsize=8)
    fig.suptitle("The day's profile (shaded: the 4 busiest arrival hours, the peak)")
    fig.tight_layout()
    return fig


def utilization_heatmap(stages: pd.DataFrame, top: int = 25) -> Figure:
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
        f"side {_label(side, 8)}, {_label(role, 12)}\n{_label(stage.replace('_', ' '))}"
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
    ax.set_xlabel("side, role and stage")
    ax.set_title(f"Stage utilization: the {len(table)} busiest crossings (busiest pool of each)")
    fig.tight_layout()
    return fig


FOREST_METRICS = {
    "time_in_system_mean_min": "time in system (min)",
    "wait_p95_min": "95th percentile wait (min)",
    "throughput_per_day": "throughput (per day)",
}


def forest(comparison: pd.DataFrame) -> Figure:
    """Border-wide differences from the baseline with their 95% paired intervals, per flow and metric."""
    c = comparison[(comparison["crossing"] == "ALL") & (comparison["direction"] == "ALL")]
    scenarios = list(dict.fromkeys(c["scenario"]))
    flows = list(dict.fromkeys(c["flow"]))
    heading = "Differences from {}: mean and 95% paired confidence interval, whole border"
    if not scenarios:
        fig, ax = plt.subplots(figsize=(8.4, 3))
        _placeholder(ax, "no whole-border difference in the comparison")
        fig.suptitle(heading.format("the baseline"))
        fig.tight_layout()
        return fig
    fig, axes = plt.subplots(
        1,
        len(FOREST_METRICS),
        figsize=(4.2 * len(FOREST_METRICS), 0.32 * len(flows) * len(scenarios) + 2),
        sharey=True,
        squeeze=False,
    )
    labels = [_label(flow) for flow in flows]
    for ax, (metric, title) in zip(axes.flat, FOREST_METRICS.items(), strict=True):
        m = c[c["metric"] == metric]
        for i, name in enumerate(scenarios):
            rows = m[m["scenario"] == name].set_index("flow").reindex(flows)
            y = np.arange(len(flows)) * (len(scenarios) + 1) + i
            diff = rows["diff"].to_numpy(dtype=float)
            lo = diff - rows["diff_ci95_low"].to_numpy(dtype=float)
            hi = rows["diff_ci95_high"].to_numpy(dtype=float) - diff
            ax.errorbar(
                diff,
                y,
                xerr=[np.nan_to_num(lo), np.nan_to_num(hi)],
                fmt="o",
                color=_colour(i),
                markersize=4,
                capsize=2,
                label=_label(name),
            )
            # no completed traveller in one of the two scenarios: no difference to show
            for row in y[np.isnan(diff)]:
                ax.text(0, row, " n/a", va="center", fontsize=7, color=_colour(i))
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_title(title)
        ax.set_xlabel("difference from baseline")
    ax0 = axes.flat[0]
    ax0.set_yticks(np.arange(len(flows)) * (len(scenarios) + 1) + (len(scenarios) - 1) / 2, labels)
    ax0.invert_yaxis()
    ax0.set_ylabel("flow")
    handles, names = ax0.get_legend_handles_labels()
    fig.legend(handles, names, loc="lower center", ncol=min(3, len(names)), frameon=False)
    fig.suptitle(heading.format(_label(c["baseline"].iloc[0])))
    fig.tight_layout(rect=(0, 0.07 if len(names) <= 3 else 0.12, 1, 0.95))
    return fig


def border_map(summary: pd.DataFrame, crossings: pd.DataFrame, countries: tuple[str, str] = ("A", "B")) -> Figure:
    """Crossings placed by coordinates, coloured by mean wait and sized by throughput."""
    rows = summary[(summary["crossing"] != "ALL") & (summary["direction"] == "ALL") & (summary["flow"] == "ALL")]
    located = crossings.dropna(subset=["lat", "lon"]).merge(rows, left_on="id", right_on="crossing", how="left")
    fig, ax = plt.subplots(figsize=(11, 4.6))
    note = ""
    if located.empty:
        _placeholder(ax, "no crossing has coordinates")
    else:
        wait = located["wait_mean_min"]
        size = 20 + 200 * np.sqrt(
            located["throughput_per_day"].fillna(0.0) / max(1.0, located["throughput_per_day"].max())
        )
        markers = {"road": "o", "rail": "s", "river": "^"}
        # a crossing where no traveller completed has no mean wait: drawn grey, not as a wait of 0
        cmap = plt.get_cmap("plasma").with_extremes(bad="lightgrey")
        norm = matplotlib.colors.Normalize(vmin=0, vmax=max(1.0, float(wait.fillna(0.0).max())))
        for mode, marker in markers.items():
            sel = located["mode"] == mode
            if sel.any():
                ax.scatter(
                    located.loc[sel, "lon"],
                    located.loc[sel, "lat"],
                    c=wait[sel],
                    s=size[sel],
                    cmap=cmap,
                    norm=norm,
                    plotnonfinite=True,
                    marker=marker,
                    edgecolors="black",
                    linewidths=0.4,
                    label=mode,
                )
        fig.colorbar(matplotlib.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, label="mean wait, all flows (minutes)")
        if ax.get_legend_handles_labels()[1]:
            ax.legend(frameon=False, fontsize=8, title="mode", loc="lower left")
        if wait.isna().any():
            note = "; grey: no traveller completed"
    ax.set_xlabel("longitude (degrees east)")
    ax.set_ylabel("latitude (degrees north)")
    missing = len(crossings) - len(located)
    if missing:
        note += f"; {missing} crossings without coordinates not shown"
    ax.set_title(
        f"Crossings along the border ({_label(countries[0], 20)} / {_label(countries[1], 20)}): "
        f"mean wait and throughput{note}"
    )
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
    for i, flow in enumerate(flows[: MAX_FLOWS + 1]):
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
