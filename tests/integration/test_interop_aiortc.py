"""aiortc publishes audio and video to the real server over the seed protocol.

Each test runs a scenario of this file inside a lo-only network namespace
(netns.py): the server and the aiortc peer both start in there, so no packet
leaves loopback. Run one by hand with
    /usr/bin/python3 -m pytest tests/integration/test_interop_aiortc.py -v
"""
import asyncio

import pytest

import netns

ROOM = "interop"


_SKIP = netns.skip_reason(aiortc=True)
pytestmark = pytest.mark.skipif(_SKIP is not None, reason=str(_SKIP))


def _run(name, budget):
    return netns.run_and_report(__file__, name, budget=budget)


# --- scenarios (run inside the namespace) -------------------------------------------------

def scenario_offer_round_trip(out):
    """The peer gathers a loopback candidate, offers audio+video; the server replies."""
    from aiortc_peer import AiortcPeer

    server = netns.start_server(out)

    async def run():
        peer = AiortcPeer(server.url, ROOM, "aiortc-probe")
        try:
            await peer.start()
            await peer.wait_for(lambda: peer.room_joined is not None, 5, "roomJoined")
            await peer.wait_for(peer.answered_or_refused, 10, "an answer or an error")
        finally:
            out["peer"] = peer.report()
            await peer.close()

    try:
        asyncio.run(run())
        netns.check_server_alive(server, out, "after the peer closed")
    finally:
        netns.stop_server(server, out)


def scenario_media_flows(out):
    """ICE and DTLS complete, and the server decrypts the peer's RTP (GET /stats)."""
    from aiortc_peer import AiortcPeer

    server = netns.start_server(out)
    self_id = "aiortc-pub"

    async def run():
        peer = AiortcPeer(server.url, ROOM, self_id)
        try:
            await peer.start()
            await peer.wait_for(peer.answered_or_refused, 10, "an answer or an error")
            if peer.answer_sdp is None:
                raise AssertionError(f"the server refused the offer: {peer.server_errors}")
            await peer.wait_for(lambda: peer.pc.connectionState in ("connected", "failed", "closed"),
                                20, "connectionState connected")
            if peer.pc.connectionState != "connected":
                raise AssertionError(f"aiortc ended {peer.pc.connectionState}: {peer.describe()}")
            # The wait polls HTTP; keep it off the event loop, which must keep sending media.
            loop = asyncio.get_running_loop()
            first, second = await loop.run_in_executor(
                None, netns.wait_for_decrypted_rtp, server, self_id, out, 25)
            out["server_first"], out["server_second"] = first, second
            out["client_sent"] = await peer.outbound_stats()
        finally:
            out["peer"] = peer.report()
            await peer.close()

    try:
        asyncio.run(run())
        netns.check_server_alive(server, out, "after the peer closed")
    finally:
        netns.stop_server(server, out)


SCENARIOS = {
    "offer_round_trip": scenario_offer_round_trip,
    "media_flows": scenario_media_flows,
}


# --- tests (run by pytest, outside) -----------------------------------------------------

@pytest.mark.timeout(90)
def test_aiortc_offers_loopback_audio_and_video_and_gets_a_reply():
    r = _run("offer_round_trip", 40)
    assert r["error"] is None, r["error"]
    assert r["interfaces"] == ["lo"], "the scenario must run where loopback is the only interface"
    peer = r["peer"]
    assert peer["room_joined"]["participants"] == []
    offer = peer["offer"]
    assert offer["kinds"] == ["audio", "video"]
    assert any(" 127.0.0.1 " in c and "typ host" in c for c in offer["candidates"]), offer
    # Until the media path exists the reply is `media-unavailable`; either way the server
    # must reply, and stay healthy.
    assert "answer" in peer["events"] or peer["server_errors"], peer["events"]
    assert r["healthz"]["status"] == "ok"
    assert r["server_exit"] == 0


@pytest.mark.timeout(100)
def test_aiortc_connects_and_server_decrypts_its_rtp():
    r = _run("media_flows", 55)
    assert r["error"] is None, r["error"]
    peer = r["peer"]
    answer = peer["answer"]
    assert answer["ice_lite"] and answer["setup"] == ["setup:passive"], answer
    assert peer["connectionState"] == "connected"
    assert peer["iceConnectionState"] == "completed"
    assert set(peer["dtls"].values()) == {"connected"}, peer["dtls"]

    first, second = r["server_first"], r["server_second"]
    assert first["state"] == "connected"
    assert first["srtp_profile"], first
    assert first["remote"].startswith("127.0.0.1:"), first
    assert first["rtp_in"] > 50 and first["rtp_bytes_in"] > 0
    assert second["rtp_in"] > first["rtp_in"], "RTP stopped arriving"
    assert second["dropped_srtp"] <= max(5, second["rtp_in"] // 50), second
    # The server counts no more than what aiortc says it sent (read after the last sample);
    # the slack covers retransmissions, which aiortc leaves out of packetsSent.
    sent = sum(k["packetsSent"] for k in r["client_sent"].values())
    assert set(r["client_sent"]) == {"audio", "video"}
    assert second["rtp_in"] <= sent + sent // 10 + 20, (second, r["client_sent"])
    assert r["healthz"]["status"] == "ok"
    assert r["server_exit"] == 0


if __name__ == "__main__":
    netns.scenario_main(SCENARIOS)
