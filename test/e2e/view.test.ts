// The browser view end to end, in chromium: the safemap scenario's COW_SMAP case on the frame map and the grant
// graph, step back, the cowSafecopy switch on the safecopy scenario, selection across views, run to the next
// fault, keys, and a scenario file loaded from disk. Every expected figure comes from the same model run in
// Node (the view must show exactly what the model holds at that step). Screenshots go to test-artifacts/e2e/.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext } from 'playwright-core';
import type { TraceEvent } from '../../src/include/trace.ts';
import { MiB } from '../../src/lib/units.ts';
import { FRAME, frameKind, frameMap } from '../../src/sim/inspect.ts';
import type { SystemConfig } from '../../src/sim/config.ts';
import { findScenario } from '../../src/sim/scenarios.ts';
import { Session } from '../../src/sim/session.ts';
import { View, launch, startUi } from './browser.ts';

/** The view's default config (seed 1, 64 MiB, generational ids, sanity top). */
const config = (cow: boolean): Partial<SystemConfig> => ({ seed: 1, ramBytes: 64 * MiB, cowSafecopy: cow, grantIds: 'generational', sanity: 'top' });

async function nodeSession(name: string, cow = true): Promise<Session> {
  const s = findScenario(name);
  if (s === undefined) throw new Error(name);
  return Session.open(s, config(cow));
}

/** Frames per kind, as the view's data-counts names them. */
function counts(s: Session): Record<string, number> {
  const codes = frameMap(s.sys);
  return Object.fromEntries(Object.entries(FRAME).map(([k, v]) => [k, codes.filter((c) => frameKind(c) === v).length]));
}

function namesOf(events: readonly TraceEvent[]): Map<number, string> {
  const m = new Map<number, string>();
  for (const e of events) if (e.kind === 'proc') m.set(e.ep, e.name);
  return m;
}

/** A Node-side session of the safemap scenario at the step after COW_SMAP's safemap (the grantor has forked). */
async function atCowSmap(): Promise<{ s: Awaited<ReturnType<typeof nodeSession>>; map: Extract<TraceEvent, { kind: 'grant' }> }> {
  const s = await nodeSession('safemap');
  const names = namesOf(s.events);
  const fork = s.events.find((e) => e.kind === 'vm' && e.op === 'fork' && names.get(e.ep) === 'grantor');
  const map = s.events.find((e) => e.kind === 'grant' && e.op === 'safemap' && e.result === 0 && e.step > (fork?.step ?? Infinity));
  if (map?.kind !== 'grant') throw new Error('no COW_SMAP safemap in the trace');
  await s.goto(map.step + 1);
  return { s, map };
}

let ui: Awaited<ReturnType<typeof startUi>>;
let browser: Awaited<ReturnType<typeof launch>>;
let context: BrowserContext;

beforeAll(async () => {
  ui = await startUi();
  browser = await launch();
  context = browser.context;
});

afterAll(async () => {
  await browser.close();
  ui.stop();
});

async function newView(): Promise<View> {
  const v = new View(await context.newPage());
  await v.load(ui.url);
  return v;
}

/** Ends a test: no uncaught exception in the page. */
async function done(v: View): Promise<void> {
  expect(v.errors).toEqual([]);
  await v.page.close();
}

