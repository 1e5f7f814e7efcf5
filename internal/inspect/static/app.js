// jasni inspector. Everything a delivery holds came from the internet: it is
// put on the page as text (textContent, createTextNode) and never as markup.
'use strict';

const token = document.querySelector('meta[name="jasni-token"]').content;
const $ = (id) => document.getElementById(id);
const PAGE = 200;
const MAX_ROWS = 1000; // the live list keeps the newest; older ones are a click away
const TREE_MAX = 2 << 20; // bodies larger than this are shown raw only

const state = {
  refused: false, rows: new Map(), current: null, selected: new Set(),
  oldest: '', info: {}, refusedNew: 0, gen: 0,
};

// visible shows the characters that would change how text reads (bidi
// controls, zero-width characters) or would not show at all (control
// characters) as \u{…}: a name that reads backwards is a spoof.
const hidden = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g;
function visible(s) {
  return s.replace(hidden, (c) => '\\u{' + c.codePointAt(0).toString(16).padStart(4, '0') + '}');
}

// el builds an element; children that are not nodes become text nodes,
// with hidden characters made visible.
function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : visible(String(v)));
  }
  for (const c of kids.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(visible(String(c))));
  }
  return e;
}

// fill replaces node's children with kids, leaving out the empty ones.
function fill(node, ...kids) {
  node.replaceChildren(...kids.flat(Infinity).filter((k) => k !== null && k !== undefined && k !== false)
    .map((k) => (k instanceof Node ? k : document.createTextNode(visible(String(k))))));
}

async function api(path, opts) {
  const o = opts || {};
  const headers = { 'X-Jasni-Token': token };
  if (o.json !== undefined) headers['Content-Type'] = 'application/json';
  const r = await fetch(path, { method: o.method || 'GET', headers, body: o.json === undefined ? undefined : JSON.stringify(o.json) });
  if (o.raw && r.ok) return new Uint8Array(await r.arrayBuffer());
  let body = null;
  try { body = await r.json(); } catch (_) { /* not JSON */ }
  if (!r.ok) throw new Error((body && body.message) || (r.status + ' ' + r.statusText));
  return body;
}

const idPath = (id) => '/api/deliveries/' + encodeURIComponent(id);

// ---- labels -------------------------------------------------------------

function verdictLabel(o) {
  switch (o.verdict) {
    case 'valid': return ['✓ signed', 'ok'];
    case 'invalid': return ['✗ bad signature', 'bad'];
    case 'missing': return ['✗ unsigned', 'bad'];
    default: return ['– not checked', 'muted'];
  }
}

function statusClass(s) {
  if (!s) return 'muted';
  if (s >= 200 && s < 300) return 'ok';
  if (s >= 500 || s === 0) return 'bad';
  return 'warn';
}

function answerLabel(o) {
  const f = o.forward;
  if (!o.answer) return 'in flight';
  let s = String(o.answer);
  if (f && f.skipped) s += ' · ' + f.skipped;
  else if (f && f.error) s += ' · ' + f.error;
  else if (f && f.summary) s += ' · ' + f.summary;
  return s;
}

function clock(t) {
  const d = new Date(t);
  return isNaN(d) ? '' : d.toLocaleTimeString([], { hour12: false });
}

// ---- the list -----------------------------------------------------------

function filters() {
  return {
    event: $('f-event').value.trim(), verdict: $('f-verdict').value,
    status: $('f-status').value, text: $('f-text').value.trim().toLowerCase(),
  };
}

function matches(o, f) {
  if (f.event && o.event !== f.event) return false;
  if (f.verdict && o.verdict !== (f.verdict === 'unchecked' ? 'not checked' : f.verdict)) return false;
  if (f.status && Math.floor(o.answer / 100) !== Number(f.status[0])) return false;
  if (f.text) {
    const fw = o.forward || {};
    const hay = [o.id, o.event, o.path, o.method, o.remote_addr, String(o.answer), fw.summary, fw.skipped, fw.error].join(' ').toLowerCase();
    if (!hay.includes(f.text)) return false;
  }
  return true;
}

