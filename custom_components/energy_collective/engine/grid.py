"""Grid signals for the planner: demand response, peak windows, demand charges, fixed tariffs.

Demand response
---------------
A `DemandResponseEvent` comes from one of three sources: a calendar entity (events whose title
or description holds a configured keyword, `calendar_events`), an action the user calls
(`action_event`), or the Octopus Energy saving-session event entity
(`parse_octopus_saving_sessions`). On the planning grid (`demand_response_series`) an event
becomes an import cap (every step the event touches is capped, the lowest cap winning where
events overlap) and an incentive per kWh (weighted by the share of the step the event covers,
added where events overlap). `apply_demand_response` puts both into a `Problem`: the cap
lowers `grid.import_limit_w` and the incentive is added to the import price, which is the
linear form of "paid per kWh below the baseline" as long as the plan stays below it.

Baseline and performance
------------------------
`event_baseline` computes a utility-style baseline from measured import: for an event on a
weekday, the mean of the same wall-clock slots on the previous 10 weekdays; for one on a weekend
day or a holiday, the previous 4 weekend days or holidays. Days with an event, days before the
history and days with a gap in the event's slots are skipped; the search goes back at most
`max_lookback_days`. Not done here: the "high X of Y" variants (e.g. the 5 days of highest
consumption among the previous 10, or 4 of 5) that some programmes use, and the same-day
("morning") adjustment that scales the baseline by the hours before the event. Both are easy
to add on top of `baseline_days`, but they need the programme's exact rule to be worth it.

`event_performance` compares the measured import with the baseline slot by slot: a slot's
reduction is the baseline minus the measurement, negative slots count as zero (no slot is
penalised), and the reward is the reduced energy times the incentive.

Peaks and windows
-----------------
`peak_now` says whether the price now is above the horizon's 75th percentile (or a given
threshold); `next_window` finds the next run of expensive (above) or cheap (below the 25th
percentile) steps, or, with a length, the cheapest or dearest window of that length through
`engine/windows.extreme_window`.

Demand charges
--------------
`billing_period_start`, `peak_so_far` (highest mean import over the demand interval in the
billing period so far) and `demand_charge_floor` (the peak the planner should treat as already
paid; 0 when the horizon reaches into the next billing period, so a new period's peak is
never thought free).

Helpers for the agent
---------------------
`holidays_from_calendar` (the dates of a holiday calendar's all-day events), `parse_keywords`
(the comma-separated keywords of the options) and `event_to_dict`/`event_from_dict` (events kept
in a JSON store).
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any, Final, Literal

from .model import Grid, Interval, Problem, Series
from .tariffs import TouSchedule, local_to_utc
from .timeseries import parse_number, parse_time, to_series
from .windows import Window, extreme_window

DemandResponseSource = Literal["calendar", "action", "octopus"]

OCTOPOINT_VALUE_GBP: Final = 1 / 800
"""What one Octoplus point is worth when redeemed (800 points = 1 GBP)."""

WEEKDAY_BASELINE_DAYS: Final = 10
WEEKEND_BASELINE_DAYS: Final = 4


class DemandResponseError(ValueError):
    """An event that cannot be used; `key` is a translation key."""

    def __init__(self, key: str, detail: str = "") -> None:
        super().__init__(f"{key}: {detail}" if detail else key)
        self.key = key


# ---------------------------------------------------------------------------------------------
# Events
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DemandResponseEvent:
    """A demand-response event: from `start` to `end`, an import cap and/or an incentive.

    `import_cap_w` limits grid import during the event (None: no cap). `incentive_per_kwh` is
    paid per kWh imported below the baseline (None: unknown or none). `joined`: whether the home
    takes part (an Octopus session that is only available is not joined).
    """

    id: str
    source: DemandResponseSource
    start: datetime
    end: datetime
    import_cap_w: float | None = None
    incentive_per_kwh: float | None = None
    title: str = ""
    joined: bool = True

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise DemandResponseError("event_time", "times must be timezone-aware")
        if self.end <= self.start:
            raise DemandResponseError("event_time", "end must be after start")
        if self.import_cap_w is not None and not (
            math.isfinite(self.import_cap_w) and self.import_cap_w >= 0
        ):
            raise DemandResponseError("event_cap", "import_cap_w must be >= 0")
        if self.incentive_per_kwh is not None and not math.isfinite(self.incentive_per_kwh):
            raise DemandResponseError("event_incentive", "incentive must be a number")

    def active_at(self, when: datetime) -> bool:
        """Whether the event holds at `when`."""
        return self.start <= when < self.end

    def days(self, tz: tzinfo) -> set[date]:
        """The local dates the event touches."""
        first = self.start.astimezone(tz).date()
        last = (self.end - timedelta(microseconds=1)).astimezone(tz).date()
        return {first + timedelta(days=i) for i in range((last - first).days + 1)}


def action_event(
    start: datetime,
    end: datetime,
    import_cap_w: float | None = None,
    incentive_per_kwh: float | None = None,
    *,
    event_id: str | None = None,
    title: str = "",
) -> DemandResponseEvent:
    """An event from the user's action; it needs a cap, an incentive or both."""
    if import_cap_w is None and incentive_per_kwh is None:
        raise DemandResponseError("event_empty", "give an import cap, an incentive or both")
    return DemandResponseEvent(
        id=event_id or f"action:{start.astimezone(UTC).isoformat()}",
        source="action",
        start=start,
        end=end,
        import_cap_w=import_cap_w,
        incentive_per_kwh=incentive_per_kwh,
        title=title,
    )


