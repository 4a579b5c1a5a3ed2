"""The engine's command line, more cases: the baseline plan, option checks, errors that only
the replay finds, and running without Home Assistant."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from custom_components.energy_collective.engine.__main__ import PLAN_KEYS, main

from .test_cli import MODULE, ROOT, SUMMARY_KEYS, _tiny_home, _tiny_series


def _problem(path: Path, **extra: Any) -> Path:
    """Two hours at 0.30 then 0.10 with a 1 kW load and nothing to shift: 0.40 either way."""
    problem = {
        "name": "flat",
        "start": "2026-05-04T00:00:00+01:00",
        "step_minutes": 60,
        "n_steps": 2,
        "import_price": [0.3, 0.1],
        "base_load_w": 1000,
        **extra,
    }
    path.write_text(json.dumps(problem))
    return path


def _backtest(home: Path, series: Path, *extra: str) -> list[str]:
    return ["backtest", "--home", str(home), "--series", str(series), *extra]


def test_solve_baseline_prints_its_plan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """solve --policy baseline prints the baseline's plan: 1 kWh bought each hour, 0.40."""
    path = _problem(tmp_path / "flat.json")
    assert main(["solve", str(path), "--policy", "baseline", "--indent", "2"]) == 0
    text = capsys.readouterr().out
    assert text.startswith('{\n  "status": "baseline"')
    out = json.loads(text)
    assert list(out) == list(PLAN_KEYS)
    assert (out["name"], out["n_steps"], out["step_minutes"]) == ("flat", 2, 60)
    assert out["series"]["import_w"] == [1000.0, 1000.0]
    assert out["series"]["times"] == ["2026-05-04T00:00:00+01:00", "2026-05-04T01:00:00+01:00"]
    assert out["costs"]["energy"] == pytest.approx(0.4)
    assert out["costs"]["import_kwh"] == pytest.approx(2.0)


def test_solve_optimizer_matches_the_baseline_when_nothing_can_move(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With nothing to shift the optimizer's plan costs what the baseline's does."""
    path = _problem(tmp_path / "flat.json")
    assert main(["solve", str(path)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["costs"]["energy"] == pytest.approx(0.4)
    assert out["baseline_costs"]["energy"] == pytest.approx(0.4)
    assert out["series"]["devices"] == {}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--replan-every", "0"], "error: --replan-every must be >= 1\n"),
        (["--first-days", "2", "--day-start", "-1"], "--day-start must be an hour from 0 to 23"),
        (["--horizon-hours", "72"], "home.json: horizon_hours must be a number in (0, 48]"),
        (["--first-days", "0"], "error: --first-days selects no rows of the series\n"),
    ],
)
def test_backtest_options_are_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    """Out-of-range options exit 2, say which option is wrong and print no summary."""
    home = _tiny_home(tmp_path / "home.json")
    series = _tiny_series(tmp_path / "series.csv")
    assert main(_backtest(home, series, *args)) == 2
    captured = capsys.readouterr()
    assert message in captured.err
    assert captured.out == ""


def test_horizon_hours_option_overrides_the_home(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--horizon-hours 2 replaces the home's 6 h horizon in the summary and the replay."""
    home = _tiny_home(tmp_path / "home.json")
    series = _tiny_series(tmp_path / "series.csv", hours=27)
    assert main(_backtest(home, series, "--policy", "baseline", "--horizon-hours", "2")) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["horizon_hours"] == 2.0
    assert out["steps"] == 3
    assert (out["start"], out["end"]) == ("2026-05-05T00:00:00+01:00", "2026-05-05T03:00:00+01:00")
    assert json.loads(home.read_text())["horizon_hours"] == 6  # the file is left as it was


def test_home_that_is_not_an_object_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A HOME.json holding a list is refused, even with --horizon-hours to put into it."""
    home = tmp_path / "home.json"
    home.write_text("[]")
    series = _tiny_series(tmp_path / "series.csv")
    assert main(_backtest(home, series, "--horizon-hours", "4")) == 2
    assert f"error: {home}: the home must be a JSON object" in capsys.readouterr().err


def test_grid_limit_series_too_short_for_the_horizon_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A home that only fails in the replay exits 2 and says it makes no valid problem."""
    # a per-step import limit with one value passes the home check, not the first 6 h plan
    home = _tiny_home(tmp_path / "home.json")
    data = json.loads(home.read_text())
    data["grid"] = {"import_limit_w": [5000]}
    home.write_text(json.dumps(data))
    series = _tiny_series(tmp_path / "series.csv")
    assert main(_backtest(home, series, "--policy", "baseline")) == 2
    captured = capsys.readouterr()
    assert captured.err == (
        "error: the home and the series do not make a valid problem: "
        "grid.import_limit_w has 1 values, need 6\n"
    )
    assert captured.out == ""


def test_backtest_runs_without_home_assistant(tmp_path: Path) -> None:
    """The command line replays a series where Home Assistant cannot be imported."""
    home = _tiny_home(tmp_path / "home.json")
    series = _tiny_series(tmp_path / "series.csv", hours=26)
    script = textwrap.dedent(
        f"""
        import sys, types
        sys.modules["homeassistant"] = None  # any import of it now fails
        for name, path in (
            ("custom_components", {str(ROOT / "custom_components")!r}),
            ("custom_components.energy_collective",
             {str(ROOT / "custom_components" / "energy_collective")!r}),
        ):
            package = types.ModuleType(name)
            package.__path__ = [path]  # the package without its Home Assistant __init__
            sys.modules[name] = package
        from {MODULE}.__main__ import main
        code = main({_backtest(home, series, "--policy", "baseline")!r})
        assert not [m for m in sys.modules if m.startswith("homeassistant.")]
        sys.exit(code)
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert set(out) >= SUMMARY_KEYS
    assert (out["policy"], out["steps"]) == ("baseline", 2)
