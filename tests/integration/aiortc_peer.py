"""An aiortc (Debian's 1.4) client that speaks the seed protocol over `websockets`.

It publishes audio and video to the server like the seed browser client: joinRoom,
offer (aiortc puts its candidates in the SDP, so it does not trickle), answer →
setRemoteDescription, server `candidate` → addIceCandidate, server `offer` → answer.

Media is pre-encoded (VP8 in WebM, Opus in Ogg) and sent without re-encoding
(MediaPlayer(decode=False)), so a test costs little CPU. The files are made once
with PyAV and cached in the temp dir; if that fails, aiortc's synthetic tracks
(which encode on the fly) are used instead.
"""
import asyncio
import fractions
import json
import os
import tempfile
from pathlib import Path

import websockets

MEDIA_SECONDS = 20  # longer than any scenario sends: looping would restart the timestamps
MEDIA_CACHE = Path(tempfile.gettempdir()) / "switchboard-test-media-v1"


def use_loopback_only():
    """Makes aioice offer 127.0.0.1 as its only host address.

    aioice's Connection.gather_candidates() calls the module-level
    aioice.ice.get_host_addresses(use_ipv4=, use_ipv6=), which leaves out loopback.
    """
    import aioice.ice

    def loopback(use_ipv4, use_ipv6):
        return ["127.0.0.1"] if use_ipv4 else []

    aioice.ice.get_host_addresses = loopback


def _make_video(path, seconds=MEDIA_SECONDS, fps=15, width=320, height=240, gop=None):
    import av
    import numpy as np

    container = av.open(str(path), "w", format="webm")
    stream = container.add_stream("libvpx", rate=fps)
    stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
    stream.bit_rate = 150_000
    stream.codec_context.gop_size = gop or fps  # by default a key frame every second
    # One thread: libvpx's default threading crawls on a busy 2-core machine.
    stream.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0", "threads": "1"}
    xs, ys = np.arange(width)[None, :], np.arange(height)[:, None]
    for i in range(seconds * fps):
        img = np.zeros((height, width, 3), dtype=np.uint8)
        img[:, :, 0] = (xs + 4 * i) % 256
        img[:, :, 1] = (2 * ys) % 256
        bar = (3 * i) % (height - 20)
        img[bar:bar + 20, :, 2] = 255
        for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)
    container.close()


def _make_audio(path, seconds=MEDIA_SECONDS, rate=48000):
    import av
    import numpy as np

    container = av.open(str(path), "w", format="ogg")
    stream = container.add_stream("libopus", rate=rate)
    stream.bit_rate = 32_000
    stream.layout = "stereo"
    n = 960  # 20 ms
    for i in range(seconds * rate // n):
        t = (np.arange(n) + i * n) / rate
        tone = (0.3 * np.sin(2 * np.pi * 440 * t) * 32767).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(np.stack([tone, tone]).reshape(1, -1, order="F"),
                                           format="s16", layout="stereo")
        frame.sample_rate = rate
        frame.pts = i * n
        frame.time_base = fractions.Fraction(1, rate)
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)
    container.close()


# Pre-encoded clips by media kind: (file name, _make_video arguments).
VIDEO_CLIPS = {
    "files": ("video.webm", {}),  # 15 fps, a key frame every second
    # 30 fps, a key frame every other frame (67 ms): whenever a viewer joins,
    # the publisher's newest key frame is younger than the server's 100 ms
    # replay window, and a delta frame may follow it.
    "files-frequent-keyframes": ("video-key2.webm", {"fps": 30, "gop": 2}),
}


def media_files(cache=MEDIA_CACHE, kind="files"):
    """(video .webm, audio.ogg), made on first use; safe when several processes race."""
    cache.mkdir(parents=True, exist_ok=True)
    files = []
    video_name, video_args = VIDEO_CLIPS[kind]
    for name, make in ((video_name, lambda p: _make_video(p, **video_args)), ("audio.ogg", _make_audio)):
        path = cache / name
        if not path.exists():
            tmp = cache / f".{name}.{os.getpid()}.tmp{path.suffix}"
            make(tmp)
            os.replace(tmp, path)
        files.append(path)
    return tuple(files)


