"""Whether a device's reported setting answers our command, or is someone else's change.

Devices rarely report exactly what they were told: a charger set to 15 A may settle at 13 A
(the car limits it), a number rounds to its step, an entity clamps a value outside its range.
None of that is the owner taking over. A setting that moved away from the command in a way the
device cannot explain (above what we asked, the other direction, off when we asked for on) is.
"""

from __future__ import annotations

import math

# a reported setting within this share of the command counts as the command
RELATIVE_TOLERANCE = 0.05


def settles_near(
    commanded: float,
    reported: float,
    *,
    step: float | None = None,
    minimum: float | None = None,
    maximum: float | None = None,
) -> bool:
    """True when `reported` is what a device may show after being set to `commanded`.

    - within the larger of half a unit, one step of the entity and 5 % of the command;
    - clamped: the command lay outside the entity's range and the device shows its bound;
    - limited: the device delivers less than asked in the same direction (a car that draws
      13 A of the 15 A allowed, a battery that charges at 2.5 of 3 kW).
    """
    if not (math.isfinite(commanded) and math.isfinite(reported)):
        return False
    tolerance = max(0.51, abs(step or 0.0), RELATIVE_TOLERANCE * abs(commanded))
    if abs(reported - commanded) <= tolerance:
        return True
    if maximum is not None and commanded > maximum and reported >= maximum - tolerance:
        return True
    if minimum is not None and commanded < minimum and reported <= minimum + tolerance:
        return True
    return commanded * reported > 0 and abs(reported) < abs(commanded)
