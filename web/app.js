/**
 * The Switchboard page: join form, local preview, a tile per remote
 * participant (plus one per extra video track such as a screen share), call
 * controls, a connection badge and error toasts.
 *
 * URL parameters: `room`, `name` prefill the form; `autojoin=1` joins at once.
 *
 * For tests, `window.switchboard` is `{client, state(), remoteSummary()}`.
 */
import {SwitchboardClient, States, displayNameOf, defaultSignalingUrl} from './switchboard.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);

const ui = {
  joinView: $('join-view'),
  callView: $('call-view'),
  form: $('join-form'),
  roomInput: $('room-input'),
  nameInput: $('name-input'),
  useMic: $('use-mic'),
  useCam: $('use-cam'),
  joinButton: $('join-button'),
  grid: $('grid'),
  emptyNote: $('empty-note'),
  localTile: $('local-tile'),
  localVideo: $('local-video'),
  localName: $('local-name'),
  localFlags: $('local-flags'),
  localStats: $('local-stats'),
  controls: $('controls'),
  micButton: $('mic-button'),
  camButton: $('cam-button'),
  screenButton: $('screen-button'),
  leaveButton: $('leave-button'),
  badge: $('state-badge'),
  roomLabel: $('room-label'),
  toasts: $('toasts'),
};

/** @type {SwitchboardClient|null} */
let client = null;
/** @type {MediaStream|null} */
let localStream = null;
let statsTimer = null;
let audioBlocked = false;

/**
 * One entry per remote participant.
 * @type {Map<string, {tile: HTMLElement, video: HTMLVideoElement, audio: HTMLAudioElement,
 *   stats: HTMLElement, mainVideo: MediaStreamTrack|null, audioTracks: MediaStreamTrack[],
 *   extra: Map<MediaStreamTrack, {tile: HTMLElement, stats: HTMLElement}>}>}
 */
const remotes = new Map();
let localScreenTile = null;

window.switchboard = {
  get client() {
    return client;
  },
  state: () => (client ? client.state : States.IDLE),
  remoteSummary: async () => (client ? client.remoteSummary() : []),
};

// ------------------------------------------------------------------ helpers

function randomName() {
  const adjectives = ['amber', 'brisk', 'calm', 'dapper', 'eager', 'fuzzy', 'gentle', 'jolly', 'lucky', 'mellow',
    'nimble', 'quiet', 'rapid', 'sunny', 'swift', 'witty'];
  const animals = ['otter', 'heron', 'lynx', 'panda', 'falcon', 'gecko', 'badger', 'koala', 'marten', 'puffin',
    'raven', 'seal', 'tapir', 'walrus', 'yak', 'zebra'];
  const pick = (a) => a[Math.floor(Math.random() * a.length)];
  return `${pick(adjectives)}-${pick(animals)}-${Math.floor(10 + Math.random() * 90)}`;
}

function initials(name) {
  const parts = displayNameOf(name).split(/[\s\-_.]+/).filter(Boolean);
  return (parts.slice(0, 2).map((p) => p[0]).join('') || '?').toUpperCase();
}

/**
 * Shows a dismissible message.
 * @param {string} title
 * @param {string} [text]
 * @param {{kind?: 'error'|'info', timeout?: number, action?: {label: string, run: () => void}}} [opts]
 */
function toast(title, text = '', {kind = 'error', timeout = kind === 'error' ? 12000 : 5000, action} = {}) {
  const el = document.createElement('div');
  el.className = `toast ${kind}`;
  el.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  const p = document.createElement('p');
  const b = document.createElement('b');
  b.textContent = title;
  p.append(b);
  if (text) p.append(text);
  el.append(p);
  if (action) {
    const a = document.createElement('button');
    a.type = 'button';
    a.className = 'action';
    a.textContent = action.label;
    a.addEventListener('click', () => {
      action.run();
      el.remove();
    });
    el.append(a);
  }
  const close = document.createElement('button');
  close.type = 'button';
  close.setAttribute('aria-label', 'Dismiss');
  close.textContent = '×';
  close.addEventListener('click', () => el.remove());
  el.append(close);
  ui.toasts.append(el);
  while (ui.toasts.children.length > 4) ui.toasts.firstElementChild.remove();
  if (timeout) setTimeout(() => el.remove(), timeout);
}

