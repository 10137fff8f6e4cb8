"""bench/compare's many-rooms scenarios: what a --rooms-scenario value means,
and how the half-core room counts are fitted per kind of room."""
import importlib.util
import subprocess
from importlib.machinery import SourceFileLoader
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_loader = SourceFileLoader("bench_compare", str(ROOT / "bench" / "compare"))
_spec = importlib.util.spec_from_loader("bench_compare", _loader)
compare = importlib.util.module_from_spec(_spec)
_loader.exec_module(compare)


def test_rooms_and_meetings_scenarios_parse():
    assert compare.parse_scenario("110x10") == (110, 10, False)
    assert compare.parse_scenario(" 8M10 ") == (8, 10, True)
    for scenario in compare.DEFAULT_ROOMS.split(","):
        compare.parse_scenario(scenario)


@pytest.mark.parametrize("bad", ["8q10", "x10", "8m", "0x10", "4m1", "8x10x2", "8m-3"])
def test_a_bad_scenario_is_refused_with_the_forms_it_may_take(bad):
    with pytest.raises(ValueError) as e:
        compare.parse_scenario(bad)
    assert repr(bad) in str(e.value)


def test_the_command_refuses_a_bad_scenario_before_running_anything():
    out = subprocess.run([str(ROOT / "bench" / "compare"), "--rooms-scenario", "60x10,8q10"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 2
    assert "8q10" in out.stderr and "ROOMSmPARTICIPANTS" in out.stderr
    # Nothing was installed or built first (those steps log as they start).
    assert "installing" not in out.stderr and "building" not in out.stderr


def test_half_core_counts_are_fitted_per_kind_of_room():
    # Meetings of 10 and rooms of one publisher + 10 subscribers have the same
    # size but not the same cost per room: each gets its own line.
    points = [
        {"rooms": 60, "subscribers": 600, "server_cpu_pct": 25.0},
        {"rooms": 120, "subscribers": 1200, "server_cpu_pct": 50.0},
        {"rooms": 4, "subscribers": 40, "meeting": True, "server_cpu_pct": 20.0},
        {"rooms": 8, "subscribers": 80, "meeting": True, "server_cpu_pct": 40.0},
        {"rooms": 12, "subscribers": 120, "meeting": True, "error": "server exited", "server_cpu_pct": 90.0},
    ]
    assert compare.half_core_rooms(points) == {(False, 10): 120, (True, 10): 10}
    assert compare.scenario_label(points[2]) == "4 meetings of 10"
    assert compare.scenario_label(points[0]) == "60 × 10"
