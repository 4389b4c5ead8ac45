// The kernel's memory access over pages mapped to frames chosen by the test (src/kernel/memory.ts), written for
// memory.ts's mutation pass: which frames kshareFrames counts (readable source, writable destination, a run ending
// at its page's end, runs that interleave or only touch), kread and kwrite over scattered frames and their panics,
// the copy's charge, kwalk's bounds and user bit, and the walks through the page-directory pointer page (a slot
// without a directory, a task); a process's own accesses at its identity extent's edges.
import { describe, expect, it } from 'vitest';
import { grantWorld } from '../../helpers/grantworld.ts';
import type { Actor, World } from '../../helpers/grantworld.ts';
import { PTE } from '../../../src/hw/mmu.ts';
import { K } from '../../../src/hw/profile.ts';
import { SIGSEGV } from '../../../src/include/errno.ts';
import { ADDRESS_SPACE_BYTES } from '../../../src/lib/units.ts';
import {
  hasPageTable,
  kcheckRange,
  kcopy,
  kcopyInPage,
  kread,
  kshareFrames,
  kwalk,
  kwrite,
} from '../../../src/kernel/memory.ts';
import { pattern, PAGE, MiB } from '../../helpers/bytes.ts';

/** Frames no actor of an 8 MiB grant world uses (its page tables and pages come from the top quarter). */
const FREE = 1100;

/** Page `i` of a paged actor (address `i` * PAGE from its base) mapped to `frame` (user; writable unless `ro`). */
function mapAt(
  w: World,
  a: Actor,
  i: number,
  frame: number,
  ro = false,
  flags: number = PTE.P | PTE.U,
): void {
  const v = a.base + i * PAGE;
  a.mapPage(v); // makes the page table
  const pde = w.k.mem.pteRead(a.kp.dirFrame, v >>> 22);
  w.k.mem.pteWrite(pde >>> 12, (v >>> 12) & 0x3ff, (frame << 12) | flags | (ro ? 0 : PTE.W));
  a.kp.tlb.flush();
}

/** A page as mapAt maps it: page, frame, read-only?, flags other than W (P and U if not given). */
type Page = readonly [number, number, boolean?, number?];

/** A and B paged in an 8 MiB world, their pages mapped as given. */
function world(aPages: readonly Page[], bPages: readonly Page[]) {
  const w = grantWorld({ ramBytes: 8 * MiB });
  const a = w.actor(20, 'A', { paged: true });
  const b = w.actor(21, 'B', { paged: true });
  for (const [i, f, ro, flags] of aPages) mapAt(w, a, i, f, ro, flags);
  for (const [i, f, ro, flags] of bPages) mapAt(w, b, i, f, ro, flags);
  return { w, a, b };
}

describe('kshareFrames: which frames count', () => {
  it("the source's pages need only be readable, the destination's must be writable", () => {
    const s = world([[0, FREE, true]], [[0, FREE]]);
    expect(kshareFrames(s.w.k, s.a.kp, s.a.base, s.b.kp, s.b.base, 16)).toBe(true);
    const d = world([[0, FREE]], [[0, FREE, true]]);
    expect(kshareFrames(d.w.k, d.a.kp, d.a.base, d.b.kp, d.b.base, 16)).toBe(false);
  });

  it("a source run ends at its page's end, even when the range goes on into an unmapped page", () => {
    // A's page 0 is frame F and its page 1 is unmapped; B's page 0 is frame F+1.
    const { w, a, b } = world([[0, FREE]], [[0, FREE + 1]]);
    expect(kshareFrames(w.k, a.kp, a.base + 100, b.kp, b.base, PAGE)).toBe(false);
    expect(kshareFrames(w.k, a.kp, a.base + 100, b.kp, b.base + PAGE - 200, 200)).toBe(false);
  });

  it('an unaligned source range is walked page by page: a shared frame at its third page is found', () => {
    const { w, a, b } = world(
      [
        [0, FREE],
        [1, FREE + 2],
        [2, FREE + 4],
      ],
      [[0, FREE + 4]],
    );
    expect(kshareFrames(w.k, a.kp, a.base + 100, b.kp, b.base, 2 * PAGE)).toBe(true);
  });

  it('pages merge into one run only where their frames follow each other', () => {
    // A's pages are frames F and F+2; B's page is F+1, between them.
    const { w, a, b } = world(
      [
        [0, FREE],
        [1, FREE + 2],
      ],
      [[0, FREE + 1]],
    );
    expect(kshareFrames(w.k, a.kp, a.base, b.kp, b.base, 2 * PAGE)).toBe(false);
  });

  it('runs that interleave or only touch share nothing; one shared frame among them is found', () => {
    // A: frames F, F+2, F+4; B's pages in descending frame order: F+3, F+1 (so their runs must be sorted).
    const { w, a, b } = world(
      [
        [0, FREE],
        [1, FREE + 2],
        [2, FREE + 4],
      ],
      [
        [0, FREE + 3],
        [1, FREE + 1],
      ],
    );
    expect(kshareFrames(w.k, a.kp, a.base, b.kp, b.base, 2 * PAGE)).toBe(false);
    expect(kshareFrames(w.k, b.kp, b.base, a.kp, a.base, 2 * PAGE)).toBe(false);
    expect(kshareFrames(w.k, a.kp, a.base, b.kp, b.base, 3 * PAGE)).toBe(false);
    // B's page 2 is A's page 1 (F+2): now shared, whichever side is the source.
    mapAt(w, b, 2, FREE + 2);
    expect(kshareFrames(w.k, a.kp, a.base, b.kp, b.base, 3 * PAGE)).toBe(true);
    expect(kshareFrames(w.k, b.kp, b.base, a.kp, a.base, 3 * PAGE)).toBe(true);
    expect(kshareFrames(w.k, a.kp, a.base + 2 * PAGE, b.kp, b.base, 3 * PAGE)).toBe(false);
    expect(kshareFrames(w.k, a.kp, a.base + PAGE + 4000, b.kp, b.base + 2 * PAGE + 4000, 96)).toBe(true);
    expect(kshareFrames(w.k, a.kp, a.base + PAGE + 4000, b.kp, b.base + 2 * PAGE + 3900, 100)).toBe(false);
  });
});