def _keyword_pattern(keyword: str) -> re.Pattern[str] | None:
    words = keyword.split()
    if not words:
        return None
    body = r"\s+".join(re.escape(w) for w in words)
    return re.compile(rf"(?<!\w){body}(?!\w)", re.IGNORECASE)


def matches_keywords(text: str | None, keywords: Iterable[str]) -> bool:
    """Whether `text` holds one of `keywords` as whole words, ignoring case.

    A keyword may be several words ("saving session"); any white space between them matches.
    "peak" matches "Peak event" and "PEAK!" but not "peaked" or "off-peakish".
    """
    if not text:
        return False
    for keyword in keywords:
        pattern = _keyword_pattern(keyword)
        if pattern is not None and pattern.search(text):
            return True
    return False


_CAP_TEXT: Final = re.compile(r"(?<![\w.])(\d+(?:[.,]\d+)?)\s*(kw|w)(?![\w/])", re.IGNORECASE)
_INCENTIVE_TEXT: Final = re.compile(
    r"(\d+(?:[.,]\d+)?)\s*(?:[^\s\d/]{1,4})?\s*/\s*kwh", re.IGNORECASE
)


def _number(text: str) -> float:
    return float(text.replace(",", "."))


def calendar_events(
    events: Iterable[Mapping[str, Any]],
    keywords: Collection[str],
    *,
    import_cap_w: float | None = None,
    incentive_per_kwh: float | None = None,
    tz: tzinfo | None = None,
) -> list[DemandResponseEvent]:
    """Demand-response events from calendar events (`calendar.get_events` items).

    Each item has ``summary``, ``start``, ``end`` and optionally ``description`` and ``uid``;
    all-day events give dates, placed at midnight in `tz` (skipped without it). Items whose
    summary or description matches a keyword become events. A power in the text ("3 kW",
    "2500 W") is the event's cap and an amount per kWh ("0.50 EUR/kWh", "30p/kWh" is read as
    30) its incentive; otherwise the configured `import_cap_w` and `incentive_per_kwh` apply.
    """
    out: list[DemandResponseEvent] = []
    for item in events:
        summary = str(item.get("summary") or "")
        description = str(item.get("description") or "")
        if not (matches_keywords(summary, keywords) or matches_keywords(description, keywords)):
            continue
        start = _calendar_time(item.get("start"), tz)
        end = _calendar_time(item.get("end"), tz)
        if start is None or end is None or end <= start:
            continue
        text = f"{summary}\n{description}"
        cap = import_cap_w
        if match := _CAP_TEXT.search(text):
            cap = _number(match.group(1)) * (1000 if match.group(2).lower() == "kw" else 1)
        incentive = incentive_per_kwh
        if match := _INCENTIVE_TEXT.search(text):
            incentive = _number(match.group(1))
        uid = item.get("uid")
        out.append(
            DemandResponseEvent(
                id=f"calendar:{uid}" if uid else f"calendar:{start.isoformat()}:{summary}",
                source="calendar",
                start=start,
                end=end,
                import_cap_w=cap,
                incentive_per_kwh=incentive,
                title=summary,
            )
        )
    return out


def _calendar_time(value: Any, tz: tzinfo | None) -> datetime | None:
    if isinstance(value, date) and not isinstance(value, datetime):
        return local_to_utc(datetime.combine(value, time(0)), tz) if tz else None
    if isinstance(value, str) and len(value.strip()) == 10:
        try:
            day = date.fromisoformat(value.strip())
        except ValueError:
            return None
        return local_to_utc(datetime.combine(day, time(0)), tz) if tz else None
    return parse_time(value, tz)


