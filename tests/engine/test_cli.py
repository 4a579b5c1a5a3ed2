"""The engine's command line: solve and backtest, their JSON and their errors."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from custom_components.energy_collective.engine.__main__ import PLAN_KEYS, main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_HOME = ROOT / "docs" / "examples" / "home.json"
EXAMPLE_SERIES = ROOT / "docs" / "examples" / "series.csv"
MODULE = "custom_components.energy_collective.engine"

SUMMARY_KEYS = {
    "total_cost",
    "baseline_cost",
    "perfect_cost",
    "savings_pct",
    "captured_share",
    "self_consumption",
    "self_sufficiency",
    "peak_import_kw",
    "co2_kg",
}


def _tiny_home(path: Path) -> Path:
    home = {
        "name": "tiny",
        "timezone": "Etc/GMT-1",
        "horizon_hours": 6,
        "devices": [
            {
                "kind": "battery",
                "name": "battery",
                "capacity_kwh": 4,
                "max_charge_w": 2000,
                "soc_initial": 0.5,
            },
            {
                "kind": "interruptible",
                "name": "pump",
                "power_w": 800,
                "run_hours": 2,
                "schedule": {"window_start": "08:00", "window_end": "16:00"},
            },
        ],
    }
    path.write_text(json.dumps(home))
    return path


def _tiny_series(path: Path, hours: int = 36) -> Path:
    start = datetime(2026, 5, 4, tzinfo=timezone(timedelta(hours=1)))
    lines = ["timestamp,load_w,pv_w,price_import,price_export,carbon_g_per_kwh"]
    for i in range(hours):
        h = i % 24
        pv = max(0.0, 3000 - 400 * abs(h - 13)) if 6 <= h <= 20 else 0.0
        price = 0.12 if h < 6 else 0.35 if 17 <= h < 21 else 0.25
        lines.append(
            f"{(start + timedelta(hours=i)).isoformat()},{400 + 50 * (h % 5)},{pv},{price},0.05,300"
        )
    path.write_text("\n".join(lines) + "\n")
    return path


def test_solve_example_prints_the_documented_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["solve", str(EXAMPLE_HOME), "--time-limit", "30"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(PLAN_KEYS) <= set(out)
    assert out["status"] in {"optimal", "feasible", "baseline", "fallback"}
    n = out["n_steps"]
    assert n == 48
    series = out["series"]
    assert len(series["times"]) == n
    assert len(series["import_w"]) == n
    assert set(series["devices"]) == {"battery", "ev", "dishwasher", "pool_pump", "water_heater"}
    assert len(series["devices"]["battery"]["soc"]) == n
    assert {"energy", "objective", "import_kwh", "export_kwh"} <= set(out["costs"])
    assert out["objective"] == pytest.approx(out["costs"]["objective"], abs=1e-3)
    assert out["objective"] <= out["baseline_costs"]["objective"] + 1e-6
    assert out["build_s"] >= 0
    assert out["solve_s"] >= 0
    assert all({"device", "key", "text"} <= set(e) for e in out["explanations"])


def test_solve_runs_as_a_module() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", MODULE, "solve", str(EXAMPLE_HOME), "--policy", "baseline"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["status"] == "baseline" or out["solver"] == "baseline"
    assert set(PLAN_KEYS) <= set(out)


def test_solve_rejects_a_malformed_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = json.loads(EXAMPLE_HOME.read_text())
    bad["import_price"] = bad["import_price"][:10]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    assert main(["solve", str(path)]) == 2
    err = capsys.readouterr().err
    assert "import_price has 10 values, need 48" in err
    assert "Traceback" not in err
    path.write_text("{not json")
    assert main(["solve", str(path)]) == 2
    assert "not valid JSON" in capsys.readouterr().err
    assert main(["solve", str(tmp_path / "missing.json")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_backtest_prints_one_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    home = _tiny_home(tmp_path / "home.json")
    series = _tiny_series(tmp_path / "series.csv")
    code = main(["backtest", "--home", str(home), "--series", str(series), "--policy", "optimizer"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) >= SUMMARY_KEYS
    assert out["policy"] == "optimizer"
    assert out["steps"] == 12  # 36 rows minus one day of history
    assert out["perfect_cost"] <= out["total_cost"] + 1e-6
    assert out["co2_kg"] > 0
    assert out["unmet"]["run_unmet_kwh"] == 0
    assert set(out["policies"]) == {"optimizer", "baseline", "perfect"}


def test_backtest_malformed_csv_exits_2_without_traceback(tmp_path: Path) -> None:
    home = _tiny_home(tmp_path / "home.json")
    series = _tiny_series(tmp_path / "series.csv")
    lines = series.read_text().splitlines()
    lines[5] = lines[5].replace(",0.05,", ",zero,")
    series.write_text("\n".join(lines) + "\n")
    proc = subprocess.run(
        [sys.executable, "-m", MODULE, "backtest", "--home", str(home), "--series", str(series)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "line 6: price_export is not a number: 'zero'" in proc.stderr
    assert proc.stdout == ""


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "the file is empty"),
        ("timestamp,load_w,pv_w\n", "missing column(s) price_import, price_export"),
        (
            "timestamp,load_w,pv_w,price_import,price_export\n"
            "2026-05-04T00:00:00,1,0,0.2,0.1\n2026-05-04T01:00:00,1,0,0.2,0.1\n",
            "timestamp needs a UTC offset",
        ),
    ],
)
def test_backtest_format_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    home = _tiny_home(tmp_path / "home.json")
    series = tmp_path / "series.csv"
    series.write_text(content)
    assert main(["backtest", "--home", str(home), "--series", str(series)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert message in err


def test_backtest_too_short_for_persistence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = _tiny_home(tmp_path / "home.json")
    series = _tiny_series(tmp_path / "series.csv", hours=20)
    assert main(["backtest", "--home", str(home), "--series", str(series)]) == 2
    assert "one day of history" in capsys.readouterr().err


def test_backtest_bad_home_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    home = tmp_path / "home.json"
    home.write_text(json.dumps({"devices": [{"kind": "rocket", "name": "x"}]}))
    series = _tiny_series(tmp_path / "series.csv")
    assert main(["backtest", "--home", str(home), "--series", str(series)]) == 2
    assert "kind must be one of" in capsys.readouterr().err


def test_unknown_policy_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["backtest", "--home", "h.json", "--series", "s.csv", "--policy", "oracle"])
    assert exc.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_backtest_day_start_moves_the_windows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = _tiny_home(tmp_path / "home.json")
    series = _tiny_series(tmp_path / "series.csv")  # 2026-05-04 00:00 .. 05-05 11:00
    args = ["backtest", "--home", str(home), "--series", str(series), "--policy", "baseline"]
    assert main([*args, "--first-days", "5"]) == 0
    assert json.loads(capsys.readouterr().out)["steps"] == 12
    # days from 08:00: the 4th runs until 05-05 08:00, after the day of history
    assert main([*args, "--first-days", "4", "--day-start", "8"]) == 0
    late = json.loads(capsys.readouterr().out)
    assert (late["start"], late["steps"]) == ("2026-05-05T00:00:00+01:00", 8)
    assert main([*args, "--first-days", "4", "--day-start", "24"]) == 2
    assert "--day-start must be an hour from 0 to 23" in capsys.readouterr().err
