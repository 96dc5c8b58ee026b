// The oss-append demo: record a MediaStream with MediaRecorder, append each 1 s blob live to one OSS object through
// `client.openAppender`, then close, HEAD, compare CRC-64s and play the object back through a presigned URL.
//
// For tests and the curious, the page exposes `window.__recorded` (the blobs handed to the appender, in order) and
// `window.__result` (what the final checks found).

const $ = (id) => document.getElementById(id);

const FIELDS = ['endpoint', 'bucket', 'region', 'accessKeyId', 'accessKeySecret', 'signature', 'source', 'prefix'];
// The local emulator's documented defaults (test values, not secrets).
const DEFAULTS = {
  endpoint: '',
  bucket: 'examplebucket',
  region: 'cn-hangzhou',
  accessKeyId: 'emulator-access-key-id',
  accessKeySecret: 'emulator-access-key-secret',
  signature: 'v4',
  source: 'camera',
  prefix: 'rec/',
};
const STORAGE_KEY = 'oss-append-demo.settings';
// What the page may remember between visits: never the AccessKey secret or an STS token, which stay in the form
// only (local storage is readable by any script on the origin and outlives the session).
const REMEMBERED = ['endpoint', 'bucket', 'region', 'accessKeyId', 'signature', 'source', 'prefix'];
// Never taken from the URL either: a link must not carry a secret into the form (or into history).
const SECRET_FIELDS = new Set(['accessKeySecret']);
const TIMESLICE_MS = 1000;
const URL_EXPIRES_S = 600;
// Errors of getUserMedia/getDisplayMedia after which the generated source stands in.
const UNAVAILABLE = new Set(['NotAllowedError', 'NotFoundError', 'NotReadableError', 'OverconstrainedError',
  'SecurityError', 'AbortError', 'NotSupportedError', 'TypeError']);

const form = $('settings');
let OSS;
let crc64;
let Crc64;
let session = null;

// ---------------------------------------------------------------------------------------------------------------
// Formatting

function fmtBytes(n) {
  if (!Number.isFinite(n)) return '–';
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i += 1; }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}

const fmtRate = (bytesPerS) => `${fmtBytes(Math.round(bytesPerS))}/s`;
const fmtSecs = (ms) => `${(ms / 1000).toFixed(1)} s`;
const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;
const group = (s) => String(s).replace(/\B(?=(\d{3})+(?!\d))/g, '\u2009');

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v;
    else node.setAttribute(k, v);
  }
  node.append(...children);
  return node;
}

// ---------------------------------------------------------------------------------------------------------------
// Status, errors, notices

const STATUS_TEXT = {
  loading: 'Loading…', ready: 'Ready', starting: 'Starting…', recording: '● Recording', finishing: 'Finishing…',
  retrying: '⟳ Offline: recording, uploads wait', verified: '✓ Verified', failed: '✕ Failed',
};

function setStatus(status, text = STATUS_TEXT[status]) {
  const badge = $('status');
  badge.dataset.status = status;
  badge.textContent = text;
  document.body.dataset.status = status;
}

/** Shows an error with the fields oss-append errors carry (no secret is ever in them). */
function showError(err, context) {
  const box = $('error');
  box.replaceChildren();
  const name = err?.name && err.name !== 'Error' ? err.name : 'Error';
  box.append(el('strong', {}, `${context}: ${name}`));
  box.append(el('p', {}, err?.message ?? String(err)));
  const facts = [['code', err?.code], ['status', err?.status], ['requestId', err?.requestId],
    ['nextAppendPosition', err?.nextAppendPosition]].filter(([, v]) => v !== undefined && v !== null && v !== '');
  if (facts.length) {
    box.append(el('p', { class: 'facts' }, ...facts.map(([k, v]) => el('span', {}, `${k} `, el('code', {}, String(v))))));
  }
  const hint = hintFor(err);
  if (hint) box.append(el('p', { class: 'hint' }, hint));
  // A failed appender hands back every byte that did not reach OSS: nothing recorded is lost.
  if (err?.unsent instanceof Blob && err.unsent.size > 0) {
    const link = el('a', { href: URL.createObjectURL(err.unsent), download: 'unsent.webm' },
      `Download the ${fmtBytes(err.unsent.size)} not uploaded`);
    box.append(el('p', {}, link));
  }
  box.hidden = false;
}