def parse_octopus_saving_sessions(
    attributes: Mapping[str, Any],
    *,
    point_value: float = OCTOPOINT_VALUE_GBP,
    include_available: bool = False,
    import_cap_w: float | None = None,
) -> list[DemandResponseEvent]:
    """Events from the attributes of the Octopus Energy saving-session event entity.

    ``joined_events`` items have ``id``, ``start``, ``end``, ``octopoints_per_kwh`` (None when
    unknown) and ``rewarded_octopoints``; ``available_events`` items (not joined yet) have
    ``code`` as well. The incentive is ``octopoints_per_kwh x point_value`` (GBP per kWh).
    Available events come back with ``joined=False`` only when `include_available`. Bad items
    are skipped; events are sorted by start.
    """
    out: dict[str, DemandResponseEvent] = {}
    groups = [("joined_events", True)]
    if include_available:
        groups.append(("available_events", False))
    for key, joined in groups:
        items = attributes.get(key)
        if not isinstance(items, Sequence) or isinstance(items, str | bytes):
            continue
        for item in items:
            if not isinstance(item, Mapping):
                continue
            start = parse_time(item.get("start"))
            end = parse_time(item.get("end"))
            if start is None or end is None or end <= start:
                continue
            points = parse_number(item.get("octopoints_per_kwh"))
            ident = f"octopus:{item.get('id') or start.astimezone(UTC).isoformat()}"
            if ident in out:
                continue
            out[ident] = DemandResponseEvent(
                id=ident,
                source="octopus",
                start=start,
                end=end,
                import_cap_w=import_cap_w,
                incentive_per_kwh=points * point_value if points is not None else None,
                title=str(item.get("code") or "Saving session"),
                joined=joined,
            )
    return sorted(out.values(), key=lambda e: (e.start, e.id))


# ---------------------------------------------------------------------------------------------
# Events on the planning grid
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DemandResponseSeries:
    """Events on a planning grid: per step the cap (None: none) and the incentive per kWh."""

    import_cap_w: tuple[float | None, ...]
    incentive_per_kwh: tuple[float, ...]
    event_ids: tuple[tuple[str, ...], ...]
    """The events touching each step."""


def demand_response_series(
    events: Iterable[DemandResponseEvent], start: datetime, step: timedelta, n_steps: int
) -> DemandResponseSeries:
    """Caps and incentives of the joined `events` on `n_steps` steps of `step` from `start`.

    A cap holds for every step the event touches (a safe reading of a cap that starts or ends
    inside a step); an incentive counts for the share of the step the event covers.
    """
    caps: list[float | None] = [None] * n_steps
    incentives = [0.0] * n_steps
    ids: list[list[str]] = [[] for _ in range(n_steps)]
    width = step.total_seconds()
    origin = start.timestamp()
    for event in events:
        if not event.joined:
            continue
        lo = event.start.timestamp()
        hi = event.end.timestamp()
        first = max(0, math.floor((lo - origin) / width))
        last = min(n_steps, math.ceil((hi - origin) / width))
        for t in range(first, last):
            a = max(lo, origin + t * width)
            b = min(hi, origin + (t + 1) * width)
            if b <= a:
                continue
            ids[t].append(event.id)
            if event.import_cap_w is not None:
                cap = caps[t]
                caps[t] = event.import_cap_w if cap is None else min(cap, event.import_cap_w)
            if event.incentive_per_kwh:
                incentives[t] += event.incentive_per_kwh * (b - a) / width
    return DemandResponseSeries(tuple(caps), tuple(incentives), tuple(tuple(i) for i in ids))


def apply_demand_response(problem: Problem, events: Iterable[DemandResponseEvent]) -> Problem:
    """`problem` with the events' caps on the import limit and incentives on the import price."""
    dr = demand_response_series(events, problem.start, problem.step, problem.n_steps)
    limits = tuple(
        lim if cap is None else min(lim, cap)
        for lim, cap in zip(problem.grid.import_limit_w, dr.import_cap_w, strict=True)
    )
    prices = tuple(
        p + inc for p, inc in zip(problem.import_price, dr.incentive_per_kwh, strict=True)
    )
    grid: Grid = replace(problem.grid, import_limit_w=limits)
    return replace(problem, grid=grid, import_price=prices)


