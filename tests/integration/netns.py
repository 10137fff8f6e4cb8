"""Runs an interop scenario inside a fresh network namespace where `lo` is the only interface.

Media tests must not send a packet anywhere but loopback, and Chromium only uses
127.0.0.1 for WebRTC when loopback is all there is. So the pytest test (outside)
calls `run_scenario(__file__, "name")`, which starts

    unshare --net --pid --fork --mount-proc --kill-child \
        sh -c 'ip link set lo up && exec /usr/bin/python3 <test file> <name>'

and the same test file, run as a script (inside), starts the server binary and the
peer, runs the scenario function and prints its result as one JSON line. The PID
namespace makes cleanup certain: when the outer `unshare` dies (scenario done or
killed on timeout), the kernel kills everything that was started inside it.

A scenario is a function `scenario(out: dict) -> None` that fills `out` as it
goes; whatever it has filled in is reported even when it raises or runs out of
time, so a failing test still shows the server log, the stats and the browser
console. Each scenario has a time budget (SIGALRM inside, a kill outside).
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import traceback
import urllib.error
import urllib.request
from pathlib import Path

PYTHON = "/usr/bin/python3"
RESULT_PREFIX = "@@scenario-result@@ "
# Seconds a scenario may run inside the namespace; the outer kill comes later.
DEFAULT_BUDGET = 60
OUTER_GRACE = 20


class ScenarioTimeout(Exception):
    pass


def _unshare_command(script, args):
    cmd = ["unshare", "--net", "--pid", "--fork", "--mount-proc", "--kill-child"]
    if os.geteuid() != 0:
        # Without root, a user namespace grants the rights to own the others.
        cmd.append("--map-root-user")
    # sh brings lo up, then becomes the scenario ("$0" "$@"), with no quoting to get wrong.
    return cmd + ["sh", "-c", 'ip link set lo up && exec "$0" "$@"', PYTHON, "-u", str(script),
                  *args]


_UNCHECKED = object()
_support = _UNCHECKED


def unsupported_reason():
    """Why scenarios cannot run here, or None when they can (checked once)."""
    global _support
    if _support is _UNCHECKED:
        _support = _probe_support()
    return _support


def _probe_support():
    if not shutil.which("unshare") or not shutil.which("ip"):
        return "unshare or ip is missing (util-linux, iproute2)"
    try:
        probe = subprocess.run(_unshare_command("/dev/null", []), capture_output=True, text=True,
                               timeout=20)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"cannot create a network namespace: {e}"
    if probe.returncode != 0:
        return "cannot create a network namespace: " + probe.stderr.strip()
    return None


class ScenarioResult(dict):
    """The scenario's `out` dict, plus how the process ended and what it printed."""

    def __init__(self, out, returncode, stderr, seconds):
        super().__init__(out)
        self.returncode = returncode
        self.stderr = stderr
        self.seconds = seconds

    def diagnostics(self):
        """Everything useful for a failure message, as text."""
        lines = [f"scenario exit code {self.returncode} after {self.seconds:.1f}s"]
        for key in sorted(self):
            if key in ("server_log", "browser_console", "traceback"):
                continue
            lines.append(f"{key}: {json.dumps(self[key], default=str)[:4000]}")
        if self.get("traceback"):
            lines.append("--- scenario traceback ---")
            lines.append(self["traceback"])
        if self.get("browser_console"):
            lines.append("--- browser console ---")
            lines += [json.dumps(e, default=str)[:500] for e in self["browser_console"][-80:]]
        if self.get("server_log"):
            lines.append("--- server log (tail) ---")
            lines.append(self["server_log"])
        if self.stderr:
            lines.append("--- scenario stderr (tail) ---")
            lines.append(self.stderr[-6000:])
        return "\n".join(lines)


def skip_reason(*checks, aiortc=False):
    """Why a test module must be skipped here, or None: no namespace support, a
    failed extra check (a callable returning a reason or None), or with
    `aiortc`, aiortc/PyAV missing from this interpreter."""
    reason = unsupported_reason()
    for check in checks:
        reason = reason or check()
    if reason or not aiortc:
        return reason
    try:
        import aiortc as _aiortc  # noqa: F401
        import av  # noqa: F401
    except ImportError as e:
        return f"aiortc/PyAV missing: {e}"
    return None


def run_and_report(script, name, *args, budget=DEFAULT_BUDGET):
    """run_scenario(), printing the result's diagnostics (pytest shows them when the test fails)."""
    result = run_scenario(script, name, *args, budget=budget)
    print(result.diagnostics())
    return result


