"""Signaling over the real binary: membership, the seed protocol, bad input, shutdown."""
import asyncio
import json
import signal
import urllib.error
import urllib.request

import pytest
import websockets

from conftest import ServerProcess, expect_silence, recv_event, recv_json, send


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 30))


async def join(url, room, self_id):
    ws = await websockets.connect(url, max_size=None)
    await send(ws, "joinRoom", {"room_id": room, "self_id": self_id})
    data = await recv_event(ws, "roomJoined")
    assert data["self_id"] == self_id
    return ws, data


def test_two_clients_see_each_other_join_and_leave(server):
    async def scenario():
        a, joined_a = await join(server.url, "lobby", "alice")
        assert joined_a["participants"] == []
        b, joined_b = await join(server.url, "lobby", "bob")
        assert joined_b["participants"] == ["alice"]
        assert (await recv_event(a, "participantJoined"))["self_id"] == "bob"
        await send(b, "leaveRoom", {"room_id": "lobby", "self_id": "bob"})
        left = await recv_event(a, "participantLeft")
        assert left == {"room_id": "lobby", "self_id": "bob", "reason": "left"}
        assert (await recv_event(b, "roomLeft"))["room_id"] == "lobby"
        # The same socket can join again after leaving.
        await send(b, "joinRoom", {"room_id": "lobby", "self_id": "bob"})
        assert (await recv_event(b, "roomJoined"))["participants"] == ["alice"]
        assert (await recv_event(a, "participantJoined"))["self_id"] == "bob"
        await a.close()
        await b.close()
    run(scenario())


def test_a_large_room_hears_of_joins_and_leaves_in_batches(server):
    """Past 50 members, joins and leaves reach members as one participantsChanged per half second."""
    async def scenario():
        first, _ = await join(server.url, "hall", "m00")
        others = [(await join(server.url, "hall", f"m{i:02d}"))[0] for i in range(1, 51)]
        for i in range(1, 51):  # the room is small enough for one event per join
            assert (await recv_event(first, "participantJoined"))["self_id"] == f"m{i:02d}"
        late = [(await join(server.url, "hall", f"late{i}"))[0] for i in range(5)]
        await others[9].close()  # m10
        changed = await recv_event(first, "participantsChanged", timeout=3)
        # A batch may close between the joins and the leave: gather until both are seen.
        joined, left = list(changed["joined"]), list(changed["left"])
        while len(joined) < 5 or not left:
            more = await recv_event(first, "participantsChanged", timeout=3)
            joined += more["joined"]
            left += more["left"]
        assert joined == [f"late{i}" for i in range(5)]
        assert left == [{"self_id": "m10", "reason": "disconnected"}]
        # A newcomer learns of what happened after it came, not of itself.
        mine = await recv_event(late[0], "participantsChanged", timeout=3)
        assert "late0" not in mine["joined"]
        for ws in [first, *others, *late]:
            await ws.close()
    run(scenario())


def test_closing_the_socket_is_a_leave(server):
    async def scenario():
        a, _ = await join(server.url, "r", "alice")
        b, _ = await join(server.url, "r", "bob")
        await recv_event(a, "participantJoined")
        await b.close()
        left = await recv_event(a, "participantLeft")
        assert left["self_id"] == "bob" and left["reason"] == "disconnected"
        # Rooms are independent: a third client in another room hears nothing.
        c, joined = await join(server.url, "other", "carol")
        assert joined["participants"] == []
        await expect_silence(c)
        await a.close()
        await c.close()
    run(scenario())


def test_same_self_id_from_second_socket_does_not_take_over(server):
    async def scenario():
        a, _ = await join(server.url, "r", "alice")
        imposter = await websockets.connect(server.url)
        await send(imposter, "joinRoom", {"room_id": "r", "self_id": "alice"})
        err = await recv_event(imposter, "error")
        assert err["code"] == "id-taken"
        await imposter.close()
        b, joined = await join(server.url, "r", "bob")
        assert joined["participants"] == ["alice"]  # the first alice is still there
        assert (await recv_event(a, "participantJoined"))["self_id"] == "bob"
        await a.close()
        await b.close()
    run(scenario())