def active_cap(
    events: Iterable[DemandResponseEvent], now: datetime, limit_w: float
) -> tuple[float, str | None]:
    """The import limit that holds at `now` (the lowest of `limit_w` and the joined events'
    caps) and the id of the event that sets it (None: `limit_w`). For the real-time dispatcher.
    """
    best: tuple[float, str | None] = (limit_w, None)
    for event in events:
        if (
            event.joined
            and event.import_cap_w is not None
            and event.active_at(now)
            and event.import_cap_w < best[0]
        ):
            best = (event.import_cap_w, event.id)
    return best


# ---------------------------------------------------------------------------------------------
# Baseline and performance
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Baseline:
    """The baseline of an event: mean import (W) per slot of `step` from `start`."""

    event_id: str
    start: datetime
    step: timedelta
    values_w: tuple[float, ...]
    days: tuple[date, ...]
    """The days averaged, most recent first."""
    rule: Literal["weekday", "weekend"]
    complete: bool
    """Whether as many days as the rule wants were found."""

    @property
    def energy_kwh(self) -> float:
        """Baseline energy of the event."""
        return sum(self.values_w) / 1000 * self.step.total_seconds() / 3600


@dataclass(frozen=True, slots=True)
class Performance:
    """How an event went: energy below the baseline and its reward."""

    baseline_kwh: float
    measured_kwh: float
    energy_reduced_kwh: float
    reward: float
    reduced_kwh: tuple[float, ...]
    """Per slot, clipped at zero."""
    complete: bool
    """Whether every slot had a measurement."""


def _is_weekend_like(day: date, holidays: Collection[date]) -> bool:
    return day.weekday() >= 5 or day in holidays


def baseline_days(
    event_day: date,
    candidates: Callable[[date], bool],
    *,
    weekend: bool,
    holidays: Collection[date] = (),
    max_lookback_days: int = 60,
) -> list[date]:
    """Previous days of the event's type (weekday, or weekend/holiday) that `candidates`
    accepts, most recent first, as many as the rule wants (10 weekdays or 4 weekend days)."""
    wanted = WEEKEND_BASELINE_DAYS if weekend else WEEKDAY_BASELINE_DAYS
    out: list[date] = []
    for back in range(1, max_lookback_days + 1):
        day = event_day - timedelta(days=back)
        if _is_weekend_like(day, holidays) != weekend:
            continue
        if candidates(day):
            out.append(day)
            if len(out) == wanted:
                break
    return out


def event_baseline(
    history: Series,
    event: DemandResponseEvent,
    event_days: Collection[date] = (),
    *,
    tz: tzinfo | None = None,
    holidays: Collection[date] = (),
    max_lookback_days: int = 60,
) -> Baseline:
    """The utility baseline of `event` from measured import `history` (W per step).

    Slots are the history's steps inside the event (the event is widened to whole steps). The
    event's day is taken in `tz` (default: the zone of `event.start`); each earlier day gives the
    same wall-clock slots, so a day with a clock change still lines up. `event_days` are days
    with events, left out. Raises DemandResponseError("baseline_no_days") when no day qualifies.
    """
    tz = tz or event.start.tzinfo
    assert tz is not None  # the event's times are aware
    step = history.step
    first = history.start + step * math.floor((event.start - history.start) / step)
    n = max(1, math.ceil((event.end - first) / step))
    local_first = first.astimezone(tz)
    event_day = local_first.date()
    clock = local_first.replace(tzinfo=None).time()
    excluded = set(event_days)

    def slots(day: date) -> list[float | None]:
        begin = local_to_utc(datetime.combine(day, clock), tz)
        return [history.value_at(begin + step * i) for i in range(n)]

    def usable(day: date) -> bool:
        return day not in excluded and all(v is not None for v in slots(day))

    weekend = _is_weekend_like(event_day, holidays)
    days = baseline_days(
        event_day,
        usable,
        weekend=weekend,
        holidays=holidays,
        max_lookback_days=max_lookback_days,
    )
    if not days:
        raise DemandResponseError("baseline_no_days", event.id)
    rows = [[v or 0.0 for v in slots(day)] for day in days]
    values = tuple(statistics.fmean(col) for col in zip(*rows, strict=True))
    wanted = WEEKEND_BASELINE_DAYS if weekend else WEEKDAY_BASELINE_DAYS
    return Baseline(
        event_id=event.id,
        start=first,
        step=step,
        values_w=values,
        days=tuple(days),
        rule="weekend" if weekend else "weekday",
        complete=len(days) == wanted,
    )


