"""Price formats of the integrations users have, and fixed time-of-use schedules.

Dynamic prices
--------------
`parse_price_attributes` reads the state attributes of a price entity and recognises:

- ``nordpool``: the Nord Pool custom integration (``raw_today``/``raw_tomorrow`` lists of
  ``{start, end, value}``, with ``unit``, ``currency`` and ``price_in_cents``);
- ``entsoe``: the ENTSO-E custom integration (``prices_today``, ``prices_tomorrow``, ``prices``
  lists of ``{time, price}``);
- ``octopus_energy``: the rates event entities of the Octopus Energy integration (``rates`` list
  of ``{start, end, value_inc_vat}`` in GBP/kWh);
- ``amberelectric``: the forecast sensors of the Amber Electric integration (``forecasts`` list
  of ``{start_time, end_time, per_kwh}`` in $/kWh, Australian dollars);
- ``emhass``: EMHASS's published sensors (``unit_load_cost_forecasts``,
  ``unit_prod_price_forecasts``, ``forecasts``...: lists of ``{date, <sensor name>: "0.2"}``);
- ``haeo``: HAEO's output sensors (``forecast`` list of ``{time, value}``);
- ``list``: any attribute holding ``[{time|date|start...: iso, value|price|...: number}]``;
- ``mapping``: a plain ``{iso_time: value}`` mapping, as an attribute such as ``forecast`` or
  ``prices``, or as the whole attribute dict.

The intervals come back in the unit of the source; `ParsedPrices.per_kwh` converts them to
currency per kWh. Action responses have their own functions, also in the unit of the source:
`parse_nordpool_response` for ``nordpool.get_prices_for_date`` (currency per MWh) and
`parse_tibber_response` for ``tibber.get_prices`` (currency per kWh).

Time-of-use schedules
---------------------
A fixed tariff is written as text, one rule per line::

    [MONTHS] DAYS HH:MM PRICE, HH:MM PRICE, ...

Each ``HH:MM PRICE`` says that the price starts at that time and holds until the next time of
the line; the last one wraps round to the first, so one line covers a whole day. For example
``weekday 07:00 0.30, 22:00 0.12`` costs 0.30 from 07:00 to 22:00 and 0.12 from 22:00 to 07:00.

- DAYS: ``all``, ``weekday`` (Monday to Friday), ``weekend``, ``mon`` ... ``sun``, ranges
  (``mon-fri``, ``fri-mon`` wraps round), lists (``sat,sun``), and ``holidays`` for the dates
  given to the schedule as holidays.
- MONTHS (optional): ``jan`` ... ``dec``, ranges (``jun-sep``; ``nov-feb`` wraps round the new
  year) and lists (``jan,feb,dec``). A line with months but no days applies to every day.
- A number alone (``0.08``) is that price at all times.
- Later lines override earlier ones on the days where both apply.
- Blank lines and text after ``#`` are ignored. Prices are in the home's currency per kWh and
  may be negative.
- Every day of the year must be covered by a line (``holidays`` lines do not count, as the
  holidays are only known when the schedule is used).

Example::

    all 00:00 0.21
    jun-sep weekday 16:00 0.54, 21:00 0.21
    holidays 00:00 0.18

Times are local wall-clock times: on the day the clocks change, a price that starts at 16:00
starts at 16:00 on the clock, and the day has 23 or 25 hours. A time that does not exist that
day (02:30 when clocks jump from 02:00 to 03:00) takes effect when the clocks jump.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any, Final, TypeGuard

from .model import Interval
from .timeseries import (
    Records,
    intervals_from_points,
    median_spacing,
    parse_number,
    points_from_mapping,
    points_from_records,
    sort_unique,
)
from .units import price_unit_factor

# ---------------------------------------------------------------------------------------------
# Dynamic prices
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ParsedPrices:
    """Prices read from an entity's attributes, in the unit of the source."""

    intervals: tuple[Interval, ...] = ()
    """Sorted by start, one per start time."""
    format: str | None = None
    """The recognised format, or None when the attributes hold no price series."""
    unit: str | None = None
    """The unit the values are in (a `price_unit_factor` unit), when the source states it."""
    currency: str | None = None
    """The ISO currency, when the source states it."""
    skipped: int = 0
    """Entries that were left out: bad time, non-numeric value."""

    def per_kwh(self) -> tuple[Interval, ...]:
        """The intervals in currency per kWh. Raises `UnitError` for an unknown unit."""
        factor, _ = price_unit_factor(self.unit)
        if factor == 1.0:
            return self.intervals
        return tuple(
            Interval(start=i.start, end=i.end, value=i.value * factor) for i in self.intervals
        )

    @property
    def iso_currency(self) -> str | None:
        """The currency stated by the source or implied by its unit, when known."""
        if self.currency:
            return self.currency
        try:
            return price_unit_factor(self.unit)[1]
        except ValueError:
            return None


