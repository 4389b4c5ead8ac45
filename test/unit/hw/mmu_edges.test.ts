// The MMU's edges as its callers see them: the TLB's last-hit shortcut after an eviction or a flush, its FIFO
// order after wrapping, the cycles a miss costs, the runs of a range across page tables and 4 MiB pages (and
// a reused output), WalkCache answers per slot and per access kind, and the panics with their messages.
import { describe, expect, it } from 'vitest';
import { PhysMem } from '../../../src/hw/physmem.ts';
import {
  PTE,
  Tlb,
  WalkCache,
  mapPage,
  translateRange,
  userRead,
  userWrite,
  walk,
} from '../../../src/hw/mmu.ts';
import type { PhysRuns } from '../../../src/hw/mmu.ts';
import { K } from '../../../src/hw/profile.ts';
import { MiB, PAGE_SIZE } from '../../../src/lib/units.ts';

const V = 0x19000000;
const URW = PTE.P | PTE.W | PTE.U;
const UR = PTE.P | PTE.U;
const BIG = 4 * MiB;

function machine() {
  const mem = new PhysMem(16 * MiB);
  let next = 0x100;
  const alloc = (): number => next++;
  const dir = alloc();
  const map = (v: number, f: number, flags: number): void => mapPage(mem, dir, v, f, flags, alloc);
  return { mem, dir, alloc, map };
}

const fresh = (): PhysRuns => ({ pa: [], bytes: [], count: 0 });
const runsOf = (r: PhysRuns): [number, number][] =>
  Array.from({ length: r.count }, (_, i) => [r.pa[i] ?? 0, r.bytes[i] ?? 0]);

describe('Tlb', () => {
  it('an evicted page misses even right after it was the last hit', () => {
    const tlb = new Tlb(1);
    tlb.insert(1, 10, true);
    expect(tlb.lookup(1, false)).toBe(10);
    tlb.insert(2, 20, true);
    expect(tlb.lookup(1, false)).toBe(-1);
    expect(tlb.lookup(2, true)).toBe(20);
    expect(tlb.size).toBe(1);
  });

  it('a flushed page misses even right after it was the last hit; a flush of an empty TLB still counts', () => {
    const tlb = new Tlb(4);
    tlb.flush();
    expect(tlb.stats.flushes).toBe(1);
    tlb.insert(3, 30, false);
    expect(tlb.lookup(3, false)).toBe(30);
    tlb.flush();
    expect(tlb.lookup(3, false)).toBe(-1);
    expect(tlb.size).toBe(0);
    expect(tlb.entries()).toEqual([]);
    // after a flush the ring starts again at its first slot
    tlb.insert(4, 40, true);
    tlb.insert(5, 50, false);
    expect(tlb.entries()).toEqual([
      { vpage: 4, frame: 40, writable: true },
      { vpage: 5, frame: 50, writable: false },
    ]);
    expect(tlb.stats).toEqual({ hits: 1, misses: 1, flushes: 2 });
  });

  it('after wrapping, entries are listed oldest first and the oldest is evicted next', () => {
    const tlb = new Tlb(3);
    for (const v of [1, 2, 3, 4]) tlb.insert(v, v * 10, v % 2 === 0);
    expect(tlb.entries().map((e) => e.vpage)).toEqual([2, 3, 4]);
    tlb.insert(3, 33, true); // in place: keeps its position
    tlb.insert(5, 50, true);
    expect(tlb.entries()).toEqual([
      { vpage: 3, frame: 33, writable: true },
      { vpage: 4, frame: 40, writable: true },
      { vpage: 5, frame: 50, writable: true },
    ]);
    expect(tlb.lookup(2, false)).toBe(-1);
    expect(tlb.capacity).toBe(3);
  });

  it('the last hit is the page asked for: a write to a read-only last hit misses', () => {
    const tlb = new Tlb(2);
    tlb.insert(7, 70, false);
    tlb.insert(8, 80, true);
    expect(tlb.lookup(7, false)).toBe(70);
    expect(tlb.lookup(7, true)).toBe(-1);
    expect(tlb.lookup(8, true)).toBe(80);
    expect(tlb.lookup(7, false)).toBe(70);
  });

  it('panics: capacity and page range, with their messages', () => {
    expect(() => new Tlb(0)).toThrow('tlb: capacity 0 must be a positive integer');
    expect(() => new Tlb(1.5)).toThrow('tlb: capacity 1.5 must be a positive integer');
    const tlb = new Tlb(2);
    expect(() => {
      tlb.insert(1 << 20, 1, true);
    }).toThrow('tlb: virtual page 1048576 out of range');
    expect(() => {
      tlb.insert(-1, 1, true);
    }).toThrow('tlb: virtual page -1 out of range');
    expect(() => {
      tlb.insert((1 << 20) - 1, 1, true);
    }).not.toThrow();
  });
});

