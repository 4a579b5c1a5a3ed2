"""A simulated home for the development instance, set up from YAML (`simulated_home:`).

The physics live in `model.py` (pure Python); this module owns the clock: every `TICK` of real
time it integrates the home up to now and tells the entities to write their state. Commands
from the entities first bring the home up to the present, then change it.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Final

import voluptuous as vol
from homeassistant.const import EVENT_HOMEASSISTANT_STOP, Platform
from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.discovery import async_load_platform
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.storage import Store
from homeassistant.helpers.typing import ConfigType
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from .model import TICK, HomeState, SimulatedHome, SiteConfig

_LOGGER = logging.getLogger(__name__)

DOMAIN: Final = "simulated_home"
DATA_HUB: HassKey[SimulatedHomeHub] = HassKey(DOMAIN)
PLATFORMS: Final = (
    Platform.BINARY_SENSOR,
    Platform.NUMBER,
    Platform.SELECT,
    Platform.SENSOR,
    Platform.SWITCH,
    Platform.WATER_HEATER,
    Platform.WEATHER,
)
STORAGE_VERSION: Final = 1
STORAGE_KEY: Final = f"{DOMAIN}.state"
SAVE_DELAY_S: Final = 60
# A longer gap (Home Assistant was stopped) is skipped, not integrated: the home resumes as it
# was left.
MAX_CATCH_UP: Final = timedelta(hours=1)

_VALIDATORS: Final[dict[str, Any]] = {
    "float": vol.Coerce(float),
    "int": vol.Coerce(int),
    "str": cv.string,
}
# Every field of SiteConfig may be overridden from YAML, e.g. `pv_peak_w: 10000`.
SITE_SCHEMA: Final = vol.Schema(
    {
        vol.Optional(f.name): _VALIDATORS[str(f.type)]
        for f in dataclasses.fields(SiteConfig)
        if str(f.type) in _VALIDATORS
    }
)
CONFIG_SCHEMA: Final = vol.Schema(
    {DOMAIN: vol.Any(None, SITE_SCHEMA)},
    extra=vol.ALLOW_EXTRA,
)


class SimulatedHomeHub:
    """Owns the simulated home, its clock and its persistence."""

    def __init__(self, hass: HomeAssistant, site: SiteConfig) -> None:
        """Create the hub; `async_start` restores the state and starts the clock."""
        self.hass = hass
        self.site = site
        self.home = SimulatedHome.fresh(site, dt_util.utcnow())
        self._store: Store[dict[str, Any]] = Store(hass, STORAGE_VERSION, STORAGE_KEY)
        self._listeners: list[Callable[[], None]] = []
        self._unsubs: list[CALLBACK_TYPE] = []

    async def async_start(self) -> None:
        """Restore the saved state and start ticking."""
        saved = await self._store.async_load()
        if saved:
            try:
                state = HomeState.from_dict(saved)
            except (KeyError, TypeError, ValueError):
                _LOGGER.warning("Discarding an unreadable saved state of the simulated home")
            else:
                self.home = SimulatedHome(self.site, state)
        self._advance()
        self._unsubs.append(
            async_track_time_interval(
                self.hass,
                self._async_tick,
                TICK,
                name="simulated home tick",
                cancel_on_shutdown=True,
            )
        )
        self._unsubs.append(
            self.hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, self._async_stop)
        )

    def _advance(self) -> None:
        """Integrate up to now; after a long gap or a clock jump back, resume at now."""
        now = dt_util.utcnow()
        gap = now - self.home.state.time
        if not timedelta(0) <= gap <= MAX_CATCH_UP:
            _LOGGER.debug("Skipping %s of simulated time", gap)
            self.home.state.time = now
        self.home.advance(now)

    async def _async_stop(self, _event: Event) -> None:
        self._unsubs.clear()
        self._advance()
        await self._store.async_save(self.home.state.as_dict())

    @callback
    def _async_tick(self, _now: datetime) -> None:
        self.async_update()

    @callback
    def async_update(self) -> None:
        """Integrate up to now and notify the entities."""
        self._advance()
        self._store.async_delay_save(self.home.state.as_dict, SAVE_DELAY_S)
        for listener in list(self._listeners):
            listener()

    @callback
    def async_command(self, command: Callable[[SimulatedHome], None]) -> None:
        """Bring the home to the present, apply `command`, publish the result."""
        self._advance()
        command(self.home)
        self.async_update()

    @callback
    def async_add_listener(self, listener: Callable[[], None]) -> CALLBACK_TYPE:
        """Call `listener` after every tick and command; returns the unsubscribe callback."""
        self._listeners.append(listener)

        @callback
        def remove() -> None:
            self._listeners.remove(listener)

        return remove


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Set up the simulated home from `simulated_home:` in configuration.yaml."""
    if DOMAIN not in config:
        return True
    overrides = config[DOMAIN] or {}
    site = SiteConfig(
        **{
            "latitude": hass.config.latitude,
            "longitude": hass.config.longitude,
            "time_zone": hass.config.time_zone,
            **overrides,
        }
    )
    hub = SimulatedHomeHub(hass, site)
    await hub.async_start()
    hass.data[DATA_HUB] = hub
    for platform in PLATFORMS:
        hass.async_create_task(
            async_load_platform(hass, platform, DOMAIN, {}, config), eager_start=True
        )
    return True