function row(o, fresh) {
  const [vt, vc] = verdictLabel(o);
  const box = el('input', { type: 'checkbox', 'aria-label': 'select' });
  box.checked = state.selected.has(o.id);
  box.addEventListener('click', (ev) => {
    ev.stopPropagation();
    if (box.checked) state.selected.add(o.id); else state.selected.delete(o.id);
    selectionChanged();
  });
  const tr = el('tr', { 'data-id': o.id, class: (fresh ? 'fresh ' : '') + (state.current === o.id ? 'current' : '') },
    el('td', null, box),
    el('td', null, clock(o.received_at)),
    el('td', { title: o.event }, o.event || o.method + ' ' + o.path),
    el('td', { class: vc }, vt + (o.duplicate ? ' · duplicate' : '')),
    el('td', { class: statusClass(o.answer), title: answerLabel(o) }, answerLabel(o) + (o.not_kept ? ' · not kept' : '')),
    el('td', { class: 'id' }, o.id));
  tr.addEventListener('click', () => showDetail(o.id));
  return tr;
}

function upsert(o, fresh) {
  const tbody = $('rows');
  const old = tbody.querySelector('tr[data-id="' + CSS.escape(o.id) + '"]');
  state.rows.set(o.id, o);
  const tr = row(o, fresh);
  if (old) old.replaceWith(tr); else tbody.prepend(tr);
  $('empty').hidden = true;
  addEventName(o.event);
}

const eventNames = new Set();
function addEventName(name) {
  if (!name || eventNames.has(name) || eventNames.size > 500) return;
  eventNames.add(name);
  $('events').append(el('option', { value: name }));
}

async function loadList(older) {
  const gen = ++state.gen;
  const f = filters();
  const q = new URLSearchParams({ limit: String(PAGE) });
  if (state.refused) q.set('refused', '1');
  if (f.event) q.set('event', f.event);
  if (f.verdict) q.set('verdict', f.verdict);
  if (f.status) q.set('status', f.status);
  if (older) q.set('before', state.oldest);
  let ans;
  try { ans = await api('/api/deliveries?' + q); } catch (e) { showError($('listpane'), e); return; }
  if (gen !== state.gen) return; // a newer load started
  const tbody = $('rows');
  if (!older) { fill(tbody); state.rows.clear(); }
  const frag = document.createDocumentFragment();
  for (const o of ans.deliveries) {
    state.rows.set(o.id, o);
    addEventName(o.event);
    if (matches(o, f)) frag.append(row(o, false));
  }
  tbody.append(frag);
  if (ans.deliveries.length) state.oldest = ans.deliveries[ans.deliveries.length - 1].id;
  $('more').hidden = !ans.more;
  $('empty').hidden = tbody.children.length > 0;
}

function applyText() {
  const f = filters();
  for (const tr of $('rows').children) {
    const o = state.rows.get(tr.dataset.id);
    tr.hidden = !!o && !matches(o, f);
  }
}

function selectionChanged() {
  const n = state.selected.size;
  $('selcount').textContent = n ? n + ' selected' : 'none selected';
  $('export-sel').disabled = n === 0;
  $('compare-sel').disabled = n !== 2;
}

function setTab(refused) {
  state.refused = refused;
  $('tab-deliveries').setAttribute('aria-selected', String(!refused));
  $('tab-refused').setAttribute('aria-selected', String(refused));
  if (refused) { state.refusedNew = 0; $('refused-count').textContent = ''; }
  state.selected.clear();
  selectionChanged();
  loadList(false);
}

// ---- the live stream ----------------------------------------------------

