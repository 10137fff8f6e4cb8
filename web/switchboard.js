/**
 * Switchboard browser client: one WebSocket for signaling and one
 * RTCPeerConnection per participant, as described in docs/protocol.md.
 *
 * The server is the polite peer when both sides offer at once: it rolls its own
 * offer back when ours arrives, answers ours and offers again. So this client is
 * the impolite side and simply ignores a server offer that arrives while one of
 * its own offers is outstanding.
 *
 * Every signaling step (our offers, the server's answers, offers and candidates)
 * runs on one promise chain per session, so they are applied in the order they
 * happened even though each step is asynchronous.
 *
 * @module switchboard
 */

/** Connection states reported by the `state` event. */
export const States = Object.freeze({
  IDLE: 'idle',
  CONNECTING: 'connecting',
  CONNECTED: 'connected',
  RECONNECTING: 'reconnecting',
  DISCONNECTED: 'disconnected',
  FAILED: 'failed',
});

/** Separator between a display name and the suffix added when the id is taken. */
export const ID_SUFFIX_SEPARATOR = '~';

/** Reconnect delays grow 1 s, 2 s, 4 s, … and stop growing here. */
const MAX_BACKOFF_MS = 10_000;
const FIRST_BACKOFF_MS = 1_000;
/**
 * How long to wait for `roomJoined` before offering anyway: a server that only
 * speaks the seed protocol never sends it.
 */
const JOIN_REPLY_TIMEOUT_MS = 2_000;
/** Server candidates kept while no remote description exists yet. */
const MAX_PENDING_CANDIDATES = 64;
/** Attempts at a suffixed id after `id-taken`, per join. */
const MAX_ID_RETRIES = 5;
/** Rates are computed over at least this interval, whoever asks for stats. */
const MIN_STATS_INTERVAL_MS = 500;

/**
 * The server labels forwarded tracks with the publisher's id as the msid stream
 * id, which must be 1-64 token characters (RFC 8830 §2, token-char of RFC 4566
 * §9); it does not forward the tracks of a participant whose id is not one.
 */
const MAX_ID_LENGTH = 64;
const SUFFIX_LENGTH = ID_SUFFIX_SEPARATOR.length + 4;

