"""What the agents write to storage while a home runs (an SD card counts every write)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import Recorder
from homeassistant.core import HomeAssistant

from tests.sim.home import advance, start_home


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    recorder_mock: Recorder, enable_custom_integrations: None
) -> None:
    """The recorder must start before Home Assistant does."""


async def test_the_planner_writes_at_most_once_a_step(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """An hour of a running home, sampled every minute: the planner's store is written about
    once per 15-minute step (and for each new plan), not sixty times."""
    entry = await start_home(hass, freezer)
    store = entry.runtime_data.planner.store
    writes = 0
    write = store._async_write_data

    async def counting(*args: Any, **kwargs: Any) -> None:
        nonlocal writes
        writes += 1
        await write(*args, **kwargs)

    store._async_write_data = counting  # type: ignore[method-assign]
    await advance(hass, freezer, timedelta(minutes=60))
    assert 1 <= writes <= 8
