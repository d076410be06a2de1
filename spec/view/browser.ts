/**
 * Debian's chromium (apt-get install chromium) driven by playwright-core, as the browser specs use
 * it: no browser download, a fresh profile, no background traffic, and every request that is not
 * to 127.0.0.1 blocked (and remembered, so a spec can assert none was tried).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface TestBrowser {
  context: BrowserContext;
  /** A new page at 1280x800 whose requests to anything but 127.0.0.1 are aborted and listed in `blocked`. */
  page(): Promise<Page>;
  blocked: string[];
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<TestBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'hv-view-chromium-'));
  // A fresh profile each time (playwright passes it as --user-data-dir).
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const blocked: string[] = [];
  return {
    context,
    blocked,
    page: async () => {
      const page = await context.newPage();
      await page.route('**/*', (route) => {
        const url = new URL(route.request().url());
        if (url.hostname === '127.0.0.1') return route.continue();
        blocked.push(route.request().url());
        return route.abort('blockedbyclient');
      });
      return page;
    },
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * One browser for the spec file that calls it (in its top level): launched before its tests,
 * closed after them, and after each test the check that the page never asked for anything but
 * 127.0.0.1 (the view works offline).
 */
export function useOfflineBrowser(): Pick<TestBrowser, 'page'> {
  let browser: TestBrowser | undefined;
  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`no browser at ${CHROMIUM}: install Debian's chromium (apt-get install -y chromium), as .ci/run does`);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });
  afterEach(() => {
    expect(browser?.blocked).toEqual([]);
  });
  return {
    page: () => {
      if (browser === undefined) throw new Error('the browser did not start (see beforeAll)');
      return browser.page();
    },
  };
}
