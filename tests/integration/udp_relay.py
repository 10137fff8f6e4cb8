"""A small lossy UDP relay to put between one WebRTC client and the server.

The server is ICE-lite: it only answers connectivity checks, so a client talks to
whatever address the server's candidates name. A test rewrites those candidates
to point at a relay (REWRITE_JS in a browser page, `rewrite_candidate_port` for a
Python peer), and the relay forwards:

    client ──► relay.port ──► (one upstream socket per client address) ──► server
    client ◄── relay.port ◄──────────────────────────────────────────────◄ server

Datagrams are classified as RFC 7983 §7 demultiplexes them (STUN, DTLS, RTP,
RTCP). SRTP leaves the RTP header in the clear, so the relay sees the SSRC,
sequence number and payload type of every media packet and can drop a seeded
fraction of them in one direction, recording what it dropped; it also counts
packets whose SSRC and sequence number already passed (duplicates).

Everything runs on one daemon thread and is bounded: the relay stops by itself
after `max_seconds`, and it never holds more than MAX_CLIENTS client addresses.
"""
import collections
import random
import re
import selectors
import socket
import threading
import time

MAX_CLIENTS = 8
MAX_DATAGRAM = 65535
# Dropped packets remembered for diagnostics; the counters keep counting past it.
MAX_RECORDED_DROPS = 2000
# Sequence numbers remembered per SSRC to spot a packet that passes twice.
DUPLICATE_WINDOW = 4096
MAX_SSRCS = 64

UP = "up"      # client → server
DOWN = "down"  # server → client


def classify(data):
    """RFC 7983 §7 first-byte demultiplexing, with RFC 5761 §4 for RTP vs RTCP."""
    if not data:
        return "empty"
    b = data[0]
    if b <= 3:
        return "stun"
    if 20 <= b <= 63:
        return "dtls"
    if 128 <= b <= 191:
        if len(data) >= 2 and 192 <= data[1] <= 223:
            return "rtcp"
        return "rtp" if len(data) >= 12 else "short"
    return "other"


def rtp_header(data):
    """(payload type, sequence number, ssrc) of an RTP packet (RFC 3550 §5.1)."""
    return data[1] & 0x7F, int.from_bytes(data[2:4], "big"), int.from_bytes(data[8:12], "big")