def media_tracks(kind="files"):
    """(audio track, video track, stop function, kind used). kind: one of VIDEO_CLIPS, or "synthetic"."""
    if kind in VIDEO_CLIPS:
        try:
            from aiortc.contrib.media import MediaPlayer

            video_file, audio_file = media_files(kind=kind)
            video = MediaPlayer(str(video_file), decode=False)
            audio = MediaPlayer(str(audio_file), decode=False)
            if video.video is not None and audio.audio is not None:
                def stop():
                    video.video.stop()
                    audio.audio.stop()
                return audio.audio, video.video, stop, kind
        except Exception as e:  # fall back to tracks that need no files
            print(f"aiortc_peer: pre-encoded media unavailable ({e}); using synthetic tracks")
    from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack

    audio, video = AudioStreamTrack(), VideoStreamTrack()

    def stop_synthetic():
        audio.stop()
        video.stop()
    return audio, video, stop_synthetic, "synthetic"


def sdp_summary(sdp):
    """What an SDP offers: media kinds, candidate lines, fingerprints, ice-lite, setup."""
    lines = sdp.splitlines()
    return {
        "kinds": [l.split()[0][2:] for l in lines if l.startswith("m=")],
        "candidates": [l[2:] for l in lines if l.startswith("a=candidate:")],
        "fingerprints": sorted({l[2:] for l in lines if l.startswith("a=fingerprint:")}),
        "setup": sorted({l[2:] for l in lines if l.startswith("a=setup:")}),
        "ice_lite": "a=ice-lite" in lines,
        "bundle": [l[2:] for l in lines if l.startswith("a=group:BUNDLE")],
    }


