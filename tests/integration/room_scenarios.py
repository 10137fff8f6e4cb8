"""Rooms of headless Chromiums running the real pages (web/index.html, web/seed.html).

The scenarios run inside a lo-only network namespace (netns.py): the test file
calls `netns.run_scenario(test_file, name)` and, run as a script in there,
`netns.scenario_main(SCENARIOS)`. Every Chromium is an instance of its own (one
page each, always in the foreground), at most four at a time, and each is
closed as soon as the scenario no longer needs it.

A scenario measures and records; the tests decide. Waits are given more time
than the bound a test asserts, so that a slow step shows how slow it was rather
than only that it timed out. Whatever was recorded is reported on failure too:
the server's log and /stats, and per page its client state, remote media and
console.

Run as a script outside the namespace, this module measures join-to-first-frame:
    /usr/bin/python3 tests/integration/room_scenarios.py --bench [--runs 5]
writes build/join_to_first_frame.json (or $SB_BENCH_OUT).
"""
import datetime
import json
import os
import statistics
import sys
import time
from pathlib import Path

import browser as chromium
import netns

ROOT = Path(__file__).resolve().parents[2]
BENCH_OUT_DEFAULT = ROOT / "build" / "join_to_first_frame.json"
MAX_BROWSERS = 4
# How often a wait looks again; each look is one round trip per page through chromedriver.
POLL_SECONDS = 0.15
# Waits for something a test bounds at 5 s get this long, to measure the actual time.
GENEROUS_WAIT = 15


# --- in-page scripts -----------------------------------------------------------------------

# What a room page (index.html) shows: client state, remote media per track (from the
# client's getStats), remoteSummary(), and the tiles with their video elements.
ROOM_VIEW_JS = r"""
const sbx = window.switchboard;
const tiles = () => [...document.querySelectorAll('#grid .tile')].filter((t) => t.id !== 'local-tile')
  .map((t) => {
    const v = t.querySelector('video');
    return {id: t.dataset.participantId || null, screen: t.classList.contains('screen'),
            videoWidth: v ? v.videoWidth : 0, currentTime: v ? v.currentTime : 0,
            paused: v ? v.paused : null};
  });
if (!sbx) { done({app: false, state: 'no-app', remote: [], summary: [], tiles: []}); return; }
const client = sbx.client;
if (!client) { done({app: true, state: sbx.state(), remote: [], summary: [], tiles: tiles()}); return; }
const liveTracks = new Map();
for (const info of client._remoteByTransceiver?.values() ?? []) liveTracks.set(info.track.id, info.track.readyState);
Promise.all([client.getStats(), sbx.remoteSummary()]).then(([st, summary]) => done({
  app: true, state: sbx.state(), selfId: client.selfId,
  signalingState: client.pc ? client.pc.signalingState : null,
  connectionState: client.pc ? client.pc.connectionState : null,
  participants: [...client.participants],
  remote: st.remote.map((r) => ({publisherId: r.publisherId, trackId: r.trackId, mid: r.mid, kind: r.kind,
    framesDecoded: r.framesDecoded ?? 0, totalSamplesReceived: r.totalSamplesReceived ?? 0,
    audioLevel: r.audioLevel ?? 0, frameWidth: r.frameWidth ?? 0, frameHeight: r.frameHeight ?? 0,
    bytesReceived: r.bytesReceived, packetsLost: r.packetsLost, readyState: liveTracks.get(r.trackId) ?? null})),
  outbound: st.outbound, candidatePair: st.candidatePair, summary, tiles: tiles(),
  screenSharing: !!client.screenTrack,
})).catch((e) => done({app: true, state: sbx.state(), error: String(e && e.stack || e),
                       remote: [], summary: [], tiles: tiles()}));
"""

# What the seed page shows: its state and the remote video elements.
SEED_VIEW_JS = r"""
const s = window.seedState;
if (!s) return null;
const videos = [...document.querySelectorAll('#videos video')].filter((v) => v.id !== 'local').map((v) => ({
  id: v.id, videoWidth: v.videoWidth, currentTime: v.currentTime, paused: v.paused,
  readyState: v.readyState, tracks: v.srcObject ? v.srcObject.getTracks().map((t) => t.kind) : []}));
return {connectionState: s.connectionState, remoteTracks: s.remoteTracks, errors: s.errors,
        selfId: s.selfId, events: s.events.slice(-20),
        signalingState: window.seedPc ? window.seedPc.signalingState : null, videos};
"""