function play(el) {
  const p = el.play();
  if (!p) return;
  p.catch((e) => {
    if (e.name !== 'NotAllowedError' || audioBlocked) return;
    // Autoplay with sound needs a user gesture first.
    audioBlocked = true;
    toast('Sound is paused by the browser', '', {kind: 'info', timeout: 0, action: {label: 'Enable', run: () => {
      audioBlocked = false;
      for (const r of remotes.values()) play(r.audio);
    }}});
  });
}

/** Narrower than this, the page uses the phone layout. */
const PHONE_WIDTH = 600;
/** Tiles never get smaller than this; below it the grid scrolls instead. */
const MIN_TILE_WIDTH = {phone: 150, wide: 220};

/**
 * Sizes the tiles so that they all fit the space between the top bar and the
 * controls as large as possible (trying every column count), or scroll when
 * there are too many. On phones the local preview floats in a corner.
 */
function updateLayout() {
  ui.emptyNote.hidden = remotes.size > 0;
  if (ui.callView.hidden) return;
  const phone = window.innerWidth < PHONE_WIDTH;
  ui.grid.classList.toggle('float-local', phone && remotes.size > 0);
  const tiles = [...ui.grid.children].filter((t) => !(ui.grid.classList.contains('float-local') && t === ui.localTile));
  const n = Math.max(1, tiles.length);
  const cs = getComputedStyle(ui.callView);
  const gap = parseFloat(getComputedStyle(ui.grid).columnGap) || 8;
  const width = ui.callView.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
  let height = ui.callView.clientHeight - parseFloat(cs.paddingTop) - parseFloat(cs.paddingBottom);
  if (!ui.emptyNote.hidden) height -= ui.emptyNote.offsetHeight + gap;
  // Tiles take the shape of their cell, within what still frames a face well.
  const [minAspect, maxAspect] = phone ? [3 / 4, 16 / 9] : [4 / 3, 16 / 9];
  const clamp = (x) => Math.min(maxAspect, Math.max(minAspect, x));
  let best = {cols: 1, w: 0, aspect: 16 / 10, area: 0};
  for (let cols = 1; cols <= n; cols++) {
    const rows = Math.ceil(n / cols);
    const cellW = (width - gap * (cols - 1)) / cols;
    const cellH = (height - gap * (rows - 1)) / rows;
    if (cellW <= 0 || cellH <= 0) continue;
    const aspect = clamp(cellW / cellH);
    const w = Math.min(cellW, cellH * aspect);
    const area = (w * w) / aspect;
    if (area > best.area) best = {cols, w, aspect, area};
  }
  const min = phone ? MIN_TILE_WIDTH.phone : MIN_TILE_WIDTH.wide;
  if (best.w < min) {
    const cols = Math.max(1, Math.floor((width + gap) / (min + gap)));
    best = {cols, w: (width - gap * (cols - 1)) / cols, aspect: phone ? 4 / 3 : 16 / 10};
  }
  ui.grid.style.setProperty('--cols', String(best.cols));
  ui.grid.style.setProperty('--tile-w', `${Math.floor(best.w)}px`);
  ui.grid.style.setProperty('--tile-aspect', best.aspect.toFixed(3));
}
new ResizeObserver(() => updateLayout()).observe(document.body);

function makeTile(label, id) {
  const tile = document.createElement('figure');
  tile.className = 'tile';
  tile.dataset.participantId = id;
  tile.title = id;
  const avatar = document.createElement('div');
  avatar.className = 'avatar';
  avatar.textContent = initials(label);
  const video = document.createElement('video');
  video.autoplay = true;
  video.playsInline = true;
  video.muted = true; // sound comes from the participant's audio element
  const cap = document.createElement('figcaption');
  const name = document.createElement('span');
  name.className = 'name';
  name.textContent = label;
  const flags = document.createElement('span');
  flags.className = 'flags';
  cap.append(name, flags);
  const stats = document.createElement('div');
  stats.className = 'stats';
  tile.append(avatar, video, cap, stats);
  return {tile, video, stats, flags};
}

function setVideo(entry, track) {
  entry.video.srcObject = track ? new MediaStream([track]) : null;
  entry.tile.classList.toggle('has-video', !!track);
  if (track) play(entry.video);
}