function encodeIdPart(text) {
  // encodeURIComponent leaves only token characters, except "(" and ")";
  // "~" is escaped as well so that it only ever separates our suffix.
  return encodeURIComponent(text).replace(/[()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * The participant id used for a display name: percent-encoded so that any
 * name (spaces, accents, emoji) makes a valid msid, and short enough to leave
 * room for a suffix. Plain names like `alice` or `bob-42` are unchanged.
 * @param {string} name
 * @returns {string}
 */
export function participantIdFor(name) {
  let id = '';
  for (const ch of String(name).trim()) {
    const next = id + encodeIdPart(ch);
    if (next.length > MAX_ID_LENGTH - SUFFIX_LENGTH) break;
    id = next;
  }
  return id || 'guest';
}

/**
 * The name to show for a participant id: undoes {@link participantIdFor} and
 * drops the suffix added when the id was taken. Ids chosen by other clients
 * come back as they are.
 * @param {string} id a participant id
 * @returns {string}
 */
export function displayNameOf(id) {
  let base = String(id);
  const suffix = new RegExp(`${ID_SUFFIX_SEPARATOR}[a-z0-9]{4}$`);
  if (suffix.test(base) && base.length > SUFFIX_LENGTH) base = base.slice(0, -SUFFIX_LENGTH);
  try {
    return decodeURIComponent(base);
  } catch {
    return base;
  }
}

/** @returns {string} the signaling URL of the page's own server */
export function defaultSignalingUrl() {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/`;
}

function randomSuffix(n = 4) {
  const letters = 'abcdefghijkmnpqrstuvwxyz23456789';
  let s = '';
  const bytes = crypto.getRandomValues(new Uint8Array(n));
  for (const b of bytes) s += letters[b % letters.length];
  return s;
}


/**
 * @typedef {object} RemoteTrackInfo
 * @property {string} publisherId the participant who publishes it (the msid stream id)
 * @property {MediaStreamTrack} track
 * @property {string} kind 'audio' or 'video'
 * @property {string|null} mid the m-section it arrives on
 * @property {MediaStream} stream the publisher's stream in `remoteStreams`
 */

/**
 * @typedef {object} RemoteTrackStats
 * @property {string} publisherId
 * @property {string} trackId
 * @property {string|null} mid
 * @property {string} kind
 * @property {number} bitrate kbit/s received over the last interval
 * @property {number} bytesReceived
 * @property {number} packetsReceived
 * @property {number} packetsLost cumulative
 * @property {number} fraction fraction of packets lost over the last interval (0..1)
 * @property {number} jitter seconds
 * @property {number} [frameWidth]
 * @property {number} [frameHeight]
 * @property {number} [framesPerSecond]
 * @property {number} [framesDecoded]
 * @property {number} [audioLevel] 0..1
 * @property {number} [totalSamplesReceived]
 */

/**
 * @typedef {object} OutboundStats
 * @property {string} kind
 * @property {string|null} mid
 * @property {string|null} trackId the local track's id, when known
 * @property {string|null} rid the simulcast layer, if any
 * @property {number} bitrate kbit/s sent over the last interval
 * @property {number} bytesSent
 * @property {number} packetsSent
 * @property {number} [frameWidth]
 * @property {number} [frameHeight]
 * @property {number} [framesPerSecond]
 * @property {string} [qualityLimitationReason]
 */

/**
 * @typedef {object} ClientStats
 * @property {number} timestamp ms since the epoch
 * @property {RemoteTrackStats[]} remote one entry per remote track
 * @property {OutboundStats[]} outbound one entry per outgoing RTP stream
 * @property {{availableOutgoingBitrate: (number|null), currentRoundTripTime: (number|null),
 *   local: (string|null), remote: (string|null)}|null} candidatePair the selected pair
 */

/**
 * A participant in a Switchboard room.
 *
 * Events (all `CustomEvent`s; the payload is in `event.detail`):
 * - `state` `{state, previous}`: one of {@link States}.
 * - `joined` `{roomId, selfId, participants}`: the server accepted the join
 *   (`selfId` may carry a suffix when the chosen id was taken).
 * - `participant` `{id}`: someone is (or already was) in the room.
 * - `participantleft` `{id, reason}`: someone left.
 * - `track` `{publisherId, track, kind, mid, stream}`: a remote track started.
 * - `trackended` `{publisherId, track, kind, mid, stream}`: a remote track stopped.
 * - `servererror` `{code, message, event}`: the server rejected a message.
 * - `screenshare` `{active, track}`: screen sharing started or stopped.
 * - `localtrackschanged` `{}`: microphone or camera enabled state changed.
 * - `log` `{level, message}`: diagnostics.
 *
 * @example
 * const client = new SwitchboardClient({url: 'ws://localhost:8080/', room: 'demo', selfId: 'ada'});
 * client.addEventListener('track', (e) => show(e.detail.publisherId, e.detail.stream));
 * await client.join(await navigator.mediaDevices.getUserMedia({audio: true, video: true}));
 */
export class SwitchboardClient extends EventTarget {
  /**
   * @param {object} options
   * @param {string} [options.url] signaling WebSocket URL; defaults to this page's server
   * @param {string} options.room room id
   * @param {string} options.selfId the display name to join with; the id sent to the
   *   server is {@link participantIdFor}(selfId), which equals it for plain names
   * @param {RTCIceServer[]} [options.iceServers]
   * @param {boolean} [options.autoReconnect] reconnect after failures (default true)
   * @param {number} [options.maxReconnectAttempts] give up after this many (default: never)
   */
  constructor({url, room, selfId, iceServers = [], autoReconnect = true, maxReconnectAttempts = Infinity} = {}) {
    super();
    if (!room) throw new TypeError('room is required');
    if (!selfId) throw new TypeError('selfId is required');
    /** @type {string} */ this.url = url || defaultSignalingUrl();
    /** @type {string} */ this.room = String(room);
    /** The name chosen by the user. */
    this.displayName = String(selfId);
    /** The id made from the display name. */
    this.baseId = participantIdFor(this.displayName);
    /** The id the server knows us by: {@link baseId}, or it with a suffix while that is taken. */
    this.selfId = this.baseId;
    this.iceServers = iceServers;
    this.autoReconnect = autoReconnect;
    this.maxReconnectAttempts = maxReconnectAttempts;

    /** @type {RTCPeerConnection|null} the current peer connection */
    this.pc = null;
    /** @type {WebSocket|null} the current signaling socket */
    this.ws = null;
    /** @type {MediaStream|null} what we publish (not stopped by the client) */
    this.localStream = null;
    /** @type {Map<string, MediaStream>} publisher id → that publisher's active tracks */
    this.remoteStreams = new Map();
    /** @type {Set<string>} ids of the other participants in the room */
    this.participants = new Set();
    /** @type {MediaStreamTrack|null} */
    this.screenTrack = null;

    /** @type {string} */
    this._state = States.IDLE;
    this._session = null;
    this._leaving = false;
    this._reconnectAttempt = 0;
    this._reconnectTimer = null;
    /** @type {Map<RTCRtpTransceiver, RemoteTrackInfo>} */
    this._remoteByTransceiver = new Map();
    this._screenSender = null;
    this._prevStats = new Map();
    this._lastRates = new Map();
  }

  /** @returns {string} the current state, one of {@link States} */
  get state() {
    return this._state;
  }

  /** @returns {boolean} whether the microphone track is enabled (false without one) */
  get audioEnabled() {
    const t = this.localStream?.getAudioTracks()[0];
    return !!t && t.enabled;
  }

  /** @returns {boolean} whether the camera track is enabled (false without one) */
  get videoEnabled() {
    const t = this.localStream?.getVideoTracks()[0];
    return !!t && t.enabled;
  }

  /**
   * Joins the room and publishes `localStream`'s tracks.
   *
   * Resolves once the server accepted the join and our first offer is sent;
   * media connects afterwards (watch the `state` event). If that first attempt
   * fails, it rejects when retrying cannot help (the server refused the room or
   * id) or reconnecting is off; otherwise it resolves and keeps trying in the
   * background with backoff.
   *
   * @param {MediaStream|null} [localStream] audio and/or video to publish, or none
   * @returns {Promise<void>}
   */
  async join(localStream = null) {
    if (this._session || this._reconnectTimer) throw new Error('already joined');
    this.localStream = localStream;
    this._leaving = false;
    this._reconnectAttempt = 0;
    try {
      await this._connect();
    } catch (e) {
      if (!this.autoReconnect || this._leaving || e.fatal) {
        this._teardown();
        this._setState(States.FAILED);
        throw e;
      }
      this._scheduleReconnect(`join failed: ${e.message || e}`);
    }
  }

  /**
   * Leaves the room: tells the server, closes the socket and the peer connection.
   * Local camera/microphone tracks are left running (they belong to the caller);
   * a screen share is stopped.
   */
  leave() {
    this._leaving = true;
    clearTimeout(this._reconnectTimer);
    this._reconnectTimer = null;
    const s = this._session;
    if (s && s.ws.readyState === WebSocket.OPEN && s.joined) {
      s.send('leaveRoom', {room_id: this.room, self_id: this.selfId});
    }
    this._teardown();
    if (this.screenTrack) {
      const t = this.screenTrack;
      this.screenTrack = null;
      this._screenSender = null;
      t.stop();
      this._emit('screenshare', {active: false, track: t});
    }
    this._setState(States.DISCONNECTED);
  }

  /**
   * Mutes or unmutes the microphone. The track keeps flowing (as silence), so no
   * renegotiation is needed.
   * @param {boolean} enabled
   */
  setAudioEnabled(enabled) {
    for (const t of this.localStream?.getAudioTracks() ?? []) t.enabled = !!enabled;
    this._emit('localtrackschanged', {});
  }

  /**
   * Turns the camera picture on or off (black frames while off).
   * @param {boolean} enabled
   */
  setVideoEnabled(enabled) {
    for (const t of this.localStream?.getVideoTracks() ?? []) t.enabled = !!enabled;
    this._emit('localtrackschanged', {});
  }

  /**
   * Publishes the screen (or `options.track`) as an extra video track; the
   * browser's `negotiationneeded` leads to a new offer.
   * @param {object} [options]
   * @param {MediaStreamTrack} [options.track] publish this track instead of asking for the screen
   * @returns {Promise<MediaStreamTrack>} the shared track
   */
  async startScreenShare({track} = {}) {
    if (this.screenTrack) return this.screenTrack;
    if (!track) {
      const display = await navigator.mediaDevices.getDisplayMedia({video: true, audio: false});
      track = display.getVideoTracks()[0];
      if (!track) throw new Error('no screen track was granted');
    }
    if ('contentHint' in track && !track.contentHint) track.contentHint = 'detail';
    this.screenTrack = track;
    // Ending the share from the browser's own UI ends the track.
    track.addEventListener('ended', () => {
      if (this.screenTrack === track) this.stopScreenShare();
    });
    this._addScreenTrack();
    this._emit('screenshare', {active: true, track});
    return track;
  }

  /** Stops the screen share and unpublishes it (renegotiates). */
  stopScreenShare() {
    const track = this.screenTrack;
    if (!track) return;
    this.screenTrack = null;
    const pc = this.pc;
    if (pc && this._screenSender && pc.signalingState !== 'closed') {
      try {
        pc.removeTrack(this._screenSender);
      } catch (e) {
        this._log('warn', `removeTrack: ${e.message}`);
      }
    }
    this._screenSender = null;
    track.stop();
    this._emit('screenshare', {active: false, track});
  }

  /**
   * Statistics per remote track, per outgoing stream and for the selected
   * candidate pair. Rates are deltas against the previous sample taken at least
   * 500 ms earlier (by any caller).
   * @returns {Promise<ClientStats>}
   */
  async getStats() {
    const pc = this.pc;
    const out = {timestamp: Date.now(), remote: [], outbound: [], candidatePair: null};
    if (!pc || pc.connectionState === 'closed') return out;
    const report = await pc.getStats();
    const byId = new Map();
    report.forEach((s) => byId.set(s.id, s));

    const infoByTrackId = new Map();
    const infoByMid = new Map();
    for (const [tr, info] of this._remoteByTransceiver) {
      infoByTrackId.set(info.track.id, info);
      const mid = tr.mid ?? info.mid;
      if (mid != null) infoByMid.set(mid, info);
    }

    let transport = null;
    report.forEach((s) => {
      if (s.type === 'transport' && !transport) transport = s;
    });

    report.forEach((s) => {
      if (s.type === 'inbound-rtp') {
        const info = (s.mid != null && infoByMid.get(s.mid)) || infoByTrackId.get(s.trackIdentifier);
        if (!info) return;
        const rate = this._rate(`in:${s.id}`, s.timestamp, {bytes: s.bytesReceived ?? 0,
          packets: s.packetsReceived ?? 0, lost: s.packetsLost ?? 0});
        const entry = {
          publisherId: info.publisherId, trackId: info.track.id, mid: s.mid ?? info.mid,
          kind: s.kind ?? info.kind, bitrate: rate.kbps, bytesReceived: s.bytesReceived ?? 0,
          packetsReceived: s.packetsReceived ?? 0, packetsLost: s.packetsLost ?? 0,
          fraction: rate.fraction, jitter: s.jitter ?? 0,
        };
        if (entry.kind === 'video') {
          Object.assign(entry, {frameWidth: s.frameWidth ?? 0, frameHeight: s.frameHeight ?? 0,
            framesPerSecond: s.framesPerSecond ?? 0, framesDecoded: s.framesDecoded ?? 0});
        } else {
          Object.assign(entry, {audioLevel: s.audioLevel ?? 0, totalSamplesReceived: s.totalSamplesReceived ?? 0});
        }
        out.remote.push(entry);
      } else if (s.type === 'outbound-rtp') {
        const rate = this._rate(`out:${s.id}`, s.timestamp, {bytes: s.bytesSent ?? 0, packets: s.packetsSent ?? 0, lost: 0});
        const source = s.mediaSourceId ? byId.get(s.mediaSourceId) : null;
        const entry = {
          kind: s.kind, mid: s.mid ?? null, trackId: source?.trackIdentifier ?? null, rid: s.rid ?? null,
          bitrate: rate.kbps, bytesSent: s.bytesSent ?? 0, packetsSent: s.packetsSent ?? 0,
        };
        if (s.kind === 'video') {
          Object.assign(entry, {frameWidth: s.frameWidth ?? 0, frameHeight: s.frameHeight ?? 0,
            framesPerSecond: s.framesPerSecond ?? 0, qualityLimitationReason: s.qualityLimitationReason ?? 'none'});
        }
        out.outbound.push(entry);
      }
    });

    let pair = transport?.selectedCandidatePairId ? byId.get(transport.selectedCandidatePairId) : null;
    if (!pair) {
      report.forEach((s) => {
        if (!pair && s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') pair = s;
      });
    }
    if (pair) {
      const address = (c) => (c ? `${c.address ?? c.ip}:${c.port} ${c.protocol}` : null);
      out.candidatePair = {
        availableOutgoingBitrate: pair.availableOutgoingBitrate ?? null,
        currentRoundTripTime: pair.currentRoundTripTime ?? null,
        local: address(byId.get(pair.localCandidateId)),
        remote: address(byId.get(pair.remoteCandidateId)),
      };
    }
    return out;
  }

  /**
   * Remote media grouped by participant; what a test polls to see media flowing.
   * Participants without tracks are listed with `tracks: []`.
   * @returns {Promise<Array<{id: string, tracks: Array<{kind: string, framesDecoded: number,
   *   totalSamplesReceived: number, audioLevel: number, bytesReceived: number}>}>>}
   */
  async remoteSummary() {
    const stats = await this.getStats();
    const ids = new Set([...this.participants, ...this.remoteStreams.keys()]);
    const byId = new Map([...ids].map((id) => [id, {id, tracks: []}]));
    for (const r of stats.remote) {
      if (!byId.has(r.publisherId)) byId.set(r.publisherId, {id: r.publisherId, tracks: []});
      byId.get(r.publisherId).tracks.push({
        kind: r.kind, framesDecoded: r.framesDecoded ?? 0, totalSamplesReceived: r.totalSamplesReceived ?? 0,
        audioLevel: r.audioLevel ?? 0, bytesReceived: r.bytesReceived,
      });
    }
    return [...byId.values()];
  }

  // ---------------------------------------------------------------- internals

  _emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, {detail}));
  }

  _log(level, message) {
    (level === 'error' ? console.warn : console.debug)(`switchboard: ${message}`);
    this._emit('log', {level, message});
  }

  _setState(state) {
    if (state === this._state) return;
    const previous = this._state;
    this._state = state;
    this._emit('state', {state, previous});
  }

  _rate(key, timestamp, now) {
    const prev = this._prevStats.get(key);
    const last = this._lastRates.get(key) ?? {kbps: 0, fraction: 0};
    if (!prev) {
      this._prevStats.set(key, {timestamp, ...now});
      return last;
    }
    const dt = timestamp - prev.timestamp;
    if (dt < MIN_STATS_INTERVAL_MS) return last;
    const dBytes = Math.max(0, now.bytes - prev.bytes);
    const dPackets = Math.max(0, now.packets - prev.packets);
    const dLost = Math.max(0, now.lost - prev.lost);
    const rate = {
      kbps: Math.round((dBytes * 8) / dt),
      fraction: dPackets + dLost > 0 ? dLost / (dPackets + dLost) : 0,
    };
    this._prevStats.set(key, {timestamp, ...now});
    this._lastRates.set(key, rate);
    return rate;
  }

  /**
   * One attempt: socket, joinRoom (retrying a taken id with a suffix), peer
   * connection, first offer. Resolves when the offer is sent.
   */
  async _connect() {
    this._setState(this._reconnectAttempt > 0 ? States.RECONNECTING : States.CONNECTING);
    // Try the chosen name again: a suffix is only for while the old id is held.
    this.selfId = this.baseId;
    const s = this._openSession();
    await s.opened;
    await this._joinRoom(s);
    if (s !== this._session) throw new Error('session replaced');
    this._createPeerConnection(s);
    s.enqueue(() => this._offer(s, true));
    await s.chain;
  }

  _openSession() {
    const ws = new WebSocket(this.url);
    const s = {
      ws, pc: null, chain: Promise.resolve(), joined: false, closed: false,
      pendingCandidates: [], joinWaiter: null, offering: false,
    };
    s.send = (event, data) => {
      if (ws.readyState !== WebSocket.OPEN) return;
      ws.send(JSON.stringify({event, data}));
    };
    s.enqueue = (step) => {
      s.chain = s.chain.then(() => (s.closed ? undefined : step())).catch((e) => {
        if (!s.closed) this._log('error', `negotiation: ${e.message || e}`);
      });
      return s.chain;
    };
    s.opened = new Promise((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error(`cannot open ${this.url}`));
    });
    ws.onmessage = (m) => this._onMessage(s, m.data);
    ws.onclose = (e) => {
      if (s.joinWaiter) s.joinWaiter.reject(new Error(`socket closed (${e.code})`));
      if (s !== this._session || this._leaving) return;
      this._scheduleReconnect(`socket closed (${e.code}${e.reason ? ` ${e.reason}` : ''})`);
    };
    this._session = s;
    this.ws = ws;
    return s;
  }

  /** Sends joinRoom until the server accepts an id; seed servers never reply, so time out into success. */
  async _joinRoom(s) {
    for (let attempt = 0; ; attempt++) {
      const reply = new Promise((resolve, reject) => {
        s.joinWaiter = {resolve, reject};
      });
      s.send('joinRoom', {room_id: this.room, self_id: this.selfId});
      const timer = setTimeout(() => s.joinWaiter?.resolve({timedOut: true}), JOIN_REPLY_TIMEOUT_MS);
      let result;
      try {
        result = await reply;
      } finally {
        clearTimeout(timer);
        s.joinWaiter = null;
      }
      if (result.error) {
        if (result.error.code === 'id-taken' && attempt < MAX_ID_RETRIES) {
          const previous = this.selfId;
          this.selfId = `${this.baseId}${ID_SUFFIX_SEPARATOR}${randomSuffix()}`;
          this._log('info', `id "${previous}" is taken, joining as "${this.selfId}"`);
          continue;
        }
        const err = new Error(`${result.error.code}: ${result.error.message}`);
        err.code = result.error.code;
        // Retrying cannot fix a bad or taken id; "overloaded" may pass.
        err.fatal = err.code !== 'overloaded';
        throw err;
      }
      s.joined = true;
      const participants = (result.data?.participants ?? []).filter((id) => id !== this.selfId);
      this._emit('joined', {roomId: this.room, selfId: this.selfId, participants});
      for (const id of participants) this._addParticipant(id);
      return;
    }
  }

  _createPeerConnection(s) {
    const pc = new RTCPeerConnection({iceServers: this.iceServers, bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require'});
    s.pc = pc;
    this.pc = pc;
    this._remoteByTransceiver.clear();
    this._prevStats.clear();
    this._lastRates.clear();

    const tracks = this.localStream?.getTracks() ?? [];
    for (const t of tracks) pc.addTrack(t, this.localStream);
    // Without anything to publish, still offer to receive, so the transport
    // exists and the server has m-sections to send on.
    if (!tracks.length) {
      pc.addTransceiver('audio', {direction: 'recvonly'});
      pc.addTransceiver('video', {direction: 'recvonly'});
    }
    if (this.screenTrack) this._addScreenTrack();

    pc.onicecandidate = (e) => {
      if (s.closed || !e.candidate) return;
      s.send('ice-candidate', {room_id: this.room, self_id: this.selfId, candidate: e.candidate.toJSON()});
    };
    pc.onnegotiationneeded = () => {
      this._log('debug', 'negotiationneeded');
      if (s.closed || !s.joined) return;
      s.enqueue(() => this._offer(s, false));
    };
    pc.ontrack = (e) => this._onTrack(s, e);
    pc.onconnectionstatechange = () => this._onConnectionState(s);
  }

  _addScreenTrack() {
    const pc = this.pc;
    if (!pc || !this.screenTrack || pc.signalingState === 'closed') return;
    // A new m-section of its own. addTrack() would reuse a transceiver the
    // server created to send us someone else's video, and the server would not
    // take that as a publication. The stream is ours; the server relabels it.
    const tr = pc.addTransceiver(this.screenTrack, {direction: 'sendonly', streams: [new MediaStream([this.screenTrack])]});
    this._screenSender = tr.sender;
  }

  async _offer(s, initial) {
    const pc = s.pc;
    // Only offer from stable. Leaving stable clears the browser's pending
    // negotiation; once stable again it fires negotiationneeded if still needed.
    if (pc.signalingState !== 'stable') {
      this._log('debug', `not offering in ${pc.signalingState}`);
      return;
    }
    if (!initial && !pc.localDescription) return; // the initial offer is still queued
    this._log('debug', initial ? 'sending the first offer' : 'renegotiating');
    s.offering = true;
    try {
      await pc.setLocalDescription(await pc.createOffer());
      s.send('offer', {room_id: this.room, self_id: this.selfId, offer: pc.localDescription.toJSON()});
    } catch (e) {
      s.offering = false;
      throw e;
    }
  }

  _onMessage(s, raw) {
    if (s !== this._session) return;
    let msg;
    try {
      msg = JSON.parse(raw);
    } catch {
      this._log('error', 'server sent invalid JSON');
      return;
    }
    let data = msg.data;
    if (typeof data === 'string') {
      try {
        data = JSON.parse(data);
      } catch {
        this._log('error', `bad ${msg.event} payload`);
        return;
      }
    }
    switch (msg.event) {
      case 'roomJoined':
        s.joinWaiter?.resolve({data});
        break;
      case 'error':
        if (data?.event === 'joinRoom' && s.joinWaiter) {
          s.joinWaiter.resolve({error: data});
          break;
        }
        if (data?.event === 'offer') s.enqueue(() => this._rollback(s));
        this._emit('servererror', {code: data?.code, message: data?.message, event: data?.event ?? null});
        break;
      case 'participantJoined':
        if (data?.self_id && data.self_id !== this.selfId) this._addParticipant(data.self_id);
        break;
      case 'participantLeft':
        if (data?.self_id) this._removeParticipant(data.self_id, data.reason ?? 'left');
        break;
      case 'participantsChanged':  // a large room's joins and leaves, batched
        for (const id of Array.isArray(data?.joined) ? data.joined : []) {
          if (typeof id === 'string' && id !== this.selfId) this._addParticipant(id);
        }
        for (const left of Array.isArray(data?.left) ? data.left : []) {
          if (left?.self_id) this._removeParticipant(left.self_id, left.reason ?? 'left');
        }
        break;
      case 'roomLeft':
        if (!this._leaving) this._scheduleReconnect('the server ended our session');
        break;
      case 'shutdown':
        this._log('info', `server shutting down: ${data?.reason ?? ''}`);
        if (!this._leaving) this._scheduleReconnect('server shutdown');
        break;
      case 'answer':
        s.enqueue(() => this._onAnswer(s, data));
        break;
      case 'offer':
        s.enqueue(() => this._onServerOffer(s, data));
        break;
      case 'candidate':
        s.enqueue(() => this._onCandidate(s, data));
        break;
      default:
        break; // unknown extensions are ignored, as the protocol asks
    }
  }

  async _onAnswer(s, desc) {
    const pc = s.pc;
    if (!pc || pc.signalingState !== 'have-local-offer') {
      this._log('warn', 'ignoring an answer without an outstanding offer');
      return;
    }
    s.offering = false;
    await pc.setRemoteDescription({type: 'answer', sdp: desc.sdp});
    await this._flushCandidates(s);
    this._checkRemoteTracks();
  }

  /** The server rejected our offer: return to stable so later changes can be offered. */
  async _rollback(s) {
    s.offering = false;
    if (s.pc?.signalingState === 'have-local-offer') await s.pc.setLocalDescription({type: 'rollback'});
  }

  async _onServerOffer(s, desc) {
    const pc = s.pc;
    if (!pc) return;
    if (pc.signalingState === 'have-local-offer' || s.offering) {
      // Glare: we are the impolite side. The server rolls back, answers our
      // offer and then offers again.
      this._log('info', 'glare: ignoring the server offer while ours is outstanding');
      return;
    }
    await pc.setRemoteDescription({type: 'offer', sdp: desc.sdp});
    await this._flushCandidates(s);
    await pc.setLocalDescription(await pc.createAnswer());
    s.send('answer', {room_id: this.room, self_id: this.selfId, answer: pc.localDescription.toJSON()});
    this._checkRemoteTracks();
  }

  async _onCandidate(s, cand) {
    const pc = s.pc;
    if (!pc) return;
    if (!pc.remoteDescription) {
      if (s.pendingCandidates.length < MAX_PENDING_CANDIDATES) s.pendingCandidates.push(cand);
      return;
    }
    try {
      await pc.addIceCandidate(cand);
    } catch (e) {
      this._log('warn', `addIceCandidate: ${e.message}`);
    }
  }

  async _flushCandidates(s) {
    const list = s.pendingCandidates;
    s.pendingCandidates = [];
    for (const c of list) await this._onCandidate(s, c);
  }

  _onTrack(s, e) {
    if (s !== this._session) return;
    const tr = e.transceiver;
    const publisherId = e.streams[0]?.id || `unknown-${tr.mid ?? e.track.id}`;
    // A recycled m-section delivers a new track (or the same receiver track for
    // a new publisher) on the same transceiver: end what it carried before.
    const old = this._remoteByTransceiver.get(tr);
    if (old) this._endRemoteTrack(tr, old);
    if (!this.participants.has(publisherId)) this._addParticipant(publisherId);
    let stream = this.remoteStreams.get(publisherId);
    if (!stream) {
      stream = new MediaStream();
      this.remoteStreams.set(publisherId, stream);
    }
    stream.addTrack(e.track);
    const info = {publisherId, track: e.track, kind: e.track.kind, mid: tr.mid, stream};
    this._remoteByTransceiver.set(tr, info);
    for (const source of e.streams) {
      source.addEventListener('removetrack', (ev) => {
        const cur = this._remoteByTransceiver.get(tr);
        if (cur === info && ev.track === info.track) this._endRemoteTrack(tr, info);
      });
    }
    this._emit('track', {...info});
  }

  /** Ends remote tracks whose m-section no longer receives. */
  _checkRemoteTracks() {
    for (const [tr, info] of [...this._remoteByTransceiver]) {
      const dir = tr.currentDirection;
      if (tr.stopped || dir === 'inactive' || dir === 'sendonly' || dir === 'stopped') this._endRemoteTrack(tr, info);
    }
  }

  _endRemoteTrack(tr, info) {
    if (this._remoteByTransceiver.get(tr) !== info) return;
    this._remoteByTransceiver.delete(tr);
    info.stream.removeTrack(info.track);
    this._emit('trackended', {...info});
  }

  _addParticipant(id) {
    if (id === this.selfId || this.participants.has(id)) return;
    this.participants.add(id);
    this._emit('participant', {id});
  }

  _removeParticipant(id, reason) {
    for (const [tr, info] of [...this._remoteByTransceiver]) {
      if (info.publisherId === id) this._endRemoteTrack(tr, info);
    }
    this.remoteStreams.delete(id);
    if (this.participants.delete(id)) this._emit('participantleft', {id, reason});
  }

  _onConnectionState(s) {
    if (s !== this._session) return;
    const st = s.pc.connectionState;
    if (st === 'connected') {
      this._reconnectAttempt = 0;
      this._setState(States.CONNECTED);
    } else if (st === 'disconnected') {
      // Often transient (consent checks missed); ICE may recover by itself.
      this._setState(States.RECONNECTING);
    } else if (st === 'failed') {
      this._setState(States.FAILED);
      this._scheduleReconnect('media connection failed');
    } else if (st === 'connecting' && this._state !== States.RECONNECTING) {
      this._setState(States.CONNECTING);
    }
  }

  /** Closes the current session and forgets everyone in it. */
  _teardown() {
    const s = this._session;
    this._session = null;
    if (s) {
      s.closed = true;
      s.joinWaiter?.reject(new Error('closed'));
      s.ws.onclose = null;
      s.ws.onmessage = null;
      if (s.ws.readyState === WebSocket.OPEN || s.ws.readyState === WebSocket.CONNECTING) s.ws.close(1000);
      if (s.pc) {
        s.pc.onconnectionstatechange = null;
        s.pc.onnegotiationneeded = null;
        s.pc.onicecandidate = null;
        s.pc.ontrack = null;
        s.pc.close();
      }
    }
    this.pc = null;
    this.ws = null;
    this._screenSender = null;
    for (const id of [...this.participants]) this._removeParticipant(id, 'disconnected');
    for (const [tr, info] of [...this._remoteByTransceiver]) this._endRemoteTrack(tr, info);
    this.remoteStreams.clear();
  }

  _scheduleReconnect(reason) {
    if (this._leaving) return;
    this._teardown();
    if (!this.autoReconnect || this._reconnectAttempt >= this.maxReconnectAttempts) {
      this._log('error', `${reason}; giving up`);
      this._setState(States.FAILED);
      return;
    }
    if (this._reconnectTimer) return;
    const delay = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** this._reconnectAttempt);
    this._reconnectAttempt++;
    this._log('info', `${reason}; reconnecting in ${delay / 1000} s`);
    this._setState(States.RECONNECTING);
    this._reconnectTimer = setTimeout(async () => {
      this._reconnectTimer = null;
      if (this._leaving) return;
      try {
        await this._connect();
      } catch (e) {
        if (this._leaving) return;
        if (e.fatal) {
          this._teardown();
          this._log('error', `reconnect failed: ${e.message}`);
          this._emit('servererror', {code: e.code, message: e.message, event: 'joinRoom'});
          this._setState(States.FAILED);
          return;
        }
        this._scheduleReconnect(`reconnect failed: ${e.message || e}`);
      }
    }, delay);
  }
}
