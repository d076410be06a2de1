// @ts-check
/**
 * The view's browser app (plain ES modules, no build step: the files the server sends are these).
 * It keeps the run's events (from /api/run, then the /api/events stream) and draws the moment the
 * time slider points at — the newest one while following a live VM. Every control posts a QMP
 * command to /api/qmp, which the server runs through the same dispatcher as its QMP server.
 */
import { drawLegend, drawMemoryChart } from './memory-chart.js';
import { drawLanes, showPacket } from './lanes.js';

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));
const PARTS = ['device', 'channel', 'guest', 'memctl', 'vcpu'];
const MAX_LANE_ROWS = 160;
const STATUS_TYPES = new Set(['DM_STATUS_REPORT', 'HV_BALLOON_STATUS_REPORT']);

const app = {
  mode: 'live',
  scenario: /** @type {any} */ ({ name: '', untilMs: 0 }),
  nowMs: 0,
  /** @type {any[]} */ events: [],
  /** The time shown; null: follow the newest. */
  /** @type {number | null} */ t: null,
  part: 'device',
  /** @type {Record<string, Set<string>>} */ collapsed: {},
  /** @type {Record<string, string>} */ partTitles: {},
  hideStatus: false,
  dmOnly: false,
  /** @type {Set<string>} */ hiddenTypes: new Set(),
  /** @type {any} */ selected: null,
  clock: /** @type {any} */ (null),
  drawQueued: false,
  chartLoading: 0,
};
// For specs and curious users: window.hvView.shown() tells what the page draws now.
/** @type {any} */ (window).hvView = { app, shown: () => shownState() };

async function main() {
  const [charts, run] = await Promise.all([getJson('api/charts'), getJson('api/run')]);
  for (const c of charts.parts) {
    app.collapsed[c.part] = new Set(c.collapsed);
    app.partTitles[c.part] = c.title;
  }
  app.mode = run.mode;
  app.scenario = run.scenario;
  app.nowMs = run.nowMs;
  app.events = run.events;
  document.body.classList.add(app.mode);
  $('scenario-name').textContent = run.scenario.name;
  $('mode').textContent = app.mode === 'live' ? 'live' : 'recorded run';
  $('mode').classList.toggle('replay', app.mode === 'replay');
  document.title = `hv-balloon-sim: ${run.scenario.name}`;
  // One VM of a host (the host view serves it under /vm/<name>/): a way back to the host.
  if (/^\/vm\/[^/]+\/$/.test(location.pathname)) $('host-link').hidden = false;
  if (app.mode === 'replay') {
    for (const id of ['controls', 'btn-live', 'console-form']) $(id).style.display = 'none';
    $('console-out').textContent = 'A recorded run takes no commands: move the time slider, or click a step to jump to it.';
  }
  buildTabs();
  drawLegend($('memory-legend'));
  wireControls();
  await loadChart();
  if (app.mode === 'live') openStream();
  draw();
}

async function getJson(/** @type {string} */ url) {
  const res = await fetch(url);
  return res.json();
}

function openStream() {
  const es = new EventSource('api/events');
  es.addEventListener('events', (ev) => {
    for (const e of JSON.parse(/** @type {MessageEvent} */ (ev).data)) app.events.push(e);
    queueDraw();
  });
  es.addEventListener('time', (ev) => {
    const d = JSON.parse(/** @type {MessageEvent} */ (ev).data);
    app.nowMs = d.nowMs;
    app.clock = d.clock;
    queueDraw();
  });
}

function queueDraw() {
  if (app.drawQueued) return;
  app.drawQueued = true;
  requestAnimationFrame(() => {
    app.drawQueued = false;
    draw();
  });
}

/** The time the page shows. */
const shownTime = () => (app.t === null ? app.nowMs : Math.min(app.t, endTime()));
const endTime = () => (app.mode === 'live' ? app.nowMs : app.nowMs);

/** Each part's state at the shown time, with the last few states before it. */
function shownState() {
  const t = shownTime();
  /** @type {Record<string, {state: string, active: string[], trail: Array<{t: number, state: string}>}>} */
  const parts = {};
  for (const e of app.events) {
    if (e.t > t) break;
    if (e.kind !== 'state') continue;
    const p = (parts[e.part] ??= { state: '', active: [], trail: [] });
    p.state = e.state;
    p.active = e.active;
    p.trail.push({ t: e.t, state: e.state });
    if (p.trail.length > 12) p.trail.shift();
  }
  return { t, parts };
}