_TIME_KEYS: Final = (
    "start",
    "start_time",
    "startsAt",
    "starts_at",
    "period_start",
    "time",
    "date",
    "datetime",
    "timestamp",
    "valid_from",
    "from",
)
_END_KEYS: Final = ("end", "end_time", "endsAt", "ends_at", "valid_to", "to")
_VALUE_KEYS: Final = (
    "value",
    "price",
    "total",
    "price_total",
    "per_kwh",
    "value_inc_vat",
    "state",
)
_LIST_ATTRIBUTES: Final = ("forecast", "forecasts", "prices", "data", "values", "rates")
_MAPPING_ATTRIBUTES: Final = ("forecast", "prices", "price", "data", "values")
_EMHASS_ATTRIBUTES: Final = (
    "unit_load_cost_forecasts",
    "unit_prod_price_forecasts",
    "forecasts",
    "deferrables_schedule",
    "battery_scheduled_power",
    "battery_scheduled_soc",
    "predicted_temperatures",
    "scheduled_forecast",
)
_NORDPOOL_ENERGY_UNITS: Final = ("Wh", "kWh", "MWh")


def parse_price_attributes(
    attributes: Mapping[str, Any], naive_tz: tzinfo | None = None
) -> ParsedPrices:
    """Recognise and read the price series in an entity's attributes.

    Never raises: attributes without a price series give an empty result with format None.
    `naive_tz` places times that carry no offset; without it such entries are skipped.
    """
    readers = (
        _read_nordpool,
        _read_octopus,
        _read_amber,
        _read_entsoe,
        _read_emhass,
        _read_generic_list,
        _read_mapping,
    )
    for reader in readers:
        parsed = reader(attributes, naive_tz)
        if parsed is not None:
            return parsed
    return ParsedPrices()


def _stated_unit(attributes: Mapping[str, Any]) -> str | None:
    unit = attributes.get("unit_of_measurement")
    return unit if isinstance(unit, str) and unit.strip() else None


def _is_record_list(value: Any) -> TypeGuard[Sequence[Mapping[str, Any]]]:
    return (
        isinstance(value, Sequence)
        and not isinstance(value, str | bytes)
        and len(value) > 0
        and isinstance(value[0], Mapping)
    )


def _finish(records: Records) -> list[Interval]:
    """Intervals from what `points_from_records` read: explicit ones plus points made intervals."""
    return sort_unique([*records.intervals, *intervals_from_points(records.points)])


