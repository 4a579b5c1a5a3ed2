"""Physics of the simulated home, in pure Python (no Home Assistant import).

Two kinds of quantities live here:

* exogenous ones (sun, clouds, outdoor temperature, wind, the household's base load, day-ahead
  prices, hot-water draws, the car's trips) are pure functions of time. Each local date draws
  its random numbers from a generator seeded with the site seed and that date, so a date always
  looks the same, whatever the order in which it is asked about;
* stateful ones (battery, car battery, hot-water tank, running appliance programmes, energy
  counters) live in `HomeState` and are integrated forward by `SimulatedHome.advance`, in steps
  of at most `TICK`, using the power of each device over the step (midpoint rule for the
  exogenous powers, piecewise constant for commanded ones).

Sign conventions: powers in W; grid power positive when importing; battery power positive when
charging. Energy counters in Wh.
"""

from __future__ import annotations

import math
import random
import zlib
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from typing import Any, Final
from zoneinfo import ZoneInfo

TICK: Final = timedelta(seconds=10)

BATTERY_MODES: Final = ("manual", "self_consumption", "idle")
APPLIANCES: Final = ("dishwasher", "washing_machine", "pool_pump", "water_heater")
PROGRAM_APPLIANCES: Final = ("dishwasher", "washing_machine")

# Appliance programmes: (duration in minutes, power in W) phases, run once per start.
PROGRAMS: Final[dict[str, tuple[tuple[float, float], ...]]] = {
    # heat the wash water, wash, heat the rinse water, dry with residual heat: ~1.3 kWh in 1h50
    "dishwasher": ((20, 2000.0), (45, 100.0), (15, 2000.0), (30, 50.0)),
    # heat to 40 degC, wash, spin, rinse and final spin: ~1.0 kWh in 1h30
    "washing_machine": ((15, 2100.0), (50, 150.0), (10, 500.0), (15, 300.0)),
}

COUNTERS: Final = (
    "grid_import",
    "grid_export",
    "pv",
    "house_load",
    "battery_charge",
    "battery_discharge",
    "ev_charge",
    *APPLIANCES,
)

EXTRA_LOAD_MAX_W: Final = 30000.0
WATER_TARGET_MIN_C: Final = 30.0
WATER_TARGET_MAX_C: Final = 75.0
WATER_BOOST_K: Final = 0.5
_WATER_WH_PER_K_PER_LITRE: Final = 4186.0 / 3600.0  # 1 kg of water
_MAINS_WATER_C: Final = 10.0
_ROOM_C: Final = 20.0

