// @ts-check
/**
 * The host view's browser app (plain ES modules, no build step). It asks GET /api/host for the
 * host at the time the slider points at (the newest while following a live host): the host's
 * memory, one row per VM, the policy's decisions with their reasons. What it gets is bounded by
 * the server (a few hundred points a series), so a 100-VM host draws as fast as a 2-VM one. Each
 * VM's name opens its detail: the VM view, served under vm/<name>/. The time controls post
 * x-sim-speed and x-sim-advance to /api/host/qmp: they move the host's one virtual clock.
 */
import { HOST_LINES, VM_LINES, drawHostChart, drawLegend, drawSparkline, formatTime } from './host-charts.js';

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));
/** How often a live page asks for the host (wall ms): a big host's answer is bigger, so less often. */
const pollMs = (/** @type {number} */ vms) => (vms > 20 ? 1000 : 500);

const app = {
  /** @type {any} */ overview: null,
  /** The time shown; null: follow the newest. */
  /** @type {number | null} */ t: null,
  busy: false,
  again: false,
  /** @type {Map<string, HTMLTableRowElement>} */ rows: new Map(),
};
// For specs and curious users: window.hvHost.overview is what the page draws now.
/** @type {any} */ (window).hvHost = app;

const gib = (/** @type {number | null | undefined} */ b) => (b === null || b === undefined ? '-' : `${(b / 2 ** 30).toFixed(2)}G`);

async function main() {
  drawLegend($('host-legend'), HOST_LINES);
  drawLegend($('vm-legend'), VM_LINES, 'between minimum and maximum');
  wireControls();
  await refresh();
  if (app.overview.mode === 'live') {
    setInterval(() => {
      if (app.t === null) void refresh();
    }, pollMs(app.overview.info.vms.length));
  }
}

/** Fetches the overview at the shown time and draws it (one request at a time; the newest wins). */
async function refresh() {
  if (app.busy) {
    app.again = true;
    return;
  }
  app.busy = true;
  try {
    const q = new URLSearchParams({ points: '400', rowPoints: '120' });
    if (app.t !== null) q.set('t', String(Math.round(app.t)));
    const res = await fetch(`api/host?${q}`);
    app.overview = await res.json();
    draw();
  } finally {
    app.busy = false;
    if (app.again) {
      app.again = false;
      void refresh();
    }
  }
}

function firstDraw(/** @type {any} */ o) {
  $('scenario-name').textContent = o.info.name;
  document.title = `hv-balloon-sim host: ${o.info.name}`;
  $('mode').textContent = o.mode === 'live' ? 'live' : 'recorded run';
  $('mode').classList.toggle('replay', o.mode === 'replay');
  if (o.mode === 'replay') for (const id of ['controls', 'btn-live']) $(id).style.display = 'none';
  const select = /** @type {HTMLSelectElement} */ ($('decision-vm'));
  const body = /** @type {HTMLTableSectionElement} */ ($('vms').querySelector('tbody'));
  for (const vm of o.info.vms) {
    const opt = document.createElement('option');
    opt.value = vm.name;
    opt.textContent = vm.name;
    select.append(opt);
    const tr = document.createElement('tr');
    tr.dataset.vm = vm.name;
    const cells = ['name', 'spark', 'assigned num', 'demand num', 'target num', 'min num', 'max num', 'paged num', 'weight num', 'reason'].map((c) => {
      const td = document.createElement('td');
      td.className = c;
      tr.append(td);
      return td;
    });
    const a = document.createElement('a');
    a.href = `vm/${encodeURIComponent(vm.name)}/`;
    a.textContent = vm.name;
    a.title = `open ${vm.name}: its DM messages, device and guest states, memory, console`;
    cells[0].append(a);
    cells[5].textContent = gib(vm.minimumBytes);
    cells[6].textContent = gib(vm.maximumBytes);
    cells[8].textContent = String(vm.weight);
    body.append(tr);
    app.rows.set(vm.name, tr);
  }
  $('vm-count').textContent = `(${o.info.vms.length})`;
}

