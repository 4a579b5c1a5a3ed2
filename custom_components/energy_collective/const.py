"""Constants of Energy Collective."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Final

DOMAIN: Final = "energy_collective"


AGENT_STORES: Final = ("planner", "forecaster", "budget", "grid", "market")
"""The agents that keep something of a home in Home Assistant's storage."""


def store_key(entry_id: str, agent: str) -> str:
    """The storage key of what `agent` keeps for the home `entry_id` (one of AGENT_STORES)."""
    return f"{DOMAIN}.{entry_id}.{agent}"


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

# Devices: config subentries of a home that the planner runs
SUBENTRY_BATTERY: Final = "battery"
SUBENTRY_EV: Final = "ev_charger"
SUBENTRY_APPLIANCE: Final = "appliance"
SUBENTRY_INTERRUPTIBLE: Final = "interruptible"
SUBENTRY_THERMAL: Final = "thermal"
DEVICE_SUBENTRIES: Final = (
    SUBENTRY_BATTERY,
    SUBENTRY_EV,
    SUBENTRY_APPLIANCE,
    SUBENTRY_INTERRUPTIBLE,
    SUBENTRY_THERMAL,
)

# battery
CONF_SOC_ENTITY: Final = "soc_entity"
CONF_CAPACITY_KWH: Final = "capacity_kwh"
CONF_MAX_CHARGE_W: Final = "max_charge_w"
CONF_MAX_DISCHARGE_W: Final = "max_discharge_w"
CONF_CHARGE_EFFICIENCY: Final = "charge_efficiency_pct"
CONF_DISCHARGE_EFFICIENCY: Final = "discharge_efficiency_pct"
CONF_RESERVE_PCT: Final = "reserve_pct"
CONF_POWER_NUMBER: Final = "power_number_entity"
CONF_MODE_SELECT: Final = "mode_select_entity"
CONF_OPTION_CHARGE: Final = "option_charge"
CONF_OPTION_DISCHARGE: Final = "option_discharge"
CONF_OPTION_IDLE: Final = "option_idle"
# EV charger
CONF_PLUGGED_ENTITY: Final = "plugged_entity"
CONF_EV_SOC_ENTITY: Final = "ev_soc_entity"
CONF_CHARGE_SWITCH: Final = "charge_switch_entity"
CONF_CURRENT_NUMBER: Final = "current_number_entity"
CONF_MIN_CURRENT_A: Final = "min_current_a"
CONF_MAX_CURRENT_A: Final = "max_current_a"
CONF_PHASES: Final = "phases"
CONF_VOLTAGE_V: Final = "voltage_v"
CONF_DEPARTURE: Final = "departure_time"
CONF_TARGET_SOC: Final = "target_soc_pct"
CONF_SESSION_KWH: Final = "session_kwh"
# appliances, interruptible and thermal loads
CONF_SWITCH: Final = "switch_entity"
CONF_POWER_ENTITY: Final = "power_entity"
CONF_POWER_W: Final = "power_w"
CONF_DURATION_MIN: Final = "duration_minutes"
CONF_FINISH_BY: Final = "finish_by_time"
CONF_RUN_HOURS: Final = "run_hours"
CONF_WINDOW_START: Final = "window_start"
CONF_WINDOW_END: Final = "window_end"
CONF_MIN_ON_MIN: Final = "min_on_minutes"
CONF_MIN_OFF_MIN: Final = "min_off_minutes"
CONF_THERMAL_ENTITY: Final = "thermal_entity"
CONF_TEMPERATURE_ENTITY: Final = "temperature_entity"
CONF_T_MIN: Final = "t_min_c"
CONF_T_MAX: Final = "t_max_c"
CONF_VOLUME_L: Final = "volume_l"
CONF_LOSS_W_PER_K: Final = "loss_w_per_k"
CONF_HEAT_DEMAND_W: Final = "heat_demand_w"
CONF_COP: Final = "cop"