def event_performance(baseline: Baseline, measured: Series, incentive: float | None) -> Performance:
    """Energy reduced below `baseline` and the reward at `incentive` per kWh (None: 0).

    `measured` is import in W; each slot takes the measurement at the slot's start (so it should
    have the baseline's step). A slot without a measurement counts as no reduction.
    """
    hours = baseline.step.total_seconds() / 3600
    reduced: list[float] = []
    base_kwh = measured_kwh = 0.0
    complete = True
    for i, base in enumerate(baseline.values_w):
        value = measured.value_at(baseline.start + baseline.step * i)
        base_kwh += base / 1000 * hours
        if value is None:
            complete = False
            reduced.append(0.0)
            continue
        measured_kwh += value / 1000 * hours
        reduced.append(max(0.0, (base - value) / 1000 * hours))
    total = sum(reduced)
    return Performance(
        baseline_kwh=base_kwh,
        measured_kwh=measured_kwh,
        energy_reduced_kwh=total,
        reward=total * (incentive or 0.0),
        reduced_kwh=tuple(reduced),
        complete=complete,
    )


# ---------------------------------------------------------------------------------------------
# Peaks and windows
# ---------------------------------------------------------------------------------------------


def quantile(values: Iterable[float | None], q: float) -> float | None:
    """The `q` quantile (0..1, linear interpolation) of the known values; None for none."""
    known = sorted(v for v in values if v is not None)
    if not known:
        return None
    if len(known) == 1:
        return known[0]
    pos = min(max(q, 0.0), 1.0) * (len(known) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(known) - 1)
    return known[lo] + (known[hi] - known[lo]) * (pos - lo)


def _upcoming(series: Series, now: datetime) -> list[float | None]:
    first = max(0, int((now - series.start) / series.step)) if now > series.start else 0
    return list(series.values[first:])


def peak_now(
    series: Series, now: datetime, threshold: float | None = None, *, q: float = 0.75
) -> bool:
    """Whether the value at `now` is above `threshold` (default: the `q` quantile of the
    series from the step holding `now` to its end). False when `now` has no value."""
    value = series.value_at(now)
    if value is None:
        return False
    limit = threshold if threshold is not None else quantile(_upcoming(series, now), q)
    return limit is not None and value > limit


def next_window(
    series: Series,
    now: datetime,
    *,
    expensive: bool,
    threshold: float | None = None,
    length: timedelta | None = None,
) -> Window | None:
    """The next expensive (or cheap) window from the step holding `now`.

    With `length`, the dearest (cheapest) window of that length (`extreme_window`). Without,
    the first run of steps above (below) `threshold`, by default the 75th (25th) percentile of
    the series from `now` on; a run that holds `now` counts and keeps its real start.
    """
    if length is not None:
        return extreme_window(series, length, now, cheapest=not expensive)
    if threshold is None:
        threshold = quantile(_upcoming(series, now), 0.75 if expensive else 0.25)
        if threshold is None:
            return None
    values = series.values

    def inside(v: float | None) -> bool:
        if v is None:
            return False
        return v > threshold if expensive else v < threshold

    i = max(0, int((now - series.start) / series.step)) if now > series.start else 0
    if i < len(values) and inside(values[i]):
        while i > 0 and inside(values[i - 1]):
            i -= 1
    else:
        while i < len(values) and not inside(values[i]):
            i += 1
        if i >= len(values):
            return None
    j = i
    while j < len(values) and inside(values[j]):
        j += 1
    chunk = [v for v in values[i:j] if v is not None]
    start = series.start + series.step * i
    return Window(start, series.start + series.step * j, sum(chunk) / len(chunk))


# ---------------------------------------------------------------------------------------------
# Demand charges
# ---------------------------------------------------------------------------------------------

BillingPeriod = Literal["month", "day"]


def billing_period_start(now: datetime, period: BillingPeriod, tz: tzinfo) -> datetime:
    """Start (UTC) of the billing period that holds `now`: local midnight of the day or of the
    first of the month."""
    local = now.astimezone(tz).date()
    day = local if period == "day" else local.replace(day=1)
    return local_to_utc(datetime.combine(day, time(0)), tz)


def next_billing_period_start(now: datetime, period: BillingPeriod, tz: tzinfo) -> datetime:
    """Start (UTC) of the billing period after the one that holds `now`."""
    local = now.astimezone(tz).date()
    if period == "day":
        day = local + timedelta(days=1)
    else:
        day = (local.replace(day=1) + timedelta(days=32)).replace(day=1)
    return local_to_utc(datetime.combine(day, time(0)), tz)


