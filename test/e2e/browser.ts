/// <reference lib="dom" />
// Helpers of the e2e tests: the `grantvm ui` server on a free port, Debian's chromium through playwright-core
// (headless, with the flags this platform needs and a fresh profile), and a driver for the view's controls.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { chromium } from 'playwright-core';
import type { BrowserContext, Page } from 'playwright-core';

export const ARTIFACTS = 'test-artifacts/e2e';
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Starts `grantvm ui --port 0` and resolves with its URL. */
export async function startUi(): Promise<{ url: string; stop: () => void }> {
  const child: ChildProcess = spawn(process.execPath, ['bin/grantvm.js', 'ui', '--port', '0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((ok, fail) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /http:\/\/\S+\//.exec(out);
      if (m !== null) ok(m[0]);
    });
    child.once('exit', (code) => {
      fail(new Error(`grantvm ui exited with ${code}: ${out}`));
    });
  });
  return { url, stop: () => child.kill() };
}

export async function launch(): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), 'grantvm-chromium-'));
  mkdirSync(ARTIFACTS, { recursive: true });
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1500, height: 1000 },
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
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export interface Status {
  step: number;
  seen: number;
  done: boolean;
  version: number;
}

/** Drives the view: every action waits for the worker's answer (a new state). */
export class View {
  /** Uncaught exceptions of the page (a test ends by expecting none). */
  readonly errors: string[] = [];

  constructor(readonly page: Page) {
    page.on('pageerror', (e) => this.errors.push(e.message));
  }

  async status(): Promise<Status> {
    const s = this.page.getByTestId('status');
    const [step, seen, done, version] = await Promise.all(
      ['data-step', 'data-seen', 'data-done', 'data-version'].map((a) => s.getAttribute(a)),
    );
    return { step: Number(step), seen: Number(seen), done: done === 'true', version: Number(version) };
  }

  /** Runs `action`, then waits until a new state has arrived and the worker is idle. */
  async act(action: () => Promise<void>): Promise<Status> {
    const before = (await this.status()).version;
    await action();
    try {
      await this.page.waitForFunction(
        (v) => {
          const s = document.querySelector('[data-testid=status]');
          return (
            s !== null &&
            Number(s.getAttribute('data-version')) > v &&
            s.getAttribute('data-busy') === 'false'
          );
        },
        before,
        { timeout: 120_000 },
      );
    } catch (err) {
      throw new Error(
        `no new state from the view; its status line: ${await this.page.getByTestId('status').textContent()}`,
        { cause: err },
      );
    }
    return this.status();
  }

  /** Opens the page at `url` and waits for the default scenario's first state. */
  async load(url: string): Promise<void> {
    await this.page.goto(url);
    await this.page.waitForFunction(
      () => Number(document.querySelector('[data-testid=status]')?.getAttribute('data-version') ?? 0) > 0,
      undefined,
      { timeout: 120_000 },
    );
  }

  /** Sets the switches, then picks a scenario, which opens it (listing run + first stop); ⟳ run if it is already picked. */
  async open(scenario: string, options: { cow?: boolean; memoryMiB?: number } = {}): Promise<Status> {
    if (options.cow !== undefined) await this.page.getByTestId('cow').setChecked(options.cow);
    if (options.memoryMiB !== undefined)
      await this.page.getByTestId('memory').fill(String(options.memoryMiB));
    const select = this.page.getByTestId('scenario');
    if ((await select.inputValue()) === scenario)
      return this.act(() => this.page.getByTestId('open').click());
    return this.act(async () => {
      await select.selectOption(scenario);
    });
  }

  /** Where cell `index` of the frame map is, relative to the canvas (for hover and click). */
  async cellPosition(index: number): Promise<{ x: number; y: number }> {
    const fm = this.page.getByTestId('framemap');
    const box = await fm.boundingBox();
    if (box === null) throw new Error('no frame map');
    const cols = Number(await fm.getAttribute('data-cols'));
    const cell = Number(await fm.getAttribute('width')) / cols;
    const rows = Number(await fm.getAttribute('height')) / cell;
    return {
      x: (box.width * ((index % cols) + 0.5)) / cols,
      y: (box.height * (Math.floor(index / cols) + 0.5)) / rows,
    };
  }

  gotoStep(step: number): Promise<Status> {
    return this.act(async () => {
      await this.page.getByTestId('jump').fill(String(step));
      await this.page.getByTestId('jump').press('Enter');
    });
  }

  click(testId: string): Promise<Status> {
    return this.act(() => this.page.getByTestId(testId).click());
  }

  press(key: string): Promise<Status> {
    return this.act(() => this.page.keyboard.press(key));
  }

  /** Frames per kind on the frame map (FRAME names → count). */
  async frameCounts(): Promise<Record<string, number>> {
    return JSON.parse(
      (await this.page.getByTestId('framemap').getAttribute('data-counts')) ?? '{}',
    ) as Record<string, number>;
  }

  async grantEdges(): Promise<string[]> {
    return this.page
      .locator('[data-testid=grant-edge]')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-grant') ?? ''));
  }

  async shot(name: string): Promise<void> {
    await this.page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
  }
}

/** The served view and a browser for one test file: started before its tests, stopped after them. */
export function uiAndBrowser(): { ui: Awaited<ReturnType<typeof startUi>>; browser: Awaited<ReturnType<typeof launch>> } {
  const env = {} as { ui: Awaited<ReturnType<typeof startUi>>; browser: Awaited<ReturnType<typeof launch>> };
  beforeAll(async () => {
    env.ui = await startUi();
    env.browser = await launch();
  });
  afterAll(async () => {
    await env.browser.close();
    env.ui.stop();
  });
  return env;
}