describe('user accesses and the clock', () => {
  it('a TLB miss costs one tlbMiss, a hit nothing; a fault on a miss costs it too', () => {
    const { mem, dir, map } = machine();
    map(V, 0x500, URW);
    const tlb = new Tlb(4);
    const misses = (): number => mem.clock.countByKind[K.tlbMiss] ?? 0;
    const buf = new Uint8Array(8);
    expect(userRead(mem, dir, tlb, V, buf, 0, 8)).toBeNull();
    expect(misses()).toBe(1);
    expect(userWrite(mem, dir, tlb, V + 8, buf, 0, 8)).toBeNull();
    expect(misses()).toBe(1);
    expect(userRead(mem, dir, tlb, V + PAGE_SIZE, buf, 0, 8)).not.toBeNull();
    expect(misses()).toBe(2);
  });

  it('a write over three pages merges the contiguous ones and writes from the source offset', () => {
    const { mem, dir, map } = machine();
    map(V, 0x500, URW);
    map(V + PAGE_SIZE, 0x501, URW);
    map(V + 2 * PAGE_SIZE, 0x700, URW);
    const src = Uint8Array.from({ length: 3 * PAGE_SIZE + 10 }, (_, i) => (i * 5 + 3) & 0xff);
    expect(userWrite(mem, dir, new Tlb(), V + 4, src, 10, 3 * PAGE_SIZE - 4)).toBeNull();
    const back = new Uint8Array(3 * PAGE_SIZE - 4);
    expect(userRead(mem, dir, new Tlb(), V + 4, back, 0, back.length)).toBeNull();
    expect(back).toEqual(src.subarray(10, 10 + back.length));
    const edge = new Uint8Array(2);
    mem.read(0x700 * PAGE_SIZE - 1, edge, 0, 2);
    expect(edge[1]).toBe(src[10 + 2 * PAGE_SIZE - 4]);
  });

  it('panics name the access: an address past 4 GiB, a range leaving it, a host buffer too small', () => {
    const { mem, dir } = machine();
    const tlb = new Tlb();
    expect(() => walk(mem, dir, 2 ** 32, false, true)).toThrow(
      'mmu: 4294967296 is not a 32-bit virtual address',
    );
    expect(() => userRead(mem, dir, tlb, 0xfffff000, new Uint8Array(8192), 0, 8192)).toThrow(
      'mmu: range 0xfffff000 +8192 bytes leaves the 32-bit address space',
    );
    expect(() => userRead(mem, dir, tlb, V, new Uint8Array(8), 0, 1.5)).toThrow(
      'mmu userRead: host buffer range [0, +1.5)',
    );
    expect(() => userRead(mem, dir, tlb, V, new Uint8Array(4), 2, 4)).toThrow(
      'mmu userRead: host buffer range [2, +4) outside buffer of 4 bytes',
    );
    expect(() => userWrite(mem, dir, tlb, V, new Uint8Array(4), -1, 1)).toThrow(
      'mmu userWrite: host buffer range [-1, +1)',
    );
    expect(() => translateRange(mem, dir, V, -1, false, null)).toThrow('mmu: range 0x19000000 +-1 bytes');
  });
});