// Deliveries that arrive in a burst are drawn once per frame, so the page
// keeps up; the list keeps the newest MAX_ROWS.
let pending = [];
function flushPending() {
  const batch = pending;
  pending = [];
  const f = filters();
  let reopen = false;
  for (const o of batch) {
    if (!!o.rejected !== state.refused) {
      if (o.rejected) { state.refusedNew++; $('refused-count').textContent = '+' + state.refusedNew; }
      continue;
    }
    if (!matches(o, f)) continue;
    upsert(o, true);
    if (state.current === o.id) reopen = true;
  }
  const rows = $('rows');
  while (rows.children.length > MAX_ROWS) {
    const last = rows.lastElementChild;
    state.rows.delete(last.dataset.id);
    state.oldest = rows.children[rows.children.length - 2].dataset.id;
    last.remove();
    $('more').hidden = false;
  }
  // The open delivery is drawn again, unless the user is editing it.
  if (reopen && !$('edit-body')) showDetail(state.current);
}

// A hidden tab lets go of its stream (a browser holds six connections to
// a host, and each open page keeps one), and catches up when shown again.
let stream = null;
document.addEventListener('visibilitychange', () => {
  if (document.hidden && stream) {
    stream.close();
    stream = null;
    $('conn').textContent = '○ paused while hidden';
    $('conn').className = 'conn';
  } else if (!document.hidden && !stream) {
    loadList(false);
    connect();
  }
});

function connect() {
  const es = new EventSource('/api/stream');
  stream = es;
  es.addEventListener('hello', () => {
    $('conn').textContent = '● live';
    $('conn').className = 'conn live';
  });
  es.addEventListener('delivery', (ev) => {
    pending.push(JSON.parse(ev.data));
    if (pending.length === 1) requestAnimationFrame(flushPending);
  });
  es.addEventListener('missed', () => loadList(false));
  es.onerror = () => {
    $('conn').textContent = '○ reconnecting…';
    $('conn').className = 'conn down';
  };
}

// ---- JSON, exactly as received ------------------------------------------

// parseJSON reads text into a tree that keeps key order, duplicate keys and
// numbers as written (JSON.parse rounds large ones).
function parseJSON(text) {
  let i = 0;
  const ws = () => { while (i < text.length && ' \t\n\r'.includes(text[i])) i++; };
  const fail = (what) => { throw new Error(what + ' at ' + i); };
  function value(depth) {
    if (depth > 200) fail('too deep');
    ws();
    const c = text[i];
    if (c === '{') {
      i++; const entries = []; ws();
      if (text[i] === '}') { i++; return { t: 'o', entries }; }
      for (;;) {
        ws(); if (text[i] !== '"') fail('want a key');
        const k = str(); ws();
        if (text[i++] !== ':') fail('want :');
        entries.push([k, value(depth + 1)]); ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === '}') { i++; return { t: 'o', entries }; }
        fail('want , or }');
      }
    }
    if (c === '[') {
      i++; const items = []; ws();
      if (text[i] === ']') { i++; return { t: 'a', items }; }
      for (;;) {
        items.push(value(depth + 1)); ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === ']') { i++; return { t: 'a', items }; }
        fail('want , or ]');
      }
    }
    if (c === '"') return { t: 's', v: str() };
    const m = /^(-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i, i + 400));
    if (!m) fail('not JSON');
    i += m[0].length;
    if (m[0] === 'null') return { t: 'z', v: 'null' };
    if (m[0] === 'true' || m[0] === 'false') return { t: 'b', v: m[0] };
    return { t: 'n', v: m[0] };
  }
  function str() {
    const start = i; i++;
    while (i < text.length && text[i] !== '"') { if (text[i] === '\\') i++; i++; }
    if (i >= text.length) fail('unterminated string');
    i++;
    return JSON.parse(text.slice(start, i));
  }
  const v = value(0); ws();
  if (i !== text.length) fail('text after the value');
  return v;
}

