"""The open engine: its SimPy seam, stable streams, each traveller's luck, hooks, pieces and record levels."""

from __future__ import annotations

from collections import deque

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import simpy

import sim
from sim.engine import kernel
from sim.engine.core import Engine
from sim.engine.recorder import Recorder
from sim.engine.streams import identity, stream
from sim.model.compile import compile_model
from sim.policies.scheduled_capacity import ScheduledCapacity
from tests.conftest import one_crossing, run_dict

ROOT_SCENARIO = "scenarios/kz_ru_2011_customs_union.yaml"


# -- the SimPy seam --------------------------------------------------------------------------
def test_installed_simpy_is_one_the_engine_is_tested_with():
    assert simpy.__version__ in kernel.TESTED_SIMPY
    kernel.check_kernel()  # the micro-timeline of cheap events, timeouts and urgent events


def test_a_simpy_without_the_internals_is_refused_loudly(monkeypatch):
    class Changed(simpy.Environment):
        def __init__(self):
            super().__init__()
            del self._eid

    with pytest.raises(kernel.KernelMismatch, match="tested with SimPy"):
        kernel.check_kernel(Changed())


def test_a_simpy_that_orders_events_differently_is_refused(monkeypatch):
    def lifo_step(self):  # a release that popped the newest event first would reorder everything
        entry = self._queue.pop()
        self._now, _, _, event = entry
        callbacks, event.callbacks = event.callbacks, None
        for callback in callbacks:
            callback(event)

    monkeypatch.setattr(simpy.Environment, "step", lifo_step)
    with pytest.raises(kernel.KernelMismatch, match="processed the engine's events"):
        kernel.check_kernel()


# -- stable streams ----------------------------------------------------------------------------
def test_a_stream_is_named_not_numbered():
    a = stream(7, 0, "arrivals", "x", "a_to_b", "truck", "0", "0").random(5)
    # a new stream for a new feature changes nothing that exists
    stream(7, 0, "weather", "x").random(5)
    b = stream(7, 0, "arrivals", "x", "a_to_b", "truck", "0", "0").random(5)
    assert (a == b).all()
    assert not (a == stream(7, 1, "arrivals", "x", "a_to_b", "truck", "0", "0").random(5)).any()


def test_stream_identities_of_the_whole_border_never_collide():
    model = compile_model(sim.load_scenario(ROOT_SCENARIO))
    names = []
    for s in model.sources:
        for week in ("0", "51"):
            names.append(identity("arrivals", *s.key, week))
            names.append(identity("occupancy", *s.key, week))
            names += [identity("luck", *s.key, st.stage, st.role, "0", week) for st in s.steps]
    assert len(names) > 1000
    assert len(set(names)) == len(names)


def _tandem(mean: float, horizon: str = "2 d") -> dict:
    data = one_crossing(
        stages={"check": {"per_vehicle": {"dist": "exponential", "mean": f"{mean} min"}}},
        regime={"exit": ["check"]},
        servers_a={"check": 2},
        demand=[{"crossing": "x", "flow": "truck", "direction": "a_to_b", "daily": 500}],
    )
    data["horizon"] = horizon
    return data


def _services(result: sim.RunResult) -> pd.Series:
    v = result.visits.dropna(subset=["end_min"]).set_index(["replication", "traveller"]).sort_index()
    return v["end_min"] - v["start_min"]


def test_each_traveller_keeps_its_luck_when_the_service_distribution_changes():
    # the same uniform becomes the same quantile: twice the mean, each traveller's service exactly doubles
    one, two = run_dict(_tandem(1.0)), run_dict(_tandem(2.0))
    a, b = _services(one), _services(two)
    common = a.index.intersection(b.index)
    assert len(common) > 900
    np.testing.assert_allclose(b[common].to_numpy(), 2 * a[common].to_numpy(), rtol=1e-9)


def test_draws_do_not_depend_on_the_horizon():
    # weeks are drawn from their own streams: the first two weeks are the same in a 3-week run
    short, long = run_dict(_tandem(1.0, "14 d")), run_dict(_tandem(1.0, "21 d"))
    cols = ["traveller", "arrival_min", "persons"]
    s = short.records.sort_values("traveller")[cols].reset_index(drop=True)
    ll = long.records[long.records["arrival_min"] < 14 * 1440].sort_values("traveller")[cols].reset_index(drop=True)
    pd.testing.assert_frame_equal(s, ll)


# -- hooks ---------------------------------------------------------------------------------------
class _LastComeFirstServed:
    """A queue discipline plugged in from outside the engine."""

    def line(self, pool):
        return _Stack()


class _Stack(deque):
    def popleft(self):
        return self.pop()


