"""One publisher restricted to one video codec, one subscriber: does the video get through?

Both pages are the real room page (web/index.html) in a Chromium of their own,
inside a lo-only network namespace (netns.py), at most two at a time. Before
the publisher's page loads, a small script (added through the DevTools
protocol, so it runs before the page's own) wraps
RTCPeerConnection.prototype.addTrack/addTransceiver: a video transceiver gets
setCodecPreferences([every profile of the codec under test, rtx]), so the
client library offers that codec alone. The subscriber is left alone: it must
accept what the server offers it for the publisher's track.

The publisher joins first. Once its encoder has settled (at the camera's full
size, no keyframe for a while), the subscriber joins with camera and microphone unticked: it only
receives, so the publisher sees no renegotiation (which can make Chromium's
encoder emit a keyframe of its own), and the new subscription meets delta
frames, has to wait for a keyframe and the server asks the publisher for one.

A scenario records, whether it gets there or not: the browser's codec
capabilities, both pages' inbound/outbound RTP with their codecs, the video
m-sections of the SDPs on both legs, the server's /stats and the error lines
of its log.
"""
import re
import time

import room_scenarios as rooms

VIDEO_CODECS = ("VP8", "VP9", "H264", "AV1")
# Waits: Chromium start-up and ICE/DTLS on a shared machine, then the first keyframe.
CONNECT_WAIT = 25
RECEIVE_WAIT = 25
GROWTH_GAP = 2.0
# The publisher counts as settled after this long without a new keyframe.
SETTLE_QUIET = 1.5
SETTLE_LIMIT = 15

# On a room page not yet joined: join to receive only (no camera, no microphone).
RECEIVE_ONLY_JS = r"""
for (const id of ['use-mic', 'use-cam']) {
  const box = document.getElementById(id);
  if (box) box.checked = false;
}
"""

# What this Chromium can send and receive of `codec` (arguments[0], e.g. "VP9").
CAPABILITIES_JS = r"""
const want = 'video/' + arguments[0].toLowerCase();
const list = (caps) => (caps ? caps.codecs : []).filter((c) => c.mimeType.toLowerCase() === want)
  .map((c) => c.sdpFmtpLine || '');
const names = (caps) => [...new Set((caps ? caps.codecs : []).map((c) => c.mimeType))];
return {send: list(RTCRtpSender.getCapabilities('video')), receive: list(RTCRtpReceiver.getCapabilities('video')),
        allSend: names(RTCRtpSender.getCapabilities('video')),
        allReceive: names(RTCRtpReceiver.getCapabilities('video'))};
"""

# Runs before any script of the page: every video transceiver the page creates for a
# track prefers `codec` (all its profiles, in the browser's order) plus rtx, and nothing
# else. window.sbCodecPrefs records what was applied. __CODEC__ is replaced.
CODEC_PREFERENCES_JS = r"""
(() => {
  const want = 'video/' + '__CODEC__'.toLowerCase();
  const state = window.sbCodecPrefs = {codec: '__CODEC__', applied: [], errors: []};
  const preferred = () => {
    const caps = RTCRtpReceiver.getCapabilities('video');
    const codecs = caps ? caps.codecs : [];
    const main = codecs.filter((c) => c.mimeType.toLowerCase() === want);
    const rtx = codecs.filter((c) => c.mimeType.toLowerCase() === 'video/rtx');
    return main.length ? [...main, ...rtx] : null;
  };
  const restrict = (transceiver, why) => {
    const codecs = preferred();
    if (!codecs) { state.errors.push(`${why}: no ${want} in the receiver capabilities`); return; }
    try {
      transceiver.setCodecPreferences(codecs);
      state.applied.push({why, codecs: codecs.map((c) => `${c.mimeType} ${c.sdpFmtpLine || ''}`.trim())});
    } catch (e) {
      state.errors.push(`${why}: ${e && e.message || e}`);
    }
  };
  const addTrack = RTCPeerConnection.prototype.addTrack;
  RTCPeerConnection.prototype.addTrack = function (track, ...streams) {
    const sender = addTrack.call(this, track, ...streams);
    if (track && track.kind === 'video') {
      const t = this.getTransceivers().find((x) => x.sender === sender);
      if (t) restrict(t, 'addTrack'); else state.errors.push('addTrack: no transceiver for the sender');
    }
    return sender;
  };
  const addTransceiver = RTCPeerConnection.prototype.addTransceiver;
  RTCPeerConnection.prototype.addTransceiver = function (trackOrKind, init) {
    const t = addTransceiver.call(this, trackOrKind, init);
    const kind = typeof trackOrKind === 'string' ? trackOrKind : trackOrKind && trackOrKind.kind;
    const sends = !init || !init.direction || init.direction === 'sendrecv' || init.direction === 'sendonly';
    if (kind === 'video' && sends) restrict(t, 'addTransceiver');
    return t;
  };
})();
"""

