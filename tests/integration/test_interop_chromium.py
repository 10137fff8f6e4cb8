"""Headless Chromium runs the seed client flow against the real server.

Each test runs a scenario of this file inside a lo-only network namespace
(netns.py), where Chromium (--allow-loopback-in-peer-connection) uses 127.0.0.1;
the server and the browser both start in there. Run one by hand with
    /usr/bin/python3 -m pytest tests/integration/test_interop_chromium.py -v
"""

import time

import pytest

import browser as chromium
import netns

ROOM = "interop"


_SKIP = netns.skip_reason(chromium.missing_reason)
pytestmark = pytest.mark.skipif(_SKIP is not None, reason=str(_SKIP))


def _run(name, budget):
    return netns.run_and_report(__file__, name, budget=budget)


def _refused(st):
    return bool(st["serverErrors"] or st["errors"])


# --- scenarios (run inside the namespace) -------------------------------------------------

def scenario_page_and_offer(out):
    """Chromium starts, loads the server's page, joins, gathers 127.0.0.1, offers; the server replies."""
    server = netns.start_server(out)
    b = None
    try:
        b = chromium.Browser()
        b.open(server.http + "/")
        out["page"] = b.run("return {origin: location.origin, secure: window.isSecureContext,"
                            " title: document.title, ready: document.readyState}")
        b.open(server.http + chromium.BLANK_PATH)
        client = chromium.SeedClient(b, server.url, ROOM, "chromium-probe")
        out["client"] = client.wait(
            lambda st: st["offerSent"] and (st["answered"] or _refused(st)) and st["localCandidates"],
            20, "offer sent and replied to")
        netns.check_server_alive(server, out, "after the offer")
    finally:
        if b:
            out["browser_console"] = b.console()
            b.quit()
        netns.stop_server(server, out)


def _connect(b, server, self_id, out, key, tamper=False, timeout=25):
    """Starts a seed client in the current tab; waits for a final connectionState."""
    client = chromium.SeedClient(b, server.url, ROOM, self_id, tamper_fingerprint=tamper)
    try:
        st = client.wait(lambda s: s["connectionState"] in ("connected", "failed", "closed") or _refused(s),
                         timeout, f"{self_id}: connectionState connected or failed")
    finally:
        out[key] = client.state()
    out[key + "_stats"] = client.stats()
    return client, st


def scenario_media_flows(out):
    """The seed flow connects (ICE, DTLS) and the server decrypts Chromium's RTP."""
    server = netns.start_server(out)
    b = None
    try:
        b = chromium.Browser()
        b.open(server.http + chromium.BLANK_PATH)
        client, st = _connect(b, server, "chromium-pub", out, "client")
        if st["connectionState"] != "connected":
            raise AssertionError(f"Chromium did not connect: {st['connectionState']}, "
                                 f"server errors {st['serverErrors']}, page errors {st['errors']}")
        first, second = netns.wait_for_decrypted_rtp(server, "chromium-pub", out, 25)
        out["server_first"], out["server_second"] = first, second
        out["client_stats_after"] = client.stats()
        # Chromium's sender reports (an RTCP compound opening with an SR, about
        # one a second for video) reach the worker through its report socket.
        deadline = time.monotonic() + 10
        while True:
            stats = netns.fetch_stats(server)
            out["server_workers"] = stats.get("workers", [])
            out["server_transport_reports"] = netns.find_transport(stats, "chromium-pub")
            if sum(w.get("reports_deferred", 0) for w in out["server_workers"]) > 0 or time.monotonic() > deadline:
                break
            time.sleep(0.25)
        netns.check_server_alive(server, out, "while Chromium was publishing")
    finally:
        if b:
            out["browser_console"] = b.console()
            b.quit()
        netns.stop_server(server, out)


def scenario_tampered_fingerprint(out):
    """A client that alters the answer's fingerprint never connects; the server carries on."""
    server = netns.start_server(out)
    b = None
    try:
        b = chromium.Browser()
        b.open(server.http + chromium.BLANK_PATH)
        _connect(b, server, "mallory", out, "tampered", tamper=True, timeout=30)
        out["tampered_server_view"] = netns.find_transport(netns.fetch_stats(server), "mallory")
        netns.check_server_alive(server, out, "after the failed handshake")

        b.new_tab(server.http + chromium.BLANK_PATH)
        _, st = _connect(b, server, "bob", out, "honest")
        if st["connectionState"] != "connected":
            raise AssertionError(f"the second client did not connect: {st['connectionState']}")
        first, second = netns.wait_for_decrypted_rtp(server, "bob", out, 25)
        out["server_first"], out["server_second"] = first, second
        out["tampered_server_view_end"] = netns.find_transport(netns.fetch_stats(server), "mallory")
        netns.check_server_alive(server, out, "after the second client")
    finally:
        if b:
            out["browser_console"] = b.console()
            b.quit()
        netns.stop_server(server, out)