describe('the browser view', () => {
  it('safemap: COW_SMAP on the frame map and the grant graph; step back shows the state before', async () => {
    const { s, map } = await atCowSmap();
    const atCase = { step: s.position.step, counts: counts(s) };
    const previous = s.previousPosition();
    await s.goto(previous);
    const before = { seen: s.position.seen, counts: counts(s), records: s.sys.inspect().mappings.length };

    const v = await newView();
    expect((await v.status()).step).toBe(s.positions[0]);
    const st = await v.gotoStep(map.step + 1);
    expect(st.step).toBe(atCase.step);
    const shown = await v.frameCounts();
    expect(shown).toEqual(atCase.counts);
    expect(shown.SMAP).toBeGreaterThanOrEqual(4);
    expect(shown.COW).toBeGreaterThan(0);
    expect(await v.grantEdges()).toContain(`${map.granter}:${map.gid}`);
    await expect.poll(() => v.page.getByTestId('grants').textContent()).toContain('safemap: requestor');
    await v.shot('safemap-cow-smap');

    const back = await v.click('back');
    expect(back.step).toBe(previous);
    expect(back.seen).toBe(before.seen);
    expect(back.seen).toBeLessThan(st.seen);
    expect(await v.frameCounts()).toEqual(before.counts);
    expect(await v.page.locator('[data-testid=grants] tr.smap').count()).toBe(before.records);
    await v.shot('safemap-cow-smap-back');

    const again = await v.click('step');
    expect(again.step).toBe(atCase.step);
    expect(await v.frameCounts()).toEqual(atCase.counts);
    await done(v);
  });

  it('safecopy: the cowSafecopy switch changes the frame picture (page-sized copies share frames COW)', async () => {
    const cowFrames: Record<string, number> = {};
    const v = await newView();
    for (const cow of [true, false]) {
      const s = await nodeSession('safecopy', cow);
      const names = namesOf(s.events);
      const last = s.events.filter((e) => e.kind === 'grant' && e.op.startsWith('safecopy') && names.get(e.caller) === 'requestor').at(-1);
      await s.goto((last?.step ?? 0) + 1);
      const expected = counts(s);
      const opened = await v.open('safecopy', { cow });
      expect(opened.seen).toBeGreaterThan(0);
      const st = await v.gotoStep((last?.step ?? 0) + 1);
      expect(st.step).toBe(s.position.step);
      const shown = await v.frameCounts();
      expect(shown).toEqual(expected);
      cowFrames[cow ? 'on' : 'off'] = shown.COW ?? 0;
      await v.shot(`safecopy-cow-${cow ? 'on' : 'off'}`);
    }
    // With COW on, each page-sized copy maps the grantor's frames into the requestor instead of copying.
    expect(cowFrames.on).toBeGreaterThan(cowFrames.off ?? 0);
    await done(v);
  });

  it('selection: a grant highlights its frames, processes and region; a frame lists every mapping', async () => {
    const { s, map } = await atCowSmap();
    const smapFrame = frameMap(s.sys).findIndex((c) => frameKind(c) === FRAME.SMAP);

    const v = await newView();
    await v.gotoStep(map.step + 1);
    const fm = v.page.getByTestId('framemap');
    await v.page.locator(`[data-grant="${map.granter}:${map.gid}"] text`).click();
    await expect.poll(() => fm.getAttribute('data-highlighted')).toBe('4');
    const related = await v.page.locator('[data-testid=processes] tr.related').allTextContents();
    expect(related.some((t) => t.includes('grantor'))).toBe(true);
    expect(related.some((t) => t.includes('requestor'))).toBe(true);
    expect(await v.page.locator('[data-testid=region].related').count()).toBeGreaterThan(0);
    await v.shot('select-grant');

    const box = await fm.boundingBox();
    const cols = Number(await fm.getAttribute('data-cols'));
    const rows = Math.ceil(Number((await fm.getAttribute('height')) ?? 0) / (Number(await fm.getAttribute('width')) / cols));
    if (box === null) throw new Error('no frame map');
    await fm.click({ position: { x: (box.width * ((smapFrame % cols) + 0.5)) / cols, y: (box.height * (Math.floor(smapFrame / cols) + 0.5)) / rows } });
    const list = v.page.getByTestId('frame-mappings');
    await expect.poll(() => list.textContent()).toContain(`frame ${smapFrame}`);
    const text = (await list.textContent()) ?? '';
    expect(text).toContain('grantor');
    expect(text).toContain('requestor');
    expect(text).toContain('smap');
    expect(Number(await fm.getAttribute('data-highlighted'))).toBeGreaterThanOrEqual(1);
    await v.shot('select-frame');
    await done(v);
  });

  it('runs to the next page fault, COW break and grant failure; keys step and step back', async () => {
    const s = await nodeSession('safemap');
    const v = await newView();
    for (const [button, kind] of [
      ['next-fault', 'fault'],
      ['next-cow', 'cow-break'],
      ['next-grant-failure', 'grant-failure'],
    ] as const) {
      const target = s.nextOfKind(kind);
      await s.goto(target ?? 0);
      const st = await v.click(button);
      expect(st.step, kind).toBe(s.position.step);
      expect(st.seen, kind).toBe(s.position.seen);
    }
    const faults = Number(await v.page.locator('[data-counter="page faults"] b').textContent());
    expect(faults).toBe(s.events.slice(0, s.position.seen).filter((e) => e.kind === 'fault').length);
    const here = await v.status();
    const fwd = await v.press('ArrowRight');
    expect(fwd.step).toBe(s.nextPosition());
    const back = await v.press('ArrowLeft');
    expect(back.step).toBe(here.step);
    await done(v);
  });

  it('loads a scenario file (.mjs) and runs it', async () => {
    const v = await newView();
    await v.page.getByTestId('scenario-file').setInputFiles('examples/browser-scenario.mjs');
    await expect.poll(() => v.page.getByTestId('scenario').locator('option').allTextContents()).toContain('fork-touch');
    const st = await v.open('fork-touch');
    expect(st.seen).toBeGreaterThan(0);
    const end = await v.press('End');
    expect(end.done).toBe(true);
    expect(await v.page.getByTestId('status').textContent()).toMatch(/(\d+)\/\1 checks pass/);
    await v.shot('scenario-file');
    await done(v);
  });
});