function buildTabs() {
  const tabs = $('tabs');
  for (const part of PARTS) {
    const b = document.createElement('button');
    b.dataset.part = part;
    b.title = app.partTitles[part] ?? part;
    const name = document.createElement('span');
    name.className = 'part';
    name.textContent = part;
    const now = document.createElement('span');
    now.className = 'now';
    b.append(name, now);
    b.addEventListener('click', () => {
      app.part = part;
      void loadChart().then(draw);
    });
    tabs.append(b);
  }
}

async function loadChart() {
  const part = app.part;
  const collapsed = [...(app.collapsed[part] ?? [])].join(',');
  const ticket = ++app.chartLoading;
  const res = await fetch(`api/chart/${part}.svg?collapsed=${encodeURIComponent(collapsed)}`);
  const text = await res.text();
  if (ticket !== app.chartLoading) return;
  const host = $('chart');
  host.innerHTML = text;
  host.dataset.part = part;
  const svg = host.querySelector('svg');
  if (svg) {
    // Collapse a box by its title; open a collapsed (blue) box by a click.
    svg.addEventListener('click', (ev) => {
      const target = /** @type {Element} */ (ev.target);
      const box = target.closest('.compound');
      const folded = target.closest('.state.collapsed');
      const id = (box && target.classList.contains('title') ? box : folded)?.getAttribute('data-state-id');
      if (!id) return;
      const set = app.collapsed[part];
      if (set.has(id)) set.delete(id);
      else set.add(id);
      void loadChart().then(draw);
    });
  }
  applyFit();
}

function applyFit() {
  $('chart').classList.toggle('fit', /** @type {HTMLInputElement} */ ($('fit')).checked);
}

function draw() {
  const { t, parts } = shownState();
  const end = endTime();
  const slider = /** @type {HTMLInputElement} */ ($('slider'));
  slider.max = String(Math.max(0, Math.round(end)));
  slider.value = String(Math.round(t));
  $('vtime').textContent = `${(t / 1000).toFixed(3)} s`;
  $('slider-time').textContent = app.t === null ? (app.mode === 'live' ? 'following the VM' : 'end of the run') : `${(t / 1000).toFixed(3)} of ${(end / 1000).toFixed(3)} s`;
  $('btn-live').setAttribute('aria-pressed', String(app.t === null));
  if (app.mode === 'live' && app.clock) $('clock-state').textContent = app.clock.running ? `running x${app.clock.speed}` : 'paused';

  // Tabs show each part's current state; the chart highlights the selected part's.
  for (const b of /** @type {NodeListOf<HTMLElement>} */ ($('tabs').querySelectorAll('button'))) {
    const part = b.dataset.part ?? '';
    const now = /** @type {HTMLElement} */ (b.querySelector('.now'));
    const text = parts[part]?.state ?? '(not present)';
    if (now.textContent !== text) {
      now.textContent = text;
      b.title = `${app.partTitles[part] ?? part}\nnow: ${text}`;
    }
    b.classList.toggle('selected', part === app.part);
  }
  const active = new Set(parts[app.part]?.active ?? []);
  const svg = $('chart').querySelector('svg');
  if (svg && $('chart').dataset.part === app.part) {
    for (const g of svg.querySelectorAll('[data-state-id]')) g.classList.toggle('active', active.has(g.getAttribute('data-state-id') ?? ''));
    // A collapsed box names the active state(s) inside it.
    for (const g of svg.querySelectorAll('[data-inner]')) {
      const inner = JSON.parse(g.getAttribute('data-inner') ?? '[]');
      const on = inner.filter((/** @type {any} */ s) => active.has(s.id)).map((/** @type {any} */ s) => s.key);
      const line = g.querySelector('.inner');
      if (line) {
        const full = on.length > 0 ? `> ${on.join(', ')}` : `${inner.length} states inside`;
        // Cut to the box (6.3 units a character at the note size); the tooltip has it all.
        const room = Math.max(8, Math.floor((Number(g.querySelector('rect')?.getAttribute('width') ?? 0) - 16) / 6.3));
        line.textContent = full.length > room ? `${full.slice(0, room - 1)}…` : full;
        g.setAttribute('data-inner-now', full);
      }
    }
  }
  const trail = parts[app.part]?.trail ?? [];
  $('trail').textContent = trail.length ? `${app.part}, newest first: ${trail.slice(-6).reverse().map((s) => `${s.state} (${(s.t / 1000).toFixed(3)}s)`).join(' < ')}` : '';

  const memory = [];
  const steps = [];
  const warnings = [];
  let counters = null;
  for (const e of app.events) {
    if (e.kind === 'memory') memory.push(e);
    else if (e.kind === 'step') steps.push(e);
    else if (e.kind === 'warning') warnings.push(e);
    else if (e.kind === 'failure') warnings.push({ t: e.t, text: `the simulation stopped: ${e.text}`, repeat: 1 });
    else if (e.kind === 'counters' && e.t <= t) counters = e.counters;
  }
  const chartEnd = Math.max(end, app.scenario.untilMs || 0, 1000);
  drawMemoryChart($('memory'), { memory, steps, t, endMs: chartEnd });
  drawCounters(counters);
  drawLog($('warnings'), warnings, t, (w) => `${w.text}${w.repeat > 1 ? ` (x${w.repeat})` : ''}`);
  $('warn-count').textContent = `(${warnings.filter((w) => w.t <= t).length})`;
  drawSteps(steps, t);
  drawMessages(t);
}