# An animated canvas as a stand-in for a screen: captureStream only delivers frames
# when the canvas changes, so it is redrawn 20 times a second.
CANVAS_TRACK_JS = r"""
window.makeCanvasTrack = function () {
  const c = document.createElement('canvas');
  c.width = 640; c.height = 360;
  const g = c.getContext('2d');
  let n = 0;
  setInterval(() => {
    g.fillStyle = `hsl(${(n * 7) % 360}, 60%, 35%)`;
    g.fillRect(0, 0, c.width, c.height);
    g.fillStyle = '#fff';
    g.font = '48px sans-serif';
    g.fillText(`screen ${n++}`, 40, 190);
  }, 50);
  return c.captureStream(20).getVideoTracks()[0];
};
"""

# Makes the server's next offer cross one of ours, as if the network delayed it: the
# next `offer` (and everything after it, in order) is held back; a screen share starts,
# the client offers, and only once our offer is out is the server's delivered. The
# client then sees the server's offer in have-local-offer, and the server sees our
# offer while its own is outstanding: glare on both sides.
GLARE_ARM_JS = CANVAS_TRACK_JS + r"""
const client = window.switchboard.client;
const ws = client.ws;
const original = ws.onmessage;
const g = window.glare = {armed: true, heldAt: null, releasedAt: null, stateAtRelease: null,
                          queued: 0, logs: [], error: null, sharing: false};
client.addEventListener('log', (e) => g.logs.push(`${e.detail.level}: ${e.detail.message}`));
const queue = [];
let holding = false;
ws.onmessage = (m) => {
  let event = null;
  try { event = JSON.parse(m.data).event; } catch (e) { /* passed on as it is */ }
  if (holding) { queue.push(m); g.queued++; return; }
  if (event !== 'offer' || !g.armed) { original.call(ws, m); return; }
  g.armed = false;
  holding = true;
  queue.push(m);
  g.heldAt = performance.now();
  (async () => {
    try {
      await client.startScreenShare({track: window.makeCanvasTrack()});
      g.sharing = true;
      const end = performance.now() + 3000;
      while (client.pc.signalingState !== 'have-local-offer' && performance.now() < end) {
        await new Promise((r) => setTimeout(r, 5));
      }
      g.stateAtRelease = client.pc.signalingState;
    } catch (e) {
      g.error = String(e && e.stack || e);
    }
    g.releasedAt = performance.now();
    holding = false;
    for (const held of queue.splice(0)) original.call(ws, held);
  })();
};
return true;
"""

GLARE_STATE_JS = "return window.glare || null;"

# The transceivers of a room page that carry the given remote track ids, and whether they
# still receive: once a publisher is gone, the server's renegotiation makes its m-sections
# inactive (or reuses them, with new ids in the msid, for someone else).
RECEIVERS_JS = r"""
const ids = new Set(arguments[0]);
const client = window.switchboard && window.switchboard.client;
if (!client || !client.pc) return null;
return client.pc.getTransceivers().filter((t) => ids.has(t.receiver.track.id)).map((t) => ({
  mid: t.mid, currentDirection: t.currentDirection, direction: t.direction,
  trackId: t.receiver.track.id, muted: t.receiver.track.muted}));
"""

# Join-to-first-frame: t0 is the click on Join (capture phase, before the page's own
# handler); then every 50 ms the peer connection's stats are read until a remote video
# frame is decoded. Also notes when the client connected and when the first track came.
FIRST_FRAME_ARM_JS = r"""
const m = window.firstFrame = {t0: null, connected: null, track: null, frame: null, polls: 0, error: null};
window.addEventListener('click', (e) => {
  if (m.t0 === null && e.target.closest && e.target.closest('#join-button')) m.t0 = performance.now();
}, true);
const timer = setInterval(async () => {
  if (m.t0 === null) return;
  const client = window.switchboard && window.switchboard.client;
  const pc = client && client.pc;
  if (!pc) return;
  const now = performance.now();
  if (m.connected === null && client.state === 'connected') m.connected = now - m.t0;
  if (m.track === null && client.remoteStreams.size > 0) m.track = now - m.t0;
  m.polls++;
  try {
    const report = await pc.getStats();
    report.forEach((s) => {
      if (m.frame === null && s.type === 'inbound-rtp' && s.kind === 'video' && s.framesDecoded > 0) {
        m.frame = performance.now() - m.t0;
      }
    });
  } catch (e) { m.error = String(e); }
  if (m.frame !== null) clearInterval(timer);
}, 50);
return true;
"""

