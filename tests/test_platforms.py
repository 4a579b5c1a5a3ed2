"""The planner's entities in the simulated home: what a user sets reaches the plan and stays."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import Recorder
from homeassistant.const import EVENT_CALL_SERVICE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events

from custom_components.energy_collective.agents.planner import PlanResult
from custom_components.energy_collective.engine.model import Battery, EVCharger
from tests.sim.home import START, TZ, advance, start_home, subentry_id

from .common import our_device, simulated_home_on_path

AUTOMATIC = "switch.sim_planning_automatic_control"
MODE = "select.sim_planning_mode"
GRID_LIMIT = "number.sim_planning_grid_import_limit"
REPLAN = "button.sim_planning_re_plan_now"
CALENDAR = "calendar.sim_planning_plan"
POOL_MANAGED = "switch.pool_pump_managed"
RESERVE = "number.battery_reserve"
TARGET = "number.car_target_state_of_charge"
DEPARTURE = "datetime.car_departure"
FINISH_BY = "datetime.dishwasher_finish_by"
DISHWASHER_RUN = "binary_sensor.dishwasher_should_run_now"
POOL_RUN = "binary_sensor.pool_pump_should_run_now"


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    recorder_mock: Recorder, enable_custom_integrations: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The recorder starts before Home Assistant; the simulated home can be loaded."""
    simulated_home_on_path(monkeypatch)


def _state(hass: HomeAssistant, entity_id: str) -> str:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return state.state


async def _service(hass: HomeAssistant, domain: str, service: str, data: dict[str, Any]) -> None:
    await hass.services.async_call(domain, service, data, blocking=True)
    await hass.async_block_till_done()


