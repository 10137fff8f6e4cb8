"""Headless Chromium driven by selenium, and the seed client flow injected into a page.

Used inside a lo-only network namespace (see netns.py): there, with
--allow-loopback-in-peer-connection, Chromium gathers 127.0.0.1 host candidates.
The server only serves web/, so the client is injected with execute_script into
a page of the server's own (BLANK_PATH): same origin as the WebSocket, and a
secure context (http://127.0.0.1 counts as one), which getUserMedia needs.
"""
import json
import shutil
import tempfile
import time
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
# The page the client is injected into: same origin as the WebSocket, a secure context,
# and no script of its own that could join a room or grab the camera first.
BLANK_PATH = "/healthz"
CHROMEDRIVER = "/usr/bin/chromedriver"


def chromium_flags(profile_dir):
    return [
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run",
        f"--user-data-dir={profile_dir}", "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream", "--allow-loopback-in-peer-connection",
    ]


def missing_reason():
    """Why Chromium cannot be driven here, or None."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not Path(path).exists():
            return f"{path} is missing (scripts/setup installs chromium and chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "python3-selenium is missing"
    return None


class Browser:
    """One Chromium with a fresh profile; quit() (or the with-block) removes it all."""

    def __init__(self, page_load_timeout=20):
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        self._tmp = tempfile.mkdtemp(prefix="sb-chromium-")
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in chromium_flags(Path(self._tmp) / "profile"):
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver_log = Path(self._tmp) / "chromedriver.log"
        service = Service(CHROMEDRIVER, log_path=str(self.driver_log))
        self._console = []
        try:
            self.driver = webdriver.Chrome(service=service, options=options)
        except Exception:
            shutil.rmtree(self._tmp, ignore_errors=True)
            raise
        self.driver.set_page_load_timeout(page_load_timeout)
        self.driver.set_script_timeout(30)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.quit()

    def quit(self):
        try:
            self.console()  # keep what the page logged before it goes away
            self.driver.quit()
        except Exception:
            pass
        shutil.rmtree(self._tmp, ignore_errors=True)

    def open(self, url):
        self.driver.get(url)

    def new_tab(self, url):
        """Opens url in a new tab and switches to it; returns the tab's handle."""
        self.driver.switch_to.new_window("tab")
        self.driver.get(url)
        return self.driver.current_window_handle

    def switch_to(self, handle):
        self.driver.switch_to.window(handle)

    def run(self, js, *args):
        return self.driver.execute_script(js, *args)

    def run_async(self, js, *args, timeout=15):
        """Runs js with `done` (the callback) bound to its last argument; returns what it passes."""
        self.driver.set_script_timeout(timeout)
        return self.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];\n" + js, *args)

    def console(self):
        """Everything the browser logged so far (accumulated: the driver hands each entry once)."""
        try:
            self._console += self.driver.get_log("browser")
        except Exception:
            pass
        return list(self._console)


