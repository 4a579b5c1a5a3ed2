"""Built-in PV forecast: sun position, clear sky, plane of array, clouds, self-calibration.

1. Sun position: the NOAA solar calculator's equations (Meeus' low-precision solar
   coordinates), vectorised, with atmospheric refraction scaled by pressure and temperature.
   Good to about 0.01 degrees for 1800-2100.
2. Clear-sky global horizontal irradiance (GHI): Haurwitz, 1098 cos(z) exp(-0.059 / cos(z)).
3. Clouds: Kasten-Czeplak, GHI = GHI_clear x (1 - 0.75 (cloud fraction)^3.4).
4. GHI split into direct (DNI) and diffuse (DHI) with the Erbs correlation on the clearness
   index, so clouds raise the diffuse share.
5. Plane of array, isotropic sky: DNI cos(incidence) + DHI (1 + cos tilt) / 2
   + GHI albedo (1 - cos tilt) / 2.
6. Power: kWp x POA / 1000 W/m2 x (1 - losses), with a cell temperature derating when the
   outdoor temperature is known.
7. Self-calibration: a correction factor by season and solar hour learned from measured PV,
   so a wrong tilt, azimuth, size or a shadow is corrected over time. With the cloud cover
   of the measured period the factor is the least-squares ratio measured/modelled; without
   it the model is the clear sky and the factor is the 90th percentile of that ratio (the
   clear days' envelope). Sparse bins lean on the hour's all-season factor, then on the
   overall one.

Several arrays are summed. All angles are in degrees; azimuths are compass bearings
(0 = north, 90 = east, 180 = south).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, Final

import numpy as np

from .base import FloatArray, ForecastResult, History, Weather, epoch_grid, make_result

FORMAT_VERSION: Final = 1
SOLAR_CONSTANT: Final = 1361.0
SEASONS: Final = 4
HOURS: Final = 24
SUBSTEPS: Final = 6
_MIN_SHARE: Final = 0.05  # bins where the model gives < 5 % of kWp are not calibrated
_SHRINK: Final = 10.0
_CLOUD_SPREAD: Final = 30.0


@dataclass(frozen=True, slots=True, eq=False)
class SunPosition:
    """Sun position at each instant (arrays, degrees unless stated)."""

    zenith: FloatArray
    """Apparent (refracted) zenith angle."""
    azimuth: FloatArray
    """Compass bearing of the sun, 0 = north, clockwise."""
    declination: FloatArray
    hour_angle: FloatArray
    """Negative in the morning, 0 at solar noon."""
    equation_of_time: FloatArray
    """Minutes."""
    distance: FloatArray
    """Earth-sun distance in astronomical units."""

    @property
    def elevation(self) -> FloatArray:
        """Apparent elevation above the horizon."""
        return 90.0 - self.zenith

    @property
    def solar_hour(self) -> FloatArray:
        """Local apparent solar time in hours (12 = solar noon)."""
        return np.mod(self.hour_angle / 15.0 + 12.0, 24.0)


def _refraction(elevation: FloatArray, pressure_hpa: float, temperature_c: float) -> FloatArray:
    """Atmospheric refraction in degrees (NOAA's piecewise fit, scaled to P and T)."""
    e = elevation
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.tan(np.radians(e))
        high = 58.1 / t - 0.07 / t**3 + 0.000086 / t**5
        low = 1735.0 + e * (-518.2 + e * (103.4 + e * (-12.79 + e * 0.711)))
        below = -20.772 / t
    arcsec = np.where(e > 85.0, 0.0, np.where(e > 5.0, high, np.where(e > -0.575, low, below)))
    return arcsec / 3600.0 * (pressure_hpa / 1010.0) * (283.0 / (273.0 + temperature_c))


def solar_position(
    times: FloatArray,
    latitude: float,
    longitude: float,
    *,
    pressure_hpa: float = 1013.25,
    temperature_c: float = 12.0,
) -> SunPosition:
    """Sun position at UTC instants `times` (epoch seconds) seen from latitude/longitude.

    Longitude is positive east. Follows the NOAA solar calculator.
    """
    t = np.asarray(times, dtype=np.float64)
    julian_day = t / 86_400.0 + 2_440_587.5
    jc = (julian_day - 2_451_545.0) / 36_525.0
    mean_long = np.mod(280.46646 + jc * (36_000.76983 + jc * 0.0003032), 360.0)
    mean_anom = 357.52911 + jc * (35_999.05029 - 0.0001537 * jc)
    ecc = 0.016708634 - jc * (0.000042037 + 0.0000001267 * jc)
    m = np.radians(mean_anom)
    center = (
        np.sin(m) * (1.914602 - jc * (0.004817 + 0.000014 * jc))
        + np.sin(2 * m) * (0.019993 - 0.000101 * jc)
        + np.sin(3 * m) * 0.000289
    )
    true_long = mean_long + center
    true_anom = np.radians(mean_anom + center)
    distance = 1.000001018 * (1 - ecc**2) / (1 + ecc * np.cos(true_anom))
    omega = np.radians(125.04 - 1934.136 * jc)
    apparent_long = np.radians(true_long - 0.00569 - 0.00478 * np.sin(omega))
    arcsec = 21.448 - jc * (46.815 + jc * (0.00059 - jc * 0.001813))
    mean_obliquity = 23.0 + (26.0 + arcsec / 60.0) / 60.0
    obliquity = np.radians(mean_obliquity + 0.00256 * np.cos(omega))
    declination = np.arcsin(np.sin(obliquity) * np.sin(apparent_long))
    var_y = np.tan(obliquity / 2) ** 2
    l0 = np.radians(mean_long)
    eot = 4.0 * np.degrees(
        var_y * np.sin(2 * l0)
        - 2 * ecc * np.sin(m)
        + 4 * ecc * var_y * np.sin(m) * np.cos(2 * l0)
        - 0.5 * var_y**2 * np.sin(4 * l0)
        - 1.25 * ecc**2 * np.sin(2 * m)
    )
    minutes = np.mod(t, 86_400.0) / 60.0
    true_solar = np.mod(minutes + eot + 4.0 * longitude, 1440.0)
    hour_angle = true_solar / 4.0 - 180.0
    lat = np.radians(latitude)
    ha = np.radians(hour_angle)
    cos_zenith = np.sin(lat) * np.sin(declination) + np.cos(lat) * np.cos(declination) * np.cos(ha)
    zenith = np.degrees(np.arccos(np.clip(cos_zenith, -1.0, 1.0)))
    azimuth = np.mod(
        180.0
        + np.degrees(
            np.arctan2(np.sin(ha), np.cos(ha) * np.sin(lat) - np.tan(declination) * np.cos(lat))
        ),
        360.0,
    )
    zenith = zenith - _refraction(90.0 - zenith, pressure_hpa, temperature_c)
    return SunPosition(
        zenith=zenith,
        azimuth=azimuth,
        declination=np.degrees(declination),
        hour_angle=hour_angle,
        equation_of_time=eot,
        distance=distance,
    )


def clear_sky_ghi(zenith: FloatArray) -> FloatArray:
    """Haurwitz clear-sky global horizontal irradiance in W/m2."""
    cos_z = np.cos(np.radians(zenith))
    with np.errstate(divide="ignore", over="ignore"):
        ghi = 1098.0 * cos_z * np.exp(-0.059 / cos_z)
    return np.where(cos_z > 0.0, ghi, 0.0)


def cloud_factor(cloud_coverage_pct: FloatArray) -> FloatArray:
    """Kasten-Czeplak: the share of clear-sky GHI left under a cloud cover in percent."""
    fraction = np.clip(np.asarray(cloud_coverage_pct, dtype=np.float64) / 100.0, 0.0, 1.0)
    return 1.0 - 0.75 * fraction**3.4


def erbs_split(
    ghi: FloatArray, zenith: FloatArray, distance: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Split GHI into DNI and DHI (Erbs et al. 1982)."""
    cos_z = np.cos(np.radians(zenith))
    extra = SOLAR_CONSTANT / distance**2
    sun_up = cos_z > 0.065  # below ~4 degrees elevation, treat all light as diffuse
    with np.errstate(divide="ignore", invalid="ignore"):
        kt = np.clip(np.where(sun_up, ghi / (extra * cos_z), 0.0), 0.0, 1.0)
    kd = np.where(
        kt <= 0.22,
        1.0 - 0.09 * kt,
        np.where(
            kt <= 0.8,
            0.9511 - 0.1604 * kt + 4.388 * kt**2 - 16.638 * kt**3 + 12.336 * kt**4,
            0.165,
        ),
    )
    dhi = np.where(sun_up, kd * ghi, ghi)
    with np.errstate(divide="ignore", invalid="ignore"):
        dni = np.where(sun_up, (ghi - dhi) / cos_z, 0.0)
    return dni, dhi


@dataclass(frozen=True, slots=True)
class PVArray:
    """One PV array: size, orientation and losses."""

    kwp: float
    tilt: float = 30.0
    """Degrees from horizontal."""
    azimuth: float = 180.0
    """Compass bearing the panels face (180 = south)."""
    losses: float = 0.12
    """Inverter, wiring, soiling, mismatch: share of DC output lost."""
    albedo: float = 0.2
    noct_c: float = 45.0
    temperature_coefficient: float = -0.0037
    """Relative power change per kelvin of cell temperature above 25 C."""
    name: str = ""

    def __post_init__(self) -> None:
        if self.kwp < 0:
            raise ValueError("kWp must not be negative")
        if not 0 <= self.tilt <= 90:
            raise ValueError("tilt must be within 0-90 degrees")
        if not 0 <= self.losses < 1:
            raise ValueError("losses must be within 0-1")

    def poa(
        self, sun: SunPosition, ghi: FloatArray, dni: FloatArray, dhi: FloatArray
    ) -> FloatArray:
        """Plane-of-array irradiance in W/m2 (isotropic sky)."""
        tilt = np.radians(self.tilt)
        zen = np.radians(sun.zenith)
        cos_aoi = np.cos(zen) * np.cos(tilt) + np.sin(zen) * np.sin(tilt) * np.cos(
            np.radians(sun.azimuth - self.azimuth)
        )
        beam = dni * np.maximum(cos_aoi, 0.0)
        sky = dhi * (1.0 + np.cos(tilt)) / 2.0
        ground = ghi * self.albedo * (1.0 - np.cos(tilt)) / 2.0
        return np.asarray(beam + sky + ground, dtype=np.float64)

    def power(self, poa: FloatArray, temperature_c: FloatArray | None = None) -> FloatArray:
        """AC output in W."""
        out = self.kwp * poa * (1.0 - self.losses)
        if temperature_c is not None:
            cell = temperature_c + poa * (self.noct_c - 20.0) / 800.0
            derate = 1.0 + self.temperature_coefficient * (cell - 25.0)
            out = out * np.where(np.isfinite(derate), derate, 1.0)
        return np.asarray(np.maximum(out, 0.0), dtype=np.float64)


def _season(times: FloatArray, latitude: float) -> FloatArray:
    """0 = summer, 1 = autumn, 2 = winter, 3 = spring (by the hemisphere)."""
    day = np.mod(times / 86_400.0 - 10_957.0, 365.2425)  # days since 2000-01-01, per year
    shift = 0.0 if latitude >= 0 else 182.6
    return np.asarray(np.mod(np.rint((day - 172.0 - shift) / 91.31), SEASONS), dtype=np.float64)


class SolarForecaster:
    """PV output of one home's arrays from the weather forecast, self-calibrating."""

    def __init__(self, latitude: float, longitude: float, arrays: Sequence[PVArray]) -> None:
        if not -90 <= latitude <= 90 or not -180 <= longitude <= 180:
            raise ValueError("latitude/longitude out of range")
        self.latitude = latitude
        self.longitude = longitude
        self.arrays = tuple(arrays)
        self.factors = np.ones((SEASONS, HOURS))
        self.counts = np.zeros((SEASONS, HOURS))
        self.calibration_mode: str | None = None
        """``clouds`` or ``clear_sky_envelope`` once calibrated, else None."""

    @property
    def kwp(self) -> float:
        """Total size of the arrays."""
        return float(sum(a.kwp for a in self.arrays))

    def model_power(
        self,
        times: FloatArray,
        cloud_coverage: FloatArray | None = None,
        temperature: FloatArray | None = None,
    ) -> FloatArray:
        """Uncalibrated output in W of all arrays at instants `times`."""
        sun = solar_position(times, self.latitude, self.longitude)
        ghi = clear_sky_ghi(sun.zenith)
        if cloud_coverage is not None:
            ghi = ghi * np.where(np.isfinite(cloud_coverage), cloud_factor(cloud_coverage), 1.0)
        dni, dhi = erbs_split(ghi, sun.zenith, sun.distance)
        total = np.zeros(np.shape(times))
        for array in self.arrays:
            total = total + array.power(array.poa(sun, ghi, dni, dhi), temperature)
        return total

    def _bins(self, times: FloatArray) -> tuple[np.ndarray, np.ndarray]:
        sun = solar_position(times, self.latitude, self.longitude)
        hour = np.minimum(np.floor(sun.solar_hour), HOURS - 1).astype(np.int64)
        return _season(times, self.latitude).astype(np.int64), hour

    def correction(self, times: FloatArray) -> FloatArray:
        """The learned factor at each instant (1 before calibration)."""
        season, hour = self._bins(times)
        return np.asarray(self.factors[season, hour], dtype=np.float64)

    def _step_mean(
        self,
        start: datetime,
        step: timedelta,
        count: int,
        weather: Weather | None,
        cloud_offset: float | None,
    ) -> FloatArray:
        """Mean output over each step, sampled at SUBSTEPS instants, calibrated."""
        times = epoch_grid(start, step, count)
        offsets = (np.arange(SUBSTEPS) + 0.5) / SUBSTEPS * step.total_seconds()
        samples = (times[:, None] + offsets[None, :]).ravel()
        clouds = None if weather is None else weather.at("cloud_coverage", samples)
        temps = None if weather is None else weather.at("temperature", samples)
        if clouds is not None and cloud_offset is not None:
            clouds = np.clip(clouds + cloud_offset, 0.0, 100.0)
        power = self.model_power(samples, clouds, temps) * self.correction(samples)
        return np.asarray(power.reshape(count, SUBSTEPS).mean(axis=1), dtype=np.float64)

    def predict(
        self, start: datetime, step: timedelta, count: int, weather: Weather | None = None
    ) -> ForecastResult:
        """P10/P50/P90 of the mean output in W over each step.

        With a cloud forecast, P10/P90 take the cloud cover 30 points higher/lower (and P10 a
        further 25 % off, for overcast days darker than the relation predicts). Without one,
        P90 is the clear sky, P50 70 % and P10 20 % of it, and the note says so.
        """
        has_clouds = weather is not None and weather.cloud_coverage is not None
        if has_clouds:
            has_clouds = bool(np.isfinite(np.asarray(weather.cloud_coverage)).any())  # type: ignore[union-attr]
        if has_clouds:
            p50 = self._step_mean(start, step, count, weather, 0.0)
            p90 = self._step_mean(start, step, count, weather, -_CLOUD_SPREAD)
            p10 = 0.75 * self._step_mean(start, step, count, weather, _CLOUD_SPREAD)
            note = None
        else:
            clear = self._step_mean(start, step, count, weather, None)
            p10, p50, p90 = 0.2 * clear, 0.7 * clear, clear
            note = "no cloud forecast: clear-sky based"
        if self.calibration_mode is None:
            extra = "not calibrated against measured PV yet"
            note = f"{note}; {extra}" if note else extra
        return make_result(start, step, p10, p50, p90, model="pv", note=note)

    def fit(self, history: History, weather: Weather | None = None) -> None:
        """Learn the correction factors from measured PV output in W.

        `weather` may give the cloud cover of the measured period (from a weather history);
        without it the clear-sky envelope is used. Refitting replaces earlier factors.
        """
        times = history.times + history.step.total_seconds() / 2.0
        step = history.step
        original = self.factors
        self.factors = np.ones((SEASONS, HOURS))
        clouds = None if weather is None else weather.at("cloud_coverage", times)
        modelled = self._step_mean(history.start, step, history.values.size, weather, None)
        self.factors = original
        measured = history.values
        use = np.isfinite(measured) & (modelled >= _MIN_SHARE * 1000.0 * self.kwp)
        season, hour = self._bins(times)
        season, hour = season[use], hour[use]
        y, m = measured[use], modelled[use]
        self.calibration_mode = "clouds" if clouds is not None else "clear_sky_envelope"
        if y.size == 0:
            self.factors = np.ones((SEASONS, HOURS))
            self.counts = np.zeros((SEASONS, HOURS))
            return

        def ratio(mask: np.ndarray) -> float:
            if clouds is not None:
                return float(np.sum(y[mask] * m[mask]) / np.sum(m[mask] ** 2))
            return float(np.quantile(y[mask] / m[mask], 0.9))

        overall = ratio(np.ones(y.size, dtype=bool))
        factors = np.empty((SEASONS, HOURS))
        counts = np.zeros((SEASONS, HOURS))
        for h in range(HOURS):
            in_hour = hour == h
            n_hour = int(in_hour.sum())
            by_hour = overall
            if n_hour:
                by_hour = (n_hour * ratio(in_hour) + _SHRINK * overall) / (n_hour + _SHRINK)
            for s in range(SEASONS):
                cell = in_hour & (season == s)
                n = int(cell.sum())
                counts[s, h] = n
                factors[s, h] = (
                    (n * ratio(cell) + _SHRINK * by_hour) / (n + _SHRINK) if n else by_hour
                )
        self.factors = np.clip(factors, 0.0, 1.5)
        self.counts = counts

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready state."""
        return {
            "version": FORMAT_VERSION,
            "kind": "pv",
            "latitude": self.latitude,
            "longitude": self.longitude,
            "arrays": [asdict(a) for a in self.arrays],
            "factors": self.factors.tolist(),
            "counts": self.counts.tolist(),
            "calibration_mode": self.calibration_mode,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SolarForecaster:
        """Restore from `to_dict` output."""
        if data.get("version") != FORMAT_VERSION or data.get("kind") != "pv":
            raise ValueError("not a stored PV forecaster of this version")
        forecaster = cls(
            float(data["latitude"]),
            float(data["longitude"]),
            [PVArray(**a) for a in data["arrays"]],
        )
        forecaster.factors = np.asarray(data["factors"], dtype=np.float64)
        forecaster.counts = np.asarray(data["counts"], dtype=np.float64)
        forecaster.calibration_mode = data.get("calibration_mode")
        return forecaster