SCENARIOS = {
    "page_and_offer": scenario_page_and_offer,
    "media_flows": scenario_media_flows,
    "tampered_fingerprint": scenario_tampered_fingerprint,
}


# --- tests (run by pytest, outside) -----------------------------------------------------

def _assert_server_decrypts(r):
    first, second = r["server_first"], r["server_second"]
    assert first["state"] == "connected"
    assert first["srtp_profile"], first
    assert first["remote"].startswith("127.0.0.1:"), first
    assert first["rtp_in"] > 50 and first["rtp_bytes_in"] > 0
    assert second["rtp_in"] > first["rtp_in"], "RTP stopped arriving"
    assert second["dropped_srtp"] <= max(5, second["rtp_in"] // 50), second


@pytest.mark.timeout(90)
def test_chromium_in_loopback_namespace_loads_page_joins_and_offers():
    r = _run("page_and_offer", 45)
    assert r["error"] is None, r["error"]
    assert r["interfaces"] == ["lo"], "the scenario must run where loopback is the only interface"
    page = r["page"]
    assert page["secure"] and page["origin"] == f"http://127.0.0.1:{r['server_port']}", page
    assert page["ready"] == "complete" and page["title"], page
    c = r["client"]
    assert c["roomJoined"]["participants"] == []
    assert any(" 127.0.0.1 " in cand and "typ host" in cand for cand in c["localCandidates"]), c
    assert c["answered"] or c["serverErrors"], c
    assert r["healthz"]["status"] == "ok"
    assert r["server_exit"] == 0


@pytest.mark.timeout(100)
def test_chromium_connects_and_server_decrypts_its_rtp():
    r = _run("media_flows", 55)
    assert r["error"] is None, r["error"]
    c = r["client"]
    assert c["connectionState"] == "connected" and not c["errors"] and not c["serverErrors"], c
    s = r["client_stats"]
    assert s["transport"]["dtlsState"] == "connected", s
    assert s["pair"]["remote"].startswith("127.0.0.1:"), s
    sent = r["client_stats_after"]["outbound"]
    assert sent["audio"]["packetsSent"] > 0 and sent["video"]["packetsSent"] > 0, sent
    _assert_server_decrypts(r)
    # The server counts no more than Chromium says it sent (read after the server's sample):
    # every packet the transport carried, padding and retransmissions included.
    second = r["server_second"]
    assert second["rtp_in"] + second["rtcp_in"] <= r["client_stats_after"]["transport"]["packetsSent"], \
        (second, r["client_stats_after"])
    # Its periodic reports were read from the report socket, without waking the
    # worker for them, and handled like any RTCP.
    workers = r["server_workers"]
    assert sum(w["reports_deferred"] for w in workers) > 0, workers
    assert r["server_transport_reports"]["rtcp_in"] > 0, r["server_transport_reports"]
    assert r["server_exit"] == 0


@pytest.mark.timeout(100)
def test_tampered_answer_fingerprint_fails_and_server_serves_the_next_client():
    r = _run("tampered_fingerprint", 60)
    assert r["error"] is None, r["error"]
    t = r["tampered"]
    assert t["tamperedFingerprint"], "the answer had no a=fingerprint line to alter"
    assert t["connectionState"] == "failed", t
    assert "connected" not in t["states"], t["states"]
    # ICE got through; it is DTLS that refused the server's certificate.
    assert t["iceConnectionState"] in ("connected", "completed"), t
    assert r["tampered_stats"]["transport"]["dtlsState"] == "failed", r["tampered_stats"]
    for view in (r["tampered_server_view"], r["tampered_server_view_end"]):
        assert view is None or view.get("rtp_in", 0) == 0, view
    h = r["honest"]
    assert h["connectionState"] == "connected", h
    _assert_server_decrypts(r)
    assert r["server_exit"] == 0


if __name__ == "__main__":
    netns.scenario_main(SCENARIOS)