describe('kread, kwrite and kcopy over scattered frames', () => {
  it('write and read back across pages whose frames are out of order, as the host walk sees them', () => {
    const { w, a } = world(
      [
        [0, FREE + 5],
        [1, FREE + 1],
        [2, FREE + 3],
      ],
      [],
    );
    const bytes = pattern(2 * PAGE + 300, 4);
    kwrite(w.k, a.kp, a.base + 1000, bytes);
    expect(a.peek(a.base + 1000, bytes.length)).toEqual(bytes);
    expect([...a.peek(a.base + 1000 + bytes.length, 8)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(kread(w.k, a.kp, a.base + 1000, bytes.length)).toEqual(bytes);
    // The frames after each page's frame are untouched.
    for (const f of [FREE + 2, FREE + 4, FREE + 6]) {
      const after = new Uint8Array(PAGE);
      w.k.mem.read(f * PAGE, after, 0, PAGE);
      expect(after.every((x) => x === 0)).toBe(true);
    }
  });

  it('a page that is not there, or not writable, is a panic: the callers check first', () => {
    const { w, a } = world(
      [
        [0, FREE],
        [1, FREE + 1, true],
      ],
      [],
    );
    expect(() => kwrite(w.k, a.kp, a.base + PAGE, pattern(4, 1))).toThrow(/kwrite: unchecked page/);
    expect(() => kwrite(w.k, a.kp, a.base + 2 * PAGE, pattern(4, 1))).toThrow(/kwrite: unchecked page/);
    expect(() => kread(w.k, a.kp, a.base + 2 * PAGE - 2, 4)).toThrow(/kread: unchecked page/);
    expect(() => kcopy(w.k, a.kp, a.base, a.kp, a.base + PAGE, 4)).toThrow(/kcopy: unchecked range/);
    expect(() => kcopy(w.k, a.kp, a.base + 2 * PAGE, a.kp, a.base, 4)).toThrow(/kcopy: unchecked range/);
    expect(() => kcopy(w.k, a.kp, 0, a.kp, a.base, 4)).toThrow(/kcopy: unchecked range/);
    expect(() => kcopy(w.k, a.kp, a.base, a.kp, 0, 4)).toThrow(/kcopy: unchecked range/);
  });

  it("a copy is charged its pages' walks and one copy of its bytes", () => {
    const { w, a, b } = world(
      [
        [0, FREE],
        [1, FREE + 2],
      ],
      [
        [0, FREE + 7],
        [1, FREE + 5],
      ],
    );
    const cycles = (): number => w.k.clock.cycles;
    const n = PAGE + 500;
    let t = cycles();
    kcheckRange(w.k, a.kp, a.base + 10, n, false);
    kcheckRange(w.k, b.kp, b.base + 20, n, true);
    w.k.clock.chargeCopy(n);
    const want = cycles() - t;
    t = cycles();
    kcopy(w.k, a.kp, a.base + 10, b.kp, b.base + 20, n);
    expect(cycles() - t).toBe(want);
    expect(w.k.clock.countByKind[K.pageWalk]).toBeGreaterThan(0);
    t = cycles();
    kcopy(w.k, a.kp, a.base, b.kp, b.base, 0);
    expect(cycles()).toBe(t);
  });
});

describe('kwalk and kcopyInPage through a page table', () => {
  it('-1 outside the 32-bit space and on a supervisor page; address 0 is an address like any other', () => {
    const { w, a } = world(
      [
        [0, FREE],
        [1, FREE + 1, false, PTE.P],
      ],
      [],
    );
    a.mapPage(0);
    expect(kwalk(w.k, a.kp, -1, false)).toBe(-1);
    expect(kwalk(w.k, a.kp, ADDRESS_SPACE_BYTES, false)).toBe(-1);
    expect(kwalk(w.k, a.kp, 0, true)).toBeGreaterThan(0);
    expect(kwalk(w.k, a.kp, a.base + PAGE, false)).toBe(-1);
    expect(kwalk(w.k, a.kp, a.base, false)).toBe(FREE * PAGE);
  });

  it('copies from a read-only source page within one page', () => {
    const { w, a, b } = world([[0, FREE, true]], [[0, FREE + 1]]);
    w.k.mem.write(FREE * PAGE, pattern(16, 7), 0, 16);
    expect(kcopyInPage(w.k, a.kp, a.base, b.kp, b.base, 16)).toBe(true);
    expect(b.peek(b.base, 16)).toEqual(pattern(16, 7));
  });
});

describe('walks through the page-directory pointer page', () => {
  /** A paged actor with page 0 mapped, and a pointer page whose entry for A's slot is `present`. */
  function pointerWorld(present: boolean) {
    const { w, a } = world([[0, FREE]], []);
    const pointer = FREE + 50;
    w.k.mem.zero(pointer * PAGE, PAGE);
    w.k.mem.pteWrite(pointer, a.kp.slot, present ? (a.kp.dirFrame << 12) | PTE.P : 0);
    w.k.pagedirsFrame = pointer;
    return { w, a, pointer };
  }

  it("a slot's directory is the one its entry names; an entry not present is no page table", () => {
    const on = pointerWorld(true);
    expect(hasPageTable(on.w.k, on.a.kp)).toBe(true);
    expect(kwalk(on.w.k, on.a.kp, on.a.base + 8, true)).toBe(FREE * PAGE + 8);
    expect(kcheckRange(on.w.k, on.a.kp, on.a.base, PAGE, true)).toBe(-1);
    const off = pointerWorld(false);
    expect(hasPageTable(off.w.k, off.a.kp)).toBe(false);
    expect(kwalk(off.w.k, off.a.kp, off.a.base + 8, false)).toBe(-1);
    expect(kcheckRange(off.w.k, off.a.kp, off.a.base, 8, false)).toBe(off.a.base);
    // Frame 1 holds A's directory entry: an absent entry must not be read as frame 1.
    const pde = off.a.base >>> 22;
    off.w.k.mem.pteWrite(1, pde, off.w.k.mem.pteRead(off.a.kp.dirFrame, pde));
    expect([hasPageTable(off.w.k, off.a.kp), kwalk(off.w.k, off.a.kp, off.a.base + 8, false)]).toEqual([
      false,
      -1,
    ]);
  });

  it('a kernel task (negative slot) has no entry in the pointer page: no page table', () => {
    const { w, a, pointer } = pointerWorld(true);
    // The word before the pointer page names A's directory: a task's slot must never index it.
    w.k.mem.pteWrite(pointer - 1, 1023, (a.kp.dirFrame << 12) | PTE.P);
    const task = w.k.procs.find((p) => p.slot === -1);
    expect(task).toBeDefined();
    if (task === undefined) return;
    expect(hasPageTable(w.k, task)).toBe(false);
    expect(kwalk(w.k, task, a.base + 8, false)).toBe(-1);
  });
});

describe("a process's own accesses at its identity extent's edges", () => {
  it('from its first byte to its last: OK; one byte before the first: SIGSEGV', async () => {
    for (const [off, n, ok] of [
      [0, MiB, true],
      [-1, 2, false],
    ] as const) {
      const w = grantWorld({ ramBytes: 8 * MiB });
      const a = w.actor(20, 'A');
      a.poke(a.base + MiB - 4, pattern(4, 2));
      const got: number[] = [];
      a.start(async (p) => {
        const bytes = await p.read(a.base + off, n);
        got.push(bytes.length, bytes[n - 1] ?? -1);
      });
      await w.k.run();
      expect([got, a.kp.inUse]).toEqual(ok ? [[MiB, pattern(4, 2)[3]], true] : [[], false]);
      if (!ok) expect(a.kp.exitStatus).toBe(SIGSEGV);
    }
  });
});
