"""Units as users have them: power, energy and prices per energy."""

from __future__ import annotations

import pytest

from custom_components.energy_collective.engine.units import (
    UnitError,
    energy_to_kwh,
    is_energy_unit,
    is_power_unit,
    power_to_w,
    price_unit_factor,
)


@pytest.mark.parametrize(
    ("value", "unit", "watts"),
    [
        (1.5, "kW", 1500.0),
        (230.0, "W", 230.0),
        (0.002, "MW", 2000.0),
        (500.0, "mW", 0.5),
        (3.0, None, 3.0),
        (3.0, "", 3.0),
        (2.0, "kw", 2000.0),
        (2.0, " kW ", 2000.0),
    ],
)
def test_power_is_converted_to_watts(value: float, unit: str | None, watts: float) -> None:
    assert power_to_w(value, unit) == pytest.approx(watts)


@pytest.mark.parametrize("unit", ["hp", "kWh", "mw", "A"])
def test_unknown_or_ambiguous_power_unit_is_refused(unit: str) -> None:
    # "mw" could be milliwatt or megawatt: a factor of 10^9 is not guessed.
    with pytest.raises(UnitError) as error:
        power_to_w(1.0, unit)
    assert error.value.key == "unknown_unit"
    assert isinstance(error.value, ValueError)


@pytest.mark.parametrize(
    ("value", "unit", "kwh"),
    [
        (1500.0, "Wh", 1.5),
        (2.0, "kWh", 2.0),
        (0.5, "MWh", 500.0),
        (3.6e6, "J", 1.0),
        (7.0, None, 7.0),
    ],
)
def test_energy_is_converted_to_kwh(value: float, unit: str | None, kwh: float) -> None:
    assert energy_to_kwh(value, unit) == pytest.approx(kwh)


def test_unknown_energy_unit_is_refused() -> None:
    with pytest.raises(UnitError, match="unknown unit"):
        energy_to_kwh(1.0, "kW")


def test_unit_kind_is_recognised() -> None:
    assert is_power_unit("kW")
    assert not is_power_unit("kWh")
    assert not is_power_unit(None)
    assert is_energy_unit("Wh")
    assert not is_energy_unit("W")


@pytest.mark.parametrize(
    ("unit", "factor", "currency"),
    [
        ("EUR/kWh", 1.0, "EUR"),
        ("€/kWh", 1.0, "EUR"),
        ("EUR/MWh", 0.001, "EUR"),
        ("c/kWh", 0.01, None),
        ("ct/kWh", 0.01, None),
        ("¢/kWh", 0.01, None),
        ("cents/kWh", 0.01, None),
        ("p/kWh", 0.01, "GBP"),
        ("GBP/kWh", 1.0, "GBP"),
        ("£/kWh", 1.0, "GBP"),
        ("$/kWh", 1.0, None),
        ("USD/kWh", 1.0, "USD"),
        ("SEK/kWh", 1.0, "SEK"),
        ("öre/kWh", 0.01, "SEK"),
        ("Öre/kWh", 0.01, "SEK"),
        ("øre/kWh", 0.01, None),
        ("NOK/kWh", 1.0, "NOK"),
        ("DKK/kWh", 1.0, "DKK"),
        ("AUD/kWh", 1.0, "AUD"),
        ("$/MWh", 0.001, None),
        ("kr/kWh", 1.0, None),
        ("EUR/Wh", 1000.0, "EUR"),
        ("eur/kwh", 1.0, "EUR"),
        ("CHF / kWh", 1.0, "CHF"),
        ("PLN/MWh", 0.001, "PLN"),
        ("HUF/kWh", 1.0, "HUF"),  # any ISO code written in capitals
        (None, 1.0, None),
        ("", 1.0, None),
    ],
)
def test_price_units_users_have(unit: str | None, factor: float, currency: str | None) -> None:
    got_factor, got_currency = price_unit_factor(unit)
    assert got_factor == pytest.approx(factor)
    assert got_currency == currency


def test_cents_are_converted_to_currency_per_kwh() -> None:
    factor, _ = price_unit_factor("c/kWh")
    assert 23.5 * factor == pytest.approx(0.235)


@pytest.mark.parametrize("unit", ["EUR", "EUR/kW", "xyz/kWh", "/kWh", "EUR/h", "kWh"])
def test_unknown_price_unit_is_refused(unit: str) -> None:
    with pytest.raises(UnitError) as error:
        price_unit_factor(unit)
    assert error.value.key == "unknown_unit"
    assert error.value.unit == unit
