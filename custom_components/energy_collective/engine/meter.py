"""When a grid meter's reading may be trusted (docs/shedding.md, "A reading we trust").

Every command that raises a home's consumption is checked against the import headroom, the
limit minus what the grid meter shows. A reading counts only while it is:

- **fresh**: the meter reported within `max_age` (a sensor that reports the same value again is
  fresh: Home Assistant's `last_reported` moves; one that stopped reporting is not);
- **plausible**: finite and within what the connection can carry (`PLAUSIBLE_FUSE_FACTOR`
  times the fuse): a reading of a gigawatt is a broken meter, not a spike to shed;
- **moving**: after a command that should have moved it by more than `MOVE_MIN_W` it moved
  within `MOVE_WITHIN` (a meter frozen at an old value while still reporting is caught here).

Without such a reading nothing may raise consumption and nothing is shed on its word: the
devices keep their state.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

DEFAULT_MAX_AGE = timedelta(seconds=60)
PLAUSIBLE_FUSE_FACTOR = 3.0
"""A reading beyond this many times the fuse (either direction) is not believed."""
MOVE_MIN_W = 1000.0
"""A command that should change the import by more than this is watched on the meter."""
MOVE_WITHIN = timedelta(seconds=30)
MOVE_SHARE = 0.1
"""The meter has answered a watched command once it moved by this share of the change."""
MOVE_NOISE_W = 50.0
"""A suspect meter is believed again once its reading changes by more than this."""

OK = "ok"
MISSING = "missing"
STALE = "stale"
IMPLAUSIBLE = "implausible"
NOT_MOVING = "not_moving"


@dataclass(frozen=True, slots=True)
class MeterReading:
    """A grid reading and whether it may be acted on."""

    value_w: float | None
    status: str
    """OK, or why the reading is not trusted: MISSING, STALE, IMPLAUSIBLE, NOT_MOVING."""
    age_s: float | None = None

    @property
    def ok(self) -> bool:
        """True when the reading may be acted on."""
        return self.status == OK and self.value_w is not None


def judge(
    value_w: float | None,
    reported_at: datetime | None,
    now: datetime,
    *,
    fuse_w: float,
    max_age: timedelta = DEFAULT_MAX_AGE,
) -> MeterReading:
    """Whether one reading may be acted on: present, fresh and plausible."""
    if value_w is None or reported_at is None:
        return MeterReading(None, MISSING)
    age = (now - reported_at).total_seconds()
    if not math.isfinite(value_w) or abs(value_w) > PLAUSIBLE_FUSE_FACTOR * max(fuse_w, 1.0):
        return MeterReading(None, IMPLAUSIBLE, age)
    if age > max_age.total_seconds():
        return MeterReading(None, STALE, age)
    return MeterReading(value_w, OK, age)


class MoveWatch:
    """Whether the meter answered the commands that should have moved it."""

    def __init__(self) -> None:
        """Nothing watched, nothing suspect."""
        self._expected: tuple[datetime, float, float] | None = None
        """When a watched command went out, the reading then and the change it should make."""
        self._frozen_at: float | None = None
        """The reading the meter was stuck at, while it is suspect."""

    @property
    def suspect(self) -> bool:
        """True while the meter has not moved since it failed to answer a command."""
        return self._frozen_at is not None

    def expect(self, now: datetime, reading_w: float | None, change_w: float) -> None:
        """A command went out that should change the import by `change_w` (W)."""
        if reading_w is None or abs(change_w) <= MOVE_MIN_W or self.suspect:
            return
        self._expected = (now, reading_w, change_w)

    def update(self, now: datetime, reading_w: float) -> bool:
        """Look at a new reading; True while the meter is suspect."""
        if self._frozen_at is not None:
            if abs(reading_w - self._frozen_at) > MOVE_NOISE_W:
                self._frozen_at = None  # it moves again
            return self.suspect
        if self._expected is None:
            return False
        sent, before, change = self._expected
        if abs(reading_w - before) >= MOVE_SHARE * abs(change):
            self._expected = None  # answered
        elif now - sent >= MOVE_WITHIN:
            self._expected = None
            self._frozen_at = reading_w
        return self.suspect
