/**
 * The live view in a real browser (Debian's chromium through playwright-core), offline: every
 * request that is not to 127.0.0.1 is blocked, and none may be tried. A user balloons the VM from
 * the page and watches the device go through its balloon states back to S_IDLE while the memory
 * chart's actual line drops; then a recorded run's time slider moves the highlighted states back.
 * The HTML report's message filter works there too.
 */
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { loadScenarioFile, runScenario } from '../../actors/scenario/scenario';
import { createVm, type Vm } from '../../actors/vm/create-vm';
import { ViewRecorder } from '../../actors/view/view-recorder';
import { LiveViewSource, makeRecording, ReplayViewSource } from '../../actors/view/view-source';
import { startViewServer, type ViewServer } from '../../actors/view/view-server';
import { ReportCollector } from '../../actors/report/report-collector';
import { renderHtmlReport } from '../../actors/report/html-report';
import { useOfflineBrowser } from './browser';

const SCENARIO = join(__dirname, '..', '..', 'examples', 'shrink-and-grow.json');

jest.setTimeout(120_000);

// Offline: after each test, the page never asked for anything but the view's own server.
const browser = useOfflineBrowser();

/** The device chart's highlighted states: ids, and for a collapsed box the state it names inside. */
async function highlighted(page: Page): Promise<string[]> {
  return page.$$eval('#chart svg .state.active', (nodes) =>
    nodes.map((n) => {
      const inner = n.querySelector('.inner')?.textContent;
      return inner ? `${n.getAttribute('data-state-id')} ${inner}` : (n.getAttribute('data-state-id') ?? '');
    }),
  );
}

async function deviceTab(page: Page): Promise<string> {
  return (await page.textContent('#tabs button[data-part=device] .now')) ?? '';
}

/** Waits (at most 30 s) until `read` gives text matching `pattern`. */
async function waitForText(read: () => Promise<string>, pattern: RegExp): Promise<string> {
  let text = '';
  for (let waited = 0; waited < 30_000; waited += 50) {
    text = await read();
    if (pattern.test(text)) return text;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`waited 30 s for ${String(pattern)}; last seen: ${JSON.stringify(text)}`);
}

const consoleText = (page: Page) => async (): Promise<string> => (await page.textContent('#console-out')) ?? '';

/** The memory chart's actual line as [x, y] screen points. */
async function actualLine(page: Page): Promise<Array<[number, number]>> {
  const points = await page.$$eval('#memory polyline[data-series=actual]', (lines) => lines.map((l) => l.getAttribute('points') ?? '').join(' '));
  return points
    .trim()
    .split(/\s+/)
    .map((p) => p.split(',').map(Number) as [number, number]);
}

describe('the live view of a running VM', () => {
  let vm: Vm;
  let source: LiveViewSource;
  let server: ViewServer;

  beforeAll(async () => {
    const scenario = loadScenarioFile(SCENARIO);
    vm = createVm(scenario.vm);
    // Paused: the spec moves virtual time with the page's step button.
    source = new LiveViewSource(vm, { name: scenario.name, untilMs: 0 }, { speed: 1, paused: true });
    server = await startViewServer(source);
  });

  afterAll(async () => {
    await server.close();
    source.close();
    vm.dispose();
  });

  it('loads offline, shows every part, and follows a balloon through the device states back to S_IDLE', async () => {
    const page = await browser.page();
    await page.goto(server.url);
    for (const part of ['device', 'channel', 'guest', 'memctl', 'vcpu']) {
      await page.waitForSelector(`#tabs button[data-part=${part}] .now`);
    }
    await page.waitForSelector('#chart svg [data-state-id]');

    // Past the DM handshake and QEMU's 50 s post-init wait.
    await page.selectOption('#step-size', '60000');
    await page.click('#btn-step');
    await waitForText(() => deviceTab(page), /^S_IDLE$/);
    expect(await highlighted(page)).toEqual(['S_IDLE']);
    expect(await page.textContent('#tabs button[data-part=channel] .now')).toBe('open');
    const before = await actualLine(page);

    // Record every highlight the page draws from here on (a script in the page: it sees every redraw).
    await page.evaluate(`(() => {
      const seen = (window.seen = []);
      const record = () => {
        for (const n of document.querySelectorAll('#chart svg .state.active')) {
          const inner = n.querySelector('.inner')?.textContent;
          const text = inner ? n.getAttribute('data-state-id') + ' ' + inner : n.getAttribute('data-state-id');
          if (seen[seen.length - 1] !== text) seen.push(text);
        }
      };
      new MutationObserver(record).observe(document.querySelector('#chart'), { subtree: true, attributes: true, attributeFilter: ['class'], characterData: true, childList: true });
    })()`);

    await page.fill('#target', '2048');
    await page.click('#btn-balloon');
    await waitForText(() => deviceTab(page), /^S_BALLOON_/);
    await page.selectOption('#step-size', '1000');
    await page.click('#btn-step');
    await waitForText(() => deviceTab(page), /^S_IDLE$/);

    const seen = (await page.evaluate('window.seen')) as string[];
    const balloon = seen.findIndex((s) => /^hvBalloon\.receiving\.balloon > S_BALLOON_/.test(s));
    expect(balloon).toBeGreaterThanOrEqual(0);
    expect(seen.slice(balloon + 1)).toContain('S_IDLE');
    expect(seen[seen.length - 1]).toBe('S_IDLE');
    expect(await page.textContent('#trail')).toMatch(/S_IDLE .*< S_BALLOON_/);

    // The actual line now ends lower (a larger y) than it started: 4 GiB down to 2 GiB.
    const after = await actualLine(page);
    expect(before[before.length - 1]![1]).toBeCloseTo(after[0]![1], 0);
    expect(after[after.length - 1]![1]).toBeGreaterThan(after[0]![1] + 20);
    expect(vm.queryBalloon().actual).toBe(2 * 2 ** 30);
    await page.screenshot({ path: join(screenshotDir(), 'view-live.png') });
    await page.close();
  });

  it('reboots from the page: system_reset takes the device back through its reset and init states, the VM back to its boot size', async () => {
    const page = await browser.page();
    await page.goto(server.url);
    await page.waitForSelector('#chart svg [data-state-id]');
    await waitForText(() => deviceTab(page), /^S_IDLE$/);
    await page.click('#btn-reset');
    await waitForText(() => deviceTab(page), /^S_(WAIT_RESET|POST_RESET_CLOSED|VERSION|CAPS|POST_INIT_WAIT)$/);
    await page.selectOption('#step-size', '60000');
    await page.click('#btn-step');
    await waitForText(() => deviceTab(page), /^S_IDLE$/);
    // The trail shows the way back: QEMU's post-init wait came before idle again.
    expect(await page.textContent('#trail')).toMatch(/S_IDLE .*< S_POST_INIT_WAIT/);
    expect(await page.textContent('#tabs button[data-part=channel] .now')).toBe('open');
    expect(vm.queryBalloon().actual).toBe(4 * 2 ** 30);
    await page.close();
  });

  it('runs QMP and HMP from the console through the dispatcher', async () => {
    const page = await browser.page();
    await page.goto(server.url);
    await page.waitForSelector('#chart svg');
    await page.fill('#console-input', 'info balloon');
    await page.press('#console-input', 'Enter');
    await waitForText(consoleText(page), /balloon: actual=4096/);
    await page.selectOption('#console-kind', 'qmp');
    await page.fill('#console-input', '{"execute": "balloon", "arguments": {"value": 0}}');
    await page.press('#console-input', 'Enter');
    // QEMU's own error for a zero target, as the QMP server would answer.
    await waitForText(consoleText(page), /Parameter '(value|target)' expects a size/);
    await page.close();
  });
});

