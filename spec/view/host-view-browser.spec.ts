/**
 * The host view in a real browser (Debian's chromium through playwright-core), offline: every
 * request that is not to 127.0.0.1 is blocked, and none may be tried. A user runs
 * `hv-balloon-sim view examples/host-vdi-login-storm.json`, opens the printed URL, sees a row for
 * every desktop and the host's totals move as the policy takes memory back, pauses and steps the
 * host, opens one desktop's detail (the VM view: its device state, its DM messages) and comes back.
 * Then a recorded host run's slider takes the whole host back in time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { runCommand } from '../../actors/cli/commands/run';
import { useOfflineBrowser } from './browser';

const ROOT = join(__dirname, '..', '..');
const VDI = join(ROOT, 'examples', 'host-vdi-login-storm.json');
const DESKS = Array.from({ length: 10 }, (_, i) => `desk-${String(i + 1).padStart(2, '0')}`);

jest.setTimeout(120_000);

// Offline: after each test, the page never asked for anything but the view's own server.
const browser = useOfflineBrowser();

/** Starts the CLI as a user does; resolves with the URL it prints. */
function startView(args: string[]): Promise<{ child: ChildProcess; url: string; stderr: () => string }> {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'hv-balloon-sim.js'), 'view', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL after 30 s; stderr: ${stderr}`)), 30_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const m = /view: open (http:\/\/127\.0\.0\.1:\d+\/) in a browser/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1]!, stderr: () => stderr });
      }
    });
    child.on('exit', (code) => reject(new Error(`view exited (${code}) before serving: ${stderr}`)));
  });
}

function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
}

/** Waits (at most 30 s) until `read` gives something `ok` accepts. */
async function waitFor<T>(read: () => Promise<T>, ok: (v: T) => boolean, what: string): Promise<T> {
  let v = await read();
  for (let waited = 0; waited < 30_000 && !ok(v); waited += 100) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    v = await read();
  }
  if (!ok(v)) throw new Error(`waited 30 s for ${what}; last seen: ${JSON.stringify(v)}`);
  return v;
}

const text = (page: Page, selector: string) => async (): Promise<string> => (await page.textContent(selector)) ?? '';
const vtime = (page: Page) => async (): Promise<number> => Number(((await page.textContent('#vtime')) ?? '').replace(/ s$/, ''));

describe('view host.json: the live host', () => {
  let view: Awaited<ReturnType<typeof startView>>;

  beforeAll(async () => {
    view = await startView([VDI, '--speed', '100', '--port', '0']);
  });

  afterAll(async () => {
    // Ctrl-C: the view stops cleanly.
    expect(await stop(view.child)).toBe(0);
  });

  it('shows every VM and the host totals as they move, takes the time controls, and opens a VM\'s detail', async () => {
    expect(view.stderr()).toContain('host VDI login storm: 10 VMs, policy hyperv; virtual time x100');
    const page = await browser.page();
    await page.goto(view.url);
    await page.waitForSelector('#vms tbody tr');
    expect(await page.$$eval('#vms tbody tr', (rows) => rows.map((r) => r.getAttribute('data-vm')))).toEqual(DESKS);
    expect(await page.textContent('#mode')).toBe('live');

    // At first each desktop holds its 1 GiB startup RAM; the policy takes most of it back (idle
    // desktops need 350 MiB) and says why; the host's totals follow.
    await waitFor(text(page, '#host-summary'), (s) => /assigned (\d+\.\d+)G/.test(s) && Number(/assigned (\d+\.\d+)G/.exec(s)![1]) < 8, 'the host assigned total to drop');
    expect(await page.textContent('#host-summary')).toMatch(/^memory 32\.00G {2}free \d+\.\d+G {2}assigned \d+\.\d+G {2}resident \d+\.\d+G {2}demand \d+\.\d+G$/);
    const reasons = await waitFor(() => page.$$eval('#decisions li', (lis) => lis.map((li) => li.textContent ?? '')), (l) => l.length >= 3, 'policy decisions');
    expect(reasons.some((r) => /desk-\d\d.*G -> .*G.*(buffer|minimum)/.test(r))).toBe(true);
    for (const desk of DESKS) {
      expect(await page.textContent(`#vms tr[data-vm=${desk}] td.min`)).toBe('0.50G');
      expect(await page.textContent(`#vms tr[data-vm=${desk}] td.max`)).toBe('4.00G');
      expect(await page.locator(`#vms tr[data-vm=${desk}] td.spark polyline[data-series=assignedBytes]`).count()).toBe(1);
    }
    // The host chart's lines grow as virtual time goes on.
    const points = () => page.$eval('#host-chart polyline[data-series=assignedBytes]', (l) => (l.getAttribute('points') ?? '').trim().split(/\s+/).length);
    const before = await points();
    await waitFor(points, (n) => n > before, 'the host chart to grow');

    // Pause, then step the whole host by 10 s.
    await page.click('#btn-pause');
    await waitFor(text(page, '#clock-state'), (s) => s === 'paused', 'paused');
    const paused = await vtime(page)();
    await page.click('#btn-step');
    await waitFor(vtime(page), (t) => Math.abs(t - (paused + 10)) < 0.001, 'a 10 s step');
    await page.screenshot({ path: join(screenshotDir(), 'view-host.png') });

    // One desktop's detail: the VM view of it, on the same clock.
    await page.click('#vms tr[data-vm=desk-03] td.name a');
    await page.waitForURL(/\/vm\/desk-03\/$/);
    await waitFor(text(page, '#tabs button[data-part=device] .now'), (s) => /^S_/.test(s), "desk-03's device state");
    expect(await page.textContent('#scenario-name')).toBe('VDI login storm: desk-03');
    expect(await page.isVisible('#host-link')).toBe(true);
    await waitFor(vtime(page), (t) => Math.abs(t - (paused + 10)) < 0.001, 'the detail at the host\'s time');
    // Its step is the host's: the DM messages of the next 10 s show up in its lanes.
    await page.selectOption('#step-size', '10000');
    await page.click('#btn-step');
    await waitFor(text(page, '#msg-count'), (s) => /\((\d+) of \1 shown\)/.test(s) && !/\(0 of/.test(s), 'DM messages');
    expect(await page.locator('#lanes .msg.packet').count()).toBeGreaterThan(0);
    await page.screenshot({ path: join(screenshotDir(), 'view-host-vm.png') });

    // Back to the host, which is where the detail left it.
    await page.click('#host-link');
    await page.waitForSelector('#vms tbody tr[data-vm=desk-10]');
    await waitFor(vtime(page), (t) => Math.abs(t - (paused + 20)) < 0.001, 'the host 20 s past the pause');
    await page.close();
  });
});