# A room page's RTP streams with their codecs (getStats codecId -> codec), each inbound
# one labelled with its publisher; plus the video m-sections of both descriptions.
MEDIA_JS = r"""
const client = window.switchboard && window.switchboard.client;
if (!client || !client.pc) { done({error: 'no client'}); return; }
const byMid = new Map();
for (const [tr, info] of client._remoteByTransceiver) byMid.set(tr.mid ?? info.mid, info.publisherId);
const videoSections = (desc) => {
  if (!desc) return null;
  return desc.sdp.split(/\r\n(?=m=)/).filter((s) => s.startsWith('m=video')).map((s) => s.split('\r\n')
    .filter((l) => /^(m=|a=mid|a=rtpmap|a=fmtp|a=msid|a=(send|recv|inactive)|a=rtcp-fb:\d+ (nack|ccm))/.test(l)));
};
client.pc.getStats().then((report) => {
  const all = {};
  report.forEach((s) => { all[s.id] = s; });
  const codec = (s) => {
    const c = all[s.codecId];
    return c ? {mimeType: c.mimeType, payloadType: c.payloadType, sdpFmtpLine: c.sdpFmtpLine || null} : null;
  };
  const pick = (s, keys) => Object.fromEntries(keys.filter((k) => s[k] !== undefined).map((k) => [k, s[k]]));
  const inbound = [], outbound = [];
  for (const s of Object.values(all)) {
    if (s.type === 'inbound-rtp') {
      inbound.push({publisherId: byMid.get(s.mid) ?? null, codec: codec(s), ...pick(s, ['mid', 'kind', 'ssrc',
        'packetsReceived', 'packetsLost', 'framesDecoded', 'keyFramesDecoded', 'framesDropped', 'frameWidth',
        'frameHeight', 'totalSamplesReceived', 'decoderImplementation', 'pliCount', 'firCount', 'nackCount'])});
    } else if (s.type === 'outbound-rtp') {
      const source = all[s.mediaSourceId] || {};
      outbound.push({codec: codec(s), sourceWidth: source.width ?? null, ...pick(s, ['mid', 'kind', 'ssrc', 'rid',
        'packetsSent', 'framesEncoded', 'keyFramesEncoded', 'frameWidth', 'frameHeight', 'encoderImplementation',
        'pliCount', 'firCount', 'nackCount', 'qualityLimitationReason'])});
    }
  }
  done({t: performance.now(), state: client.state, inbound, outbound,
        sdp: {local: videoSections(client.pc.localDescription),
              remote: videoSections(client.pc.remoteDescription)}});
}).catch((e) => done({error: String(e && e.stack || e)}));
"""

# spdlog's text lines: "<date> <time> <level> [module] message" (colour codes stripped).
_LOG_LINE = re.compile(r"^\S+ \S+ (trace|debug|info|warning|warn|error|critical)\s+\[")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def log_levels(lines):
    """(error lines, warning lines) of a server log."""
    errors, warnings = [], []
    for raw in lines:
        line = _ANSI.sub("", raw).rstrip("\n")
        m = _LOG_LINE.match(line)
        if not m:
            continue
        if m.group(1) in ("error", "critical"):
            errors.append(line)
        elif m.group(1) in ("warning", "warn"):
            warnings.append(line)
    return errors, warnings


