"""Price windows: where in a price series the cheapest or dearest stretch of time lies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from .model import Series


@dataclass(frozen=True, slots=True)
class Window:
    """A stretch of whole steps and its average price."""

    start: datetime
    end: datetime
    average: float


def extreme_window(
    series: Series, length: timedelta, not_before: datetime, *, cheapest: bool = True
) -> Window | None:
    """The cheapest (or dearest) window of `length` from the step that holds `not_before`.

    Windows made of whole steps; steps without a price are never part of a window. Ties go to
    the earliest window. None when no complete window fits in the series.
    """
    width = max(1, round(length / series.step))
    first = 0
    if not_before > series.start:
        first = int((not_before - series.start) / series.step)
    best: Window | None = None
    values = series.values
    for i in range(first, len(values) - width + 1):
        chunk = values[i : i + width]
        if any(v is None for v in chunk):
            continue
        average = sum(v for v in chunk if v is not None) / width
        if best is None or (average < best.average if cheapest else average > best.average):
            start = series.start + series.step * i
            best = Window(start, start + series.step * width, average)
    return best
