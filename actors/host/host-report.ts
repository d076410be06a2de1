/**
 * The HTML report of a host run (`run host.json --report file.html`): one chart for the host's
 * total (assigned, demand, resident, the host's memory) and one per VM (assigned, demand, target,
 * swapped), as inline SVG — self-contained, no scripts, opens offline.
 */
import type { HostSample, HostScenarioResult } from './host-scenario';

const W = 640;
const H = 160;
const PAD = 40;
const COLORS = { assigned: '#2f6fdf', demand: '#d9822b', target: '#777', swapped: '#c23030', resident: '#2a9d55', memory: '#000' };

function esc(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

function gib(bytes: number): string {
  return `${Math.round((bytes / 2 ** 30) * 100) / 100} GiB`;
}

function chart(title: string, samples: HostSample[], series: { name: keyof typeof COLORS; values: number[] }[], untilMs: number): string {
  const max = Math.max(1, ...series.flatMap((s) => s.values));
  const x = (t: number): number => PAD + ((W - PAD - 10) * t) / Math.max(1, untilMs);
  const y = (v: number): number => H - 20 - ((H - 40) * v) / max;
  const lines = series
    .map((s) => {
      const pts = s.values.map((v, i) => `${x(samples[i]!.t).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
      return `<polyline fill="none" stroke="${COLORS[s.name]}" stroke-width="1.5" points="${pts}"><title>${s.name}</title></polyline>`;
    })
    .join('');
  const legend = series.map((s, i) => `<text x="${PAD + i * 90}" y="12" fill="${COLORS[s.name]}" font-size="11">${s.name}</text>`).join('');
  const hours = untilMs / 3_600_000;
  const axis = `<text x="${PAD}" y="${H - 4}" font-size="10">0</text><text x="${W - 60}" y="${H - 4}" font-size="10">${hours >= 1 ? `${Math.round(hours * 10) / 10} h` : `${Math.round(untilMs / 1000)} s`}</text><text x="2" y="${y(max) + 4}" font-size="10">${esc(gib(max))}</text>`;
  return `<figure><figcaption>${esc(title)}</figcaption><svg width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img"><rect x="${PAD}" y="20" width="${W - PAD - 10}" height="${H - 40}" fill="#fafafa" stroke="#ddd"/>${lines}${legend}${axis}</svg></figure>`;
}

export function renderHostReport(result: Omit<HostScenarioResult, 'host'>, samples: HostSample[], memoryBytes: number): string {
  const until = result.virtualTimeMs;
  const host = chart(
    'host: total',
    samples,
    [
      { name: 'assigned', values: samples.map((s) => s.host.assignedBytes) },
      { name: 'demand', values: samples.map((s) => s.host.demandBytes) },
      { name: 'resident', values: samples.map((s) => s.host.residentBytes) },
      { name: 'memory', values: samples.map(() => memoryBytes) },
    ],
    until,
  );
  const vms = result.final.vms
    .map((vm, i) =>
      chart(
        `${vm.name}: weight ${vm.weight}, buffer ${vm.bufferPercent}%, [${gib(vm.minimumBytes)}, ${gib(vm.maximumBytes)}], paged ${gib(vm.pagedBytes)}`,
        samples,
        [
          { name: 'assigned', values: samples.map((s) => s.vms[i]![0]) },
          { name: 'demand', values: samples.map((s) => s.vms[i]![1]) },
          { name: 'target', values: samples.map((s) => s.vms[i]![2]) },
          { name: 'swapped', values: samples.map((s) => s.vms[i]![3]) },
        ],
        until,
      ),
    )
    .join('\n');
  const rows = result.final.vms
    .map((v) => `<tr><td>${esc(v.name)}</td><td>${gib(v.assignedBytes)}</td><td>${v.demandBytes === null ? '-' : gib(v.demandBytes)}</td><td>${gib(v.targetBytes)}</td><td>${gib(v.minimumBytes)}</td><td>${gib(v.maximumBytes)}</td><td>${v.weight}</td><td>${gib(v.pagedBytes)}</td></tr>`)
    .join('');
  const decisions = result.decisions
    .slice(-200)
    .map((d) => `<tr><td>${(d.time / 1000).toFixed(1)} s</td><td>${esc(d.vm)}</td><td>${gib(d.fromBytes)} → ${gib(d.toBytes)}</td><td>${esc(d.reason)}</td></tr>`)
    .join('');
  return `<!doctype html><html><head><meta charset="utf-8"><title>${esc(result.scenario)}: host report</title>
<style>body{font-family:sans-serif;margin:1em 2em}figure{display:inline-block;margin:.5em}figcaption{font-size:12px}table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;padding:2px 6px}</style></head><body>
<h1>${esc(result.scenario)}</h1>
<p>policy ${esc(result.policy.kind)} (${esc(result.policy.state)}), ${result.policy.decisions} decisions; host ${gib(result.final.host.memoryBytes)}, free ${gib(result.final.host.freeBytes)} at the end; ${(until / 3_600_000).toFixed(2)} h virtual in ${result.wallTimeMs} ms.</p>
${host}
<h2>VMs</h2>
<table><tr><th>VM</th><th>assigned</th><th>demand</th><th>target</th><th>minimum</th><th>maximum</th><th>weight</th><th>paged</th></tr>${rows}</table>
${vms}
<h2>Decisions${result.decisions.length > 200 ? ` (last 200 of ${result.decisions.length})` : ''}</h2>
<table><tr><th>time</th><th>VM</th><th>target</th><th>reason</th></tr>${decisions}</table>
</body></html>
`;
}
