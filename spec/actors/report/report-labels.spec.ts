/**
 * The report's chart names every command at its time: labels that would overlap take another row
 * instead of being dropped, and a label shows whole commands, those that change the VM first.
 * (The cases: `balloon 20000` at 60 s in hot-add-past-boot, `balloon 256` and
 * `balloon 8192` in windows-guest.) Its message table can hide a type without a script.
 */
import { join } from 'node:path';
import { loadScenarioFile, runScenario } from '../../../actors/scenario/scenario';
import { ReportCollector } from '../../../actors/report/report-collector';
import { renderHtmlReport } from '../../../actors/report/html-report';

function reportOf(example: string): string {
  const scenario = loadScenarioFile(join(__dirname, '../../../examples', example));
  const collector = new ReportCollector(scenario);
  const { vm, ...result } = runScenario(scenario, collector.wrap({ wallNow: () => 0 }));
  const html = renderHtmlReport(collector.finish(result));
  vm.dispose();
  return html;
}

interface Label {
  text: string;
  left: number;
  right: number;
  y: number;
}

/** The step labels of the memory chart with their extent (6.2 units a character, as the report lays them out). */
function labels(html: string): Label[] {
  return [...html.matchAll(/<text x="([\d.]+)" y="([\d.]+)" text-anchor="(start|end)" class="step-label">([^<]*)/g)].map((m) => {
    const x = Number(m[1]);
    const text = m[4]!.replace(/&#39;/g, "'").replace(/&quot;/g, '"').replace(/&amp;/g, '&');
    const width = text.length * 6.2;
    return { text, y: Number(m[2]), left: m[3] === 'start' ? x : x - width, right: m[3] === 'start' ? x + width : x };
  });
}

/** The step marker lines: one per distinct step time (their tooltips name the commands). */
function markerTimes(html: string): number {
  return [...html.matchAll(/<line [^>]*class="step">/g)].length;
}

describe.each([
  ['hot-add-past-boot.json', ['balloon 9000', 'balloon 20000']],
  ['windows-guest.json', ['balloon 2048', 'balloon 256', 'balloon 8192']],
  ['shrink-and-grow.json', ['balloon 2048', 'balloon 10240']],
])('the report of %s', (example, balloons) => {
  const html = reportOf(example);
  const shown = labels(html);

  it('labels every step marker, and shows every balloon command whole', () => {
    expect(shown.length).toBe(markerTimes(html));
    for (const b of balloons) expect(shown.some((l) => l.text.split(' · ').includes(b))).toBe(true);
    for (const l of shown) expect(l.text).not.toMatch(/…$/);
  });

  it('never draws two labels over each other', () => {
    for (let i = 0; i < shown.length; i++) {
      for (let j = i + 1; j < shown.length; j++) {
        const a = shown[i]!;
        const b = shown[j]!;
        if (a.y === b.y) expect(a.right <= b.left || b.right <= a.left).toBe(true);
      }
    }
  });
});

it('puts the commands that change the VM first in a label, and counts the rest', () => {
  const shown = labels(reportOf('hot-add-past-boot.json'));
  // At 60 s: query-balloon, query-memory-devices, then balloon 20000.
  expect(shown.map((l) => l.text)).toContain('balloon 20000 · query-balloon · +1 more');
});

it('gives each message type a checkbox that hides its rows, status reports first', () => {
  const html = reportOf('shrink-and-grow.json');
  const boxes = [...html.matchAll(/<label for="hide-([^"]+)" class="filter">([^<]+)<\/label>/g)].map((m) => [m[1], m[2]]);
  expect(boxes[0]).toEqual(['DM_STATUS_REPORT', 'status reports (72)']);
  expect(html).toContain('#hide-DM_STATUS_REPORT:checked ~ details tr[data-type="DM_STATUS_REPORT"] { display: none; }');
  expect([...html.matchAll(/<tr data-type="DM_STATUS_REPORT"/g)].length).toBe(72);
  expect(html).not.toContain('<script');
});
