// How the view holds up with 64 MiB of simulated memory and a trace of more than 100k events (safeperf:
// ~450k): play it and record the page's requestAnimationFrame deltas (p50/p95/max), and time a step back
// (a replay from a checkpoint or the seed) at 100k, 300k events and the end, right after jumping there and once
// the checkpoints are ready. Figures go to test-artifacts/e2e/frame-times.json and
// stdout; the only assertions are generous sanity bounds — speed is reported, not tested.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { MiB } from '../../src/lib/units.ts';
import { runScenario } from '../../src/sim/scenario.ts';
import { findScenario } from '../../src/sim/scenarios.ts';
import { ARTIFACTS, View, uiAndBrowser } from './browser.ts';

const env = uiAndBrowser();

const pct = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
const round = (x: number): number => Math.round(x * 10) / 10;

it('plays safeperf (64 MiB, >100k events) and reports frame times and step-back times', async () => {
  const v = new View(await env.browser.context.newPage());
  await v.load(env.ui.url);
  await v.page.getByTestId('sanity').selectOption('off');
  const t0 = Date.now();
  await v.open('safeperf', { memoryMiB: 64 });
  const listMs = Date.now() - t0;
  const total = Number(await v.page.getByTestId('status').getAttribute('data-total'));
  expect(total).toBeGreaterThanOrEqual(100_000);

  await v.page.getByTestId('speed').selectOption('1000');
  const playMs = 8000;
  const before = (await v.status()).seen;
  const deltas = await v.page.evaluate(async (ms) => {
    const out: number[] = [];
    let last = performance.now();
    const end = last + ms;
    document.querySelector<HTMLButtonElement>('[data-testid=play]')?.click();
    await new Promise<void>((resolve) => {
      const tick = (now: number): void => {
        out.push(now - last);
        last = now;
        if (now < end) requestAnimationFrame(tick);
        else resolve();
      };
      requestAnimationFrame(tick);
    });
    document.querySelector<HTMLButtonElement>('[data-testid=play]')?.click();
    return out;
  }, playMs);
  await v.page.waitForTimeout(500);
  const played = (await v.status()).seen - before;
  await v.shot('safeperf-playing');

  // The steps of events 10k and 100k, from the same run in Node (the view's config: seed 1, COW on, ...).
  const scenario = findScenario('safeperf');
  if (scenario === undefined) throw new Error('no safeperf');
  const node = await runScenario(
    scenario,
    { seed: 1, ramBytes: 64 * MiB, cowSafecopy: true, grantIds: 'generational', sanity: 'off' },
    { oneSystem: true },
  );
  expect(node.system?.trace.length).toBe(total);
  // Step back at three places: right after the jump there (a replay from the nearest ready checkpoint, maybe
  // the seed), and again once the worker has prepared the checkpoints below (a replay of at most one interval).
  const stepBack: Record<string, { afterJump: number; prepared: number }> = {};
  const took = async (): Promise<number> =>
    round(Number(await v.page.getByTestId('status').getAttribute('data-took')));
  const trace = node.system?.trace ?? [];
  for (const n of [100_000, 300_000, trace.length - 1]) {
    const e = trace[n];
    if (e === undefined) throw new Error(`no event ${n}`);
    const at = await v.gotoStep(e.step + 1);
    expect(at.seen).toBeGreaterThan(n);
    const back = await v.click('back');
    expect(back.step).toBeLessThan(at.step);
    const afterJump = await took();
    await v.page.waitForFunction(
      () => document.querySelector('[data-testid=status]')?.getAttribute('data-prepared') === 'true',
      undefined,
      { timeout: 120_000 },
    );
    const again = await v.click('back');
    expect(again.step).toBeLessThan(back.step);
    stepBack[`at event ${n}`] = { afterJump, prepared: await took() };
  }

  const sorted = [...deltas].sort((a, b) => a - b);
  const result = {
    scenario: 'safeperf',
    memoryMiB: 64,
    events: total,
    listingRunMs: listMs,
    play: {
      ms: playMs,
      eventsPerFrame: 1000,
      eventsPlayed: played,
      frames: deltas.length,
      p50: round(pct(sorted, 50)),
      p95: round(pct(sorted, 95)),
      max: round(sorted.at(-1) ?? 0),
    },
    stepBackMs: stepBack,
  };
  writeFileSync(join(ARTIFACTS, 'frame-times.json'), `${JSON.stringify(result, null, 2)}\n`);
  console.log(`frame times: ${JSON.stringify(result)}`);
  expect(played).toBeGreaterThan(0);
  expect(result.play.p50).toBeLessThan(1000);
  expect(v.errors).toEqual([]);
}, 600_000);
