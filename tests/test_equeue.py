"""The electronic queue validated: exact runs, the slotted M/D/c queue, quotas, conservation, pieces.

Each check reads the raw rows a run logs (``BOOKING_COLUMNS``, ``SLOT_COLUMNS``,
``AREA_COLUMNS``, the traveller and visit rows) and compares them with what the documented
semantics of ``sim.policies.equeue`` imply, or with an independent computation: the backlog
of a live queue at slot times is the number in system of an M/D/c queue at multiples of D
(Crommelin), whose stationary distribution is computed here by iteration.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import sim
from sim.engine.core import Engine
from sim.engine.recorder import AREA_COLUMNS, BOOKING_COLUMNS, SLOT_COLUMNS, Recorder
from sim.model.compile import compile_model
from sim.policies.equeue import BY_HOLDER, BY_OTHER, UNUSED
from sim.policies.slots import BOOKED
from tests.conftest import KeepChunks, chunk_table, one_crossing

FLAT = [1.0] * 24


# -- running the engine and reading its rows -------------------------------------------------------
@dataclass
class Run:
    engine: Engine
    model: Any
    bookings: pd.DataFrame
    slots: pd.DataFrame
    area: pd.DataFrame
    travellers: pd.DataFrame
    visits: pd.DataFrame


def simulate(data: dict[str, Any] | None = None, replication: int = 0, model: Any = None, piece: Any = None) -> Run:
    if model is None:
        model = compile_model(sim.scenario_from_dict(copy.deepcopy(data)))
    keep = KeepChunks()
    engine = Engine(model, replication, Recorder(replication, [keep]), piece=piece)
    chunks = engine.run()[0]
    cat = np.concatenate
    travellers = pd.DataFrame(
        {
            "tid": cat([ch.tid for ch in chunks]),
            "source": cat([ch.source for ch in chunks]),
            "arrival": cat([ch.arrival for ch in chunks]),
            "release": cat([ch.release for ch in chunks]),
            "service": cat([ch.service for ch in chunks]),
            "wait": cat([ch.wait() for ch in chunks]),
        }
    )
    visits = pd.DataFrame(
        {
            "pool": cat([ch.visit_pool for ch in chunks]),
            "tid": cat([ch.visit_tid for ch in chunks]),
            "enter": cat([ch.visit_enter for ch in chunks]),
            "start": cat([ch.visit_start for ch in chunks]),
            "end": cat([ch.visit_end for ch in chunks]),
            "leave": cat([ch.visit_leave for ch in chunks]),
        }
    )
    return Run(
        engine,
        model,
        chunk_table(chunks, "bookings", BOOKING_COLUMNS),
        chunk_table(chunks, "slots", SLOT_COLUMNS),
        chunk_table(chunks, "area", AREA_COLUMNS),
        travellers,
        visits,
    )


def border(
    daily: float = 150.0,
    service: Any = 7.5,
    booths: Any = 1,
    horizon: str = "3 d",
    equeue: dict[str, Any] | None = None,
    **crossing: Any,
) -> dict[str, Any]:
    """One crossing, one booth stage on the exit side, homogeneous Poisson trucks, maybe an e-queue."""
    data = one_crossing(
        stages={"check": {"per_vehicle": service}},
        regime={"exit": ["check"]},
        servers_a={"check": booths},
        demand=[{"crossing": "x", "flow": "truck", "direction": "a_to_b", "daily": daily, "hourly": FLAT}],
        **crossing,
    )
    data["horizon"] = horizon
    if equeue is not None:
        data["equeues"] = [{"crossings": ["x"], "flows": ["truck"], **equeue}]
    return data


def uniform(low: float, high: float) -> dict[str, Any]:
    return {"dist": "uniform", "low": low, "high": high}


def physical_wait(b: pd.DataFrame) -> pd.Series:
    return b["release"] - b["at_post"] - b["service"]


def assert_holders_called(run: Run, least: int) -> None:
    """Whoever held a slot before the end and was at the border before the end was called, by its slot."""
    b = run.bookings
    end = np.maximum(b["slot"], b["at_border"])
    due = b[(b["beyond"] == 0) & b["slot"].notna() & b["at_border"].notna() & (end < run.model.horizon)]
    assert len(due) >= least
    stranded = due[due["called"].isna()]
    assert stranded.empty, stranded.head().to_dict("records")
    assert (due["called"] <= np.maximum(due["slot"], due["at_border"])).all()


def slots_at(plan: Any) -> pd.Series:
    """Slots offered at each slot time of a plan."""
    return pd.Series(plan.slot_times).value_counts().sort_index()


# -- 1. slots matching the service: no physical wait at all ----------------------------------------
EXACT = {
    "slots": {"per_hour": 8},
    "no_show": 0.0,
    "arrival": {"before": 0, "late_share": 0.0},
    "call_up": 0,
}


def test_slots_as_long_as_the_service_leave_no_physical_wait():
    run = simulate(border(daily=150, service=7.5, equeue=EXACT))
    b = run.bookings
    assert len(b) > 400
    assert (b["walk_in"] == 0).all()
    assert (b["late"] == 0).all()
    done = b[b["release"].notna()]
    assert_holders_called(run, least=400)
    # everyone whose slot came before the last hour was served
    assert b.loc[b["slot"] < run.model.horizon - 60, "release"].notna().all()
    np.testing.assert_allclose(physical_wait(done), 0.0, atol=1e-9)
    v = run.visits[run.visits["start"].notna()]
    assert len(v) >= len(done)
    np.testing.assert_allclose(v["start"] - v["enter"], 0.0, atol=1e-9)
    # the traveller table's wait is the whole delay from the wanted time: virtual, border, drive, physical
    t = run.travellers.set_index("tid").loc[done["tid"].astype(int)]
    np.testing.assert_allclose(t["wait"].to_numpy(), (done["at_post"] - done["desired"]).to_numpy(), atol=1e-9)
    # there was something to wait for: bookers did wait, virtually
    assert (b["at_border"] - b["desired"]).mean() > 5


def test_without_the_equeue_the_same_demand_queues_at_the_booth():
    run = simulate(border(daily=150, service=7.5))
    assert run.bookings.empty
    t = run.travellers[run.travellers["release"].notna()]
    assert len(t) > 400
    assert (t["wait"] > 1e-9).mean() > 0.5
    assert t["wait"].mean() > 5
    v = run.visits[run.visits["start"].notna()]
    assert (v["start"] - v["enter"]).max() > 30


# -- 2. the live queue is a slotted M/D/c queue ------------------------------------------------------
def backlog_chain(mu: float, c: int, size: int = 400) -> np.ndarray:
    """Stationary distribution of B' = max(B - c, 0) + A, A ~ Poisson(mu), by iteration (truncated)."""
    pmf = stats.poisson.pmf(np.arange(size), mu)
    step = np.zeros((size, size))
    for i in range(size):
        base = max(i - c, 0)
        step[i, base:] = pmf[: size - base]
    pi = np.zeros(size)
    pi[0] = 1.0
    for _ in range(100_000):
        new = pi @ step
        new /= new.sum()
        if np.abs(new - pi).max() < 1e-15:
            break
        pi = new
    else:  # pragma: no cover - the chain converges geometrically for rho < 1
        raise AssertionError("the backlog chain did not converge")
    assert new[-50:].sum() < 1e-12  # the truncation is harmless
    return new


