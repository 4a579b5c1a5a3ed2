"""The simulated home's physics, without Home Assistant."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.sim import load_model

model = load_model()

TZ = ZoneInfo("Europe/Berlin")
SITE = model.SiteConfig()
SUMMER = datetime(2026, 6, 17, tzinfo=TZ)  # a Wednesday
WINTER = datetime(2026, 1, 14, tzinfo=TZ)  # a Wednesday


def _day(start: datetime, step_min: int = 10) -> list[datetime]:
    return [start + timedelta(minutes=m) for m in range(0, 24 * 60, step_min)]


def test_exogenous_series_are_deterministic_for_a_date() -> None:
    """The same date gives the same day, whatever was computed before; another date differs."""
    times = _day(SUMMER)
    first = [model.pv_power(SITE, t) + model.house_load(SITE, t) for t in times]
    prices = model.spot_prices(SITE, SUMMER.date())
    model._draws.cache_clear()
    model.spot_prices(SITE, date(2030, 1, 1))  # touch other dates in between
    assert [model.pv_power(SITE, t) + model.house_load(SITE, t) for t in times] == first
    assert model.spot_prices(SITE, SUMMER.date()) == prices
    next_day = [t + timedelta(days=1) for t in times]
    assert [model.house_load(SITE, t) for t in next_day] != [
        model.house_load(SITE, t) for t in times
    ]
    other_seed = model.with_overrides(SITE, seed=7)
    assert model.spot_prices(other_seed, SUMMER.date()) != prices


def test_two_homes_run_over_the_same_day_agree() -> None:
    a = model.SimulatedHome.fresh(SITE, SUMMER)
    b = model.SimulatedHome.fresh(SITE, SUMMER)
    a.advance(SUMMER + timedelta(hours=6))
    for minutes in range(0, 6 * 60, 7):  # a different tick pattern
        b.advance(SUMMER + timedelta(minutes=minutes))
    b.advance(SUMMER + timedelta(hours=6))
    assert a.state.energy_wh["grid_import"] == pytest.approx(b.state.energy_wh["grid_import"])
    assert a.state.water_temp_c == pytest.approx(b.state.water_temp_c)


@pytest.mark.parametrize("day", [SUMMER, WINTER])
def test_pv_is_zero_at_night_and_peaks_near_solar_noon(day: datetime) -> None:
    times = _day(day, 5)
    power = [model.pv_power(SITE, t) for t in times]
    assert all(p == 0.0 for t, p in zip(times, power, strict=True) if t.hour < 4 or t.hour >= 22)
    assert max(power) > 0.25 * SITE.pv_peak_w
    assert max(power) <= SITE.pv_peak_w
    # solar noon in Berlin: about 12:06 UTC+1 in winter, 13:10 UTC+2 in summer
    clear = [model.sun_position(SITE.latitude, SITE.longitude, t).elevation for t in times]
    noon = times[clear.index(max(clear))]
    assert abs((noon - day).total_seconds() / 3600 - (13.2 if day is SUMMER else 12.1)) < 0.3
    # the clear-sky envelope peaks at solar noon; clouds only ever take power away
    smoothed = [sum(power[i : i + 12]) for i in range(len(power) - 12)]
    best = times[smoothed.index(max(smoothed)) + 6]
    assert abs((best - noon).total_seconds()) < 3 * 3600


def test_clouds_pass_and_are_bounded() -> None:
    covers = [model.cloud_cover(SITE, t) for t in _day(SUMMER, 2)]
    assert all(0.0 <= c <= 1.0 for c in covers)
    assert max(covers) - min(covers) > 0.2  # some clouds pass


def test_base_load_has_a_daily_shape() -> None:
    times = _day(WINTER, 5)
    load = dict(zip(times, (model.house_load(SITE, t) for t in times), strict=True))
    night = [v for t, v in load.items() if 1 <= t.hour < 5]
    evening = [v for t, v in load.items() if 18 <= t.hour < 21]
    assert sum(evening) / len(evening) > 2 * sum(night) / len(night)
    assert min(load.values()) > 100


def test_battery_soc_integrates_commanded_power() -> None:
    home = model.SimulatedHome.fresh(SITE, SUMMER)
    start = home.state.battery_soc
    home.set_battery_power(2000)
    home.advance(SUMMER + timedelta(hours=1))
    stored = 2000 * SITE.battery_efficiency  # Wh in one hour
    assert home.state.battery_soc == pytest.approx(start + stored / SITE.battery_capacity_wh * 100)
    assert home.state.energy_wh["battery_charge"] == pytest.approx(2000)
    home.set_battery_power(-3000)
    home.advance(SUMMER + timedelta(hours=2))
    removed = 3000 / SITE.battery_efficiency
    assert home.state.battery_soc == pytest.approx(
        start + (stored - removed) / SITE.battery_capacity_wh * 100
    )


def test_battery_respects_power_and_soc_bounds() -> None:
    home = model.SimulatedHome.fresh(SITE, SUMMER)
    home.set_battery_power(1e6)
    assert home.state.battery_command_w == SITE.battery_max_charge_w
    home.advance(SUMMER + timedelta(hours=5))
    assert home.state.battery_soc == pytest.approx(SITE.battery_max_soc)
    assert home.flows.battery_w == pytest.approx(0.0, abs=1e-6)
    home.set_battery_power(-1e6)
    assert home.flows.battery_w == -SITE.battery_max_discharge_w
    home.advance(SUMMER + timedelta(hours=10))
    assert home.state.battery_soc == pytest.approx(SITE.battery_min_soc)
    assert home.flows.battery_w == pytest.approx(0.0, abs=1e-6)


def test_self_consumption_holds_the_grid_near_zero() -> None:
    home = model.SimulatedHome.fresh(SITE, SUMMER + timedelta(hours=12))
    home.set_battery_mode("self_consumption")
    assert abs(home.flows.grid_w) < 1e-6  # midday surplus well under the charge limit
    with pytest.raises(ValueError, match="unknown battery mode"):
        home.set_battery_mode("turbo")


def test_ev_soc_integrates_charge_power() -> None:
    evening = SUMMER + timedelta(hours=21)  # the car is home
    home = model.SimulatedHome.fresh(SITE, evening)
    assert home.flows.ev_plugged
    start = home.state.ev_soc
    home.set_ev_current(10)
    home.set_ev_charging(True)
    power = 3 * 230 * 10
    assert home.flows.ev_w == power
    home.advance(evening + timedelta(hours=1))
    assert home.state.ev_soc == pytest.approx(
        start + power * SITE.ev_efficiency / SITE.ev_capacity_wh * 100
    )
    home.set_ev_current(99)
    assert home.state.ev_current_a == SITE.ev_max_current


def test_ev_leaves_on_weekdays_and_comes_back_emptier() -> None:
    home = model.SimulatedHome.fresh(SITE, SUMMER)
    plugged = [model.ev_at_home(SITE, t) for t in _day(SUMMER)]
    assert plugged[0]
    assert not all(plugged)
    start = home.state.ev_soc
    home.advance(SUMMER + timedelta(hours=23))
    assert home.state.ev_soc < start  # driven, not charged


def test_grid_balance_holds() -> None:
    home = model.SimulatedHome.fresh(SITE, SUMMER + timedelta(hours=18))
    home.set_appliance("dishwasher", True)
    home.set_appliance("pool_pump", True)
    home.set_ev_charging(True)
    home.set_battery_power(-1500)
    for minutes in range(0, 120, 10):
        home.advance(SUMMER + timedelta(hours=18, minutes=minutes))
        f = home.flows
        assert f.grid_w == pytest.approx(
            f.house_load_w + sum(f.appliances_w.values()) + f.ev_w + f.battery_w - f.pv_w
        )
    e = home.state.energy_wh
    consumed = (
        e["house_load"]
        + e["ev_charge"]
        + e["battery_charge"]
        + sum(e[name] for name in model.APPLIANCES)
    )
    produced = e["pv"] + e["battery_discharge"]
    assert e["grid_import"] - e["grid_export"] == pytest.approx(consumed - produced)


def test_dishwasher_runs_its_programme_and_stops() -> None:
    home = model.SimulatedHome.fresh(SITE, SUMMER)
    before = home.flows.grid_w
    home.set_appliance("dishwasher", True)
    assert home.appliance_on("dishwasher")
    assert home.flows.grid_w - before == pytest.approx(home.flows.appliances_w["dishwasher"])
    assert home.flows.appliances_w["dishwasher"] > 1000
    home.advance(SUMMER + model.program_duration("dishwasher") + timedelta(minutes=1))
    assert not home.appliance_on("dishwasher")
    assert 1000 < home.state.energy_wh["dishwasher"] < 1600


def test_water_heater_holds_the_tank_hot() -> None:
    home = model.SimulatedHome.fresh(SITE, WINTER)
    home.advance(WINTER + timedelta(hours=24))
    assert SITE.water_setpoint_c - 15 < home.state.water_temp_c <= SITE.water_setpoint_c + 1
    assert home.state.energy_wh["water_heater"] > 3000
    home.set_appliance("water_heater", False)
    home.advance(WINTER + timedelta(hours=48))
    assert home.state.water_temp_c < SITE.water_setpoint_c - 15


@pytest.mark.parametrize(("interval", "entries"), [(60, 24), (15, 96)])
def test_nordpool_attributes(interval: int, entries: int) -> None:
    site = model.with_overrides(SITE, price_interval_minutes=interval)
    morning = model.nordpool_attributes(site, SUMMER + timedelta(hours=9, minutes=5))
    assert len(morning["raw_today"]) == entries
    assert morning["raw_tomorrow"] == []
    assert morning["tomorrow_valid"] is False
    first = morning["raw_today"][0]
    assert set(first) == {"start", "end", "value"}
    assert first["start"] == SUMMER
    assert first["end"] - first["start"] == timedelta(minutes=interval)
    assert morning["unit"] == "kWh"
    assert morning["currency"] == "EUR"
    assert morning["current_price"] == model.current_price(site, SUMMER + timedelta(hours=9))
    assert morning["today"] == [r["value"] for r in morning["raw_today"]]

    afternoon = model.nordpool_attributes(site, SUMMER + timedelta(hours=13))
    assert afternoon["tomorrow_valid"] is True
    assert len(afternoon["raw_tomorrow"]) == entries
    assert afternoon["raw_tomorrow"][0]["start"] == SUMMER + timedelta(days=1)
    assert afternoon["raw_today"] == morning["raw_today"]


def test_prices_follow_daylight_saving_days() -> None:
    spring = model.spot_prices(SITE, date(2026, 3, 29))
    autumn = model.spot_prices(SITE, date(2026, 10, 25))
    assert (len(spring), len(autumn)) == (23, 25)


def test_export_price_is_below_import_price() -> None:
    when = SUMMER + timedelta(hours=12)
    imp = model.current_price(SITE, when, "import")
    exp = model.current_price(SITE, when, "export")
    assert exp < imp
    export_attrs = model.nordpool_attributes(SITE, when, "export")
    assert export_attrs["current_price"] == exp


def test_hourly_forecast() -> None:
    hours = model.hourly_forecast(SITE, SUMMER + timedelta(minutes=40), 48)
    assert len(hours) == 48
    assert hours[0]["datetime"] == SUMMER
    assert all(0 <= h["cloud_coverage"] <= 100 for h in hours)
    assert {"temperature", "wind_speed", "condition"} <= set(hours[0])
    days = model.daily_forecast(SITE, SUMMER, 3)
    assert all(d["templow"] <= d["temperature"] for d in days)


def test_state_round_trips_through_json() -> None:
    home = model.SimulatedHome.fresh(SITE, SUMMER)
    home.set_appliance("washing_machine", True)
    home.advance(SUMMER + timedelta(minutes=30))
    data = home.state.as_dict()
    again = model.HomeState.from_dict(data)
    assert again == home.state
    with pytest.raises(ValueError, match="timezone-aware"):
        model.SimulatedHome(SITE, model.HomeState(time=datetime(2026, 1, 1)))  # noqa: DTZ001
