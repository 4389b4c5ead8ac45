// The browser view end to end, in chromium: the safemap scenario's COW_SMAP case on the frame map and the grant
// graph, step back, the cowSafecopy switch on the safecopy scenario, selection across views, run to the next
// fault, keys, simulated time (counter, profile switch, timeline durations), and a scenario file loaded from disk. Every expected figure comes from the same model run in
// Node (the view must show exactly what the model holds at that step). Screenshots go to test-artifacts/e2e/.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext } from 'playwright-core';
import { errnoName } from '../../src/include/errno.ts';
import type { TraceEvent } from '../../src/include/trace.ts';
import { MiB } from '../../src/lib/units.ts';
import { FRAME, frameKind, frameMap, frameMappings } from '../../src/sim/inspect.ts';
import type { SystemConfig } from '../../src/sim/config.ts';
import { findScenario } from '../../src/sim/scenarios.ts';
import { Session } from '../../src/sim/session.ts';
import { View, launch, startUi } from './browser.ts';

/** The view's default config (seed 1, 64 MiB, generational ids, sanity top). */
const config = (cow: boolean): Partial<SystemConfig> => ({
  seed: 1,
  ramBytes: 64 * MiB,
  cowSafecopy: cow,
  grantIds: 'generational',
  sanity: 'top',
});

async function nodeSession(name: string, cow = true, profile = 'i386-2010'): Promise<Session> {
  const s = findScenario(name);
  if (s === undefined) throw new Error(name);
  return Session.open(s, { ...config(cow), profile });
}

/** Frames per kind, as the view's data-counts names them. */
function counts(s: Session): Record<string, number> {
  const codes = frameMap(s.sys);
  return Object.fromEntries(
    Object.entries(FRAME).map(([k, v]) => [k, codes.filter((c) => frameKind(c) === v).length]),
  );
}

function namesOf(events: readonly TraceEvent[]): Map<number, string> {
  const m = new Map<number, string>();
  for (const e of events) if (e.kind === 'proc') m.set(e.ep, e.name);
  return m;
}