class _Keep:
    def __init__(self):
        self.visits = []

    def add(self, chunk):
        self.visits.append(pd.DataFrame({"tid": chunk.visit_tid, "start": chunk.visit_start}))

    def finish(self, pools):
        return pd.concat(self.visits, ignore_index=True)


def _deterministic_one_server() -> sim.Scenario:
    data = one_crossing(
        stages={"check": {"per_vehicle": "10 min"}},
        regime={"exit": ["check"]},
        servers_a={"check": 1},
        demand=[{"crossing": "x", "flow": "truck", "direction": "a_to_b", "times": ["0 min", "1 min", "2 min"]}],
    )
    data["horizon"] = "1 h"
    return sim.scenario_from_dict(data)


@pytest.mark.parametrize(("queues", "order"), [(None, [0, 1, 2]), (_LastComeFirstServed(), [0, 2, 1])])
def test_a_queue_discipline_is_a_plug_in(queues, order):
    model = compile_model(_deterministic_one_server())
    engine = Engine(model, 0, Recorder(0, [_Keep()]), queues=queues)
    (visits,) = engine.run()
    served = visits.sort_values("start")["tid"].tolist()
    assert served == order  # travellers 0, 1, 2 of source 0
    assert visits.sort_values("start")["start"].tolist() == [0.0, 10.0, 20.0]


class _ClosedFirstHalfHour(ScheduledCapacity):
    """A capacity source plugged in from outside: the booth opens at 00:30."""

    def initial(self, pool):
        return 0

    def changes(self, model, piece):
        yield 30.0, [(i, 1) for i in piece.pools]


def test_a_capacity_source_is_a_plug_in():
    model = compile_model(_deterministic_one_server())
    engine = Engine(model, 0, Recorder(0, [_Keep()]), capacity=_ClosedFirstHalfHour())
    (visits,) = engine.run()
    assert sorted(visits["start"].dropna().tolist()) == [30.0, 40.0, 50.0]


class _HoldUntilHalfPast:
    """An admission plugged in from outside: holds arrivals until 00:30, then lets them go in order."""

    def bind(self, engine):
        self.engine = engine
        self.held = []
        kernel.call_at(engine.env, 30.0, self._open)

    def admit(self, traveller, now):
        if now >= 30.0:
            return True
        self.held.append(traveller)
        return False

    def _open(self, _event):
        for traveller in self.held:
            self.engine.release(traveller, 30.0)


def test_an_admission_is_a_plug_in():
    model = compile_model(_deterministic_one_server())
    engine = Engine(model, 0, Recorder(0, [_Keep()]), admission=_HoldUntilHalfPast())
    (visits,) = engine.run()
    assert visits.sort_values("start")["start"].tolist() == [30.0, 40.0, 50.0]
    assert visits.sort_values("start")["tid"].tolist() == [0, 1, 2]


# -- independent pieces ------------------------------------------------------------------------
def test_a_replication_split_into_pieces_gives_the_same_tables_to_the_last_digit():
    scenario = sim.load_scenario(ROOT_SCENARIO)
    whole = sim.run(scenario, replications=2, days=1, records="none")
    split = sim.run(scenario, replications=2, days=1, records="none", pieces=3, jobs=2)
    for name in ("summary", "stages", "replications"):
        pd.testing.assert_frame_equal(getattr(whole, name), getattr(split, name), check_exact=True, obj=name)


def test_pieces_are_whole_crossings_balanced_by_demand():
    model = compile_model(sim.load_scenario(ROOT_SCENARIO))
    pieces = model.pieces(4)
    assert len(pieces) == 4
    assert sorted(c for p in pieces for c in p.crossings) == sorted(model.crossings)
    assert sorted(i for p in pieces for i in p.sources) == list(range(len(model.sources)))
    load = [sum(model.sources[i].arrivals.expected for i in p.sources) for p in pieces]
    assert max(load) < 1.5 * min(load)


# -- record levels -------------------------------------------------------------------------------
@pytest.mark.parametrize("level", ["full", "travellers", "none"])
def test_records_kept_as_asked(level, tmp_path):
    result = run_dict(_tandem(1.0), records=level)
    out = result.write(tmp_path / "out", report=False)
    assert (out / "records.parquet").exists() == (level != "none")
    assert (out / "visits.parquet").exists() == (level == "full")
    assert not result.summary.empty
    if level == "none":
        with pytest.raises(AttributeError, match="records='none'"):
            _ = result.records
    else:
        schema = pq.read_schema(out / "records.parquet")
        assert str(schema.field("crossing").type).startswith("dictionary")
        assert len(pq.read_table(out / "records.parquet")) == len(result.records)
