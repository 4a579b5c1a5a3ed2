"""When a grid reading may be acted on (engine/meter.py)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from custom_components.energy_collective.engine import meter

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
FUSE = 11000.0


def test_fresh_plausible_readings_count() -> None:
    """A reading reported 10 s ago, within what the connection carries, may be acted on."""
    reading = meter.judge(4200.0, NOW - timedelta(seconds=10), NOW, fuse_w=FUSE)
    assert reading.ok
    assert reading.value_w == 4200.0
    assert reading.age_s == 10.0


def test_missing_stale_and_implausible_readings_do_not() -> None:
    """No value, a report older than the limit, or more than three fuses: not trusted."""
    assert meter.judge(None, NOW, NOW, fuse_w=FUSE).status == meter.MISSING
    assert meter.judge(4200.0, None, NOW, fuse_w=FUSE).status == meter.MISSING
    old = meter.judge(4200.0, NOW - timedelta(seconds=61), NOW, fuse_w=FUSE)
    assert (old.status, old.value_w) == (meter.STALE, None)
    longer = meter.judge(
        4200.0, NOW - timedelta(seconds=61), NOW, fuse_w=FUSE, max_age=timedelta(seconds=90)
    )
    assert longer.ok
    assert meter.judge(1e9, NOW, NOW, fuse_w=FUSE).status == meter.IMPLAUSIBLE
    assert meter.judge(-40000.0, NOW, NOW, fuse_w=FUSE).status == meter.IMPLAUSIBLE
    assert meter.judge(math.nan, NOW, NOW, fuse_w=FUSE).status == meter.IMPLAUSIBLE
    assert meter.judge(-30000.0, NOW, NOW, fuse_w=FUSE).ok  # a big export is plausible


def test_a_meter_that_does_not_answer_is_suspect_until_it_moves() -> None:
    """A command worth 2 kW, a meter that stays put for 30 s: suspect; once it moves: fine."""
    watch = meter.MoveWatch()
    watch.expect(NOW, 5000.0, 2000.0)
    assert not watch.update(NOW + timedelta(seconds=10), 5000.0)
    assert watch.update(NOW + timedelta(seconds=30), 5010.0)
    assert watch.update(NOW + timedelta(seconds=60), 5040.0)  # noise is no movement
    assert not watch.update(NOW + timedelta(seconds=70), 5200.0)


def test_a_meter_that_answers_is_not_suspect() -> None:
    """It moved by a tenth of the change or more within 30 s; small commands are not watched."""
    watch = meter.MoveWatch()
    watch.expect(NOW, 5000.0, -3000.0)
    assert not watch.update(NOW + timedelta(seconds=5), 4600.0)
    assert not watch.update(NOW + timedelta(seconds=60), 4600.0)
    watch.expect(NOW, 5000.0, 900.0)
    assert not watch.update(NOW + timedelta(seconds=60), 5000.0)


readings = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-50000, max_value=50000),
)


@given(value=readings, age=st.floats(min_value=-5, max_value=3600), fuse=st.floats(1000, 1e5))
def test_only_fresh_finite_bounded_readings_are_trusted(
    value: float | None, age: float, fuse: float
) -> None:
    """Whatever the meter says: a trusted reading is finite, fresh and within three fuses."""
    reading = meter.judge(value, NOW - timedelta(seconds=age), NOW, fuse_w=fuse)
    if reading.ok:
        assert reading.value_w is not None
        assert math.isfinite(reading.value_w)
        assert abs(reading.value_w) <= 3 * fuse
        assert age <= 60
    else:
        assert reading.value_w is None
