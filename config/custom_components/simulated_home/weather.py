"""The weather of the simulated home, with hourly and daily forecasts."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from homeassistant.components.weather import Forecast, WeatherEntity
from homeassistant.components.weather.const import WeatherEntityFeature
from homeassistant.const import Platform, UnitOfSpeed, UnitOfTemperature
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddEntitiesCallback
from homeassistant.helpers.typing import ConfigType, DiscoveryInfoType

from . import DATA_HUB, SimulatedHomeHub
from .entity import SimEntity
from .model import cloud_cover, daily_forecast, hourly_forecast, temperature, weather_condition
from .model import wind_speed as model_wind_speed

HOURLY_HOURS = 48
DAILY_DAYS = 3


async def async_setup_platform(
    hass: HomeAssistant,
    config: ConfigType,
    async_add_entities: AddEntitiesCallback,
    discovery_info: DiscoveryInfoType | None = None,
) -> None:
    """Add the weather entity."""
    if discovery_info is None:
        return
    async_add_entities([SimWeather(hass.data[DATA_HUB])])


_NATIVE = {
    "temperature": "native_temperature",
    "templow": "native_templow",
    "wind_speed": "native_wind_speed",
    "precipitation": "native_precipitation",
}


def _as_forecast(item: dict[str, Any]) -> Forecast:
    """The model's forecast item with Home Assistant's native keys."""
    forecast: dict[str, Any] = {_NATIVE.get(k, k): v for k, v in item.items()}
    when: datetime = forecast["datetime"]
    forecast["datetime"] = when.isoformat()
    return cast(Forecast, forecast)


class SimWeather(SimEntity, WeatherEntity):
    """Current conditions and forecasts from the simulation's own sky."""

    _attr_native_temperature_unit = UnitOfTemperature.CELSIUS
    _attr_native_wind_speed_unit = UnitOfSpeed.METERS_PER_SECOND
    _attr_supported_features = WeatherEntityFeature.FORECAST_HOURLY | (
        WeatherEntityFeature.FORECAST_DAILY
    )

    def __init__(self, hub: SimulatedHomeHub) -> None:
        """Create the weather entity."""
        super().__init__(hub, Platform.WEATHER, "weather", "Sim weather")
        self._forecast_hour: datetime | None = None

    @property
    def _now(self) -> datetime:
        return self.hub.home.state.time

    @property
    def condition(self) -> str:
        """Sky condition now."""
        return weather_condition(self.hub.site, self._now)

    @property
    def native_temperature(self) -> float:
        """Outdoor temperature now."""
        return round(temperature(self.hub.site, self._now), 1)

    @property
    def native_wind_speed(self) -> float:
        """Wind speed now."""
        return round(model_wind_speed(self.hub.site, self._now), 1)

    @property
    def cloud_coverage(self) -> int:
        """Cloud cover now, %."""
        return round(cloud_cover(self.hub.site, self._now) * 100)

    @property
    def humidity(self) -> float:
        """Relative humidity, % (a rough function of the clouds)."""
        return round(60 + 30 * cloud_cover(self.hub.site, self._now))

    async def async_forecast_hourly(self) -> list[Forecast]:
        """The next 48 hours."""
        return [_as_forecast(i) for i in hourly_forecast(self.hub.site, self._now, HOURLY_HOURS)]

    async def async_forecast_daily(self) -> list[Forecast]:
        """Today and the next days."""
        return [_as_forecast(i) for i in daily_forecast(self.hub.site, self._now, DAILY_DAYS)]

    @callback
    def _handle_hub_update(self) -> None:
        super()._handle_hub_update()
        hour = self._now.replace(minute=0, second=0, microsecond=0)
        if hour != self._forecast_hour:
            self._forecast_hour = hour
            self.hass.async_create_task(self.async_update_listeners(None), eager_start=True)
