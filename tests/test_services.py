"""The actions of Energy Collective, run against the simulated home."""

from __future__ import annotations

import json
import string
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import Recorder
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_collective.agents.dispatcher import CommandResult
from custom_components.energy_collective.agents.planner import PlanResult, ProblemError
from custom_components.energy_collective.const import DOMAIN
from custom_components.energy_collective.engine.model import plan_to_dict
from tests.sim.home import START, TZ, advance, start_home, subentry_id

from .common import exception_message, our_device, simulated_home_on_path

EXCEPTIONS = json.loads(
    (
        Path(__file__).parents[1] / "custom_components" / "energy_collective" / "strings.json"
    ).read_text(encoding="utf-8")
)["exceptions"]


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    recorder_mock: Recorder, enable_custom_integrations: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The recorder starts before Home Assistant; the simulated home can be loaded."""
    simulated_home_on_path(monkeypatch)


def _device_id(hass: HomeAssistant, entry: MockConfigEntry, title: str) -> str:
    identifier = f"{entry.entry_id}_{subentry_id(entry, title) if title != 'planner' else title}"
    device = our_device(hass, entry.entry_id, identifier.removeprefix(f"{entry.entry_id}_"))
    assert device is not None
    return device.id


def _translated(exc: Exception, key: str) -> None:
    """The error carries `key` of this integration, with the placeholders its message uses."""
    domain, found, placeholders = exception_message(exc)
    assert (domain, found) == (DOMAIN, key)
    message = EXCEPTIONS[key]["message"]
    used = {name for _, name, _, _ in string.Formatter().parse(message) if name}
    assert set(placeholders) == used


async def _call(hass: HomeAssistant, service: str, data: dict[str, Any]) -> Any:
    return await hass.services.async_call(
        DOMAIN,
        service,
        data,
        blocking=True,
        return_response=service == "optimize",
    )


async def test_optimize_returns_the_plan(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """The response is the fresh plan, with its explanations as text."""
    entry = await start_home(hass, freezer)
    planner = entry.runtime_data.planner
    before = planner.data.computed_at
    freezer.tick(timedelta(seconds=30))
    response = await _call(hass, "optimize", {"config_entry_id": entry.entry_id})
    assert planner.data.computed_at is not None
    assert before is not None
    assert planner.data.computed_at > before
    plan = planner.data.plan
    assert plan is not None
    assert response["plan"] == plan_to_dict(plan)
    assert len(response["plan"]["times"]) == plan.n_steps
    names = {device["name"] for device in response["plan"]["devices"]}
    assert names >= {"Battery", "Car", "Pool pump", "Water heater"}
    assert response["kept"] is False
    assert response["explanations"]
    assert all(isinstance(text, str) for text in response["explanations"])
    assert isinstance(response["recommendations"], list)


async def test_optimize_errors(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """An unknown home, another integration's entry, no plan, a home that is not running."""
    entry = await start_home(hass, freezer)
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "optimize", {"config_entry_id": "nope"})
    _translated(err.value, "entry_not_found")
    other = MockConfigEntry(domain="demo", title="Other")
    other.add_to_hass(hass)
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "optimize", {"config_entry_id": other.entry_id})
    _translated(err.value, "entry_not_found")

    planner = entry.runtime_data.planner
    planner.last_good = None
    planner.data = PlanResult(plan=None, problem=None, computed_at=None)
    with (
        patch.object(planner, "build_problem", side_effect=ProblemError("no import price")),
        pytest.raises(ServiceValidationError) as err,
    ):
        await _call(hass, "optimize", {"config_entry_id": entry.entry_id})
    _translated(err.value, "no_plan")
    assert err.value.translation_placeholders == {"error": "no import price"}

    assert await hass.config_entries.async_unload(entry.entry_id)
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "optimize", {"config_entry_id": entry.entry_id})
    _translated(err.value, "entry_not_loaded")
    assert err.value.translation_placeholders == {"entry": "Sim"}