describe('translateRange runs', () => {
  it('across two page tables: runs merge only where frames follow on, and a reused output is cut to its count', () => {
    const { mem, dir, map } = machine();
    const top = V + BIG - PAGE_SIZE; // last page under one directory entry, then the first under the next
    map(top, 0x600, URW);
    map(top + PAGE_SIZE, 0x601, URW);
    map(top + 2 * PAGE_SIZE, 0x900, UR);
    const out = fresh();
    expect(translateRange(mem, dir, top + 100, 3 * PAGE_SIZE - 200, false, out)).toBe(-1);
    expect(runsOf(out)).toEqual([
      [0x600 * PAGE_SIZE + 100, 2 * PAGE_SIZE - 100],
      [0x900 * PAGE_SIZE, PAGE_SIZE - 100],
    ]);
    expect(translateRange(mem, dir, top, 2 * PAGE_SIZE, true, out)).toBe(-1);
    expect(runsOf(out)).toEqual([[0x600 * PAGE_SIZE, 2 * PAGE_SIZE]]);
    expect(translateRange(mem, dir, top, 3 * PAGE_SIZE, true, out)).toBe(top + 2 * PAGE_SIZE);
    expect(translateRange(mem, dir, top, 0, true, out)).toBe(-1);
    expect(out.count).toBe(0);
  });

  it('4 MiB pages: one run, U and W taken from the directory entry', () => {
    const { mem, dir } = machine();
    mem.pteWrite(dir, V >>> 22, (0x400000 | PTE.PS | UR) >>> 0);
    mem.pteWrite(dir, (V >>> 22) + 1, (0x800000 | PTE.PS | PTE.P | PTE.W) >>> 0);
    const out = fresh();
    expect(translateRange(mem, dir, V + 0x1234, 3 * PAGE_SIZE, false, out)).toBe(-1);
    expect(runsOf(out)).toEqual([[0x400000 + 0x1234, 3 * PAGE_SIZE]]);
    expect(translateRange(mem, dir, V + 0x1234, 8, true, out)).toBe(V + 0x1234);
    expect(translateRange(mem, dir, V + BIG - 8, 16, false, out)).toBe(V + BIG);
    // a 4 MiB page followed by the next physical 4 MiB in the next entry: one run across them
    mem.pteWrite(dir, (V >>> 22) + 1, (0x800000 | PTE.PS | UR) >>> 0);
    expect(translateRange(mem, dir, V + BIG - 8, 16, false, out)).toBe(-1);
    expect(runsOf(out)).toEqual([[0x800000 - 8, 16]]);
  });

  it('a page table whose entry lacks U or W at the directory level refuses the range', () => {
    const { mem, dir, map } = machine();
    map(V, 0x500, URW);
    const pde = mem.pteRead(dir, V >>> 22);
    mem.pteWrite(dir, V >>> 22, pde & ~PTE.W);
    expect(translateRange(mem, dir, V, 8, false, null)).toBe(-1);
    expect(translateRange(mem, dir, V, 8, true, null)).toBe(V);
    mem.pteWrite(dir, V >>> 22, pde & ~PTE.U);
    expect(translateRange(mem, dir, V, 8, false, null)).toBe(V);
  });
});