# Planner and dispatcher
CONF_OVERRIDE_MINUTES: Final = "override_minutes"
CONF_METER_MAX_AGE_S: Final = "meter_max_age_s"
"""How long a grid reading is trusted after the meter last reported it (engine/meter.py)."""
DEFAULT_METER_MAX_AGE_S: Final = 60
ISSUE_COMMAND_FAILED: Final = "command_failed_"
"""Repair issue id prefix of a device that does not follow; the subentry id follows it."""
CONF_KEEP_STATE_ON_UNLOAD: Final = "keep_state_on_unload"
"""When set, unloading a home leaves its devices as they are (else: at rest)."""
DEFAULT_OVERRIDE_MINUTES: Final = 120
PLANNER_STORE_VERSION: Final = 1
PLANNER_SAVE_DELAY_S: Final = 10
REPLAN_DEBOUNCE_S: Final = 10.0
SOLVE_TIME_LIMIT_S: Final = 20.0
SOLVE_MIP_GAP: Final = 0.01
FORECAST_ERROR_W: Final = 1500.0
"""A measured load this far from the planned base load re-plans (debounced)."""
COMFORT_DAYS: Final = 7
RETRY_DELAYS_S: Final = (2.0, 4.0, 8.0)

MODE_AUTO: Final = "auto"
MODE_ECO: Final = "eco"
MODE_COMFORT: Final = "comfort"
MODE_AWAY: Final = "away"
MODE_MANUAL: Final = "manual"
MODES: Final = (MODE_AUTO, MODE_ECO, MODE_COMFORT, MODE_AWAY, MODE_MANUAL)
ENGINE_MODE: Final = {
    MODE_AUTO: "cost",
    MODE_ECO: "eco",
    MODE_COMFORT: "comfort",
    MODE_AWAY: "away",
    MODE_MANUAL: "cost",
}

# Service actions
SERVICE_OPTIMIZE: Final = "optimize"
SERVICE_REQUEST_RUN: Final = "request_run"
SERVICE_CANCEL_RUN: Final = "cancel_run"
SERVICE_SET_OVERRIDE: Final = "set_override"
ATTR_CONFIG_ENTRY: Final = "config_entry_id"
ATTR_DEVICE_ID: Final = "device_id"
ATTR_FINISH_BY: Final = "finish_by"
ATTR_DURATION: Final = "duration"
ATTR_MINUTES: Final = "minutes"
ATTR_STATE: Final = "state"

# Grid integration agent (agents/grid.py): options group "grid", action, bus events
CONF_DEMAND_CHARGE_PER_KW: Final = "demand_charge_per_kw"
CONF_BILLING_PERIOD: Final = "billing_period"
BILLING_MONTHLY: Final = "month"
BILLING_DAILY: Final = "day"
BILLING_PERIODS: Final = (BILLING_MONTHLY, BILLING_DAILY)
CONF_CARBON_ENTITY: Final = "carbon_intensity_entity"
CONF_CARBON_PRICE: Final = "carbon_price_per_kg"
CONF_DR_CALENDAR: Final = "demand_response_calendar"
CONF_DR_KEYWORDS: Final = "demand_response_keywords"
DEFAULT_DR_KEYWORDS: Final = "demand response, peak event, saving session, flex event"
CONF_OCTOPUS_SESSIONS: Final = "octopus_saving_sessions_entity"
CONF_HOLIDAY_CALENDAR: Final = "holiday_calendar"
GRID_OPTION_KEYS: Final = (
    CONF_DEMAND_CHARGE_PER_KW,
    CONF_BILLING_PERIOD,
    CONF_CARBON_ENTITY,
    CONF_CARBON_PRICE,
    CONF_DR_CALENDAR,
    CONF_DR_KEYWORDS,
    CONF_OCTOPUS_SESSIONS,
    CONF_HOLIDAY_CALENDAR,
)
GRID_STORE_VERSION: Final = 1
GRID_SAVE_DELAY_S: Final = 10
GRID_REFRESH: Final = timedelta(minutes=15)
"""How often calendars are read again and the billing period's peak is measured again."""
BASELINE_LOOKBACK_DAYS: Final = 45
HOLIDAY_LOOKBACK_DAYS: Final = 60
EVENT_DAYS_KEPT: Final = 90
EVENT_DR_STARTED: Final = "energy_collective_demand_response_started"
EVENT_DR_ENDED: Final = "energy_collective_demand_response_ended"
SERVICE_DEMAND_RESPONSE: Final = "demand_response"
ATTR_START: Final = "start"
ATTR_END: Final = "end"
ATTR_IMPORT_CAP_W: Final = "import_cap_w"
ATTR_INCENTIVE: Final = "incentive_per_kwh"