# Base load of a four-person household, W, at each local hour (value at hh:30).
_LOAD_WEEKDAY: Final = (
    260, 240, 230, 230, 235, 270, 480, 820, 650, 420, 380, 400,
    520, 460, 390, 380, 450, 650, 900, 1000, 900, 740, 520, 340,
)  # fmt: skip
_LOAD_WEEKEND: Final = (
    280, 250, 240, 230, 230, 240, 280, 420, 760, 850, 640, 560,
    720, 620, 480, 440, 500, 680, 920, 980, 900, 780, 580, 380,
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class SiteConfig:
    """The fixed description of the simulated home."""

    latitude: float = 52.52
    longitude: float = 13.40
    time_zone: str = "Europe/Berlin"
    seed: int = 0
    # photovoltaics: a south-facing array
    pv_peak_w: float = 8000.0
    pv_tilt_deg: float = 35.0
    pv_azimuth_deg: float = 180.0
    pv_system_efficiency: float = 0.86
    # the household's base load is scaled by this factor
    load_scale: float = 1.0
    # stationary battery
    battery_capacity_wh: float = 10000.0
    battery_max_charge_w: float = 5000.0
    battery_max_discharge_w: float = 5000.0
    battery_min_soc: float = 5.0
    battery_max_soc: float = 100.0
    battery_efficiency: float = 0.95  # one way
    # electric vehicle and its charger (3 phases, 230 V)
    ev_capacity_wh: float = 60000.0
    ev_efficiency: float = 0.92
    ev_phases: int = 3
    ev_voltage: float = 230.0
    ev_min_current: float = 6.0
    ev_max_current: float = 16.0
    # appliances
    pool_pump_w: float = 750.0
    water_heater_w: float = 3000.0
    water_tank_litres: float = 200.0
    water_setpoint_c: float = 60.0
    water_hysteresis_k: float = 5.0
    water_loss_w_per_k: float = 2.0
    # day-ahead market
    price_interval_minutes: int = 60
    tomorrow_published_hour: int = 13
    price_region: str = "DE-LU"
    currency: str = "EUR"
    vat: float = 0.19
    additional_costs: float = 0.16  # grid fees, levies and taxes, EUR/kWh before VAT
    export_fee: float = 0.01  # the aggregator's fee on exported energy, EUR/kWh

    @property
    def tz(self) -> tzinfo:
        """The site's time zone."""
        return ZoneInfo(self.time_zone)

    @property
    def ev_max_power_w(self) -> float:
        """Charger power at the maximum current."""
        return self.ev_phases * self.ev_voltage * self.ev_max_current


@dataclass(slots=True)
class HomeState:
    """Everything that is integrated over time."""

    time: datetime
    battery_soc: float = 50.0
    battery_command_w: float = 0.0
    battery_mode: str = "manual"
    ev_soc: float = 60.0
    ev_charging: bool = False
    ev_current_a: float = 16.0
    water_temp_c: float = 55.0
    water_heater_enabled: bool = True
    water_heating: bool = False
    water_target_c: float | None = None
    """The thermostat's target set through the water heater entity (None: the site's)."""
    pool_pump_on: bool = False
    extra_load_w: float = 0.0
    """A load switched on by hand on top of the household's (a spike knob for tests and demos)."""
    program_started: dict[str, datetime] = field(default_factory=dict)
    energy_wh: dict[str, float] = field(default_factory=lambda: dict.fromkeys(COUNTERS, 0.0))

    def as_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (datetimes as ISO strings)."""
        data = asdict(self)
        data["time"] = self.time.isoformat()
        data["program_started"] = {k: v.isoformat() for k, v in self.program_started.items()}
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HomeState:
        """Inverse of `as_dict`; unknown keys are ignored, missing ones take defaults."""
        known = {f for f in cls.__dataclass_fields__ if f in data}
        values = {k: data[k] for k in known}
        values["time"] = datetime.fromisoformat(data["time"])
        values["program_started"] = {
            k: datetime.fromisoformat(v) for k, v in data.get("program_started", {}).items()
        }
        energy = dict.fromkeys(COUNTERS, 0.0)
        energy.update({k: float(v) for k, v in data.get("energy_wh", {}).items() if k in energy})
        values["energy_wh"] = energy
        return cls(**values)


@dataclass(frozen=True, slots=True)
class Flows:
    """Instantaneous powers of the home, W."""

    pv_w: float
    house_load_w: float
    battery_w: float  # + charge, - discharge
    ev_w: float
    appliances_w: dict[str, float]
    ev_plugged: bool

    @property
    def grid_w(self) -> float:
        """Grid power, + import / - export: the balance of everything else."""
        return (
            self.house_load_w
            + sum(self.appliances_w.values())
            + self.ev_w
            + self.battery_w
            - self.pv_w
        )


# ---------------------------------------------------------------------------------------------
# randomness per local date


def _rng(seed: int, day: date, salt: str) -> random.Random:
    """A generator that depends only on the site seed, the date and what it is for."""
    return random.Random(zlib.crc32(f"{seed}|{day.isoformat()}|{salt}".encode()))


def _local(when: datetime, tz: tzinfo) -> datetime:
    if when.tzinfo is None:
        raise ValueError("naive datetime")
    return when.astimezone(tz)


def _seconds_of_day(local: datetime) -> float:
    """Wall-clock seconds since local midnight."""
    return local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6


@dataclass(frozen=True, slots=True)
class _Cloud:
    centre_s: float
    half_width_s: float
    depth: float


@dataclass(frozen=True, slots=True)
class _DayDraws:
    """The random numbers of one local date."""

    base_cloud: float
    clouds: tuple[_Cloud, ...]
    temp_offset: float
    wind_base: float
    price_level: float
    price_noise: tuple[float, ...]  # one per 15 minutes
    load_noise: tuple[float, ...]  # one per 5 minutes (and one more)
    load_events: tuple[tuple[float, float, float], ...]  # start s, duration s, W
    showers: tuple[tuple[float, float], ...]  # start s, litres (drawn over 10 minutes)
    ev_departure_s: float
    ev_arrival_s: float
    ev_trip_wh: float


@lru_cache(maxsize=64)
def _draws(seed: int, day: date) -> _DayDraws:
    rng = _rng(seed, day, "weather")
    base_cloud = rng.uniform(0.0, 0.2)
    clouds = tuple(
        _Cloud(
            centre_s=rng.uniform(0, 86400),
            half_width_s=rng.uniform(4, 25) * 60,
            depth=rng.uniform(0.35, 0.95),
        )
        for _ in range(rng.randint(5, 20))
    )
    temp_offset = rng.gauss(0.0, 2.5)
    wind_base = rng.uniform(1.5, 7.0)

    prng = _rng(seed, day, "price")
    price_level = max(0.03, 0.09 + prng.gauss(0.0, 0.02))
    price_noise = tuple(prng.gauss(0.0, 0.008) for _ in range(100))

    lrng = _rng(seed, day, "load")
    load_noise = tuple(lrng.uniform(-0.18, 0.18) for _ in range(24 * 12 + 1))
    events: list[tuple[float, float, float]] = [
        # kettle and coffee in the morning, cooking at noon and in the evening
        (lrng.uniform(6.5, 8.0) * 3600, lrng.uniform(3, 5) * 60, 2000.0),
        (lrng.uniform(11.5, 12.8) * 3600, lrng.uniform(20, 40) * 60, 1800.0),
        (lrng.uniform(17.8, 19.2) * 3600, lrng.uniform(30, 55) * 60, 2400.0),
    ]
    events.extend(
        # short bursts: microwave, hair dryer, vacuum cleaner
        (lrng.uniform(7 * 3600, 22 * 3600), lrng.uniform(2, 10) * 60, lrng.uniform(700, 1600))
        for _ in range(lrng.randint(2, 6))
    )

    wrng = _rng(seed, day, "water")
    showers = (
        (wrng.uniform(6.4, 7.2) * 3600, wrng.uniform(35, 50)),
        (wrng.uniform(7.2, 7.8) * 3600, wrng.uniform(25, 45)),
        (wrng.uniform(19.0, 21.5) * 3600, wrng.uniform(20, 50)),
    )

    erng = _rng(seed, day, "ev")
    weekday = day.weekday() < 5
    departure = erng.uniform(7.0, 8.0) * 3600 if weekday else erng.uniform(10, 11) * 3600
    arrival = erng.uniform(16.8, 18.5) * 3600 if weekday else erng.uniform(13, 15) * 3600
    trip = erng.uniform(5000, 14000) if weekday else erng.uniform(2000, 8000)

    return _DayDraws(
        base_cloud=base_cloud,
        clouds=clouds,
        temp_offset=temp_offset,
        wind_base=wind_base,
        price_level=price_level,
        price_noise=price_noise,
        load_noise=load_noise,
        load_events=tuple(events),
        showers=showers,
        ev_departure_s=departure,
        ev_arrival_s=arrival,
        ev_trip_wh=trip,
    )


def _raised_cosine(x: float, centre: float, half_width: float) -> float:
    d = abs(x - centre)
    if d >= half_width:
        return 0.0
    return 0.5 * (1.0 + math.cos(math.pi * d / half_width))


def _smooth_daily(site: SiteConfig, local: datetime, value: str) -> float:
    """A per-date draw, interpolated linearly between local noons so it has no jump."""
    day = local.date()
    frac = _seconds_of_day(local) / 86400.0 - 0.5
    other = day + timedelta(days=1 if frac >= 0 else -1)
    a = getattr(_draws(site.seed, day), value)
    b = getattr(_draws(site.seed, other), value)
    w = abs(frac)
    return float(a * (1 - w) + b * w)


# ---------------------------------------------------------------------------------------------
# sun and weather


@dataclass(frozen=True, slots=True)
class SunPosition:
    """Solar elevation and azimuth (clockwise from north), degrees."""

    elevation: float
    azimuth: float


def sun_position(latitude: float, longitude: float, when: datetime) -> SunPosition:
    """Solar position from the NOAA approximation (good to a fraction of a degree)."""
    utc = when.astimezone(UTC)
    doy = utc.timetuple().tm_yday
    hour = utc.hour + utc.minute / 60 + utc.second / 3600
    g = 2 * math.pi / 365 * (doy - 1 + (hour - 12) / 24)
    eqtime = 229.18 * (
        0.000075
        + 0.001868 * math.cos(g)
        - 0.032077 * math.sin(g)
        - 0.014615 * math.cos(2 * g)
        - 0.040849 * math.sin(2 * g)
    )
    decl = (
        0.006918
        - 0.399912 * math.cos(g)
        + 0.070257 * math.sin(g)
        - 0.006758 * math.cos(2 * g)
        + 0.000907 * math.sin(2 * g)
        - 0.002697 * math.cos(3 * g)
        + 0.00148 * math.sin(3 * g)
    )
    true_solar_min = hour * 60 + eqtime + 4 * longitude
    hour_angle = math.radians(true_solar_min / 4 - 180)
    lat = math.radians(latitude)
    cos_zen = math.sin(lat) * math.sin(decl) + math.cos(lat) * math.cos(decl) * math.cos(hour_angle)
    cos_zen = max(-1.0, min(1.0, cos_zen))
    zenith = math.acos(cos_zen)
    azimuth = math.degrees(
        math.atan2(
            math.sin(hour_angle),
            math.cos(hour_angle) * math.sin(lat) - math.tan(decl) * math.cos(lat),
        )
    )
    return SunPosition(elevation=90 - math.degrees(zenith), azimuth=(azimuth + 180) % 360)


def clear_sky_irradiance(elevation_deg: float) -> tuple[float, float]:
    """Direct normal and diffuse horizontal irradiance under a clear sky, W/m2.

    Direct normal from Meinel's air-mass relation, diffuse as a tenth of it.
    """
    if elevation_deg <= 0:
        return 0.0, 0.0
    sin_el = math.sin(math.radians(elevation_deg))
    # Kasten and Young's air mass
    air_mass = 1 / (sin_el + 0.50572 * (elevation_deg + 6.07995) ** -1.6364)
    dni = 1353.0 * 0.7 ** (air_mass**0.678)
    return dni, 0.1 * dni * min(1.0, 4 * sin_el)


def cloud_cover(site: SiteConfig, when: datetime) -> float:
    """Fraction of the sky covered, 0..1: a light veil plus passing clouds."""
    local = _local(when, site.tz)
    s = _seconds_of_day(local)
    total = 0.0
    for offset, day in ((0, local.date()), (86400, local.date() - timedelta(days=1))):
        draws = _draws(site.seed, day)
        if offset == 0:
            total += draws.base_cloud
        for cloud in draws.clouds:
            total += cloud.depth * _raised_cosine(s + offset, cloud.centre_s, cloud.half_width_s)
    return min(1.0, total)


def pv_power(site: SiteConfig, when: datetime) -> float:
    """Photovoltaic AC power, W: clear sky on a tilted plane, dimmed by clouds."""
    sun = sun_position(site.latitude, site.longitude, when)
    dni, diffuse = clear_sky_irradiance(sun.elevation)
    if dni <= 0:
        return 0.0
    zen = math.radians(90 - sun.elevation)
    tilt = math.radians(site.pv_tilt_deg)
    cos_inc = math.cos(zen) * math.cos(tilt) + math.sin(zen) * math.sin(tilt) * math.cos(
        math.radians(sun.azimuth - site.pv_azimuth_deg)
    )
    ghi = dni * math.cos(zen) + diffuse
    poa = (
        dni * max(cos_inc, 0.0)
        + diffuse * (1 + math.cos(tilt)) / 2
        + 0.2 * ghi * (1 - math.cos(tilt)) / 2
    )
    # Kasten and Czeplak: irradiance under a cloud cover fraction c
    dimming = 1 - 0.75 * math.pow(cloud_cover(site, when), 3.4)
    power = site.pv_peak_w * poa / 1000 * site.pv_system_efficiency * dimming
    return max(0.0, min(power, site.pv_peak_w))


def temperature(site: SiteConfig, when: datetime) -> float:
    """Outdoor temperature, degC: season, day and night, and a per-date offset."""
    local = _local(when, site.tz)
    doy = local.timetuple().tm_yday
    seasonal = 10.0 - 9.5 * math.cos(2 * math.pi * (doy - 15) / 365.25)
    hour = _seconds_of_day(local) / 3600
    daily = 4.0 * math.cos(2 * math.pi * (hour - 15) / 24)
    return seasonal + daily + _smooth_daily(site, local, "temp_offset")


def wind_speed(site: SiteConfig, when: datetime) -> float:
    """Wind speed at 10 m, m/s."""
    local = _local(when, site.tz)
    hour = _seconds_of_day(local) / 3600
    base = _smooth_daily(site, local, "wind_base")
    return max(0.0, base * (1 + 0.3 * math.sin(2 * math.pi * (hour - 9) / 24)))


def weather_condition(site: SiteConfig, when: datetime, clouds: float | None = None) -> str:
    """A Home Assistant weather condition for the sky at `when`."""
    c = cloud_cover(site, when) if clouds is None else clouds
    night = sun_position(site.latitude, site.longitude, when).elevation < -0.83
    if c < 0.25:
        return "clear-night" if night else "sunny"
    if c < 0.7:
        return "partlycloudy"
    return "cloudy"


def hourly_forecast(site: SiteConfig, start: datetime, hours: int = 48) -> list[dict[str, Any]]:
    """Hour-by-hour forecast from the hour containing `start` (UTC datetimes)."""
    first = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    out: list[dict[str, Any]] = []
    for h in range(hours):
        t0 = first + timedelta(hours=h)
        samples = [cloud_cover(site, t0 + timedelta(minutes=m)) for m in range(0, 60, 5)]
        clouds = sum(samples) / len(samples)
        mid = t0 + timedelta(minutes=30)
        out.append(
            {
                "datetime": t0,
                "condition": weather_condition(site, mid, clouds),
                "cloud_coverage": round(clouds * 100),
                "temperature": round(temperature(site, mid), 1),
                "wind_speed": round(wind_speed(site, mid), 1),
                "precipitation": 0.0,
                "humidity": round(60 + 30 * clouds),
            }
        )
    return out


def daily_forecast(site: SiteConfig, start: datetime, days: int = 3) -> list[dict[str, Any]]:
    """Day-by-day forecast from the local date of `start`."""
    tz = site.tz
    first = _local(start, tz).date()
    out: list[dict[str, Any]] = []
    for d in range(days):
        day = first + timedelta(days=d)
        begin = datetime.combine(day, time(0), tz)
        hours = hourly_forecast(site, begin, 24)
        daylight = hours[6:20]
        clouds = sum(h["cloud_coverage"] for h in daylight) / len(daylight)
        out.append(
            {
                "datetime": begin.astimezone(UTC),
                "condition": weather_condition(site, begin + timedelta(hours=12), clouds / 100),
                "cloud_coverage": round(clouds),
                "temperature": max(h["temperature"] for h in hours),
                "templow": min(h["temperature"] for h in hours),
                "wind_speed": round(max(h["wind_speed"] for h in hours), 1),
                "precipitation": 0.0,
            }
        )
    return out


# ---------------------------------------------------------------------------------------------
# household base load


def _profile(values: tuple[int, ...], hour: float) -> float:
    """Linear interpolation between hourly values placed at hh:30, wrapping at midnight."""
    x = (hour - 0.5) % 24
    i = int(x)
    f = x - i
    return values[i] * (1 - f) + values[(i + 1) % 24] * f


def house_load(site: SiteConfig, when: datetime) -> float:
    """The household's base load (without the simulated appliances, car and battery), W."""
    local = _local(when, site.tz)
    day = local.date()
    s = _seconds_of_day(local)
    draws = _draws(site.seed, day)
    profile = _LOAD_WEEKEND if day.weekday() >= 5 else _LOAD_WEEKDAY
    doy = local.timetuple().tm_yday
    season = 1 + 0.15 * math.cos(2 * math.pi * (doy - 15) / 365.25)  # more light in winter
    k = s / 300
    i = min(int(k), len(draws.load_noise) - 2)
    f = k - i
    noise = draws.load_noise[i] * (1 - f) + draws.load_noise[i + 1] * f
    load = _profile(profile, s / 3600) * season * (1 + noise)
    for start, duration, watts in draws.load_events:
        if start <= s < start + duration:
            load += watts
    return site.load_scale * load


def hot_water_draw(site: SiteConfig, when: datetime) -> float:
    """Hot water drawn from the tank, litres per hour."""
    local = _local(when, site.tz)
    s = _seconds_of_day(local)
    rate = 0.0
    for start, litres in _draws(site.seed, local.date()).showers:
        if start <= s < start + 600:
            rate += litres * 6  # drawn over 10 minutes
    return rate


def ev_at_home(site: SiteConfig, when: datetime) -> bool:
    """Whether the car is at home and plugged in (it is plugged in whenever it is home)."""
    local = _local(when, site.tz)
    draws = _draws(site.seed, local.date())
    s = _seconds_of_day(local)
    return not draws.ev_departure_s <= s < draws.ev_arrival_s


def ev_driving_w(site: SiteConfig, when: datetime) -> float:
    """Mean power drawn from the car battery while it is away, W."""
    local = _local(when, site.tz)
    draws = _draws(site.seed, local.date())
    s = _seconds_of_day(local)
    if draws.ev_departure_s <= s < draws.ev_arrival_s:
        return draws.ev_trip_wh / ((draws.ev_arrival_s - draws.ev_departure_s) / 3600)
    return 0.0


# ---------------------------------------------------------------------------------------------
# day-ahead prices


def _price_shape(hour: float, doy: int) -> float:
    """Relative spot price over the day: night trough, morning and evening peaks, solar dip."""
    summer = 0.5 * (1 - math.cos(2 * math.pi * (doy - 15) / 365.25))  # 0 in Jan, 1 in Jul
    morning = 0.30 * math.exp(-(((hour - 8.0) / 1.5) ** 2))
    evening = 0.50 * math.exp(-(((hour - 19.0) / 2.0) ** 2))
    solar = (0.15 + 0.65 * summer) * math.exp(-(((hour - 13.0) / 2.5) ** 2))
    night = -0.15 * math.exp(-(((hour - 3.5) / 2.5) ** 2))
    return 1.0 + morning + evening - solar + night


def spot_prices(site: SiteConfig, day: date) -> list[tuple[datetime, datetime, float]]:
    """Day-ahead spot prices of a local date, EUR/kWh, one per market interval."""
    tz = site.tz
    step = timedelta(minutes=site.price_interval_minutes)
    start = datetime.combine(day, time(0), tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tz).astimezone(UTC)
    draws = _draws(site.seed, day)
    weekend = 0.85 if day.weekday() >= 5 else 1.0
    doy = day.timetuple().tm_yday
    out: list[tuple[datetime, datetime, float]] = []
    t = start
    while t < end:
        local = t.astimezone(tz)
        mid_hour = _seconds_of_day(local) / 3600 + site.price_interval_minutes / 120
        quarter = min(int(_seconds_of_day(local) // 900), len(draws.price_noise) - 1)
        noise = draws.price_noise[quarter]
        value = draws.price_level * weekend * _price_shape(mid_hour, doy) + noise
        out.append((local, (t + step).astimezone(tz), round(value, 5)))
        t += step
    return out


def import_price(site: SiteConfig, spot: float) -> float:
    """What the household pays per kWh for a spot price."""
    return round((spot + site.additional_costs) * (1 + site.vat), 4)


def export_price(site: SiteConfig, spot: float) -> float:
    """What the household is paid per kWh exported for a spot price (may be negative)."""
    return round(spot - site.export_fee, 4)


def tomorrow_published(site: SiteConfig, when: datetime) -> bool:
    """The next day's prices are known from the publication hour (local) on."""
    return _local(when, site.tz).hour >= site.tomorrow_published_hour


def nordpool_attributes(site: SiteConfig, when: datetime, kind: str = "import") -> dict[str, Any]:
    """State attributes in the format of the custom-components/nordpool sensor.

    `kind` is "import" (the consumer price: spot plus additional costs, with VAT) or "export"
    (spot minus the export fee). Times in `raw_*` are local, timezone-aware datetimes.
    """
    convert = import_price if kind == "import" else export_price
    local = _local(when, site.tz)
    today = local.date()

    def raw(day: date) -> list[dict[str, Any]]:
        return [
            {"start": s, "end": e, "value": convert(site, v)} for s, e, v in spot_prices(site, day)
        ]

    raw_today = raw(today)
    raw_tomorrow = raw(today + timedelta(days=1)) if tomorrow_published(site, when) else []
    values = [r["value"] for r in raw_today]
    current = next((r["value"] for r in raw_today if r["start"] <= local < r["end"]), None)
    average = sum(values) / len(values)
    per_hour = len(values) / 24
    off_peak_1 = values[: round(8 * per_hour)]
    peak = values[round(8 * per_hour) : round(20 * per_hour)]
    off_peak_2 = values[round(20 * per_hour) :]
    ordered = sorted(values)
    n = len(ordered)
    mean = ordered[n // 2] if n % 2 else (ordered[n // 2 - 1] + ordered[n // 2]) / 2
    additional = (
        round(site.additional_costs * (1 + site.vat), 4) if kind == "import" else -site.export_fee
    )
    return {
        "average": round(average, 4),
        "off_peak_1": round(sum(off_peak_1) / len(off_peak_1), 4),
        "off_peak_2": round(sum(off_peak_2) / len(off_peak_2), 4),
        "peak": round(sum(peak) / len(peak), 4),
        "min": min(values),
        "max": max(values),
        "mean": round(mean, 4),
        "unit": "kWh",
        "currency": site.currency,
        "country": "Germany",
        "region": site.price_region,
        "low_price": current is not None and current < average,
        "price_percent_to_average": round(current / average, 3) if current and average else None,
        "today": values,
        "tomorrow": [r["value"] for r in raw_tomorrow],
        "tomorrow_valid": bool(raw_tomorrow),
        "raw_today": raw_today,
        "raw_tomorrow": raw_tomorrow,
        "current_price": current,
        "additional_costs_current_hour": additional,
        "price_in_cents": False,
    }


def current_price(site: SiteConfig, when: datetime, kind: str = "import") -> float:
    """The price of the market interval containing `when`."""
    convert = import_price if kind == "import" else export_price
    local = _local(when, site.tz)
    for s, e, v in spot_prices(site, local.date()):
        if s <= local < e:
            return convert(site, v)
    raise AssertionError("no price interval contains the time")  # pragma: no cover


# ---------------------------------------------------------------------------------------------
# the stateful home


def program_power(name: str, elapsed: timedelta) -> float | None:
    """Power of an appliance programme `elapsed` after its start; None once it has ended."""
    minutes = elapsed.total_seconds() / 60
    if minutes < 0:
        return 0.0
    for duration, watts in PROGRAMS[name]:
        if minutes < duration:
            return watts
        minutes -= duration
    return None


def program_duration(name: str) -> timedelta:
    """Length of an appliance programme."""
    return timedelta(minutes=sum(d for d, _ in PROGRAMS[name]))


class SimulatedHome:
    """The simulated home: a site, its state and how the state moves forward in time."""

    def __init__(self, site: SiteConfig, state: HomeState) -> None:
        """Start from `state` (its `time` is the simulation clock)."""
        if state.time.tzinfo is None:
            raise ValueError("the state's time must be timezone-aware")
        self.site = site
        self.state = state
        self.flows = self._flows(state.time, TICK)

    @classmethod
    def fresh(cls, site: SiteConfig, when: datetime) -> SimulatedHome:
        """A home in its default state at `when`."""
        return cls(site, HomeState(time=when.astimezone(UTC)))

    # commands ----------------------------------------------------------------------------
    # Callers advance the home to the present before they command it, so that the time before
    # the command is integrated with the old setting.

    def set_battery_power(self, watts: float) -> None:
        """Command the battery (W, + charge / - discharge); switches it to manual mode."""
        s = self.site
        self.state.battery_command_w = max(
            -s.battery_max_discharge_w, min(s.battery_max_charge_w, float(watts))
        )
        self.state.battery_mode = "manual"
        self.refresh()

    def set_battery_mode(self, mode: str) -> None:
        """manual (follow the command), self_consumption (hold the grid at zero) or idle."""
        if mode not in BATTERY_MODES:
            raise ValueError(f"unknown battery mode {mode!r}")
        self.state.battery_mode = mode
        self.refresh()

    def set_ev_charging(self, on: bool) -> None:
        """Allow or stop charging the car."""
        self.state.ev_charging = on
        self.refresh()

    def set_ev_current(self, amps: float) -> None:
        """Charging current per phase, A (clamped to the charger's range)."""
        s = self.site
        self.state.ev_current_a = max(s.ev_min_current, min(s.ev_max_current, float(amps)))
        self.refresh()

    def set_appliance(self, name: str, on: bool) -> None:
        """Switch an appliance: programmes start (or abort), the pump and heater toggle."""
        if name in PROGRAM_APPLIANCES:
            if on and name not in self.state.program_started:
                self.state.program_started[name] = self.state.time
            elif not on:
                self.state.program_started.pop(name, None)
        elif name == "pool_pump":
            self.state.pool_pump_on = on
        elif name == "water_heater":
            self.state.water_heater_enabled = on
            if not on:
                self.state.water_heating = False
        else:
            raise ValueError(f"unknown appliance {name!r}")
        self.refresh()

    @property
    def water_target_c(self) -> float:
        """The water heater's thermostat target, °C."""
        target = self.state.water_target_c
        return self.site.water_setpoint_c if target is None else target

    def set_water_target(self, celsius: float) -> None:
        """Set the thermostat's target (°C, clamped to 30 … 75).

        A target above the tank's temperature starts heating at once (a boost), as a real
        thermostat does when it is turned up; below it, the element stops.
        """
        st = self.state
        st.water_target_c = max(WATER_TARGET_MIN_C, min(WATER_TARGET_MAX_C, float(celsius)))
        if st.water_heater_enabled:
            st.water_heating = st.water_temp_c < st.water_target_c - WATER_BOOST_K
        self.refresh()

    def set_extra_load(self, watts: float) -> None:
        """Add an extra load to the house (W, 0 … 30 000): an oven, a kettle, a sauna."""
        self.state.extra_load_w = max(0.0, min(EXTRA_LOAD_MAX_W, float(watts)))
        self.refresh()

    def appliance_on(self, name: str) -> bool:
        """Switch state of an appliance."""
        if name in PROGRAM_APPLIANCES:
            return name in self.state.program_started
        if name == "pool_pump":
            return self.state.pool_pump_on
        if name == "water_heater":
            return self.state.water_heater_enabled
        raise ValueError(f"unknown appliance {name!r}")

    # time --------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Recompute the instantaneous flows at the current simulation time."""
        self.flows = self._flows(self.state.time, TICK)

    def advance(self, until: datetime) -> None:
        """Integrate the state forward to `until` in steps of at most one tick."""
        until = until.astimezone(UTC)
        t = self.state.time
        while t < until:
            dt = min(TICK, until - t)
            self._step(t, dt)
            t += dt
            self.state.time = t
        self.refresh()

    def _appliance_powers(self, when: datetime) -> dict[str, float]:
        st = self.state
        powers: dict[str, float] = {}
        for name in PROGRAM_APPLIANCES:
            started = st.program_started.get(name)
            watts = program_power(name, when - started) if started is not None else 0.0
            powers[name] = watts or 0.0
        powers["pool_pump"] = self.site.pool_pump_w if st.pool_pump_on else 0.0
        powers["water_heater"] = self.site.water_heater_w if st.water_heating else 0.0
        return powers

    def _flows(self, when: datetime, dt: timedelta) -> Flows:
        """Powers at `when`, with the battery and car limited so that a step `dt` fits."""
        s, st = self.site, self.state
        hours = dt.total_seconds() / 3600
        pv = pv_power(s, when)
        load = house_load(s, when) + st.extra_load_w
        appliances = self._appliance_powers(when)

        plugged = ev_at_home(s, when)
        ev = 0.0
        if plugged and st.ev_charging and st.ev_soc < 100.0:
            ev = s.ev_phases * s.ev_voltage * st.ev_current_a
            if hours > 0:
                room_wh = (100.0 - st.ev_soc) / 100 * s.ev_capacity_wh
                ev = min(ev, room_wh / (s.ev_efficiency * hours))

        if st.battery_mode == "manual":
            want = st.battery_command_w
        elif st.battery_mode == "self_consumption":
            want = pv - load - sum(appliances.values()) - ev
        else:
            want = 0.0
        battery = max(-s.battery_max_discharge_w, min(s.battery_max_charge_w, want))
        if hours > 0:
            if battery > 0:
                room_wh = (s.battery_max_soc - st.battery_soc) / 100 * s.battery_capacity_wh
                battery = min(battery, max(0.0, room_wh) / (s.battery_efficiency * hours))
            elif battery < 0:
                stored_wh = (st.battery_soc - s.battery_min_soc) / 100 * s.battery_capacity_wh
                avail = max(0.0, stored_wh) * s.battery_efficiency / hours
                battery = max(battery, -avail)
        return Flows(
            pv_w=pv,
            house_load_w=load,
            battery_w=battery,
            ev_w=ev,
            appliances_w=appliances,
            ev_plugged=plugged,
        )

    def _step(self, start: datetime, dt: timedelta) -> None:
        s, st = self.site, self.state
        hours = dt.total_seconds() / 3600
        mid = start + dt / 2

        # thermostat of the water heater, decided at the start of the step
        target = self.water_target_c
        if not st.water_heater_enabled or st.water_temp_c >= target:
            st.water_heating = False
        elif st.water_temp_c <= target - s.water_hysteresis_k:
            st.water_heating = True
        # programmes that have ended switch themselves off
        for name, started in list(st.program_started.items()):
            if start - started >= program_duration(name):
                del st.program_started[name]

        f = self._flows(mid, dt)
        e = st.energy_wh
        grid = f.grid_w
        e["grid_import"] += max(grid, 0.0) * hours
        e["grid_export"] += max(-grid, 0.0) * hours
        e["pv"] += f.pv_w * hours
        e["house_load"] += f.house_load_w * hours
        e["battery_charge"] += max(f.battery_w, 0.0) * hours
        e["battery_discharge"] += max(-f.battery_w, 0.0) * hours
        e["ev_charge"] += f.ev_w * hours
        for name, watts in f.appliances_w.items():
            e[name] += watts * hours

        if f.battery_w > 0:
            stored = f.battery_w * s.battery_efficiency * hours
        else:
            stored = f.battery_w / s.battery_efficiency * hours
        st.battery_soc += stored / s.battery_capacity_wh * 100
        st.battery_soc = max(s.battery_min_soc, min(s.battery_max_soc, st.battery_soc))
        # rounding can leave the state a hair outside the bounds when it starts there
        st.battery_soc = round(st.battery_soc, 9)

        ev_wh = f.ev_w * s.ev_efficiency * hours - ev_driving_w(s, mid) * hours
        st.ev_soc = max(0.0, min(100.0, st.ev_soc + ev_wh / s.ev_capacity_wh * 100))

        tank_wh_per_k = s.water_tank_litres * _WATER_WH_PER_K_PER_LITRE
        heat_wh = f.appliances_w["water_heater"] * hours
        loss_wh = s.water_loss_w_per_k * (st.water_temp_c - _ROOM_C) * hours
        drawn_l = min(hot_water_draw(s, mid) * hours, s.water_tank_litres)
        mix_k = drawn_l / s.water_tank_litres * (st.water_temp_c - _MAINS_WATER_C)
        st.water_temp_c += (heat_wh - loss_wh) / tank_wh_per_k - mix_k


def with_overrides(site: SiteConfig, **changes: Any) -> SiteConfig:
    """A copy of `site` with some fields replaced (unknown names raise TypeError)."""
    return replace(site, **changes)