function pretty(n, ind) {
  ind = ind || '';
  const next = ind + '  ';
  switch (n.t) {
    case 'o': return n.entries.length ? '{\n' + n.entries.map(([k, v]) => next + JSON.stringify(k) + ': ' + pretty(v, next)).join(',\n') + '\n' + ind + '}' : '{}';
    case 'a': return n.items.length ? '[\n' + n.items.map((v) => next + pretty(v, next)).join(',\n') + '\n' + ind + ']' : '[]';
    case 's': return JSON.stringify(n.v);
    default: return n.v;
  }
}

function tree(n, key, depth) {
  const label = key === undefined ? [] : [el('span', { class: 'k' }, typeof key === 'number' ? key : JSON.stringify(key)), ': '];
  if (n.t === 'o' || n.t === 'a') {
    const kids = n.t === 'o' ? n.entries : n.items.map((v, i) => [i, v]);
    const d = el('details', { open: depth < 3 || undefined },
      el('summary', null, label, n.t === 'o' ? '{' + kids.length + '}' : '[' + kids.length + ']'));
    for (const [k, v] of kids) d.append(tree(v, k, depth + 1));
    return d;
  }
  const cls = { s: 's', n: 'n', b: 'b', z: 'z' }[n.t];
  return el('div', { class: 'leaf' }, label, el('span', { class: cls }, n.t === 's' ? JSON.stringify(n.v) : n.v));
}

// decode turns bytes into text segments; bytes that are not UTF-8 become
// \xNN segments marked bad.
function decode(bytes) {
  try { return [{ text: new TextDecoder('utf-8', { fatal: true }).decode(bytes) }]; } catch (_) { /* below */ }
  const out = []; let start = 0; let i = 0;
  const flush = (end) => { if (end > start) out.push({ text: new TextDecoder().decode(bytes.subarray(start, end)) }); };
  while (i < bytes.length) {
    const b = bytes[i];
    const need = b < 0x80 ? 0 : (b & 0xe0) === 0xc0 && b >= 0xc2 ? 1 : (b & 0xf0) === 0xe0 ? 2 : (b & 0xf8) === 0xf0 && b <= 0xf4 ? 3 : -1;
    let ok = need >= 0 && i + need < bytes.length;
    for (let k = 1; ok && k <= need; k++) ok = (bytes[i + k] & 0xc0) === 0x80;
    if (ok && need > 0) {
      try { new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(i, i + need + 1)); } catch (_) { ok = false; }
    }
    if (ok) { i += need + 1; continue; }
    flush(i);
    out.push({ text: '\\x' + b.toString(16).padStart(2, '0'), bad: true });
    i++; start = i;
  }
  flush(i);
  return out;
}

// textOf is bytes as text, the bytes that are not UTF-8 as \xNN.
const textOf = (bytes) => decode(bytes).map((s) => s.text).join('');

function rawView(segs) {
  return el('pre', { class: 'raw' }, segs.map((s) => s.bad ? el('span', { class: 'bad-byte', title: 'not UTF-8' }, s.text) : s.text));
}

function bodyView(bytes) {
  const segs = decode(bytes);
  const text = segs.map((s) => s.text).join('');
  const utf8 = segs.length <= 1 && !(segs[0] && segs[0].bad);
  let parsed = null;
  if (utf8 && bytes.length <= TREE_MAX) { try { parsed = parseJSON(text); } catch (_) { parsed = null; } }
  const box = el('div');
  const show = (which) => {
    fill(box, which === 'tree' ? el('div', { class: 'tree' }, tree(parsed, undefined, 0)) : rawView(segs));
    for (const b of sw.children) b.setAttribute('aria-pressed', String(b.dataset.view === which));
  };
  const sw = el('div', { class: 'switch' },
    parsed ? el('button', { 'data-view': 'tree', onclick: () => show('tree') }, 'JSON tree') : null,
    el('button', { 'data-view': 'raw', onclick: () => show('raw') }, 'Raw'),
    !utf8 ? el('span', { class: 'warn' }, ' This body is not UTF-8: the bytes that are not are shown as \\xNN.') : null);
  show(parsed ? 'tree' : 'raw');
  return el('div', null, sw, box);
}