function hintFor(err) {
  if (err?.code === 'RequestError' || err?.status === -1) {
    return 'The endpoint did not answer, or its CORS rule refused this page. Check the endpoint; for a real bucket, ' +
      'allow this origin and expose x-oss-next-append-position, x-oss-hash-crc64ecma, x-oss-request-id and ETag.';
  }
  if (err?.code === 'MissingExposedHeader') return 'Add the named headers to the bucket CORS rule’s ExposeHeaders.';
  if (err?.status === 403) return 'Check the AccessKey pair, the region and the signature version.';
  return '';
}

function notice(text) {
  const p = $('notice');
  p.textContent = text;
  p.hidden = !text;
}

// ---------------------------------------------------------------------------------------------------------------
// Settings: URL query > localStorage (no secrets, same endpoint only) > the serving script's /config.json > defaults

/** The remembered settings; anything else an older version stored (a secret) is dropped from storage too. */
function loadStored() {
  let stored;
  try { stored = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? '{}') ?? {}; } catch { return {}; }
  if (typeof stored !== 'object') return {};
  const kept = Object.fromEntries(REMEMBERED.filter((n) => typeof stored[n] === 'string').map((n) => [n, stored[n]]));
  if (Object.keys(stored).some((n) => !REMEMBERED.includes(n))) remember(kept);
  return kept;
}

function remember(settings) {
  const kept = Object.fromEntries(REMEMBERED.map((n) => [n, settings[n]]));
  try { localStorage.setItem(STORAGE_KEY, JSON.stringify(kept)); } catch { /* private mode: not remembered */ }
}

async function serverConfig() {
  try {
    const res = await fetch('config.json', { cache: 'no-store' });
    return res.ok ? await res.json() : {};
  } catch { return {}; }
}

async function fillSettings() {
  const query = new URLSearchParams(location.search);
  for (const name of SECRET_FIELDS) query.delete(name);
  let stored = loadStored();
  // Remembered settings (the AccessKey ID among them) belong to the endpoint they were used with: a link naming
  // another endpoint gets none of them, so they never go to an endpoint the user did not type.
  if (query.has('endpoint') && query.get('endpoint') !== stored.endpoint) stored = {};
  const fromServer = stored.endpoint || query.get('endpoint') ? {} : await serverConfig();
  for (const name of FIELDS) {
    const v = query.get(name) ?? stored[name] ?? fromServer[name] ?? DEFAULTS[name];
    if (v !== null && v !== undefined) form.elements[name].value = v;
  }
}

/** The settings in the form, checked; `keep`: remember them (the user acted on them), else only read. */
function readSettings({ keep = true } = {}) {
  const s = Object.fromEntries(FIELDS.map((n) => [n, form.elements[n].value.trim()]));
  let url;
  try {
    url = new URL(s.endpoint);
  } catch {
    throw Object.assign(new Error(`"${s.endpoint}" is not a URL; give e.g. http://127.0.0.1:9000 or ` +
      'https://oss-cn-hangzhou.aliyuncs.com'), { name: 'InvalidSettings' });
  }
  if (!/^https?:$/.test(url.protocol)) {
    throw Object.assign(new Error('the endpoint must be http(s)'), { name: 'InvalidSettings' });
  }
  for (const n of ['bucket', 'accessKeyId', 'accessKeySecret']) {
    if (!s[n]) throw Object.assign(new Error(`${n} is empty`), { name: 'InvalidSettings' });
  }
  if (keep) remember(s);
  return s;
}

// ---------------------------------------------------------------------------------------------------------------
// Sources