FIRST_FRAME_WAIT_JS = r"""
const limit = arguments[0];
const start = performance.now();
(function check() {
  const m = window.firstFrame;
  if (m.frame !== null || performance.now() - start > limit) { done(m); return; }
  setTimeout(check, 25);
})();
"""


# --- pages in browsers ---------------------------------------------------------------------

class Page:
    """One Chromium instance showing one page; `name` labels it in the record."""

    def __init__(self, room, name):
        self.room = room
        self.name = name
        self.browser = chromium.Browser()
        self.closed = False
        self.last_view = None

    def open(self, path):
        self.browser.open(self.room.server.http + path)

    def run(self, js, *args):
        return self.browser.run(js, *args)

    def run_async(self, js, *args, timeout=10):
        return self.browser.run_async(js, *args, timeout=timeout)

    def view(self):
        """The room page's view (ROOM_VIEW_JS), remembered for the record."""
        self.last_view = self.run_async(ROOM_VIEW_JS)
        return self.last_view

    def seed_view(self):
        self.last_view = self.run(SEED_VIEW_JS)
        return self.last_view

    def click(self, css):
        from selenium.webdriver.common.by import By
        self.browser.driver.find_element(By.CSS_SELECTOR, css).click()

    def close(self):
        """Closes Chromium (a tab closing, as far as the server can tell)."""
        if self.closed:
            return
        try:
            self.room.record_page(self)
        finally:
            self.closed = True
            self.browser.quit()


class Room:
    """The server plus the pages of one scenario; on exit records everything and cleans up."""

    def __init__(self, out, room_id):
        self.out = out
        self.room_id = room_id
        self.pages = []
        self.server = None

    def __enter__(self):
        self.server = netns.start_server(self.out)
        return self

    def page(self, name):
        if sum(not p.closed for p in self.pages) >= MAX_BROWSERS:
            raise RuntimeError(f"more than {MAX_BROWSERS} Chromium instances at once")
        p = Page(self, name)
        self.pages.append(p)
        return p

    def index_path(self, name, autojoin=True):
        return f"/?room={self.room_id}&name={name}" + ("&autojoin=1" if autojoin else "")

    def seed_path(self, autojoin=False):
        return f"/seed.html?room={self.room_id}" + ("&autojoin=1" if autojoin else "")

    def stats(self):
        return netns.fetch_stats(self.server)

    def record_page(self, page):
        """Keeps a page's last view and console (tagged with its name) in the record."""
        views = self.out.setdefault("final_views", {})
        try:
            views[page.name] = page.seed_view() if page.name.startswith("seed") else page.view()
        except Exception as e:  # noqa: BLE001 - a dead page still gets its console recorded
            views[page.name] = {"unavailable": f"{type(e).__name__}: {e}", "last_view": page.last_view}
        console = self.out.setdefault("browser_console", [])
        console += [{"page": page.name, **entry} for entry in page.browser.console()
                    if {"page": page.name, **entry} not in console]

    def __exit__(self, *exc):
        try:
            if self.server is not None and self.server.proc.poll() is None:
                self.out["server_stats"] = self.stats()
            for p in self.pages:
                if not p.closed:
                    p.close()
        finally:
            netns.stop_server(self.server, self.out, log_lines=150)


def wait_for(what, timeout, check, poll=POLL_SECONDS):
    """Calls check() until it returns something true; returns (value, seconds taken).

    check() returns a falsy value (or raises AssertionError) to mean "not yet".
    On timeout raises TimeoutError with the last reason.
    """
    start = time.monotonic()
    last = None
    while True:
        try:
            value = check()
            if value:
                return value, time.monotonic() - start
            last = value
        except AssertionError as e:
            last = str(e)
        if time.monotonic() - start >= timeout:
            raise TimeoutError(f"{what}: not reached within {timeout}s; last: {str(last)[:1500]}")
        time.sleep(poll)


# --- what a page receives --------------------------------------------------------------------

def tracks_of(view, publisher):
    return [r for r in view.get("remote", []) if r["publisherId"] == publisher]