def _read_nordpool(attributes: Mapping[str, Any], naive_tz: tzinfo | None) -> ParsedPrices | None:
    if "raw_today" not in attributes and "raw_tomorrow" not in attributes:
        return None
    records: list[Any] = []
    for key in ("raw_today", "raw_tomorrow"):
        if key == "raw_tomorrow" and attributes.get("tomorrow_valid") is False:
            continue  # old releases repeated today's prices here while tomorrow was unknown
        value = attributes.get(key)
        if isinstance(value, Sequence) and not isinstance(value, str | bytes):
            records.extend(value)
    read = points_from_records(records, ("start",), ("value",), ("end",), naive_tz)
    currency = attributes.get("currency")
    currency = currency if isinstance(currency, str) and currency else None
    energy = attributes.get("unit")
    unit = _stated_unit(attributes)
    if energy in _NORDPOOL_ENERGY_UNITS:
        if attributes.get("price_in_cents") is True:
            unit = f"cents/{energy}"
        elif currency is not None:
            unit = f"{currency}/{energy}"
    return ParsedPrices(
        intervals=tuple(_finish(read)),
        format="nordpool",
        unit=unit,
        currency=currency,
        skipped=read.skipped,
    )


def _read_octopus(attributes: Mapping[str, Any], naive_tz: tzinfo | None) -> ParsedPrices | None:
    rates = attributes.get("rates")
    if not _is_record_list(rates) or "value_inc_vat" not in rates[0]:
        return None
    read = points_from_records(rates, ("start",), ("value_inc_vat",), ("end",), naive_tz)
    return ParsedPrices(
        intervals=tuple(_finish(read)),
        format="octopus_energy",
        unit="GBP/kWh",
        currency="GBP",
        skipped=read.skipped,
    )


def _read_amber(attributes: Mapping[str, Any], naive_tz: tzinfo | None) -> ParsedPrices | None:
    forecasts = attributes.get("forecasts")
    if not _is_record_list(forecasts) or "per_kwh" not in forecasts[0]:
        return None
    read = points_from_records(forecasts, ("start_time",), ("per_kwh",), ("end_time",), naive_tz)
    # Amber's intervals start one second after the boundary (08:30:01 to 09:00:00).
    intervals = [
        Interval(start=i.start - timedelta(seconds=1), end=i.end, value=i.value)
        if i.start.second == 1 and i.start.microsecond == 0
        else i
        for i in read.intervals
    ]
    return ParsedPrices(
        intervals=tuple(_finish(Records(intervals, read.points, read.skipped))),
        format="amberelectric",
        unit="AUD/kWh",
        currency="AUD",
        skipped=read.skipped,
    )


def _read_entsoe(attributes: Mapping[str, Any], naive_tz: tzinfo | None) -> ParsedPrices | None:
    keys = ("prices_today", "prices_tomorrow", "prices")
    lists = [attributes.get(key) for key in keys]
    present = [value for value in lists if _is_record_list(value)]
    if not present or not all("time" in v[0] and "price" in v[0] for v in present):
        return None
    records = [record for value in present for record in value]
    read = points_from_records(records, ("time",), ("price",), (), naive_tz)
    return ParsedPrices(
        intervals=tuple(_finish(read)),
        format="entsoe",
        unit=_stated_unit(attributes),
        skipped=read.skipped,
    )


def emhass_value_key(records: Sequence[Any]) -> str | None:
    """The value key of EMHASS records: the one key beside ``date`` (the sensor's name)."""
    first = records[0]
    if not isinstance(first, Mapping) or "date" not in first:
        return None
    others = [key for key in first if key != "date"]
    return others[0] if len(others) == 1 and isinstance(others[0], str) else None


def _read_emhass(attributes: Mapping[str, Any], naive_tz: tzinfo | None) -> ParsedPrices | None:
    for name in _EMHASS_ATTRIBUTES:
        records = attributes.get(name)
        if not _is_record_list(records):
            continue
        value_key = emhass_value_key(records)
        if value_key is None:
            continue
        read = points_from_records(records, ("date",), (value_key,), (), naive_tz)
        return ParsedPrices(
            intervals=tuple(_finish(read)),
            format="emhass",
            unit=_stated_unit(attributes),
            skipped=read.skipped,
        )
    return None


