"""The load generator against the real server: one publisher, five subscribers, loopback only.

switchboard-load drives its own client transports (ICE, DTLS-SRTP, RTP/RTCP), so this
also checks the whole media path of the server end to end: every subscriber receives
the publisher's VP8 stream, nothing is lost, and the one-way delay through the server
(read off a send time carried in every payload) stays small.
"""
import json
import os
import subprocess
import urllib.request

import pytest

from conftest import ROOT, ServerProcess

LOAD_BIN = os.environ.get("SWITCHBOARD_LOAD_BIN", str(ROOT / "build" / "src" / "load" / "switchboard-load"))


def run_load(url, *args, timeout=60):
    assert os.path.exists(LOAD_BIN), f"{LOAD_BIN} is missing: build the switchboard-load target first"
    proc = subprocess.run([LOAD_BIN, "--url", url, "--json", "--quiet", *args],
                          capture_output=True, text=True, timeout=timeout)
    lines = proc.stdout.strip().splitlines()
    assert lines, f"no summary (exit {proc.returncode}):\n{proc.stderr}"
    return proc.returncode, json.loads(lines[-1]), proc.stderr


def test_one_publisher_five_subscribers(server):
    code, s, stderr = run_load(server.url, "--rooms", "1", "--publishers", "1", "--subscribers", "5",
                               "--duration", "5")
    context = f"summary: {json.dumps(s, indent=1)}\nstderr:\n{stderr}\nserver log tail:\n{server.log()[-3000:]}"
    assert s["errors"] == 0, context
    assert code == 0, context
    # Everybody joined: six transports up, five receivers got media.
    assert s["connected"] == 6, context
    assert s["receiving"] == 5 and s["expected_receivers"] == 5, context
    # ~120 packets/s of 1 Mbit/s VP8 for 5 s.
    assert s["sent_packets"] > 400, context
    # Each subscriber starts at the first keyframe after it joined, so it expects
    # nearly everything the publisher sent.
    assert s["expected_packets"] >= 0.8 * 5 * s["sent_packets"], context
    assert s["received_packets"] >= 0.99 * s["expected_packets"], context
    assert s["loss_fraction"] < 0.01, context
    assert 0 < s["delay_us"]["p50"] < 5000, context
    assert s["join_ms"]["p50"] > 0, context
    # The server holds video back until a keyframe (no audio in this run), so a
    # subscriber's first packet is the start of one: what a decoder starts from.
    assert s["keyframe_ms"]["p50"] == s["join_ms"]["p50"], context
    assert s["keyframe_ms"]["p99"] == s["join_ms"]["p99"], context
    # The generator reports how late it built its frames, and the typical one
    # left within a few ms of its time (a stalled generator would send them in
    # bursts that no set of independent clients sends). Only the median is
    # bounded: one scheduling hiccup of a busy machine may make a frame late.
    if s["steady"]["duration_s"] > 0:
        lateness = s["steady"]["frame_lateness_us"]
        assert 0 < lateness["p50"] < 20000 and lateness["p50"] <= lateness["p99"], context


@pytest.mark.parametrize("gso", ["on", "off"])
def test_udp_gso_flag_decides_how_copies_leave(gso):
    """`--udp-gso off` sends every copy as a datagram of its own; `on` (the
    default) lets a subscriber's copies of a frame leave as one UDP_SEGMENT send.
    Either way every subscriber gets the whole stream."""
    s = ServerProcess("--udp-gso", gso, "--workers", "1")
    try:
        code, summary, stderr = run_load(s.url, "--rooms", "1", "--publishers", "1", "--subscribers", "3",
                                         "--duration", "3")
        with urllib.request.urlopen(s.http + "/stats?rooms=0", timeout=5) as r:
            stats = json.load(r)
    finally:
        assert s.stop() == 0, s.log()[-3000:]
    context = f"summary: {json.dumps(summary, indent=1)}\nstderr:\n{stderr}\nstats: {stats}"
    assert code == 0 and summary["receiving"] == 3, context
    assert summary["loss_fraction"] < 0.01, context
    (w,) = stats["workers"]
    assert w["tx_packets"] > 3 * 200, context  # ~100 video packets/s to each of 3 subscribers
    if gso == "on":
        # A 1 Mbit/s frame is several packets: most copies leave in GSO sends.
        assert w["tx_gso_segments"] > w["tx_packets"] // 2, context
    else:
        assert w["tx_gso_segments"] == 0, context
