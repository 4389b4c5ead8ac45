// Physical frame 0 and physical address 0 in the kernel's memory access (src/kernel/memory.ts), written for
// memory.ts's mutation pass: VM may load a directory at frame 0 (SETCR3 accepts it) and map a page to it, and an
// identity extent may start at physical 0; the kernel's walks, checks and copies treat them as any other frame
// or address (-1, not 0, means "none").
import { describe, expect, it } from 'vitest';
import { grantWorld } from '../../helpers/grantworld.ts';
import type { Actor, World } from '../../helpers/grantworld.ts';
import { PTE } from '../../../src/hw/mmu.ts';
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

/** Page `i` of a paged actor mapped to `frame` (present, user, writable). */
function mapAt(w: World, a: Actor, i: number, frame: number): void {
  const v = a.base + i * PAGE;
  a.mapPage(v); // makes the page table
  const pde = w.k.mem.pteRead(a.kp.dirFrame, v >>> 22);
  w.k.mem.pteWrite(pde >>> 12, (v >>> 12) & 0x3ff, (frame << 12) | PTE.P | PTE.W | PTE.U);
  a.kp.tlb.flush();
}

describe('a page directory at frame 0', () => {
  /** Paged A, its page 0 holding a pattern, its directory copied to frame 0 and loaded from there; B identity. */
  function dirAtZero() {
    const w = grantWorld({ ramBytes: 8 * MiB });
    const a = w.actor(20, 'A', { paged: true });
    const b = w.actor(21, 'B');
    a.mapPage(a.base);
    a.poke(a.base, pattern(PAGE, 1));
    const pa = kwalk(w.k, a.kp, a.base, false);
    w.k.mem.copy(0, a.kp.dirFrame * PAGE, PAGE);
    a.kp.dirFrame = 0;
    a.kp.tlb.flush();
    return { w, a, b, pa };
  }

  it('is a page table: the kernel walks, reads and writes through it', () => {
    const { w, a, pa } = dirAtZero();
    expect(hasPageTable(w.k, a.kp)).toBe(true);
    expect(kwalk(w.k, a.kp, a.base + 5, true)).toBe(pa + 5);
    expect(kread(w.k, a.kp, a.base + 10, 6)).toEqual(pattern(PAGE, 1).slice(10, 16));
    kwrite(w.k, a.kp, a.base + 20, pattern(4, 9));
    expect(a.peek(a.base + 20, 4)).toEqual(pattern(4, 9));
    expect(kcheckRange(w.k, a.kp, a.base + PAGE - 2, 4, false)).toBe(a.base + PAGE);
  });

  it('copies go through it, both ways', () => {
    const { w, a, b } = dirAtZero();
    kcopy(w.k, a.kp, a.base + 100, b.kp, b.base, 300);
    expect(b.peek(b.base, 300)).toEqual(pattern(PAGE, 1).slice(100, 400));
    b.poke(b.base + PAGE, pattern(PAGE, 4));
    kcopy(w.k, b.kp, b.base + PAGE + 1, a.kp, a.base + 2, PAGE - 2);
    expect(a.peek(a.base, PAGE)).toEqual(
      Uint8Array.from([...pattern(2, 1), ...pattern(PAGE, 4).slice(1, PAGE - 1)]),
    );
  });
});

describe('a page at frame 0', () => {
  /** A's page 0 and B's page 0 are frame 0; B's page 1 is not mapped; C is identity. */
  function pageAtZero() {
    const w = grantWorld({ ramBytes: 8 * MiB });
    const a = w.actor(20, 'A', { paged: true });
    const b = w.actor(21, 'B', { paged: true });
    const c = w.actor(22, 'C');
    mapAt(w, a, 0, 0);
    mapAt(w, b, 0, 0);
    return { w, a, b, c };
  }

  it('is at physical address 0: the kernel reads, writes and copies it', () => {
    const { w, a, c } = pageAtZero();
    expect(kwalk(w.k, a.kp, a.base, true)).toBe(0);
    kwrite(w.k, a.kp, a.base, pattern(64, 2));
    expect(kread(w.k, a.kp, a.base, 64)).toEqual(pattern(64, 2));
    expect(kcopyInPage(w.k, a.kp, a.base, c.kp, c.base, 32)).toBe(true);
    expect(c.peek(c.base, 32)).toEqual(pattern(32, 2));
    c.poke(c.base + 100, pattern(8, 7));
    expect(kcopyInPage(w.k, c.kp, c.base + 100, a.kp, a.base + 8, 8)).toBe(true);
    expect(kread(w.k, a.kp, a.base, 16)).toEqual(Uint8Array.from([...pattern(8, 2), ...pattern(8, 7)]));
  });

  it('is shared by the two processes that map it; an unmapped page shares nothing with it', () => {
    const { w, a, b } = pageAtZero();
    expect(kshareFrames(w.k, a.kp, a.base, b.kp, b.base + 8, 16)).toBe(true);
    expect(kshareFrames(w.k, b.kp, b.base + PAGE, a.kp, a.base, PAGE)).toBe(false);
    expect(kshareFrames(w.k, a.kp, a.base, b.kp, b.base + PAGE, PAGE)).toBe(false);
  });
});

describe('an identity extent that starts at physical 0', () => {
  it('address 0 is inside it: checks pass and one-page copies go', () => {
    const w = grantWorld({ ramBytes: 8 * MiB });
    const a = w.actor(20, 'A');
    const b = w.actor(21, 'B');
    a.kp.extent = { base: 0, length: MiB };
    w.k.mem.write(0, pattern(16, 5), 0, 16);
    expect([kcheckRange(w.k, a.kp, 0, 2 * PAGE, true), kcheckRange(w.k, a.kp, MiB - 1, 2, false)]).toEqual([
      -1,
      MiB,
    ]);
    expect(kcopyInPage(w.k, a.kp, 0, b.kp, b.base, 16)).toBe(true);
    expect(b.peek(b.base, 16)).toEqual(pattern(16, 5));
    expect(kcopyInPage(w.k, b.kp, b.base + 4, a.kp, 0, 4)).toBe(true);
    expect(kread(w.k, a.kp, 0, 8)).toEqual(
      Uint8Array.from([...pattern(16, 5).slice(4, 8), ...pattern(16, 5).slice(4, 8)]),
    );
  });
});