def receiving(view, publisher, videos=1, audios=1):
    """Whether a view decodes `videos` video tracks and plays `audios` audio tracks of publisher."""
    ts = tracks_of(view, publisher)
    decoding = [t for t in ts if t["kind"] == "video" and t["framesDecoded"] > 0]
    hearing = [t for t in ts if t["kind"] == "audio" and (t["totalSamplesReceived"] > 0 or t["audioLevel"] > 0)]
    return len(decoding) >= videos and len(hearing) >= audios


def growth(first, second, publisher):
    """Per track of publisher (by track id): how much was decoded/received between two views."""
    before = {t["trackId"]: t for t in tracks_of(first, publisher)}
    rows = []
    for t in tracks_of(second, publisher):
        b = before.get(t["trackId"])
        if t["kind"] == "video":
            rows.append({"kind": "video", "trackId": t["trackId"], "frameWidth": t["frameWidth"],
                         "framesDecoded": [b["framesDecoded"] if b else None, t["framesDecoded"]]})
        else:
            rows.append({"kind": "audio", "trackId": t["trackId"], "audioLevel": t["audioLevel"],
                         "totalSamplesReceived": [b["totalSamplesReceived"] if b else None,
                                                  t["totalSamplesReceived"]]})
    return rows


def sample_growth(pages, expected, gap=2.0):
    """Two views of every page `gap` seconds apart; growth per (page, publisher).

    expected: {page name: {publisher: (videos, audios)}}. Returns {"page<-pub": rows}.
    """
    first = {p.name: p.view() for p in pages}
    time.sleep(gap)
    second = {p.name: p.view() for p in pages}
    out = {}
    for p in pages:
        for pub in expected[p.name]:
            out[f"{p.name}<-{pub}"] = growth(first[p.name], second[p.name], pub)
    return out


def all_receiving(pages, expected):
    """check() for wait_for: every page receives what `expected` says, else AssertionError."""
    def check():
        for p in pages:
            v = p.view()
            for pub, (videos, audios) in expected[p.name].items():
                if not receiving(v, pub, videos, audios):
                    raise AssertionError(f"{p.name} does not yet receive {videos} video/{audios} audio "
                                         f"from {pub}: state {v.get('state')}, tracks {tracks_of(v, pub)}")
        return True
    return check


def gone_from(page, publisher):
    """check(): publisher is no longer in the page's remoteSummary, tiles or live tracks."""
    def check():
        v = page.view()
        listed = [s for s in v.get("summary", []) if s["id"] == publisher]
        tiles = [t for t in v.get("tiles", []) if t["id"] == publisher]
        live = tracks_of(v, publisher)
        if listed or tiles or live:
            raise AssertionError(f"{page.name} still shows {publisher}: summary {listed}, "
                                 f"tiles {tiles}, tracks {live}")
        return True
    return check


def receivers_stopped(page, track_ids):
    """check(): none of the page's transceivers that carried track_ids still receives."""
    def check():
        rows = page.run(RECEIVERS_JS, list(track_ids))
        if rows is None:
            raise AssertionError(f"{page.name} has no peer connection")
        live = [r for r in rows if r["currentDirection"] in ("recvonly", "sendrecv")]
        if live:
            raise AssertionError(f"{page.name} still receives on {live}")
        return rows or [{"note": "no transceiver carries them any more"}]
    return check


def participant_media(stats, self_id):
    for room in stats.get("rooms", []) or []:
        for p in room.get("participants", []) or []:
            if p.get("self_id") == self_id:
                return p.get("media")
    return None


def expect_all(names, among, videos=1, audios=1):
    """{page: {every other publisher in `among`: (videos, audios)}} for pages `names`."""
    return {n: {pub: (videos, audios) for pub in among if pub != n} for n in names}


# --- scenarios ---------------------------------------------------------------------------------