function drawCounters(/** @type {any} */ c) {
  const host = $('counters');
  if (!c) {
    host.textContent = '(no device)';
    return;
  }
  const pairs = [
    ['state', `${c.state} (${c.stateNumber})`],
    ['target', `${c.target} pages`],
    ['transId', c.transId],
    ['removed guest/both', `${c.removedGuestCtr} / ${c.removedBothCtr}`],
    ['hot-added', c.ourRange ? `${c.ourRange.added} of ${c.ourRange.pageCount} pages` : 'none yet'],
    ['trees (pages)', `guest ${c.trees.globalGuest.pages}, both ${c.trees.globalBoth.pages}`],
    ['status report', c.statusReportReceived ? 'received' : 'none yet'],
    ['messages', Object.entries(c.messages ?? {}).map(([k, v]) => `${k.replace(/^DM_/, '')} ${v}`).join(', ')],
  ];
  const frag = document.createDocumentFragment();
  for (const [k, v] of pairs) {
    const a = document.createElement('div');
    a.className = 'k';
    a.textContent = String(k);
    const b = document.createElement('div');
    b.textContent = String(v);
    frag.append(a, b);
  }
  host.replaceChildren(frag);
}

/** @param {HTMLElement} host @param {any[]} rows @param {number} t @param {(r: any) => string} text */
function drawLog(host, rows, t, text) {
  const shown = rows.filter((r) => r.t <= t).slice(-200);
  host.replaceChildren(
    ...shown.map((r) => {
      const li = document.createElement('li');
      const tt = document.createElement('span');
      tt.className = 't';
      tt.textContent = `${(r.t / 1000).toFixed(3)}s`;
      li.append(tt, text(r));
      return li;
    }),
  );
}

function drawSteps(/** @type {any[]} */ steps, /** @type {number} */ t) {
  const host = $('steps');
  host.replaceChildren(
    ...steps.map((s) => {
      const li = document.createElement('li');
      li.className = `${s.ok ? '' : 'err'}${s.t > t ? ' future' : ''}`;
      li.title = 'jump to this step';
      const tt = document.createElement('span');
      tt.className = 't';
      tt.textContent = `${(s.t / 1000).toFixed(3)}s`;
      const cmd = document.createElement('span');
      cmd.className = 'cmd';
      cmd.textContent = s.command;
      li.append(tt, cmd);
      if (s.reply) {
        const r = document.createElement('div');
        r.className = 'reply';
        r.textContent = s.reply;
        li.append(r);
      }
      li.addEventListener('click', () => {
        app.t = s.t;
        draw();
      });
      return li;
    }),
  );
}

function messageShown(/** @type {any} */ m) {
  if (app.dmOnly && !m.packet) return false;
  if (app.hideStatus && (STATUS_TYPES.has(m.type) || /status/i.test(m.type))) return false;
  return !app.hiddenTypes.has(m.type);
}