/** A Node-side session of the safemap scenario at the step after COW_SMAP's safemap (the grantor has forked). */
async function atCowSmap(): Promise<{
  s: Awaited<ReturnType<typeof nodeSession>>;
  map: Extract<TraceEvent, { kind: 'grant' }>;
}> {
  const s = await nodeSession('safemap');
  const names = namesOf(s.events);
  const fork = s.events.find((e) => e.kind === 'vm' && e.op === 'fork' && names.get(e.ep) === 'grantor');
  const map = s.events.find(
    (e) => e.kind === 'grant' && e.op === 'safemap' && e.result === 0 && e.step > (fork?.step ?? Infinity),
  );
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
      const last = s.events
        .filter(
          (e) => e.kind === 'grant' && e.op.startsWith('safecopy') && names.get(e.caller) === 'requestor',
        )
        .at(-1);
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

    // the map shows the frames in use only, packed: the safemap frame is the cell after every used frame before it
    const codes = frameMap(s.sys);
    const cellOf = (f: number): number =>
      codes.subarray(0, f).filter((c) => frameKind(c) !== FRAME.FREE).length;
    expect(Number(await fm.getAttribute('data-cells'))).toBe(
      codes.filter((c) => frameKind(c) !== FRAME.FREE).length,
    );
    await fm.click({ position: await v.cellPosition(cellOf(smapFrame)) });
    const list = v.page.getByTestId('frame-mappings');
    await expect.poll(() => list.textContent()).toContain(`frame ${smapFrame}`);
    const text = (await list.textContent()) ?? '';
    expect(text).toContain('grantor');
    expect(text).toContain('requestor');
    expect(text).toContain('safemap shared');
    expect(Number(await fm.getAttribute('data-highlighted'))).toBeGreaterThanOrEqual(1);
    await v.shot('select-frame');

    // a COW frame: the hover line and the click list word it alike, and so do all its mappings
    const cow = codes.findIndex((c) => frameKind(c) === FRAME.COW);
    const at = await v.cellPosition(cellOf(cow));
    await fm.hover({ position: at });
    const hover = v.page.getByTestId('frame-hover');
    await expect.poll(() => hover.textContent()).toContain(`frame ${cow} `);
    const said = ((await hover.textContent()) ?? '').replace(/^.*\): /, '');
    expect(said).toMatch(/^COW shared, refcount [2-9]/);
    await fm.click({ position: at });
    await expect.poll(() => list.textContent()).toContain(`frame ${cow}: ${said}`);
    const lines = await list.locator('div').allTextContents();
    expect(lines.length).toBe(frameMappings(s.sys, cow).length);
    expect(lines.every((l) => l.includes('COW shared (refcount'))).toBe(true);
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

  it('simulated time: the counter grows with each step and follows the profile; kernel calls show their duration', async () => {
    const s = await nodeSession('safemap');
    const v = await newView();
    const time = v.page.locator('[data-counter=time]');
    const shown = async (): Promise<{ micros: number; text: string }> => ({
      micros: Number(await time.getAttribute('data-micros')),
      text: (await time.textContent()) ?? '',
    });
    const first = await shown();
    expect(first.micros).toBe(s.sys.inspect().time.totalMicros);
    expect(first.text).toBe(`${first.micros.toFixed(3)} µs simulated (i386-2010)`);
    let last = first.micros;
    for (let i = 0; i < 3; i++) {
      const st = await v.click('step');
      await s.goto(s.nextPosition());
      expect(st.step).toBe(s.position.step);
      const now = await shown();
      expect(now.micros).toBe(s.sys.inspect().time.totalMicros);
      expect(now.micros).toBeGreaterThan(last);
      last = now.micros;
    }
    // a replay (step back) shows the time of the listing run at that step
    const back = await v.click('back');
    await s.goto(s.previousPosition());
    expect(back.step).toBe(s.position.step);
    expect((await shown()).micros).toBe(s.sys.inspect().time.totalMicros);

    // the other profile: the same step, another time (as the model computes it under that profile)
    const at = await v.gotoStep(Math.floor(s.finalStep / 2));
    await s.goto(at.step);
    const before = await shown();
    expect(before.micros).toBe(s.sys.inspect().time.totalMicros);
    const modern = await nodeSession('safemap', true, 'modern-x86');
    await modern.goto(at.step);
    const switched = await v.act(async () => {
      await v.page.getByTestId('profile').selectOption('modern-x86');
    });
    expect(switched.step).toBe(at.step);
    expect(switched.seen).toBe(at.seen);
    const after = await shown();
    expect(after.micros).toBe(modern.sys.inspect().time.totalMicros);
    expect(after.micros).not.toBe(before.micros);
    expect(after.text).toContain('(modern-x86)');

    // the timeline: each event's stamp in µs, and a kernel call's duration from its kernel entry
    const clockMHz = modern.sys.clock.profile.clockMHz;
    const row = v.page.locator('[data-testid=event].kcall').first();
    const index = Number(await row.getAttribute('data-index'));
    const e = modern.events[index];
    if (e?.kind !== 'kcall' || e.t === undefined || e.t0 === undefined) throw new Error('no kernel call');
    expect(e.t).toBeGreaterThan(e.t0);
    expect(await row.locator('.t').textContent()).toBe((e.t / clockMHz).toFixed(3));
    expect(await row.getByTestId('duration').textContent()).toBe(
      `${((e.t - e.t0) / clockMHz).toFixed(3)} µs`,
    );
    await v.shot('simulated-time');
    await done(v);
  });

  it('choosing a scenario or a file opens it; a .ts file is refused with a message', async () => {
    const v = await newView();
    const ds = await nodeSession('ds');
    const st = await v.act(async () => {
      await v.page.getByTestId('scenario').selectOption('ds');
    });
    expect(st.seen).toBe(ds.position.seen);
    expect(Number(await v.page.getByTestId('status').getAttribute('data-total'))).toBe(ds.events.length);
    expect(await v.page.getByTestId('status').textContent()).toMatch(/^ds — /);

    await v.act(() => v.page.getByTestId('scenario-file').setInputFiles('examples/browser-scenario.mjs'));
    expect(await v.page.getByTestId('scenario').inputValue()).toBe('fork-touch');
    expect(await v.page.getByTestId('status').textContent()).toMatch(/^fork-touch — /);
    const end = await v.press('End');
    expect(end.done).toBe(true);
    expect(await v.page.getByTestId('status').textContent()).toMatch(/(\d+)\/\1 checks pass/);
    await v.shot('scenario-file');

    await v.page.getByTestId('scenario-file').setInputFiles({
      name: 'mine.ts',
      mimeType: 'text/plain',
      buffer: Buffer.from('export const scenario: unknown = {};\n'),
    });
    await expect
      .poll(() => v.page.getByTestId('error').textContent())
      .toContain('mine.ts: a TypeScript file cannot run in the browser');
    expect(await v.page.getByTestId('status').textContent()).toMatch(/^fork-touch — /);
    await done(v);
  });

  it('a scenario that never ends shows the listing’s progress and can be cancelled', async () => {
    const v = await newView();
    const forever = `export const scenario = { name: 'forever', title: 'asks PM for its pid, forever', async run(sys) {
      sys.spawn(async (p) => { for (;;) await p.getpid(); }, { name: 'spinner' });
      await sys.run();
    } };\n`;
    await v.page
      .getByTestId('scenario-file')
      .setInputFiles({ name: 'forever.mjs', mimeType: 'text/javascript', buffer: Buffer.from(forever) });
    const busy = v.page.getByTestId('busy');
    await expect
      .poll(() => busy.textContent(), { timeout: 60_000 })
      .toMatch(/listing every event of forever: step [1-9]\d*, \d+ events/);
    await v.shot('never-ends');
    await v.page.getByTestId('cancel').click();
    await expect.poll(() => v.page.getByTestId('error').textContent()).toContain('cancelled');
    expect(await busy.count()).toBe(0);
    // the fresh worker runs the built-in scenarios
    const st = await v.open('vm-demo');
    expect(st.seen).toBeGreaterThan(0);
    await done(v);
  });

  it('grant graph: revoked and stale grants folded until asked, labels never overlap; timeline: errno names, routine results not red', async () => {
    const v = await newView();
    const end = await v.press('End');
    expect(end.done).toBe(true);
    expect(await v.page.locator('[data-testid=grant-stale]').count()).toBe(0);
    await v.page.getByTestId('graph-revoked').check();
    await expect.poll(() => v.page.locator('[data-testid=grant-stale]').count()).toBeGreaterThan(0);
    await v.page.getByTestId('graph-dead').check();
    const boxes = await v.page.locator('[data-testid=grant-graph] text').evaluateAll((els) =>
      els.map((e) => {
        const b = (e as SVGGraphicsElement).getBBox();
        return { t: e.textContent, x0: b.x, y0: b.y, x1: b.x + b.width, y1: b.y + b.height };
      }),
    );
    expect(boxes.length).toBeGreaterThan(5);
    const clashes = boxes.flatMap((a, i) =>
      boxes
        .slice(i + 1)
        .filter((b) => a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1)
        .map((b) => `${a.t} / ${b.t}`),
    );
    expect(clashes).toEqual([]);
    await v.shot('grant-graph-unfolded');

    const s = await nodeSession('safemap');
    await s.goto(s.nextOfKind('grant-failure') ?? 0);
    await v.gotoStep(s.position.step);
    const failure = s.events
      .slice(0, s.position.seen)
      .filter((e) => e.kind === 'grant' && e.result < 0)
      .at(-1);
    if (failure?.kind !== 'grant') throw new Error('no grant failure');
    const rows = v.page.locator('[data-testid=event]');
    const bad = await v.page.locator('[data-testid=event].bad').allTextContents();
    expect(
      bad.some((t) => t.includes(`${failure.op} grant`) && t.endsWith(`= ${errnoName(failure.result)}`)),
    ).toBe(true);
    const routine = await rows
      .filter({ hasText: 'SYS_VMCTL = ESRCH' })
      .evaluateAll((els) => els.map((e) => e.classList.contains('bad')));
    expect(routine.length).toBeGreaterThan(0);
    expect(routine.every((isBad) => !isBad)).toBe(true);
    expect((await rows.allTextContents()).some((t) => / = -\d/.test(t))).toBe(false);
    await done(v);
  });
});