// ---- a delivery ---------------------------------------------------------

function headersView(h) {
  const dl = el('dl', { class: 'kv' });
  for (const k of Object.keys(h || {}).sort()) {
    const vs = h[k];
    if (vs === null) { dl.append(el('dt', null, k), el('dd', { class: 'muted' }, '(removed)')); continue; }
    for (const v of vs) dl.append(el('dt', null, k), el('dd', null, v));
  }
  return dl;
}

function answerBody(body) {
  if (body === undefined || body === null) return null;
  return el('pre', null, typeof body === 'string' ? body : JSON.stringify(body, null, 2));
}

function attemptView(a, n, pick) {
  const status = a.status ? a.status + (a.error ? '' : '') : (a.error ? 'no answer' : a.skipped ? 'not forwarded' : '');
  return el('div', { class: 'attempt', 'data-attempt': n },
    el('h3', null,
      pick,
      ' #' + (n + 1) + ' by ' + (a.by || 'listen') + ' → ',
      el('span', { class: statusClass(a.status) }, status),
      a.duration_ms !== undefined && a.status ? ' · ' + a.duration_ms + ' ms' : '',
      a.at ? el('span', { class: 'muted' }, ' · ' + new Date(a.at).toLocaleString()) : ''),
    a.url ? el('div', { class: 'mono muted' }, a.url) : null,
    a.error ? el('div', { class: 'bad' }, a.error) : null,
    a.skipped ? el('div', { class: 'warn' }, a.skipped) : null,
    a.fix ? el('div', { class: 'muted' }, a.fix) : null,
    a.sent ? el('details', null, el('summary', null, 'what was sent differently'),
      a.sent.headers ? headersView(a.sent.headers) : null,
      a.sent.body !== undefined ? answerBody(a.sent.body) : null) : null,
    a.headers ? el('details', null, el('summary', null, 'answer headers'), headersView(a.headers)) : null,
    a.body !== undefined ? el('div', null, el('div', { class: 'muted' }, 'answer body' + (a.truncated ? ' (the first ' + 64 + ' KiB)' : '')), answerBody(a.body)) : null);
}

async function showDetail(id) {
  state.current = id;
  for (const tr of $('rows').children) tr.classList.toggle('current', tr.dataset.id === id);
  const pane = $('detail');
  let o; let bytes;
  try {
    [o, bytes] = await Promise.all([api(idPath(id)), api(idPath(id) + '/fixture', { raw: true })]);
  } catch (e) { fill(pane); showError(pane, e); return; }
  if (state.current !== id) return;
  const [vt, vc] = verdictLabel(o);
  const fw = o.forward || {};
  const noReplay = !!state.info.no_replay;
  const picks = [];
  const attempts = (o.attempts || []).map((a, n) => {
    const box = el('input', { type: 'checkbox', 'aria-label': 'compare' });
    picks.push([box, a]);
    return attemptView(a, n, box);
  });
  const editor = el('div', { id: 'editor' });
  fill(pane,
    el('h2', null, o.method + ' ', el('span', { class: 'mono' }, o.path)),
    el('dl', { class: 'kv' },
      el('dt', null, 'id'), el('dd', null, o.id),
      el('dt', null, 'received'), el('dd', null, new Date(o.received_at).toLocaleString()),
      el('dt', null, 'from'), el('dd', null, o.remote_addr || ''),
      el('dt', null, 'event'), el('dd', null, o.event || '(none)'),
      el('dt', null, 'body'), el('dd', null, o.body_size + ' bytes' + (o.truncated ? ', only the start kept' : '')),
      el('dt', null, 'answered'), el('dd', { class: statusClass(o.answer) }, String(o.answer || 'in flight'))),
    el('div', { class: 'verdict' }, el('span', { class: vc }, vt),
      o.duplicate ? el('span', { class: 'warn' }, ' · duplicate: the same delivery arrived before') : null,
      fw.skipped ? el('span', { class: 'cause' }, ' · ' + fw.skipped) : null,
      fw.fix ? el('span', { class: 'fix' }, fw.fix) : null),
    el('div', { class: 'actions' },
      el('button', { id: 'replay-asis', disabled: noReplay, onclick: () => replay(o.id, { sign: 'as-is' }) }, 'Replay as received'),
      el('button', { id: 'replay-fresh', disabled: noReplay, onclick: () => replay(o.id, { sign: 'fresh' }) }, 'Replay re-signed'),
      el('button', { id: 'edit', disabled: noReplay, onclick: () => openEditor(o, bytes, editor) }, 'Edit and replay'),
      el('button', { id: 'curl', onclick: () => copyCurl(o, bytes) }, 'Copy as curl'),
      el('a', { class: 'button', href: idPath(o.id) + '/fixture', download: '' }, 'Save as fixture'),
      el('a', { class: 'button', href: idPath(o.id) + '/har', download: '' }, 'Export HAR')),
    state.info.no_replay ? el('div', { class: 'muted' }, 'Replay: ' + state.info.no_replay) : null,
    el('div', { class: 'result', id: 'replay-result' }), editor,
    el('h3', null, 'Request headers'), headersView(o.headers),
    el('h3', null, 'Body'), bodyView(bytes),
    el('h3', null, 'Attempts ',
      attempts.length > 1 ? el('button', { id: 'compare-attempts', onclick: () => compareAttempts(picks) }, 'Compare two answers') : null),
    attempts.length ? attempts : el('p', { class: 'muted' }, 'Not sent to an app yet.'));
}