# Power budget: real-time shedding under the import limit (agents/budget.py)
CONF_PRIORITY: Final = "priority"
PRIORITY_CRITICAL: Final = "critical"
PRIORITY_HIGH: Final = "high"
PRIORITY_MEDIUM: Final = "medium"
PRIORITY_LOW: Final = "low"
PRIORITIES: Final = (PRIORITY_CRITICAL, PRIORITY_HIGH, PRIORITY_MEDIUM, PRIORITY_LOW)
DEFAULT_PRIORITY: Final = {
    SUBENTRY_BATTERY: PRIORITY_HIGH,
    SUBENTRY_EV: PRIORITY_MEDIUM,
    SUBENTRY_THERMAL: PRIORITY_MEDIUM,
    SUBENTRY_INTERRUPTIBLE: PRIORITY_LOW,
    SUBENTRY_APPLIANCE: PRIORITY_LOW,
}
CONF_MAX_HIGH_POWER: Final = "max_high_power_devices"
CONF_HIGH_POWER_W: Final = "high_power_threshold_w"
CONF_RESTORE_HYSTERESIS_W: Final = "restore_hysteresis_w"
DEFAULT_MAX_HIGH_POWER: Final = 2
DEFAULT_HIGH_POWER_W: Final = 2000
DEFAULT_RESTORE_HYSTERESIS_W: Final = 500
BUDGET_STORE_VERSION: Final = 1
BUDGET_SAVE_DELAY_S: Final = 5
BUDGET_CHECK_INTERVAL: Final = timedelta(seconds=30)
"""A reaction also runs this often, so that loads come back when the grid sensor is quiet."""
LIMIT_SOURCE_FUSE: Final = "fuse"
LIMIT_SOURCE_DEMAND_RESPONSE: Final = "demand_response"

# Market: peer-to-peer trading with neighbours over MQTT (agents/market.py)
CONF_MARKET_ENABLED: Final = "market_enabled"
CONF_MARKET_COMMUNITY: Final = "market_community"
CONF_MARKET_HOME_ID: Final = "market_home_id"
CONF_MARKET_MECHANISM: Final = "market_mechanism"
CONF_MARKET_GATE_MINUTES: Final = "market_gate_minutes"
MARKET_MECHANISMS: Final = ("auction", "sdr", "mmr")
DEFAULT_MARKET_MECHANISM: Final = "auction"
DEFAULT_MARKET_GATE_MINUTES: Final = 5
MIN_MARKET_GATE_MINUTES: Final = 1
MAX_MARKET_GATE_MINUTES: Final = 60
SUBENTRY_PEER: Final = "community_peer"
CONF_PEER_HOME_ID: Final = "home_id"
CONF_PEER_PUBLIC_KEY: Final = "public_key"
MARKET_STORE_VERSION: Final = 1
MARKET_SAVE_DELAY_S: Final = 10
MARKET_TICK_INTERVAL: Final = timedelta(seconds=10)
"""Heartbeats, clearing and delivery reports are checked this often."""
MARKET_KEEP_SLOTS: Final = 4
"""Settled slots are forgotten this many slots after they end."""
MARKET_ORDER_HORIZON: Final = timedelta(hours=4)
"""Orders are placed for the slots of the plan this far ahead (the rest of the plan is too
uncertain to promise, and every order is a message to every home)."""
MARKET_MIN_CHANGE_WH: Final = 10
MARKET_MIN_CHANGE_PRICE: Final = 0.005
"""A new plan re-sends an order only when its energy or price moved more than this (or 5 %)."""


# A form's or an action's schema, built with voluptuous. Home Assistant 2026.9 and later type
# flow and action schemas as probatio's (which accept voluptuous ones at run time); Any keeps
# the code typed strictly against both the oldest and the newest Home Assistant we support.
type Schema = Any