def scenario_room(out):
    """Three join; one leaves by the Leave button; a fourth joins late; one closes its browser.

    At most three Chromiums run at once.
    """
    with Room(out, "t1") as room:
        names = ["a", "b", "c"]
        pages = {n: room.page(n) for n in names}
        for n in names:
            pages[n].open(room.index_path(n))
        # 1. Everyone decodes everyone else's video and receives their audio.
        three = out["three"] = {}
        expected = expect_all(names, names)
        _, three["seconds_to_receiving"] = wait_for(
            "a, b and c receive each other", 45, all_receiving(pages.values(), expected))
        three["growth"] = sample_growth(pages.values(), expected)
        three["views"] = {n: p.view() for n, p in pages.items()}
        three["server_stats"] = room.stats()

        # 2a. b clicks Leave: a and c drop b's tracks and tile, and stop receiving them.
        leave = out["leave"] = {}
        b_tracks = {n: [t["trackId"] for t in tracks_of(three["views"][n], "b")] for n in ("a", "c")}
        pages["b"].click("#leave-button")
        t0 = time.monotonic()
        for n in ("a", "c"):
            wait_for(f"{n} drops b", GENEROUS_WAIT, gone_from(pages[n], "b"))
            leave[f"{n}_seconds"] = round(time.monotonic() - t0, 2)
        for n in ("a", "c"):
            leave[f"{n}_receivers"], _ = wait_for(f"{n} stops receiving b's tracks", GENEROUS_WAIT,
                                                  receivers_stopped(pages[n], b_tracks[n]))
            leave[f"{n}_receivers_seconds"] = round(time.monotonic() - t0, 2)
        leave["b_view_after"] = pages["b"].view()
        pages["b"].close()
        leave["growth_after"] = sample_growth([pages["a"], pages["c"]], expect_all(["a", "c"], ["a", "c"]),
                                              gap=1.5)
        leave["server_stats"] = room.stats()

        # 3. d joins late (its Chromium is started first, so that only joining is timed).
        late = out["late"] = {}
        pages["d"] = d = room.page("d")
        t0 = time.monotonic()
        d.open(room.index_path("d"))
        late["page_load_seconds"] = round(time.monotonic() - t0, 2)
        wait_for("d receives a and c", GENEROUS_WAIT,
                 all_receiving([d], {"d": {"a": (1, 1), "c": (1, 1)}}))
        late["d_seconds"] = round(time.monotonic() - t0, 2)
        wait_for("a and c receive d", GENEROUS_WAIT,
                 all_receiving([pages["a"], pages["c"]], {"a": {"d": (1, 1)}, "c": {"d": (1, 1)}}))
        late["others_seconds"] = round(time.monotonic() - t0, 2)
        trio = ["a", "c", "d"]
        late["growth"] = sample_growth([pages[n] for n in trio], expect_all(trio, trio))
        late["views"] = {n: pages[n].view() for n in trio}
        late["server_stats"] = room.stats()

        # 2b. c's browser goes away without a word: a and d drop c.
        gone = out["closed"] = {}
        pages["c"].close()
        t0 = time.monotonic()
        for n in ("a", "d"):
            wait_for(f"{n} drops c", GENEROUS_WAIT, gone_from(pages[n], "c"))
            gone[f"{n}_seconds"] = round(time.monotonic() - t0, 2)
        gone["growth_after"] = sample_growth([pages["a"], pages["d"]], expect_all(["a", "d"], ["a", "d"]),
                                             gap=1.5)
        gone["server_stats"] = room.stats()


def scenario_glare(out):
    """a shares its screen while the server's offer announcing newcomer c is in flight to it."""
    with Room(out, "t4") as room:
        a, b = room.page("a"), room.page("b")
        c = room.page("c")  # started now, joins later
        a.open(room.index_path("a"))
        b.open(room.index_path("b"))
        wait_for("a and b receive each other", 45, all_receiving([a, b], expect_all(["a", "b"], ["a", "b"])))
        wait_for("a is stable", 10, lambda: a.view().get("signalingState") == "stable")
        out["offers_to_a_before"] = (participant_media(room.stats(), "a") or {}).get("offers_sent")
        a.run(GLARE_ARM_JS)
        t0 = time.monotonic()
        c.open(room.index_path("c"))
        wait_for("the server's offer reaches a", 20, lambda: (a.run(GLARE_STATE_JS) or {}).get("releasedAt"))
        out["glare"] = a.run(GLARE_STATE_JS)

        expected = {"a": {"b": (1, 1), "c": (1, 1)}, "b": {"a": (2, 1), "c": (1, 1)},
                    "c": {"a": (2, 1), "b": (1, 1)}}

        def converged():
            va = a.view()
            if va.get("signalingState") != "stable":
                raise AssertionError(f"a is in {va.get('signalingState')}")
            return all_receiving([a, b, c], expected)()

        wait_for("a stable, a receives c, b and c receive a's screen", 30, converged)
        out["converged_seconds"] = round(time.monotonic() - t0, 2)
        out["growth"] = sample_growth([a, b, c], expected)
        out["views"] = {p.name: p.view() for p in (a, b, c)}
        out["glare_final"] = a.run(GLARE_STATE_JS)
        out["server_stats_after"] = room.stats()


