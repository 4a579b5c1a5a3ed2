"""Small wind turbines: a power curve applied to the forecast wind speed.

Power curve (per turbine): 0 below the cut-in speed, rising with the cube of the speed,
P = rated x (v^3 - v_in^3) / (v_rated^3 - v_in^3), up to the rated speed, flat at the rated
power up to the cut-out speed, and 0 from the cut-out speed on (the turbine stops to protect
itself).

Hub height: a weather forecast gives the wind at a reference height (10 m for most weather
services). The speed at the hub follows the power law  v_hub = v_ref x (h_hub / h_ref)^alpha,
with the shear exponent alpha = 1/7 (about 0.143) over open, flat ground; rougher
surroundings (suburbs, trees) have larger exponents, about 0.2-0.3.

P10/P90 take the forecast wind speed 20 % lower and higher (wind forecasts are uncertain by
about that much), so rated output near the cut-out speed can widen both ways.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, Final

import numpy as np

from .base import FloatArray, ForecastResult, Weather, epoch_grid, make_result

FORMAT_VERSION: Final = 1
SPEED_SPREAD: Final = 0.2


@dataclass(frozen=True, slots=True)
class WindTurbine:
    """One turbine's power curve and hub height."""

    rated_power_w: float
    cut_in_ms: float = 3.0
    rated_speed_ms: float = 12.0
    cut_out_ms: float = 25.0
    hub_height_m: float = 10.0
    shear_exponent: float = 1.0 / 7.0
    name: str = ""

    def __post_init__(self) -> None:
        if self.rated_power_w < 0:
            raise ValueError("rated power must not be negative")
        if not 0 <= self.cut_in_ms < self.rated_speed_ms <= self.cut_out_ms:
            raise ValueError("need 0 <= cut-in < rated speed <= cut-out")
        if self.hub_height_m <= 0:
            raise ValueError("hub height must be positive")

    def hub_speed(self, speed_ms: FloatArray, reference_height_m: float = 10.0) -> FloatArray:
        """Wind speed at the hub from the speed at the reference height (power law)."""
        factor = (self.hub_height_m / reference_height_m) ** self.shear_exponent
        return np.asarray(np.maximum(np.asarray(speed_ms, dtype=np.float64), 0.0) * factor)

    def power(self, hub_speed_ms: FloatArray) -> FloatArray:
        """Output in W at the given hub-height wind speeds (NaN stays NaN)."""
        v = np.asarray(hub_speed_ms, dtype=np.float64)
        v_in, v_rated = self.cut_in_ms, self.rated_speed_ms
        rising = self.rated_power_w * (v**3 - v_in**3) / (v_rated**3 - v_in**3)
        out = np.where(v < v_in, 0.0, np.where(v < v_rated, rising, self.rated_power_w))
        out = np.where(v >= self.cut_out_ms, 0.0, out)
        return np.where(np.isnan(v), np.nan, out)


class WindForecaster:
    """Sum of several turbines' output from a wind speed forecast."""

    def __init__(self, turbines: Sequence[WindTurbine]) -> None:
        self.turbines = tuple(turbines)

    def power(self, speed_ms: FloatArray, reference_height_m: float = 10.0) -> FloatArray:
        """Total output in W for wind speeds at the reference height."""
        total = np.zeros(np.shape(speed_ms))
        for turbine in self.turbines:
            total = total + turbine.power(turbine.hub_speed(speed_ms, reference_height_m))
        return total

    def predict(
        self, start: datetime, step: timedelta, count: int, weather: Weather | None
    ) -> ForecastResult:
        """P10/P50/P90 of the average output in W over each step.

        Each step is sampled at 4 instants, since the power curve is far from linear.
        """
        times = epoch_grid(start, step, count)
        offsets = (np.arange(4) + 0.5) / 4 * step.total_seconds()
        samples = (times[:, None] + offsets[None, :]).ravel()
        speed = None if weather is None else weather.at("wind_speed", samples)
        if speed is None:
            zero = np.zeros(count)
            return make_result(
                start, step, zero, zero, zero, model="wind", note="no wind speed forecast"
            )
        height = weather.wind_height_m if weather is not None else 10.0
        quantiles = [
            self.power(speed * factor, height).reshape(count, 4).mean(axis=1)
            for factor in (1.0 - SPEED_SPREAD, 1.0, 1.0 + SPEED_SPREAD)
        ]
        low, mid, high = quantiles
        p10 = np.minimum.reduce([low, mid, high])
        p90 = np.maximum.reduce([low, mid, high])
        return make_result(start, step, p10, mid, p90, model="wind")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready state."""
        return {
            "version": FORMAT_VERSION,
            "kind": "wind",
            "turbines": [asdict(t) for t in self.turbines],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WindForecaster:
        """Restore from `to_dict` output."""
        if data.get("version") != FORMAT_VERSION or data.get("kind") != "wind":
            raise ValueError("not a stored wind forecaster of this version")
        return cls([WindTurbine(**t) for t in data["turbines"]])