// ------------------------------------------------------------------ remote participants

function ensureRemote(id) {
  let r = remotes.get(id);
  if (r) return r;
  const t = makeTile(displayNameOf(id), id);
  const audio = document.createElement('audio');
  audio.autoplay = true;
  t.tile.append(audio);
  r = {...t, audio, mainVideo: null, audioTracks: [], extra: new Map()};
  remotes.set(id, r);
  ui.grid.append(t.tile);
  updateLayout();
  return r;
}

function removeRemote(id) {
  const r = remotes.get(id);
  if (!r) return;
  r.tile.remove();
  for (const x of r.extra.values()) x.tile.remove();
  remotes.delete(id);
  updateLayout();
}

function onTrack({publisherId, track}) {
  const r = ensureRemote(publisherId);
  if (track.kind === 'audio') {
    if (!r.audioTracks.includes(track)) r.audioTracks.push(track);
    r.audio.srcObject = new MediaStream(r.audioTracks);
    play(r.audio);
    return;
  }
  if (!r.mainVideo || r.mainVideo === track) {
    r.mainVideo = track;
    setVideo(r, track);
    return;
  }
  // A second video track from the same participant: most likely a screen.
  const t = makeTile(`${displayNameOf(publisherId)} (screen)`, publisherId);
  t.tile.classList.add('screen');
  setVideo(t, track);
  r.extra.set(track, t);
  r.tile.after(t.tile);
  updateLayout();
}

function onTrackEnded({publisherId, track}) {
  const r = remotes.get(publisherId);
  if (!r) return;
  if (track.kind === 'audio') {
    r.audioTracks = r.audioTracks.filter((t) => t !== track);
    r.audio.srcObject = r.audioTracks.length ? new MediaStream(r.audioTracks) : null;
    return;
  }
  const x = r.extra.get(track);
  if (x) {
    x.tile.remove();
    r.extra.delete(track);
    updateLayout();
    return;
  }
  if (r.mainVideo === track) {
    // Promote an extra video, if any, to the main tile.
    const [next] = r.extra.keys();
    if (next) {
      r.extra.get(next).tile.remove();
      r.extra.delete(next);
      updateLayout();
    }
    r.mainVideo = next ?? null;
    setVideo(r, r.mainVideo);
  }
}

// ------------------------------------------------------------------ stats overlay

const fmtRate = (kbps) => (kbps >= 1000 ? `${(kbps / 1000).toFixed(1)} Mbps` : `${kbps} kbps`);

function videoLine(s) {
  const res = s.frameWidth ? `${s.frameWidth}×${s.frameHeight}` : '—';
  const fps = `${Math.round(s.framesPerSecond || 0)}fps`;
  return `${fmtRate(s.bitrate)} · ${res} ${fps} · loss ${(s.fraction * 100).toFixed(1)}%`;
}

async function refreshStats() {
  if (!client) return;
  let stats;
  try {
    stats = await client.getStats();
  } catch {
    return;
  }
  const byPublisher = new Map();
  for (const s of stats.remote) {
    if (!byPublisher.has(s.publisherId)) byPublisher.set(s.publisherId, []);
    byPublisher.get(s.publisherId).push(s);
  }
  for (const [id, r] of remotes) {
    const list = byPublisher.get(id) ?? [];
    const lines = [];
    const audio = list.find((s) => s.kind === 'audio');
    for (const s of list) {
      if (s.kind !== 'video') continue;
      const extra = [...r.extra.entries()].find(([track]) => track.id === s.trackId);
      if (extra) extra[1].stats.textContent = videoLine(s);
      else if (r.mainVideo && r.mainVideo.id === s.trackId) lines.push(videoLine(s));
    }
    if (audio) lines.push(`audio ${fmtRate(audio.bitrate)} · loss ${(audio.fraction * 100).toFixed(1)}%`);
    r.stats.textContent = lines.join('\n');
    r.tile.classList.toggle('speaking', !!audio && audio.audioLevel > 0.04);
  }
  const video = stats.outbound.filter((s) => s.kind === 'video').sort((a, b) => b.bitrate - a.bitrate);
  const sent = stats.outbound.reduce((sum, s) => sum + s.bitrate, 0);
  const lines = [];
  if (stats.outbound.length) {
    const v = video[0];
    lines.push(`↑ ${fmtRate(sent)}${v && v.frameWidth ? ` · ${v.frameWidth}×${v.frameHeight} · ${Math.round(v.framesPerSecond)} fps` : ''}`);
  }
  const avail = stats.candidatePair?.availableOutgoingBitrate;
  if (avail) lines.push(`estimate ${fmtRate(Math.round(avail / 1000))}`);
  ui.localStats.textContent = lines.join('\n');
}

