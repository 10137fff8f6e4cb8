"""Fixtures that start the real switchboard binary for integration tests."""
import asyncio
import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("SWITCHBOARD_BIN", ROOT / "build" / "src" / "app" / "switchboard"))


class ServerProcess:
    """A running switchboard; `port` is the HTTP/WebSocket port it bound."""

    def __init__(self, *extra_args, env=None):
        if not BIN.exists():
            raise RuntimeError(f"{BIN} is missing: build first (scripts/test does)")
        args = [str(BIN), "--listen", "127.0.0.1", "--port", "0", "--udp-port", "0",
                "--log-level", "debug", *extra_args]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     env={**os.environ, **(env or {})}, text=True, bufsize=1)
        self.lines = []
        deadline = time.monotonic() + 10
        self.port = None
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.lines.append(line)
            m = re.search(r"listening on http://\S+:(\d+)/", line)
            if m:
                self.port = int(m.group(1))
                break
        if self.port is None:
            self.proc.kill()
            raise RuntimeError("server did not start:\n" + "".join(self.lines))
        # Keep draining output in the background so the pipe never fills.
        import threading
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self):
        for line in self.proc.stdout:
            self.lines.append(line)

    @property
    def url(self):
        return f"ws://127.0.0.1:{self.port}/"

    @property
    def http(self):
        return f"http://127.0.0.1:{self.port}"

    def log(self):
        return "".join(self.lines)

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._reader.join(timeout=2)
        return self.proc.returncode


@pytest.fixture
def server():
    s = ServerProcess()
    yield s
    code = s.stop()
    assert code == 0, f"server exited with {code}\n{s.log()}"


async def recv_json(ws, timeout=5.0):
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def recv_event(ws, event, timeout=5.0):
    """Receives until an event of the given name arrives; returns its data."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        left = deadline - asyncio.get_running_loop().time()
        if left <= 0:
            raise AssertionError(f"no {event!r} event within {timeout}s")
        msg = await recv_json(ws, left)
        if msg.get("event") == event:
            data = msg.get("data")
            return json.loads(data) if isinstance(data, str) else data


async def expect_silence(ws, seconds=0.3):
    """Asserts that nothing arrives on ws for a short while."""
    try:
        msg = await asyncio.wait_for(ws.recv(), seconds)
    except asyncio.TimeoutError:
        return
    raise AssertionError(f"unexpected message: {msg}")


def send(ws, event, data):
    return ws.send(json.dumps({"event": event, "data": data}))