describe('view run.json: a recorded host run', () => {
  it('shows the host overview, and its slider takes every row back in time', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hv-host-view-'));
    const record = join(dir, 'run.json');
    await runCommand(join(ROOT, 'examples', 'host-overcommit-weight.json'), { record }, { stdout: () => undefined, stderr: () => undefined });
    const view = await startView([record]);
    try {
      const page = await browser.page();
      await page.goto(view.url);
      await page.waitForSelector('#vms tbody tr');
      expect(await page.textContent('#mode')).toBe('recorded run');
      expect(await page.isVisible('#controls')).toBe(false);
      const rows = await page.$$eval('#vms tbody tr', (trs) => trs.map((r) => r.getAttribute('data-vm')));
      expect(rows.length).toBeGreaterThan(1);
      const end = await page.textContent(`#vms tr[data-vm=${rows[0]}] td.assigned`);
      await page.locator('#slider').fill('0');
      await waitFor(vtime(page), (t) => t === 0, 'the start of the run');
      const start = await page.textContent(`#vms tr[data-vm=${rows[0]}] td.assigned`);
      expect(start).not.toBe(end);
      expect(await page.locator('#decisions li').count()).toBe(0);
      await page.close();
    } finally {
      await stop(view.child);
    }
  });
});

/** Screenshots for people to look at (not compared with anything). */
function screenshotDir(): string {
  return process.env.VIEW_SCREENSHOTS ?? tmpdir();
}
