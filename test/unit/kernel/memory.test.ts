// The kernel's copies between processes (kernel/memory.ts) on hand-built page tables with scattered frames:
// kcopy and the run-based copy against a byte-array reference, memmove semantics inside one process, and the
// range checks (kcheckRange, kcheckRuns) that gate every copy.
import { describe, expect, it } from 'vitest';
import { grantWorld } from '../../helpers/grantworld.ts';
import type { Actor } from '../../helpers/grantworld.ts';
import { kcheckRange, kcheckRuns, kcopy, kcopyInPage, kread, kwrite } from '../../../src/kernel/memory.ts';
import type { PhysRuns } from '../../../src/hw/mmu.ts';
import { EFAULT, OK } from '../../../src/include/errno.ts';
import { CPF_READ } from '../../../src/include/safecopies.ts';
import { MAP_ANON, MAP_FIXED, MAP_PRIVATE } from '../../../src/include/vm.ts';
import { MiB } from '../../../src/lib/units.ts';
import { vmMmap, vmMunmap } from '../../../src/libsys/vm.ts';
import { drivenActor } from '../../../src/sim/driven.ts';
import { createSystem } from '../../../src/sim/system.ts';

const PAGE = 4096;
const PAGES = 6;

/** A paged actor with PAGES pages at its base, mapped in the order given (so their frames are scattered). */
function scattered(
  w: ReturnType<typeof grantWorld>,
  slot: number,
  name: string,
  order: readonly number[],
  seed: number,
): Actor {
  const a = w.actor(slot, name, { paged: true });
  for (const i of order) a.mapPage(a.base + i * PAGE);
  // kread/kwrite go page by page with one walk each: the simple reference the run-based copies are checked against.
  kwrite(
    w.k,
    a.kp,
    a.base,
    Uint8Array.from({ length: PAGES * PAGE }, (_, i) => (i * 7 + seed) & 0xff),
  );
  return a;
}

/** The first index where the two byte arrays differ, or -1 (a deep toEqual of 24 KiB is slow). */
const firstDiff = (x: Uint8Array, y: Uint8Array): number =>
  x.length !== y.length ? -2 : x.findIndex((b, i) => b !== y[i]);

const reverse = Array.from({ length: PAGES }, (_, i) => PAGES - 1 - i);
const shuffled = [3, 0, 5, 1, 4, 2];

