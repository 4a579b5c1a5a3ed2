"""A property of the whole command path, over random meter streams and device reports.

The dispatcher and the power budget of a `MiniHome` (plain entities, a meter that adds the
devices up) are driven for a few hundred steps by a seeded random stream: the meter reports the
truth, repeats itself, falls silent, reads a gigawatt, `nan` or `unavailable`, or jumps with the
house's load; devices report settings of their own; the owner switches things; commands of
every kind are asked for. Whatever happens:

- no command that raises consumption goes out unless the meter's last reading was fresh (at
  most 60 s old), finite and plausible (within three fuses) when it went out;
- after the budget reacted to a trusted reading over the fuse, the meter's true value is back
  under the fuse, or nothing is left that the budget's own rules allow it to shed (the car
  off, the pool pump off or within its minimum on-time, the battery at its full discharge).
"""

from __future__ import annotations

import math
import random
from datetime import timedelta
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import Context, HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.energy_collective.agents.dispatcher import Action
from custom_components.energy_collective.engine import dispatch
from tests.sim.home import subentry_id

from ..common import GRID, power_attrs
from .test_budget import LIMIT, MiniHome, _start

STEPS = 250


def _trusted(hass: HomeAssistant) -> bool:
    """Whether the meter's last reading may be acted on now."""
    state = hass.states.get(GRID)
    if state is None:
        return False
    try:
        value = float(state.state)
    except ValueError:
        return False
    age = (dt_util.utcnow() - state.last_reported).total_seconds()
    return math.isfinite(value) and abs(value) <= 3 * LIMIT and age <= 60


def _sheddable(home: MiniHome, budget: Any) -> list[str]:
    """The devices the budget could still turn down or off now (its own rules: priorities,
    minimum on-times, the battery's reserve)."""
    now = dt_util.utcnow()
    found = []
    for name, (_, device) in budget.devices(now).items():
        if device.priority == "critical":
            continue
        if (
            (name == "Car" and home.on("switch.car_charging"))
            or (name == "Pool pump" and device.on and dispatch._switchable(device, now))
            or (
                name == "Battery"
                and device.control is not None
                and device.control.power_w > -device.control.max_discharge_w + 1.0
            )
        ):
            found.append(name)
    return found


class Recorder(list[tuple[str, str, str, Any]]):
    """The MiniHome's call list, noting for each call whether it raises consumption and
    whether the meter could be trusted when it went out."""

    def __init__(self, hass: HomeAssistant) -> None:
        super().__init__()
        self.hass = hass
        self.raised_untrusted: list[tuple[str, str, str, Any]] = []

    def append(self, call: tuple[str, str, str, Any]) -> None:
        domain, service, entity_id, value = call
        state = self.hass.states.get(entity_id)
        raises = False
        if domain == "switch" and service == "turn_on":
            raises = state is None or state.state != "on"
        elif domain == "number" and state is not None:
            raises = float(value) > float(state.state) + 1e-6
        elif domain == "water_heater" and state is not None:
            raises = float(value) > float(state.attributes.get("temperature", 0.0))
        if raises and not _trusted(self.hass):
            self.raised_untrusted.append(call)
        super().append(call)


@pytest.mark.parametrize("seed", range(6))
async def test_random_meter_streams_never_lead_to_an_unsafe_command(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, seed: int
) -> None:
    """Whatever the meter and the devices report, see the module's docstring."""
    rng = random.Random(seed)
    entry, home = await _start(hass, freezer)
    recorder = Recorder(hass)
    home.calls = recorder  # type: ignore[assignment]
    dispatcher = entry.runtime_data.dispatcher
    budget = entry.runtime_data.budget
    assert budget is not None
    devices = {name: subentry_id(entry, name) for name in ("Car", "Battery", "Pool pump")}
    over_after_reaction: list[tuple[int, float, list[str]]] = []

    async def report(value: Any, *, force: bool = False) -> None:
        hass.states.async_set(GRID, str(value), power_attrs(), force_update=force)
        await hass.async_block_till_done()

    for step in range(STEPS):
        freezer.tick(timedelta(seconds=rng.choice([1, 5, 20, 45, 70, 130])))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
        event = rng.random()
        if event < 0.45:
            await report(round(home.grid_w(), 1))
        elif event < 0.55:
            state = hass.states.get(GRID)
            await report(state.state if state else "0", force=True)  # frozen, still reporting
        elif event < 0.70:
            pass  # silent
        elif event < 0.74:
            await report(rng.choice([1e9, -1e9, 5e5]))
        elif event < 0.77:
            await report("nan")
        elif event < 0.80:
            await report("unavailable")
        else:
            home.base_w = rng.uniform(0.0, 14000.0)  # the oven, the kettle, the sauna
            await report(round(home.grid_w(), 1))
        if rng.random() < 0.05:  # the car settles at a current of its own
            hass.states.async_set(
                "number.car_current", str(float(rng.randint(0, 16))), {"unit_of_measurement": "A"}
            )
        if rng.random() < 0.03:  # the owner switches the pool pump
            on = rng.random() < 0.5
            hass.states.async_set("switch.pool", "on" if on else "off", context=Context())
        await hass.async_block_till_done()
        if rng.random() < 0.3:
            name = rng.choice(list(devices))
            action = {
                "Car": Action(on=rng.random() < 0.8, power_w=rng.randint(0, 16) * 690.0),
                "Battery": Action(on=True, power_w=float(rng.randint(-5000, 5000))),
                "Pool pump": Action(on=rng.random() < 0.5, power_w=1000.0),
            }[name]
            await dispatcher.async_command(devices[name], action, reason="random", retry=False)
            await hass.async_block_till_done()
        # the budget's last reaction: trusted, over the fuse, and still over with room to shed
        reading = budget.meter_reading
        if reading is not None and reading.ok and (reading.value_w or 0.0) > LIMIT:
            # what the meter shows next (the budget acted on what it was shown before)
            await report(round(home.grid_w(), 1))
            again = budget.meter_reading
            if again is None or not again.ok or home.grid_w() <= LIMIT + 1.0:
                continue  # back under the fuse, or not trusted (nothing is shed then)
            if sheddable := _sheddable(home, budget):
                over_after_reaction.append((step, home.grid_w(), sheddable))
    assert recorder.raised_untrusted == []
    assert over_after_reaction == []
    assert len(recorder) > 10  # the stream did command things