def record_keys(records: Sequence[Mapping[str, Any]]) -> tuple[str, str, str | None] | None:
    """Time, value and end keys of a list of generic records, judged from its first record.

    The value key is a known name (value, price, ...) or else the only other key whose value is
    a number.
    """
    first = records[0]
    time_key = next((key for key in _TIME_KEYS if key in first), None)
    if time_key is None:
        return None
    end_key = next((key for key in _END_KEYS if key in first), None)
    value_key = next((key for key in _VALUE_KEYS if key in first), None)
    if value_key is None:
        numeric = [
            key
            for key, value in first.items()
            if key not in (time_key, end_key) and parse_number(value) is not None
        ]
        if len(numeric) != 1:
            return None
        value_key = numeric[0]
    return time_key, value_key, end_key


def read_record_list(
    attributes: Mapping[str, Any], naive_tz: tzinfo | None
) -> tuple[str, Records] | None:
    """The first attribute holding a list of time/value records, read; None when there is none."""
    names = [*_LIST_ATTRIBUTES, *(key for key in attributes if key not in _LIST_ATTRIBUTES)]
    for name in names:
        records = attributes.get(name)
        if not _is_record_list(records):
            continue
        keys = record_keys(records)
        if keys is None:
            continue
        time_key, value_key, end_key = keys
        ends = (end_key,) if end_key else ()
        return name, points_from_records(records, (time_key,), (value_key,), ends, naive_tz)
    return None


def _read_generic_list(
    attributes: Mapping[str, Any], naive_tz: tzinfo | None
) -> ParsedPrices | None:
    found = read_record_list(attributes, naive_tz)
    if found is None:
        return None
    name, read = found
    return ParsedPrices(
        intervals=tuple(_finish(read)),
        format="haeo" if name == "forecast" else "list",
        unit=_stated_unit(attributes),
        skipped=read.skipped,
    )


def read_time_mapping(
    attributes: Mapping[str, Any], names: Sequence[str], naive_tz: tzinfo | None
) -> Records | None:
    """A `{time: value}` mapping under one of `names`, or the attribute dict itself if it is one.

    The attribute dict counts as such a mapping when at least two of its keys are times; its
    other keys (friendly_name, unit_of_measurement...) are ignored.
    """
    for name in names:
        mapping = attributes.get(name)
        if isinstance(mapping, Mapping) and mapping:
            read = points_from_mapping(mapping, naive_tz)
            if read.points:
                return read
    whole = points_from_mapping(attributes, naive_tz, strict=False)
    if len(whole.points) >= 2:
        return whole
    return None


def _read_mapping(attributes: Mapping[str, Any], naive_tz: tzinfo | None) -> ParsedPrices | None:
    read = read_time_mapping(attributes, _MAPPING_ATTRIBUTES, naive_tz)
    if read is None:
        return None
    return ParsedPrices(
        intervals=tuple(_finish(read)),
        format="mapping",
        unit=_stated_unit(attributes),
        skipped=read.skipped,
    )


def parse_nordpool_response(response: Mapping[str, Any], area: str | None) -> list[Interval]:
    """Prices from the response of ``nordpool.get_prices_for_date``, in currency per MWh.

    The response maps each area to a list of ``{start, end, price}`` with prices in currency
    per MWh (the currency asked for in the action, by default the config entry's); they are
    returned in that unit, like every parser here: divide by 1000 for currency per kWh. With
    `area` None the first area of the response is used. Bad entries are skipped.
    """
    if area is None:
        area = next((key for key in response if isinstance(key, str)), None)
        if area is None:
            return []
    entries = response.get(area)
    if not isinstance(entries, Sequence) or isinstance(entries, str | bytes):
        return []
    return _finish(points_from_records(entries, ("start",), ("price",), ("end",)))