def run_scenario(script, name, *args, budget=DEFAULT_BUDGET):
    """Runs `script name args...` inside a new lo-only namespace; returns its result.

    The result always has "error" (None on success) and whatever the scenario
    recorded. The process is killed after budget + OUTER_GRACE seconds.
    """
    cmd = _unshare_command(Path(script).resolve(), [name, str(budget), *map(str, args)])
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=budget + OUTER_GRACE)
    except subprocess.TimeoutExpired:
        # Killing unshare kills its child (--kill-child), and with it the PID namespace.
        os.killpg(proc.pid, signal.SIGKILL)
        stdout, stderr = proc.communicate(timeout=10)
        stderr += f"\n[killed after {budget + OUTER_GRACE}s]"
    finally:
        if proc.poll() is None:  # interrupted (pytest-timeout, ^C): leave nothing behind
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    out = None
    for line in stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            out = json.loads(line[len(RESULT_PREFIX):])
    if out is None:
        out = {"error": "the scenario printed no result", "stdout_tail": stdout[-4000:]}
    return ScenarioResult(out, proc.returncode, stderr, time.monotonic() - start)


def scenario_main(scenarios):
    """Entry point of a test file run as a script inside the namespace.

    argv: <scenario name> <budget seconds> [args...]. Prints one result line.
    """
    name, budget, args = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    out = {"scenario": name, "error": None, "interfaces": [n for _, n in socket.if_nameindex()]}

    def on_alarm(signum, frame):
        raise ScenarioTimeout(f"scenario {name!r} ran out of its {budget}s budget")

    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(budget)
    start = time.monotonic()
    try:
        scenarios[name](out, *args)
    except BaseException as e:  # noqa: B036 - report everything, including the alarm
        out["error"] = f"{type(e).__name__}: {e}"
        out["traceback"] = traceback.format_exc()[-4000:]
    finally:
        signal.alarm(0)
    out["seconds"] = round(time.monotonic() - start, 2)
    sys.stdout.write(RESULT_PREFIX + json.dumps(out, default=str) + "\n")
    sys.stdout.flush()
    # Helper threads (log readers, media players) must not keep the namespace alive.
    os._exit(0)


class Deadline:
    """A point in time that every wait in a scenario is bounded by."""

    def __init__(self, seconds):
        self.end = time.monotonic() + seconds

    def left(self):
        return max(0.0, self.end - time.monotonic())

    def expired(self):
        return time.monotonic() >= self.end


# --- Inside the namespace: the server under test and its /stats --------------------------

def start_server(out):
    """Starts the real binary (conftest.ServerProcess) on loopback; records its port."""
    from conftest import ServerProcess
    server = ServerProcess()
    out["server_port"] = server.port
    return server


def stop_server(server, out, log_lines=200):
    """Stops the server; records its exit code and the tail of its log."""
    if server is None:
        return
    try:
        out["server_exit"] = server.stop(timeout=10)
    finally:
        out["server_log"] = "".join(server.lines[-log_lines:])


def check_server_alive(server, out, when):
    """Raises if the server process has exited; otherwise records /healthz."""
    try:
        out["healthz"] = http_get_json(server.http + "/healthz")
        error = None
    except (urllib.error.URLError, OSError, ValueError) as e:
        error = e
    try:
        code = server.proc.wait(timeout=1 if error else 0.01)
    except subprocess.TimeoutExpired:
        code = None
    if code is not None:
        raise AssertionError(f"the server died {when} (exit code {code}); see its log")
    if error:
        raise AssertionError(f"/healthz failed {when}: {error}")


def http_get_json(url, timeout=3.0):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return json.loads(r.read())


def fetch_stats(server):
    """GET /stats, or {"unavailable": reason} when the server does not serve it."""
    try:
        return http_get_json(server.http + "/stats")
    except (urllib.error.URLError, OSError, ValueError) as e:
        return {"unavailable": f"{type(e).__name__}: {e}"}


def find_transport(stats, self_id):
    """The `transport` object of participant self_id in a /stats document, or None."""
    for room in stats.get("rooms", []) or []:
        for p in room.get("participants", []) or []:
            if p.get("self_id") == self_id:
                return p.get("transport") or {}
    return None


def wait_for_decrypted_rtp(server, self_id, out, timeout, min_rtp=50, growth_wait=1.5):
    """Polls /stats until self_id's transport is connected with more than min_rtp
    packets decrypted, then samples again to see the count grow.

    Records every sample in out["stats_samples"] (last few) and returns
    (first, second) transport dicts; raises TimeoutError with the last sample.
    """
    samples = out.setdefault("stats_samples", [])
    deadline = Deadline(timeout)

    def sample():
        stats = fetch_stats(server)
        t = find_transport(stats, self_id)
        samples.append({"t": round(time.monotonic(), 2), "transport": t} if t is not None
                       else {"t": round(time.monotonic(), 2), "stats": stats})
        del samples[:-6]
        return t

    first = None
    while not deadline.expired():
        t = sample()
        if t and t.get("state") == "connected" and int(t.get("rtp_in", 0)) > min_rtp:
            first = t
            break
        time.sleep(min(0.5, deadline.left()))
    if first is None:
        raise TimeoutError(f"/stats never showed {self_id} connected with rtp_in > {min_rtp} "
                           f"within {timeout}s; last sample: {samples[-1] if samples else None}")
    time.sleep(min(growth_wait, deadline.left()))
    second = sample() or {}
    return first, second
