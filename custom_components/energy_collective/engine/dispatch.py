"""Real-time shedding: keep the measured grid import under a limit within one reaction.

`decide` is a pure, deterministic function. The dispatcher agent calls it every few seconds
with the measured grid import, the limit that holds now (the main fuse, or a demand-response
cap when it is lower), the managed devices as they are now, and the `DispatchState` that the
previous call returned. It returns the actions to send (every one still passes
`engine/safety.check_command` in the agent) and the next state.

Algorithm
---------
Devices with priority ``critical`` or kind ``critical`` are never touched. Everything below
works on estimates: a device's measured power is what switching it off saves, an EV charger
saves ``power - new_current x W/A`` when its current goes down, and so on.

Shedding (measured import above the limit). The excess is ``import - limit``. The rules are
tried in this order and stop as soon as the estimated import is at or below the limit:

1. ``defer``: deferrable loads that are not in an uninterruptible cycle: running ones (saving
   their power) and ones about to start (``pending``, saving nothing now but kept from
   starting). Lowest priority first.
2. ``reduce_to``: controllable loads, lowest priority first, and within a priority EV chargers,
   then heat pumps, then batteries. An EV's current goes down in whole steps, no further than
   needed and not below its minimum; a heat pump's setpoint offset goes down in steps of
   ``step_k`` down to ``-max_offset_k``; a battery discharges more, by exactly what is missing,
   up to its maximum discharge.
3. ``switch_off``: interruptible loads (and controllable loads that allow it, at their reduced
   power) that are on, lowest priority first, then the largest first.

A switch (defer of a running load, switch-off) respects the device's minimum on-time: a device
that has been on for less than ``min_on`` is not a candidate. The reaction is therefore
sufficient whenever the candidates' total saving covers the excess; otherwise it takes all of
them and `Decision.residual_w` says what is left (the agent raises an alert).

Restoring (measured import at or below the limit). What was shed is kept in
`DispatchState.shed` in the order it was shed and restored in reverse order, one record at a
time and only while ``import + restored power <= limit - hysteresis`` holds for it. A record
is restored no earlier than ``restore_hold`` after the last shedding action, and no earlier
than the device's ``min_off`` after it was switched off, deferred or reduced. A restore that
starts a high-power device or an uninterruptible cycle also obeys the conflict rules below.
Restoring stops at the first record that may not be restored yet (strict reverse order).
Between the two thresholds nothing happens: that band is the hysteresis.

Conflict rules (`may_start`, also applied to restores):

- at most ``max_high_power`` devices drawing more than ``high_power_w`` at once;
- no two uninterruptible cycles start less than a minute apart (`record_start` registers a
  start the agent made itself).

Records of devices that left the device list, or whose state says the shedding no longer holds
(a deferred load that the user started anyway, an EV that was unplugged), are dropped without
an action.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Final, Literal, cast

Priority = Literal["critical", "high", "medium", "low"]
Kind = Literal["critical", "deferrable", "controllable", "interruptible"]
ActionType = Literal["defer", "reduce_to", "switch_off", "restore"]

PRIORITY_RANK: Final[dict[str, int]] = {"low": 0, "medium": 1, "high": 2, "critical": 3}
"""Shedding order: lower ranks are shed first."""

# Reason keys of actions and permissions (stable: they are translation keys in the agent).
REASON_DEFER: Final = "over_limit_defer"
REASON_REDUCE: Final = "over_limit_reduce"
REASON_SWITCH_OFF: Final = "over_limit_switch_off"
REASON_RESTORE: Final = "headroom_restore"
ALLOWED: Final = "allowed"
CRITICAL: Final = "critical"
SHED: Final = "shed"
MIN_OFF: Final = "min_off"
NO_HEADROOM: Final = "no_headroom"
MAX_HIGH_POWER: Final = "max_high_power"
CYCLE_SAME_MINUTE: Final = "cycle_same_minute"

_EPS_W: Final = 1e-6
_MINUTE: Final = timedelta(minutes=1)


class DispatchError(ValueError):
    """A managed device or a setting that cannot be used."""


@dataclass(frozen=True, slots=True)
class EVControl:
    """An EV charger's current: it charges at `current_a` (min..max in steps of `step_a`).

    `watts_per_a` is phases x voltage (690 W/A for three phases at 230 V).
    """

    current_a: float
    min_a: float
    max_a: float
    step_a: float = 1.0
    watts_per_a: float = 690.0

    def __post_init__(self) -> None:
        if not 0 <= self.min_a <= self.max_a:
            raise DispatchError("EV control: need 0 <= min_a <= max_a")
        if self.step_a <= 0 or self.watts_per_a <= 0:
            raise DispatchError("EV control: step_a and watts_per_a must be > 0")


@dataclass(frozen=True, slots=True)
class HeatPumpControl:
    """A heat pump's setpoint offset (K; 0 is the user's setpoint, negative is lower).

    `watts_per_k` estimates the electric power one kelvin lower saves right now.
    """

    offset_k: float
    max_offset_k: float
    watts_per_k: float
    step_k: float = 0.5

    def __post_init__(self) -> None:
        if self.max_offset_k < 0 or self.watts_per_k < 0:
            raise DispatchError("heat pump control: max_offset_k and watts_per_k must be >= 0")
        if self.step_k <= 0:
            raise DispatchError("heat pump control: step_k must be > 0")


@dataclass(frozen=True, slots=True)
class BatteryControl:
    """A battery's power setpoint (W, positive charging, negative discharging).

    `max_discharge_w` is what it may discharge now (0 when empty): the agent derives it from the
    state of charge and the inverter's limit.
    """

    power_w: float
    max_discharge_w: float

    def __post_init__(self) -> None:
        if self.max_discharge_w < 0:
            raise DispatchError("battery control: max_discharge_w must be >= 0")


Control = EVControl | HeatPumpControl | BatteryControl


@dataclass(frozen=True, slots=True)
class ManagedDevice:
    """A device the dispatcher may act on, as it is now.

    `power_w`: measured consumption (a battery's is in its control). `on`: drawing or
    enabled. `last_switch`: when it last went on or off (None: long ago). `rated_power_w`: what
    it draws when on (for a device that is off or about to start; default `power_w`).
    `cycle_running`: an uninterruptible cycle has started and is not finished. `pending`: a
    deferrable load about to start. `off_allowed`: a controllable load may also be switched off
    in the last rule.
    """

    name: str
    priority: Priority
    kind: Kind
    power_w: float = 0.0
    on: bool = False
    min_on: timedelta = timedelta(0)
    min_off: timedelta = timedelta(0)
    last_switch: datetime | None = None
    rated_power_w: float | None = None
    uninterruptible: bool = False
    cycle_running: bool = False
    pending: bool = False
    off_allowed: bool = False
    control: Control | None = None

    def __post_init__(self) -> None:
        if self.priority not in PRIORITY_RANK:
            raise DispatchError(f"{self.name}: unknown priority {self.priority!r}")
        if self.kind not in ("critical", "deferrable", "controllable", "interruptible"):
            raise DispatchError(f"{self.name}: unknown kind {self.kind!r}")
        if self.min_on < timedelta(0) or self.min_off < timedelta(0):
            raise DispatchError(f"{self.name}: min_on and min_off must be >= 0")
        if self.kind == "controllable" and self.control is None:
            raise DispatchError(f"{self.name}: a controllable device needs a control")

    @property
    def critical(self) -> bool:
        """Never touched."""
        return self.priority == "critical" or self.kind == "critical"

    @property
    def rated_w(self) -> float:
        """Power when on."""
        if self.rated_power_w is not None:
            return self.rated_power_w
        if isinstance(self.control, EVControl):
            return max(self.power_w, self.control.current_a * self.control.watts_per_a)
        return max(self.power_w, 0.0)


@dataclass(frozen=True, slots=True)
class DispatchConfig:
    """Settings of the shedding rules."""

    hysteresis_w: float = 500.0
    """Restore only while import + restored power stays this far below the limit."""
    restore_hold: timedelta = timedelta(seconds=60)
    """No restore until this long after the last shedding action."""
    max_high_power: int = 2
    """At most this many devices above `high_power_w` at once."""
    high_power_w: float = 2000.0

    def __post_init__(self) -> None:
        if self.hysteresis_w < 0:
            raise DispatchError("hysteresis_w must be >= 0")
        if self.max_high_power < 1:
            raise DispatchError("max_high_power must be >= 1")


@dataclass(frozen=True, slots=True)
class ShedRecord:
    """One shedding action that is still in force.

    `restore_w` is the import that restoring it adds back (estimate); `original` maps the
    setting to give back (``current_a``, ``setpoint_offset_k``, ``battery_power_w``), empty for
    a switch.
    """

    device: str
    action: ActionType
    at: datetime
    restore_w: float
    original: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DispatchState:
    """What the dispatcher remembers between reactions (JSON: `to_dict`/`from_dict`)."""

    shed: tuple[ShedRecord, ...] = ()
    """In the order shed; restored from the end."""
    cycle_starts: tuple[tuple[str, datetime], ...] = ()
    """Recent starts of uninterruptible cycles (the last few minutes)."""
    last_shed_at: datetime | None = None
    import_w: float | None = None
    """Import and limit of the last reaction (used by `may_start`)."""
    limit_w: float | None = None
    high_power_on: tuple[str, ...] = ()
    """Devices that drew more than the high-power threshold at the last reaction."""

    def is_shed(self, device: str) -> bool:
        """Whether some shedding of `device` is in force."""
        return any(r.device == device for r in self.shed)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "shed": [
                {
                    "device": r.device,
                    "action": r.action,
                    "at": r.at.isoformat(),
                    "restore_w": r.restore_w,
                    "original": dict(r.original),
                }
                for r in self.shed
            ],
            "cycle_starts": [[name, at.isoformat()] for name, at in self.cycle_starts],
            "last_shed_at": self.last_shed_at.isoformat() if self.last_shed_at else None,
            "import_w": self.import_w,
            "limit_w": self.limit_w,
            "high_power_on": list(self.high_power_on),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DispatchState:
        """Read `to_dict` output back. Raises DispatchError on malformed data."""
        try:
            records = []
            for r in data.get("shed") or ():
                action = str(r["action"])
                if action not in ("defer", "reduce_to", "switch_off"):
                    raise DispatchError(f"unknown shed action {action!r}")
                records.append(
                    ShedRecord(
                        device=str(r["device"]),
                        action=cast(ActionType, action),
                        at=_aware(r["at"]),
                        restore_w=float(r["restore_w"]),
                        original={str(k): float(v) for k, v in dict(r["original"]).items()},
                    )
                )
            starts = tuple((str(n), _aware(t)) for n, t in data.get("cycle_starts") or ())
            last = data.get("last_shed_at")
            imp = data.get("import_w")
            lim = data.get("limit_w")
            return cls(
                shed=tuple(records),
                cycle_starts=starts,
                last_shed_at=_aware(last) if last else None,
                import_w=float(imp) if imp is not None else None,
                limit_w=float(lim) if lim is not None else None,
                high_power_on=tuple(str(x) for x in data.get("high_power_on") or ()),
            )
        except DispatchError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise DispatchError(f"malformed dispatch state: {err}") from err


def _aware(text: Any) -> datetime:
    when = datetime.fromisoformat(str(text))
    if when.tzinfo is None:
        raise DispatchError(f"time without offset: {text!r}")
    return when


@dataclass(frozen=True, slots=True)
class Action:
    """One command: `device`, what to do, a machine-readable `reason` and its parameters.

    `params`: for ``reduce_to`` and ``restore`` the setting to apply (``current_a``,
    ``setpoint_offset_k`` or ``battery_power_w``; none for a switch); always ``saved_w``, the
    estimated change of import (negative for a restore).
    """

    device: str
    action: ActionType
    reason: str
    params: Mapping[str, float]


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer of one reaction."""

    actions: tuple[Action, ...]
    state: DispatchState
    estimated_import_w: float
    """The import expected once the actions took effect."""
    residual_w: float
    """How far above the limit the estimate stays (0 when the reaction suffices)."""


@dataclass(frozen=True, slots=True)
class Permission:
    """Whether a device may start now; `reason` is ``allowed`` or the rule that forbids it."""

    allowed: bool
    reason: str

    def __bool__(self) -> bool:
        return self.allowed


# ---------------------------------------------------------------------------------------------
# Conflict rules
# ---------------------------------------------------------------------------------------------


def may_start(
    device: ManagedDevice,
    now: datetime,
    state: DispatchState,
    config: DispatchConfig | None = None,
) -> Permission:
    """Whether `device` may start (or switch on) now.

    Uses the import, limit and high-power devices of the last reaction held in `state`. Checks,
    in order: critical devices always may; a shed device may not (``shed``); its minimum
    off-time (``min_off``); the headroom with hysteresis (``no_headroom``); the high-power
    count (``max_high_power``); an uninterruptible cycle that started less than a minute ago
    (``cycle_same_minute``).
    """
    config = config or DispatchConfig()
    if device.critical:
        return Permission(True, CRITICAL)
    if state.is_shed(device.name):
        return Permission(False, SHED)
    if (
        not device.on
        and device.last_switch is not None
        and now - device.last_switch < device.min_off
    ):
        return Permission(False, MIN_OFF)
    if (
        state.import_w is not None
        and state.limit_w is not None
        and state.import_w + device.rated_w > state.limit_w - config.hysteresis_w + _EPS_W
    ):
        return Permission(False, NO_HEADROOM)
    reason = _conflict(device, now, state.high_power_on, state.cycle_starts, config)
    return Permission(reason is None, reason or ALLOWED)


def _conflict(
    device: ManagedDevice,
    now: datetime,
    high_power_on: Sequence[str],
    cycle_starts: Sequence[tuple[str, datetime]],
    config: DispatchConfig,
) -> str | None:
    if device.rated_w > config.high_power_w:
        others = [n for n in high_power_on if n != device.name]
        if len(others) >= config.max_high_power:
            return MAX_HIGH_POWER
    if device.uninterruptible and any(
        name != device.name and abs(now - at) < _MINUTE for name, at in cycle_starts
    ):
        return CYCLE_SAME_MINUTE
    return None


def record_start(state: DispatchState, device: str, now: datetime) -> DispatchState:
    """`state` with an uninterruptible cycle of `device` started at `now`."""
    return replace(state, cycle_starts=(*_recent(state.cycle_starts, now), (device, now)))


def _recent(
    starts: Sequence[tuple[str, datetime]], now: datetime
) -> tuple[tuple[str, datetime], ...]:
    return tuple((n, t) for n, t in starts if now - t < 5 * _MINUTE)


# ---------------------------------------------------------------------------------------------
# The reaction
# ---------------------------------------------------------------------------------------------


def decide(
    now: datetime,
    import_w: float,
    limit_w: float,
    devices: Sequence[ManagedDevice],
    state: DispatchState | None = None,
    *,
    config: DispatchConfig | None = None,
) -> Decision:
    """One reaction to a measured grid import `import_w` (W) under `limit_w` (see module docs)."""
    if not math.isfinite(import_w) or not math.isfinite(limit_w):
        raise DispatchError("import_w and limit_w must be finite")
    config = config or DispatchConfig()
    state = state or DispatchState()
    by_name = {d.name: d for d in devices}
    if len(by_name) != len(devices):
        raise DispatchError("device names must be unique")
    shed = [r for r in state.shed if _still_holds(r, by_name.get(r.device))]
    high = tuple(d.name for d in devices if d.power_w > config.high_power_w)
    state = replace(
        state,
        shed=tuple(shed),
        cycle_starts=_recent(state.cycle_starts, now),
        import_w=import_w,
        limit_w=limit_w,
        high_power_on=high,
    )
    if import_w > limit_w + _EPS_W:
        return _shed(now, import_w, limit_w, devices, state)
    return _restore(now, import_w, limit_w, by_name, state, config=config)


def _still_holds(record: ShedRecord, device: ManagedDevice | None) -> bool:
    """Whether a shedding record still describes the device (else it is dropped)."""
    if device is None or device.critical:
        return False
    if record.action == "defer" and device.cycle_running and device.uninterruptible:
        return False
    if record.action == "reduce_to":
        return device.control is not None
    # a load we switched off (or deferred) that was switched on again afterwards: user override
    return not (device.on and device.last_switch is not None and device.last_switch > record.at)


@dataclass(slots=True)
class _Shedding:
    now: datetime
    estimate: float
    limit: float
    remaining: dict[str, float]
    actions: list[Action] = field(default_factory=list)
    records: list[ShedRecord] = field(default_factory=list)

    @property
    def excess(self) -> float:
        return self.estimate - self.limit

    def take(
        self, device: str, action: ActionType, reason: str, saved: float, params: dict[str, float]
    ) -> None:
        self.actions.append(Action(device, action, reason, {**params, "saved_w": saved}))
        self.estimate -= saved
        self.remaining[device] = max(0.0, self.remaining[device] - saved)


def _switchable(d: ManagedDevice, now: datetime) -> bool:
    """Whether `d` may be switched off now: it has been on for at least `min_on`."""
    return d.last_switch is None or now - d.last_switch >= d.min_on


def _shed(
    now: datetime,
    import_w: float,
    limit_w: float,
    devices: Sequence[ManagedDevice],
    state: DispatchState,
) -> Decision:
    work = _Shedding(now, import_w, limit_w, {d.name: max(d.power_w, 0.0) for d in devices})
    shed = list(state.shed)
    managed = [d for d in devices if not d.critical]

    def rank(d: ManagedDevice) -> tuple[int, str]:
        return PRIORITY_RANK[d.priority], d.name

    # 1. defer deferrable loads that are not in an uninterruptible cycle
    for d in sorted((d for d in managed if d.kind == "deferrable"), key=rank):
        if work.excess <= _EPS_W:
            break
        if d.uninterruptible and d.cycle_running:
            continue
        if any(r.device == d.name and r.action == "defer" for r in shed):
            continue
        running = d.on and d.power_w > 0
        if running and _switchable(d, now):
            saved = work.remaining[d.name]
            work.take(d.name, "defer", REASON_DEFER, saved, {})
            shed.append(ShedRecord(d.name, "defer", now, saved))
        elif not running and d.pending:
            work.take(d.name, "defer", REASON_DEFER, 0.0, {})
            shed.append(ShedRecord(d.name, "defer", now, d.rated_w))

    # 2. reduce controllable loads
    def control_rank(d: ManagedDevice) -> tuple[int, int, str]:
        order = {EVControl: 0, HeatPumpControl: 1, BatteryControl: 2}
        return PRIORITY_RANK[d.priority], order[type(d.control)], d.name

    controllable = [d for d in managed if d.control is not None and d.kind == "controllable"]
    for d in sorted(controllable, key=control_rank):
        if work.excess <= _EPS_W:
            break
        reduced = _reduce(d, work)
        if reduced is None:
            continue
        setting, saved, original = reduced
        work.take(d.name, "reduce_to", REASON_REDUCE, saved, setting)
        shed = _merge_reduction(shed, d.name, now, saved, original)

    # 3. switch off interruptible loads, lowest priority first, then the largest
    def off_rank(d: ManagedDevice) -> tuple[int, float, str]:
        return PRIORITY_RANK[d.priority], -work.remaining[d.name], d.name

    switchable = [
        d
        for d in managed
        if (d.kind == "interruptible" or (d.kind == "controllable" and d.off_allowed))
        and d.on
        and work.remaining[d.name] > 0
        and _switchable(d, now)
        and not any(r.device == d.name and r.action == "switch_off" for r in shed)
    ]
    for d in sorted(switchable, key=off_rank):
        if work.excess <= _EPS_W:
            break
        saved = work.remaining[d.name]
        work.take(d.name, "switch_off", REASON_SWITCH_OFF, saved, {})
        shed.append(ShedRecord(d.name, "switch_off", now, saved))

    new_state = replace(
        state, shed=tuple(shed), last_shed_at=now if work.actions else state.last_shed_at
    )
    return Decision(
        actions=tuple(work.actions),
        state=new_state,
        estimated_import_w=work.estimate,
        residual_w=max(0.0, work.excess),
    )


def _merge_reduction(
    shed: list[ShedRecord], name: str, now: datetime, saved: float, original: dict[str, float]
) -> list[ShedRecord]:
    """Add a reduction, or deepen the one already in force (keeping its original setting)."""
    for i, r in enumerate(shed):
        if r.device == name and r.action == "reduce_to":
            shed[i] = replace(r, at=now, restore_w=r.restore_w + saved)
            return shed
    shed.append(ShedRecord(name, "reduce_to", now, saved, original))
    return shed


def _reduce(
    d: ManagedDevice, work: _Shedding
) -> tuple[dict[str, float], float, dict[str, float]] | None:
    """(new setting, saving, original setting) of reducing `d` by what is missing; None: nothing."""
    c = d.control
    excess = work.excess
    if isinstance(c, EVControl):
        power = work.remaining[d.name]
        if power <= 0 or c.current_a <= c.min_a:
            return None
        # the largest current on the charger's steps whose power leaves the excess covered
        target = (power - excess) / c.watts_per_a
        steps = math.ceil((c.current_a - target) / c.step_a - 1e-9)
        new = max(c.min_a, c.current_a - max(steps, 1) * c.step_a)
        saved = max(0.0, power - new * c.watts_per_a)
        if saved <= 0:
            return None
        return {"current_a": new}, saved, {"current_a": c.current_a}
    if isinstance(c, HeatPumpControl):
        power = work.remaining[d.name]
        room = c.offset_k + c.max_offset_k
        if power <= 0 or c.watts_per_k <= 0 or room < c.step_k - 1e-9:
            return None
        wanted = math.ceil(excess / (c.watts_per_k * c.step_k) - 1e-9) * c.step_k
        delta = min(wanted, math.floor(room / c.step_k + 1e-9) * c.step_k)
        saved = min(power, delta * c.watts_per_k)
        return {"setpoint_offset_k": c.offset_k - delta}, saved, {"setpoint_offset_k": c.offset_k}
    if isinstance(c, BatteryControl):
        room = c.power_w + c.max_discharge_w
        if room <= _EPS_W:
            return None
        saved = min(room, excess)
        return (
            {"battery_power_w": c.power_w - saved},
            saved,
            {"battery_power_w": c.power_w},
        )
    return None  # pragma: no cover - a controllable device always has a control


def _restore(
    now: datetime,
    import_w: float,
    limit_w: float,
    by_name: Mapping[str, ManagedDevice],
    state: DispatchState,
    *,
    config: DispatchConfig,
) -> Decision:
    actions: list[Action] = []
    shed = list(state.shed)
    estimate = import_w
    high = list(state.high_power_on)
    starts = list(state.cycle_starts)
    if state.last_shed_at is None or now - state.last_shed_at >= config.restore_hold:
        while shed:
            record = shed[-1]
            d = by_name[record.device]
            if estimate + record.restore_w > limit_w - config.hysteresis_w + _EPS_W:
                break
            off_since = max(record.at, d.last_switch or record.at)
            if now - off_since < d.min_off:
                break
            switching_on = record.action in ("defer", "switch_off")
            if switching_on and _conflict(d, now, high, starts, config) is not None:
                break
            shed.pop()
            estimate += record.restore_w
            params: dict[str, float] = {**record.original, "saved_w": -record.restore_w}
            actions.append(Action(d.name, "restore", REASON_RESTORE, params))
            if switching_on and d.rated_w > config.high_power_w:
                high.append(d.name)
            if record.action == "defer" and d.uninterruptible:
                starts.append((d.name, now))
    new_state = replace(
        state, shed=tuple(shed), high_power_on=tuple(high), cycle_starts=tuple(starts)
    )
    return Decision(
        actions=tuple(actions),
        state=new_state,
        estimated_import_w=estimate,
        residual_w=0.0,
    )