describe('WalkCache', () => {
  it('answers per slot: the same page in two address spaces', () => {
    const a = machine();
    const dir2 = a.alloc();
    mapPage(a.mem, dir2, V, 0x777, UR, a.alloc);
    a.map(V, 0x555, URW);
    const pagedirs = a.alloc();
    a.mem.pteWrite(pagedirs, 1, (a.dir * PAGE_SIZE + URW) >>> 0);
    a.mem.pteWrite(pagedirs, 17, (dir2 * PAGE_SIZE + URW) >>> 0);
    const cache = new WalkCache();
    const e1 = cache.entry(a.mem, pagedirs, 1, V);
    const e17 = cache.entry(a.mem, pagedirs, 17, V);
    expect(e1 >>> 12).toBe(0x555);
    expect(e17 >>> 12).toBe(0x777);
    expect(cache.entry(a.mem, pagedirs, 1, V)).toBe(e1);
    expect(cache.entry(a.mem, pagedirs, 17, V + 5)).toBe(e17);
  });

  it('translateRange keeps a read and a write of the same range apart, and does not keep an empty range', () => {
    const { mem, dir, map } = machine();
    map(V, 0x500, UR);
    const cache = new WalkCache();
    const out = fresh();
    expect(cache.translateRange(mem, dir, V, 8, false, out)).toBe(-1);
    expect(cache.translateRange(mem, dir, V, 8, true, out)).toBe(V);
    expect(cache.translateRange(mem, dir, V, 8, false, out)).toBe(-1);
    expect(runsOf(out)).toEqual([[0x500 * PAGE_SIZE, 8]]);
    expect(cache.translateRange(mem, dir, V + 8, 0, true, out)).toBe(-1);
    expect(out.count).toBe(0);
    // another directory at the same address is another range
    const dir2 = 0x300;
    mapPage(mem, dir2, V, 0x600, UR, () => 0x301);
    expect(cache.translateRange(mem, dir2, V, 8, false, out)).toBe(-1);
    expect(runsOf(out)).toEqual([[0x600 * PAGE_SIZE, 8]]);
  });

  it('translateRange remembers several ranges, the oldest forgotten first, and answers each as the walk', () => {
    const { mem, dir, map } = machine();
    for (let i = 0; i < 6; i++) map(V + i * PAGE_SIZE, 0x500 + 2 * i, URW);
    const cache = new WalkCache();
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 6; i++) {
        const want = fresh();
        const got = fresh();
        translateRange(mem, dir, V + i * PAGE_SIZE, 2 * PAGE_SIZE, true, want);
        expect(cache.translateRange(mem, dir, V + i * PAGE_SIZE, 2 * PAGE_SIZE, true, got)).toBe(
          i === 5 ? V + 6 * PAGE_SIZE : -1,
        );
        if (i < 5) expect(runsOf(got)).toEqual(runsOf(want));
      }
    }
  });
});

describe('mapPage', () => {
  it('panics: flags outside P|W|U|G, a frame outside RAM, an address in a 4 MiB page', () => {
    const { mem, dir, alloc } = machine();
    expect(() => {
      mapPage(mem, dir, V, 1, PTE.PS, alloc);
    }).toThrow('mapPage: flags 0x80 outside P|W|U|G');
    expect(() => {
      mapPage(mem, dir, V, 4096, URW, alloc);
    }).toThrow('mapPage: frame 4096 outside RAM');
    expect(() => {
      mapPage(mem, dir, V, -1, URW, alloc);
    }).toThrow('mapPage: frame -1 outside RAM');
    mem.pteWrite(dir, V >>> 22, (0x400000 | PTE.PS | URW) >>> 0);
    expect(() => {
      mapPage(mem, dir, V + PAGE_SIZE, 5, URW, alloc);
    }).toThrow('mapPage: 0x19001000 lies in a 4 MiB page');
    // a PS bit without P is no 4 MiB page: a table is made
    mem.pteWrite(dir, V >>> 22, PTE.PS);
    mapPage(mem, dir, V, 5, URW | PTE.G, alloc);
    expect(walk(mem, dir, V + 3, true, true)).toBe(5 * PAGE_SIZE + 3);
  });
});

