"""Constants of Energy Collective."""

from __future__ import annotations

from datetime import timedelta
from typing import Final

DOMAIN: Final = "energy_collective"
NAME: Final = "Energy Collective"

# Home entry: config keys (entry.data, mirrored by the options/reconfigure flows)
CONF_NAME: Final = "name"
CONF_GRID_MODE: Final = "grid_mode"
GRID_MODE_SIGNED: Final = "signed"
GRID_MODE_SEPARATE: Final = "separate"
CONF_GRID_POWER: Final = "grid_power_entity"
CONF_GRID_SIGN: Final = "grid_sign"
GRID_SIGN_IMPORT_POSITIVE: Final = "import_positive"
GRID_SIGN_EXPORT_POSITIVE: Final = "export_positive"
CONF_GRID_IMPORT_POWER: Final = "grid_import_entity"
CONF_GRID_EXPORT_POWER: Final = "grid_export_entity"

CONF_IMPORT_PRICE_MODE: Final = "import_price_mode"
CONF_IMPORT_PRICE_ENTITY: Final = "import_price_entity"
CONF_IMPORT_PRICE_SCHEDULE: Final = "import_price_schedule"
CONF_EXPORT_PRICE_MODE: Final = "export_price_mode"
CONF_EXPORT_PRICE_ENTITY: Final = "export_price_entity"
CONF_EXPORT_PRICE_SCHEDULE: Final = "export_price_schedule"
PRICE_MODE_ENTITY: Final = "entity"
PRICE_MODE_SCHEDULE: Final = "schedule"

CONF_PV_POWER: Final = "pv_power_entity"
CONF_PV_FORECAST: Final = "pv_forecast_entity"
CONF_WEATHER: Final = "weather_entity"
CONF_LOAD_POWER: Final = "load_power_entity"
CONF_BATTERY_POWER: Final = "battery_power_entity"
CONF_GRID_LIMIT_W: Final = "grid_import_limit_w"
CONF_STEP_MINUTES: Final = "step_minutes"
CONF_HORIZON_HOURS: Final = "horizon_hours"

STEP_CHOICES: Final = (5, 15, 30, 60)
DEFAULT_STEP_MINUTES: Final = 15
DEFAULT_HORIZON_HOURS: Final = 24
MAX_HORIZON_HOURS: Final = 48
DEFAULT_GRID_LIMIT_W: Final = 11000

# Collector timing
COLLECT_INTERVAL: Final = timedelta(minutes=1)
STATE_CHANGE_DEBOUNCE_S: Final = 5.0
STALE_AFTER: Final = timedelta(minutes=10)
HISTORY_DAYS: Final = 28

CONF_BATTERY_SIGN: Final = "battery_sign"
BATTERY_SIGN_CHARGE_POSITIVE: Final = "charge_positive"
BATTERY_SIGN_DISCHARGE_POSITIVE: Final = "discharge_positive"

MIN_GRID_LIMIT_W: Final = 500
MAX_GRID_LIMIT_W: Final = 250_000

# Keys of entry.data (the sources) and entry.options (the tunables)
OPTION_KEYS: Final = (CONF_GRID_LIMIT_W, CONF_STEP_MINUTES, CONF_HORIZON_HOURS)

CHEAPEST_WINDOW: Final = timedelta(hours=1)

# Generators: config subentries of a home (PV arrays and wind turbines)
SUBENTRY_GENERATOR: Final = "generator"
CONF_GENERATOR_KIND: Final = "kind"
GENERATOR_PV_ARRAY: Final = "pv_array"
GENERATOR_WIND_TURBINE: Final = "wind_turbine"
CONF_KWP: Final = "kwp"
CONF_TILT: Final = "tilt"
CONF_AZIMUTH: Final = "azimuth"
CONF_LOSSES_PCT: Final = "losses_pct"
CONF_RATED_POWER_W: Final = "rated_power_w"
CONF_CUT_IN_MS: Final = "cut_in_speed"
CONF_RATED_SPEED_MS: Final = "rated_speed"
CONF_CUT_OUT_MS: Final = "cut_out_speed"
CONF_HUB_HEIGHT_M: Final = "hub_height_m"
DEFAULT_TILT: Final = 30
DEFAULT_AZIMUTH: Final = 180
DEFAULT_LOSSES_PCT: Final = 14
DEFAULT_CUT_IN_MS: Final = 3.0
DEFAULT_RATED_SPEED_MS: Final = 12.0
DEFAULT_CUT_OUT_MS: Final = 25.0
DEFAULT_HUB_HEIGHT_M: Final = 12.0

# Forecaster timing and memory
FORECAST_EVERY_MINUTES: Final = 5  # every planning step (5-60 min) starts on such a minute
RETRAIN_INTERVAL: Final = timedelta(days=1)
WEATHER_REFRESH: Final = timedelta(minutes=30)
ACCURACY_DAYS: Final = 7
ACCURACY_LEAD: Final = timedelta(hours=1)
"""A step's forecast is judged by the value issued at least this long before it began."""
RECENT_DAYS: Final = 8
FORECASTER_STORE_VERSION: Final = 1
FORECASTER_SAVE_DELAY_S: Final = 300