// ------------------------------------------------------------------ controls

function updateControls() {
  const mic = localStream?.getAudioTracks()[0];
  const cam = localStream?.getVideoTracks()[0];
  const hasMic = !!mic;
  const hasCam = !!cam;
  const micOff = !hasMic || !mic.enabled;
  const camOff = !hasCam || !cam.enabled;
  ui.micButton.disabled = !hasMic;
  ui.camButton.disabled = !hasCam;
  ui.micButton.setAttribute('aria-pressed', String(hasMic && micOff));
  ui.camButton.setAttribute('aria-pressed', String(hasCam && camOff));
  ui.micButton.querySelector('span').textContent = hasMic && micOff ? 'Unmute' : 'Mute';
  ui.micButton.title = hasMic ? (micOff ? 'Unmute microphone' : 'Mute microphone') : 'No microphone';
  ui.camButton.querySelector('span').textContent = hasCam && camOff ? 'Start video' : 'Stop video';
  ui.camButton.title = hasCam ? (camOff ? 'Turn camera on' : 'Turn camera off') : 'No camera';
  const sharing = !!client?.screenTrack;
  ui.screenButton.setAttribute('aria-pressed', String(sharing));
  ui.screenButton.querySelector('span').textContent = sharing ? 'Stop share' : 'Share';
  ui.screenButton.title = sharing ? 'Stop sharing the screen' : 'Share the screen';
  ui.localFlags.textContent = !hasMic && !hasCam ? 'watching'
    : [micOff ? 'muted' : '', camOff ? 'no video' : ''].filter(Boolean).join(' · ');
  ui.localTile.classList.toggle('has-video', hasCam && !camOff);
}

function setBadge(state) {
  ui.badge.dataset.state = state;
  ui.badge.textContent = state;
}

function showLocalScreen(track) {
  if (localScreenTile) localScreenTile.tile.remove();
  localScreenTile = null;
  if (!track) {
    updateLayout();
    return;
  }
  localScreenTile = makeTile('You (screen)', client?.selfId ?? 'me');
  localScreenTile.tile.classList.add('screen');
  setVideo(localScreenTile, track);
  ui.localTile.after(localScreenTile.tile);
  updateLayout();
}

ui.micButton.addEventListener('click', () => {
  const mic = localStream?.getAudioTracks()[0];
  if (client && mic) client.setAudioEnabled(!mic.enabled);
});
ui.camButton.addEventListener('click', () => {
  const cam = localStream?.getVideoTracks()[0];
  if (client && cam) client.setVideoEnabled(!cam.enabled);
});
ui.screenButton.addEventListener('click', async () => {
  if (!client) return;
  if (client.screenTrack) {
    client.stopScreenShare();
    return;
  }
  try {
    await client.startScreenShare();
  } catch (e) {
    if (e.name !== 'NotAllowedError' && e.name !== 'AbortError') toast('Cannot share the screen', e.message);
  }
});
ui.leaveButton.addEventListener('click', () => leave());
if (!navigator.mediaDevices?.getDisplayMedia) ui.screenButton.hidden = true;

// ------------------------------------------------------------------ join / leave

/** Camera and microphone as the form asks, falling back to what is available. */
async function getLocalMedia(wantAudio, wantVideo) {
  const video = {width: {ideal: 1280}, height: {ideal: 720}, frameRate: {ideal: 30}};
  const attempts = [];
  if (wantAudio && wantVideo) attempts.push({audio: true, video});
  if (wantVideo) attempts.push({video});
  if (wantAudio) attempts.push({audio: true});
  let lastError = null;
  for (const constraints of attempts) {
    try {
      return await navigator.mediaDevices.getUserMedia(constraints);
    } catch (e) {
      lastError = e;
    }
  }
  if (lastError) toast('No camera or microphone', `${lastError.name}: joining to watch and listen only.`, {kind: 'info'});
  return null;
}