BAD_INPUTS = [
    ("malformed json", '{"event": "joinRoom", "data": ', "bad-json", None),
    ("not an object", '[1, 2, 3]', "bad-json", None),
    ("unknown event", json.dumps({"event": "teleport", "data": {}}), "unknown-event", "teleport"),
    ("missing event", json.dumps({"data": {}}), "bad-message", None),
    ("join missing room_id", json.dumps({"event": "joinRoom", "data": {"self_id": "x"}}), "bad-room-id", "joinRoom"),
    ("join room_id wrong type", json.dumps({"event": "joinRoom", "data": {"room_id": 7, "self_id": "x"}}),
     "bad-room-id", "joinRoom"),
    ("join self_id wrong type", json.dumps({"event": "joinRoom", "data": {"room_id": "r", "self_id": ["x"]}}),
     "bad-self-id", "joinRoom"),
    ("empty room id", json.dumps({"event": "joinRoom", "data": {"room_id": "", "self_id": "x"}}),
     "bad-room-id", "joinRoom"),
    ("10 KB room id", json.dumps({"event": "joinRoom", "data": {"room_id": "r" * 10240, "self_id": "x"}}),
     "bad-room-id", "joinRoom"),
    ("offer before join", json.dumps({"event": "offer", "data": {"offer": {"type": "offer", "sdp": "v=0"}}}),
     "not-joined", "offer"),
    ("answer before join", json.dumps({"event": "answer", "data": {"answer": {"type": "answer", "sdp": "v=0"}}}),
     "not-joined", "answer"),
    ("candidate wrong type", json.dumps({"event": "ice-candidate", "data": {"candidate": 5}}), "bad-candidate",
     "ice-candidate"),
    ("data wrong type", json.dumps({"event": "joinRoom", "data": 12}), "bad-message", "joinRoom"),
]