def parse_tibber_response(response: Mapping[str, Any], home: str | None) -> list[Interval]:
    """Prices from the response of ``tibber.get_prices``, in the home's currency per kWh.

    The response is ``{"prices": {home name: [{start_time, price, level}, ...]}}``; each price
    holds until the next one (the last one as long as the usual spacing, one hour if alone).
    With `home` None the first home is used.
    """
    homes = response.get("prices")
    if not isinstance(homes, Mapping):
        return []
    if home is None:
        home = next((key for key in homes if isinstance(key, str)), None)
        if home is None:
            return []
    entries = homes.get(home)
    if not isinstance(entries, Sequence) or isinstance(entries, str | bytes):
        return []
    read = points_from_records(entries, ("start_time",), ("price",))
    spacing = median_spacing(when for when, _ in read.points)
    return intervals_from_points(read.points, spacing or timedelta(hours=1), None)


# ---------------------------------------------------------------------------------------------
# Time-of-use schedules
# ---------------------------------------------------------------------------------------------


class ScheduleError(ValueError):
    """A time-of-use schedule that cannot be used."""

    key: str
    """Translation key: schedule_syntax, schedule_time, schedule_price or schedule_gap."""
    line: int
    """1-based line of the text; 0 when the schedule as a whole is at fault."""

    def __init__(self, key: str, line: int, detail: str = "") -> None:
        super().__init__(f"{key} (line {line}): {detail}" if detail else f"{key} (line {line})")
        self.key = key
        self.line = line
        self.detail = detail


_MONTHS: Final = (
    "jan",
    "feb",
    "mar",
    "apr",
    "may",
    "jun",
    "jul",
    "aug",
    "sep",
    "oct",
    "nov",
    "dec",
)
_MONTH_NAMES: Final = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
_DAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_NAMES: Final = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY_GROUPS: Final[dict[str, frozenset[int]]] = {
    "all": frozenset(range(7)),
    "daily": frozenset(range(7)),
    "weekday": frozenset(range(5)),
    "weekdays": frozenset(range(5)),
    "weekend": frozenset((5, 6)),
    "weekends": frozenset((5, 6)),
}
_HOLIDAY_WORDS: Final = ("holiday", "holidays")
_TIME_TOKEN = re.compile(r"^(\d{1,2}):(\d{2})$")
_ENTRY = re.compile(r"^(\S+)\s+(\S+)$")


@dataclass(frozen=True, slots=True)
class TouRule:
    """One line of a schedule."""

    months: frozenset[int]
    """1..12."""
    weekdays: frozenset[int]
    """0 (Monday) .. 6 (Sunday)."""
    holidays: bool
    """Whether the rule applies to the holidays given to the schedule."""
    changes: tuple[tuple[time, float], ...]
    """(start time, price), sorted by time; the last price wraps round to the first time."""
    line: int

    def applies(self, day: date, holidays: Collection[date]) -> bool:
        """Whether this rule covers `day`."""
        if day.month not in self.months:
            return False
        return day.weekday() in self.weekdays or (self.holidays and day in holidays)

    def price_at(self, clock: time) -> float:
        """The price at wall-clock time `clock` of a day this rule covers."""
        price = self.changes[-1][1]
        for start, value in self.changes:
            if start <= clock:
                price = value
            else:
                break
        return price