async def _restart(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()


def _device(entry: MockConfigEntry, name: str) -> Any:
    problem = entry.runtime_data.planner.data.problem
    assert problem is not None
    return next(device for device in problem.devices if device.name == name)


async def test_master_switch_and_managed_switch(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Off, the home or one device is planned but not commanded; the choice survives a restart."""
    entry = await start_home(hass, freezer)
    assert _state(hass, AUTOMATIC) == "on"
    assert _state(hass, POOL_MANAGED) == "on"
    assert _state(hass, "switch.sim_pool_pump") == "on"  # the plan runs the pump now

    await _service(hass, "switch", "turn_off", {"entity_id": POOL_MANAGED})
    pool = subentry_id(entry, "Pool pump")
    assert entry.runtime_data.planner.runtime[pool].managed is False
    assert _state(hass, POOL_MANAGED) == "off"
    # the pump, stopped by hand, is still planned but left alone
    hass.states.async_set("switch.sim_pool_pump", "off")
    calls = async_capture_events(hass, EVENT_CALL_SERVICE)
    await advance(hass, freezer, timedelta(minutes=20))
    commanded = [c.data for c in calls if c.data["domain"] == "switch"]
    assert not any(
        "switch.sim_pool_pump" in str(call.get("service_data", {}).get("entity_id"))
        for call in commanded
    )
    assert pool in entry.runtime_data.planner.data.names

    await _service(hass, "switch", "turn_off", {"entity_id": AUTOMATIC})
    assert entry.runtime_data.planner.automatic is False
    await _restart(hass, entry)
    assert _state(hass, AUTOMATIC) == "off"
    assert _state(hass, POOL_MANAGED) == "off"
    assert entry.runtime_data.planner.automatic is False

    await _service(hass, "switch", "turn_on", {"entity_id": AUTOMATIC})
    await _service(hass, "switch", "turn_on", {"entity_id": POOL_MANAGED})
    assert _state(hass, AUTOMATIC) == "on"
    assert entry.runtime_data.planner.automatic is True
    assert entry.runtime_data.planner.runtime[pool].managed is True


async def test_mode_select(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """The mode re-plans with the engine's mode, survives a restart, and has fixed options."""
    entry = await start_home(hass, freezer)
    state = hass.states.get(MODE)
    assert state is not None
    assert state.state == "auto"
    assert state.attributes["options"] == ["auto", "eco", "comfort", "away", "manual"]
    problem = entry.runtime_data.planner.data.problem
    assert problem is not None
    assert problem.mode == "cost"

    await _service(hass, "select", "select_option", {"entity_id": MODE, "option": "eco"})
    assert _state(hass, MODE) == "eco"
    problem = entry.runtime_data.planner.data.problem
    assert problem is not None
    assert problem.mode == "eco"
    with pytest.raises(ServiceValidationError):
        await _service(hass, "select", "select_option", {"entity_id": MODE, "option": "turbo"})
    await _restart(hass, entry)
    assert _state(hass, MODE) == "eco"
    assert entry.runtime_data.planner.mode == "eco"


async def test_numbers_reach_the_problem(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Grid limit, battery reserve and EV target change the plan's problem and persist."""
    entry = await start_home(hass, freezer)
    planner = entry.runtime_data.planner
    assert float(_state(hass, GRID_LIMIT)) == 11000  # the home's main fuse option
    assert float(_state(hass, RESERVE)) == 10  # the battery's configured reserve
    assert float(_state(hass, TARGET)) == 80
    battery = _device(entry, "Battery")
    assert isinstance(battery, Battery)
    assert battery.soc_min == pytest.approx(0.10)
    car = _device(entry, "Car")
    assert isinstance(car, EVCharger)
    need = car.sessions[0].energy_kwh

    await _service(hass, "number", "set_value", {"entity_id": GRID_LIMIT, "value": 7000})
    await _service(hass, "number", "set_value", {"entity_id": RESERVE, "value": 30})
    await _service(hass, "number", "set_value", {"entity_id": TARGET, "value": 90})
    assert float(_state(hass, GRID_LIMIT)) == 7000
    problem = planner.data.problem
    assert problem is not None
    assert set(problem.grid.import_limit_w) == {7000}
    battery = _device(entry, "Battery")
    assert battery.soc_min == pytest.approx(0.30)
    car = _device(entry, "Car")
    assert car.sessions[0].energy_kwh == pytest.approx(need + 0.10 * 60)

    for entity_id, value in ((GRID_LIMIT, 100), (GRID_LIMIT, 300_000), (RESERVE, 101)):
        with pytest.raises(ServiceValidationError):
            await _service(hass, "number", "set_value", {"entity_id": entity_id, "value": value})
    await _restart(hass, entry)
    assert float(_state(hass, GRID_LIMIT)) == 7000
    assert float(_state(hass, RESERVE)) == 30
    assert float(_state(hass, TARGET)) == 90
    problem = entry.runtime_data.planner.data.problem
    assert problem is not None
    assert set(problem.grid.import_limit_w) == {7000}


async def test_departure_and_finish_by(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """The EV's departure moves its session's deadline; a finish-by requests a cycle."""
    entry = await start_home(hass, freezer)
    planner = entry.runtime_data.planner
    # by default the next usual departure (07:00 local), and no cycle requested
    assert datetime.fromisoformat(_state(hass, DEPARTURE)) == START.replace(
        day=18, hour=7, minute=0
    )
    assert _state(hass, FINISH_BY) == "unknown"

    leave = datetime(2026, 6, 18, 9, 30, tzinfo=TZ)
    await _service(
        hass, "datetime", "set_value", {"entity_id": DEPARTURE, "datetime": leave.isoformat()}
    )
    assert datetime.fromisoformat(_state(hass, DEPARTURE)) == leave
    car = _device(entry, "Car")
    # the plan has the car ready one 15-minute planning step before it leaves
    assert car.sessions[0].departure == leave - timedelta(minutes=15)

    # a cycle cannot be asked to be done in the past
    with pytest.raises(ServiceValidationError) as err:
        await _service(
            hass,
            "datetime",
            "set_value",
            {"entity_id": FINISH_BY, "datetime": (START - timedelta(hours=1)).isoformat()},
        )
    assert err.value.translation_key == "finish_in_past"
    assert not planner.runtime[subentry_id(entry, "Dishwasher")].requested

    done = datetime(2026, 6, 18, 6, 0, tzinfo=TZ)
    await _service(
        hass, "datetime", "set_value", {"entity_id": FINISH_BY, "datetime": done.isoformat()}
    )
    rt = planner.runtime[subentry_id(entry, "Dishwasher")]
    assert rt.requested
    assert rt.finish_by == done
    assert datetime.fromisoformat(_state(hass, FINISH_BY)) == done
    plan = planner.data.plan
    assert plan is not None
    start = plan.device("Dishwasher").start
    assert start is not None
    assert start < done

    # once the car has left, the departure shows the next usual one again
    await _restart(hass, entry)
    assert datetime.fromisoformat(_state(hass, DEPARTURE)) == leave
    freezer.move_to(leave + timedelta(minutes=1))
    entry.runtime_data.planner.async_update_listeners()
    await hass.async_block_till_done()
    assert datetime.fromisoformat(_state(hass, DEPARTURE)) == START.replace(
        day=19, hour=7, minute=0
    )


async def test_replan_button(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """Pressing the button solves again at once."""
    entry = await start_home(hass, freezer)
    planner = entry.runtime_data.planner
    first = planner.data.computed_at
    assert first is not None
    freezer.tick(timedelta(seconds=40))
    await _service(hass, "button", "press", {"entity_id": REPLAN})
    assert planner.data.computed_at == first + timedelta(seconds=40)


async def test_calendar_lists_the_planned_runs(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Each block of planned running steps is an event; a range shows only its own."""
    entry = await start_home(hass, freezer)
    planner = entry.runtime_data.planner
    plan = planner.data.plan
    assert plan is not None
    pool = plan.device("Pool pump")
    assert pool.power_w[0] > 1  # the pump runs now: the calendar is on with it
    state = hass.states.get(CALENDAR)
    assert state is not None
    assert state.state == "on"

    end = plan.start + plan.step * plan.n_steps
    response = await hass.services.async_call(
        "calendar",
        "get_events",
        {"entity_id": CALENDAR, "start_date_time": plan.start, "end_date_time": end},
        blocking=True,
        return_response=True,
    )
    events = response[CALENDAR]["events"]  # type: ignore[index]
    assert events
    assert all(e["summary"] != "Battery" for e in events)  # a battery has no runs
    pool_events = [e for e in events if e["summary"] == "Pool pump"]
    first = pool_events[0]
    assert datetime.fromisoformat(first["start"]) == plan.start
    blocks = sum(
        1
        for step, power in enumerate(pool.power_w)
        if power > 1 and (step == 0 or pool.power_w[step - 1] <= 1)
    )
    assert len(pool_events) == blocks
    hours = sum(
        (datetime.fromisoformat(e["end"]) - datetime.fromisoformat(e["start"])).total_seconds()
        for e in pool_events
    )
    assert hours == sum(plan.step.total_seconds() for power in pool.power_w if power > 1)
    assert first["description"].endswith(" kWh")
    starts = [datetime.fromisoformat(e["start"]) for e in events]
    assert starts == sorted(starts)

    # a range after the plan's horizon holds nothing
    response = await hass.services.async_call(
        "calendar",
        "get_events",
        {"entity_id": CALENDAR, "start_date_time": end, "end_date_time": end + timedelta(days=1)},
        blocking=True,
        return_response=True,
    )
    assert response[CALENDAR]["events"] == []  # type: ignore[index]

    # without a plan there is nothing to show
    planner.async_set_updated_data(PlanResult(plan=None, problem=None, computed_at=None))
    await hass.async_block_till_done()
    assert _state(hass, CALENDAR) == "off"


async def test_should_run_now_follows_the_plan(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """The sensor turns on when the plan starts the dishwasher, and is unknown without a plan."""
    entry = await start_home(hass, freezer)
    planner = entry.runtime_data.planner
    assert _state(hass, POOL_RUN) == "on"
    assert _state(hass, DISHWASHER_RUN) == "off"  # no cycle requested
    # a run that must be done in two hours starts now
    planner.request_run(
        subentry_id(entry, "Dishwasher"), dt_util.utcnow() + timedelta(hours=2), None
    )
    await _service(hass, "button", "press", {"entity_id": REPLAN})
    assert _state(hass, DISHWASHER_RUN) == "on"

    planner.async_set_updated_data(PlanResult(plan=None, problem=None, computed_at=None))
    await hass.async_block_till_done()
    assert _state(hass, DISHWASHER_RUN) == "unknown"


async def test_removing_a_home_forgets_what_its_agents_kept(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, hass_storage: dict[str, Any]
) -> None:
    """Plans, models and the shedding state are stored per home, and go with the home."""
    entry = await start_home(hass, freezer)
    await _restart(hass, entry)  # unloading saves the planner and the budget at once
    kept = {key for key in hass_storage if entry.entry_id in key}
    assert f"energy_collective.{entry.entry_id}.planner" in kept
    assert f"energy_collective.{entry.entry_id}.budget" in kept
    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert not [key for key in hass_storage if entry.entry_id in key]


async def test_device_of_every_subentry_hangs_below_the_planner(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """On the first start the devices are linked to the planner's device, with no warning."""
    entry = await start_home(hass, freezer)
    planner_device = our_device(hass, entry.entry_id, "planner")
    assert planner_device is not None
    car = _device_entry(hass, entry, "Car")
    assert car.via_device_id == planner_device.id
    assert "non existing `via_device`" not in caplog.text


def _device_entry(hass: HomeAssistant, entry: MockConfigEntry, name: str) -> Any:
    found = [
        device
        for device in dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
        if device.name == name
    ]
    assert len(found) == 1, name
    return found[0]


async def test_diagnostic_details_are_disabled_by_default(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """The load model's name is there for the curious: its sensor starts disabled."""
    entry = await start_home(hass, freezer)
    model = next(
        e
        for e in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
        if e.unique_id.endswith("_load_model")
    )
    assert model.disabled_by is er.RegistryEntryDisabler.INTEGRATION
    assert hass.states.get(model.entity_id) is None