function drawMessages(/** @type {number} */ t) {
  const all = app.events.filter((e) => e.kind === 'message' && e.t <= t);
  const types = new Map();
  for (const m of all) types.set(m.type, (types.get(m.type) ?? 0) + 1);
  const shown = all.filter(messageShown);
  $('msg-count').textContent = `(${shown.length} of ${all.length} shown)`;
  const chips = $('type-chips');
  const wanted = [...types.keys()].sort();
  if (chips.dataset.types !== wanted.join(',')) {
    chips.dataset.types = wanted.join(',');
    chips.replaceChildren(
      ...wanted.map((type) => {
        const b = document.createElement('button');
        b.textContent = type;
        b.title = 'show or hide this type';
        b.setAttribute('aria-pressed', String(!app.hiddenTypes.has(type)));
        b.addEventListener('click', () => {
          if (app.hiddenTypes.has(type)) app.hiddenTypes.delete(type);
          else app.hiddenTypes.add(type);
          b.setAttribute('aria-pressed', String(!app.hiddenTypes.has(type)));
          draw();
        });
        return b;
      }),
    );
  }
  const host = $('lanes');
  drawLanes(host, shown.slice(-MAX_LANE_ROWS), {
    selected: app.selected,
    onSelect: (m) => {
      app.selected = m;
      showPacket($('packet'), m);
      drawMessages(shownTime());
    },
  });
}

async function qmp(/** @type {any} */ command) {
  const res = await fetch('api/qmp', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(command) });
  return res.json();
}

async function hmp(/** @type {string} */ line) {
  return qmp({ execute: 'human-monitor-command', arguments: { 'command-line': line } });
}

function show(/** @type {string} */ text) {
  const out = $('console-out');
  out.textContent = `${out.textContent}${text}\n`.split('\n').slice(-60).join('\n');
  out.scrollTop = out.scrollHeight;
}

function wireControls() {
  const speed = () => Number(/** @type {HTMLSelectElement} */ ($('speed')).value);
  $('btn-run').addEventListener('click', () => void qmp({ execute: 'x-sim-speed', arguments: { speed: speed() } }));
  $('btn-pause').addEventListener('click', () => void qmp({ execute: 'x-sim-speed', arguments: { speed: 0 } }));
  $('speed').addEventListener('change', () => {
    if (app.clock?.running) void qmp({ execute: 'x-sim-speed', arguments: { speed: speed() } });
  });
  $('btn-step').addEventListener('click', () => {
    const ms = Number(/** @type {HTMLSelectElement} */ ($('step-size')).value);
    void qmp({ execute: 'x-sim-advance', arguments: { ms } }).then((r) => r.error && show(`step: ${r.error.desc}`));
  });
  $('btn-balloon').addEventListener('click', () => {
    const mib = /** @type {HTMLInputElement} */ ($('target')).value.trim();
    void hmp(`balloon ${mib}`).then((r) => show(`(qemu) balloon ${mib}\n${r.error ? r.error.desc : r.return}`));
  });
  $('btn-reset').addEventListener('click', () => void qmp({ execute: 'system_reset' }).then((r) => show(`system_reset: ${JSON.stringify(r)}`)));
  $('btn-live').addEventListener('click', () => {
    app.t = null;
    draw();
  });
  $('slider').addEventListener('input', () => {
    const v = Number(/** @type {HTMLInputElement} */ ($('slider')).value);
    app.t = app.mode === 'live' && v >= app.nowMs ? null : v;
    draw();
  });
  $('fit').addEventListener('change', applyFit);
  $('btn-hide-status').addEventListener('click', () => {
    app.hideStatus = !app.hideStatus;
    $('btn-hide-status').setAttribute('aria-pressed', String(app.hideStatus));
    draw();
  });
  $('dm-only').addEventListener('change', () => {
    app.dmOnly = /** @type {HTMLInputElement} */ ($('dm-only')).checked;
    draw();
  });
  $('console-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const input = /** @type {HTMLInputElement} */ ($('console-input'));
    const line = input.value.trim();
    if (!line) return;
    const kind = /** @type {HTMLSelectElement} */ ($('console-kind')).value;
    if (kind === 'hmp') {
      void hmp(line).then((r) => show(`(qemu) ${line}\n${r.error ? `Error: ${r.error.desc}` : String(r.return).replace(/\r\n/g, '\n')}`));
    } else {
      let cmd;
      try {
        cmd = JSON.parse(line);
      } catch {
        show(`not JSON: ${line} (e.g. {"execute": "query-balloon"})`);
        return;
      }
      void qmp(cmd).then((r) => show(`-> ${line}\n<- ${JSON.stringify(r)}`));
    }
    input.value = '';
  });
}

void main();
