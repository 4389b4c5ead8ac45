// Trace output with simulated time (src/sim/trace.ts): events carry the cycle counter, the hash leaves it out,
// and the Chrome export has complete events with durations and a running slice per process.
import { describe, expect, it } from 'vitest';
import { MAP_ANON, MAP_PRIVATE } from '../../../src/include/vm.ts';
import { vmMmap } from '../../../src/libsys/vm.ts';
import { createSystem } from '../../../src/sim/system.ts';
import type { System } from '../../../src/sim/system.ts';
import { traceHash } from '../../../src/sim/trace.ts';
import type { TraceEvent } from '../../../src/include/trace.ts';
import { fnv1a } from '../../../src/lib/rng.ts';

interface ChromeEvent {
  ph: string;
  name: string;
  cat?: string;
  ts: number;
  dur?: number;
  tid: number;
}

async function faulting(profile: string): Promise<System> {
  const sys = await createSystem({ ramBytes: 16 * 1024 * 1024, profile });
  sys.spawn(async (p) => {
    const a = await vmMmap(p, 0, 2 * 4096, MAP_ANON | MAP_PRIVATE);
    await p.writeU8(a, 1);
    await p.writeU8(a + 4096, 2);
  });
  await sys.run();
  return sys;
}

describe('trace time', () => {
  it('stamps every event with a non-decreasing cycle count; the hash ignores the stamps', async () => {
    const sys = await faulting('i386-2010');
    const ts = sys.trace.map((e) => e.t ?? Number.NaN);
    expect(ts.every((t, i) => Number.isFinite(t) && (i === 0 || t >= (ts[i - 1] ?? 0)))).toBe(true);
    // Without the stamps (JSON leaves undefined fields out) the hash is the same.
    const bare = sys.trace.map((e) => ({ ...e, t: undefined, t0: undefined }));
    expect(traceHash(bare)).toBe(sys.traceHash());
    expect(sys.traceHash()).toBe((await faulting('modern-x86')).traceHash());
  });

  it('the Chrome export has durations for kernel calls, IPC, faults and VM requests, and running slices', async () => {
    const sys = await faulting('i386-2010');
    const events = (JSON.parse(sys.chromeTrace()) as { traceEvents: ChromeEvent[] }).traceEvents;
    const complete = events.filter((e) => e.ph === 'X');
    for (const cat of ['kcall', 'ipc', 'vm', 'sched'])
      expect(
        complete.some((e) => e.cat === cat && (e.dur ?? 0) > 0),
        cat,
      ).toBe(true);
    const faults = complete.filter((e) => e.name === 'page fault');
    expect(faults).toHaveLength(sys.kernel.counts.pageFaults);
    // A fault lasts at least its trap and exception, converted to µs at the profile's clock.
    for (const f of faults) expect(f.dur ?? 0).toBeGreaterThanOrEqual((600 + 1200) / 2000);
    const last = Math.max(...complete.map((e) => e.ts + (e.dur ?? 0)));
    expect(last).toBeCloseTo(sys.clock.micros(sys.trace.at(-1)?.t ?? 0), 6);
  });
});

describe('traceHash', () => {
  /** The hash as the JSON without the time fields, the slow way (a replacer). */
  const slowHash = (events: readonly object[]): string => {
    const untimed = (key: string, value: unknown): unknown =>
      key === 't' || key === 't0' ? undefined : value;
    let h = 0x811c9dc5;
    for (const e of events) h = fnv1a(JSON.stringify(e, untimed), h);
    return h.toString(16).padStart(8, '0');
  };

  it('equals the hash of the JSON without t and t0, wherever they sit and whatever the strings hold', () => {
    const odd = [
      { step: 1, kind: 'kcall', caller: 5, call: 'SYS_SAFECOPYFROM', result: 0, t0: 12.5, t: 900 },
      { step: 2, kind: 'fault', ep: 7, t: 3e21 },
      { t: 5, step: 3, kind: 'x' },
      { step: 4, t0: 3, kind: 'y', t: 4 },
      { step: 5, kind: 'panic', message: 'a,"t":5}' },
      { step: 6, n: { t: 1 }, t: 9 },
      { step: 7, kind: 'panic', message: 'no time' },
    ];
    for (const e of odd)
      expect(traceHash([e as unknown as TraceEvent]), JSON.stringify(e)).toBe(slowHash([e]));
    expect(traceHash(odd as unknown as TraceEvent[])).toBe(slowHash(odd));
  });

  it("of a real run equals the slow way's, with the events' times read or not", async () => {
    const sys = await faulting('i386-2010');
    const before = sys.traceHash();
    expect(before).toBe(slowHash(sys.trace));
    expect(sys.traceHash()).toBe(before);
  });
});