class UdpRelay:
    """Forwards datagrams between clients and one server address, dropping some.

    drop: fraction (0..1) of RTP packets to drop in `direction`.
    payload_types: if given, only RTP packets with these payload types may be dropped.
    seed: seeds the drop decisions.
    blocked_payload_types: RTP packets with these payload types are always dropped in
        `direction` (e.g. every RTX packet, to see what happens when nothing can be repaired).
    """

    def __init__(self, server_addr, drop=0.0, direction=UP, payload_types=None, seed=1,
                 max_seconds=60.0, host="127.0.0.1", blocked_payload_types=None):
        self.server_addr = tuple(server_addr)
        self.drop = float(drop)
        self.direction = direction
        self.payload_types = set(payload_types) if payload_types else None
        self.blocked = set(blocked_payload_types or ())
        self._rng = random.Random(seed)
        self.max_seconds = max_seconds
        self._listen = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._listen.bind((host, 0))
        self._listen.setblocking(False)
        self.address = self._listen.getsockname()
        self.port = self.address[1]
        self._upstream = {}    # client address → socket connected to the server
        self._client_of = {}   # upstream socket → client address
        self._upstream_names = {}  # "client ip:port" → "upstream ip:port", what the server sees
        self._sel = selectors.DefaultSelector()
        self._sel.register(self._listen, selectors.EVENT_READ, None)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.counts = {UP: {}, DOWN: {}}
        self.dropped = {UP: 0, DOWN: 0}
        self.dropped_by_pt = {}
        self.dropped_packets = []  # (direction, pt, seq, ssrc, seconds since start)
        self.rtp_by_pt = {UP: {}, DOWN: {}}
        self.refused_clients = 0
        # (direction, ssrc) → (deque, set) of the latest sequence numbers that passed.
        self._seen = {}
        self.duplicates = {UP: {}, DOWN: {}}  # by payload type
        self.duplicates_first = []
        self.first_seq = {}  # "direction/ssrc/pt" → first sequence number that passed
        self.errors = []
        self.started = None
        self.stopped_reason = None
        self._thread = threading.Thread(target=self._run, name=f"udp-relay-{self.port}", daemon=True)

    def start(self):
        self.started = time.monotonic()
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=3)
        for key in list(self._sel.get_map().values()):
            key.fileobj.close()
        self._sel.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- the loop ---------------------------------------------------------------------------

    def _run(self):
        end = self.started + self.max_seconds
        try:
            while not self._stop.is_set():
                left = end - time.monotonic()
                if left <= 0:
                    self.stopped_reason = f"ran for its {self.max_seconds}s"
                    return
                for key, _ in self._sel.select(timeout=min(0.2, left)):
                    if key.data is None:
                        self._drain_clients()
                    else:
                        self._drain_server(key.fileobj)
            self.stopped_reason = "stopped"
        except Exception as e:  # report, never raise on a helper thread
            self.errors.append(f"{type(e).__name__}: {e}")
            self.stopped_reason = "error"

    def _drain_clients(self):
        while True:
            try:
                data, client = self._listen.recvfrom(MAX_DATAGRAM)
            except (BlockingIOError, InterruptedError):
                return
            up = self._upstream.get(client)
            if up is None:
                if len(self._upstream) >= MAX_CLIENTS:
                    self.refused_clients += 1
                    continue
                up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                up.bind((self.address[0], 0))
                up.connect(self.server_addr)
                up.setblocking(False)
                self._upstream[client] = up
                self._client_of[up] = client
                with self._lock:
                    self._upstream_names["%s:%d" % client] = "%s:%d" % up.getsockname()
                self._sel.register(up, selectors.EVENT_READ, client)
            if self._should_drop(UP, data):
                continue
            try:
                up.send(data)
            except OSError as e:
                self._note_error(UP, e)

    def _drain_server(self, up):
        client = self._client_of[up]
        while True:
            try:
                data = up.recv(MAX_DATAGRAM)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as e:  # ICMP unreachable from an earlier send
                self._note_error(DOWN, e)
                return
            if self._should_drop(DOWN, data):
                continue
            try:
                self._listen.sendto(data, client)
            except OSError as e:
                self._note_error(DOWN, e)

    def _note_error(self, direction, e):
        if len(self.errors) < 20:
            self.errors.append(f"{direction}: {type(e).__name__}: {e}")

    def _should_drop(self, direction, data):
        kind = classify(data)
        with self._lock:
            c = self.counts[direction]
            c[kind] = c.get(kind, 0) + 1
            if kind != "rtp":
                return False
            pt, seq, ssrc = rtp_header(data)
            by_pt = self.rtp_by_pt[direction]
            by_pt[pt] = by_pt.get(pt, 0) + 1
            if not self._lose(direction, pt):
                self._note_passed(direction, pt, seq, ssrc)
                return False
            self.dropped[direction] += 1
            self.dropped_by_pt[pt] = self.dropped_by_pt.get(pt, 0) + 1
            if len(self.dropped_packets) < MAX_RECORDED_DROPS:
                self.dropped_packets.append(
                    (direction, pt, seq, ssrc, round(time.monotonic() - self.started, 3)))
            return True

    def _lose(self, direction, pt):
        if direction != self.direction:
            return False
        if pt in self.blocked:
            return True
        if self.drop <= 0 or (self.payload_types is not None and pt not in self.payload_types):
            return False
        # One draw per eligible packet, so a seed gives the same pattern of losses.
        return self._rng.random() < self.drop

    def _note_passed(self, direction, pt, seq, ssrc):
        """Counts a forwarded RTP packet whose SSRC and sequence number already passed."""
        key = (direction, ssrc)
        seen = self._seen.get(key)
        if seen is None:
            if len(self._seen) >= MAX_SSRCS:
                return
            seen = self._seen[key] = (collections.deque(), set())
            self.first_seq[f"{direction}/{ssrc}/{pt}"] = seq
        order, members = seen
        if seq in members:
            d = self.duplicates[direction]
            d[pt] = d.get(pt, 0) + 1
            if len(self.duplicates_first) < 20:
                self.duplicates_first.append(
                    (direction, pt, seq, ssrc, round(time.monotonic() - self.started, 3)))
            return
        order.append(seq)
        members.add(seq)
        if len(order) > DUPLICATE_WINDOW:
            members.discard(order.popleft())

    # -- reporting --------------------------------------------------------------------------

    def report(self):
        with self._lock:
            return {
                "listen": f"{self.address[0]}:{self.port}",
                "server": f"{self.server_addr[0]}:{self.server_addr[1]}",
                "drop": self.drop, "direction": self.direction,
                "payload_types": sorted(self.payload_types) if self.payload_types else None,
                "blocked_payload_types": sorted(self.blocked),
                "clients": [f"{a}:{p}" for a, p in self._upstream],
                "upstream": dict(self._upstream_names),
                "counts": {d: dict(v) for d, v in self.counts.items()},
                "rtp_by_pt": {d: {str(k): n for k, n in v.items()} for d, v in self.rtp_by_pt.items()},
                "dropped": dict(self.dropped),
                "dropped_by_pt": {str(k): n for k, n in self.dropped_by_pt.items()},
                "dropped_first": self.dropped_packets[:20],
                "duplicates": {d: {str(k): n for k, n in v.items()} for d, v in self.duplicates.items()},
                "duplicates_first": list(self.duplicates_first),
                "first_seq": dict(self.first_seq),
                "refused_clients": self.refused_clients,
                "errors": list(self.errors),
                "stopped_reason": self.stopped_reason,
            }