function showError(where, e) {
  where.prepend(el('p', { class: 'bad error' }, e.message));
}

// The detail's place for what an action says; the detail is drawn again
// after a replay, so it is looked up each time.
const resultBox = () => $('replay-result');

async function replay(id, req) {
  fill(resultBox(), el('span', { class: 'muted' }, 'sending…'));
  let said;
  try {
    const r = await api(idPath(id) + '/replay', { method: 'POST', json: req });
    const a = r.attempt;
    said = [el('div', { class: r.ok ? 'ok' : 'bad' },
      (r.ok ? '✓ ' : '✗ ') + 'replayed: ' + (a.status ? a.status : a.error || 'no answer') + (a.summary ? ' · ' + a.summary : '') + ' · ' + a.duration_ms + ' ms'),
    r.note ? el('div', { class: 'note' }, r.note) : null];
  } catch (e) {
    fill(resultBox(), el('div', { class: 'bad' }, '✗ ' + e.message));
    return;
  }
  // The detail is drawn again with the new attempt; an open editor stays
  // open, with what was typed in it.
  const kept = $('edit-body') ? { headers: $('edit-headers').value, body: $('edit-body').value, sign: $('edit-sign').value } : null;
  await showDetail(id);
  fill(resultBox(), said);
  if (kept) {
    $('edit').click();
    $('edit-headers').value = kept.headers;
    if (!$('edit-body').disabled) $('edit-body').value = kept.body;
    $('edit-sign').value = kept.sign;
  }
}

