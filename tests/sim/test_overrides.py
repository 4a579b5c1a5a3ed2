"""Overrides in the simulated home: the owner's change is seen from the first one after a start."""

from __future__ import annotations

from datetime import timedelta

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import Recorder
from homeassistant.core import Context, HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockUser

from tests.sim.home import START, advance, home_entry, start_home, subentry_id


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    recorder_mock: Recorder, enable_custom_integrations: None
) -> None:
    """The recorder must start before Home Assistant does."""


async def _by_owner(hass: HomeAssistant, service: str, entity_id: str, owner: MockUser) -> None:
    """The owner switches a switch from the UI (a context with their user id)."""
    await hass.services.async_call(
        "switch",
        service,
        {"entity_id": entity_id},
        blocking=True,
        context=Context(user_id=owner.id),
    )
    await hass.async_block_till_done()


async def test_a_change_before_any_command_is_the_owners(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, hass_admin_user: MockUser
) -> None:
    """After a restart the pool pump is already running as the plan wants, so nothing was sent
    to it. The owner switches it off: the next rounds leave it off."""
    await hass.config.async_set_time_zone("Europe/Berlin")
    hass.config.latitude, hass.config.longitude = 52.52, 13.40
    hass.config.currency = "EUR"
    freezer.move_to(START)
    assert await async_setup_component(hass, "simulated_home", {"simulated_home": {}})
    await hass.async_block_till_done()
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": "switch.sim_pool_pump"}, blocking=True
    )
    entry = home_entry(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    pool = subentry_id(entry, "Pool pump")
    dispatcher = entry.runtime_data.dispatcher
    assert hass.states.get("switch.sim_pool_pump").state == "on"  # type: ignore[union-attr]
    assert "switch.sim_pool_pump" not in dispatcher._commanded  # nothing had to be sent
    await _by_owner(hass, "turn_off", "switch.sim_pool_pump", hass_admin_user)
    assert entry.runtime_data.planner.runtime[pool].overridden(dt_util.utcnow())
    await advance(hass, freezer, timedelta(minutes=10))
    assert hass.states.get("switch.sim_pool_pump").state == "off"  # type: ignore[union-attr]


async def test_a_pump_the_owner_switched_on_is_planned_as_load(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, hass_admin_user: MockUser
) -> None:
    """The owner switches the pool pump on outside the plan: for the override time the plan
    counts its 750 W as load it cannot move, and plans nothing for the pump itself."""
    entry = await start_home(hass, freezer, when=START.replace(hour=22))
    planner = entry.runtime_data.planner
    pool = subentry_id(entry, "Pool pump")
    before = planner.data.problem
    assert before is not None
    assert hass.states.get("switch.sim_pool_pump").state == "off"  # type: ignore[union-attr]
    await _by_owner(hass, "turn_on", "switch.sim_pool_pump", hass_admin_user)
    assert planner.runtime[pool].overridden(dt_util.utcnow())
    assert planner.runtime[pool].override_on
    await planner.async_refresh()
    problem = planner.data.problem
    assert problem is not None
    assert "Pool pump" not in planner.data.names.values()
    assert problem.base_load_w[0] - before.base_load_w[0] == pytest.approx(750.0, abs=1.0)


async def test_a_cycle_started_by_hand_is_recorded(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, hass_admin_user: MockUser
) -> None:
    """The owner starts the dishwasher by hand: the planner notes a cycle under way (it is
    not started again) and re-plans around it."""
    entry = await start_home(hass, freezer)
    planner = entry.runtime_data.planner
    dishwasher = subentry_id(entry, "Dishwasher")
    assert planner.runtime[dishwasher].started_at is None
    await _by_owner(hass, "turn_on", "switch.sim_dishwasher", hass_admin_user)
    assert planner.runtime[dishwasher].started_at == dt_util.utcnow()
