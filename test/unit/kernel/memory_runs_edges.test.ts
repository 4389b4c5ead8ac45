// The physical runs of the kernel's copies and of kshareFrames (src/kernel/memory.ts), and the walks through
// the page-directory pointer page, written for memory.ts's mutation pass: kcopyRuns refuses runs of different
// lengths (a panic: its callers check both ranges first); the runs a copy or kshareFrames leaves in the shared
// run buffers past their count are never read again; a range ending at a page's end takes no byte of the next
// page; pages whose frames go down merge into no run; a process without a page table is reached by identity
// even when VM has set the pointer page, and slot 0 through it; a fractional address is the caller's bug.
import { describe, expect, it } from 'vitest';
import { grantWorld } from '../../helpers/grantworld.ts';
import type { Actor, World } from '../../helpers/grantworld.ts';
import { PTE } from '../../../src/hw/mmu.ts';
import type { PhysRuns } from '../../../src/hw/mmu.ts';
import {
  hasPageTable,
  kcheckRange,
  kcopy,
  kcopyRuns,
  kread,
  kshareFrames,
  kwalk,
} from '../../../src/kernel/memory.ts';
import { pattern, PAGE, MiB } from '../../helpers/bytes.ts';

/** Frames no actor of an 8 MiB grant world uses (its page tables and pages come from the top quarter). */
const FREE = 1100;

const runs = (...r: readonly [number, number][]): PhysRuns => ({
  pa: r.map(([pa]) => pa),
  bytes: r.map(([, n]) => n),
  count: r.length,
});

/** Paged actor `slot` whose pages are mapped to the frames given (null: page left unmapped). */
function pagedAt(w: World, slot: number, frames: readonly (number | null)[]): Actor {
  const a = w.actor(slot, `P${slot}`, { paged: true });
  frames.forEach((frame, i) => {
    if (frame === null) return;
    const v = a.base + i * PAGE;
    a.mapPage(v); // makes the page table
    const pde = w.k.mem.pteRead(a.kp.dirFrame, v >>> 22);
    w.k.mem.pteWrite(pde >>> 12, (v >>> 12) & 0x3ff, (frame << 12) | PTE.P | PTE.W | PTE.U);
  });
  a.kp.tlb.flush();
  return a;
}

describe('kcopyRuns given runs of different lengths', () => {
  it('panics, whichever side is longer, and when the two sides share bytes', () => {
    const w = grantWorld({ ramBytes: 8 * MiB });
    const x = FREE * PAGE;
    const y = (FREE + 4) * PAGE;
    const differ = /kcopyRuns: source and destination differ in length/;
    expect(() => kcopyRuns(w.k, runs([x, 100]), runs([y, 50]))).toThrow(differ);
    expect(() => kcopyRuns(w.k, runs([x, 50]), runs([y, 100]))).toThrow(differ);
    expect(() => kcopyRuns(w.k, runs([x, 60], [x + 200, 40]), runs([y, 50]))).toThrow(differ);
    expect(() => kcopyRuns(w.k, runs([x, 100]), runs([x + 10, 50]))).toThrow(differ);
  });
});

describe('runs left in the shared run buffers by an earlier copy', () => {
  it('a copy of one run after a copy of three is charged its own bytes only', () => {
    const w = grantWorld({ ramBytes: 8 * MiB });
    const a = pagedAt(w, 20, [FREE + 6, FREE + 2, FREE + 4]);
    const b = w.actor(21, 'B');
    const c = w.actor(22, 'C');
    kcopy(w.k, a.kp, a.base + 100, b.kp, b.base, 2 * PAGE);
    const n = 3000;
    let t = w.k.clock.cycles;
    kcheckRange(w.k, b.kp, b.base, n, false);
    kcheckRange(w.k, c.kp, c.base, n, true);
    w.k.clock.chargeCopy(n);
    const want = w.k.clock.cycles - t;
    t = w.k.clock.cycles;
    kcopy(w.k, b.kp, b.base, c.kp, c.base, n);
    expect(w.k.clock.cycles - t).toBe(want);
  });

  it('kshareFrames after one with more source runs compares only its own', () => {
    // B's pages are frames F and F+2; A's page 0 is F+1, its page 1 unmapped.
    const w = grantWorld({ ramBytes: 8 * MiB });
    const a = pagedAt(w, 20, [FREE + 1, null]);
    const b = pagedAt(w, 21, [FREE, FREE + 2]);
    expect(kshareFrames(w.k, b.kp, b.base, a.kp, a.base, 2 * PAGE)).toBe(false);
    expect(kshareFrames(w.k, a.kp, a.base, b.kp, b.base, 2 * PAGE)).toBe(false);
  });
});