function openEditor(o, bytes, editor) {
  const lines = [];
  for (const k of Object.keys(o.headers || {}).sort()) for (const v of o.headers[k]) lines.push(k + ': ' + v);
  const hdr = el('textarea', { id: 'edit-headers', spellcheck: 'false' });
  hdr.value = lines.join('\n');
  const body = el('textarea', { id: 'edit-body', spellcheck: 'false' });
  const utf8 = isUTF8(bytes);
  body.value = utf8 ? new TextDecoder().decode(bytes) : '';
  if (!utf8) {
    body.disabled = true;
    body.placeholder = 'This body is not UTF-8, so it cannot be edited as text here: it is sent as received, byte for byte. Edit the headers, or the signing.';
  }
  const sign = el('select', { id: 'edit-sign' },
    el('option', { value: 'fresh' }, 'sign with the secret listen verifies with (fresh timestamp)'),
    el('option', { value: 'none' }, 'send unsigned (the app should refuse it)'),
    el('option', { value: 'wrong' }, 'sign with a wrong secret (the app should refuse it)'),
    el('option', { value: 'as-is' }, 'send the headers exactly as written'));
  const err = el('div', { class: 'bad' });
  const send = el('button', { id: 'edit-send', onclick: () => {
    const headers = Object.create(null); // a header named __proto__ is a header
    for (const [n, line] of hdr.value.split('\n').entries()) {
      if (!line.trim()) continue;
      const c = line.indexOf(':');
      if (c <= 0) { err.textContent = 'header line ' + (n + 1) + ': want Name: value'; return; }
      const k = line.slice(0, c).trim();
      (headers[k] = headers[k] || []).push(line.slice(c + 1).trim());
    }
    err.textContent = '';
    const req = { headers, sign: sign.value };
    if (utf8) req.body = body.value;
    replay(o.id, req);
  } }, 'Send to the app');
  fill(editor, el('h3', null, 'Edit and replay'), el('div', { class: 'muted' }, 'Headers, one per line'), hdr,
    el('div', { class: 'muted' }, 'Body'), body, el('div', { class: 'actions' }, sign, send,
      el('button', { onclick: () => fill(editor) }, 'Cancel'),
      el('button', { onclick: () => showDiff(resultBox(), 'as received', textOf(bytes), 'edited', body.value) }, 'Diff against the original')), err);
}

function isUTF8(bytes) {
  try { new TextDecoder('utf-8', { fatal: true }).decode(bytes); return true; } catch (_) { return false; }
}

function target(o) {
  const f = state.info.forward;
  if (f) return /^[a-z]+:\/\/[^/]+\/?$/i.test(f) ? f.replace(/\/$/, '') + o.path : f;
  return (state.info.base_url || 'http://localhost') + o.path;
}

function shellQuote(s) { return "'" + s.replace(/'/g, "'\\''") + "'"; }

async function copyCurl(o, bytes) {
  const parts = ['curl -X ' + o.method + ' ' + shellQuote(target(o))];
  for (const k of Object.keys(o.headers || {}).sort()) {
    if (/^(content-length|x-forwarded-.*|host|connection)$/i.test(k)) continue;
    for (const v of o.headers[k]) parts.push('-H ' + shellQuote(k + ': ' + v));
  }
  const text = isUTF8(bytes) ? new TextDecoder().decode(bytes) : null;
  const inline = text !== null && !text.includes('\u0000') && bytes.length <= 64 * 1024;
  const file = (/^[A-Za-z0-9_.-]{1,100}$/.test(o.event || '') ? o.event : 'delivery') + '.json';
  parts.push('--data-binary ' + (inline ? shellQuote(text) : '@' + file));
  const cmd = parts.join(' \\\n  ');
  let copied = false;
  try { await navigator.clipboard.writeText(cmd); copied = true; } catch (_) { /* shown below */ }
  fill(resultBox(), el('div', { class: 'muted' }, (copied ? 'Copied. ' : 'Copy it from here. ') + 'The signature in it is the original one.' +
    (inline ? '' : ' The body is read from ' + file + ' (it is ' + (text === null ? 'not UTF-8' : 'too long for a command line') + '): save it there with Save as fixture.')),
  el('pre', { id: 'curl-text' }, cmd));
}

// ---- diffs --------------------------------------------------------------

function asText(v) {
  if (v === undefined || v === null) return '';
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  try { return pretty(parseJSON(s)); } catch (_) { return s; }
}

// diffLines is the longest common subsequence of two texts' lines, as rows
// [left, right, kind]; long texts fall back to line by line.
function diffLines(a, b) {
  const x = a.split('\n'); const y = b.split('\n');
  const n = x.length; const m = y.length;
  const rows = [];
  if (n * m > 4e6) {
    for (let i = 0; i < Math.max(n, m); i++) rows.push([x[i], y[i], x[i] === y[i] ? 'same' : 'change']);
    return rows;
  }
  const L = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) L[i][j] = x[i] === y[j] ? L[i + 1][j + 1] + 1 : Math.max(L[i + 1][j], L[i][j + 1]);
  let i = 0; let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && x[i] === y[j]) { rows.push([x[i++], y[j++], 'same']); continue; }
    if (j < m && (i >= n || L[i][j + 1] >= L[i + 1][j])) rows.push([undefined, y[j++], 'add']);
    else rows.push([x[i++], undefined, 'del']);
  }
  return rows;
}

