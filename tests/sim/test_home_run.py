"""Energy Collective runs the simulated home: a whole day, and what goes wrong on the way."""

from __future__ import annotations

from datetime import timedelta
from unittest.mock import patch

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import Recorder
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util

from custom_components.energy_collective.agents.dispatcher import Action
from custom_components.energy_collective.const import DOMAIN
from custom_components.energy_collective.engine import milp
from tests.sim.home import START, TZ, advance, start_home, subentry_id, value

PLAN_STATUS = "sensor.sim_planning_plan_status"


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    recorder_mock: Recorder, enable_custom_integrations: None
) -> None:
    """The recorder must start before Home Assistant does."""


def _device_id(hass: HomeAssistant, entry_id: str, sub_id: str) -> str:
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, f"{entry_id}_{sub_id}")})
    assert device is not None
    return device.id


async def test_a_day_run_by_the_plan(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """Dishwasher, car, battery and pool pump follow the plan for a day, cheaper than baseline."""
    entry = await start_home(hass, freezer)
    planner = entry.runtime_data.planner
    dishwasher = subentry_id(entry, "Dishwasher")
    await hass.services.async_call(
        DOMAIN,
        "request_run",
        {
            "device_id": _device_id(hass, entry.entry_id, dishwasher),
            "finish_by": (START + timedelta(hours=12)).isoformat(),
        },
        blocking=True,
    )
    await hass.async_block_till_done()
    plan = planner.data.plan
    assert plan is not None
    assert plan.status in ("optimal", "feasible")
    assert plan.savings is not None
    assert plan.savings > 0
    planned_start = plan.device("Dishwasher").start
    assert planned_start is not None
    assert planned_start > dt_util.utcnow()
    assert hass.states.get("switch.sim_dishwasher").state == "off"
    assert hass.states.get("sensor.dishwasher_next_action").state == "start"
    state = hass.states.get(PLAN_STATUS)
    assert state.state == plan.status
    assert any("Dishwasher" in text for text in state.attributes["explanations"])
    initial_ev = value(hass, "sensor.sim_ev_soc")

    started_at = None
    battery_checked = False
    end = START + timedelta(hours=12, minutes=30)
    while dt_util.now() < end:
        await advance(hass, freezer, timedelta(minutes=5))
        if started_at is None and hass.states.get("switch.sim_dishwasher").state == "on":
            started_at = dt_util.utcnow()
        current = planner.data.plan
        index = int((dt_util.utcnow() - current.start) / current.step)
        wanted = current.device("Battery").power_w[index]
        if not battery_checked and abs(wanted) > 500:
            assert value(hass, "number.sim_battery_power") == pytest.approx(wanted, rel=0.1)
            battery_checked = True
    assert started_at is not None
    assert started_at - planned_start < timedelta(minutes=20)
    assert battery_checked
    # the car left at 07:00-08:00 with its target met; the comfort score says so
    assert (
        value(hass, "sensor.sim_ev_soc") > initial_ev
        or hass.states.get("binary_sensor.sim_ev_plugged").state != "on"
    )
    assert planner.comfort_log
    assert value(hass, "sensor.sim_planning_comfort_score") >= 50
    assert hass.states.get("sensor.sim_planning_expected_cost_today").state not in (
        "unknown",
        "unavailable",
    )


async def test_ev_reaches_its_target_by_departure(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """The car charges overnight and holds its target when it leaves."""
    entry = await start_home(hass, freezer)
    car = subentry_id(entry, "Car")
    await hass.services.async_call(
        "number",
        "set_value",
        {"entity_id": "number.car_target_state_of_charge", "value": 85},
        blocking=True,
    )
    await hass.async_block_till_done()
    assert entry.runtime_data.planner.runtime[car].target_soc_pct == 85
    departure = START.replace(hour=7, minute=0) + timedelta(days=1)
    while dt_util.now() < departure - timedelta(minutes=5):
        await advance(hass, freezer, timedelta(minutes=15))
    assert value(hass, "sensor.sim_ev_soc") >= 80


async def test_advisory_mode_commands_nothing(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """With automatic control off the plan is published but no device is touched."""
    entry = await start_home(hass, freezer)
    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": "switch.sim_planning_automatic_control"}, blocking=True
    )
    await hass.services.async_call(
        "number", "set_value", {"entity_id": "number.sim_battery_power", "value": 0}, blocking=True
    )
    await advance(hass, freezer, timedelta(minutes=30))
    assert value(hass, "number.sim_battery_power") == 0
    assert hass.states.get(PLAN_STATUS).attributes["advisory"] is True
    assert entry.runtime_data.planner.data.plan is not None


async def test_manual_override_is_left_alone(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A user's change against the plan holds for the override time; the plan takes it as fixed."""
    entry = await start_home(hass, freezer)
    pool = subentry_id(entry, "Pool pump")
    assert hass.states.get("switch.sim_pool_pump").state == "on"  # the plan runs it now
    await hass.services.async_call(
        "switch",
        "turn_off",
        {"entity_id": "switch.sim_pool_pump"},
        blocking=True,
        context=Context(),
    )
    await hass.async_block_till_done()
    runtime = entry.runtime_data.planner.runtime[pool]
    assert runtime.overridden(dt_util.utcnow())
    await advance(hass, freezer, timedelta(minutes=30))
    assert hass.states.get("switch.sim_pool_pump").state == "off"
    assert "Pool pump" not in entry.runtime_data.planner.data.names.values()


async def test_failing_command_retries_then_raises_a_repair(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A service call that raises is retried with backoff, then a repair issue names the device."""
    entry = await start_home(hass, freezer)
    dispatcher = entry.runtime_data.dispatcher
    dispatcher.retry_delays = (0.0, 0.0, 0.0)
    battery = subentry_id(entry, "Battery")
    calls = 0

    async def broken(*args: object, **kwargs: object) -> None:
        nonlocal calls
        calls += 1
        raise HomeAssistantError("device offline")

    with patch("homeassistant.core.ServiceRegistry.async_call", broken):
        result = await dispatcher.async_command(
            battery, Action(on=True, power_w=1000), reason="test"
        )
    assert not result.ok
    assert result.attempts == 4
    assert calls == 4
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"command_failed_{battery}")
    assert issue is not None
    assert issue.translation_placeholders["device"] == "Battery"
    ok = await dispatcher.async_command(battery, Action(on=True, power_w=1000), reason="test")
    assert ok.ok
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"command_failed_{battery}") is None


async def test_safety_refuses_an_unsafe_command(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A command beyond the battery's limit never reaches the device."""
    entry = await start_home(hass, freezer)
    battery = subentry_id(entry, "Battery")
    before = value(hass, "number.sim_battery_power")
    result = await entry.runtime_data.dispatcher.async_command(
        battery, Action(on=True, power_w=9000), reason="test"
    )
    assert not result.ok
    assert not result.sent
    assert result.violations
    assert value(hass, "number.sim_battery_power") == before


async def test_unavailable_entity_leaves_device_out(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A battery whose SoC sensor is unavailable is not planned (and not commanded)."""
    entry = await start_home(hass, freezer)
    hass.states.async_set("sensor.sim_battery_soc", "unavailable")
    await hass.services.async_call(
        "button", "press", {"entity_id": "button.sim_planning_re_plan_now"}, blocking=True
    )
    await hass.async_block_till_done()
    assert "Battery" not in entry.runtime_data.planner.data.names.values()
    assert hass.states.get("sensor.battery_planned_power").state == "unknown"


async def test_solver_failure_keeps_the_last_good_plan(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A solve that times out (greedy fallback) keeps the last good plan and says so."""
    entry = await start_home(hass, freezer)
    planner = entry.runtime_data.planner
    good = planner.data.plan
    real = milp.solve

    def timed_out(problem: object, **kwargs: object) -> object:
        plan = real(problem, **kwargs)  # type: ignore[arg-type]
        from dataclasses import replace

        return replace(plan, status="fallback", message="no solution within the time limit")

    with patch.object(milp, "solve", timed_out):
        await planner.async_refresh()
    assert planner.data.kept
    assert planner.data.plan is good
    state = hass.states.get(PLAN_STATUS)
    assert state.state == "kept"
    assert "time limit" in state.attributes["explanations"][0]


async def test_restart_mid_cycle_does_not_start_again(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """After a restart in the middle of a cycle the appliance is not started a second time."""
    entry = await start_home(hass, freezer)
    planner = entry.runtime_data.planner
    dishwasher = subentry_id(entry, "Dishwasher")
    planner.request_run(dishwasher, dt_util.utcnow() + timedelta(hours=2), None)
    await planner.async_refresh()
    await hass.async_block_till_done()
    assert hass.states.get("switch.sim_dishwasher").state == "on"
    started = planner.runtime[dishwasher].started_at
    assert started is not None
    await advance(hass, freezer, timedelta(minutes=20))
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    planner = entry.runtime_data.planner
    assert planner.runtime[dishwasher].started_at == started
    calls: list[str] = []
    dispatcher = entry.runtime_data.dispatcher
    original = dispatcher.async_command

    async def spy(sub: str, action: Action, *, reason: str) -> object:
        calls.append(sub)
        return await original(sub, action, reason=reason)

    dispatcher.async_command = spy  # type: ignore[method-assign]
    await advance(hass, freezer, timedelta(minutes=30))
    assert dishwasher not in calls


async def test_removing_a_subentry_removes_its_device(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Each device subentry is a device; removing the subentry removes it."""
    entry = await start_home(hass, freezer)
    pool = subentry_id(entry, "Pool pump")
    registry = dr.async_get(hass)
    assert registry.async_get_device(identifiers={(DOMAIN, f"{entry.entry_id}_{pool}")})
    assert hass.config_entries.async_remove_subentry(entry, pool)
    await hass.async_block_till_done()
    assert registry.async_get_device(identifiers={(DOMAIN, f"{entry.entry_id}_{pool}")}) is None
    assert TZ is not None
