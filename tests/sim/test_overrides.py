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

from tests.sim.home import START, advance, home_entry, subentry_id


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    recorder_mock: Recorder, enable_custom_integrations: None
) -> None:
    """The recorder must start before Home Assistant does."""


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
    await hass.services.async_call(
        "switch",
        "turn_off",
        {"entity_id": "switch.sim_pool_pump"},
        blocking=True,
        context=Context(user_id=hass_admin_user.id),
    )
    await hass.async_block_till_done()
    assert entry.runtime_data.planner.runtime[pool].overridden(dt_util.utcnow())
    await advance(hass, freezer, timedelta(minutes=10))
    assert hass.states.get("switch.sim_pool_pump").state == "off"  # type: ignore[union-attr]