class RelaySet:
    """One relay per server UDP port (each media worker has its own), all alike."""

    def __init__(self, server_host, server_ports, **relay_args):
        self.relays = {int(p): UdpRelay((server_host, int(p)), **relay_args) for p in server_ports}

    def start(self):
        for r in self.relays.values():
            r.start()
        return self

    def stop(self):
        for r in self.relays.values():
            r.stop()

    def port_map(self):
        """{server port: relay port}, as strings (JSON object keys)."""
        return {str(p): r.port for p, r in self.relays.items()}

    def report(self):
        return {str(p): r.report() for p, r in self.relays.items()}

    def total(self, key, direction=UP):
        if key == "dropped":
            return sum(r.dropped[direction] for r in self.relays.values())
        return sum(r.counts[direction].get(key, 0) for r in self.relays.values())


_CANDIDATE = re.compile(r"^(a=)?(candidate:\S+ \d+ \S+ \d+ )(\S+) (\d+)( typ .*)$")


def rewrite_candidate_port(line, port_map, relay_host="127.0.0.1"):
    """The candidate line pointing at the relay for its port, or None to leave it out.

    Only IPv4 loopback candidates on a port in port_map are kept (rewritten); any
    other would let the client reach the server around the relay.
    """
    m = _CANDIDATE.match(line.strip())
    if not m:
        return line
    prefix, head, addr, port, tail = m.groups()
    relay = port_map.get(str(port))
    if addr != "127.0.0.1" or relay is None:
        return None
    return f"{prefix or ''}{head}{relay_host} {relay}{tail}"


def server_udp_ports(stats):
    """Every media worker's UDP port from a GET /stats document."""
    return [int(w["udp_port"]) for w in stats.get("workers", []) or [] if w.get("udp_port")]


# Injected into a page before its client starts (arguments[0]: {server port: relay port}).
# Wraps RTCPeerConnection so every remote description and trickled candidate names the
# relay instead of the server; candidates that would bypass it are left out. What was
# changed is kept on window.sbRelay for the diagnostics.
REWRITE_JS = r"""
const relay = window.sbRelay = {map: arguments[0], rewritten: [], removed: [], descriptions: 0};
const pattern = /^(a=)?(candidate:\S+ \d+ \S+ \d+ )(\S+) (\d+)( typ .*)$/;
const rewriteLine = (line) => {
  const m = line.trim().match(pattern);
  if (!m) return line;
  const port = relay.map[m[4]];
  if (m[3] !== '127.0.0.1' || port === undefined) {
    relay.removed.push(line);
    return null;
  }
  const out = `${m[1] || ''}${m[2]}127.0.0.1 ${port}${m[5]}`;
  relay.rewritten.push([line, out]);
  return out;
};
const rewriteSdp = (sdp) => sdp.split(/\r?\n/)
  .map((l) => (l.startsWith('a=candidate:') ? rewriteLine(l) : l))
  .filter((l) => l !== null).join('\r\n');
const setRemote = RTCPeerConnection.prototype.setRemoteDescription;
RTCPeerConnection.prototype.setRemoteDescription = function (desc, ...rest) {
  if (desc && desc.sdp) {
    relay.descriptions += 1;
    desc = {type: desc.type, sdp: rewriteSdp(desc.sdp)};
  }
  return setRemote.call(this, desc, ...rest);
};
const addCandidate = RTCPeerConnection.prototype.addIceCandidate;
RTCPeerConnection.prototype.addIceCandidate = function (c, ...rest) {
  if (c && c.candidate) {
    const line = rewriteLine(c.candidate);
    if (line === null) return Promise.resolve();
    c = {...c, candidate: line};
  }
  return addCandidate.call(this, c, ...rest);
};
"""