def scenario_seed(out):
    """Two seed-protocol pages, joined by clicking Join, see each other; then a room page joins."""
    with Room(out, "t5") as room:
        s1, s2 = room.page("seed1"), room.page("seed2")
        for p in (s1, s2):
            p.open(room.seed_path())
            p.click("#join")

        def plays(page, min_tracks, min_videos):
            def check():
                v = page.seed_view()
                if v is None or v["errors"]:
                    raise AssertionError(f"{page.name}: {v}")
                ok = [x for x in v["videos"] if x["videoWidth"] > 0 and not x["paused"]]
                if v["remoteTracks"] < min_tracks or len(ok) < min_videos:
                    raise AssertionError(f"{page.name}: {v['remoteTracks']} remote tracks, videos {v['videos']}")
                return v
            return check

        out["pair_seconds"] = round(wait_for("seed pages play each other", 45,
                                             lambda: plays(s1, 2, 1)() and plays(s2, 2, 1)())[1], 2)
        first = {p.name: p.seed_view() for p in (s1, s2)}
        time.sleep(1.5)
        out["pair"] = {p.name: {"first": first[p.name], "second": p.seed_view()} for p in (s1, s2)}

        # A room page (the client library) joins the seed pages.
        x = room.page("x")
        x.open(room.index_path("x"))
        ids = [out["pair"][n]["second"]["selfId"] for n in ("seed1", "seed2")]
        out["seed_ids"] = ids
        wait_for("seed pages and the room page see each other", 30,
                 lambda: plays(s1, 4, 2)() and plays(s2, 4, 2)()
                 and all_receiving([x], {"x": {i: (1, 1) for i in ids}})())
        first = {p.name: p.seed_view() for p in (s1, s2)}
        xv1 = x.view()
        time.sleep(1.5)
        out["trio"] = {p.name: {"first": first[p.name], "second": p.seed_view()} for p in (s1, s2)}
        xv2 = x.view()
        out["x_growth"] = {i: growth(xv1, xv2, i) for i in ids}
        out["server_stats_after"] = room.stats()


def _publisher_sample(page, t0):
    v = page.view()
    video = [o for o in v.get("outbound", []) if o["kind"] == "video"]
    pair = v.get("candidatePair") or {}
    return {"t": round(time.monotonic() - t0, 2), "state": v.get("state"),
            "availableOutgoingBitrate": pair.get("availableOutgoingBitrate"),
            "rtt": pair.get("currentRoundTripTime"),
            "video": [{k: o.get(k) for k in ("bitrate", "frameWidth", "frameHeight", "framesPerSecond",
                                               "qualityLimitationReason")} for o in video]}


def scenario_bwe(out):
    """The publisher's bandwidth estimate (fed by the server's transport-cc feedback) ramps up."""
    with Room(out, "t6") as room:
        pub, sub = room.page("pub"), room.page("sub")
        sub.open(room.index_path("sub"))
        t0 = time.monotonic()
        pub.open(room.index_path("pub"))
        _, out["pub_connected_seconds"] = wait_for(
            "pub connected", 30, lambda: pub.view().get("state") == "connected", poll=0.1)
        t0 = time.monotonic()  # the 15 s run from the publisher's connection
        samples = out["samples"] = []
        out["ramp_seconds"] = None
        while time.monotonic() - t0 < 15:
            s = _publisher_sample(pub, t0)
            samples.append(s)
            avail = s["availableOutgoingBitrate"] or 0
            reasons = [x["qualityLimitationReason"] for x in s["video"]]
            if out["ramp_seconds"] is None and avail > 1e6 and reasons and "bandwidth" not in reasons:
                out["ramp_seconds"] = s["t"]
                break
            time.sleep(0.5)
        # A little more, to see where it goes; when it did not get there in time, how long it takes.
        out["late_ramp_seconds"] = None
        extra_until = time.monotonic() + (3 if out["ramp_seconds"] is not None else 12)
        while time.monotonic() < extra_until:
            time.sleep(1.0)
            s = _publisher_sample(pub, t0)
            samples.append(s)
            reasons = [x["qualityLimitationReason"] for x in s["video"]]
            if (out["ramp_seconds"] is None and out["late_ramp_seconds"] is None
                    and (s["availableOutgoingBitrate"] or 0) > 1e6 and reasons and "bandwidth" not in reasons):
                out["late_ramp_seconds"] = s["t"]
                extra_until = min(extra_until, time.monotonic() + 2)
        out["sub_receives"] = receiving(sub.view(), "pub")
        # The subscriber's browser reports its downlink (REMB) once it has an
        # estimate, about a second into the media; a quick ramp can end the run
        # before that, so give it until then.
        def sub_reported():
            st = room.stats()
            m = participant_media(st, "sub") or {}
            return st if m.get("rembs_received", 0) > 0 else None
        try:
            stats, _ = wait_for("the subscriber's first REMB", 10, sub_reported, poll=0.5)
        except TimeoutError:
            stats = room.stats()
        out["pub_media"] = participant_media(stats, "pub")
        out["sub_media"] = participant_media(stats, "sub")


