"""The grid engine's helpers for the agent: holidays, keywords, stored events."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from custom_components.energy_collective.engine.grid import (
    DemandResponseError,
    action_event,
    event_from_dict,
    event_to_dict,
    holidays_from_calendar,
    parse_keywords,
    parse_octopus_saving_sessions,
)


def test_holidays_are_the_all_day_events() -> None:
    """All-day events give their dates (end exclusive); timed events are no holidays."""
    items = [
        {"summary": "Christmas", "start": "2026-12-25", "end": "2026-12-27"},
        {"summary": "New year", "start": date(2027, 1, 1), "end": date(2027, 1, 2)},
        {"summary": "Meeting", "start": "2026-12-28T10:00:00+01:00", "end": "2026-12-28T11:00"},
        {"summary": "Odd", "start": "2026-12-30", "end": "2026-12-30"},
        {"summary": "Broken", "start": "2026-13-01", "end": None},
    ]
    assert holidays_from_calendar(items) == {
        date(2026, 12, 25),
        date(2026, 12, 26),
        date(2026, 12, 30),
        date(2027, 1, 1),
    }


def test_keywords_are_tidied() -> None:
    """Trimmed, inner space collapsed, repeats (ignoring case) and empties dropped."""
    assert parse_keywords(" Peak  event, flex,, PEAK EVENT ,") == ("Peak event", "flex")
    assert parse_keywords(None) == ()
    assert parse_keywords(" , ") == ()


def test_events_round_trip_through_json() -> None:
    """What the store keeps comes back equal, for every source."""
    start = datetime(2026, 11, 18, 16, tzinfo=UTC)
    end = datetime(2026, 11, 18, 18, tzinfo=UTC)
    action = action_event(start, end, 1500.0, 0.3, title="Grid operator")
    octopus = parse_octopus_saving_sessions(
        {
            "available_events": [
                {"id": 7, "code": "X", "start": start.isoformat(), "end": end.isoformat()}
            ]
        },
        include_available=True,
    )[0]
    for event in (action, octopus):
        assert event_from_dict(event_to_dict(event)) == event
    assert octopus.joined is False


def test_bad_stored_events_are_refused() -> None:
    """A stored event with an unknown source or times that do not fit raises."""
    data = event_to_dict(
        action_event(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, 1, tzinfo=UTC), 1.0)
    )
    with pytest.raises(DemandResponseError):
        event_from_dict({**data, "source": "mail"})
    with pytest.raises(DemandResponseError):
        event_from_dict({**data, "end": data["start"]})
    with pytest.raises(KeyError):
        event_from_dict({k: v for k, v in data.items() if k != "start"})