describe('kernel copies over scattered frames', () => {
  it('kcopy between two processes equals a plain byte copy, for odd offsets and lengths', () => {
    const w = grantWorld();
    const a = scattered(w, 20, 'A', reverse, 1);
    const b = scattered(w, 21, 'B', shuffled, 2);
    for (const [s, d, n] of [
      [100, 3000, 20000],
      [0, 0, PAGES * PAGE],
      [4095, 1, 2],
      [5000, 5000, 3 * PAGE],
      [7, 9, 1],
    ] as const) {
      const want = kread(w.k, b.kp, b.base, PAGES * PAGE);
      want.set(kread(w.k, a.kp, a.base + s, n), d);
      kcopy(w.k, a.kp, a.base + s, b.kp, b.base + d, n);
      expect(firstDiff(kread(w.k, b.kp, b.base, PAGES * PAGE), want)).toBe(-1);
    }
  });

  it('kcopy inside one process is a memmove in both directions', () => {
    const w = grantWorld();
    const a = scattered(w, 20, 'A', shuffled, 3);
    for (const [s, d, n] of [
      [100, 5000, 15000],
      [5000, 100, 15000],
      [0, 1, PAGES * PAGE - 1],
      [1, 0, PAGES * PAGE - 1],
      [4000, 4100, 200],
    ] as const) {
      const want = kread(w.k, a.kp, a.base, PAGES * PAGE);
      want.copyWithin(d, s, s + n);
      kcopy(w.k, a.kp, a.base + s, a.kp, a.base + d, n);
      expect(firstDiff(kread(w.k, a.kp, a.base, PAGES * PAGE), want)).toBe(-1);
    }
  });

  it('kcheckRuns merges physically contiguous pages into runs and stops at the first bad page like kcheckRange', () => {
    const w = grantWorld();
    const a = w.actor(20, 'A', { paged: true });
    // Pages 0-3 mapped in order (consecutive frames once their page table exists), page 4 read-only, 5 absent.
    a.mapPage(a.base);
    for (let i = 1; i < 4; i++) a.mapPage(a.base + i * PAGE);
    a.mapPage(a.base + 4 * PAGE, false);
    const runs: PhysRuns = { pa: [], bytes: [], count: 0 };
    expect(kcheckRuns(w.k, a.kp, a.base + 10, 4 * PAGE - 20, false, runs)).toBe(-1);
    expect(runs.bytes.slice(0, runs.count).reduce((x, y) => x + y, 0)).toBe(4 * PAGE - 20);
    expect(runs.count).toBeLessThanOrEqual(2);
    for (const [v, n, write] of [
      [a.base, 5 * PAGE, false],
      [a.base, 5 * PAGE, true],
      [a.base + 100, 6 * PAGE, false],
      [a.base + 4 * PAGE + 8, 16, true],
    ] as const) {
      expect(kcheckRuns(w.k, a.kp, v, n, write, runs)).toBe(kcheckRange(w.k, a.kp, v, n, write));
    }
    expect(kcheckRange(w.k, a.kp, a.base, 5 * PAGE, true)).toBe(a.base + 4 * PAGE);
    expect(kcheckRange(w.k, a.kp, a.base + 100, 6 * PAGE, false)).toBe(a.base + 5 * PAGE);
    expect(kcheckRange(w.k, a.kp, a.base + 4 * PAGE + 8, 16, true)).toBe(a.base + 4 * PAGE + 8);
  });

  it('kcopyInPage copies only ranges inside one page whose pages allow the access', () => {
    const w = grantWorld();
    const a = scattered(w, 20, 'A', reverse, 4);
    const b = w.actor(21, 'B', { paged: true });
    b.mapPage(b.base);
    b.mapPage(b.base + PAGE, false);
    expect(kcopyInPage(w.k, a.kp, a.base + 10, b.kp, b.base + 20, 64)).toBe(true);
    expect(b.peek(b.base + 20, 64)).toEqual(a.peek(a.base + 10, 64));
    // Crosses a page on the destination side, or the destination page is read-only: nothing is copied.
    const before = b.peek(b.base, 2 * PAGE);
    expect(kcopyInPage(w.k, a.kp, a.base + 10, b.kp, b.base + PAGE - 8, 16)).toBe(false);
    expect(kcopyInPage(w.k, a.kp, a.base, b.kp, b.base + PAGE, 16)).toBe(false);
    expect(kcopyInPage(w.k, b.kp, b.base + 2 * PAGE, a.kp, a.base, 16)).toBe(false);
    expect(b.peek(b.base, 2 * PAGE)).toEqual(before);
  });
});

describe("the kernel's cached walks (WalkCache) against VM's changes between copies", () => {
  it('sees an unmapped source page and a remapped destination at the next copy', async () => {
    const sys = await createSystem({ sanity: 'off', trace: null, ramBytes: 16 * MiB });
    const spawn = { image: { data: 8 * PAGE }, system: true };
    const g = await drivenActor(sys, 'G', { spawn });
    const r = await drivenActor(sys, 'R', { spawn });
    const src = await g.do((p) => vmMmap(p, 0, 2 * PAGE, MAP_ANON | MAP_PRIVATE));
    const dst = await r.do((p) => vmMmap(p, 0, 2 * PAGE, MAP_ANON | MAP_PRIVATE));
    const gid = await g.do(async (p) => {
      await p.write(
        src,
        Uint8Array.from({ length: 2 * PAGE }, (_, i) => i & 0xff),
      );
      return (await p.cpf.grantDirect(r.ep, src, 2 * PAGE, CPF_READ)).id;
    });
    const copy = (bytes: number): Promise<number> =>
      r.do((p) => p.sys.safecopyFrom(g.ep, gid, 0, dst, bytes));
    expect(await copy(8)).toBe(OK);
    expect(await copy(2 * PAGE)).toBe(OK);
    // R's destination goes and comes back as fresh zero pages: the copies must fault them in again.
    await r.do(async (p) => {
      expect(await vmMunmap(p, dst, 2 * PAGE)).toBe(OK);
      expect(await vmMmap(p, dst, 2 * PAGE, MAP_ANON | MAP_PRIVATE | MAP_FIXED)).toBe(dst);
    });
    expect(await copy(8)).toBe(OK);
    expect(await copy(2 * PAGE)).toBe(OK);
    const back = await r.do((p) => p.read(dst, 2 * PAGE));
    expect(
      firstDiff(
        back,
        Uint8Array.from({ length: 2 * PAGE }, (_, i) => i & 0xff),
      ),
    ).toBe(-1);
    // G's source goes: the next copies find it absent (VM's CHECK fails), small or large.
    await g.do(async (p) => {
      expect(await vmMunmap(p, src, 2 * PAGE)).toBe(OK);
    });
    expect(await copy(8)).toBe(EFAULT);
    expect(await copy(2 * PAGE)).toBe(EFAULT);
  });
});