def scenario_first_frame(out, runs="5"):
    """A newcomer clicks Join; how long until it decodes the first frame of someone already there."""
    runs = int(runs)
    with Room(out, "t7") as room:
        pub = room.page("pub")
        joiner = room.page("joiner")
        pub.open(room.index_path("pub"))
        wait_for("pub connected", 30, lambda: pub.view().get("state") == "connected")
        measurements = out["runs"] = []
        for i in range(runs):
            joiner.open(room.index_path(f"j{i}", autojoin=False))
            joiner.run(FIRST_FRAME_ARM_JS)
            joiner.click("#join-button")
            m = joiner.run_async(FIRST_FRAME_WAIT_JS, 10000, timeout=15)
            measurements.append({k: (round(m[k]) if isinstance(m.get(k), (int, float)) else m.get(k))
                                 for k in ("connected", "track", "frame", "polls", "error")})
            # Leave (pagehide) before the next run, so that every newcomer is alone with pub.
            joiner.open("/healthz")
            name = f"j{i}"
            wait_for(f"{name} gone", 10, gone_from(pub, name))
        frames = [m["frame"] for m in measurements if m["frame"] is not None]
        out["median_ms"] = statistics.median(frames) if len(frames) == len(measurements) else None
        out["pub_media"] = participant_media(room.stats(), "pub")


SCENARIOS = {
    "room": scenario_room,
    "glare": scenario_glare,
    "seed": scenario_seed,
    "bwe": scenario_bwe,
    "first_frame": scenario_first_frame,
}


# --- outside: the join-to-first-frame record -----------------------------------------------------

def bench_out_path():
    return Path(os.environ.get("SB_BENCH_OUT") or BENCH_OUT_DEFAULT)


def write_first_frame_record(result, path=None):
    """Writes the first_frame scenario's numbers as JSON (median over the runs, in ms); returns the record."""
    path = Path(path) if path else bench_out_path()
    runs = result.get("runs", [])

    def median_of(key):
        xs = [r[key] for r in runs if r.get(key) is not None]
        return statistics.median(xs) if xs else None

    record = {
        "metric": "join_to_first_frame",
        "unit": "ms",
        "what": "a newcomer clicks Join on the room page until its first remote video frame is decoded "
                "(framesDecoded > 0, polled every 50 ms); one publisher in the room; headless Chromium, "
                "fake devices, loopback",
        "median_ms": result.get("median_ms"),
        "runs_ms": [r.get("frame") for r in runs],
        "median_connected_ms": median_of("connected"),
        "median_first_track_ms": median_of("track"),
        "runs": runs,
        "recorded_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "host_cpus": os.cpu_count(),
        "host_load_average_1m": round(os.getloadavg()[0], 2),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2) + "\n")
    return record


def _bench_main(argv):
    runs = 5
    if "--runs" in argv:
        runs = int(argv[argv.index("--runs") + 1])
    reason = netns.unsupported_reason() or chromium.missing_reason()
    if reason:
        sys.exit(f"cannot run: {reason}")
    result = netns.run_scenario(__file__, "first_frame", runs, budget=30 + 8 * runs)
    if result.get("error") or result.get("median_ms") is None:
        print(result.diagnostics())
        sys.exit(1)
    record = write_first_frame_record(result)
    print(f"join-to-first-frame median {record['median_ms']} ms over {len(record['runs_ms'])} runs "
          f"{record['runs_ms']} -> {bench_out_path()}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--bench":
        _bench_main(sys.argv[2:])
    else:
        netns.scenario_main(SCENARIOS)