def peak_so_far(
    history: Series,
    now: datetime,
    period: BillingPeriod,
    tz: tzinfo,
    *,
    interval: timedelta = timedelta(minutes=15),
) -> float:
    """The highest mean import (W) over the demand `interval` in the billing period up to `now`.

    `history` is import in W. Demand intervals are aligned on the period start; an interval
    counts once it is complete and has at least one value (missing steps are left out of its
    mean). Negative values (export) count as zero import.
    """
    begin = billing_period_start(now, period, tz)
    series = to_series(
        [
            Interval(
                start=history.start + history.step * i,
                end=history.start + history.step * (i + 1),
                value=max(0.0, v),
            )
            for i, v in enumerate(history.values)
            if v is not None
        ],
        begin,
        interval,
        max(0, math.floor((now - begin) / interval)),
    )
    return max((v for v in series.values if v is not None), default=0.0)


def demand_charge_floor(
    peak_w: float,
    now: datetime,
    horizon_end: datetime,
    period: BillingPeriod,
    tz: tzinfo,
) -> float:
    """The `Grid.peak_floor_w` for a plan from `now` to `horizon_end`: the peak already paid
    (`peak_w`) when the horizon stays in the billing period, else 0 (the model has one peak)."""
    if horizon_end > next_billing_period_start(now, period, tz):
        return 0.0
    return max(0.0, peak_w)


# ---------------------------------------------------------------------------------------------
# Fixed tariffs on the planning grid
# ---------------------------------------------------------------------------------------------


def tou_prices(
    schedule: TouSchedule,
    start: datetime,
    step: timedelta,
    n_steps: int,
    tz: tzinfo,
    *,
    holidays: Collection[date] = (),
) -> tuple[float, ...]:
    """A time-of-use schedule as one price per planning step (time-weighted within a step)."""
    intervals = schedule.intervals(start, start + step * n_steps, tz, holidays)
    series = to_series(intervals, start, step, n_steps)
    return tuple(v if v is not None else 0.0 for v in series.values)


# ---------------------------------------------------------------------------------------------
# Holidays, keywords and stored events
# ---------------------------------------------------------------------------------------------


def holidays_from_calendar(items: Iterable[Mapping[str, Any]]) -> set[date]:
    """The dates of the all-day events among `calendar.get_events` items (a holiday calendar).

    An all-day event gives dates as ``YYYY-MM-DD``; its end is exclusive, so a one-day holiday
    runs from its date to the next day. Timed events are not holidays and are skipped.
    """
    out: set[date] = set()
    for item in items:
        first = _all_day(item.get("start"))
        end = _all_day(item.get("end"))
        if first is None:
            continue
        last = end - timedelta(days=1) if end is not None and end > first else first
        out.update(first + timedelta(days=i) for i in range((last - first).days + 1))
    return out


def _all_day(value: Any) -> date | None:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and len(value.strip()) == 10:
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def parse_keywords(text: str | None) -> tuple[str, ...]:
    """Comma-separated keywords, trimmed, without empty ones or repeats (ignoring case)."""
    out: list[str] = []
    for part in (text or "").split(","):
        word = " ".join(part.split())
        if word and word.lower() not in (w.lower() for w in out):
            out.append(word)
    return tuple(out)


def event_to_dict(event: DemandResponseEvent) -> dict[str, Any]:
    """JSON-ready form of an event."""
    return {
        "id": event.id,
        "source": event.source,
        "start": event.start.isoformat(),
        "end": event.end.isoformat(),
        "import_cap_w": event.import_cap_w,
        "incentive_per_kwh": event.incentive_per_kwh,
        "title": event.title,
        "joined": event.joined,
    }


def event_from_dict(data: Mapping[str, Any]) -> DemandResponseEvent:
    """Read `event_to_dict` output; raises DemandResponseError or ValueError when malformed."""
    source = data.get("source")
    if source not in ("calendar", "action", "octopus"):
        raise DemandResponseError("event_source", str(source))
    cap = data.get("import_cap_w")
    incentive = data.get("incentive_per_kwh")
    return DemandResponseEvent(
        id=str(data["id"]),
        source=source,
        start=datetime.fromisoformat(str(data["start"])),
        end=datetime.fromisoformat(str(data["end"])),
        import_cap_w=None if cap is None else float(cap),
        incentive_per_kwh=None if incentive is None else float(incentive),
        title=str(data.get("title") or ""),
        joined=bool(data.get("joined", True)),
    )
