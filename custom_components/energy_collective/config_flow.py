"""Config flow of Energy Collective: the home entry, its options and its reconfiguration.

A home is set up in four short steps: what it is called and how the grid and prices are
measured (`user`), the grid sensors (`grid`), the prices (`prices`) and the optional sources
(`sources`); a new home then asks its limits (`limits`), which are also its options.

Its generators, PV arrays and wind turbines, are subentries of the home (`generator`): a
menu chooses the kind, one form describes it, and the same form reconfigures it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import time
from typing import Any

import voluptuous as vol
from homeassistant.components.sensor import SensorDeviceClass
from homeassistant.config_entries import (
    SOURCE_RECONFIGURE,
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    ConfigSubentryFlow,
    OptionsFlowWithReload,
    SubentryFlowResult,
)
from homeassistant.const import (
    ATTR_UNIT_OF_MEASUREMENT,
    PERCENTAGE,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
    UnitOfElectricCurrent,
    UnitOfPower,
    UnitOfTemperature,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.selector import (
    BooleanSelector,
    EntitySelector,
    EntitySelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TimeSelector,
)
from homeassistant.util import dt as dt_util
from homeassistant.util import slugify

from .const import (
    BATTERY_SIGN_CHARGE_POSITIVE,
    BATTERY_SIGN_DISCHARGE_POSITIVE,
    BILLING_DAILY,
    BILLING_MONTHLY,
    CONF_AZIMUTH,
    CONF_BATTERY_POWER,
    CONF_BATTERY_SIGN,
    CONF_BILLING_PERIOD,
    CONF_CAPACITY_KWH,
    CONF_CARBON_ENTITY,
    CONF_CARBON_PRICE,
    CONF_CHARGE_EFFICIENCY,
    CONF_CHARGE_SWITCH,
    CONF_COP,
    CONF_CURRENT_NUMBER,
    CONF_CUT_IN_MS,
    CONF_CUT_OUT_MS,
    CONF_DEMAND_CHARGE_PER_KW,
    CONF_DEPARTURE,
    CONF_DISCHARGE_EFFICIENCY,
    CONF_DR_CALENDAR,
    CONF_DR_KEYWORDS,
    CONF_DURATION_MIN,
    CONF_EV_SOC_ENTITY,
    CONF_EXPORT_PRICE_ENTITY,
    CONF_EXPORT_PRICE_MODE,
    CONF_EXPORT_PRICE_SCHEDULE,
    CONF_FINISH_BY,
    CONF_GENERATOR_KIND,
    CONF_GRID_EXPORT_POWER,
    CONF_GRID_IMPORT_POWER,
    CONF_GRID_LIMIT_W,
    CONF_GRID_MODE,
    CONF_GRID_POWER,
    CONF_GRID_SIGN,
    CONF_HEAT_DEMAND_W,
    CONF_HIGH_POWER_W,
    CONF_HOLIDAY_CALENDAR,
    CONF_HORIZON_HOURS,
    CONF_HUB_HEIGHT_M,
    CONF_IMPORT_PRICE_ENTITY,
    CONF_IMPORT_PRICE_MODE,
    CONF_IMPORT_PRICE_SCHEDULE,
    CONF_KEEP_STATE_ON_UNLOAD,
    CONF_KWP,
    CONF_LOAD_POWER,
    CONF_LOSS_W_PER_K,
    CONF_LOSSES_PCT,
    CONF_MARKET_COMMUNITY,
    CONF_MARKET_ENABLED,
    CONF_MARKET_GATE_MINUTES,
    CONF_MARKET_HOME_ID,
    CONF_MARKET_MECHANISM,
    CONF_MAX_CHARGE_W,
    CONF_MAX_CURRENT_A,
    CONF_MAX_DISCHARGE_W,
    CONF_MAX_HIGH_POWER,
    CONF_METER_MAX_AGE_S,
    CONF_MIN_CURRENT_A,
    CONF_MIN_OFF_MIN,
    CONF_MIN_ON_MIN,
    CONF_MODE_SELECT,
    CONF_NAME,
    CONF_OCTOPUS_SESSIONS,
    CONF_OPTION_CHARGE,
    CONF_OPTION_DISCHARGE,
    CONF_OPTION_IDLE,
    CONF_PEER_HOME_ID,
    CONF_PEER_PUBLIC_KEY,
    CONF_PHASES,
    CONF_PLUGGED_ENTITY,
    CONF_POWER_ENTITY,
    CONF_POWER_NUMBER,
    CONF_POWER_W,
    CONF_PRIORITY,
    CONF_PV_FORECAST,
    CONF_PV_POWER,
    CONF_RATED_POWER_W,
    CONF_RATED_SPEED_MS,
    CONF_RESERVE_PCT,
    CONF_RESTORE_HYSTERESIS_W,
    CONF_RUN_HOURS,
    CONF_SESSION_KWH,
    CONF_SOC_ENTITY,
    CONF_STEP_MINUTES,
    CONF_SWITCH,
    CONF_T_MAX,
    CONF_T_MIN,
    CONF_TARGET_SOC,
    CONF_TEMPERATURE_ENTITY,
    CONF_THERMAL_ENTITY,
    CONF_TILT,
    CONF_VOLTAGE_V,
    CONF_VOLUME_L,
    CONF_WEATHER,
    CONF_WINDOW_END,
    CONF_WINDOW_START,
    DEFAULT_AZIMUTH,
    DEFAULT_CUT_IN_MS,
    DEFAULT_CUT_OUT_MS,
    DEFAULT_DR_KEYWORDS,
    DEFAULT_GRID_LIMIT_W,
    DEFAULT_HIGH_POWER_W,
    DEFAULT_HORIZON_HOURS,
    DEFAULT_HUB_HEIGHT_M,
    DEFAULT_LOSSES_PCT,
    DEFAULT_MARKET_GATE_MINUTES,
    DEFAULT_MARKET_MECHANISM,
    DEFAULT_MAX_HIGH_POWER,
    DEFAULT_METER_MAX_AGE_S,
    DEFAULT_RATED_SPEED_MS,
    DEFAULT_RESTORE_HYSTERESIS_W,
    DEFAULT_STEP_MINUTES,
    DEFAULT_TILT,
    DEVICE_SUBENTRIES,
    DOMAIN,
    GENERATOR_PV_ARRAY,
    GENERATOR_WIND_TURBINE,
    GRID_MODE_SEPARATE,
    GRID_MODE_SIGNED,
    GRID_OPTION_KEYS,
    GRID_SIGN_EXPORT_POSITIVE,
    GRID_SIGN_IMPORT_POSITIVE,
    MARKET_MECHANISMS,
    MAX_GRID_LIMIT_W,
    MAX_HORIZON_HOURS,
    MAX_MARKET_GATE_MINUTES,
    MIN_GRID_LIMIT_W,
    MIN_MARKET_GATE_MINUTES,
    OPTION_KEYS,
    PRICE_MODE_ENTITY,
    PRICE_MODE_SCHEDULE,
    PRIORITIES,
    STEP_CHOICES,
    SUBENTRY_APPLIANCE,
    SUBENTRY_BATTERY,
    SUBENTRY_EV,
    SUBENTRY_GENERATOR,
    SUBENTRY_INTERRUPTIBLE,
    SUBENTRY_PEER,
    SUBENTRY_THERMAL,
    Schema,
)
from .engine.carbon import parse_carbon_attributes
from .engine.grid import parse_keywords
from .engine.market.orders import valid_id
from .engine.market.protocol import load_public_key
from .engine.pv_forecast import parse_pv_forecast_attributes
from .engine.tariffs import ScheduleError, parse_price_attributes, parse_tou_schedule
from .engine.timeseries import parse_number
from .engine.units import UnitError, price_unit_factor

POWER_UNITS = frozenset(str(unit) for unit in UnitOfPower)
# Platforms whose forecasts are read through an action or an energy platform, not attributes
PRICE_ACTION_PLATFORMS = frozenset({"nordpool", "tibber"})
PV_FORECAST_PLATFORMS = frozenset({"forecast_solar"})

_POWER_SENSOR = EntitySelector(
    EntitySelectorConfig(domain="sensor", device_class=SensorDeviceClass.POWER)
)
_ANY_SENSOR = EntitySelector(EntitySelectorConfig(domain="sensor"))
_SCHEDULE_TEXT = TextSelector(TextSelectorConfig(multiline=True))


def _select(options: list[str], key: str) -> SelectSelector:
    return SelectSelector(
        SelectSelectorConfig(options=options, translation_key=key, mode=SelectSelectorMode.LIST)
    )


def _user_schema() -> Schema:
    price_modes = [PRICE_MODE_ENTITY, PRICE_MODE_SCHEDULE]
    return vol.Schema(
        {
            vol.Required(CONF_NAME): TextSelector(),
            vol.Required(CONF_GRID_MODE, default=GRID_MODE_SIGNED): _select(
                [GRID_MODE_SIGNED, GRID_MODE_SEPARATE], CONF_GRID_MODE
            ),
            vol.Required(CONF_IMPORT_PRICE_MODE, default=PRICE_MODE_ENTITY): _select(
                price_modes, "price_mode"
            ),
            vol.Required(CONF_EXPORT_PRICE_MODE, default=PRICE_MODE_SCHEDULE): _select(
                price_modes, "price_mode"
            ),
        }
    )


def _grid_schema(mode: str) -> Schema:
    if mode == GRID_MODE_SIGNED:
        return vol.Schema(
            {
                vol.Required(CONF_GRID_POWER): _POWER_SENSOR,
                vol.Required(CONF_GRID_SIGN, default=GRID_SIGN_IMPORT_POSITIVE): _select(
                    [GRID_SIGN_IMPORT_POSITIVE, GRID_SIGN_EXPORT_POSITIVE], CONF_GRID_SIGN
                ),
            }
        )
    return vol.Schema(
        {
            vol.Required(CONF_GRID_IMPORT_POWER): _POWER_SENSOR,
            vol.Required(CONF_GRID_EXPORT_POWER): _POWER_SENSOR,
        }
    )


def _prices_schema(data: Mapping[str, Any]) -> Schema:
    fields: dict[vol.Marker, Any] = {}
    if data[CONF_IMPORT_PRICE_MODE] == PRICE_MODE_ENTITY:
        fields[vol.Required(CONF_IMPORT_PRICE_ENTITY)] = _ANY_SENSOR
    else:
        fields[vol.Required(CONF_IMPORT_PRICE_SCHEDULE)] = _SCHEDULE_TEXT
    if data[CONF_EXPORT_PRICE_MODE] == PRICE_MODE_ENTITY:
        fields[vol.Required(CONF_EXPORT_PRICE_ENTITY)] = _ANY_SENSOR
    else:
        fields[vol.Required(CONF_EXPORT_PRICE_SCHEDULE, default="0")] = _SCHEDULE_TEXT
    return vol.Schema(fields)


def _sources_schema() -> Schema:
    return vol.Schema(
        {
            vol.Optional(CONF_PV_POWER): _POWER_SENSOR,
            vol.Optional(CONF_PV_FORECAST): EntitySelector(
                EntitySelectorConfig(
                    domain="sensor",
                    device_class=[SensorDeviceClass.POWER, SensorDeviceClass.ENERGY],
                )
            ),
            vol.Optional(CONF_WEATHER): EntitySelector(EntitySelectorConfig(domain="weather")),
            vol.Optional(CONF_LOAD_POWER): _POWER_SENSOR,
            vol.Optional(CONF_BATTERY_POWER): _POWER_SENSOR,
            vol.Required(CONF_BATTERY_SIGN, default=BATTERY_SIGN_DISCHARGE_POSITIVE): _select(
                [BATTERY_SIGN_DISCHARGE_POSITIVE, BATTERY_SIGN_CHARGE_POSITIVE], CONF_BATTERY_SIGN
            ),
        }
    )


def limits_schema() -> Schema:
    """The tunables of a home: its main fuse, planning step and horizon."""
    return vol.Schema(
        {
            vol.Required(CONF_GRID_LIMIT_W, default=DEFAULT_GRID_LIMIT_W): NumberSelector(
                NumberSelectorConfig(
                    min=MIN_GRID_LIMIT_W,
                    max=MAX_GRID_LIMIT_W,
                    step=100,
                    unit_of_measurement="W",
                    mode=NumberSelectorMode.BOX,
                )
            ),
            vol.Required(CONF_STEP_MINUTES, default=str(DEFAULT_STEP_MINUTES)): _select(
                [str(step) for step in STEP_CHOICES], CONF_STEP_MINUTES
            ),
            vol.Required(CONF_HORIZON_HOURS, default=DEFAULT_HORIZON_HOURS): NumberSelector(
                NumberSelectorConfig(
                    min=1,
                    max=MAX_HORIZON_HOURS,
                    step=1,
                    unit_of_measurement="h",
                    mode=NumberSelectorMode.SLIDER,
                )
            ),
            # the power budget's rules: optional, so that homes without them keep working
            vol.Optional(
                CONF_MAX_HIGH_POWER, description={"suggested_value": DEFAULT_MAX_HIGH_POWER}
            ): _number(1, 10, 1, ""),
            vol.Optional(
                CONF_HIGH_POWER_W, description={"suggested_value": DEFAULT_HIGH_POWER_W}
            ): _number(500, 50_000, 100, "W"),
            vol.Optional(
                CONF_RESTORE_HYSTERESIS_W,
                description={"suggested_value": DEFAULT_RESTORE_HYSTERESIS_W},
            ): _number(0, 10_000, 50, "W"),
            vol.Optional(
                CONF_METER_MAX_AGE_S, description={"suggested_value": DEFAULT_METER_MAX_AGE_S}
            ): _number(10, 600, 5, "s"),
            vol.Optional(
                CONF_KEEP_STATE_ON_UNLOAD, description={"suggested_value": False}
            ): BooleanSelector(),
        }
    )


def normalise_limits(user_input: Mapping[str, Any]) -> dict[str, Any]:
    """Store the tunables as integers, whatever form the selectors returned them in."""
    return (
        {
            CONF_GRID_LIMIT_W: int(float(user_input[CONF_GRID_LIMIT_W])),
            CONF_STEP_MINUTES: int(user_input[CONF_STEP_MINUTES]),
            CONF_HORIZON_HOURS: int(float(user_input[CONF_HORIZON_HOURS])),
        }
        | {
            key: int(float(user_input[key]))
            for key in (
                CONF_MAX_HIGH_POWER,
                CONF_HIGH_POWER_W,
                CONF_RESTORE_HYSTERESIS_W,
                CONF_METER_MAX_AGE_S,
            )
            if user_input.get(key) is not None
        }
        | ({CONF_KEEP_STATE_ON_UNLOAD: True} if user_input.get(CONF_KEEP_STATE_ON_UNLOAD) else {})
    )


def limits_suggestion(values: Mapping[str, Any]) -> dict[str, Any]:
    """Form values for the limits step (the step selector holds strings)."""
    out = dict(values)
    if CONF_STEP_MINUTES in out:
        out[CONF_STEP_MINUTES] = str(out[CONF_STEP_MINUTES])
    return out


def _numeric_state_error(state: str) -> str | None:
    if state in (STATE_UNAVAILABLE, STATE_UNKNOWN):
        return None  # a source that is down now may come back; the collector copes
    try:
        float(state)
    except ValueError:
        return "not_numeric"
    return None


def check_power_entity(hass: HomeAssistant, entity_id: str) -> str | None:
    """The error key for a power sensor that cannot serve, or None."""
    state = hass.states.get(entity_id)
    if state is None:
        return "entity_missing"
    if state.attributes.get(ATTR_UNIT_OF_MEASUREMENT) not in POWER_UNITS:
        return "wrong_power_unit"
    return _numeric_state_error(state.state)


def _platform(hass: HomeAssistant, entity_id: str) -> str | None:
    entry = er.async_get(hass).async_get(entity_id)
    return entry.platform if entry else None


def check_price_entity(hass: HomeAssistant, entity_id: str) -> str | None:
    """The error key for a price sensor that cannot serve, or None."""
    state = hass.states.get(entity_id)
    if state is None:
        return "entity_missing"
    try:
        price_unit_factor(state.attributes.get(ATTR_UNIT_OF_MEASUREMENT))
    except UnitError:
        parsed = parse_price_attributes(state.attributes)
        if not parsed.intervals and _platform(hass, entity_id) not in PRICE_ACTION_PLATFORMS:
            return "wrong_price_unit"
    return _numeric_state_error(state.state)


def check_pv_forecast_entity(hass: HomeAssistant, entity_id: str) -> str | None:
    """The error key for a PV forecast entity whose forecast cannot be read, or None."""
    state = hass.states.get(entity_id)
    if state is None:
        return "entity_missing"
    if _platform(hass, entity_id) in PV_FORECAST_PLATFORMS:
        return None
    if not parse_pv_forecast_attributes(state.attributes).intervals:
        return "forecast_unrecognised"
    return None


# A required number with no sensible default starts at 0 (the frontend fills a required number
# with its minimum) and the form refuses 0 with "value_required": an untouched field is never
# taken for a 0.1 kWh battery (REQUIRED_VALUES).
def _number(low: float, high: float, step: float, unit: str, *, slider: bool = False) -> Any:
    return NumberSelector(
        NumberSelectorConfig(
            min=low,
            max=high,
            step=step,
            unit_of_measurement=unit,
            mode=NumberSelectorMode.SLIDER if slider else NumberSelectorMode.BOX,
        )
    )


def pv_array_schema() -> Schema:
    """Size, orientation and losses of a PV array."""
    return vol.Schema(
        {
            vol.Required(CONF_NAME): TextSelector(),
            vol.Required(CONF_KWP): _number(0, 1000, 0.01, "kWp"),
            vol.Required(CONF_TILT, default=DEFAULT_TILT): _number(0, 90, 1, "°", slider=True),
            vol.Required(CONF_AZIMUTH, default=DEFAULT_AZIMUTH): _number(0, 360, 1, "°"),
            vol.Required(CONF_LOSSES_PCT, default=DEFAULT_LOSSES_PCT): _number(0, 50, 1, "%"),
        }
    )


def wind_turbine_schema() -> Schema:
    """Power curve and hub height of a wind turbine."""
    return vol.Schema(
        {
            vol.Required(CONF_NAME): TextSelector(),
            vol.Required(CONF_RATED_POWER_W): _number(0, 1_000_000, 1, "W"),
            vol.Required(CONF_CUT_IN_MS, default=DEFAULT_CUT_IN_MS): _number(0, 30, 0.1, "m/s"),
            vol.Required(CONF_RATED_SPEED_MS, default=DEFAULT_RATED_SPEED_MS): _number(
                0.5, 40, 0.1, "m/s"
            ),
            vol.Required(CONF_CUT_OUT_MS, default=DEFAULT_CUT_OUT_MS): _number(0.5, 70, 0.1, "m/s"),
            vol.Required(CONF_HUB_HEIGHT_M, default=DEFAULT_HUB_HEIGHT_M): _number(
                1, 200, 0.5, "m"
            ),
        }
    )


GENERATOR_FIELDS = {
    GENERATOR_PV_ARRAY: (CONF_KWP, CONF_TILT, CONF_AZIMUTH, CONF_LOSSES_PCT),
    GENERATOR_WIND_TURBINE: (
        CONF_RATED_POWER_W,
        CONF_CUT_IN_MS,
        CONF_RATED_SPEED_MS,
        CONF_CUT_OUT_MS,
        CONF_HUB_HEIGHT_M,
    ),
}


def generator_problems(
    entry: ConfigEntry, kind: str, user_input: Mapping[str, Any], subentry_id: str | None
) -> dict[str, str]:
    """Field -> error key (under config_subentries.generator.error) of a generator form."""
    problems: dict[str, str] = {}
    name = str(user_input[CONF_NAME]).strip()
    if not name:
        problems[CONF_NAME] = "name_empty"
    elif any(
        subentry.title.casefold() == name.casefold()
        for other_id, subentry in entry.subentries.items()
        if other_id != subentry_id and subentry.subentry_type == SUBENTRY_GENERATOR
    ):
        problems[CONF_NAME] = "name_exists"
    for key in (CONF_KWP, CONF_RATED_POWER_W):
        if key in user_input and float(user_input[key]) <= 0:
            problems[key] = "value_required"
    if kind == GENERATOR_WIND_TURBINE:
        cut_in = float(user_input[CONF_CUT_IN_MS])
        rated = float(user_input[CONF_RATED_SPEED_MS])
        cut_out = float(user_input[CONF_CUT_OUT_MS])
        if not cut_in < rated:
            problems[CONF_RATED_SPEED_MS] = "rated_below_cut_in"
        elif not rated <= cut_out:
            problems[CONF_CUT_OUT_MS] = "cut_out_below_rated"
    return problems


class GeneratorSubentryFlow(ConfigSubentryFlow):
    """Add or reconfigure a PV array or a wind turbine of a home."""

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Choose what kind of generator to add."""
        return self.async_show_menu(
            step_id="user", menu_options=[GENERATOR_PV_ARRAY, GENERATOR_WIND_TURBINE]
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Open the form of the generator's kind with its current values."""
        subentry = self._get_reconfigure_subentry()
        if subentry.data[CONF_GENERATOR_KIND] == GENERATOR_WIND_TURBINE:
            return await self.async_step_wind_turbine()
        return await self.async_step_pv_array()

    async def async_step_pv_array(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Describe a PV array."""
        return self._generator_form(GENERATOR_PV_ARRAY, user_input)

    async def async_step_wind_turbine(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Describe a wind turbine."""
        return self._generator_form(GENERATOR_WIND_TURBINE, user_input)

    def _generator_form(self, kind: str, user_input: dict[str, Any] | None) -> SubentryFlowResult:
        entry = self._get_entry()
        reconfiguring = self.source == SOURCE_RECONFIGURE
        subentry = self._get_reconfigure_subentry() if reconfiguring else None
        problems: dict[str, str] = {}
        if user_input is not None:
            problems = generator_problems(
                entry, kind, user_input, subentry.subentry_id if subentry else None
            )
            if not problems:
                title = str(user_input[CONF_NAME]).strip()
                data = {CONF_GENERATOR_KIND: kind} | {
                    key: float(user_input[key]) for key in GENERATOR_FIELDS[kind]
                }
                if subentry is not None:
                    # the home reloads when its generators change (see __init__.py)
                    return self.async_update_and_abort(entry, subentry, title=title, data=data)
                return self.async_create_entry(title=title, data=data)
        suggested: Mapping[str, Any] = user_input or {}
        if user_input is None and subentry is not None:
            suggested = {CONF_NAME: subentry.title, **subentry.data}
        schema = pv_array_schema() if kind == GENERATOR_PV_ARRAY else wind_turbine_schema()
        return self.async_show_form(
            step_id=kind,
            data_schema=self.add_suggested_values_to_schema(schema, suggested),
            errors=problems,
        )


def _entity(domain: str | list[str], device_class: str | None = None) -> EntitySelector:
    if device_class is None:
        return EntitySelector(EntitySelectorConfig(domain=domain))
    return EntitySelector(EntitySelectorConfig(domain=domain, device_class=device_class))


_TEXT = TextSelector()
_TIME = TimeSelector()


def battery_schema() -> Schema:
    """A battery: its SoC sensor, size, limits, efficiencies, reserve and controls."""
    return vol.Schema(
        {
            vol.Required(CONF_NAME): _TEXT,
            vol.Optional(CONF_PRIORITY): _select([*PRIORITIES], CONF_PRIORITY),
            vol.Required(CONF_SOC_ENTITY): _entity(
                "sensor", device_class=SensorDeviceClass.BATTERY
            ),
            vol.Required(CONF_CAPACITY_KWH): _number(0, 1000, 0.1, "kWh"),
            vol.Required(CONF_MAX_CHARGE_W): _number(0, 100_000, 1, "W"),
            vol.Required(CONF_MAX_DISCHARGE_W): _number(0, 100_000, 1, "W"),
            vol.Required(CONF_CHARGE_EFFICIENCY, default=95): _number(50, 100, 1, "%"),
            vol.Required(CONF_DISCHARGE_EFFICIENCY, default=95): _number(50, 100, 1, "%"),
            vol.Required(CONF_RESERVE_PCT, default=10): _number(0, 100, 1, "%", slider=True),
            vol.Optional(CONF_POWER_NUMBER): _entity("number"),
            vol.Optional(CONF_MODE_SELECT): _entity(["select", "input_select"]),
            vol.Optional(CONF_OPTION_CHARGE): _TEXT,
            vol.Optional(CONF_OPTION_DISCHARGE): _TEXT,
            vol.Optional(CONF_OPTION_IDLE): _TEXT,
        }
    )


def ev_schema() -> Schema:
    """An EV charger: plug, car, controls, electrical limits, departure and target."""
    return vol.Schema(
        {
            vol.Required(CONF_NAME): _TEXT,
            vol.Optional(CONF_PRIORITY): _select([*PRIORITIES], CONF_PRIORITY),
            vol.Required(CONF_PLUGGED_ENTITY): _entity(["binary_sensor", "sensor"]),
            vol.Optional(CONF_EV_SOC_ENTITY): _entity("sensor"),
            vol.Optional(CONF_CAPACITY_KWH): _number(1, 500, 0.1, "kWh"),
            vol.Optional(CONF_CHARGE_SWITCH): _entity(["switch", "input_boolean"]),
            vol.Optional(CONF_CURRENT_NUMBER): _entity("number"),
            vol.Required(CONF_MIN_CURRENT_A, default=6): _number(1, 80, 1, "A"),
            vol.Required(CONF_MAX_CURRENT_A, default=16): _number(1, 80, 1, "A"),
            vol.Required(CONF_PHASES, default=3): _number(1, 3, 1, ""),
            vol.Required(CONF_VOLTAGE_V, default=230): _number(100, 400, 1, "V"),
            vol.Required(CONF_DEPARTURE, default="07:00:00"): _TIME,
            vol.Required(CONF_TARGET_SOC, default=80): _number(0, 100, 1, "%", slider=True),
            vol.Required(CONF_SESSION_KWH, default=10): _number(0, 500, 0.1, "kWh"),
        }
    )


def appliance_schema() -> Schema:
    """An appliance with a cycle: its switch, power and default cycle."""
    return vol.Schema(
        {
            vol.Required(CONF_NAME): _TEXT,
            vol.Optional(CONF_PRIORITY): _select([*PRIORITIES], CONF_PRIORITY),
            vol.Required(CONF_SWITCH): _entity(["switch", "input_boolean"]),
            vol.Optional(CONF_POWER_ENTITY): _POWER_SENSOR,
            vol.Required(CONF_POWER_W, default=1000): _number(1, 20_000, 1, "W"),
            vol.Required(CONF_DURATION_MIN, default=120): _number(5, 1440, 5, "min"),
            vol.Required(CONF_FINISH_BY, default="07:00:00"): _TIME,
        }
    )


def interruptible_schema() -> Schema:
    """An interruptible load: its switch, power, daily run hours and window."""
    return vol.Schema(
        {
            vol.Required(CONF_NAME): _TEXT,
            vol.Optional(CONF_PRIORITY): _select([*PRIORITIES], CONF_PRIORITY),
            vol.Required(CONF_SWITCH): _entity(["switch", "input_boolean"]),
            vol.Required(CONF_POWER_W): _number(0, 20_000, 1, "W"),
            vol.Required(CONF_RUN_HOURS, default=4): _number(0, 24, 0.25, "h"),
            vol.Required(CONF_WINDOW_START, default="00:00:00"): _TIME,
            vol.Required(CONF_WINDOW_END, default="00:00:00"): _TIME,
            vol.Required(CONF_MIN_ON_MIN, default=30): _number(0, 720, 5, "min"),
            vol.Required(CONF_MIN_OFF_MIN, default=15): _number(0, 720, 5, "min"),
        }
    )


def thermal_schema() -> Schema:
    """A water heater or heat pump: control, temperature, comfort band and model."""
    return vol.Schema(
        {
            vol.Required(CONF_NAME): _TEXT,
            vol.Optional(CONF_PRIORITY): _select([*PRIORITIES], CONF_PRIORITY),
            vol.Required(CONF_THERMAL_ENTITY): _entity(
                ["water_heater", "climate", "switch", "input_boolean"]
            ),
            vol.Required(CONF_TEMPERATURE_ENTITY): _entity(
                "sensor", device_class=SensorDeviceClass.TEMPERATURE
            ),
            vol.Required(CONF_T_MIN, default=45): _number(0, 95, 0.5, "°C"),
            vol.Required(CONF_T_MAX, default=60): _number(0, 95, 0.5, "°C"),
            vol.Required(CONF_POWER_W, default=3000): _number(1, 50_000, 1, "W"),
            vol.Required(CONF_VOLUME_L, default=200): _number(1, 10_000, 1, "l"),
            vol.Required(CONF_LOSS_W_PER_K, default=2): _number(0, 1000, 0.1, "W/K"),
            vol.Required(CONF_HEAT_DEMAND_W, default=150): _number(0, 20_000, 1, "W"),
            vol.Required(CONF_COP, default=1): _number(0.5, 8, 0.1, ""),
        }
    )


DEVICE_SCHEMAS = {
    SUBENTRY_BATTERY: battery_schema,
    SUBENTRY_EV: ev_schema,
    SUBENTRY_APPLIANCE: appliance_schema,
    SUBENTRY_INTERRUPTIBLE: interruptible_schema,
    SUBENTRY_THERMAL: thermal_schema,
}
ENTITY_KEYS = {
    CONF_SOC_ENTITY,
    CONF_POWER_NUMBER,
    CONF_MODE_SELECT,
    CONF_PLUGGED_ENTITY,
    CONF_EV_SOC_ENTITY,
    CONF_CHARGE_SWITCH,
    CONF_CURRENT_NUMBER,
    CONF_SWITCH,
    CONF_POWER_ENTITY,
    CONF_THERMAL_ENTITY,
    CONF_TEMPERATURE_ENTITY,
}
TEXT_KEYS = {
    CONF_PRIORITY,
    CONF_OPTION_CHARGE,
    CONF_OPTION_DISCHARGE,
    CONF_OPTION_IDLE,
    CONF_DEPARTURE,
    CONF_FINISH_BY,
    CONF_WINDOW_START,
    CONF_WINDOW_END,
}

# The planner reads these sensors as they are: each must measure in the unit it expects
MEASURED_UNITS = {
    CONF_SOC_ENTITY: PERCENTAGE,
    CONF_EV_SOC_ENTITY: PERCENTAGE,
    CONF_POWER_ENTITY: UnitOfPower.WATT,
    CONF_TEMPERATURE_ENTITY: UnitOfTemperature.CELSIUS,
}


def device_problems(
    hass: HomeAssistant,
    entry: ConfigEntry,
    kind: str,
    user_input: Mapping[str, Any],
    subentry_id: str | None,
) -> dict[str, str]:
    """Field -> error key (under config_subentries.<kind>.error) of a device form."""
    problems: dict[str, str] = {}
    name = str(user_input[CONF_NAME]).strip()
    if not name:
        problems[CONF_NAME] = "name_empty"
    elif any(
        sub.title.casefold() == name.casefold()
        for other_id, sub in entry.subentries.items()
        if other_id != subentry_id and sub.subentry_type in DEVICE_SUBENTRIES
    ):
        problems[CONF_NAME] = "name_exists"
    for key in REQUIRED_VALUES.get(kind, ()):
        if key in user_input and float(user_input[key]) <= 0:
            problems[key] = "value_required"
    for key in sorted(k for k in ENTITY_KEYS & set(user_input) if user_input[k]):
        state = hass.states.get(user_input[key])
        if state is None:
            problems[key] = "entity_missing"
        elif key in MEASURED_UNITS and (
            state.attributes.get(ATTR_UNIT_OF_MEASUREMENT) != MEASURED_UNITS[key]
        ):
            problems[key] = "wrong_unit"
    if kind == SUBENTRY_BATTERY:
        select = user_input.get(CONF_MODE_SELECT)
        if not user_input.get(CONF_POWER_NUMBER) and not select:
            problems["base"] = "no_battery_control"
        elif select and (state := hass.states.get(select)) is not None:
            options = state.attributes.get("options", [])
            for key in (CONF_OPTION_CHARGE, CONF_OPTION_DISCHARGE, CONF_OPTION_IDLE):
                # compared as stored: device_data() strips the texts
                if (option := str(user_input.get(key) or "").strip()) and option not in options:
                    problems[key] = "unknown_option"
            if not user_input.get(CONF_POWER_NUMBER) and not all(
                str(user_input.get(k) or "").strip()
                for k in (CONF_OPTION_CHARGE, CONF_OPTION_DISCHARGE, CONF_OPTION_IDLE)
            ):
                problems["base"] = "options_required"
    elif kind == SUBENTRY_EV:
        number = user_input.get(CONF_CURRENT_NUMBER)
        if not user_input.get(CONF_CHARGE_SWITCH) and not number:
            problems["base"] = "no_charger_control"
        elif (
            not user_input.get(CONF_CHARGE_SWITCH)
            and (state := hass.states.get(str(number))) is not None
            and (parse_number(state.attributes.get("min")) or 0.0) > 0.0
        ):
            # a current number that cannot go to 0 A and no switch: charging never stops
            problems["base"] = "charger_cannot_stop"
        if float(user_input[CONF_MIN_CURRENT_A]) > float(user_input[CONF_MAX_CURRENT_A]):
            problems[CONF_MIN_CURRENT_A] = "min_above_max"
    elif kind == SUBENTRY_THERMAL and float(user_input[CONF_T_MIN]) > float(user_input[CONF_T_MAX]):
        problems[CONF_T_MIN] = "min_above_max"
    elif kind == SUBENTRY_INTERRUPTIBLE and CONF_RUN_HOURS in user_input:
        # the time selectors give valid times; an equal start and end is the whole day
        start = dt_util.parse_time(str(user_input.get(CONF_WINDOW_START) or "00:00")) or time(0)
        end = dt_util.parse_time(str(user_input.get(CONF_WINDOW_END) or "00:00")) or time(0)
        hours = (end.hour * 60 + end.minute - start.hour * 60 - start.minute) / 60 % 24
        if float(user_input[CONF_RUN_HOURS]) > (hours or 24):
            problems[CONF_RUN_HOURS] = "run_longer_than_window"
    for key, unit_ok in SETPOINT_UNITS.items():
        if (entity_id := user_input.get(key)) and key not in problems:
            state = hass.states.get(entity_id)
            if state is not None and not unit_ok(state.attributes.get(ATTR_UNIT_OF_MEASUREMENT)):
                problems[key] = "wrong_unit"
    for limit_key, number_key, scale in SETPOINT_RANGES.get(kind, ()):
        if (entity_id := user_input.get(number_key)) and number_key not in problems:
            state = hass.states.get(str(entity_id))
            top = parse_number(state.attributes.get("max")) if state is not None else None
            unit = state.attributes.get(ATTR_UNIT_OF_MEASUREMENT) if state is not None else None
            if top is not None and limit_key in user_input:
                top *= 1000.0 if unit == UnitOfPower.KILO_WATT else scale
                if float(user_input[limit_key]) > top + 1e-6:
                    # the device would be planned for more than its setpoint can ask of it
                    problems[limit_key] = "above_setpoint_range"
    plug = user_input.get(CONF_PLUGGED_ENTITY)
    if kind == SUBENTRY_EV and plug and CONF_PLUGGED_ENTITY not in problems:
        state = hass.states.get(str(plug))
        if state is not None and (
            state.attributes.get(ATTR_UNIT_OF_MEASUREMENT) is not None
            or state.attributes.get("device_class") not in PLUG_DEVICE_CLASSES
        ):
            # a measurement (a temperature) or a sensor of something else is no plug state
            problems[CONF_PLUGGED_ENTITY] = "not_a_plug"
    for key in _controlled_elsewhere(hass, user_input, subentry_id):
        if key not in problems:
            problems[key] = "entity_in_use"
    return problems


# A setpoint number must take what the dispatcher sends: watts for a battery, amperes for a car
SETPOINT_UNITS: dict[str, Callable[[Any], bool]] = {
    CONF_POWER_NUMBER: lambda unit: unit in (UnitOfPower.WATT, UnitOfPower.KILO_WATT),
    CONF_CURRENT_NUMBER: lambda unit: unit == UnitOfElectricCurrent.AMPERE,
}
# Required numbers without a default: 0 (the untouched field) is refused
REQUIRED_VALUES: dict[str, tuple[str, ...]] = {
    SUBENTRY_BATTERY: (CONF_CAPACITY_KWH, CONF_MAX_CHARGE_W, CONF_MAX_DISCHARGE_W),
    SUBENTRY_INTERRUPTIBLE: (CONF_POWER_W,),
}
# (limit field, setpoint number, factor from the number's unit): the limit may not ask more
SETPOINT_RANGES: dict[str, tuple[tuple[str, str, float], ...]] = {
    SUBENTRY_BATTERY: ((CONF_MAX_CHARGE_W, CONF_POWER_NUMBER, 1.0),),
    SUBENTRY_EV: ((CONF_MAX_CURRENT_A, CONF_CURRENT_NUMBER, 1.0),),
}
# What a car's "plugged" entity may be: a plug or connectivity binary sensor, or a sensor
# whose device class says nothing else (an enum state such as "connected")
PLUG_DEVICE_CLASSES = (None, "plug", "connectivity", "enum")
# Entities one device commands (or reads its state of charge from): never two devices' own
CONTROL_KEYS = (
    CONF_SWITCH,
    CONF_POWER_NUMBER,
    CONF_MODE_SELECT,
    CONF_CHARGE_SWITCH,
    CONF_CURRENT_NUMBER,
    CONF_THERMAL_ENTITY,
    CONF_SOC_ENTITY,
    CONF_EV_SOC_ENTITY,
)


def _controlled_elsewhere(
    hass: HomeAssistant, user_input: Mapping[str, Any], subentry_id: str | None
) -> dict[str, str]:
    """Field -> the name of another device (of any home) that already uses its entity.

    Two devices commanding one entity fight over it (a pool pump switched on and off by
    both); two batteries reading one state of charge plan with the wrong one.
    """
    wanted = {key: user_input[key] for key in CONTROL_KEYS if user_input.get(key)}
    found: dict[str, str] = {}
    for entry in hass.config_entries.async_entries(DOMAIN):
        for other_id, sub in entry.subentries.items():
            if other_id == subentry_id or sub.subentry_type not in DEVICE_SUBENTRIES:
                continue
            used = {sub.data.get(key) for key in CONTROL_KEYS} - {None, ""}
            for key, entity_id in wanted.items():
                if entity_id in used:
                    found.setdefault(key, sub.title)
    return found


def device_data(user_input: Mapping[str, Any]) -> dict[str, Any]:
    """The stored data of a device form: entities and texts as given, numbers as floats."""
    data: dict[str, Any] = {}
    for key, value in user_input.items():
        if key == CONF_NAME or value in (None, ""):
            continue
        if key in ENTITY_KEYS or key in TEXT_KEYS:
            data[key] = str(value).strip()
        else:
            data[key] = float(value)
    return data


class DeviceSubentryFlow(ConfigSubentryFlow):
    """Add or reconfigure one device of a home; the form is the same both ways."""

    kind: str

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Describe the device."""
        return self._device_form(user_input)

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Change the device."""
        return self._device_form(user_input)

    def _device_form(self, user_input: dict[str, Any] | None) -> SubentryFlowResult:
        entry = self._get_entry()
        reconfiguring = self.source == SOURCE_RECONFIGURE
        subentry = self._get_reconfigure_subentry() if reconfiguring else None
        problems: dict[str, str] = {}
        if user_input is not None:
            problems = device_problems(
                self.hass, entry, self.kind, user_input, subentry.subentry_id if subentry else None
            )
            if not problems:
                title = str(user_input[CONF_NAME]).strip()
                data = device_data(user_input)
                if subentry is not None:
                    return self.async_update_and_abort(entry, subentry, title=title, data=data)
                return self.async_create_entry(title=title, data=data)
        suggested: Mapping[str, Any] = user_input or {}
        if user_input is None and subentry is not None:
            suggested = {CONF_NAME: subentry.title, **subentry.data}
        return self.async_show_form(
            step_id="reconfigure" if reconfiguring else "user",
            data_schema=self.add_suggested_values_to_schema(DEVICE_SCHEMAS[self.kind](), suggested),
            errors=problems,
        )


class BatterySubentryFlow(DeviceSubentryFlow):
    """A stationary battery."""

    kind = SUBENTRY_BATTERY


class EVChargerSubentryFlow(DeviceSubentryFlow):
    """An EV charger."""

    kind = SUBENTRY_EV


class ApplianceSubentryFlow(DeviceSubentryFlow):
    """An appliance with a cycle: dishwasher, washing machine, dryer."""

    kind = SUBENTRY_APPLIANCE


class InterruptibleSubentryFlow(DeviceSubentryFlow):
    """An interruptible load: pool pump, dehumidifier."""

    kind = SUBENTRY_INTERRUPTIBLE


class ThermalSubentryFlow(DeviceSubentryFlow):
    """A water heater or heat pump."""

    kind = SUBENTRY_THERMAL


def market_schema() -> Schema:
    """Trading with neighbours: on or off, the community, this home's id and the rules."""
    return vol.Schema(
        {
            vol.Required(CONF_MARKET_ENABLED, default=False): BooleanSelector(),
            vol.Optional(CONF_MARKET_COMMUNITY, default=""): TextSelector(),
            vol.Optional(CONF_MARKET_HOME_ID, default=""): TextSelector(),
            vol.Required(CONF_MARKET_MECHANISM, default=DEFAULT_MARKET_MECHANISM): _select(
                [*MARKET_MECHANISMS], "market_mechanism"
            ),
            vol.Required(CONF_MARKET_GATE_MINUTES, default=DEFAULT_MARKET_GATE_MINUTES): _number(
                MIN_MARKET_GATE_MINUTES, MAX_MARKET_GATE_MINUTES, 1, "min"
            ),
        }
    )


def market_problems(entry: ConfigEntry, user_input: Mapping[str, Any]) -> dict[str, str]:
    """Field -> error key (under options.error) of the market form."""
    problems: dict[str, str] = {}
    community = str(user_input.get(CONF_MARKET_COMMUNITY, "")).strip()
    home_id = str(user_input.get(CONF_MARKET_HOME_ID, "")).strip()
    if user_input.get(CONF_MARKET_ENABLED) or community:
        if not valid_id(community):
            problems[CONF_MARKET_COMMUNITY] = "community_invalid"
        if not valid_id(home_id):
            problems[CONF_MARKET_HOME_ID] = "home_id_invalid"
        elif any(
            sub.subentry_type == SUBENTRY_PEER and sub.data.get(CONF_PEER_HOME_ID) == home_id
            for sub in entry.subentries.values()
        ):
            problems[CONF_MARKET_HOME_ID] = "home_id_is_peer"
    return problems


def peer_schema() -> Schema:
    """A neighbour's home: its name, its market id and its public key."""
    return vol.Schema(
        {
            vol.Required(CONF_NAME): _TEXT,
            vol.Required(CONF_PEER_HOME_ID): _TEXT,
            vol.Required(CONF_PEER_PUBLIC_KEY): _TEXT,
        }
    )


def peer_problems(
    entry: ConfigEntry, user_input: Mapping[str, Any], subentry_id: str | None
) -> dict[str, str]:
    """Field -> error key (under config_subentries.community_peer.error) of a peer form."""
    problems: dict[str, str] = {}
    name = str(user_input[CONF_NAME]).strip()
    home_id = str(user_input[CONF_PEER_HOME_ID]).strip()
    others = [
        sub
        for other_id, sub in entry.subentries.items()
        if other_id != subentry_id and sub.subentry_type == SUBENTRY_PEER
    ]
    if not name:
        problems[CONF_NAME] = "name_empty"
    elif any(sub.title.casefold() == name.casefold() for sub in others):
        problems[CONF_NAME] = "name_exists"
    own = {**entry.data, **entry.options}.get(CONF_MARKET_HOME_ID) or slugify(entry.title)
    if not valid_id(home_id):
        problems[CONF_PEER_HOME_ID] = "home_id_invalid"
    elif home_id == own:
        problems[CONF_PEER_HOME_ID] = "home_id_own"
    elif any(sub.data.get(CONF_PEER_HOME_ID) == home_id for sub in others):
        problems[CONF_PEER_HOME_ID] = "home_id_exists"
    try:
        load_public_key(str(user_input[CONF_PEER_PUBLIC_KEY]).strip())
    except ValueError:
        problems[CONF_PEER_PUBLIC_KEY] = "public_key_invalid"
    return problems


class PeerSubentryFlow(ConfigSubentryFlow):
    """Add or change a neighbour this home trades with (its id and public key)."""

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Describe a new peer."""
        return self._peer_form(user_input)

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Change a peer (a new key after it was re-installed, say)."""
        return self._peer_form(user_input)

    def _peer_form(self, user_input: dict[str, Any] | None) -> SubentryFlowResult:
        entry = self._get_entry()
        reconfiguring = self.source == SOURCE_RECONFIGURE
        subentry = self._get_reconfigure_subentry() if reconfiguring else None
        problems: dict[str, str] = {}
        if user_input is not None:
            problems = peer_problems(entry, user_input, subentry.subentry_id if subentry else None)
            if not problems:
                title = str(user_input[CONF_NAME]).strip()
                data = {
                    CONF_PEER_HOME_ID: str(user_input[CONF_PEER_HOME_ID]).strip(),
                    CONF_PEER_PUBLIC_KEY: str(user_input[CONF_PEER_PUBLIC_KEY]).strip(),
                }
                if subentry is not None:
                    return self.async_update_and_abort(entry, subentry, title=title, data=data)
                return self.async_create_entry(title=title, data=data)
        suggested: Mapping[str, Any] = user_input or {}
        if user_input is None and subentry is not None:
            suggested = {CONF_NAME: subentry.title, **subentry.data}
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(peer_schema(), suggested),
            errors=problems,
        )


class EnergyCollectiveConfigFlow(ConfigFlow, domain=DOMAIN):
    """Set up a home, or change the sources of one."""

    VERSION = 1
    MINOR_VERSION = 1

    def __init__(self) -> None:
        """Start with nothing chosen."""
        self._data: dict[str, Any] = {}
        self._reconfigure_entry: ConfigEntry | None = None

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> EnergyCollectiveOptionsFlow:
        """The options of a home are its limits."""
        return EnergyCollectiveOptionsFlow()

    @classmethod
    @callback
    def async_get_supported_subentry_types(
        cls, config_entry: ConfigEntry
    ) -> dict[str, type[ConfigSubentryFlow]]:
        """A home's PV arrays and wind turbines are its generator subentries."""
        return {
            SUBENTRY_GENERATOR: GeneratorSubentryFlow,
            SUBENTRY_BATTERY: BatterySubentryFlow,
            SUBENTRY_EV: EVChargerSubentryFlow,
            SUBENTRY_APPLIANCE: ApplianceSubentryFlow,
            SUBENTRY_INTERRUPTIBLE: InterruptibleSubentryFlow,
            SUBENTRY_THERMAL: ThermalSubentryFlow,
            SUBENTRY_PEER: PeerSubentryFlow,
        }

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Name the home and say how its grid and prices are measured."""
        errors: dict[str, str] = {}
        if user_input is not None:
            name = str(user_input[CONF_NAME]).strip()
            others = [
                entry
                for entry in self._async_current_entries(include_ignore=False)
                if entry is not self._reconfigure_entry
            ]
            if not name:
                errors[CONF_NAME] = "name_empty"
            elif any(entry.title.casefold() == name.casefold() for entry in others):
                errors[CONF_NAME] = "name_exists"
            else:
                self._data.update(user_input)
                self._data[CONF_NAME] = name
                return await self.async_step_grid()
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(
                _user_schema(), user_input or self._data
            ),
            errors=errors,
        )

    async def async_step_grid(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Choose the grid power sensor(s)."""
        errors: dict[str, str] = {}
        mode = self._data[CONF_GRID_MODE]
        if user_input is not None:
            keys = (
                [CONF_GRID_POWER]
                if mode == GRID_MODE_SIGNED
                else [CONF_GRID_IMPORT_POWER, CONF_GRID_EXPORT_POWER]
            )
            for key in keys:
                if error := check_power_entity(self.hass, user_input[key]):
                    errors[key] = error
            if (
                mode == GRID_MODE_SEPARATE
                and not errors
                and user_input[CONF_GRID_IMPORT_POWER] == user_input[CONF_GRID_EXPORT_POWER]
            ):
                errors[CONF_GRID_EXPORT_POWER] = "same_entity"
            if not errors:
                unique_id = str(user_input[keys[0]])
                if self._reconfigure_entry is None:
                    await self.async_set_unique_id(unique_id)
                    self._abort_if_unique_id_configured()
                elif any(
                    entry.unique_id == unique_id and entry is not self._reconfigure_entry
                    for entry in self._async_current_entries(include_ignore=False)
                ):
                    errors["base"] = "grid_in_use"
            if not errors:
                for key in (
                    CONF_GRID_POWER,
                    CONF_GRID_SIGN,
                    CONF_GRID_IMPORT_POWER,
                    CONF_GRID_EXPORT_POWER,
                ):
                    self._data.pop(key, None)
                self._data.update(user_input)
                return await self.async_step_prices()
        return self.async_show_form(
            step_id="grid",
            data_schema=self.add_suggested_values_to_schema(
                _grid_schema(mode), user_input or self._data
            ),
            errors=errors,
        )

    async def async_step_prices(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Choose the price entities or enter the time-of-use schedules."""
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {"line": "", "detail": ""}
        if user_input is not None:
            for key in (CONF_IMPORT_PRICE_ENTITY, CONF_EXPORT_PRICE_ENTITY):
                if key in user_input and (error := check_price_entity(self.hass, user_input[key])):
                    errors[key] = error
            for key in (CONF_IMPORT_PRICE_SCHEDULE, CONF_EXPORT_PRICE_SCHEDULE):
                if key not in user_input:
                    continue
                try:
                    parse_tou_schedule(str(user_input[key]))
                except ScheduleError as err:
                    errors[key] = err.key
                    placeholders = {"line": str(err.line), "detail": err.detail}
            if not errors:
                for key in (
                    CONF_IMPORT_PRICE_ENTITY,
                    CONF_IMPORT_PRICE_SCHEDULE,
                    CONF_EXPORT_PRICE_ENTITY,
                    CONF_EXPORT_PRICE_SCHEDULE,
                ):
                    self._data.pop(key, None)
                self._data.update(user_input)
                return await self.async_step_sources()
        return self.async_show_form(
            step_id="prices",
            data_schema=self.add_suggested_values_to_schema(
                _prices_schema(self._data), user_input or self._data
            ),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def async_step_sources(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Choose the optional sources: PV, its forecast, the weather, load and battery power."""
        errors: dict[str, str] = {}
        if user_input is not None:
            for key in (CONF_PV_POWER, CONF_LOAD_POWER, CONF_BATTERY_POWER):
                if user_input.get(key) and (
                    error := check_power_entity(self.hass, user_input[key])
                ):
                    errors[key] = error
            if (entity_id := user_input.get(CONF_PV_FORECAST)) and (
                error := check_pv_forecast_entity(self.hass, entity_id)
            ):
                errors[CONF_PV_FORECAST] = error
            if (entity_id := user_input.get(CONF_WEATHER)) and self.hass.states.get(
                entity_id
            ) is None:
                errors[CONF_WEATHER] = "entity_missing"
            if not errors:
                for key in (
                    CONF_PV_POWER,
                    CONF_PV_FORECAST,
                    CONF_WEATHER,
                    CONF_LOAD_POWER,
                    CONF_BATTERY_POWER,
                ):
                    self._data.pop(key, None)
                self._data.update({k: v for k, v in user_input.items() if v})
                if self._reconfigure_entry is not None:
                    return self.async_update_reload_and_abort(
                        self._reconfigure_entry,
                        unique_id=self._unique_id_from_data(),
                        title=self._data[CONF_NAME],
                        data=self._data,
                    )
                return await self.async_step_limits()
        return self.async_show_form(
            step_id="sources",
            data_schema=self.add_suggested_values_to_schema(
                _sources_schema(), user_input or self._data
            ),
            errors=errors,
        )

    async def async_step_limits(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Set the main fuse, the planning step and the horizon; then create the home."""
        if user_input is not None:
            return self.async_create_entry(
                title=self._data[CONF_NAME],
                data=self._data,
                options=normalise_limits(user_input),
            )
        return self.async_show_form(step_id="limits", data_schema=limits_schema())

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Walk through the same steps with the home's current sources filled in."""
        entry = self._get_reconfigure_entry()
        self._reconfigure_entry = entry
        self._data = {k: v for k, v in entry.data.items() if k not in OPTION_KEYS}
        return await self.async_step_user()

    def _unique_id_from_data(self) -> str:
        if self._data[CONF_GRID_MODE] == GRID_MODE_SIGNED:
            return str(self._data[CONF_GRID_POWER])
        return str(self._data[CONF_GRID_IMPORT_POWER])


def grid_schema() -> Schema:
    """The grid group of a home's options: demand charge, carbon and demand response."""
    return vol.Schema(
        {
            vol.Required(CONF_DEMAND_CHARGE_PER_KW, default=0.0): NumberSelector(
                NumberSelectorConfig(min=0, max=1000, step=0.01, mode=NumberSelectorMode.BOX)
            ),
            vol.Required(CONF_BILLING_PERIOD, default=BILLING_MONTHLY): _select(
                [BILLING_MONTHLY, BILLING_DAILY], CONF_BILLING_PERIOD
            ),
            vol.Optional(CONF_CARBON_ENTITY): EntitySelector(EntitySelectorConfig(domain="sensor")),
            vol.Required(CONF_CARBON_PRICE, default=0.0): NumberSelector(
                NumberSelectorConfig(min=0, max=100, step=0.001, mode=NumberSelectorMode.BOX)
            ),
            vol.Optional(CONF_DR_CALENDAR): EntitySelector(EntitySelectorConfig(domain="calendar")),
            vol.Optional(CONF_DR_KEYWORDS, default=DEFAULT_DR_KEYWORDS): TextSelector(),
            vol.Optional(CONF_OCTOPUS_SESSIONS): EntitySelector(
                EntitySelectorConfig(domain="event")
            ),
            vol.Optional(CONF_HOLIDAY_CALENDAR): EntitySelector(
                EntitySelectorConfig(domain="calendar")
            ),
        }
    )


def validate_grid(hass: HomeAssistant, user_input: Mapping[str, Any]) -> dict[str, str]:
    """Errors (field -> translation key) of the grid options."""
    errors: dict[str, str] = {}
    for key in (CONF_DEMAND_CHARGE_PER_KW, CONF_CARBON_PRICE):
        value = float(user_input.get(key) or 0.0)
        if not math.isfinite(value) or value < 0:
            errors[key] = "negative_price"
    if carbon := user_input.get(CONF_CARBON_ENTITY):
        state = hass.states.get(carbon)
        if state is None:
            errors[CONF_CARBON_ENTITY] = "entity_missing"
        else:
            try:
                float(state.state)
            except ValueError:
                if parse_carbon_attributes(state.attributes) is None:
                    errors[CONF_CARBON_ENTITY] = "carbon_not_numeric"
    calendar = user_input.get(CONF_DR_CALENDAR)
    if calendar and not parse_keywords(user_input.get(CONF_DR_KEYWORDS)):
        errors[CONF_DR_KEYWORDS] = "keywords_required"
    if calendar and calendar == user_input.get(CONF_HOLIDAY_CALENDAR):
        errors[CONF_HOLIDAY_CALENDAR] = "same_calendar"
    for key in (CONF_DR_CALENDAR, CONF_HOLIDAY_CALENDAR):
        if (entity_id := user_input.get(key)) and hass.states.get(entity_id) is None:
            errors.setdefault(key, "entity_missing")
    if octopus := user_input.get(CONF_OCTOPUS_SESSIONS):
        state = hass.states.get(octopus)
        if state is None:
            errors[CONF_OCTOPUS_SESSIONS] = "entity_missing"
        elif "joined_events" not in state.attributes:
            errors[CONF_OCTOPUS_SESSIONS] = "octopus_not_sessions"
    return errors


def normalise_grid(user_input: Mapping[str, Any]) -> dict[str, Any]:
    """Every grid option, a cleared entity as None (so that saving forgets it)."""
    return {
        CONF_DEMAND_CHARGE_PER_KW: float(user_input.get(CONF_DEMAND_CHARGE_PER_KW) or 0.0),
        CONF_BILLING_PERIOD: str(user_input.get(CONF_BILLING_PERIOD) or BILLING_MONTHLY),
        CONF_CARBON_ENTITY: user_input.get(CONF_CARBON_ENTITY) or None,
        CONF_CARBON_PRICE: float(user_input.get(CONF_CARBON_PRICE) or 0.0),
        CONF_DR_CALENDAR: user_input.get(CONF_DR_CALENDAR) or None,
        CONF_DR_KEYWORDS: ", ".join(parse_keywords(user_input.get(CONF_DR_KEYWORDS))),
        CONF_OCTOPUS_SESSIONS: user_input.get(CONF_OCTOPUS_SESSIONS) or None,
        CONF_HOLIDAY_CALENDAR: user_input.get(CONF_HOLIDAY_CALENDAR) or None,
    }


class EnergyCollectiveOptionsFlow(OptionsFlowWithReload):
    """Change a home's settings, one group per menu item; the home reloads with them."""

    MENU: tuple[str, ...] = ("limits", "grid", "market")
    """The option groups, in menu order (each one a step that keeps the other groups)."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Offer the groups of settings."""
        return self.async_show_menu(step_id="init", menu_options=list(self.MENU))

    def _save(self, changed: Mapping[str, Any]) -> ConfigFlowResult:
        """Keep every other option as it is and change `changed`."""
        return self.async_create_entry(data={**self.config_entry.options, **changed})

    async def async_step_market(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Trading with neighbours: turn it on, name the community and this home's id."""
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = market_problems(self.config_entry, user_input)
            if not errors:
                return self._save(
                    {
                        CONF_MARKET_ENABLED: bool(user_input[CONF_MARKET_ENABLED]),
                        CONF_MARKET_COMMUNITY: str(user_input[CONF_MARKET_COMMUNITY]).strip(),
                        CONF_MARKET_HOME_ID: str(user_input[CONF_MARKET_HOME_ID]).strip(),
                        CONF_MARKET_MECHANISM: user_input[CONF_MARKET_MECHANISM],
                        CONF_MARKET_GATE_MINUTES: int(user_input[CONF_MARKET_GATE_MINUTES]),
                    }
                )
        current = self.config_entry.options
        suggested = user_input or {
            CONF_MARKET_ENABLED: current.get(CONF_MARKET_ENABLED, False),
            CONF_MARKET_COMMUNITY: current.get(CONF_MARKET_COMMUNITY, ""),
            CONF_MARKET_HOME_ID: current.get(CONF_MARKET_HOME_ID)
            or slugify(self.config_entry.title),
            CONF_MARKET_MECHANISM: current.get(CONF_MARKET_MECHANISM, DEFAULT_MARKET_MECHANISM),
            CONF_MARKET_GATE_MINUTES: current.get(
                CONF_MARKET_GATE_MINUTES, DEFAULT_MARKET_GATE_MINUTES
            ),
        }
        return self.async_show_form(
            step_id="market",
            data_schema=self.add_suggested_values_to_schema(market_schema(), suggested),
            errors=errors,
        )

    async def async_step_grid(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Tariff extras, carbon and demand response, with their current values."""
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = validate_grid(self.hass, user_input)
            if not errors:
                return self._save(normalise_grid(user_input))
        current = {
            key: value
            for key in GRID_OPTION_KEYS
            if (value := self.config_entry.options.get(key)) is not None
        }
        return self.async_show_form(
            step_id="grid",
            data_schema=self.add_suggested_values_to_schema(
                grid_schema(), user_input if user_input is not None else current
            ),
            errors=errors,
        )

    async def async_step_limits(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Show the limits with their current values."""
        if user_input is not None:
            limits = normalise_limits(user_input)
            options = {**self.config_entry.options, **limits}
            if CONF_KEEP_STATE_ON_UNLOAD not in limits:
                options.pop(CONF_KEEP_STATE_ON_UNLOAD, None)  # switched off again
            return self.async_create_entry(data=options)
        return self.async_show_form(
            step_id="limits",
            data_schema=self.add_suggested_values_to_schema(
                limits_schema(), limits_suggestion(self.config_entry.options)
            ),
        )