@dataclass(frozen=True, slots=True)
class TouSchedule:
    """A fixed time-of-use tariff: prices by month, day and time of day (see module docs)."""

    rules: tuple[TouRule, ...]
    text: str = field(default="", compare=False)

    def rule_for(self, day: date, holidays: Collection[date] = ()) -> TouRule:
        """The rule that sets the prices of `day`: the last line that applies to it."""
        for rule in reversed(self.rules):
            if rule.applies(day, holidays):
                return rule
        raise ScheduleError("schedule_gap", 0, day.isoformat())  # pragma: no cover - validated

    def price_at(self, local_dt: datetime, holidays: Collection[date] = ()) -> float:
        """The price at the wall-clock time of `local_dt` (aware or naive local time)."""
        rule = self.rule_for(local_dt.date(), holidays)
        return rule.price_at(local_dt.time().replace(tzinfo=None))

    def intervals(
        self, start: datetime, end: datetime, tz: tzinfo, holidays: Collection[date] = ()
    ) -> list[Interval]:
        """Prices from `start` to `end` as intervals in UTC, days taken in zone `tz`.

        Neighbouring intervals with the same price are merged.
        """
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError("start and end must be timezone-aware")
        lo = start.astimezone(UTC)
        hi = end.astimezone(UTC)
        result: list[Interval] = []
        day = lo.astimezone(tz).date()
        last_day = hi.astimezone(tz).date()
        while day <= last_day:
            for seg_start, seg_end, price in self._day_segments(day, tz, holidays):
                a = max(seg_start, lo)
                b = min(seg_end, hi)
                if b <= a:
                    continue
                if result and result[-1].end == a and result[-1].value == price:
                    result[-1] = Interval(start=result[-1].start, end=b, value=price)
                else:
                    result.append(Interval(start=a, end=b, value=price))
            day += timedelta(days=1)
        return result

    def _day_segments(
        self, day: date, tz: tzinfo, holidays: Collection[date]
    ) -> list[tuple[datetime, datetime, float]]:
        rule = self.rule_for(day, holidays)
        day_start = local_to_utc(datetime.combine(day, time(0)), tz)
        day_end = local_to_utc(datetime.combine(day + timedelta(days=1), time(0)), tz)
        points = [(day_start, rule.changes[-1][1])]
        for clock, price in rule.changes:
            when = local_to_utc(datetime.combine(day, clock), tz)
            points.append((max(when, points[-1][0]), price))
        segments: list[tuple[datetime, datetime, float]] = []
        for index, (when, price) in enumerate(points):
            until = points[index + 1][0] if index + 1 < len(points) else day_end
            if until > when:
                segments.append((when, until, price))
        return segments


def local_to_utc(naive: datetime, tz: tzinfo) -> datetime:
    """The UTC instant of wall-clock time `naive` in `tz`.

    An ambiguous time (the repeated hour in autumn) is its first occurrence; a time that does
    not exist (skipped in spring) is the instant the clocks jump.
    """
    first = naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if first.astimezone(tz).replace(tzinfo=None) == naive:
        return first
    second = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
    lo = int(min(first, second).timestamp())
    hi = int(max(first, second).timestamp())
    offset_lo = datetime.fromtimestamp(lo, UTC).astimezone(tz).utcoffset()
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, UTC).astimezone(tz).utcoffset() == offset_lo:
            lo = mid
        else:
            hi = mid
    return datetime.fromtimestamp(hi, UTC)


def parse_tou_schedule(text: str) -> TouSchedule:
    """Read a time-of-use schedule (format in the module docs). Raises `ScheduleError`."""
    rules: list[TouRule] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        rules.append(_parse_rule(line, number))
    schedule = TouSchedule(rules=tuple(rules), text=text)
    _check_coverage(schedule)
    return schedule


def _parse_rule(line: str, number: int) -> TouRule:
    alone = parse_number(line)
    if alone is not None:
        return TouRule(
            months=frozenset(range(1, 13)),
            weekdays=frozenset(range(7)),
            holidays=False,
            changes=((time(0), alone),),
            line=number,
        )
    tokens = line.split()
    first_time = next((i for i, token in enumerate(tokens) if _TIME_TOKEN.match(token)), None)
    if first_time is None:
        key = "schedule_time" if any(":" in token for token in tokens) else "schedule_syntax"
        raise ScheduleError(key, number, line)
    selectors = re.sub(r"\s*([,-])\s*", r"\1", " ".join(tokens[:first_time])).split()
    months, weekdays, holidays = _parse_selectors(selectors, number)
    changes = _parse_changes(" ".join(tokens[first_time:]), number)
    return TouRule(
        months=months, weekdays=weekdays, holidays=holidays, changes=changes, line=number
    )


