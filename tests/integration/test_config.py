"""Flags, environment variables and log formats of the real binary."""
import asyncio
import json
import os
import socket
import subprocess

import websockets

from conftest import BIN, ServerProcess, recv_event, send


def test_help_lists_every_flag_with_its_environment_variable():
    out = subprocess.run([str(BIN), "--help"], capture_output=True, text=True, timeout=10)
    assert out.returncode == 0
    for flag, env in [("--listen", "SWITCHBOARD_LISTEN"), ("--port", "SWITCHBOARD_PORT"),
                      ("--announce", "SWITCHBOARD_ANNOUNCE"), ("--udp-port", "SWITCHBOARD_UDP_PORT"),
                      ("--log-level", "SWITCHBOARD_LOG_LEVEL"), ("--log-format", "SWITCHBOARD_LOG_FORMAT"),
                      ("--web-root", "SWITCHBOARD_WEB_ROOT"), ("--workers", "SWITCHBOARD_WORKERS")]:
        assert flag in out.stdout and env in out.stdout, flag


def test_bad_flag_value_is_refused_with_a_reason():
    out = subprocess.run([str(BIN), "--log-level", "loud"], capture_output=True, text=True, timeout=10)
    assert out.returncode != 0
    assert "loud" in (out.stdout + out.stderr)


def test_environment_variable_sets_the_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "SWITCHBOARD_PORT": str(port), "SWITCHBOARD_LISTEN": "127.0.0.1",
           "SWITCHBOARD_UDP_PORT": "0"}
    proc = subprocess.Popen([str(BIN)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        async def probe():
            for _ in range(50):
                try:
                    return await websockets.connect(f"ws://127.0.0.1:{port}/")
                except OSError:
                    await asyncio.sleep(0.1)
            raise AssertionError("server did not listen on SWITCHBOARD_PORT")
        async def scenario():
            ws = await probe()
            await send(ws, "joinRoom", {"room_id": "r", "self_id": "x"})
            await recv_event(ws, "roomJoined")
            await ws.close()
        asyncio.run(scenario())
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0


def test_json_logs_are_one_object_per_line():
    srv = ServerProcess("--log-format", "json")
    try:
        async def scenario():
            ws = await websockets.connect(srv.url)
            # Quotes and backslashes in client input must not break the log format.
            await send(ws, "joinRoom", {"room_id": 'we"ird\\room', "self_id": 'x"y'})
            await recv_event(ws, "roomJoined")
            await ws.send("not json")
            await recv_event(ws, "error")
            await ws.close()
        asyncio.run(scenario())
    finally:
        assert srv.stop() == 0
    lines = [l for l in srv.lines if l.strip()]
    assert len(lines) >= 3
    records = [json.loads(l) for l in lines]
    assert all({"ts", "level", "module", "msg"} <= r.keys() for r in records)
    assert any(r["module"] == "signal" and 'we"ird\\room' in r["msg"] for r in records)
