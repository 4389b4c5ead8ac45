// Edges of the kernel's memory access (src/kernel/memory.ts): the 32-bit range rule, what the range checks return
// for empty, wrapping and partly outside ranges (identity extents and page tables), the walks they are charged,
// kernel walks outside the address space, one-page copies up to the page's last byte, copies between ranges that
// share frames, and a process's own accesses that end in SIGSEGV.
import { describe, expect, it } from 'vitest';
import { grantWorld } from '../../helpers/grantworld.ts';
import { K } from '../../../src/hw/profile.ts';
import type { PhysRuns } from '../../../src/hw/mmu.ts';
import { PTE } from '../../../src/hw/mmu.ts';
import { SIGSEGV } from '../../../src/include/errno.ts';
import { ADDRESS_SPACE_BYTES } from '../../../src/lib/units.ts';
import {
  hasPageTable,
  kcheckRange,
  kcheckRuns,
  kcopy,
  kcopyInPage,
  kread,
  kshareFrames,
  kwalk,
  kwrite,
  rangeWraps,
} from '../../../src/kernel/memory.ts';
import { pattern, PAGE, MiB } from '../../helpers/bytes.ts';

describe('rangeWraps', () => {
  it('accepts natural numbers whose range ends at 2^32 at the latest', () => {
    expect([
      rangeWraps(0, 0),
      rangeWraps(ADDRESS_SPACE_BYTES - 1, 1),
      rangeWraps(0, ADDRESS_SPACE_BYTES),
    ]).toEqual([false, false, false]);
    for (const [v, n] of [
      [-1, 1],
      [0, -1],
      [0.5, 1],
      [0, 1.5],
      [ADDRESS_SPACE_BYTES, 1],
      [ADDRESS_SPACE_BYTES - 1, 2],
      [NaN, 0],
    ]) {
      expect(rangeWraps(v ?? 0, n ?? 0)).toBe(true);
    }
  });
});

describe('kcheckRange and kcheckRuns', () => {
  it('an empty range is fine anywhere; a wrapping one fails at its start, or 0 for a start that is no address', () => {
    const w = grantWorld({ ramBytes: 8 * MiB });
    const a = w.actor(20, 'A');
    const runs: PhysRuns = { pa: [5], bytes: [5], count: 1 };
    expect(kcheckRuns(w.k, a.kp, -7, 0, false, runs)).toBe(-1);
    expect(runs.count).toBe(0);
    expect(kcheckRange(w.k, a.kp, ADDRESS_SPACE_BYTES - 4, 8, false)).toBe(ADDRESS_SPACE_BYTES - 4);
    expect(kcheckRange(w.k, a.kp, 0, -1, false)).toBe(0);
    expect(kcheckRange(w.k, a.kp, -5, 8, false)).toBe(0);
    expect(kcheckRange(w.k, a.kp, 2.5, 8, false)).toBe(0);
  });

  it('inside an identity extent: one run; the first page outside is the address returned', () => {
    const w = grantWorld({ ramBytes: 8 * MiB });
    const a = w.actor(20, 'A');
    const runs: PhysRuns = { pa: [], bytes: [], count: 0 };
    expect(kcheckRuns(w.k, a.kp, a.base + 10, 3 * PAGE, true, runs)).toBe(-1);
    expect([runs.count, runs.pa[0], runs.bytes[0]]).toEqual([1, a.base + 10, 3 * PAGE]);
    expect(kcheckRange(w.k, a.kp, a.base, MiB, true)).toBe(-1);
    expect(kcheckRange(w.k, a.kp, a.base + MiB - 10, 20, false)).toBe(a.base + MiB);
    expect(kcheckRange(w.k, a.kp, a.base + MiB - 10, 10, false)).toBe(-1);
    expect(kcheckRange(w.k, a.kp, a.base - 5, 10, false)).toBe(a.base - 5);
    expect(kcheckRange(w.k, a.kp, a.base + MiB, 1, false)).toBe(a.base + MiB);
    expect(hasPageTable(w.k, a.kp)).toBe(false);
  });

  it('charges one walk per page spanned', () => {
    const w = grantWorld({ ramBytes: 8 * MiB });
    const a = w.actor(20, 'A');
    const walks = () => w.k.clock.countByKind[K.pageWalk] ?? 0;
    for (const [v, n, pages] of [
      [a.base, 1, 1],
      [a.base + PAGE - 1, 2, 2],
      [a.base, PAGE, 1],
      [a.base + 1, PAGE, 2],
      [a.base + 100, 3 * PAGE, 4],
    ] as const) {
      const before = walks();
      expect(kcheckRange(w.k, a.kp, v, n, false)).toBe(-1);
      expect(walks() - before).toBe(pages);
    }
  });
});

describe('kwalk', () => {
  it('an address outside the 32-bit space, or outside the extent, is -1; inside, the identity', () => {
    const w = grantWorld({ ramBytes: 8 * MiB });
    const a = w.actor(20, 'A');
    expect([
      kwalk(w.k, a.kp, -1, false),
      kwalk(w.k, a.kp, ADDRESS_SPACE_BYTES, false),
      kwalk(w.k, a.kp, a.base - 1, false),
    ]).toEqual([-1, -1, -1]);
    expect([
      kwalk(w.k, a.kp, a.base, true),
      kwalk(w.k, a.kp, a.base + MiB - 1, false),
      kwalk(w.k, a.kp, a.base + MiB, false),
    ]).toEqual([a.base, a.base + MiB - 1, -1]);
  });

  it('through a page table: present, user and (for writes) writable pages only', () => {
    const w = grantWorld({ ramBytes: 8 * MiB });
    const a = w.actor(20, 'A', { paged: true });
    a.mapPage(a.base);
    a.mapPage(a.base + PAGE, false);
    expect(hasPageTable(w.k, a.kp)).toBe(true);
    const pa = kwalk(w.k, a.kp, a.base + 5, true);
    expect(pa & (PAGE - 1)).toBe(5);
    expect([kwalk(w.k, a.kp, a.base + PAGE, true), kwalk(w.k, a.kp, a.base + 2 * PAGE, false)]).toEqual([
      -1, -1,
    ]);
    expect(kwalk(w.k, a.kp, a.base + PAGE, false)).toBeGreaterThanOrEqual(0);
  });
});

