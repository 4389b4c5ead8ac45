import { describe, expect, it } from 'vitest';
import { Session, matchesKind, positionsOf } from '../../../src/sim/session.ts';
import { findScenario } from '../../../src/sim/scenarios.ts';
import {
  FRAME,
  addressSpaces,
  frameKind,
  frameMap,
  frameMappings,
  frameOwnerSlot,
  frameRefcount,
} from '../../../src/sim/inspect.ts';
import type { System } from '../../../src/sim/system.ts';

const scenario = (name: string) => {
  const s = findScenario(name);
  if (s === undefined) throw new Error(`no scenario ${name}`);
  return s;
};

/** Everything the view shows at a stop, as one comparable value. */
const state = (sys: System) => ({
  snap: sys.inspect(),
  frames: [...frameMap(sys)],
  spaces: addressSpaces(sys),
});

describe('positionsOf', () => {
  it('stops after each distinct event step and at the end', () => {
    const e = (step: number) => ({ step, kind: 'panic' as const, message: '' });
    expect(positionsOf([e(0), e(0), e(3), e(7)], 10)).toEqual([1, 4, 8, 10]);
    expect(positionsOf([e(0), e(9)], 9)).toEqual([1, 9]);
  });
});

describe('Session', () => {
  it('steps forward, and back by replay to the very same state, with the sanity checks on', async () => {
    const s = await Session.open(scenario('safemap'), { sanity: 'top', seed: 3 });
    expect(s.events.length).toBeGreaterThan(500);
    // one system: the scenario keeps to the configured COW mode instead of booting a second system
    expect(s.listing.checks.length).toBeGreaterThan(0);
    expect(s.listing.checks.every((c) => c.name.startsWith('[cow on]'))).toBe(true);
    expect(s.position.step).toBe(s.positions[0]);
    const mid = s.positions[200] ?? 0;
    await s.goto(mid);
    expect(s.position.step).toBeGreaterThanOrEqual(mid);
    s.sys.sanityCheck();
    const at = state(s.sys);
    // replays count the events and keep none (the listing has them all)
    expect(s.sys.trace).toEqual([]);
    expect(s.position.seen).toBe(s.events.filter((e) => e.step < mid).length);
    await s.goto(s.nextPosition());
    await s.goto(s.nextPosition());
    expect(s.replays).toBe(0);
    expect(state(s.sys)).not.toEqual(at);
    await s.goto(mid);
    expect(s.replays).toBe(1);
    expect(state(s.sys)).toEqual(at);
    s.sys.sanityCheck();
  });

  it('steps back from checkpoints that prepare() leaves behind, to the state a run from the seed reaches', async () => {
    const s = await Session.open(scenario('safemap'), { sanity: 'top', seed: 2 }, { interval: 100 });
    expect(s.finalStep).toBeGreaterThan(3 * s.interval);
    const far = s.positions.at(-3) ?? 0;
    await s.goto(far);
    let slices = 0;
    while (await s.prepare()) slices++;
    // one slice per checkpoint below the current step (each is at most one interval from the one before)
    expect(slices).toBe(Math.floor((far - 1) / s.interval));
    const fresh = await Session.open(scenario('safemap'), { sanity: 'top', seed: 2 });
    for (const target of [s.positions.at(-4) ?? 0, s.interval + 1, s.positions.at(-2) ?? 0]) {
      await s.goto(target);
      await fresh.goto(target);
      expect(s.position, String(target)).toEqual(fresh.position);
      expect(state(s.sys), String(target)).toEqual(state(fresh.sys));
      s.sys.sanityCheck();
    }
    // two steps back, and a jump forward that goes on from a checkpoint beyond the current step
    expect(s.replays).toBe(3);
  });

  it('reports the listing run’s progress every given number of steps', async () => {
    const seen: [number, number][] = [];
    const s = await Session.open(
      scenario('vm-demo'),
      {},
      { progress: { every: 1000, at: (step, events) => seen.push([step, events]) } },
    );
    expect(seen.length).toBe(Math.floor((s.finalStep - 1) / 1000));
    expect(seen.map(([step]) => step)).toEqual(seen.map((_, i) => (i + 1) * 1000));
    expect(seen.every(([step, events]) => events === s.events.filter((e) => e.step < step).length)).toBe(
      true,
    );
  });

  it('runs to the next event of a kind: fault, COW break, grant failure', async () => {
    const s = await Session.open(scenario('safemap'), { sanity: 'top' });
    for (const kind of ['fault', 'cow-break', 'grant-failure'] as const) {
      const t = s.nextOfKind(kind);
      expect(t, kind).not.toBeNull();
      await s.goto(t ?? 0);
      const last = s.events
        .slice(0, s.position.seen)
        .filter((e) => matchesKind(e, kind))
        .at(-1);
      expect(last?.step, kind).toBe((t ?? 0) - 1);
      s.sys.sanityCheck();
    }
  });

  it('ends at the final step with the listing run’s verdict, and steps back from there', async () => {
    const s = await Session.open(scenario('vm-demo'), { sanity: 'top' });
    expect(s.listing.error).toBeNull();
    expect(s.listing.checks.every((c) => c.ok)).toBe(true);
    await s.goto(Number.MAX_SAFE_INTEGER);
    expect(s.position).toEqual({ step: s.finalStep, seen: s.events.length, done: true });
    expect(s.result?.checks.every((c) => c.ok)).toBe(true);
    await s.goto(s.previousPosition());
    expect(s.position.done).toBe(false);
    expect(s.position.step).toBe(s.positions.at(-2));
  });
});

describe('frameMap and frameMappings', () => {
  it('accounts every frame and shows COW sharing after a fork', async () => {
    const s = await Session.open(scenario('vm-demo'), { sanity: 'top' });
    const fork = s.events.find((e) => e.kind === 'vm' && e.op === 'fork');
    await s.goto((fork?.step ?? 0) + 1);
    const codes = frameMap(s.sys);
    const m = s.sys.inspect().vm.memory;
    expect(codes.length).toBe(m.totalPages);
    expect(codes.filter((c) => frameKind(c) === FRAME.FREE).length).toBe(m.freePages);
    const cow = codes.findIndex((c) => frameKind(c) === FRAME.COW);
    expect(cow).toBeGreaterThan(0);
    const code = codes[cow] ?? 0;
    const maps = frameMappings(s.sys, cow);
    expect(maps.length).toBe(frameRefcount(code));
    expect(Math.min(...maps.map((x) => x.slot))).toBe(frameOwnerSlot(code));
    expect(maps.every((x) => !x.writable)).toBe(true);
    const pages = addressSpaces(s.sys).find((a) => a.slot === frameOwnerSlot(code));
    expect(pages?.regions.some((r) => r.runs.some(([c]) => c === 'C'))).toBe(true);
  });
});