async function openSource(kind) {
  if (kind === 'camera' || kind === 'screen') {
    const md = navigator.mediaDevices;
    try {
      if (!md) throw Object.assign(new Error('media devices need a secure context'), { name: 'NotSupportedError' });
      const stream = kind === 'camera'
        ? await md.getUserMedia({
          video: { width: { ideal: 640 }, height: { ideal: 360 }, frameRate: { ideal: 30 } },
          audio: true,
        })
        : await md.getDisplayMedia({ video: { frameRate: { ideal: 30 } }, audio: true });
      const label = kind === 'camera' ? 'Camera + microphone' : 'Screen';
      return { stream, kind, label, stop: () => stream.getTracks().forEach((t) => t.stop()) };
    } catch (err) {
      if (!UNAVAILABLE.has(err?.name)) throw err;
      const what = kind === 'camera' ? 'Camera/microphone' : 'Screen capture';
      const src = generatedSource();
      src.fallback = `${what} unavailable (${err.name}): recording the generated source instead.`;
      return src;
    }
  }
  return generatedSource();
}

/** A canvas animation (captureStream) plus a swept oscillator (MediaStreamAudioDestinationNode). */
function generatedSource() {
  const canvas = document.createElement('canvas');
  canvas.width = 640;
  canvas.height = 360;
  const g = canvas.getContext('2d');
  const t0 = performance.now();
  let frame = 0;
  let raf = 0;
  const draw = () => {
    const t = (performance.now() - t0) / 1000;
    const hue = (t * 24) % 360;
    const bg = g.createLinearGradient(0, 0, 640, 360);
    bg.addColorStop(0, `hsl(${hue} 60% 22%)`);
    bg.addColorStop(1, `hsl(${(hue + 80) % 360} 55% 12%)`);
    g.fillStyle = bg;
    g.fillRect(0, 0, 640, 360);
    // A dot circling the clock face, one lap per second.
    const a = (t % 1) * Math.PI * 2 - Math.PI / 2;
    g.strokeStyle = 'rgba(255,255,255,0.25)';
    g.lineWidth = 6;
    g.beginPath();
    g.arc(320, 170, 110, 0, Math.PI * 2);
    g.stroke();
    g.fillStyle = '#ff8a3d';
    g.beginPath();
    g.arc(320 + 110 * Math.cos(a), 170 + 110 * Math.sin(a), 14, 0, Math.PI * 2);
    g.fill();
    g.fillStyle = '#fff';
    g.textAlign = 'center';
    g.font = '600 44px ui-monospace, monospace';
    const clock = `${String(Math.floor(t / 60)).padStart(2, '0')}:${(t % 60).toFixed(1).padStart(4, '0')}`;
    g.fillText(clock, 320, 186);
    g.font = '18px system-ui, sans-serif';
    g.fillStyle = 'rgba(255,255,255,0.8)';
    g.fillText(`oss-append · generated source · frame ${frame}`, 320, 330);
    frame += 1;
    raf = requestAnimationFrame(draw);
  };
  draw();
  const video = canvas.captureStream(30);

  const audio = new AudioContext();
  const osc = audio.createOscillator();
  osc.frequency.value = 440;
  const lfo = audio.createOscillator(); // sweeps the tone so that the audio track changes over time
  lfo.frequency.value = 0.5;
  const depth = audio.createGain();
  depth.gain.value = 120;
  lfo.connect(depth).connect(osc.frequency);
  const volume = audio.createGain();
  volume.gain.value = 0.15;
  const dest = audio.createMediaStreamDestination();
  osc.connect(volume).connect(dest);
  osc.start();
  lfo.start();
  audio.resume().catch(() => {});

  const stream = new MediaStream([...video.getVideoTracks(), ...dest.stream.getAudioTracks()]);
  return {
    stream,
    kind: 'generated',
    label: 'Generated: canvas + oscillator',
    stop: () => {
      cancelAnimationFrame(raf);
      stream.getTracks().forEach((tr) => tr.stop());
      osc.stop();
      lfo.stop();
      audio.close().catch(() => {});
    },
  };
}

/** The first container/codec MediaRecorder supports here, WebM first. */
function pickMimeType(stream) {
  const audio = stream.getAudioTracks().length > 0;
  const candidates = audio
    ? ['video/webm;codecs=vp8,opus', 'video/webm;codecs=vp9,opus', 'video/webm', 'video/mp4;codecs=avc1,mp4a',
      'video/mp4']
    : ['video/webm;codecs=vp8', 'video/webm;codecs=vp9', 'video/webm', 'video/mp4'];
  const type = candidates.find((t) => MediaRecorder.isTypeSupported(t));
  if (!type) throw Object.assign(new Error('this browser records neither WebM nor MP4'), { name: 'NotSupportedError' });
  const container = type.split(';')[0];
  return { type, container, ext: container === 'video/mp4' ? 'mp4' : 'webm' };
}