describe('kcopyInPage', () => {
  it('copies a range that ends on the last byte of a page on both sides; one byte more is refused', () => {
    const w = grantWorld({ ramBytes: 8 * MiB });
    const a = w.actor(20, 'A');
    const b = w.actor(21, 'B');
    a.poke(a.base, pattern(2 * PAGE, 1));
    expect(kcopyInPage(w.k, a.kp, a.base + PAGE - 16, b.kp, b.base + PAGE - 16, 16)).toBe(true);
    expect(b.peek(b.base + PAGE - 16, 16)).toEqual(a.peek(a.base + PAGE - 16, 16));
    expect(kcopyInPage(w.k, a.kp, a.base + PAGE - 16, b.kp, b.base, 17)).toBe(false);
    expect(kcopyInPage(w.k, a.kp, a.base, b.kp, b.base + PAGE - 16, 17)).toBe(false);
    // A source page outside the extent: nothing copied.
    expect(kcopyInPage(w.k, a.kp, a.base + MiB, b.kp, b.base, 4)).toBe(false);
    expect([...b.peek(b.base, 4)]).toEqual([0, 0, 0, 0]);
  });
});

describe('copies between ranges that share frames', () => {
  /** A and B paged; B's pages 0-2 are A's pages 1-3 (the same frames), as after a safemap. */
  function shared() {
    const w = grantWorld({ ramBytes: 8 * MiB });
    const a = w.actor(20, 'A', { paged: true });
    const b = w.actor(21, 'B', { paged: true });
    for (let i = 0; i < 4; i++) a.mapPage(a.base + i * PAGE);
    for (let i = 0; i < 4; i++) b.mapPage(b.base + i * PAGE);
    for (let i = 0; i < 3; i++) {
      const pa = kwalk(w.k, a.kp, a.base + (i + 1) * PAGE, true);
      const pde = w.k.mem.pteRead(b.kp.dirFrame, (b.base + i * PAGE) >>> 22);
      w.k.mem.pteWrite(
        pde >>> 12,
        ((b.base + i * PAGE) >>> 12) & 0x3ff,
        (pa & ~(PAGE - 1)) | PTE.P | PTE.W | PTE.U,
      );
    }
    b.kp.tlb.flush();
    kwrite(w.k, a.kp, a.base, pattern(4 * PAGE, 3));
    return { w, a, b };
  }

  it('kshareFrames sees the shared frames, and only those', () => {
    const { w, a, b } = shared();
    expect(kshareFrames(w.k, a.kp, a.base + PAGE, b.kp, b.base + 3 * PAGE, PAGE)).toBe(false);
    expect(kshareFrames(w.k, a.kp, a.base, b.kp, b.base + 3 * PAGE, PAGE)).toBe(false);
    expect(kshareFrames(w.k, a.kp, a.base, b.kp, b.base, PAGE)).toBe(false);
    expect(kshareFrames(w.k, a.kp, a.base, b.kp, b.base, PAGE + 1)).toBe(true);
    expect(kshareFrames(w.k, a.kp, a.base + 2 * PAGE + 100, b.kp, b.base + PAGE + 96, 8)).toBe(true);
    // Byte by byte: a range ending where the other starts shares nothing.
    expect(kshareFrames(w.k, a.kp, a.base + 2 * PAGE + 100, b.kp, b.base + PAGE + 108, 8)).toBe(false);
    expect(kshareFrames(w.k, a.kp, a.base + 2 * PAGE + 100, b.kp, b.base + PAGE + 92, 8)).toBe(false);
    expect(kshareFrames(w.k, a.kp, a.base + 3 * PAGE, b.kp, b.base, 2 * PAGE)).toBe(false);
  });

  it('kcopy reads every source byte before writing: a memmove through the shared frames, both directions', () => {
    for (const [sv, dv] of [
      [0, 0],
      [2 * PAGE, 10],
      [PAGE + 10, 0],
    ] as const) {
      const { w, a, b } = shared();
      const n = 2 * PAGE;
      // Reference: A's 4 pages as one array; B's page i is A's page i+1.
      const mem = kread(w.k, a.kp, a.base, 4 * PAGE);
      const want = mem.slice();
      want.set(mem.subarray(sv, sv + n), PAGE + dv);
      kcopy(w.k, a.kp, a.base + sv, b.kp, b.base + dv, n);
      expect(kread(w.k, a.kp, a.base, 4 * PAGE)).toEqual(want);
    }
  });
});

describe("a process's own accesses", () => {
  it('an empty access does nothing; a wrapping one or one outside the extent ends the process with SIGSEGV', async () => {
    for (const [v, n] of [
      [ADDRESS_SPACE_BYTES - 2, 4],
      [-1, 1],
      [MiB - 2, 4],
    ] as const) {
      const w = grantWorld({ ramBytes: 8 * MiB });
      const a = w.actor(20, 'A');
      const got: number[] = [];
      a.start(async (p) => {
        got.push((await p.read(a.base, 0)).length);
        await p.read(v < 0 ? v : v === MiB - 2 ? a.base + v : v, n);
        got.push(1);
      });
      await w.k.run();
      expect([got, a.kp.inUse, a.kp.exitStatus]).toEqual([[0], false, SIGSEGV]);
    }
  });
});
