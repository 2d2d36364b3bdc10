/**
 * The dashboard's script, as the browser runs it (no build step, no CDN: it ships in the
 * package). Every piece of data goes into the page as text (textContent), never as HTML.
 * Charts are drawn as SVG by hand: a five-axis radar, a three-column graph and a timeline.
 */
export const DASHBOARD_SCRIPT = String.raw`
const $ = (sel) => document.querySelector(sel);
const SVG = 'http://www.w3.org/2000/svg';
function h(tag, attrs, ...kids) {
  const svg = ['svg', 'g', 'line', 'polygon', 'circle', 'rect', 'text', 'path', 'title'].includes(tag);
  const el = svg ? document.createElementNS(SVG, tag) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, String(v));
  }
  for (const kid of kids.flat()) if (kid !== undefined && kid !== null) el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  return el;
}
let token = sessionStorage.getItem('troupe-token') || '';
const headers = () => (token ? { Authorization: 'Bearer ' + token } : {});
async function api(path, init) {
  const res = await fetch('/api' + path, { ...(init || {}), headers: { 'content-type': 'application/json', ...headers(), ...((init && init.headers) || {}) } });
  if (res.status === 401) { $('#login').hidden = false; throw new Error('a token is needed'); }
  const body = res.status === 204 ? null : await res.json();
  if (!res.ok) throw new Error((body && body.error && body.error.code + ': ' + body.error.message) || res.statusText);
  return body;
}
$('#login').addEventListener('submit', (e) => { e.preventDefault(); token = $('#token').value; sessionStorage.setItem('troupe-token', token); $('#login').hidden = true; refresh(); follow(); });

// Light and dark: the system's choice, or the one picked here.
const theme = localStorage.getItem('troupe-theme');
if (theme) document.documentElement.dataset.theme = theme;
$('#theme').addEventListener('click', () => {
  const now = document.documentElement.dataset.theme || (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light');
  document.documentElement.dataset.theme = now === 'dark' ? 'light' : 'dark';
  localStorage.setItem('troupe-theme', document.documentElement.dataset.theme);
});

// Views, reachable by keyboard (they are buttons).
for (const b of document.querySelectorAll('nav button')) b.addEventListener('click', () => show(b.dataset.view));
function show(view) {
  for (const b of document.querySelectorAll('nav button')) b.setAttribute('aria-pressed', String(b.dataset.view === view));
  for (const s of document.querySelectorAll('main > section')) s.hidden = s.id !== view;
  location.hash = view;
}
if (location.hash) show(location.hash.slice(1));

const TRAITS = ['openness', 'conscientiousness', 'extraversion', 'agreeableness', 'neuroticism'];
const SHORT = { openness: 'open', conscientiousness: 'conscientious', extraversion: 'extravert', agreeableness: 'agreeable', neuroticism: 'neurotic' };
function radar(p) {
  const size = 180, c = size / 2, r = 62;
  const at = (i, v) => { const a = -Math.PI / 2 + (i * 2 * Math.PI) / TRAITS.length; return [c + Math.cos(a) * r * v, c + Math.sin(a) * r * v]; };
  const five = p.bigFive || {};
  const pts = TRAITS.map((t, i) => at(i, Math.max(0, Math.min(100, Number(five[t]) || 0)) / 100).join(',')).join(' ');
  const svg = h('svg', { viewBox: '-34 -6 ' + (size + 68) + ' ' + (size + 12), class: 'radar', role: 'img', 'aria-label': 'Big Five of ' + p.id + ': ' + TRAITS.map((t) => t + ' ' + (five[t] ?? '?')).join(', '), 'data-points': pts });
  for (const ring of [0.25, 0.5, 0.75, 1]) svg.append(h('polygon', { points: TRAITS.map((_, i) => at(i, ring).join(',')).join(' '), class: 'ring' }));
  TRAITS.forEach((t, i) => {
    const [x, y] = at(i, 1);
    svg.append(h('line', { x1: c, y1: c, x2: x, y2: y, class: 'axis' }));
    const [lx, ly] = at(i, 1.28);
    svg.append(h('text', { x: lx, y: ly, class: 'label', 'text-anchor': 'middle', 'dominant-baseline': 'middle' }, SHORT[t]));
  });
  svg.append(h('polygon', { points: pts, class: 'shape' }, h('title', {}, TRAITS.map((t) => t + ': ' + (five[t] ?? '?')).join('\n'))));
  return svg;
}

let data = { personalities: [], roles: [], agents: [], models: [], states: [] };
async function refresh() {
  try {
    const [personalities, roles, agents, models, states] = await Promise.all(['/personalities', '/roles', '/agents', '/models', '/states'].map((p) => api(p)));
    data = { personalities, roles, agents, models, states };
    drawCast(); drawGraph();
    await drawRuns();
  } catch (e) { $('#live').textContent = String(e.message || e); }
}
const staleIds = () => new Set((data.states || []).filter((s) => s.state !== 'synchronized').map((s) => s.agentId));

function drawCast() {
  const cast = $('#cast');
  cast.replaceChildren();
  const stale = staleIds();
  for (const p of data.personalities) {
    const users = data.agents.filter((a) => a.personalityId === p.id);
    cast.append(h('article', { class: 'card', tabindex: 0, 'data-personality': p.id, 'aria-label': 'personality ' + p.id },
      h('h2', {}, p.name || p.id), h('p', { class: 'muted' }, p.id + ' · revision ' + (p.revision ?? '?')),
      radar(p),
      h('p', {}, users.length ? 'Agents: ' : 'No agent uses it', ...users.map((a) => h('span', { class: stale.has(a.id) ? 'chip stale' : 'chip' }, a.id + (stale.has(a.id) ? ' (stale)' : ''))))));
  }
  if (!data.personalities.length) cast.append(h('p', {}, 'No personalities yet.'));
}

function drawGraph() {
  const g = $('#graph');
  g.replaceChildren();
  const stale = staleIds();
  const agents = data.agents;
  const deps = [];
  for (const a of agents) {
    deps.push(['personality', a.personalityId], ['role', a.roleId]);
    if (a.model && a.model.modelId) deps.push(['model', a.model.modelId]);
  }
  const right = [...new Map(deps.map(([k, id]) => [k + ':' + id, { k, id }])).values()];
  const rowH = 34, width = 720, height = Math.max(agents.length, right.length, 1) * rowH + 20;
  const svg = h('svg', { viewBox: '0 0 ' + width + ' ' + height, class: 'graph', role: 'img', 'aria-label': 'agents and what they use' });
  const y = (i) => 20 + i * rowH;
  right.forEach((n, i) => {
    svg.append(h('rect', { x: 470, y: y(i) - 12, width: 230, height: 24, rx: 6, class: 'node ' + n.k }), h('text', { x: 480, y: y(i) + 4 }, n.k + ': ' + n.id));
  });
  agents.forEach((a, i) => {
    const isStale = stale.has(a.id);
    for (const [k, id] of [['personality', a.personalityId], ['role', a.roleId], ['model', a.model && a.model.modelId]]) {
      const j = right.findIndex((n) => n.k === k && n.id === id);
      if (j >= 0) svg.append(h('line', { x1: 250, y1: y(i), x2: 470, y2: y(j), class: 'edge ' + k + (isStale ? ' stale' : '') }));
    }
    svg.append(h('rect', { x: 20, y: y(i) - 12, width: 230, height: 24, rx: 6, class: 'node agent' + (isStale ? ' stale' : ''), 'data-agent': a.id }),
      h('text', { x: 30, y: y(i) + 4 }, a.id + (isStale ? ' ⚠ stale' : '')));
  });
  g.append(h('p', { class: 'muted' }, 'Agents (left) → the personality, role and model each uses. Stale agents (a source moved on since they were composed) are marked.'), svg);
}

let shownRun = null;
async function drawRuns() {
  const page = await api('/runs?limit=30');
  const list = $('#run-list');
  list.replaceChildren(h('h2', {}, 'Runs'), h('ul', {}, ...page.runs.map((r) =>
    h('li', {}, h('button', { class: 'run ' + r.state, 'data-run': r.runId, onclick: () => drawTimeline(r.runId) }, r.workflowId + ' · ' + r.state + ' · ' + new Date(r.createdAt).toLocaleTimeString())))));
  if (shownRun) await drawTimeline(shownRun, true);
}

async function drawTimeline(runId, quiet) {
  shownRun = runId;
  const run = await api('/runs/' + encodeURIComponent(runId));
  const box = $('#timeline');
  const events = run.events.filter((e) => e.type === 'step');
  const t0 = run.createdAt, t1 = Math.max(run.updatedAt, ...events.map((e) => e.at), t0 + 1);
  const width = 720, left = 150, x = (t) => left + ((t - t0) / (t1 - t0)) * (width - left - 10);
  const steps = run.steps;
  const comp = events.filter((e) => e.kind === 'compensate-start');
  const rows = steps.length + (comp.length ? 1 : 0);
  const svg = h('svg', { viewBox: '0 0 ' + width + ' ' + (rows * 30 + 40), class: 'timeline', role: 'img', 'aria-label': 'timeline of run ' + runId });
  steps.forEach((s, i) => {
    const yy = 20 + i * 30;
    svg.append(h('text', { x: 8, y: yy + 14 }, s.stepId));
    for (const a of s.attempts) {
      const end = a.startedAt + (a.durationMs || 0);
      svg.append(h('rect', { x: x(a.startedAt), y: yy, width: Math.max(3, x(end) - x(a.startedAt)), height: 18, class: 'bar ' + (a.error ? 'failed' : 'ok'), 'data-step': s.stepId, 'data-attempt': a.attempt },
        h('title', {}, s.stepId + ' attempt ' + a.attempt + (a.error ? ': ' + a.error.code : '') + ' (' + (a.durationMs ?? '?') + ' ms)')));
    }
    for (const e of events.filter((e) => e.stepId === s.stepId && (e.kind === 'circuit' || e.kind === 'retry-scheduled')))
      svg.append(h('circle', { cx: x(e.at), cy: yy + 9, r: 4, class: e.kind }, h('title', {}, e.kind + (e.circuit ? ' ' + JSON.stringify(e.circuit) : ''))));
  });
  if (comp.length) {
    const yy = 20 + steps.length * 30;
    svg.append(h('text', { x: 8, y: yy + 14, class: 'lane' }, 'compensation'));
    // The unwind order matters more than its few milliseconds: one block per undo, in order,
    // from where the compensation began (moved left if the lane would run off the chart).
    const slot = 110;
    const start = Math.max(left, Math.min(x(comp[0].at), width - 10 - comp.length * slot));
    comp.forEach((e, n) => {
      const done = events.find((d) => d.stepId === e.stepId && (d.kind === 'compensated' || d.kind === 'compensation-failed') && d.at >= e.at);
      const bx = start + n * slot;
      svg.append(h('rect', { x: bx, y: yy, width: slot - 6, height: 18, class: 'bar comp ' + (done && done.kind === 'compensation-failed' ? 'failed' : 'ok'), 'data-compensation': e.stepId, 'data-order': n + 1 }, h('title', {}, (n + 1) + '. undo ' + e.stepId + (done ? ' (' + (done.at - e.at) + ' ms, ' + done.kind + ')' : ' (under way)'))));
      svg.append(h('text', { x: bx + 4, y: yy + 13, class: 'order' }, (n + 1) + '. undo ' + e.stepId));
    });
  }
  box.replaceChildren(h('h2', {}, run.workflowId + ' · ' + run.state), h('p', { class: 'muted' }, 'run ' + runId + (comp.length ? ' · undone in order: ' + comp.map((e) => e.stepId).join(' → ') : '')), svg);
  if (!quiet) box.focus && box.setAttribute('tabindex', '-1');
}

// Apply: the dry-run diff first, then the apply of what was shown.
// What Apply sends is the bundle whose diff is shown: an edit after it asks for a new diff.
let shownBundle = null;
$('#bundle').addEventListener('input', () => { shownBundle = null; $('#do-apply').disabled = true; });
$('#plan').addEventListener('click', async () => {
  const out = $('#diff');
  const text = $('#bundle').value;
  try {
    const plan = await api('/apply?dryRun=true', { method: 'POST', body: text });
    const changes = plan.changes || [];
    out.replaceChildren(h('ul', { class: 'diff' }, ...changes.map((c) => h('li', { class: c.action }, c.action + ' ' + c.kind + '/' + c.id,
      h('ul', {}, ...(c.changes || []).map((f) => h('li', { class: 'field' }, f.path + ': ' + JSON.stringify(f.from) + ' → ' + JSON.stringify(f.to))))))));
    if (!changes.length) out.replaceChildren(h('p', {}, 'Nothing would change.'));
    shownBundle = text;
    $('#do-apply').disabled = changes.length === 0;
  } catch (e) { out.replaceChildren(h('p', { class: 'error', role: 'alert' }, String(e.message || e))); }
});
$('#do-apply').addEventListener('click', async () => {
  if (shownBundle === null) return;
  try { await api('/apply', { method: 'POST', body: shownBundle }); shownBundle = null; $('#do-apply').disabled = true; $('#diff').append(h('p', { role: 'status' }, 'applied')); refresh(); }
  catch (e) { $('#diff').append(h('p', { class: 'error', role: 'alert' }, String(e.message || e))); }
});

// Live: the change feed (server-sent events read with fetch, so the token goes in a header),
// and the runs list looked at every half second (a run that changes nothing is not in the feed).
let position;
async function follow() {
  for (;;) {
    try {
      const res = await fetch('/api/feed' + (position !== undefined ? '?from=' + position : ''), { headers: headers() });
      if (res.status === 401) { $('#login').hidden = false; return; }
      $('#live').textContent = 'live';
      const reader = res.body.getReader();
      const dec = new TextDecoder();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += dec.decode(value, { stream: true });
        let cut;
        while ((cut = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, cut); buf = buf.slice(cut + 2);
          const ev = /^event: (.*)$/m.exec(block), dt = /^data: (.*)$/m.exec(block);
          if (!ev || !dt) continue;
          if (ev[1] === 'change' || ev[1] === 'relist') { const e = JSON.parse(dt[1]); position = e.position; scheduleRefresh(); }
        }
      }
    } catch {}
    $('#live').textContent = 'reconnecting…';
    await new Promise((r) => setTimeout(r, 1000));
  }
}
let pending = null;
function scheduleRefresh() { if (!pending) pending = setTimeout(() => { pending = null; refresh(); }, 50); }
let lastRuns = '';
setInterval(async () => {
  if (document.hidden) return;
  try { const p = await api('/runs?limit=1'); const key = JSON.stringify(p.runs); if (key !== lastRuns) { lastRuns = key; drawRuns(); } } catch {}
}, 500);
refresh();
follow();
`;