@pytest.mark.parametrize("name,text,code,event", BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_bad_input_gets_error_and_socket_stays_open(server, name, text, code, event):
    async def scenario():
        bystander, _ = await join(server.url, "room", "bystander")
        ws = await websockets.connect(server.url)
        await ws.send(text)
        err = await recv_event(ws, "error")
        assert err["code"] == code, err
        assert err["event"] == event
        assert isinstance(err["message"], str) and len(err["message"]) > 10
        # The socket is still usable: a valid join works afterwards.
        await send(ws, "joinRoom", {"room_id": "room", "self_id": "afterwards"})
        data = await recv_event(ws, "roomJoined")
        assert data["participants"] == ["bystander"]
        # The bystander only sees the valid join, nothing of the bad input.
        assert (await recv_event(bystander, "participantJoined"))["self_id"] == "afterwards"
        await expect_silence(bystander, 0.2)
        await ws.close()
        await bystander.close()
    run(scenario())


def test_binary_frame_is_rejected(server):
    async def scenario():
        ws = await websockets.connect(server.url)
        await ws.send(b"\x00\x01\x02")
        err = await recv_event(ws, "error")
        assert err["code"] == "binary-frame"
        await send(ws, "joinRoom", {"room_id": "r", "self_id": "x"})
        await recv_event(ws, "roomJoined")
        await ws.close()
    run(scenario())


def test_second_room_on_same_socket_is_rejected(server):
    async def scenario():
        ws, _ = await join(server.url, "first", "alice")
        await send(ws, "joinRoom", {"room_id": "second", "self_id": "alice"})
        err = await recv_event(ws, "error")
        assert err["code"] == "already-joined"
        assert "first" in err["message"]
        other, joined = await join(server.url, "first", "bob")
        assert joined["participants"] == ["alice"]
        await ws.close()
        await other.close()
    run(scenario())


def test_oversized_message_closes_with_1009_and_others_carry_on(server):
    async def scenario():
        bystander, _ = await join(server.url, "room", "bystander")
        ws = await websockets.connect(server.url, max_size=None)
        try:
            # The server may close before the last bytes of the frame are sent.
            await ws.send("x" * (1024 * 1024 + 1))
            await asyncio.wait_for(ws.recv(), 5)
        except websockets.ConnectionClosed:
            pass
        await asyncio.wait_for(ws.wait_closed(), 5)
        assert ws.close_rcvd is not None and ws.close_rcvd.code == 1009
        other, joined = await join(server.url, "room", "other")
        assert joined["participants"] == ["bystander"]
        await bystander.close()
        await other.close()
    run(scenario())


def test_offer_without_media_says_why(server):
    async def scenario():
        ws, _ = await join(server.url, "r", "alice")
        await send(ws, "offer", {"room_id": "r", "self_id": "alice", "offer": {"type": "offer", "sdp": "v=0\r\n"}})
        msg = await recv_json(ws)
        assert msg["event"] in ("answer", "error")
        await ws.close()
    run(scenario())


def test_http_static_files_health_and_traversal(server):
    with urllib.request.urlopen(server.http + "/healthz", timeout=5) as r:
        assert r.status == 200
        assert json.loads(r.read())["status"] == "ok"
    with urllib.request.urlopen(server.http + "/", timeout=5) as r:
        assert r.status == 200
        assert r.headers["Content-Type"].startswith("text/html")
        assert b"<" in r.read()
    for bad in ["/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/nonexistent.js", "/.git/config"]:
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(server.http + bad, timeout=5)
        assert e.value.code == 404


def test_stats_lists_participants_and_rooms_0_leaves_them_out(server):
    def get(path):
        with urllib.request.urlopen(server.http + path, timeout=5) as r:
            assert r.status == 200
            return json.loads(r.read())

    async def scenario():
        ws, _ = await join(server.url, "statsroom", "carol")
        full = get("/stats")
        rooms = {r["room_id"]: [p["self_id"] for p in r["participants"]] for r in full["rooms"]}
        assert rooms.get("statsroom") == ["carol"], full["rooms"]
        assert sum(w["participants"] for w in full["workers"]) == 1
        # Worker counters only (what a load generator polls in its measurement
        # window): the same workers and histogram, no participant detail.
        light = get("/stats?rooms=0")
        assert light["rooms"] == []
        assert [w["index"] for w in light["workers"]] == [w["index"] for w in full["workers"]]
        assert all("forward_delay_us" in w and "wakeups" in w for w in light["workers"])
        assert sum(w["participants"] for w in light["workers"]) == 1
        # A value that means nothing is refused with the reason, not guessed at.
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(server.http + "/stats?rooms=yes", timeout=5)
        assert e.value.code == 400
        assert b"rooms must be 0" in e.value.read()
        assert [p["self_id"] for r in get("/stats?rooms=1")["rooms"] for p in r["participants"]] == ["carol"]
        await ws.close()
    run(scenario())


def test_websocket_on_other_paths_is_refused(server):
    async def scenario():
        with pytest.raises(Exception):
            await websockets.connect(server.url + "elsewhere")
        ws = await websockets.connect(server.url + "ws")
        await send(ws, "joinRoom", {"room_id": "r", "self_id": "x"})
        await recv_event(ws, "roomJoined")
        await ws.close()
    run(scenario())


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_clean_shutdown_tells_participants(sig):
    srv = ServerProcess()

    async def scenario():
        a, _ = await join(srv.url, "r", "alice")
        b, _ = await join(srv.url, "r", "bob")
        await recv_event(a, "participantJoined")
        srv.proc.send_signal(sig)
        for ws in (a, b):
            data = await recv_event(ws, "shutdown")
            assert "shutting down" in data["reason"]
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 5)
            assert closed.value.rcvd.code == 1001
    try:
        run(scenario())
    finally:
        code = srv.stop()
    assert code == 0, srv.log()
