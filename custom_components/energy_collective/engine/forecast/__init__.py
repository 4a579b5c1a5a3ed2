"""Forecasts for the prediction agent: household load, PV and wind (numpy; no Home Assistant).

- `LoadForecaster`: learns the home's load from its history (numpy profile model by default,
  gradient boosting when scikit-learn is importable, a typical profile on day one).
- `SolarForecaster`: PV arrays from sun position, clear sky, cloud cover and self-calibration.
- `WindForecaster`: turbines' power curves applied to the forecast wind speed.

Each returns a `ForecastResult` with P10/P50/P90 and persists as JSON via `to_dict`/`from_dict`.
"""

from .base import (
    Forecaster,
    ForecastResult,
    History,
    Weather,
    accuracy,
    sum_results,
)
from .load import LoadForecaster
from .solar import PVArray, SolarForecaster, solar_position
from .wind import WindForecaster, WindTurbine

__all__ = [
    "ForecastResult",
    "Forecaster",
    "History",
    "LoadForecaster",
    "PVArray",
    "SolarForecaster",
    "Weather",
    "WindForecaster",
    "WindTurbine",
    "accuracy",
    "solar_position",
    "sum_results",
]
