"""Real-time shedding: spike trains on a simulated home, and the rules one by one."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custom_components.energy_collective.engine.dispatch import (
    Action,
    BatteryControl,
    Control,
    DispatchConfig,
    DispatchError,
    DispatchState,
    EVControl,
    HeatPumpControl,
    ManagedDevice,
    ShedRecord,
    decide,
    may_start,
    record_start,
)

T0 = datetime(2026, 1, 12, 17, 0, tzinfo=UTC)
LONG_AGO = T0 - timedelta(hours=1)
MIN = timedelta(minutes=1)
SEC = timedelta(seconds=1)


# ---------------------------------------------------------------------------------------------
# A simulated home whose devices follow the actions exactly
# ---------------------------------------------------------------------------------------------


@dataclass
class SimDevice:
    device: ManagedDevice
    toggles: list[tuple[datetime, bool]] = field(default_factory=list)

    @property
    def power(self) -> float:
        d = self.device
        c = d.control
        if isinstance(c, BatteryControl):
            return c.power_w
        if not d.on:
            return 0.0
        if isinstance(c, EVControl):
            return c.current_a * c.watts_per_a
        if isinstance(c, HeatPumpControl):
            return max(0.0, (d.rated_power_w or 0.0) + c.offset_k * c.watts_per_k)
        return d.rated_power_w or 0.0

    def snapshot(self) -> ManagedDevice:
        return replace(self.device, power_w=self.power)

    def set_on(self, on: bool, now: datetime) -> None:
        if on != self.device.on:
            self.device = replace(self.device, on=on, last_switch=now)
            self.toggles.append((now, on))

    def set_control(self, params: dict[str, float]) -> None:
        c = self.device.control
        if isinstance(c, EVControl) and "current_a" in params:
            c2: Control = replace(c, current_a=params["current_a"])
        elif isinstance(c, HeatPumpControl) and "setpoint_offset_k" in params:
            c2 = replace(c, offset_k=params["setpoint_offset_k"])
        elif isinstance(c, BatteryControl) and "battery_power_w" in params:
            c2 = replace(c, power_w=params["battery_power_w"])
        else:
            return
        self.device = replace(self.device, control=c2)


def make_home() -> dict[str, SimDevice]:
    ev = EVControl(current_a=16, min_a=6, max_a=16, step_a=1, watts_per_a=690)
    devices = [
        ManagedDevice("fridge", "critical", "interruptible", on=True, rated_power_w=300),
        ManagedDevice("medical", "high", "critical", on=True, rated_power_w=1200),
        ManagedDevice(
            "dishwasher",
            "low",
            "deferrable",
            on=True,
            rated_power_w=2000,
            uninterruptible=True,
            cycle_running=True,
        ),
        ManagedDevice("dryer", "medium", "deferrable", on=True, rated_power_w=2500),
        ManagedDevice(
            "ev",
            "medium",
            "controllable",
            on=True,
            control=ev,
            off_allowed=True,
            min_on=5 * MIN,
            min_off=5 * MIN,
        ),
        ManagedDevice(
            "heat_pump",
            "high",
            "controllable",
            on=True,
            rated_power_w=2000,
            control=HeatPumpControl(offset_k=0, max_offset_k=3, watts_per_k=400, step_k=0.5),
            min_off=2 * MIN,
        ),
        ManagedDevice(
            "battery",
            "high",
            "controllable",
            control=BatteryControl(power_w=0, max_discharge_w=3000),
        ),
        ManagedDevice(
            "pool",
            "low",
            "interruptible",
            on=True,
            rated_power_w=1200,
            min_on=10 * MIN,
            min_off=10 * MIN,
        ),
        ManagedDevice(
            "boiler",
            "medium",
            "interruptible",
            on=True,
            rated_power_w=3000,
            min_on=2 * MIN,
            min_off=5 * MIN,
        ),
    ]
    return {d.name: SimDevice(replace(d, last_switch=LONG_AGO if d.on else None)) for d in devices}


def grid_import(home: dict[str, SimDevice], base_w: float) -> float:
    return base_w + sum(s.power for s in home.values())


def apply(home: dict[str, SimDevice], actions: tuple[Action, ...], now: datetime) -> None:
    for a in actions:
        sim = home[a.device]
        if a.action in ("defer", "switch_off"):
            sim.set_on(False, now)
        elif a.action == "reduce_to":
            sim.set_control(dict(a.params))
        else:
            params = dict(a.params)
            if any(k in params for k in ("current_a", "setpoint_offset_k", "battery_power_w")):
                sim.set_control(params)
            else:
                sim.set_on(True, now)


def sheddable(devices: list[ManagedDevice], now: datetime) -> float:
    """What the rules may take now, computed independently of the engine."""
    total = 0.0
    for d in devices:
        if d.critical:
            continue
        may_switch = d.last_switch is None or now - d.last_switch >= d.min_on
        c = d.control
        if d.kind == "deferrable" and d.on and not (d.uninterruptible and d.cycle_running):
            total += d.power_w if may_switch else 0.0
        elif isinstance(c, EVControl) and d.on:
            kept = c.min_a * c.watts_per_a if c.current_a > c.min_a else d.power_w
            total += d.power_w - kept
            if d.off_allowed and may_switch:
                total += kept
        elif isinstance(c, HeatPumpControl):
            total += min(d.power_w, (c.offset_k + c.max_offset_k) * c.watts_per_k)
        elif isinstance(c, BatteryControl):
            total += c.power_w + c.max_discharge_w
        elif d.kind == "interruptible" and d.on and may_switch:
            total += d.power_w
    return total


ORIGINAL = make_home()
CONFIG = DispatchConfig(hysteresis_w=500, restore_hold=30 * SEC, max_high_power=3)
BASE_W = 500.0


spikes = st.lists(
    st.tuples(st.integers(1, 60), st.floats(0, 16000, allow_nan=False)), min_size=1, max_size=12
)


@settings(max_examples=60, deadline=None)
@given(train=spikes, limit=st.floats(24500, 32000, allow_nan=False))
def test_spike_train(train: list[tuple[int, float]], limit: float) -> None:
    """Under the limit after one reaction when possible; no critical touched; no flapping;
    everything restored after the train."""
    home = make_home()
    state = DispatchState()
    now = T0
    tick = 5 * SEC
    quiet = [(400, 0.0)]  # 400 ticks: long after every hold and minimum off-time
    for ticks, spike in [*train, *quiet]:
        for _ in range(ticks):
            devices = [s.snapshot() for s in home.values()]
            before = grid_import(home, BASE_W + spike)
            decision = decide(now, before, limit, devices, state, config=CONFIG)
            assert all(not home[a.device].device.critical for a in decision.actions)
            apply(home, decision.actions, now)
            after = grid_import(home, BASE_W + spike)
            assert after == pytest.approx(decision.estimated_import_w, abs=1e-6)
            if before > limit and before - sheddable(devices, now) <= limit:
                assert after <= limit + 1e-6
                assert decision.residual_w == 0
            if any(a.action == "restore" for a in decision.actions):
                assert after <= limit - CONFIG.hysteresis_w + 1e-6
            state = decision.state
            now += tick
    assert state.shed == ()
    for name, sim in home.items():
        assert sim.device.on == ORIGINAL[name].device.on, name
        assert sim.device.control == ORIGINAL[name].device.control, name
        last = ORIGINAL[name].device.last_switch
        for when, on in sim.toggles:
            if last is not None:
                hold = sim.device.min_off if on else sim.device.min_on
                assert when - last >= hold, (name, when, on)
            last = when
    for name in ("fridge", "medical", "dishwasher"):
        assert home[name].toggles == []


# ---------------------------------------------------------------------------------------------
# The rules one by one
# ---------------------------------------------------------------------------------------------


def devices_now(home: dict[str, SimDevice]) -> list[ManagedDevice]:
    return [s.snapshot() for s in home.values()]


def test_order_defer_reduce_switch_off() -> None:
    home = make_home()
    devices = devices_now(home)
    total = grid_import(home, BASE_W)  # 23 240 + 500
    decision = decide(T0, total, total - 9000, devices, config=CONFIG)
    kinds = [(a.device, a.action, a.reason) for a in decision.actions]
    assert kinds == [
        ("dryer", "defer", "over_limit_defer"),
        # EV 16 A -> 6 A (minimum): 6900 W
        ("ev", "reduce_to", "over_limit_reduce"),
    ]
    assert decision.actions[1].params == {"current_a": 6, "saved_w": 6900.0}
    assert decision.estimated_import_w <= total - 9000
    # a larger excess goes on to the heat pump, the battery, then switches off
    decision = decide(T0, total, total - 17000, devices, config=CONFIG)
    kinds = [(a.device, a.action) for a in decision.actions]
    assert kinds == [
        ("dryer", "defer"),
        ("ev", "reduce_to"),
        ("heat_pump", "reduce_to"),
        ("battery", "reduce_to"),
        ("pool", "switch_off"),
        ("ev", "switch_off"),
    ]
    # heat pump: 3 K x 400 W = 1200 W; battery: 3000 W; pool 1200 W; then the EV at 6 A: 4140 W
    assert decision.actions[2].params["setpoint_offset_k"] == -3
    assert decision.actions[3].params == {"battery_power_w": -3000, "saved_w": 3000}
    assert decision.residual_w == 0
    assert [r.device for r in decision.state.shed] == [
        "dryer",
        "ev",
        "heat_pump",
        "battery",
        "pool",
        "ev",
    ]


def test_reductions_go_no_further_than_needed() -> None:
    home = make_home()
    devices = [d for d in devices_now(home) if d.name in ("ev", "heat_pump", "battery")]
    decision = decide(T0, 20000, 19000, devices, config=CONFIG)
    # (11 040 - 1000) / 690 = 14.55 A -> 14 A saves 1380 W
    assert decision.actions == (
        Action("ev", "reduce_to", "over_limit_reduce", {"current_a": 14, "saved_w": 1380.0}),
    )
    hp_only = [d for d in devices if d.name == "heat_pump"]
    decision = decide(T0, 20000, 19500, hp_only, config=CONFIG)
    # 500 W at 400 W/K -> 1.25 K -> 1.5 K on 0.5 K steps
    assert decision.actions[0].params == {"setpoint_offset_k": -1.5, "saved_w": 600.0}
    battery = [d for d in devices if d.name == "battery"]
    decision = decide(T0, 20000, 19250, battery, config=CONFIG)
    assert decision.actions[0].params == {"battery_power_w": -750, "saved_w": 750}


def test_deepening_a_reduction_keeps_the_original_setting() -> None:
    home = make_home()
    ev = [s for s in devices_now(home) if s.name == "ev"]
    first = decide(T0, 20000, 19000, ev, config=CONFIG)
    apply(home, first.actions, T0)
    ev = [s for s in devices_now(home) if s.name == "ev"]
    second = decide(T0 + 5 * SEC, 20000, 18000, ev, first.state, config=CONFIG)
    # 14 A = 9660 W, 2000 W too much: (9660 - 2000) / 690 = 11.1 A -> 11 A
    assert second.actions[0].params["current_a"] == 11
    (record,) = second.state.shed
    assert record.original == {"current_a": 16}
    assert record.restore_w == pytest.approx(1380 + 3 * 690)


def test_nothing_left_reports_the_residual() -> None:
    fresh = T0 - 30 * SEC
    pool = ManagedDevice(
        "pool", "low", "interruptible", 1200, on=True, min_on=10 * MIN, last_switch=fresh
    )
    crit = ManagedDevice("oven", "critical", "interruptible", 3000, on=True)
    decision = decide(T0, 10000, 8000, [pool, crit], config=CONFIG)
    assert decision.actions == ()
    assert decision.residual_w == 2000
    assert decision.state.last_shed_at is None


def test_under_the_limit_and_nothing_shed_does_nothing() -> None:
    decision = decide(T0, 1000, 8000, devices_now(make_home()), config=CONFIG)
    assert decision.actions == ()
    assert decision.estimated_import_w == 1000
    assert decision.state.import_w == 1000
    assert decision.state.limit_w == 8000
    assert set(decision.state.high_power_on) == {"dryer", "ev", "boiler"}


def shed_pool_and_boiler() -> tuple[dict[str, SimDevice], DispatchState]:
    home = make_home()
    devices = [d for d in devices_now(home) if d.name in ("pool", "boiler")]
    decision = decide(T0, 10000, 6000, devices, config=CONFIG)
    assert [a.device for a in decision.actions] == ["pool", "boiler"]
    apply(home, decision.actions, T0)
    return home, decision.state


def test_restore_in_reverse_order_with_hysteresis_and_holds() -> None:
    home, state = shed_pool_and_boiler()
    devs = [home["pool"].snapshot(), home["boiler"].snapshot()]
    # restore hold: nothing 10 s later
    assert decide(T0 + 10 * SEC, 1000, 6000, devs, state, config=CONFIG).actions == ()
    # boiler's minimum off-time is 5 min: nothing before, and strict order keeps the pool waiting
    later = T0 + 4 * MIN
    assert decide(later, 1000, 6000, devs, state, config=CONFIG).actions == ()
    later = T0 + 5 * MIN
    # hysteresis: 2600 + 3000 > 6000 - 500
    assert decide(later, 2600, 6000, devs, state, config=CONFIG).actions == ()
    decision = decide(later, 2500, 6000, devs, state, config=CONFIG)
    assert [(a.device, a.action) for a in decision.actions] == [("boiler", "restore")]
    assert decision.actions[0].params == {"saved_w": -3000}
    assert [r.device for r in decision.state.shed] == ["pool"]
    # the pool waits for its 10 minutes off
    apply(home, decision.actions, later)
    devs = [home["pool"].snapshot(), home["boiler"].snapshot()]
    state = decision.state
    assert decide(T0 + 9 * MIN, 500, 6000, devs, state, config=CONFIG).actions == ()
    final = decide(T0 + 10 * MIN, 500, 6000, devs, state, config=CONFIG)
    assert [(a.device, a.action) for a in final.actions] == [("pool", "restore")]
    assert final.state.shed == ()


def test_restore_gives_back_the_original_setting() -> None:
    home = make_home()
    devs = [home["ev"].snapshot(), home["heat_pump"].snapshot()]
    state = decide(T0, 20000, 10000, devs, config=CONFIG).state
    decision = decide(T0 + 10 * MIN, 0, 25000, devs, state, config=CONFIG)
    # shed: EV 16 -> 6 A (6900 W), heat pump -3 K (1200 W), EV off (4140 W); back in reverse
    assert [(a.device, dict(a.params)) for a in decision.actions] == [
        ("ev", {"saved_w": -4140}),
        ("heat_pump", {"setpoint_offset_k": 0, "saved_w": -1200}),
        ("ev", {"current_a": 16, "saved_w": -6900}),
    ]


def test_restore_obeys_the_high_power_count() -> None:
    home, state = shed_pool_and_boiler()
    busy = [
        ManagedDevice("a", "high", "critical", 2500, on=True),
        ManagedDevice("b", "high", "critical", 2500, on=True),
    ]
    devs = [home["pool"].snapshot(), home["boiler"].snapshot(), *busy]
    config = replace(CONFIG, max_high_power=2)
    later = T0 + 20 * MIN
    assert decide(later, 0, 50000, devs, state, config=config).actions == ()
    devs = devs[:-1]
    decision = decide(later, 0, 50000, devs, state, config=config)
    assert [a.device for a in decision.actions] == ["boiler", "pool"]


def washer(name: str, **kw: object) -> ManagedDevice:
    return ManagedDevice(
        name,
        "low",
        "deferrable",
        rated_power_w=2000,
        uninterruptible=True,
        pending=True,
        **kw,  # type: ignore[arg-type]
    )


def test_pending_cycles_are_deferred_and_not_started_in_the_same_minute() -> None:
    devs = [washer("washer"), washer("dishwasher")]
    decision = decide(T0, 9000, 8000, devs, config=CONFIG)
    assert [(a.device, a.action) for a in decision.actions] == [
        ("dishwasher", "defer"),
        ("washer", "defer"),
    ]
    assert decision.residual_w == 1000
    state = decision.state
    assert not may_start(devs[0], T0, state, CONFIG)
    later = T0 + 2 * MIN
    first = decide(later, 1000, 8000, devs, state, config=CONFIG)
    assert [a.device for a in first.actions] == ["washer"]
    assert may_start(devs[1], later, first.state, CONFIG).reason == "shed"
    second = decide(later + 30 * SEC, 1000, 8000, devs, first.state, config=CONFIG)
    assert second.actions == ()
    third = decide(later + 61 * SEC, 1000, 8000, devs, first.state, config=CONFIG)
    assert [a.device for a in third.actions] == ["dishwasher"]


def test_uninterruptible_cycle_is_never_deferred_once_started() -> None:
    running = washer("washer", on=True, power_w=2000, cycle_running=True)
    decision = decide(T0, 9000, 8000, [running], config=CONFIG)
    assert decision.actions == ()
    # a deferral in force is dropped when the user starts the cycle anyway
    state = DispatchState(shed=(ShedRecord("washer", "defer", T0, 2000),))
    decision = decide(T0 + MIN, 1000, 8000, [running], state, config=CONFIG)
    assert decision.state.shed == ()


def test_records_dropped_on_user_override_and_missing_devices() -> None:
    home, state = shed_pool_and_boiler()
    pool = replace(home["pool"].snapshot(), on=True, last_switch=T0 + 10 * SEC)
    decision = decide(T0 + 20 * SEC, 9000, 8000, [pool, home["boiler"].snapshot()], state)
    assert [r.device for r in decision.state.shed] == ["boiler"]
    # the pool was switched back on 10 s ago: its minimum on-time protects it now
    assert decision.actions == ()
    assert decide(T0 + 20 * SEC, 0, 8000, [], state).state.shed == ()


def test_may_start() -> None:
    state = DispatchState(import_w=3000, limit_w=10000, high_power_on=("ev", "oven"))
    config = DispatchConfig(max_high_power=2)
    small = ManagedDevice("lamp", "low", "interruptible", rated_power_w=100)
    big = ManagedDevice("kettle", "low", "interruptible", rated_power_w=2200)
    assert may_start(small, T0, state, config)
    assert may_start(small, T0, state).reason == "allowed"
    assert may_start(big, T0, state, config).reason == "max_high_power"
    assert may_start(replace(big, name="ev"), T0, state, config)
    huge = ManagedDevice("sauna", "low", "interruptible", rated_power_w=6600)
    assert may_start(huge, T0, state, config).reason == "no_headroom"
    crit = ManagedDevice("pump", "critical", "interruptible", rated_power_w=9000)
    assert may_start(crit, T0, state, config).reason == "critical"
    off = replace(small, min_off=5 * MIN, last_switch=T0 - MIN)
    assert may_start(off, T0, state, config).reason == "min_off"
    assert may_start(off, T0 + 4 * MIN, state, config)
    cycle = washer("washer")
    started = record_start(state, "dishwasher", T0)
    assert may_start(cycle, T0 + 59 * SEC, started, config).reason == "cycle_same_minute"
    assert may_start(cycle, T0 + 60 * SEC, started, config)
    # old starts are forgotten
    again = record_start(started, "washer", T0 + 10 * MIN)
    assert again.cycle_starts == (("washer", T0 + 10 * MIN),)


def test_state_round_trip() -> None:
    home, state = shed_pool_and_boiler()
    state = decide(T0, 20000, 15000, [home["ev"].snapshot()], state).state
    state = record_start(state, "washer", T0)
    data = json.loads(json.dumps(state.to_dict()))
    assert DispatchState.from_dict(data) == state
    assert DispatchState.from_dict({}) == DispatchState()
    with pytest.raises(DispatchError, match="unknown shed action"):
        DispatchState.from_dict({"shed": [{**data["shed"][0], "action": "explode"}]})
    with pytest.raises(DispatchError, match="malformed"):
        DispatchState.from_dict({"shed": [{"device": "x"}]})
    with pytest.raises(DispatchError, match="without offset"):
        DispatchState.from_dict({"last_shed_at": "2026-01-01T00:00:00"})


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: EVControl(10, 18, 16), "min_a"),
        (lambda: EVControl(10, 6, 16, step_a=0), "step_a"),
        (lambda: HeatPumpControl(0, -1, 100), "max_offset_k"),
        (lambda: HeatPumpControl(0, 1, 100, step_k=0), "step_k"),
        (lambda: BatteryControl(0, -1), "max_discharge_w"),
        (lambda: ManagedDevice("x", "urgent", "interruptible"), "priority"),  # type: ignore[arg-type]
        (lambda: ManagedDevice("x", "low", "magic"), "kind"),  # type: ignore[arg-type]
        (lambda: ManagedDevice("x", "low", "interruptible", min_on=-MIN), "min_on"),
        (lambda: ManagedDevice("x", "low", "controllable"), "needs a control"),
        (lambda: DispatchConfig(hysteresis_w=-1), "hysteresis"),
        (lambda: DispatchConfig(max_high_power=0), "max_high_power"),
        (lambda: decide(T0, float("nan"), 1, []), "finite"),
        (
            lambda: decide(T0, 1, 1, [washer("a"), washer("a")]),
            "unique",
        ),
    ],
)
def test_invalid_input(build: object, message: str) -> None:
    with pytest.raises(DispatchError, match=message):
        build()  # type: ignore[operator]


def test_controls_with_nothing_left_are_skipped() -> None:
    ev_min = ManagedDevice("ev", "low", "controllable", 4140, on=True, control=EVControl(6, 6, 16))
    tapering = ManagedDevice(
        "ev2", "low", "controllable", 500, on=True, control=EVControl(16, 6, 16)
    )
    hp_max = ManagedDevice(
        "hp", "low", "controllable", 800, on=True, control=HeatPumpControl(-3, 3, 400)
    )
    empty = ManagedDevice("bat", "low", "controllable", control=BatteryControl(-3000, 3000))
    idle = ManagedDevice("dryer", "low", "deferrable", 0)
    assert idle.rated_w == 0
    devices = [ev_min, tapering, hp_max, empty, idle]
    decision = decide(T0, 9000, 8000, devices, config=CONFIG)
    assert decision.actions == ()
    assert decision.residual_w == 1000