def capability_gap(caps, codec):
    """Why this Chromium cannot take part with `codec`, or None."""
    missing = [side for side in ("send", "receive") if not caps.get(side)]
    if not missing:
        return None
    return (f"this Chromium cannot {' or '.join(missing)} {codec} "
            f"(sender capabilities {caps.get('allSend')}, receiver capabilities {caps.get('allReceive')})")


def _outbound_video(page):
    """(framesEncoded, keyFramesEncoded, frameWidth, source width) of the page's video sender, or None."""
    try:
        m = page.run_async(MEDIA_JS, timeout=10)
    except Exception:  # noqa: BLE001 - not yet
        return None
    video = [s for s in m.get("outbound", []) if s.get("kind") == "video"]
    if not video:
        return None
    v = video[0]
    return (v.get("framesEncoded", 0), v.get("keyFramesEncoded", 0), v.get("frameWidth", 0), v.get("sourceWidth"))


def wait_until_settled(page, samples, quiet=SETTLE_QUIET, limit=SETTLE_LIMIT):
    """Waits until the page encodes video at the full size of its source and has done so
    for `quiet` seconds without a new keyframe (at most `limit` seconds). Chromium starts
    below the camera's size and scales up as its bandwidth estimate grows; each step is a
    keyframe. Records [t, frames, keyframes, width, source width] samples; returns whether
    it settled."""
    t0 = time.monotonic()
    last, since = None, None
    while time.monotonic() - t0 < limit:
        v = _outbound_video(page)
        now = time.monotonic()
        if v is not None:
            samples.append([round(now - t0, 2), *v])
            frames, keys, width, source = v
            state = (keys, width)
            if frames > 0 and source and width >= source and state == last:
                if now - since >= quiet:
                    return True
            elif state != last:
                last, since = state, now
        time.sleep(0.25)
    return False


def _media(page, out, key):
    try:
        out[key] = page.run_async(MEDIA_JS, timeout=10)
    except Exception as e:  # noqa: BLE001 - recorded; the test decides
        out[key] = {"error": f"{type(e).__name__}: {e}"}


def scenario_codec(out, codec):
    codec = codec.upper()
    out["codec"] = codec
    server = None
    try:
        with rooms.Room(out, "codec-" + codec.lower()) as room:
            server = room.server
            pub = room.page("pub")
            pub.open("/healthz")
            caps = out["capabilities"] = pub.run(CAPABILITIES_JS, codec)
            gap = capability_gap(caps, codec)
            if gap:
                out["unsupported"] = gap
                return
            pub.browser.driver.execute_cdp_cmd(
                "Page.addScriptToEvaluateOnNewDocument",
                {"source": CODEC_PREFERENCES_JS.replace("__CODEC__", codec)})
            pub.open(room.index_path("pub"))
            _, out["pub_connect_seconds"] = rooms.wait_for(
                "pub connected", CONNECT_WAIT, lambda: pub.view().get("state") == "connected")
            out["codec_preferences"] = pub.run("return window.sbCodecPrefs || null;")

            sub = None
            try:
                # The subscriber's Chromium starts while the publisher settles; it joins after.
                sub = room.page("sub")
                sub.open(room.index_path("sub", autojoin=False))
                sub.run(RECEIVE_ONLY_JS)
                out["pub_settled"] = wait_until_settled(pub, out.setdefault("pub_keyframes", []))
                t0 = time.monotonic()
                sub.click("#join-button")
                expected = {"sub": {"pub": (1, 1)}}
                rooms.wait_for("sub decodes pub's video and receives its audio", RECEIVE_WAIT,
                               rooms.all_receiving([sub], expected))
                out["sub_receiving_seconds"] = round(time.monotonic() - t0, 2)
                out["growth"] = rooms.sample_growth([sub], expected, gap=GROWTH_GAP)["sub<-pub"]
            finally:
                _media(pub, out, "pub_media")
                if sub is not None:
                    _media(sub, out, "sub_media")
                out["server_stats_after"] = room.stats()
    finally:
        if server is not None:
            errors, warnings = log_levels(server.lines)
            out["server_log_errors"] = errors[:50]
            out["server_log_warnings"] = warnings[:50]


SCENARIOS = {"codec": scenario_codec}