def slotted_wait(mu: float, c: int, d: float, pi: np.ndarray) -> float:
    """Exact mean wait of a live queue with c slots every d minutes, from the backlog's distribution.

    A booking u*d after a slot time (u uniform) has Y + A_u bookings ahead, Y = max(B - c, 0)
    those not served at that slot time and A_u ~ Poisson(mu * u) those booked since; the
    slots ahead are filled in order from the next slot time, so it gets the one
    floor((Y + A_u) / c) slot times after it, and waits d (1 - u) + d floor((Y + A_u) / c).
    P(A_u = j) = integral over u of Poisson(j; mu u) = P(Poisson(mu) > j) / mu.
    """
    size = len(pi)
    y = np.zeros(size)
    np.add.at(y, np.maximum(np.arange(size) - c, 0), pi)
    a_u = stats.poisson.sf(np.arange(size), mu) / mu
    ahead = np.convolve(y, a_u)[:size]
    return d / 2 + d * float(np.sum(ahead * (np.arange(size) // c)))


def batch_means(series: list[np.ndarray], batches: int, level: float = 0.99) -> tuple[float, float, int]:
    """Mean of the batch means (each replication's series cut in ``batches`` parts) and its CI half-width."""
    means = [part.mean() for s in series for part in np.array_split(s, batches)]
    k = len(means)
    sd = float(np.std(means, ddof=1))
    return float(np.mean(means)), stats.t.ppf((1 + level) / 2, k - 1) * sd / math.sqrt(k), k


def live_queue(c: int, d: float, rho: float, days: int, replications: int) -> dict[str, Any]:
    """Simulated and exact virtual wait and backlog of a live queue with c slots every d minutes."""
    lam = rho * c / d
    data = border(
        daily=lam * 1440,
        service=d / 2,
        booths=c,
        horizon=f"{days} d",
        equeue={"slots": {"per_hour": round(60 * c / d), "together": c}, "booking": {"lead": 0}},
    )
    model = compile_model(sim.scenario_from_dict(data))
    warm = 1440.0
    ticks = np.arange(math.ceil(warm / d), math.ceil(model.horizon / d)) * d
    assert set(ticks) <= set(model.equeues[0].slot_times)
    waits, backlog = [], []
    for r in range(replications):
        b = simulate(model=model, replication=r).bookings.sort_values("booked")
        booked = b["booked"].to_numpy()
        # each booking's slot is the first free one: FIFO positions, c a slot time (an independent recursion)
        position = np.ceil(booked / d).astype(np.int64) * c - np.arange(len(b))
        position = np.maximum.accumulate(position) + np.arange(len(b))
        np.testing.assert_array_equal(b["slot"].to_numpy(), (position // c) * d)
        virtual = (b["slot"] - b["desired"]).to_numpy()
        there = b["at_border"].notna().to_numpy()  # those whose slot came before the end
        assert there.mean() > 0.99
        np.testing.assert_array_equal(virtual[there], (b["at_border"] - b["desired"]).to_numpy()[there])  # before 0
        waits.append(virtual[booked >= warm])
        # bookings made before each slot time whose slot is at or after it (a slot is never before its booking)
        made = np.searchsorted(booked, ticks, side="left")
        served = np.searchsorted(np.sort(b["slot"].to_numpy()), ticks, side="left")
        backlog.append(made - served)
    pi = backlog_chain(lam * d, c)
    weeks = (days - 1) // 7  # a batch a week after the first day
    return {
        "wait": batch_means(waits, weeks),
        "backlog": batch_means(backlog, weeks),
        "idle": batch_means([(x == 0).astype(float) for x in backlog], weeks),
        "exact_wait": slotted_wait(lam * d, c, d, pi),
        "exact_backlog": float(pi @ np.arange(len(pi))),
        "exact_idle": float(pi[0]),
        "pi": pi,
    }


def test_the_backlog_chain_is_the_md1_queue():
    """The recursion's stationary law and the exact wait agree with Pollaczek-Khinchine for c = 1."""
    d, rho = 7.5, 0.8
    pi = backlog_chain(rho, 1)
    assert pi[0] == pytest.approx(1 - rho, abs=1e-10)
    assert pi @ np.arange(len(pi)) == pytest.approx(rho + rho**2 / (2 * (1 - rho)), abs=1e-9)  # L of M/D/1
    w_q = rho * d / (2 * (1 - rho))
    assert slotted_wait(rho, 1, d, pi) == pytest.approx(w_q + d / 2, abs=1e-9)
    # c slots a time: the chain keeps the slots busy at the offered load, and the wait is shorter
    pi3 = backlog_chain(3 * rho, 3)
    assert pi3 @ np.minimum(np.arange(len(pi3)), 3) == pytest.approx(3 * rho, abs=1e-9)
    assert slotted_wait(3 * rho, 3, d, pi3) < slotted_wait(rho, 1, d, pi)


def _check_live_queue(c: int, days: int, replications: int) -> None:
    got = live_queue(c, 7.5, 0.8, days, replications)
    mean, half, k = got["wait"]
    assert k >= 7 * replications
    assert abs(mean - got["exact_wait"]) <= half, (mean, half, got["exact_wait"])
    assert half < 0.1 * got["exact_wait"]  # a test that can fail: the interval is narrow
    mean, half, _ = got["backlog"]
    assert abs(mean - got["exact_backlog"]) <= half, (mean, half, got["exact_backlog"])
    mean, half, _ = got["idle"]
    assert abs(mean - got["exact_idle"]) <= half, (mean, half, got["exact_idle"])
    if c == 1:
        assert got["exact_wait"] == pytest.approx(0.8 * 7.5 / (2 * 0.2) + 7.5 / 2, abs=1e-9)


@pytest.mark.parametrize("c", [1, 3])
def test_live_queue_waits_as_the_slotted_md_c_queue(c):
    _check_live_queue(c, days=50, replications=8)


@pytest.mark.slow
@pytest.mark.parametrize("c", [1, 3])
def test_live_queue_waits_as_the_slotted_md_c_queue_long(c):
    _check_live_queue(c, days=99, replications=10)


# -- 3. priority quotas ----------------------------------------------------------------------------
CLASSES = [
    {"name": "out_of_turn", "quota": 0.05, "demand": 0.2},
    {"name": "fast_track", "quota": 0.01, "demand": 0.05},
]


@pytest.mark.parametrize("interleave", ["spread", "ahead"])
@pytest.mark.parametrize("release_before", [0, 60])
def test_priority_quotas_are_never_exceeded(interleave, release_before):
    data = border(
        daily=182,
        horizon="8 d",
        equeue={
            "slots": {"per_hour": 8},
            "priority": {"classes": CLASSES, "interleave": interleave, "release_before": release_before},
        },
    )
    run = simulate(data)
    plan = run.model.equeues[0]
    day = (plan.slot_times // 1440).astype(int)
    per_day = np.bincount(day)
    for k, cls in enumerate(CLASSES, start=1):
        reserved = np.bincount(day[plan.slot_class == k], minlength=len(per_day))
        np.testing.assert_array_equal(reserved, np.floor(cls["quota"] * per_day + 1e-9).astype(int))
        assert reserved[0] == math.floor(cls["quota"] * 192)
    for d in range(len(per_day) - 1):  # where in each whole day the reserved slots are
        classes = plan.slot_class[day == d]
        first, second = np.flatnonzero(classes == 1), np.flatnonzero(classes == 2)
        if interleave == "ahead":
            np.testing.assert_array_equal(first, np.arange(9))
            np.testing.assert_array_equal(second, [9])
        else:
            gaps = np.diff(first)
            assert gaps.max() - gaps.min() <= 1  # evenly through the day
            assert first[0] < 192 / 9 <= first[0] + gaps.max()
            assert 0 < second[0] < 191
    b = run.bookings
    cls_at = dict(zip(plan.slot_times.tolist(), plan.slot_class.tolist(), strict=True))  # one slot a time
    own = b[b["priority_slot"] == 1]
    assert (own["cls"] > 0).all()
    assert (own["slot"].map(cls_at) == own["cls"]).all()
    assert (own["called"] == own["slot"]).all()
    for k, cls in enumerate(CLASSES, start=1):
        used = own[own["cls"] == k].groupby(own["slot"] // 1440).size()
        assert not used.empty
        limit = np.floor(cls["quota"] * np.bincount(day) + 1e-9)
        assert (used.to_numpy() <= limit[used.index.astype(int)]).all()
    # under load the priority classes wait less, virtually
    virtual = (b["at_border"] - b["desired"]).groupby(b["cls"]).mean()
    assert virtual[0] > 30
    assert virtual[1] <= virtual[0]
    assert virtual[2] <= virtual[0]


# -- 4. nobody lost, nobody served twice -------------------------------------------------------------
def messy(rule: str, fill_unused: bool, area: int = 3, horizon: str = "3 d") -> dict[str, Any]:
    return border(
        daily=200,
        service=uniform(3, 7),
        horizon=horizon,
        equeue={
            "slots": {"per_hour": 10},
            "booking": {"lead": uniform(0, 240)},
            "arrival": {
                "before": uniform(0, 90),
                "late_share": 0.15,
                "late": uniform(0, 40),
                "earliest": 60,
                "latest": 20,
            },
            "no_show": 0.1,
            "walk_in": {"share": 0.15, "rule": rule},
            "area": {"capacity": area},
            "call_up": uniform(1, 5),
            "fill_unused": fill_unused,
        },
    )


RULES = ["refused", "next_slot", "standby"]


@pytest.mark.parametrize("fill_unused", [True, False])
@pytest.mark.parametrize("rule", RULES)
def test_nobody_is_lost_or_served_twice(rule, fill_unused):
    run = simulate(messy(rule, fill_unused))
    engine, plan, horizon = run.engine, run.model.equeues[0], run.model.horizon
    b, s, t = run.bookings, run.slots, run.travellers
    assert engine.arrived == engine.released + len(engine.alive)
    assert engine.arrived == len(t) > 500
    assert t["tid"].is_unique
    assert b["tid"].is_unique
    beyond = b[b["beyond"] == 1]
    held = b[b["beyond"] == 0]
    assert len(beyond) > 0  # booked ahead for after the end: never arrived in the run
    assert set(held["tid"]) == set(t["tid"])  # one booking row per held traveller (all are held)
    assert not set(beyond["tid"]) & set(t["tid"])
    assert sorted(t["tid"].tolist() + beyond["tid"].tolist()) == list(range(len(t) + len(beyond)))
    assert (beyond["desired"] >= horizon).all()
    assert (held["desired"] < horizon).all()
    v = run.visits
    assert v["tid"].is_unique
    assert set(v["tid"]) <= set(t["tid"])
    assert set(t.loc[t["release"].notna(), "tid"]) <= set(v["tid"])

    # slots: each slot time before the end logged once per slot, never used more than offered
    offered = slots_at(plan)
    logged = s.groupby("time").size()
    offered_before = offered[offered.index < horizon]
    pd.testing.assert_series_equal(logged, offered_before, check_names=False, check_index_type=False)
    used = s[s["used"] != UNUSED].groupby("time").size()
    assert (used <= offered.reindex(used.index)).all()
    # one call per used slot, at most the slot time's slots called at that time
    assert b["called"].notna().sum() == (s["used"] != UNUSED).sum()
    at_ticks = b.loc[b["called"].isin(offered.index), "called"].value_counts()
    assert (at_ticks <= offered.reindex(at_ticks.index)).all()
    assert (s.loc[s["used"] == BY_HOLDER, "state"] == BOOKED).all()

    # the waiting area never holds more than its capacity, and it did fill
    assert run.area["area_max"].max() <= 3
    assert run.area["road_max"].max() > 0

    # times in order
    h = held
    assert (h["desired"] >= h["booked"]).all()
    assert (h["at_border"].dropna() >= h.loc[h["at_border"].notna(), "desired"]).all()
    called = h[h["called"].notna()]
    assert (called["called"] >= called["at_border"]).all()
    assert (called["at_post"] >= called["called"]).all()
    done = h[h["release"].notna()]
    assert (done["release"] >= done["at_post"]).all()
    assert (physical_wait(done) >= -1e-9).all()
    in_area = h[h["in_area"].notna()]
    assert (in_area["in_area"] >= in_area["at_border"]).all()
    assert (in_area["called"].fillna(np.inf) >= in_area["in_area"]).all()

    assert_holders_called(run, least=400)
    late = h[h["late"] == 1]
    assert len(late) > 0
    assert (late["lost"] == 1).any()
    if rule == "standby":
        assert h.loc[h["lost"] == 1, "slot"].isna().all()
    else:
        assert h.loc[h["lost"] == 1, "slot"].notna().all()


@pytest.mark.parametrize("rule", RULES)
def test_whole_minute_arrivals_on_the_slot_grid_are_all_called(rule):
    """Observed arrivals in whole minutes meet slot times exactly: booking or arriving at a slot's instant."""
    times = np.sort(np.random.default_rng(7).integers(0, 2 * 1440, 520)).astype(float)
    assert np.isin(times, np.arange(0, 2880, 10)).sum() > 30
    data = border(
        service=4,
        booths=2,
        horizon="2 d",
        equeue={
            "slots": {"per_hour": 12, "together": 2},
            "arrival": {"before": {"dist": "empirical", "values": [0, 10]}},
            "no_show": 0.1,
            "walk_in": {"share": 0.3, "rule": rule},
        },
    )
    data["demand"] = [{"crossing": "x", "flow": "truck", "direction": "a_to_b", "times": times.tolist()}]
    run = simulate(data)
    b, s = run.bookings, run.slots
    assert_holders_called(run, least=300)
    assert (b.loc[b["slot"].notna(), "slot"] >= b.loc[b["slot"].notna(), "booked"]).all()
    assert b["called"].notna().sum() == (s["used"] != UNUSED).sum()
    logged = s.groupby("time").size()
    offered = slots_at(run.model.equeues[0])
    pd.testing.assert_series_equal(
        logged, offered[offered.index < run.model.horizon], check_names=False, check_index_type=False
    )
    # unused slots are still filled at the end of the run (nobody blocks the filling)
    assert (s.loc[s["time"] > run.model.horizon - 360, "used"] == BY_OTHER).any()


# -- 5. walk-in rules --------------------------------------------------------------------------------
def walk_ins(rule: str, fill_unused: bool = True) -> Run:
    data = border(
        daily=170,
        service=uniform(3, 7),
        horizon="4 d",
        equeue={
            "slots": {"per_hour": 8},
            "arrival": {"before": 0},
            "no_show": 0.15,
            "walk_in": {"share": 0.2, "rule": rule},
            "area": {"capacity": 5},
            "fill_unused": fill_unused,
        },
    )
    return simulate(data)


def test_refused_walk_ins_come_back_for_their_slot():
    run = walk_ins("refused")
    assert_holders_called(run, least=400)
    b = run.bookings
    w = b[b["walk_in"] == 1]
    assert len(w) > 50
    assert (w["refused"] == 1).all()
    assert (b.loc[b["walk_in"] == 0, "refused"] == 0).all()
    assert (w["booked"] == w["desired"]).all()
    back = w[w["slot"] < run.model.horizon]  # the others are still away at the end
    assert len(back) > 0.9 * len(w)
    assert (back["at_border"] - back["desired"] > 0).all()  # they waited away, virtually
    assert (back["at_border"] == back["slot"]).all()  # back on time (before 0)
    assert (w["in_area"].isna() | (w["in_area"] >= w["slot"])).all()
    came = w[w["called"].notna()]
    assert (came["called"] >= came["slot"]).all()


def test_next_slot_walk_ins_wait_at_the_border():
    run = walk_ins("next_slot")
    assert_holders_called(run, least=400)
    b = run.bookings
    w = b[b["walk_in"] == 1]
    assert len(w) > 50
    assert (w["refused"] == 0).all()
    assert (w["at_border"] == w["desired"]).all()  # no virtual wait
    assert (w["at_border"] == w["booked"]).all()
    assert (w["slot"] > w["at_border"]).all()
    came = w[w["called"].notna()]
    assert (came["called"] > came["at_border"]).all()  # they waited at the border
    assert came["in_area"].notna().any()  # in the area ...
    assert (w["in_area"].isna() | (w["in_area"] >= w["at_border"])).all()
    assert (run.area["road_max"] > 0).any()  # ... or on the road when it was full


@pytest.mark.parametrize("fill_unused", [True, False])
def test_standby_walk_ins_take_only_unused_slots(fill_unused):
    run = walk_ins("standby", fill_unused)
    assert_holders_called(run, least=400)
    b, s = run.bookings, run.slots
    w = b[b["walk_in"] == 1]
    assert len(w) > 50
    assert w["slot"].isna().all()
    assert (w["refused"] == 0).all()
    assert (w["at_border"] == w["desired"]).all()
    came = w[w["called"].notna()]
    assert len(came) > 20
    by_other = s[s["used"] == BY_OTHER].groupby("time").size()
    unused_slots = s[s["state"] != BOOKED].groupby("time").size()
    per_time = came.groupby("called").size()
    assert set(per_time.index) <= set(by_other.index)
    assert (per_time <= by_other.reindex(per_time.index)).all()
    # a slot left unused is one never booked, a no-show's or one vacated (not a present holder's)
    assert (per_time <= unused_slots.reindex(per_time.index).fillna(0)).all()
    if not fill_unused:  # only standby walk-ins fill unused slots
        booked = b[(b["walk_in"] == 0) & b["called"].notna()]
        assert (booked["called"] == booked["slot"]).all()
        assert by_other.sum() == len(came)


# -- 6. pieces ---------------------------------------------------------------------------------------
def test_pieces_give_the_same_booking_rows():
    data = messy("next_slot", True)
    second = copy.deepcopy(data["crossings"][0])
    second["id"] = "y"
    data["crossings"].append(second)
    data["demand"].append({**data["demand"][0], "crossing": "y", "daily": 150})
    data["equeues"][0]["crossings"] = ["x", "y"]
    model = compile_model(sim.scenario_from_dict(data))
    assert len(model.equeues) == 2
    whole = simulate(model=model)
    pieces = [simulate(model=model, piece=p) for p in model.pieces(2)]
    assert len(pieces) == 2

    def rows(runs: list[Run], name: str, key: list[str]) -> pd.DataFrame:
        df = pd.concat([getattr(r, name) for r in runs], ignore_index=True)
        return df.sort_values(key, kind="stable").reset_index(drop=True)

    got = rows(pieces, "bookings", ["tid"])
    want = rows([whole], "bookings", ["tid"])
    assert set(want["equeue"]) == {0, 1}
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    for name, key in (("slots", ["equeue", "time", "cls", "state", "used"]), ("area", ["equeue", "hour"])):
        pd.testing.assert_frame_equal(rows(pieces, name, key), rows([whole], name, key), check_exact=True)


# -- 7. paired luck ----------------------------------------------------------------------------------
def test_an_equeue_leaves_each_travellers_service_time_unchanged():
    service = {"dist": "lognormal", "mean": 6.0, "cv": 0.6}
    free = simulate(border(daily=170, service=service))
    held = simulate(border(daily=170, service=service, equeue={"slots": {"per_hour": 9}, "no_show": 0.1}))
    a = free.travellers[free.travellers["release"].notna()].set_index("tid")["service"]
    b = held.travellers[held.travellers["release"].notna()].set_index("tid")["service"]
    both = a.index.intersection(b.index)
    assert len(both) > 400
    assert a.loc[both].std() > 1
    # the same draw; the column is end - start on the clock, so it differs by the clock's rounding only
    np.testing.assert_allclose(a.loc[both].to_numpy(), b.loc[both].to_numpy(), rtol=0, atol=1e-9)
    rows = held.bookings.set_index("tid")
    np.testing.assert_array_equal(rows.loc[both, "service"].to_numpy(), b.loc[both].to_numpy())


# -- 8. slots from the booths ------------------------------------------------------------------------
SHIFTS = [1, 1, 1, 1, 1, 1, 2, 2, 3, 3, 3, 3, 2, 2, 3, 3, 3, 2, 2, 2, 1, 1, 1, 1]


def booth_minutes_by_minute(pool: Any, minutes: int) -> np.ndarray:
    """Booths on duty in each minute of the run, from the pool's capacity schedule."""
    on = np.full(minutes, float(pool.initial))
    for at, cap in zip(pool.change_times, pool.change_caps, strict=True):
        on[int(math.ceil(at)) :] = cap
        assert at == int(at)  # shifts and hours change on whole minutes
    return on


@pytest.mark.parametrize("hours", ["24h", "06:30-21:15"])
def test_slots_follow_the_booths_on_duty(hours):
    utilisation = 0.85
    data = border(
        daily=160,
        service={"dist": "gamma", "mean": 12.0, "cv": 0.5},
        booths=SHIFTS,
        horizon="3 d",
        equeue={"slots": {"per_hour": "booths", "utilisation": utilisation}},
        hours=hours,
    )
    model = compile_model(sim.scenario_from_dict(data))
    plan = model.equeues[0]
    (pool,) = [p for p in model.pools if p.stage == "check"]
    assert plan.slots_from == "a:check"
    run_hours = int(model.horizon // 60)
    on = booth_minutes_by_minute(pool, int(model.horizon))
    per_hour = on.reshape(run_hours, 60).sum(axis=1)
    # the schedule is the shift plan within the opening hours, every day
    open_minutes = np.full(24, 60.0)
    if hours != "24h":
        open_minutes[:6] = open_minutes[22:] = 0
        open_minutes[6], open_minutes[21] = 30, 15  # opens at 06:30, closes at 21:15
    np.testing.assert_array_equal(per_hour, np.tile(np.array(SHIFTS) * open_minutes, 3))
    # the timeline runs the booking horizon and two days past the end; there the last day repeats
    hours_total = int(math.ceil((model.horizon + plan.booking_horizon + 2 * 1440) / 60))
    minutes = np.concatenate((per_hour, np.resize(per_hour[-24:], hours_total - run_hours)))
    want_cum = np.floor(np.cumsum(minutes / 12.0 * utilisation) + 1e-9).astype(int)
    got = np.bincount((plan.slot_times // 60).astype(int), minlength=hours_total)
    assert len(got) == hours_total
    np.testing.assert_array_equal(np.cumsum(got), want_cum)
    assert got[minutes == 0].sum() == 0
    assert (got[minutes > 0] > 0).all()
    # evenly spaced within each hour
    for h in range(48):
        times = plan.slot_times[(plan.slot_times // 60) == h]
        if len(times):
            np.testing.assert_allclose(times - h * 60, np.arange(len(times)) * 60 / len(times))
    # the long-run rate is kept: a day's slots are a day's booth capacity times the utilisation
    assert abs(got[:24].sum() - per_hour[:24].sum() / 12.0 * utilisation) < 1