async function join(room, name) {
  ui.joinButton.disabled = true;
  ui.joinButton.textContent = 'Joining…';
  localStream = navigator.mediaDevices ? await getLocalMedia(ui.useMic.checked, ui.useCam.checked) : null;

  client = new SwitchboardClient({url: defaultSignalingUrl(), room, selfId: name});
  client.addEventListener('state', (e) => {
    setBadge(e.detail.state);
    if (e.detail.state === States.FAILED && client?.autoReconnect === false) toast('Connection failed');
  });
  client.addEventListener('joined', (e) => {
    ui.localName.textContent = `You (${displayNameOf(e.detail.selfId)})`;
    if (client && e.detail.selfId !== client.baseId) {
      toast(`Joined as "${e.detail.selfId}"`, 'Your name is still held by an earlier session.', {kind: 'info'});
    }
  });
  client.addEventListener('participant', (e) => ensureRemote(e.detail.id));
  client.addEventListener('participantleft', (e) => removeRemote(e.detail.id));
  client.addEventListener('track', (e) => onTrack(e.detail));
  client.addEventListener('trackended', (e) => onTrackEnded(e.detail));
  client.addEventListener('servererror', (e) => {
    const {code, message, event} = e.detail;
    toast(`Server error: ${code}`, `${message ?? ''}${event ? ` (${event})` : ''}`);
  });
  client.addEventListener('log', (e) => {
    if (e.detail.level === 'error') toast('Connection problem', e.detail.message);
  });
  client.addEventListener('screenshare', (e) => {
    showLocalScreen(e.detail.active ? e.detail.track : null);
    updateControls();
  });
  client.addEventListener('localtrackschanged', updateControls);

  ui.localVideo.srcObject = localStream && localStream.getVideoTracks().length ? localStream : null;
  if (ui.localVideo.srcObject) play(ui.localVideo);
  ui.localName.textContent = `You (${name})`;
  ui.localTile.querySelector('.avatar')?.remove();
  const avatar = document.createElement('div');
  avatar.className = 'avatar';
  avatar.textContent = initials(name);
  ui.localTile.prepend(avatar);
  ui.roomLabel.replaceChildren('Room ', Object.assign(document.createElement('b'), {textContent: room}));
  ui.roomLabel.hidden = false;
  ui.joinView.hidden = true;
  ui.callView.hidden = false;
  ui.controls.hidden = false;
  document.body.classList.add('in-call');
  updateControls();
  updateLayout();

  const url = new URL(location.href);
  url.searchParams.set('room', room);
  url.searchParams.set('name', name);
  history.replaceState(null, '', url);

  clearInterval(statsTimer);
  statsTimer = setInterval(refreshStats, 1000);
  try {
    await client.join(localStream);
  } catch (e) {
    toast('Could not join', e.message);
    leave();
  }
}

function leave() {
  clearInterval(statsTimer);
  statsTimer = null;
  if (client) client.leave();
  for (const id of [...remotes.keys()]) removeRemote(id);
  showLocalScreen(null);
  for (const t of localStream?.getTracks() ?? []) t.stop();
  localStream = null;
  ui.localVideo.srcObject = null;
  ui.localStats.textContent = '';
  ui.callView.hidden = true;
  ui.controls.hidden = true;
  document.body.classList.remove('in-call');
  ui.roomLabel.hidden = true;
  ui.joinView.hidden = false;
  ui.joinButton.disabled = false;
  ui.joinButton.textContent = 'Join';
  setBadge(client ? client.state : States.IDLE);
}

ui.form.addEventListener('submit', (e) => {
  e.preventDefault();
  const room = ui.roomInput.value.trim();
  const name = ui.nameInput.value.trim();
  if (!room || !name) return;
  join(room, name);
});

ui.roomInput.value = params.get('room') ?? '';
ui.nameInput.value = params.get('name') || randomName();
$('ws-url').textContent = defaultSignalingUrl();
if (!ui.roomInput.value) ui.roomInput.focus();

window.addEventListener('pagehide', () => client?.leave());

if (params.get('autojoin') === '1') join(ui.roomInput.value.trim() || 'demo', ui.nameInput.value.trim());
