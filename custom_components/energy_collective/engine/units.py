"""Units of power, energy and price as Home Assistant users really write them.

The engine works in W, kWh and the home's currency per kWh. These helpers turn what a sensor or
an attribute states into those units and raise `UnitError` (with a translation key) for a unit
they do not know, so the config flow can tell the user which entity is the problem.
"""

from __future__ import annotations

import re
from typing import Final


class UnitError(ValueError):
    """A unit the engine cannot convert."""

    key: str
    """Translation key of the error."""

    def __init__(self, unit: str | None, key: str = "unknown_unit") -> None:
        super().__init__(f"unknown unit: {unit!r}")
        self.unit = unit
        self.key = key


_POWER_TO_W: Final[dict[str, float]] = {
    "mW": 1e-3,
    "W": 1.0,
    "kW": 1e3,
    "MW": 1e6,
    "GW": 1e9,
    "TW": 1e12,
}

_ENERGY_TO_KWH: Final[dict[str, float]] = {
    "mWh": 1e-6,
    "Wh": 1e-3,
    "kWh": 1.0,
    "MWh": 1e3,
    "GWh": 1e6,
    "TWh": 1e9,
    "J": 1 / 3.6e6,
    "kJ": 1 / 3.6e3,
    "MJ": 1 / 3.6,
    "GJ": 1e3 / 3.6,
}


def _lookup(table: dict[str, float], unit: str) -> float | None:
    """Exact match first, then a case-insensitive one when that is unambiguous.

    `mW` and `MW` differ only in case, so a lower-case `mw` is refused rather than guessed.
    """
    if unit in table:
        return table[unit]
    matches = {name for name in table if name.lower() == unit.lower()}
    if len(matches) == 1:
        return table[matches.pop()]
    return None


def power_to_w(value: float, unit: str | None) -> float:
    """A power in `unit` (W, kW, MW, ...; None means W) expressed in W."""
    if unit is None or not unit.strip():
        return float(value)
    factor = _lookup(_POWER_TO_W, unit.strip())
    if factor is None:
        raise UnitError(unit)
    return float(value) * factor


def energy_to_kwh(value: float, unit: str | None) -> float:
    """An energy in `unit` (Wh, kWh, MWh, ...; None means kWh) expressed in kWh."""
    if unit is None or not unit.strip():
        return float(value)
    factor = _lookup(_ENERGY_TO_KWH, unit.strip())
    if factor is None:
        raise UnitError(unit)
    return float(value) * factor


def is_power_unit(unit: str | None) -> bool:
    """Whether `unit` is a power unit `power_to_w` knows."""
    return unit is not None and _lookup(_POWER_TO_W, unit.strip()) is not None


def is_energy_unit(unit: str | None) -> bool:
    """Whether `unit` is an energy unit `energy_to_kwh` knows."""
    return unit is not None and _lookup(_ENERGY_TO_KWH, unit.strip()) is not None


# The money part of a price unit: (factor to the main unit, ISO currency or None when the
# symbol is shared by several currencies). Keys are lower case.
_MONEY: Final[dict[str, tuple[float, str | None]]] = {
    "€": (1.0, "EUR"),
    "eur": (1.0, "EUR"),
    "euro": (1.0, "EUR"),
    "£": (1.0, "GBP"),
    "gbp": (1.0, "GBP"),
    "usd": (1.0, "USD"),
    "aud": (1.0, "AUD"),
    "nzd": (1.0, "NZD"),
    "cad": (1.0, "CAD"),
    "chf": (1.0, "CHF"),
    "sek": (1.0, "SEK"),
    "nok": (1.0, "NOK"),
    "dkk": (1.0, "DKK"),
    "pln": (1.0, "PLN"),
    "czk": (1.0, "CZK"),
    "$": (1.0, None),
    "us$": (1.0, "USD"),
    "a$": (1.0, "AUD"),
    "au$": (1.0, "AUD"),
    "nz$": (1.0, "NZD"),
    "c$": (1.0, "CAD"),
    "kr": (1.0, None),
    "kr.": (1.0, None),
    "zł": (1.0, "PLN"),
    "zl": (1.0, "PLN"),
    "kč": (1.0, "CZK"),
    "fr.": (1.0, "CHF"),
    # Hundredths. The currency is the one the name belongs to, when only one uses it.
    "c": (0.01, None),
    "ct": (0.01, None),
    "cent": (0.01, None),
    "cents": (0.01, None),
    "¢": (0.01, None),
    "c€": (0.01, "EUR"),
    "€c": (0.01, "EUR"),
    "€ct": (0.01, "EUR"),
    "eurocent": (0.01, "EUR"),
    "eurocents": (0.01, "EUR"),
    "snt": (0.01, "EUR"),
    "p": (0.01, "GBP"),
    "pence": (0.01, "GBP"),
    "öre": (0.01, "SEK"),
    "øre": (0.01, None),
    "ore": (0.01, None),
    "rp": (0.01, "CHF"),
    "rp.": (0.01, "CHF"),
    "gr": (0.01, "PLN"),
}

_ENERGY_DIVISOR: Final[dict[str, float]] = {
    "wh": 1e-3,
    "kwh": 1.0,
    "mwh": 1e3,
}

_ISO_CURRENCY = re.compile(r"^[A-Z]{3}$")


def price_unit_factor(unit: str | None) -> tuple[float, str | None]:
    """The factor that turns a price in `unit` into currency per kWh, and the ISO currency.

    "EUR/MWh" gives (0.001, "EUR"), "c/kWh" gives (0.01, None), "p/kWh" gives (0.01, "GBP").
    None or "" gives (1.0, None): the value is taken as currency per kWh. A unit that is not a
    price per energy raises `UnitError`.
    """
    if unit is None or not unit.strip():
        return 1.0, None
    money, sep, energy = unit.replace(" ", "").partition("/")
    divisor = _ENERGY_DIVISOR.get(energy.lower()) if sep else None
    if divisor is None or not money:
        raise UnitError(unit)
    known = _MONEY.get(money.lower())
    if known is not None:
        factor, currency = known
    elif _ISO_CURRENCY.match(money):
        factor, currency = 1.0, money
    else:
        raise UnitError(unit)
    return factor / divisor, currency
