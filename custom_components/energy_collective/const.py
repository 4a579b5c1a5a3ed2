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