class AiortcPeer:
    """One publishing participant. Use inside a running event loop; close() when done."""

    def __init__(self, ws_url, room, self_id, media="files"):
        self.ws_url, self.room, self.self_id, self.media = ws_url, room, self_id, media
        self.ws = None
        self.pc = None
        self.events = []
        self.server_errors = []
        self.errors = []
        self.states = []
        self.ice_states = []
        self.remote_candidates = []
        self.room_joined = None
        self.offer_sdp = None
        self.answer_sdp = None
        self._reader = None
        self._stop_media = None
        self.media_used = None
        self._changed = asyncio.Event()

    async def start(self, timeout=10):
        """Joins, publishes audio and video and sends the offer (returns once it is sent)."""
        from aiortc import RTCConfiguration, RTCPeerConnection

        use_loopback_only()
        self.ws = await asyncio.wait_for(websockets.connect(self.ws_url, max_size=None), timeout)
        self._reader = asyncio.ensure_future(self._read())
        await self._send("joinRoom", {"room_id": self.room, "self_id": self.self_id})

        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))

        @self.pc.on("connectionstatechange")
        def on_state():
            self.states.append(self.pc.connectionState)
            self._changed.set()

        @self.pc.on("iceconnectionstatechange")
        def on_ice_state():
            self.ice_states.append(self.pc.iceConnectionState)
            self._changed.set()

        audio, video, self._stop_media, self.media_used = media_tracks(self.media)
        self.pc.addTrack(audio)
        self.pc.addTrack(video)
        # setLocalDescription gathers every candidate before it returns.
        await asyncio.wait_for(self.pc.setLocalDescription(await self.pc.createOffer()), timeout)
        self.offer_sdp = self.pc.localDescription.sdp
        await self._send("offer", {"room_id": self.room, "self_id": self.self_id,
                                   "offer": {"type": "offer", "sdp": self.offer_sdp}})

    async def _send(self, event, data):
        await self.ws.send(json.dumps({"event": event, "data": data}))

    async def _read(self):
        try:
            async for text in self.ws:
                msg = json.loads(text)
                self.events.append(msg.get("event"))
                try:
                    await self._handle(msg.get("event"), msg.get("data"))
                except Exception as e:
                    self.errors.append(f"{msg.get('event')}: {type(e).__name__}: {e}")
                self._changed.set()
        except websockets.ConnectionClosed:
            pass
        finally:
            self.events.append("<socket closed>")
            self._changed.set()

    async def _handle(self, event, data):
        from aiortc import RTCSessionDescription
        from aiortc.sdp import candidate_from_sdp

        if isinstance(data, str):
            data = json.loads(data)
        if event == "roomJoined":
            self.room_joined = data
        elif event == "error":
            self.server_errors.append(data)
        elif event == "answer":
            self.answer_sdp = data["sdp"]
            await self.pc.setRemoteDescription(RTCSessionDescription(sdp=data["sdp"], type="answer"))
        elif event == "candidate":
            line = data.get("candidate") or ""
            self.remote_candidates.append(line)
            if not line:
                return  # end of candidates: aiortc 1.4 has no public way to say it
            candidate = candidate_from_sdp(line.split(":", 1)[1] if line.startswith("candidate:") else line)
            candidate.sdpMLineIndex = data.get("sdpMLineIndex")
            candidate.sdpMid = data.get("sdpMid")
            if candidate.sdpMid is None and candidate.sdpMLineIndex is not None:
                # aiortc 1.4 matches by mid only.
                candidate.sdpMid = self.pc.getTransceivers()[candidate.sdpMLineIndex].mid
            await self.pc.addIceCandidate(candidate)
        elif event == "offer":
            await self.pc.setRemoteDescription(RTCSessionDescription(sdp=data["sdp"], type="offer"))
            await self.pc.setLocalDescription(await self.pc.createAnswer())
            await self._send("answer", {"answer": {"type": "answer", "sdp": self.pc.localDescription.sdp}})

    async def wait_for(self, predicate, timeout, what):
        """Waits until predicate() holds, re-checking on every event; raises TimeoutError."""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while not predicate():
            left = end - loop.time()
            if left <= 0:
                raise TimeoutError(f"{what} not reached within {timeout}s; {self.describe()}")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), min(left, 0.5))
            except asyncio.TimeoutError:
                pass

    def answered_or_refused(self):
        return self.answer_sdp is not None or bool(self.server_errors)

    async def outbound_stats(self):
        """{kind: {"packetsSent", "bytesSent"}} from aiortc's getStats()."""
        out = {}
        report = await asyncio.wait_for(self.pc.getStats(), 5)
        for s in report.values():
            if getattr(s, "type", None) == "outbound-rtp":
                o = out.setdefault(s.kind, {"packetsSent": 0, "bytesSent": 0})
                o["packetsSent"] += s.packetsSent
                o["bytesSent"] += s.bytesSent
        return out

    def dtls_states(self):
        seen = {}
        for t in self.pc.getTransceivers():
            if t.sender and t.sender.transport:
                seen[t.mid] = t.sender.transport.state
        return seen

    def describe(self):
        return json.dumps({
            "connectionState": self.pc.connectionState if self.pc else None,
            "iceConnectionState": self.pc.iceConnectionState if self.pc else None,
            "states": self.states, "events": self.events[-20:], "server_errors": self.server_errors,
            "errors": self.errors, "remote_candidates": self.remote_candidates[:8],
        })

    def report(self):
        """A JSON-friendly picture of this peer for a scenario result."""
        return {
            "self_id": self.self_id, "media": self.media_used,
            "connectionState": self.pc.connectionState if self.pc else None,
            "iceConnectionState": self.pc.iceConnectionState if self.pc else None,
            "states": self.states, "ice_states": self.ice_states,
            "dtls": self.dtls_states() if self.pc else {},
            "events": self.events[-30:], "server_errors": self.server_errors, "errors": self.errors,
            "room_joined": self.room_joined, "remote_candidates": self.remote_candidates[:8],
            "offer": sdp_summary(self.offer_sdp) if self.offer_sdp else None,
            "answer": sdp_summary(self.answer_sdp) if self.answer_sdp else None,
        }

    async def close(self):
        if self._stop_media:
            self._stop_media()
        if self.pc:
            try:
                await asyncio.wait_for(self.pc.close(), 5)
            except Exception:
                pass
        if self.ws:
            try:
                await asyncio.wait_for(self.ws.close(), 3)
            except Exception:
                pass
        if self._reader:
            self._reader.cancel()
