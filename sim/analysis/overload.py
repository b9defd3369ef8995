"""Honest numbers under overload: whether a queue grows without bound, and how long people really wait.

When demand exceeds what a crossing can serve, its queue grows for as long as the run lasts,
and the mean wait over the travellers who *finished* describes only the lucky ones who got
through: the longer the run, the more of the queue is left out. It can even make more booths
look worse (they let more of the long waiters finish). ``overload.csv`` says, per crossing x
direction x flow and on the total rows:

- ``backlog_end``: travellers inside at the horizon (warm-up arrivals included);
- ``growth_per_day``: the least-squares slope of the backlog, travellers per day, fitted to
  the backlog at instants a whole number of days before the horizon in the second half of the
  observation window (the same time of day, so the daily rhythm of demand is not mistaken for
  growth; the whole window when its second half holds fewer than two such instants);
- ``wait_mean_lb_min``, ``wait_p95_lb_min``: waits of every traveller who arrived in the
  window, those still inside counted with their wait so far (time inside minus the service
  finished and under way) plus the least time the line ahead of them still takes (first come
  first served; ``sim.analysis.daily``): lower bounds of the waits they will have had. The
  wait so far alone would be a weak bound: under overload, those still waiting at the end are
  the latest arrivals, whose wait so far is short;
- ``verdict``: ``stable``, ``overloaded`` (the backlog grows: the 95% interval of its growth
  over replications lies above 0, or a pool the row uses is overloaded in ``stages.csv``;
  and the growth is material: at least 2% of the arrivals and at least 3 travellers over the
  fitted span), or ``capped upstream`` (overloaded, and a
  full neutral zone keeps the exit side's booths blocked, so the queue grows before the
  zone while the bottleneck is past it: the entry side's own figures look fine);
- ``blocked_share``: the share of the exit side's booth time held by travellers a full
  neutral zone kept back.

A total row is overloaded when any of its rows is, or when its own backlog grows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from sim.analysis.daily import DAY, DailyTotals, sum_and_p95
from sim.analysis.daily_tables import group_pools, mean_and_halfwidth, rolled
from sim.analysis.kpis import ALL, KEYS, groups_table
from sim.analysis.running import TravellerTotals
from sim.model.compile import Model

GROWTH_SHARE = 0.02
"""Growth per day, as a share of the arrivals per day, below which a growing backlog is noise or filling up."""
MIN_GROWN = 3.0
"""Travellers the backlog must grow by over the fitted span to be called growing."""
BLOCKED_SHARE = 0.05
"""Share of the exit side's booth time held by blocked travellers from which a full neutral zone is named."""
STABLE, OVERLOADED, CAPPED = "stable", "overloaded", "capped upstream"

OVERLOAD_COLUMNS = [
    "scenario",
    *KEYS,
    "replications",
    "verdict",
    "arrivals_per_day",
    "backlog_end",
    "backlog_end_ci95",
    "growth_per_day",
    "growth_per_day_ci95",
    "unfinished",
    "wait_mean_min",
    "wait_mean_lb_min",
    "wait_mean_lb_min_ci95",
    "wait_p95_min",
    "wait_p95_lb_min",
    "blocked_share",
    "note",
]


