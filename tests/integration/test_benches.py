"""The micro-benchmarks that docs/benchmarks.md quotes still run and report.

They are built with everything else but only run by hand, so a benchmark that
stopped working (an error, a missing counter, a handshake that no longer
completes) would otherwise go unnoticed until someone reran the numbers. Each
runs here for a fraction of a second; nothing below checks a speed.
"""
import json
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "build" / "bench"


def run_bench(name, *args):
    exe = BENCH / name
    if not exe.exists():
        pytest.fail(f"{exe} is missing: build first (scripts/test does)")
    out = subprocess.run([str(exe), "--benchmark_format=json", *args], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, f"{name} exited with {out.returncode}:\n{out.stderr[-2000:]}"
    results = json.loads(out.stdout)["benchmarks"]
    for b in results:
        assert not b.get("error_occurred"), f"{b['name']}: {b.get('error_message')}"
    return {b["name"]: b for b in results}


def test_handshake_bench_completes_handshakes_and_reports_the_longest_call():
    results = run_bench("handshake_bench")
    assert len(results) == 1
    (b,) = results.values()
    assert b["iterations"] == 200
    assert b["real_time"] > 0  # server CPU per handshake (µs)
    assert 0 < b["longest_call_p50"] <= b["longest_call_max"]
    # Each handshake's longest call is part of its server time, so the medians
    # keep that order too.
    assert 0 < b["longest_call_p50"] <= b["server_cpu_p50"]


def test_floor_bench_reports_the_floor_for_both_ways_of_sending():
    results = run_bench("floor_bench", "--benchmark_filter=BM_ProtectAndSend_Evp/aead|BM_ProtectAndSendGso/aead",
                        "--benchmark_min_time=0.05")
    names = sorted(results)
    assert names == ["BM_ProtectAndSendGso/aead_aes128_gcm/segments:4", "BM_ProtectAndSend_Evp/aead_aes128_gcm"], names
    for b in results.values():
        assert b["per_packet"] > 0


def test_forward_bench_forwards_to_every_subscriber():
    results = run_bench("forward_bench", "--benchmark_filter=subscribers:20/cm:0/cold:0")
    (b,) = results.values()
    assert b["iterations"] == 4000  # recorded publisher packets, each fed once
    assert b["fanout"] == 20
    # Every packet to every subscriber, plus RTCP: this catches a subscriber or
    # a stream left out, not a single lost packet.
    assert b["datagrams"] >= 20 * 4000, "not every packet reached every subscriber"
    assert b["per_forwarded"] > 0