describe('what the fast paths and caches must not change', () => {
  it('a directory entry without P is absent even when its frame bits name a table with present entries', () => {
    const { mem, dir, map } = machine();
    map(V, 0x500, URW);
    const pde = mem.pteRead(dir, V >>> 22);
    mem.pteWrite(dir, V >>> 22, pde & ~PTE.P);
    expect(walk(mem, dir, V, false, true)).toBe(-1);
    expect(translateRange(mem, dir, V, 8, false, null)).toBe(V);
  });

  it('a 4 MiB page over written memory, or an absent entry naming a written frame, is not read as a page table', () => {
    const { mem, dir } = machine();
    // frame 0x400 holds words that would read as present user entries if it were taken for a table
    mem.write(0x400000, new Uint8Array(4096).fill(0x07), 0, 4096);
    mem.pteWrite(dir, V >>> 22, (0x400000 | PTE.PS | UR) >>> 0);
    const out = fresh();
    expect(translateRange(mem, dir, V + 0x2010, 16, false, out)).toBe(-1);
    expect(runsOf(out)).toEqual([[0x402010, 16]]);
    mem.pteWrite(dir, V >>> 22, (0x400000 | PTE.W | PTE.U) >>> 0);
    expect(translateRange(mem, dir, V + 0x2010, 16, false, out)).toBe(V + 0x2010);
  });

  it('user accesses through frame 0: a hit on frame 0 is a hit, one page or several', () => {
    const { mem, dir, map } = machine();
    map(V, 0, URW);
    map(V + PAGE_SIZE, 1, URW);
    const tlb = new Tlb(4);
    const misses = (): number => mem.clock.countByKind[K.tlbMiss] ?? 0;
    const data = Uint8Array.from({ length: 2 * PAGE_SIZE }, (_, i) => (i * 3) & 0xff);
    expect(userWrite(mem, dir, tlb, V, data, 0, 2 * PAGE_SIZE)).toBeNull();
    expect(misses()).toBe(2);
    const back = new Uint8Array(2 * PAGE_SIZE);
    expect(userRead(mem, dir, tlb, V, back, 0, 8)).toBeNull();
    expect(userRead(mem, dir, tlb, V + 8, back, 8, 2 * PAGE_SIZE - 8)).toBeNull();
    expect(back).toEqual(data);
    expect(misses()).toBe(2);
  });

  it('a user access to a supervisor page faults as a protection fault (the kernel could read it)', () => {
    const { mem, dir, map } = machine();
    map(V, 0x500, PTE.P | PTE.W);
    expect(walk(mem, dir, V, false, false)).toBe(0x500 * PAGE_SIZE);
    const r = userRead(mem, dir, new Tlb(), V, new Uint8Array(8), 0, 8);
    expect(r).toEqual({ fault: { vaddr: V, present: true, write: false }, done: 0 });
  });

  it('a read that faults after two runs lands the second run at its own offset', () => {
    const { mem, dir, map } = machine();
    map(V, 0x500, URW);
    map(V + PAGE_SIZE, 0x700, URW);
    mem.write(0x500 * PAGE_SIZE, new Uint8Array(PAGE_SIZE).fill(1), 0, PAGE_SIZE);
    mem.write(0x700 * PAGE_SIZE, new Uint8Array(PAGE_SIZE).fill(2), 0, PAGE_SIZE);
    const buf = new Uint8Array(3 * PAGE_SIZE + 4);
    const r = userRead(mem, dir, new Tlb(), V, buf, 4, 3 * PAGE_SIZE);
    expect(r).toEqual({
      fault: { vaddr: V + 2 * PAGE_SIZE, present: false, write: false },
      done: 2 * PAGE_SIZE,
    });
    expect(Array.from(new Set(buf.subarray(4, 4 + PAGE_SIZE)))).toEqual([1]);
    expect(Array.from(new Set(buf.subarray(4 + PAGE_SIZE, 4 + 2 * PAGE_SIZE)))).toEqual([2]);
    expect(buf[3]).toBe(0);
  });

  it('a host buffer range of negative length panics as such', () => {
    const { mem, dir } = machine();
    expect(() => userRead(mem, dir, new Tlb(), V, new Uint8Array(8), 4, -1)).toThrow(
      'mmu userRead: host buffer range [4, +-1) outside buffer of 8 bytes',
    );
  });

  it('a fresh TLB, and one just flushed, miss on page 1 (the last-hit key starts and restarts as none)', () => {
    const tlb = new Tlb(2);
    expect(tlb.lookup(1, false)).toBe(-1);
    tlb.insert(5, 50, true);
    expect(tlb.lookup(5, false)).toBe(50);
    tlb.flush();
    expect(tlb.lookup(1, false)).toBe(-1);
    // page 0 is a page like any other
    tlb.insert(0, 9, false);
    expect(tlb.entries()).toEqual([{ vpage: 0, frame: 9, writable: false }]);
  });

  it('WalkCache: slot 1 after a table change, and the same slot under another pointer page', () => {
    const { mem, dir, map, alloc } = machine();
    map(V, 0x500, URW);
    const dir2 = alloc();
    mapPage(mem, dir2, V, 0x600, URW, alloc);
    const pdA = alloc();
    const pdB = alloc();
    mem.pteWrite(pdA, 1, (dir * PAGE_SIZE + URW) >>> 0);
    mem.pteWrite(pdB, 1, (dir2 * PAGE_SIZE + URW) >>> 0);
    const cache = new WalkCache();
    expect(cache.entry(mem, pdA, 1, V) >>> 12).toBe(0x500);
    expect(cache.entry(mem, pdB, 1, V) >>> 12).toBe(0x600);
    expect(cache.entry(mem, pdA, 1, V) >>> 12).toBe(0x500);
    mem.pteWrite(mem.pteRead(dir, V >>> 22) >>> 12, (V >>> 12) & 0x3ff, 0);
    expect(cache.entry(mem, pdA, 1, V)).toBe(0);
  });

  it('WalkCache.translateRange: a fault at address 0 is answered again; directory 1, address 1 on a fresh cache', () => {
    const { mem, dir } = machine();
    const cache = new WalkCache();
    const out = fresh();
    expect(cache.translateRange(mem, 1, 1, 1, true, out)).toBe(1);
    expect(cache.translateRange(mem, dir, 0, 8, false, out)).toBe(0);
    expect(cache.translateRange(mem, dir, 0, 8, false, out)).toBe(0);
  });

  it('WalkCache.translateRange sees a change to the table of the last 4 MiB', () => {
    const { mem, dir, map } = machine();
    const top = 0xfffff000;
    map(top, 0x500, URW);
    const cache = new WalkCache();
    const out = fresh();
    expect(cache.translateRange(mem, dir, top, PAGE_SIZE, false, out)).toBe(-1);
    mem.pteWrite(mem.pteRead(dir, 1023) >>> 12, 1023, 0);
    expect(cache.translateRange(mem, dir, top, PAGE_SIZE, false, out)).toBe(top);
  });
});