def trend_points(model: Model, instants: np.ndarray) -> np.ndarray:
    """Indices into ``instants`` of the backlog points the growth is fitted to (see the module's docstring)."""
    horizon, warmup = model.horizon, model.warmup
    same_time = [horizon - k * DAY for k in range(int((horizon - warmup) // DAY) + 1)]
    at = np.searchsorted(instants, np.asarray(sorted(same_time)))
    middle = warmup + (horizon - warmup) / 2
    late = at[instants[at] >= middle]
    if len(late) >= 2:
        return late
    if len(at) >= 2:
        return at
    return np.searchsorted(instants, np.asarray([warmup, horizon]))


def slopes(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Least-squares slope of ``y[..., k]`` on ``x[k]``."""
    dx = x - x.mean()
    denom = float((dx**2).sum())
    if denom == 0:
        return np.zeros(y.shape[:-1])
    return ((y - y.mean(axis=-1, keepdims=True)) * dx).sum(axis=-1) / denom


def _side_pools(model: Model) -> tuple[list[set[int]], list[set[int]], list[bool]]:
    """Each group's pools before and after its neutral zone, and whether it crosses one."""
    before: list[set[int]] = [set() for _ in model.groups]
    after: list[set[int]] = [set() for _ in model.groups]
    zoned = [False] * len(model.groups)
    for s in model.sources:
        if s.zone is None:
            continue
        zoned[s.group] = True
        for steps, into in ((s.before_zone, before[s.group]), (s.after_zone, after[s.group])):
            for step in steps:
                into.add(step.pool)
                if step.secondary is not None:
                    into.add(step.secondary.pool)
    return before, after, zoned


def overload_table(
    model: Model,
    dailies: Sequence[DailyTotals],
    travellers: Sequence[TravellerTotals],
    pools: Sequence[pd.DataFrame],
    finished: pd.DataFrame | None,
    scenario_name: str,
) -> pd.DataFrame:
    """``overload.csv``: per row, the backlog and its growth, lower-bound waits, and a verdict.

    ``pools`` are the replications' pool tables (``pool_kpis``, a row per pool in the
    model's order): their utilization names the bottleneck past a full zone, and a pool the
    stages table calls overloaded (load >= 1, line growing) makes a material growth of its
    rows' backlog count even when few replications leave its interval wide. ``finished``
    holds the finished travellers' ``wait_mean_min`` and ``wait_p95_min`` per row (the
    summary), shown beside the lower bounds.
    """
    table, levels = groups_table(model)
    rows, n_groups = len(table), len(model.groups)
    reps = len(dailies)
    instants = dailies[0].instants
    points = trend_points(model, instants)
    x = instants[points] / DAY
    fitted_days = float(x.max() - x.min())
    window_days = max(model.horizon - model.warmup, 1e-9) / DAY

    inside = rolled(levels, rows, np.stack([d.inside[:, points] for d in dailies]))
    growth, growth_half = mean_and_halfwidth(slopes(x, inside.astype(float)))
    backlog, backlog_half = mean_and_halfwidth(
        rolled(levels, rows, np.stack([d.inside[:, -1:] for d in dailies]))[..., 0]
    )
    arrivals = rolled(levels, rows, np.stack([d.arrivals.sum(axis=1, keepdims=True) for d in dailies]))[..., 0]
    per_day = arrivals.mean(axis=0) / window_days
    unfinished = np.stack([np.bincount(d.open_group, minlength=n_groups)[:, None] for d in dailies])  # [rep, group, 1]
    unfinished = rolled(levels, rows, unfinished)[..., 0].mean(axis=0)

    # lower bounds: finished waits and the unfinished travellers' bounds, together
    lb_means = []
    for d, t in zip(dailies, travellers, strict=True):
        sums, _, counts = sum_and_p95(
            levels[0], n_groups, np.concatenate([t.group, d.open_group]), np.concatenate([t.wait, d.open_wait])
        )
        total, n = rolled(levels, rows, sums[:, None])[:, 0], rolled(levels, rows, counts[:, None])[:, 0]
        with np.errstate(invalid="ignore", divide="ignore"):
            lb_means.append(np.where(n > 0, total / np.maximum(n, 1), np.nan))
    lb_mean, lb_half = mean_and_halfwidth(np.stack(lb_means))
    every_group = np.concatenate([a for t, d in zip(travellers, dailies, strict=True) for a in (t.group, d.open_group)])
    every_wait = np.concatenate([a for t, d in zip(travellers, dailies, strict=True) for a in (t.wait, d.open_wait)])
    lb_p95 = np.full(rows, np.nan)
    for codes in levels:  # pooled over replications, like the summary's quantiles
        p95 = sum_and_p95(codes, rows, every_group, every_wait)[1]
        lb_p95 = np.where(np.isnan(p95), lb_p95, p95)
    del every_group, every_wait

    # the neutral zone: blocked booth time before it, and where each pool's line grows
    busy = np.sum([d.busy for d in dailies], axis=0)
    blocked = np.sum([d.blocked for d in dailies], axis=0)
    pool_growth = slopes(x, np.stack([d.queue[:, points] for d in dailies]).astype(float)).mean(axis=0)
    before, after, zoned = _side_pools(model)
    members: list[list[int]] = [[] for _ in range(rows)]
    for codes in levels:
        for g, row in enumerate(codes):
            members[int(row)].append(g)
    share = np.full(rows, np.nan)
    for row in range(rows):
        exits = sorted(set().union(*(before[g] for g in members[row])))
        held = float(busy[exits].sum()) if exits else 0.0
        if exits and held > 0:
            share[row] = float(blocked[exits].sum()) / held

    utilization, stage_flag = _pool_figures(pools, len(model.pools))
    flagged = np.zeros(rows, dtype=bool)
    own = group_pools(model)
    for row in range(rows):
        flagged[row] = any(stage_flag[i] for g in members[row] for i in own[g])
    material = (growth >= GROWTH_SHARE * per_day) & (growth * fitted_days >= MIN_GROWN)
    significant = growth > 0 if reps < 2 else (growth - np.nan_to_num(growth_half, nan=np.inf)) > 0
    grows = material & (significant | flagged)
    verdicts, notes = [], []
    for row in range(rows):
        if row < n_groups:
            verdict, note = _group_verdict(
                model,
                own[row],
                bool(grows[row]),
                share[row],
                before[row],
                after[row],
                zoned[row],
                pool_growth,
                utilization,
            )
        else:
            verdict, note = STABLE, ""
        verdicts.append(verdict)
        notes.append(note)
    for row in range(n_groups, rows):
        hit = [g for g in members[row] if verdicts[g] != STABLE]
        if hit:
            verdicts[row] = CAPPED if all(verdicts[g] == CAPPED for g in hit) else OVERLOADED
            notes[row] = f"{len(hit)} of {len(members[row])} rows overloaded"
        elif grows[row]:
            verdicts[row] = OVERLOADED
            notes[row] = "the backlog of these rows together grows"

    out = table.copy()
    out.insert(0, "scenario", scenario_name)
    out["replications"] = reps
    out["verdict"] = verdicts
    out["arrivals_per_day"] = per_day
    out["backlog_end"] = backlog
    out["backlog_end_ci95"] = backlog_half
    out["growth_per_day"] = growth
    out["growth_per_day_ci95"] = growth_half
    out["unfinished"] = unfinished
    if finished is not None:
        out = out.merge(finished[[*KEYS, "wait_mean_min", "wait_p95_min"]], on=KEYS, how="left")
    else:
        out["wait_mean_min"] = math.nan
        out["wait_p95_min"] = math.nan
    out["wait_mean_lb_min"] = lb_mean
    out["wait_mean_lb_min_ci95"] = lb_half
    out["wait_p95_lb_min"] = lb_p95
    out["blocked_share"] = share
    out["note"] = notes
    return out[OVERLOAD_COLUMNS]


def _pool_figures(pools: Sequence[pd.DataFrame], n: int) -> tuple[np.ndarray, np.ndarray]:
    """Each pool's mean utilization, and whether the stages table calls it overloaded (as ``summarize_pools`` does)."""
    if not pools or n == 0:
        return np.full(n, np.nan), np.zeros(n, dtype=bool)
    utilization = mean_and_halfwidth(np.stack([p["utilization"].to_numpy(dtype=float) for p in pools]))[0]
    load = mean_and_halfwidth(np.stack([p["load"].to_numpy(dtype=float) for p in pools]))[0]
    growing = np.mean([(p["queue_end"] > p["queue_mid"]).to_numpy() for p in pools], axis=0) > 0.5
    return utilization, (load >= 1.0) & growing


def _pool_name(model: Model, i: int) -> str:
    p = model.pools[i]
    return f"side {p.side} {p.stage}" + (f" ({p.pool})" if p.pool not in ("all", "default") else "")


def _group_verdict(
    model: Model,
    pools: set[int],
    grows: bool,
    share: float,
    before: set[int],
    after: set[int],
    zoned: bool,
    pool_growth: np.ndarray,
    utilization: np.ndarray,
) -> tuple[str, str]:
    """A crossing x direction x flow's verdict, and the pool its queue grows at."""
    if not grows:
        return STABLE, ""
    mine = sorted(pools)
    worst = max(mine, key=lambda i: pool_growth[i]) if mine else None
    where = "" if worst is None else f"queue grows at {_pool_name(model, worst)}: {pool_growth[worst]:+.1f} a day"
    if not zoned or not before or not after or not (share >= BLOCKED_SHARE):
        return OVERLOADED, where
    up = max(pool_growth[i] for i in before)
    down = max(pool_growth[i] for i in after)
    if not up > down:
        return OVERLOADED, where
    past = sorted(after)
    bottleneck = max(past, key=lambda i: -np.inf if np.isnan(utilization[i]) else utilization[i])
    busy = f", utilization {utilization[bottleneck]:.2f}" if not np.isnan(utilization[bottleneck]) else ""
    return CAPPED, (
        f"neutral zone full: the exit side's booths were held by blocked vehicles {share:.0%} of their busy time; "
        f"{where}, before the zone; the bottleneck is past it ({_pool_name(model, bottleneck)}{busy})"
    )


def overloaded_rows(overload: pd.DataFrame) -> pd.DataFrame:
    """The crossing x direction x flow rows whose queue grows without bound, fastest growth first."""
    rows = overload[(overload["crossing"] != ALL) & (overload["direction"] != ALL) & (overload["flow"] != ALL)]
    rows = rows[rows["verdict"].astype(str) != STABLE]
    return rows.sort_values("growth_per_day", ascending=False, kind="stable")


def _n(value: float, digits: int = 0) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:,.{digits}f}"


def verdict_sentence(overload: pd.DataFrame, directions: dict[str, str] | None = None) -> tuple[bool, str]:
    """(stable, the verdict in one sentence) for a run's ``overload.csv``.

    ``directions`` names each direction for a reader (``a_to_b`` → "Kazakhstan → Russia");
    without it the sentence keeps the identifiers, as the command line prints them.
    """
    rows = overloaded_rows(overload)
    if rows.empty:
        return True, "Stable: every queue cleared (no backlog grows over the run)."
    w = rows.iloc[0]
    capped = " (capped upstream: a full neutral zone holds the queue before it)" if w["verdict"] == CAPPED else ""
    queues = "queue grows" if len(rows) == 1 else "queues grow"
    if w["wait_mean_lb_min"] > w["wait_mean_min"]:
        waits = (
            f"mean waits over finished travellers ({_n(w['wait_mean_min'], 1)} min) understate the wait, leaving "
            f"out the {_n(w['unfinished'])} still inside; counting them, the mean is at least "
            f"{_n(w['wait_mean_lb_min'], 1)} min (p95 at least {_n(w['wait_p95_lb_min'], 1)} min)."
        )
    else:
        # the bound counts those inside only at the wait they have had so far: here it is weaker than
        # the finished mean, which is then no measure of what the queue will cost the ones inside
        waits = (
            f"mean waits over finished travellers ({_n(w['wait_mean_min'], 1)} min) leave out the "
            f"{_n(w['unfinished'])} still inside, whose waits are not over; the mean grows with the run's length "
            f"(counting them at their waits so far: at least {_n(w['wait_mean_lb_min'], 1)} min, p95 at least "
            f"{_n(w['wait_p95_lb_min'], 1)} min)."
        )
    return False, (
        f"Overloaded: {len(rows)} {queues} without bound — worst: crossing {w['crossing']}, "
        f"{(directions or {}).get(str(w['direction']), w['direction'])}, "
        f"{w['flow']}: backlog {_n(w['backlog_end'])} at the end, growing {_n(w['growth_per_day'], 1)} a day"
        f"{capped}; {waits}"
    )


def warning_line(name: str, overload: pd.DataFrame | None) -> str | None:
    """The one line a command prints on stderr for an overloaded scenario; None when it is stable."""
    if overload is None:
        return None
    stable, sentence = verdict_sentence(overload)
    return None if stable else f"warning: {name}: {sentence[0].lower()}{sentence[1:]}"


def overloaded_keys(overload: pd.DataFrame) -> set[tuple[str, str, str]]:
    """(crossing, direction, flow) of every row, totals included, that is not stable."""
    bad = overload[overload["verdict"].astype(str) != STABLE]
    return {(str(c), str(d), str(f)) for c, d, f in zip(bad["crossing"], bad["direction"], bad["flow"], strict=True)}