// ---------------------------------------------------------------------------------------------------------------
// The request log

function resetLog() {
  $('log').replaceChildren();
  $('log-empty').hidden = false;
  $('log-summary').textContent = '';
}

/** Adds a row; `entry.crc`/`entry.local` may be filled in later by `updateRow`. */
function logRow(entry) {
  const row = el('tr', { class: entry.error ? 'bad' : '' },
    el('td', {}, String($('log').children.length + 1)),
    el('td', {}, entry.t === undefined ? '' : fmtSecs(entry.t)),
    el('td', {}, entry.request),
    el('td', { class: 'num mono' }, entry.position ?? ''),
    el('td', { class: 'num' }, entry.size === undefined ? '' : fmtBytes(entry.size)),
    el('td', { class: 'num' }, entry.ms === undefined ? '' : String(Math.round(entry.ms))),
    el('td', { class: 'mono crc' }, entry.crc ?? ''),
    el('td', { class: 'check' }, entry.local ?? ''));
  entry.row = row;
  $('log').append(row);
  $('log-empty').hidden = true;
  const scroll = row.closest('.log-scroll');
  scroll.scrollTop = scroll.scrollHeight;
  return entry;
}

function updateRow(entry) {
  const cells = entry.row.children;
  cells[6].textContent = entry.crc ?? '';
  cells[7].textContent = entry.local ?? '';
  cells[7].className = `check ${entry.local === '✓' ? 'ok' : entry.local ? 'bad' : ''}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Checks after stop

const CHECKS = () => [...$('checks').children];

function resetChecks() {
  const texts = ['Appender closed · nextAppendPosition', 'HEAD: appendable object of the recorded length',
    'CRC-64: appender = HEAD = local (recorded blobs)', 'Playback through a presigned URL'];
  $('checks').replaceChildren(...texts.map((t) => el('li', { class: 'pending' }, t)));
}

function check(i, ok, text, detail) {
  const li = CHECKS()[i];
  li.className = ok ? 'ok' : 'bad';
  li.replaceChildren(el('span', {}, text));
  if (detail) li.append(el('small', {}, detail));
}

// ---------------------------------------------------------------------------------------------------------------
// Recording

function resetView() {
  $('error').hidden = true;
  notice('');
  resetLog();
  resetChecks();
  for (const id of ['st-elapsed', 'st-recorded', 'st-uploaded', 'st-rate', 'st-position', 'st-parts', 'st-crc']) {
    $(id).textContent = '–';
  }
  const playback = $('playback');
  playback.controls = false; // no empty player chrome over the placeholder
  playback.removeAttribute('src');
  playback.load();
  $('playback-box').dataset.playback = 'none';
  $('playback-empty').hidden = false;
  $('object-link').hidden = true;
}

function renderStats(s) {
  const now = performance.now();
  const elapsed = (s.stoppedAt ?? now) - s.startedAt;
  const uploaded = s.confirmed;
  $('st-elapsed').textContent = fmtSecs(elapsed);
  $('st-recorded').textContent = `${fmtBytes(s.written)} · ${plural(s.blobs.length, 'blob')}`;
  $('st-uploaded').textContent = fmtBytes(uploaded);
  $('st-rate').textContent = elapsed > 0 ? fmtRate(uploaded / (elapsed / 1000)) : '–';
  $('st-position').textContent = group(s.appender?.position ?? '0');
  $('st-parts').textContent = `${s.parts} · ${fmtBytes(s.written - s.confirmed)}`;
  $('st-crc').textContent = s.appender?.crc64 ?? '–';
  $('st-state').textContent = s.appender?.state ?? '–';
  $('st-buffered').textContent = s.appender ? fmtBytes(s.appender.buffered) : '–';
  $('st-spooled').textContent = s.appender ? fmtBytes(s.appender.spooled) : '–';
  $('st-spooled').dataset.bytes = String(s.appender?.spooled ?? 0);
}

function clientFor(settings) {
  return new OSS({
    endpoint: settings.endpoint,
    region: settings.region || undefined,
    bucket: settings.bucket,
    accessKeyId: settings.accessKeyId,
    accessKeySecret: settings.accessKeySecret,
    authorizationV4: settings.signature !== 'v1',
    timeout: 20_000,
  });
}

/** The appender's state: while OSS is unreachable it keeps recording, holds the bytes and tries again. */
function onAppenderState(s, state) {
  $('st-state').textContent = state;
  if (s.failed) return;
  if (state === 'retrying') setStatus('retrying');
  else if (document.body.dataset.status === 'retrying') {
    setStatus(s.stopping ? 'finishing' : 'recording');
    notice('');
  }
}

function onAppenderRetry(s, { delayMs, error, buffered }) {
  const wait = delayMs >= 1000 ? `${Math.round(delayMs / 1000)} s` : `${delayMs} ms`;
  notice(`OSS unreachable (${error.code}): still recording; ${fmtBytes(buffered)} kept, retrying in ${wait} ` +
    '(at once when the browser is back online).');
}

async function start() {
  if (session) return;
  resetView();
  let settings;
  try {
    settings = readSettings();
  } catch (err) {
    showError(err, 'Settings');
    return;
  }
  setStatus('starting');
  setBusy(true);
  const s = {
    settings,
    blobs: [],
    written: 0,
    confirmed: 0,
    parts: 0,
    lastPosition: 0,
    partStart: 0,
    failed: false,
    localCrc: new Crc64(),
    localEnds: new Map(), // running local CRC-64 at each blob boundary, for the per-part check
    localChain: Promise.resolve(),
    awaitingLocal: [],
    startedAt: performance.now(),
  };
  session = s;
  try {
    s.client = clientFor(settings);
    // Spools in a storage the browser does not evict under pressure, when it grants that.
    navigator.storage?.persist?.().catch(() => {});
    s.source = await openSource(settings.source);
    if (s.source.fallback) notice(s.source.fallback);
    const label = $('source-label');
    label.textContent = s.source.label;
    label.hidden = false;
    const preview = $('preview');
    preview.srcObject = s.source.stream;
    $('preview-empty').hidden = true;

    const mime = pickMimeType(s.source.stream);
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    s.key = `${settings.prefix}${stamp}.${mime.ext}`;
    $('key').textContent = s.key;
    window.__recorded = { key: s.key, mimeType: mime.type, source: s.source.kind, blobs: s.blobs };
    window.__result = undefined;

    s.appender = await s.client.openAppender(s.key, {
      position: 0,
      spool: `rec-${stamp}`, // the bytes not yet on OSS survive a reload or a crash: see "Unfinished recordings"
      minPartSize: 0, // every blob goes out as soon as the previous append is done
      mime: mime.container,
      meta: { source: s.source.kind },
      progress: (_p, info) => onPartDone(s, Number(info.position)),
      onStateChange: (state) => onAppenderState(s, state),
      onRetry: (info) => onAppenderRetry(s, info),
    });

    s.recorder = new MediaRecorder(s.source.stream, {
      mimeType: mime.type, videoBitsPerSecond: 1_000_000, audioBitsPerSecond: 64_000,
    });
    s.recorder.ondataavailable = (e) => onBlob(s, e.data);
    s.recorder.onerror = (e) => fail(s, e.error ?? new Error('MediaRecorder failed'), 'Recorder');
    // A screen share ended from the browser's own UI ends the recording too.
    for (const track of s.source.stream.getVideoTracks()) track.addEventListener('ended', () => stop());
    s.startedAt = performance.now();
    s.recorder.start(TIMESLICE_MS);
    s.ticker = setInterval(() => renderStats(s), 250);
    renderStats(s);
    setStatus('recording');
    $('stop').disabled = false;
    $('stop').focus();
  } catch (err) {
    fail(s, err, 'Start');
  }
}

function onBlob(s, blob) {
  if (!blob || blob.size === 0 || s.failed) return;
  s.blobs.push(blob);
  if (s.written === s.confirmed) s.partStart = performance.now(); // the appender was idle: this part starts now
  s.written += blob.size;
  s.appender.write(blob).catch((err) => fail(s, err, 'Append'));
  // The local CRC-64 follows the same order, one blob after the other.
  const end = s.written;
  s.localChain = s.localChain.then(async () => {
    const bytes = new Uint8Array(await blob.arrayBuffer());
    if (!s.localCrc) return; // the session has ended
    s.localCrc.update(bytes);
    s.localEnds.set(end, s.localCrc.digest());
    settleLocalChecks(s);
  }).catch((err) => console.warn('local CRC-64:', err));
  renderStats(s);
}

/** Progress fires once per append, when OSS has confirmed it (and the appender has checked its CRC-64). */
function onPartDone(s, position) {
  const now = performance.now();
  const entry = {
    t: s.partStart - s.startedAt,
    request: 'append',
    position: group(s.lastPosition),
    at: position,
    size: position - s.lastPosition,
    ms: now - s.partStart,
  };
  s.lastPosition = position;
  s.confirmed = position;
  s.parts += 1;
  if (s.written > s.confirmed) s.partStart = now; // the next part went out right away
  logRow(entry);
  // The appender's own state moves on right after this callback returns.
  queueMicrotask(() => {
    entry.crc = s.appender.crc64 ?? '';
    s.awaitingLocal.push(entry);
    settleLocalChecks(s);
    renderStats(s);
  });
}

/** Compares each confirmed part's whole-object CRC with the page's own running CRC at that length. */
function settleLocalChecks(s) {
  s.awaitingLocal = s.awaitingLocal.filter((entry) => {
    const local = s.localEnds.get(entry.at);
    if (local === undefined) {
      if (entry.at <= s.written && [...s.localEnds.keys()].some((k) => k > entry.at)) {
        entry.local = '?'; // a part ended inside a blob: no local value at that length
        updateRow(entry);
        return false;
      }
      return true;
    }
    entry.local = local === entry.crc ? '✓' : '✕';
    updateRow(entry);
    return false;
  });
}

async function stop() {
  const s = session;
  if (!s || s.stopping) return;
  s.stopping = true;
  $('stop').disabled = true;
  if (s.failed) {
    finish(s);
    return;
  }
  setStatus('finishing');
  try {
    if (s.recorder && s.recorder.state !== 'inactive') {
      // The last dataavailable comes before 'stop', so its write is queued before close().
      await new Promise((resolve) => {
        s.recorder.addEventListener('stop', resolve, { once: true });
        s.recorder.stop();
      });
    }
    s.source?.stop();
    s.stoppedAt = performance.now();
    const closed = await s.appender.close();
    await s.localChain; // the per-part checks of the last parts
    renderStats(s);
    check(0, true, `Appender closed at ${group(closed.nextAppendPosition)} bytes`, plural(s.parts, 'append'));
    await verify(s, closed);
  } catch (err) {
    fail(s, err, 'Finish');
    return;
  }
  finish(s);
}

async function verify(s, closed) {
  const t = performance.now();
  const head = await s.client.head(s.key);
  logRow({ t: t - s.startedAt, request: 'HEAD', position: group(head.nextAppendPosition ?? '?'),
    ms: performance.now() - t, crc: head.crc64 ?? '' });

  const all = new Blob(s.blobs);
  const local = await crcOfBlob(all);
  const lengthOk = head.objectType === 'Appendable' && head.nextAppendPosition === String(all.size)
    && closed.nextAppendPosition === String(all.size);
  check(1, lengthOk, `HEAD: ${head.objectType ?? 'unknown'} object, ${group(head.nextAppendPosition ?? '?')} bytes`,
    `recorded ${group(all.size)} bytes in ${plural(s.blobs.length, 'blob')}`);
  const crcOk = closed.crc64 === head.crc64 && head.crc64 === local;
  check(2, crcOk, crcOk ? `CRC-64 verified: ${local}` : 'CRC-64 mismatch',
    crcOk ? 'appender = HEAD = local crc64 of the recorded blobs'
      : `appender ${closed.crc64} · HEAD ${head.crc64} · local ${local}`);

  const url = s.settings.signature === 'v1'
    ? s.client.signatureUrl(s.key, { expires: URL_EXPIRES_S })
    : await s.client.signatureUrlV4('GET', URL_EXPIRES_S, {}, s.key);
  const verified = lengthOk && crcOk;
  window.__result = {
    status: verified ? 'verified' : 'mismatch',
    key: s.key,
    bytes: all.size,
    blobs: s.blobs.length,
    parts: s.parts,
    nextAppendPosition: closed.nextAppendPosition,
    crc64: { appender: closed.crc64, head: head.crc64, local },
    objectType: head.objectType,
    url,
  };
  play(s, url);
  if (!verified) {
    throw Object.assign(new Error('the object on OSS differs from what was recorded'), { name: 'VerificationFailed' });
  }
  setStatus('verified');
}

/** CRC-64 of a Blob, read as a stream so that a long recording is never held in one buffer. */
async function crcOfBlob(blob) {
  if (blob.size <= 16 << 20) return crc64(new Uint8Array(await blob.arrayBuffer()));
  const crc = new Crc64();
  try {
    const reader = blob.stream().getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return crc.digest();
      crc.update(value);
    }
  } finally {
    crc.free();
  }
}

function play(s, url) {
  const box = $('playback-box');
  const video = $('playback');
  const link = $('object-link');
  link.href = url;
  link.hidden = false;
  box.dataset.playback = 'loading';
  $('playback-empty').hidden = true;
  const version = s.settings.signature === 'v1' ? 'V1' : 'V4';
  video.addEventListener('loadeddata', () => {
    box.dataset.playback = 'ready';
    check(3, true, `Playing from OSS (${version} presigned URL)`,
      `${video.videoWidth}×${video.videoHeight}, expires in ${URL_EXPIRES_S / 60} min`);
    video.play().catch(() => {}); // autoplay may be refused; the controls remain
  }, { once: true });
  video.addEventListener('error', () => {
    box.dataset.playback = 'error';
    check(3, false, 'Playback failed', video.error?.message || `media error ${video.error?.code ?? ''}`);
  }, { once: true });
  video.controls = true;
  video.src = url;
}

function fail(s, err, context) {
  if (s.failed) return;
  s.failed = true;
  console.warn(`${context} failed:`, err);
  showError(err, context);
  setStatus('failed');
  logRow({ t: performance.now() - s.startedAt, request: `${context} failed`,
    crc: [err?.status, err?.code ?? err?.name].filter(Boolean).join(' '), error: true });
  try { if (s.recorder && s.recorder.state !== 'inactive') s.recorder.stop(); } catch { /* already stopped */ }
  s.source?.stop();
  s.appender?.abort(err)?.catch(() => {});
  finish(s);
}

function finish(s) {
  clearInterval(s.ticker);
  s.stoppedAt ??= performance.now();
  renderStats(s);
  $('preview').srcObject = null;
  $('preview-empty').hidden = false;
  $('preview-empty').textContent = 'Press Start to record again.';
  $('source-label').hidden = true;
  const crc = s.localCrc;
  s.localCrc = null;
  crc?.free();
  session = null;
  setBusy(false);
}

function setBusy(busy) {
  $('settings-fields').disabled = busy;
  $('start').disabled = busy;
  $('stop').disabled = true;
}

// ---------------------------------------------------------------------------------------------------------------

form.addEventListener('submit', (e) => {
  e.preventDefault();
  start();
});
$('stop').addEventListener('click', () => stop());

(async () => {
  await fillSettings();
  try {
    ({ default: OSS, crc64, Crc64 } = await import('./pkg/web.js'));
  } catch (err) {
    setStatus('failed', '✕ Package missing');
    showError(err, 'Loading ./pkg/web.js');
    $('error').append(el('p', { class: 'hint' }, 'Build the package with `bash scripts/build-pkg.sh` (make pkg) ' +
      'and serve the demo with `node www/serve.mjs`, which maps /pkg/ to it.'));
    return;
  }
  setStatus('ready');
  $('start').disabled = false;
  try {
    const { showUnfinished } = await import('./unfinished.js');
    await showUnfinished(clientFor(readSettings({ keep: false })));
  } catch { /* no settings yet: nothing to list */ }
  if (!form.elements.endpoint.value) {
    notice('Set the endpoint: the URL that make serve printed, or your OSS region’s endpoint.');
    form.elements.endpoint.focus();
  }
})();