function showDiff(where, la, a, lb, b) {
  const grid = el('div', { class: 'diff', id: 'diff' }, el('div', { class: 'head' }, la), el('div', { class: 'head' }, lb));
  let changed = 0;
  for (const [l, r, kind] of diffLines(a, b)) {
    if (kind !== 'same') changed++;
    grid.append(el('div', { class: l === undefined ? 'gap' : kind === 'same' ? '' : 'del' }, l === undefined ? '' : l),
      el('div', { class: r === undefined ? 'gap' : kind === 'same' ? '' : 'add' }, r === undefined ? '' : r));
  }
  fill(where, el('div', { class: 'muted' }, changed ? changed + ' lines differ' : 'identical'), grid);
  where.scrollIntoView({ block: 'nearest' });
}

function headerLines(h) {
  const out = [];
  for (const k of Object.keys(h || {}).sort()) for (const v of h[k] || []) out.push(k + ': ' + v);
  return out.join('\n');
}

function compareAttempts(picks) {
  const chosen = picks.filter(([box]) => box.checked).map(([, a]) => a);
  const pair = chosen.length === 2 ? chosen : picks.length >= 2 ? [picks[picks.length - 2][1], picks[picks.length - 1][1]] : null;
  if (!pair) return;
  const side = (a) => 'status ' + (a.status || a.error || '') + '\n' + headerLines(a.headers) + '\n\n' + asText(a.body);
  showDiff(resultBox(), 'attempt by ' + pair[0].by + ' ' + (pair[0].at || ''), side(pair[0]), 'attempt by ' + pair[1].by + ' ' + (pair[1].at || ''), side(pair[1]));
}

async function compareSelected() {
  const ids = [...state.selected];
  if (ids.length !== 2) return;
  const pane = $('detail');
  try {
    const [a, b] = await Promise.all(ids.map((id) => api(idPath(id) + '/fixture', { raw: true })));
    const box = el('div');
    fill(pane, el('h2', null, 'Bodies compared'), box);
    const label = (id) => { const o = state.rows.get(id); return (o && o.event ? o.event + ' ' : '') + id; };
    showDiff(box, label(ids[0]), asText(textOf(a)), label(ids[1]), asText(textOf(b)));
  } catch (e) { showError(pane, e); }
}

// ---- start --------------------------------------------------------------

async function start() {
  try { state.info = await api('/api/info'); } catch (_) { state.info = {}; }
  if (state.info.forward) $('target').textContent = 'replays go to ' + state.info.forward;
  else if (state.info.no_replay) $('target').textContent = state.info.no_replay;
  $('tab-deliveries').addEventListener('click', () => setTab(false));
  $('tab-refused').addEventListener('click', () => setTab(true));
  for (const id of ['f-event', 'f-verdict', 'f-status']) $(id).addEventListener('change', () => loadList(false));
  $('f-text').addEventListener('input', applyText);
  $('more').addEventListener('click', () => loadList(true));
  $('export-sel').addEventListener('click', () => {
    const a = el('a', { href: '/api/export.har?ids=' + [...state.selected].map(encodeURIComponent).join(','), download: '' });
    document.body.append(a); a.click(); a.remove();
  });
  $('compare-sel').addEventListener('click', compareSelected);
  await loadList(false);
  connect();
}

start();
