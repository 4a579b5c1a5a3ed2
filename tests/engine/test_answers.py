"""A device's answer to a command, told from the owner's change (engine/answers.py)."""

from __future__ import annotations

import pytest

from custom_components.energy_collective.engine.answers import settles_near


@pytest.mark.parametrize(
    ("commanded", "reported", "kwargs"),
    [
        (15.0, 15.0, {}),
        (15.0, 13.0, {}),  # the car draws less than the charger allows
        (3000.0, 3100.0, {"step": 100.0}),  # rounded to the number's step
        (-2430.0, -2500.0, {"step": 100.0}),
        (20.0, 16.0, {"maximum": 16.0}),  # clamped to the entity's range
        (2.0, 6.0, {"minimum": 6.0}),
        (60.0, 59.6, {}),
    ],
)
def test_a_device_answering_our_command(commanded: float, reported: float, kwargs: dict) -> None:
    """Near, rounded, clamped or limited below the command: the device, not the owner."""
    assert settles_near(commanded, reported, **kwargs)


@pytest.mark.parametrize(
    ("commanded", "reported", "kwargs"),
    [
        (6.0, 16.0, {"maximum": 32.0}),  # more than we allowed: the owner raised it
        (3000.0, -3000.0, {}),  # the other direction
        (15.0, 0.0, {}),  # off when we said on
        (0.0, 10.0, {}),  # on when we said off
        (45.0, 60.0, {"maximum": 75.0}),  # a setpoint raised by hand
        (15.0, float("nan"), {}),
    ],
)
def test_the_owner_changing_the_setting(commanded: float, reported: float, kwargs: dict) -> None:
    """Anything the device cannot explain is the owner's change."""
    assert not settles_near(commanded, reported, **kwargs)