describe("kshareFrames' runs", () => {
  it("a range ending at a page's end takes nothing of the next page's frame", () => {
    // A: frames F, F+5, then F+10 just past the range; B: F+9 and F+10, one run around F+10's start.
    const w = grantWorld({ ramBytes: 8 * MiB });
    const a = pagedAt(w, 20, [FREE, FREE + 5, FREE + 10]);
    const b = pagedAt(w, 21, [FREE + 9, FREE + 10]);
    expect(kshareFrames(w.k, a.kp, a.base, b.kp, b.base, 2 * PAGE)).toBe(false);
    expect(kshareFrames(w.k, a.kp, a.base, b.kp, b.base, 2 * PAGE + 1)).toBe(true);
  });

  it('pages whose frames go down by one are two runs, not one reaching past the first', () => {
    // A: frames F+1 then F; B: F+2, just above A's first page.
    const w = grantWorld({ ramBytes: 8 * MiB });
    const a = pagedAt(w, 20, [FREE + 1, FREE]);
    const b = pagedAt(w, 21, [FREE + 2, null]);
    expect(kshareFrames(w.k, a.kp, a.base, b.kp, b.base, 2 * PAGE)).toBe(false);
    expect(kshareFrames(w.k, b.kp, b.base, a.kp, a.base, 2 * PAGE)).toBe(false);
  });
});

describe('walks through the pointer page', () => {
  /** A pointer page set for the kernel, with the entries given (slot → directory frame); the others absent. */
  function pointerPage(w: World, entries: readonly [number, number][]): void {
    const pointer = FREE + 50;
    w.k.mem.zero(pointer * PAGE, PAGE);
    for (const [slot, dir] of entries) w.k.mem.pteWrite(pointer, slot, (dir << 12) | PTE.P);
    w.k.pagedirsFrame = pointer;
  }

  it('a process without a page table is reached by identity inside its extent', () => {
    const w = grantWorld({ ramBytes: 8 * MiB });
    const c = w.actor(22, 'C');
    c.poke(c.base + 8, pattern(8, 1));
    pointerPage(w, []);
    expect(hasPageTable(w.k, c.kp)).toBe(false);
    expect([kwalk(w.k, c.kp, c.base + 5, true), kwalk(w.k, c.kp, c.base - 1, false)]).toEqual([
      c.base + 5,
      -1,
    ]);
    expect(kread(w.k, c.kp, c.base + 8, 8)).toEqual(pattern(8, 1));
  });

  it('slot 0 is reached through its entry: absent, it has no page table, whatever its own directory', () => {
    const w = grantWorld({ ramBytes: 8 * MiB });
    const a = pagedAt(w, 0, [FREE]);
    pointerPage(w, []);
    expect([hasPageTable(w.k, a.kp), kwalk(w.k, a.kp, a.base, false)]).toEqual([false, -1]);
    pointerPage(w, [[0, a.kp.dirFrame]]);
    expect([hasPageTable(w.k, a.kp), kwalk(w.k, a.kp, a.base, false)]).toEqual([true, FREE * PAGE]);
  });

  it('a fractional address is no address: a panic, through the pointer page or not', () => {
    const w = grantWorld({ ramBytes: 8 * MiB });
    const a = pagedAt(w, 20, [FREE]);
    const bad = /not a 32-bit virtual address/;
    expect(() => kwalk(w.k, a.kp, a.base + 0.5, false)).toThrow(bad);
    pointerPage(w, [[20, a.kp.dirFrame]]);
    expect(() => kwalk(w.k, a.kp, a.base + 0.5, false)).toThrow(bad);
    expect(kwalk(w.k, a.kp, a.base + 1, false)).toBe(FREE * PAGE + 1);
  });
});