# The seed client's flow (see docs/protocol.md), with its state on window.sb for the test.
# Messages are handled one at a time in arrival order, so a `candidate` that follows the
# `answer` is added after setRemoteDescription has finished.
CLIENT_JS = r"""
window.sbStart = function (opts) {
  const sb = window.sb = {
    wsState: 'connecting', connectionState: 'new', iceConnectionState: 'new',
    states: [], events: [], errors: [], serverErrors: [], localCandidates: [],
    remoteCandidates: [], remoteTracks: 0, answered: false, offerSent: false,
    roomJoined: null, tamperedFingerprint: null,
  };
  const note = (e) => { sb.errors.push(String(e && e.stack || e)); console.error('sb:', e); };
  const ws = new WebSocket(opts.url);
  const send = (event, data) => ws.send(JSON.stringify({event, data}));
  const pc = new RTCPeerConnection({iceServers: []});
  sb.pc = pc;
  pc.onconnectionstatechange = () => {
    sb.connectionState = pc.connectionState;
    sb.states.push(pc.connectionState);
  };
  pc.oniceconnectionstatechange = () => { sb.iceConnectionState = pc.iceConnectionState; };
  pc.ontrack = () => { sb.remoteTracks += 1; };
  pc.onicecandidate = (e) => {
    if (!e.candidate) return;
    sb.localCandidates.push(e.candidate.candidate);
    send('ice-candidate', {room_id: opts.room, self_id: opts.selfId, candidate: e.candidate.toJSON()});
  };

  // Changes every fingerprint's last hex byte, keeping the line valid.
  const tamper = (sdp) => sdp.replace(/^(a=fingerprint:\S+ (?:[0-9A-Fa-f]{2}:)+)([0-9A-Fa-f]{2})/gm,
    (m, head, last) => head + ((parseInt(last, 16) ^ 0xff).toString(16).padStart(2, '0').toUpperCase()));

  const handle = async (msg) => {
    sb.events.push(msg.event);
    const data = typeof msg.data === 'string' ? JSON.parse(msg.data) : msg.data;
    switch (msg.event) {
      case 'roomJoined': sb.roomJoined = data; break;
      case 'error': sb.serverErrors.push(data); break;
      case 'answer': {
        let sdp = data.sdp;
        if (opts.tamperFingerprint) {
          sdp = tamper(sdp);
          sb.tamperedFingerprint = (sdp.match(/^a=fingerprint:.*$/m) || [null])[0];
        }
        await pc.setRemoteDescription({type: 'answer', sdp});
        sb.answered = true;
        break;
      }
      case 'candidate':
        sb.remoteCandidates.push(data.candidate);
        await pc.addIceCandidate(data);
        break;
      case 'offer': {
        await pc.setRemoteDescription(data);
        await pc.setLocalDescription(await pc.createAnswer());
        send('answer', {answer: pc.localDescription});
        break;
      }
    }
  };
  let chain = Promise.resolve();
  ws.onmessage = (m) => {
    chain = chain.then(() => handle(JSON.parse(m.data))).catch(note);
  };
  ws.onclose = () => { sb.wsState = 'closed'; };
  ws.onerror = () => { sb.errors.push('websocket error'); };
  ws.onopen = async () => {
    sb.wsState = 'open';
    try {
      send('joinRoom', {room_id: opts.room, self_id: opts.selfId});
      const stream = await navigator.mediaDevices.getUserMedia({audio: true, video: true});
      for (const track of stream.getTracks()) pc.addTrack(track, stream);
      await pc.setLocalDescription(await pc.createOffer());
      send('offer', {room_id: opts.room, self_id: opts.selfId, offer: pc.localDescription});
      sb.offerSent = true;
    } catch (e) { note(e); }
  };
};
"""

STATE_JS = r"""
const sb = window.sb;
if (!sb) return null;
const copy = {};
for (const k of Object.keys(sb)) if (k !== 'pc') copy[k] = sb[k];
copy.signalingState = sb.pc.signalingState;
return copy;
"""

# A compact summary of RTCPeerConnection.getStats(): what was sent and over which path.
STATS_JS = r"""
window.sb.pc.getStats().then((report) => {
  const all = {};
  report.forEach((s) => { all[s.id] = s; });
  const out = {outbound: {}, transport: null, pair: null};
  for (const s of Object.values(all)) {
    if (s.type === 'outbound-rtp') {
      const o = out.outbound[s.kind] = out.outbound[s.kind] || {packetsSent: 0, bytesSent: 0};
      o.packetsSent += s.packetsSent || 0;
      o.bytesSent += s.bytesSent || 0;
    } else if (s.type === 'transport') {
      out.transport = {dtlsState: s.dtlsState, iceState: s.iceState, srtpCipher: s.srtpCipher,
                       dtlsCipher: s.dtlsCipher, tlsVersion: s.tlsVersion, dtlsRole: s.dtlsRole,
                       packetsSent: s.packetsSent, packetsReceived: s.packetsReceived};
      const pair = all[s.selectedCandidatePairId];
      if (pair) {
        const l = all[pair.localCandidateId] || {}, r = all[pair.remoteCandidateId] || {};
        out.pair = {state: pair.state, local: `${l.address}:${l.port}`,
                    remote: `${r.address}:${r.port}`, remoteType: r.candidateType};
      }
    }
  }
  done(out);
}).catch((e) => done({error: String(e)}));
"""


class SeedClient:
    """The injected client in one tab of a Browser."""

    def __init__(self, browser, ws_url, room, self_id, tamper_fingerprint=False):
        self.browser = browser
        self.handle = browser.driver.current_window_handle
        self.self_id = self_id
        browser.run(CLIENT_JS)
        browser.run("sbStart(arguments[0])", {"url": ws_url, "room": room, "selfId": self_id,
                                              "tamperFingerprint": tamper_fingerprint})

    def state(self):
        self.browser.switch_to(self.handle)
        return self.browser.run(STATE_JS)

    def stats(self):
        self.browser.switch_to(self.handle)
        return self.browser.run_async(STATS_JS, timeout=10)

    def wait(self, predicate, timeout, what):
        """Polls state() until predicate(state) holds; returns that state or raises."""
        end = time.monotonic() + timeout
        while True:
            st = self.state()
            if st and predicate(st):
                return st
            if time.monotonic() >= end:
                raise TimeoutError(f"{what} not reached within {timeout}s; client state: "
                                   f"{json.dumps(st, default=str)[:2000]}")
            time.sleep(0.2)