function draw() {
  const o = app.overview;
  if (!o) return;
  if (app.rows.size === 0) firstDraw(o);
  const slider = /** @type {HTMLInputElement} */ ($('slider'));
  slider.max = String(Math.round(o.nowMs));
  slider.value = String(Math.round(o.t));
  $('vtime').textContent = `${(o.t / 1000).toFixed(3)} s`;
  $('slider-time').textContent = app.t === null ? (o.mode === 'live' ? 'following the host' : 'end of the run') : `${formatTime(o.t)} of ${formatTime(o.nowMs)}`;
  $('btn-live').setAttribute('aria-pressed', String(app.t === null));
  if (o.clock) $('clock-state').textContent = o.clock.running ? `running x${o.clock.speed}` : 'paused';
  $('policy').textContent = `policy ${o.info.policy}${o.policyState ? ` (${o.policyState})` : ''}`;
  const endMs = Math.max(o.nowMs, o.info.untilMs || 0);
  $('host-note').textContent = `host ${gib(o.info.memoryBytes)}, reserve ${gib(o.info.reserveBytes)} (dotted: what VMs can use); a sample every ${formatTime(o.periodMs)}`;
  const h = o.host.now;
  $('host-summary').textContent = h
    ? `memory ${gib(o.info.memoryBytes)}  free ${gib(h.freeBytes)}  assigned ${gib(h.assignedBytes)}  resident ${gib(h.residentBytes)}  demand ${gib(h.demandBytes)}`
    : 'no sample yet';
  drawHostChart($('host-chart'), { times: o.host.times, series: o.host.series, memoryBytes: o.info.memoryBytes, reserveBytes: o.info.reserveBytes, endMs });
  o.vms.rows.forEach((/** @type {any} */ row, /** @type {number} */ i) => {
    const tr = app.rows.get(row.name);
    if (!tr) return;
    const info = o.info.vms[i];
    const td = /** @type {HTMLTableCellElement[]} */ ([...tr.cells]);
    const now = row.now ?? {};
    td[2].textContent = gib(now.assignedBytes);
    td[3].textContent = gib(now.demandBytes);
    td[4].textContent = gib(now.targetBytes);
    td[7].textContent = gib(now.pagedBytes);
    tr.classList.toggle('over', now.demandBytes !== null && now.assignedBytes !== null && now.demandBytes > now.assignedBytes);
    const d = row.lastDecision;
    td[9].textContent = d ? `${formatTime(d.t)}: ${gib(d.fromBytes)} -> ${gib(d.toBytes)} (${d.reason})` : '';
    td[9].title = `${row.decisions} decisions up to now`;
    drawSparkline(td[1], { times: o.vms.times, series: row.series, minimumBytes: info.minimumBytes, maximumBytes: info.maximumBytes, endMs });
  });
  drawDecisions(o);
  drawNotes(o);
}

function drawDecisions(/** @type {any} */ o) {
  const vm = /** @type {HTMLSelectElement} */ ($('decision-vm')).value;
  const shown = o.decisions.shown.filter((/** @type {any} */ d) => !vm || d.vm === vm).reverse();
  $('decision-count').textContent = `(${o.decisions.total}${o.decisions.omitted ? ` kept, ${o.decisions.omitted} omitted` : ''}; newest first)`;
  $('decisions').replaceChildren(
    ...shown.map((/** @type {any} */ d) => {
      const li = document.createElement('li');
      li.className = d.by;
      const t = document.createElement('span');
      t.className = 't';
      t.textContent = formatTime(d.t);
      const name = document.createElement('span');
      name.className = 'vm';
      name.textContent = d.vm;
      const size = document.createElement('span');
      size.className = 'size';
      size.textContent = `${gib(d.fromBytes)} -> ${gib(d.toBytes)}`;
      li.append(t, name, size, d.by === 'step' ? `step: ${d.reason}` : d.reason);
      return li;
    }),
  );
}

function drawNotes(/** @type {any} */ o) {
  $('notes').replaceChildren(
    ...o.notes
      .slice()
      .reverse()
      .map((/** @type {any} */ n) => {
        const li = document.createElement('li');
        if (!n.ok) li.className = 'err';
        const t = document.createElement('span');
        t.className = 't';
        t.textContent = formatTime(n.t);
        li.append(t, n.vm ? `${n.vm}: ${n.text}` : n.text);
        return li;
      }),
  );
}

async function control(/** @type {any} */ command) {
  const res = await fetch('api/host/qmp', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(command) });
  const reply = await res.json();
  await refresh();
  return reply;
}

function wireControls() {
  const speed = () => Number(/** @type {HTMLSelectElement} */ ($('speed')).value);
  $('btn-run').addEventListener('click', () => void control({ execute: 'x-sim-speed', arguments: { speed: speed() } }));
  $('btn-pause').addEventListener('click', () => void control({ execute: 'x-sim-speed', arguments: { speed: 0 } }));
  $('speed').addEventListener('change', () => {
    if (app.overview?.clock?.running) void control({ execute: 'x-sim-speed', arguments: { speed: speed() } });
  });
  $('btn-step').addEventListener('click', () => {
    const ms = Number(/** @type {HTMLSelectElement} */ ($('step-size')).value);
    void control({ execute: 'x-sim-advance', arguments: { ms } });
  });
  $('btn-live').addEventListener('click', () => {
    app.t = null;
    void refresh();
  });
  $('slider').addEventListener('input', () => {
    const v = Number(/** @type {HTMLInputElement} */ ($('slider')).value);
    app.t = app.overview?.mode === 'live' && v >= app.overview.nowMs ? null : v;
    void refresh();
  });
  $('decision-vm').addEventListener('change', () => draw());
}

void main();