describe('WalkCache.translateRange keys', () => {
  it('a kept range is not taken for a longer or shorter one at the same address', () => {
    const { mem, dir, map } = machine();
    map(V, 0x600, UR);
    const cache = new WalkCache();
    const out = fresh();
    expect(cache.translateRange(mem, dir, V, 16, false, out)).toBe(-1);
    expect(cache.translateRange(mem, dir, V, 8, false, out)).toBe(-1);
    expect(runsOf(out)).toEqual([[0x600 * PAGE_SIZE, 8]]);
    expect(cache.translateRange(mem, dir, V, 16, false, out)).toBe(-1);
    expect(runsOf(out)).toEqual([[0x600 * PAGE_SIZE, 16]]);
    expect(cache.translateRange(mem, dir, V, 2 * PAGE_SIZE, false, out)).toBe(V + PAGE_SIZE);
  });

  it('a range is found by its own four keys only, never by a mix of two kept ranges', () => {
    const { mem, dir, map } = machine();
    map(0, 0x500, UR);
    map(V, 0x600, UR);
    const cache = new WalkCache();
    const out = fresh();
    expect(cache.translateRange(mem, dir, 1, 8, false, out)).toBe(-1);
    expect(cache.translateRange(mem, dir, V, 8, false, out)).toBe(-1);
    // V read-only: a write is refused though the read of the same range is kept
    expect(cache.translateRange(mem, dir, V, 8, true, out)).toBe(V);
    // address 0 is not the kept range at V
    expect(cache.translateRange(mem, dir, 0, 8, false, out)).toBe(-1);
    expect(runsOf(out)).toEqual([[0x500 * PAGE_SIZE, 8]]);
    // frame 8 as a directory maps nothing (its numbers are those of the kept ranges' keys, shifted)
    const again = new WalkCache();
    expect(again.translateRange(mem, dir, V, 8, false, out)).toBe(-1);
    expect(again.translateRange(mem, dir, 0, 8, false, out)).toBe(-1);
    expect(again.translateRange(mem, 8, 0, dir, false, out)).toBe(0);
  });
});