describe('a recorded run in the view', () => {
  let server: ViewServer;

  beforeAll(async () => {
    const scenario = loadScenarioFile(SCENARIO);
    let recorder: ViewRecorder | undefined;
    const result = runScenario(scenario, { onStart: (vm) => (recorder = new ViewRecorder(vm)), onStep: (s) => recorder!.step(s) });
    const recording = makeRecording(recorder!, { name: scenario.name, untilMs: scenario.until }, result.virtualTimeMs);
    result.vm.dispose();
    server = await startViewServer(new ReplayViewSource(JSON.parse(JSON.stringify(recording))));
  });

  afterAll(async () => {
    await server.close();
  });

  it('moves the highlighted states back and forth with the time slider', async () => {
    const page = await browser.page();
    await page.goto(server.url);
    await page.waitForSelector('#chart svg [data-state-id]');
    // The end of the run: grown to 10 GiB and idle.
    expect(await deviceTab(page)).toBe('S_IDLE');
    expect(await highlighted(page)).toEqual(['S_IDLE']);

    // Back into the balloon operation (60 s to 60.56 s)...
    await page.locator('#slider').fill('60100');
    await waitForText(() => deviceTab(page), /^S_BALLOON_/);
    expect(await highlighted(page)).toEqual(['hvBalloon.receiving.balloon > S_BALLOON_REPLY_WAIT']);
    await page.screenshot({ path: join(screenshotDir(), 'view-replay.png') });

    // ...further back, into QEMU's post-init wait...
    await page.locator('#slider').fill('30000');
    await waitForText(() => deviceTab(page), /^S_POST_INIT_WAIT$/);
    expect(await highlighted(page)).toEqual(['hvBalloon.receiving.init > S_POST_INIT_WAIT']);

    // ...and forward again, by clicking a step of the scenario: balloon 10240 at 90 s.
    await page.click('#steps li:has-text("balloon 10240")');
    await waitForText(() => deviceTab(page), /^S_UNBALLOON_/);
    // The page takes no commands: a recording cannot be changed.
    expect(await page.isVisible('#controls')).toBe(false);
    await page.close();
  });
});

describe('the HTML report in the browser', () => {
  it('hides the status-report rows of the message table with one click, without a script', async () => {
    const scenario = loadScenarioFile(SCENARIO);
    const collector = new ReportCollector(scenario);
    const { vm, ...result } = runScenario(scenario, collector.wrap());
    const html = renderHtmlReport(collector.finish(result));
    vm.dispose();
    const page = await browser.page();
    await page.setContent(html);
    const status = [...html.matchAll(/<tr data-type="DM_STATUS_REPORT"/g)].length;
    const all = [...html.matchAll(/<tr data-type="/g)].length;
    expect(status).toBeGreaterThan(all / 2);
    expect(await page.locator('table.seq tr[data-type="DM_STATUS_REPORT"]:visible').count()).toBe(status);
    await page.click('label[for="hide-DM_STATUS_REPORT"]');
    expect(await page.locator('table.seq tr[data-type="DM_STATUS_REPORT"]:visible').count()).toBe(0);
    expect(await page.locator('table.seq tr[data-type]:visible').count()).toBe(all - status);
    await page.screenshot({ path: join(screenshotDir(), 'report.png'), fullPage: true });
    await page.close();
  });
});

/** Screenshots for people to look at (not compared with anything). */
function screenshotDir(): string {
  return process.env.VIEW_SCREENSHOTS ?? require('node:os').tmpdir();
}