async def test_request_and_cancel_a_run(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A requested cycle is planned before its deadline; cancelled, it leaves the plan."""
    entry = await start_home(hass, freezer)
    planner = entry.runtime_data.planner
    dishwasher = subentry_id(entry, "Dishwasher")
    device_id = _device_id(hass, entry, "Dishwasher")
    assert not planner.runtime[dishwasher].requested

    # a time without offset is the home's local time
    await _call(
        hass,
        "request_run",
        {"device_id": device_id, "finish_by": "2026-06-18 06:00:00", "duration": {"minutes": 90}},
    )
    rt = planner.runtime[dishwasher]
    assert rt.requested
    assert rt.finish_by == START.replace(day=18, hour=6, minute=0)
    assert rt.finish_by.utcoffset() == TZ.utcoffset(rt.finish_by.replace(tzinfo=None))
    assert rt.request_duration_min == 90
    plan = planner.data.plan
    assert plan is not None
    device_plan = plan.device("Dishwasher")
    assert device_plan.start is not None
    assert device_plan.start + timedelta(minutes=90) <= rt.finish_by
    running = [p for p in device_plan.power_w if p > 1]
    assert len(running) * plan.step == timedelta(minutes=90)

    await _call(hass, "cancel_run", {"device_id": device_id})
    rt = planner.runtime[dishwasher]
    assert not rt.requested
    assert rt.finish_by is None
    assert rt.request_duration_min is None
    plan = planner.data.plan
    assert plan is not None
    assert "Dishwasher" not in planner.data.names.values() or not any(
        p > 1 for p in plan.device("Dishwasher").power_w
    )

    # without a time the appliance's own finish-by (07:00) is the deadline
    await _call(hass, "request_run", {"device_id": device_id})
    rt = planner.runtime[dishwasher]
    assert dt_util.as_local(rt.finish_by).hour == 7
    assert rt.finish_by > dt_util.utcnow()
    assert rt.request_duration_min is None


async def test_run_errors(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """Unknown devices, devices that are no appliance, and deadlines that passed are refused."""
    entry = await start_home(hass, freezer)
    planner = entry.runtime_data.planner
    dishwasher = _device_id(hass, entry, "Dishwasher")
    other = MockConfigEntry(domain="demo", title="Other")
    other.add_to_hass(hass)
    foreign = dr.async_get(hass).async_get_or_create(
        config_entry_id=other.entry_id, identifiers={("demo", "lamp")}
    )
    for service in ("request_run", "cancel_run"):
        for device_id in ("nope", foreign.id, _device_id(hass, entry, "planner")):
            with pytest.raises(ServiceValidationError) as err:
                await _call(hass, service, {"device_id": device_id})
            _translated(err.value, "device_not_found")
            assert err.value.translation_placeholders == {"device": device_id}
        with pytest.raises(ServiceValidationError) as err:
            await _call(hass, service, {"device_id": _device_id(hass, entry, "Battery")})
        _translated(err.value, "not_an_appliance")
        assert err.value.translation_placeholders == {"device": "Battery"}

    with pytest.raises(ServiceValidationError) as err:
        await _call(
            hass,
            "request_run",
            {"device_id": dishwasher, "finish_by": (START - timedelta(minutes=1)).isoformat()},
        )
    _translated(err.value, "finish_in_past")
    assert err.value.translation_placeholders == {"device": "Dishwasher"}
    assert not planner.runtime[subentry_id(entry, "Dishwasher")].requested

    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "set_override", {"device_id": "nope", "minutes": 10})
    _translated(err.value, "device_not_found")

    assert await hass.config_entries.async_unload(entry.entry_id)
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "request_run", {"device_id": dishwasher})
    _translated(err.value, "entry_not_loaded")


async def test_set_override(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """An override switches the device as asked and holds it out of the plan for a while."""
    entry = await start_home(hass, freezer)
    planner = entry.runtime_data.planner
    pool = subentry_id(entry, "Pool pump")
    device_id = _device_id(hass, entry, "Pool pump")
    await advance(hass, freezer, timedelta(minutes=35))  # past the pump's minimum on-time
    assert hass.states.get("switch.sim_pool_pump").state == "on"  # the plan runs it now

    await _call(hass, "set_override", {"device_id": device_id, "minutes": 60, "state": False})
    await hass.async_block_till_done()
    assert hass.states.get("switch.sim_pool_pump").state == "off"
    rt = planner.runtime[pool]
    assert rt.override_on is False
    assert rt.override_until == dt_util.utcnow() + timedelta(minutes=60)
    assert rt.overridden(dt_util.utcnow())
    assert pool not in planner.data.names

    # without a state the device is held as it is
    water = subentry_id(entry, "Water heater")
    on = hass.states.get("switch.sim_water_heater").state == "on"
    await _call(
        hass, "set_override", {"device_id": _device_id(hass, entry, "Water heater"), "minutes": 30}
    )
    assert planner.runtime[water].override_on is on
    assert water not in planner.data.names
    assert hass.states.get("switch.sim_water_heater").state == ("on" if on else "off")

    # a device that does not take the command: the caller learns why
    failed = CommandResult(ok=False, sent=True, attempts=4, error="device offline")
    dispatcher = entry.runtime_data.dispatcher
    with (
        patch.object(dispatcher, "async_command", return_value=failed),
        pytest.raises(HomeAssistantError) as err,
    ):
        await _call(
            hass,
            "set_override",
            {"device_id": _device_id(hass, entry, "Dishwasher"), "minutes": 30, "state": True},
        )
    assert not isinstance(err.value, ServiceValidationError)
    _translated(err.value, "command_failed")
    assert err.value.translation_placeholders == {"device": "Dishwasher", "error": "device offline"}
    assert not planner.runtime[subentry_id(entry, "Dishwasher")].overridden(dt_util.utcnow())

    # a command refused by the safety rules names them
    refused = CommandResult(ok=False, sent=False, violations=("beyond 5000 W", "too soon"))
    with (
        patch.object(dispatcher, "async_command", return_value=refused),
        pytest.raises(HomeAssistantError) as err,
    ):
        await _call(
            hass,
            "set_override",
            {"device_id": _device_id(hass, entry, "Battery"), "minutes": 5, "state": True},
        )
    assert err.value.translation_placeholders["error"] == "beyond 5000 W; too soon"


@pytest.mark.parametrize(
    ("fields", "key"),
    [
        ({"finish_by": "9999-12-31T23:00:00+00:00"}, "finish_too_late"),
        ({"finish_by": (START + timedelta(days=5)).isoformat()}, "finish_too_late"),
        ({"duration": {"hours": 30}}, "duration_too_long"),
        (
            {"finish_by": (START + timedelta(hours=1)).isoformat(), "duration": {"hours": 2}},
            "finish_before_duration",
        ),
    ],
)
async def test_a_run_that_cannot_be_honoured_is_refused(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, fields: dict[str, Any], key: str
) -> None:
    """A finish in the year 9999 or days beyond the plan, a 30-hour cycle, or a finish sooner
    than the cycle takes: refused with a translated reason, nothing stored, the dishwasher
    not started; a run within reach is then accepted."""
    entry = await start_home(hass, freezer)
    planner = entry.runtime_data.planner
    dishwasher = _device_id(hass, entry, "Dishwasher")
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "request_run", {"device_id": dishwasher, **fields})
    _translated(err.value, key)
    runtime = planner.runtime[subentry_id(entry, "Dishwasher")]
    assert not runtime.requested
    assert runtime.finish_by is None
    assert hass.states.get("switch.sim_dishwasher").state == "off"  # type: ignore[union-attr]
    await _call(
        hass,
        "request_run",
        {"device_id": dishwasher, "finish_by": (START + timedelta(hours=12)).isoformat()},
    )
    assert runtime.requested


async def test_a_stored_request_no_action_accepts_heals(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, hass_storage: dict[str, Any]
) -> None:
    """A request saved before the bounds (to finish in the year 9999) is forgotten at the next
    start, so the dishwasher can be planned and requested again."""
    entry = await start_home(hass, freezer)
    dishwasher = subentry_id(entry, "Dishwasher")
    planner = entry.runtime_data.planner
    runtime = planner.runtime[dishwasher]
    runtime.requested = True
    runtime.finish_by = datetime(9999, 12, 31, 23, 0, tzinfo=UTC)
    await planner.store.async_save(planner._store_data())
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    healed = entry.runtime_data.planner.runtime[dishwasher]
    assert not healed.requested
    assert healed.finish_by is None