def _parse_selectors(
    selectors: list[str], number: int
) -> tuple[frozenset[int], frozenset[int], bool]:
    all_months = frozenset(range(1, 13))
    if not selectors:
        raise ScheduleError("schedule_syntax", number, "days missing")
    if len(selectors) > 2:
        raise ScheduleError("schedule_syntax", number, " ".join(selectors))
    if len(selectors) == 2:
        months = _parse_months(selectors[0], number)
        weekdays, holidays = _parse_days(selectors[1], number)
        return months, weekdays, holidays
    only = selectors[0]
    if _looks_like_months(only):
        return _parse_months(only, number), frozenset(range(7)), False
    weekdays, holidays = _parse_days(only, number)
    return all_months, weekdays, holidays


def _name_index(word: str, short: Sequence[str], long: Sequence[str]) -> int | None:
    word = word.lower().rstrip(".")
    if word in short:
        return short.index(word)
    if word in long:
        return long.index(word)
    return None


def _looks_like_months(token: str) -> bool:
    words = re.split(r"[,-]", token)
    return all(_name_index(word, _MONTHS, _MONTH_NAMES) is not None for word in words)


def _expand(token: str, short: Sequence[str], long: Sequence[str], number: int) -> set[int] | None:
    """Indexes named by `a`, `a-b` (wrapping round) or None when `token` is not such a name."""
    parts = token.split("-")
    if len(parts) > 2:
        raise ScheduleError("schedule_syntax", number, token)
    first = _name_index(parts[0], short, long)
    last = _name_index(parts[-1], short, long)
    if first is None or last is None:
        return None
    size = len(short)
    span = (last - first) % size
    return {(first + offset) % size for offset in range(span + 1)}


def _parse_months(token: str, number: int) -> frozenset[int]:
    if token.lower() == "all":
        return frozenset(range(1, 13))
    months: set[int] = set()
    for part in token.split(","):
        indexes = _expand(part, _MONTHS, _MONTH_NAMES, number)
        if indexes is None:
            raise ScheduleError("schedule_syntax", number, part)
        months |= {index + 1 for index in indexes}
    return frozenset(months)


def _parse_days(token: str, number: int) -> tuple[frozenset[int], bool]:
    weekdays: set[int] = set()
    holidays = False
    for part in token.split(","):
        word = part.lower()
        if word in _DAY_GROUPS:
            weekdays |= _DAY_GROUPS[word]
        elif word in _HOLIDAY_WORDS:
            holidays = True
        else:
            indexes = _expand(part, _DAYS, _DAY_NAMES, number)
            if indexes is None:
                raise ScheduleError("schedule_syntax", number, part)
            weekdays |= indexes
    return frozenset(weekdays), holidays


def _parse_changes(text: str, number: int) -> tuple[tuple[time, float], ...]:
    changes: dict[time, float] = {}
    for entry in text.split(","):
        match = _ENTRY.match(entry.strip())
        if match is None:
            raise ScheduleError("schedule_syntax", number, entry.strip())
        clock_text, price_text = match.groups()
        clock_match = _TIME_TOKEN.match(clock_text)
        if clock_match is None:
            raise ScheduleError("schedule_time", number, clock_text)
        hour, minute = int(clock_match.group(1)), int(clock_match.group(2))
        if hour > 23 or minute > 59:
            raise ScheduleError("schedule_time", number, clock_text)
        clock = time(hour, minute)
        if clock in changes:
            raise ScheduleError("schedule_time", number, f"{clock_text} given twice")
        price = parse_number(price_text)
        if price is None:
            raise ScheduleError("schedule_price", number, price_text)
        changes[clock] = price
    return tuple(sorted(changes.items()))


def _check_coverage(schedule: TouSchedule) -> None:
    """Every (month, weekday) must be covered by a line that is not for holidays only."""
    covered = {
        (month, weekday)
        for rule in schedule.rules
        for month in rule.months
        for weekday in rule.weekdays
    }
    for month in range(1, 13):
        for weekday in range(7):
            if (month, weekday) not in covered:
                detail = f"{_MONTHS[month - 1]} {_DAYS[weekday]}"
                raise ScheduleError("schedule_gap", 0, detail)
