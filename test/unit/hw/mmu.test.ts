import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { PhysMem } from '../../../src/hw/physmem.ts';
import {
  PTE,
  Tlb,
  WALK_NO_DIR,
  WalkCache,
  checkRange,
  mapPage,
  pdeIndex,
  pteIndex,
  translate,
  translateRange,
  userRead,
  userWrite,
  walk,
  walkEntry,
} from '../../../src/hw/mmu.ts';
import type { PhysRuns } from '../../../src/hw/mmu.ts';
import { Panic } from '../../../src/lib/assert.ts';
import { MiB, PAGE_SIZE } from '../../../src/lib/units.ts';

const V = 0x19000000; // VM_PROCSTART: PDE 100
const URW = PTE.P | PTE.W | PTE.U;
const UR = PTE.P | PTE.U;

/** A 16 MiB machine with one zeroed page directory and a bump allocator for table and data frames. */
function machine(ramBytes = 16 * MiB) {
  const mem = new PhysMem(ramBytes);
  let next = 0x100;
  const alloc = (): number => next++;
  const dir = alloc();
  const map = (v: number, f: number, flags: number): void => mapPage(mem, dir, v, f, flags, alloc);
  return { mem, dir, alloc, map };
}

function bytesAt(mem: PhysMem, pa: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  mem.read(pa, out, 0, n);
  return out;
}

describe('walk and translate', () => {
  it('translates a mapped page and keeps the offset', () => {
    const { mem, dir, map } = machine();
    map(V + PAGE_SIZE, 0x500, URW);
    expect(walk(mem, dir, V + PAGE_SIZE + 0x123, true, true)).toBe(0x500 * PAGE_SIZE + 0x123);
    expect(translate(mem, dir, V + PAGE_SIZE + 0xfff, false, true)).toEqual({ ok: true, pa: 0x500fff });
  });

  it('reports a missing PDE as a not-present fault', () => {
    const { mem, dir } = machine();
    expect(walk(mem, dir, V, false, true)).toBe(-1);
    expect(translate(mem, dir, V + 5, true, true)).toEqual({
      ok: false,
      fault: { vaddr: V + 5, present: false, write: true },
    });
  });

  it('reports a missing PTE in a present table as a not-present fault', () => {
    const { mem, dir, map } = machine();
    map(V, 0x500, URW);
    expect(walk(mem, dir, V + PAGE_SIZE, false, false)).toBe(-1);
    expect(translate(mem, dir, V + PAGE_SIZE, false, true)).toEqual({
      ok: false,
      fault: { vaddr: V + PAGE_SIZE, present: false, write: false },
    });
  });

  it('faults user access to a page without U as a protection fault; the kernel may access it', () => {
    const { mem, dir, map } = machine();
    map(V, 0x500, PTE.P | PTE.W);
    expect(translate(mem, dir, V, false, true)).toEqual({
      ok: false,
      fault: { vaddr: V, present: true, write: false },
    });
    expect(walk(mem, dir, V, true, false)).toBe(0x500000);
  });

  it('faults a user access when the PDE lacks U even if the PTE has it', () => {
    const { mem, dir, map } = machine();
    map(V, 0x500, URW);
    const pde = mem.pteRead(dir, pdeIndex(V));
    mem.pteWrite(dir, pdeIndex(V), pde & ~PTE.U);
    expect(translate(mem, dir, V, false, true)).toEqual({
      ok: false,
      fault: { vaddr: V, present: true, write: false },
    });
    // Absence outranks protection, as in the i386 error code.
    expect(translate(mem, dir, V + PAGE_SIZE, false, true)).toEqual({
      ok: false,
      fault: { vaddr: V + PAGE_SIZE, present: false, write: false },
    });
  });

  it('faults a write to a read-only PTE as a present write fault; reads succeed', () => {
    const { mem, dir, map } = machine();
    map(V, 0x500, UR);
    expect(walk(mem, dir, V, false, true)).toBe(0x500000);
    expect(translate(mem, dir, V + 8, true, true)).toEqual({
      ok: false,
      fault: { vaddr: V + 8, present: true, write: true },
    });
    expect(walk(mem, dir, V, true, false)).toBe(-1); // DIVERGES note: supervisor writes honour W
  });

  it('needs W on the PDE as well as the PTE for a write', () => {
    const { mem, dir, map } = machine();
    map(V, 0x500, URW);
    mem.pteWrite(dir, pdeIndex(V), mem.pteRead(dir, pdeIndex(V)) & ~PTE.W);
    expect(walk(mem, dir, V, false, true)).toBe(0x500000);
    expect(translate(mem, dir, V, true, true)).toEqual({
      ok: false,
      fault: { vaddr: V, present: true, write: true },
    });
  });

  it('translates 4 MiB pages and requires U on a big-page PDE for user access', () => {
    const { mem, dir } = machine();
    // PDE 0: the kernel's identity big page, no U (spec/vm.md §2).
    mem.pteWrite(dir, 0, 0x00000000 | PTE.P | PTE.W | PTE.PS | PTE.G);
    expect(walk(mem, dir, 0x123456, true, false)).toBe(0x123456);
    expect(translate(mem, dir, 0x123456, false, true)).toEqual({
      ok: false,
      fault: { vaddr: 0x123456, present: true, write: false },
    });
    // PDE 5 maps physical 8 MiB with U, read-only.
    mem.pteWrite(dir, 5, 0x00800000 | PTE.P | PTE.U | PTE.PS);
    const v = (5 << 22) | 0x3fffff;
    expect(walk(mem, dir, v, false, true)).toBe(0x800000 + 0x3fffff);
    expect(translate(mem, dir, v, true, true)).toEqual({
      ok: false,
      fault: { vaddr: v, present: true, write: true },
    });
    // A PS entry without P is simply absent.
    mem.pteWrite(dir, 6, 0x00800000 | PTE.U | PTE.PS);
    expect(translate(mem, dir, 6 << 22, false, true)).toEqual({
      ok: false,
      fault: { vaddr: 6 << 22, present: false, write: false },
    });
  });

  it('handles addresses in the top of the address space', () => {
    const { mem, dir, map } = machine();
    map(0xfffff000, 0x600, URW);
    expect(walk(mem, dir, 0xffffffff, true, true)).toBe(0x600fff);
  });

  it('panics on addresses that are not 32-bit', () => {
    const { mem, dir } = machine();
    expect(() => walk(mem, dir, 2 ** 32, false, true)).toThrow(Panic);
    expect(() => translate(mem, dir, -1, false, true)).toThrow(Panic);
  });

  it('panics when an entry points outside RAM', () => {
    const { mem, dir } = machine(2 * MiB);
    mem.pteWrite(dir, pdeIndex(V), 0x00f00000 | URW); // table frame 0xf00 > 512 frames
    expect(() => walk(mem, dir, V, false, true)).toThrow(Panic);
  });
});

describe('mapPage', () => {
  it('creates a zeroed table once and writes the PTE', () => {
    const { mem, dir, map } = machine();
    const table = 0x600;
    mem.poison(table * PAGE_SIZE, PAGE_SIZE);
    let tables = 0;
    const alloc = (): number => {
      tables++;
      return table;
    };
    mapPage(mem, dir, V, 0x500, URW, alloc);
    mapPage(mem, dir, V + PAGE_SIZE, 0x501, UR | PTE.G, alloc);
    expect(tables).toBe(1);
    expect(mem.pteRead(dir, pdeIndex(V))).toBe((table * PAGE_SIZE) | URW);
    expect(mem.pteRead(table, pteIndex(V + PAGE_SIZE))).toBe(0x501000 | UR | PTE.G);
    expect(mem.pteRead(table, 2)).toBe(0);
    expect(() => map(V, 0x500, PTE.PS | PTE.P)).toThrow(Panic);
    expect(() => map(V, 1 << 20, URW)).toThrow(Panic);
    mem.pteWrite(dir, 7, PTE.P | PTE.PS);
    expect(() => map(7 << 22, 0x500, URW)).toThrow(/4 MiB/);
  });
});

describe('Tlb', () => {
  it('counts hits and misses and treats a read-only entry as a miss for a write', () => {
    const tlb = new Tlb(4);
    expect(tlb.lookup(10, false)).toBe(-1);
    tlb.insert(10, 0x500, false);
    expect(tlb.lookup(10, false)).toBe(0x500);
    expect(tlb.lookup(10, true)).toBe(-1);
    tlb.insert(10, 0x500, true);
    expect(tlb.lookup(10, true)).toBe(0x500);
    expect(tlb.stats).toEqual({ hits: 2, misses: 2, flushes: 0 });
    expect(tlb.size).toBe(1);
  });

  it('evicts the oldest entry first and keeps an updated entry in place', () => {
    const tlb = new Tlb(3);
    tlb.insert(1, 11, true);
    tlb.insert(2, 12, true);
    tlb.insert(3, 13, false);
    tlb.insert(1, 21, true); // update: 1 stays the oldest
    tlb.insert(4, 14, true); // evicts 1
    expect(tlb.lookup(1, false)).toBe(-1);
    expect(tlb.entries()).toEqual([
      { vpage: 2, frame: 12, writable: true },
      { vpage: 3, frame: 13, writable: false },
      { vpage: 4, frame: 14, writable: true },
    ]);
    tlb.insert(5, 15, true); // evicts 2
    expect(tlb.entries().map((e) => e.vpage)).toEqual([3, 4, 5]);
    expect(tlb.size).toBe(3);
  });

  it('flushes everything', () => {
    const tlb = new Tlb();
    expect(tlb.capacity).toBe(64);
    for (let i = 0; i < 100; i++) tlb.insert(i, i + 1000, true);
    expect(tlb.size).toBe(64);
    expect(tlb.entries()[0]?.vpage).toBe(36);
    tlb.flush();
    expect(tlb.size).toBe(0);
    expect(tlb.entries()).toEqual([]);
    expect(tlb.lookup(99, false)).toBe(-1);
    expect(tlb.stats.flushes).toBe(1);
    tlb.insert(7, 8, false);
    expect(tlb.entries()).toEqual([{ vpage: 7, frame: 8, writable: false }]);
  });

  it('rejects a bad capacity and out-of-range pages', () => {
    expect(() => new Tlb(0)).toThrow(Panic);
    expect(() => new Tlb(1.5)).toThrow(Panic);
    expect(() => new Tlb(4).insert(-1, 5, true)).toThrow(Panic);
    expect(() => new Tlb(4).insert(1 << 20, 5, true)).toThrow(Panic);
  });
});

describe('userRead and userWrite', () => {
  it('round-trips through scattered frames and fills the TLB', () => {
    const { mem, dir, map } = machine();
    map(V, 0x700, URW);
    map(V + PAGE_SIZE, 0x500, URW);
    map(V + 2 * PAGE_SIZE, 0x501, URW); // contiguous with the previous page: one run
    const tlb = new Tlb();
    const src = Uint8Array.from({ length: 3 * PAGE_SIZE }, (_, i) => i * 7);
    expect(userWrite(mem, dir, tlb, V + 10, src, 10, 3 * PAGE_SIZE - 20)).toBeNull();
    expect(tlb.size).toBe(3);
    expect(tlb.stats.misses).toBe(3);
    expect(bytesAt(mem, 0x700000 + 10, PAGE_SIZE - 10)).toEqual(src.subarray(10, PAGE_SIZE));
    expect(bytesAt(mem, 0x500000, 2 * PAGE_SIZE - 10)).toEqual(src.subarray(PAGE_SIZE, 3 * PAGE_SIZE - 10));
    const dst = new Uint8Array(3 * PAGE_SIZE);
    expect(userRead(mem, dir, tlb, V + 10, dst, 10, 3 * PAGE_SIZE - 20)).toBeNull();
    expect(dst.subarray(10, 3 * PAGE_SIZE - 10)).toEqual(src.subarray(10, 3 * PAGE_SIZE - 10));
    expect(tlb.stats.hits).toBe(3);
  });

  it('fills the TLB from a read walk with the page writability', () => {
    const { mem, dir, map } = machine();
    map(V, 0x500, UR);
    map(V + PAGE_SIZE, 0x501, URW);
    const tlb = new Tlb();
    expect(userRead(mem, dir, tlb, V, new Uint8Array(2 * PAGE_SIZE), 0, 2 * PAGE_SIZE)).toBeNull();
    expect(tlb.entries()).toEqual([
      { vpage: V / PAGE_SIZE, frame: 0x500, writable: false },
      { vpage: V / PAGE_SIZE + 1, frame: 0x501, writable: true },
    ]);
  });

  it('stops at the faulting third page: pages 1-2 written, done reported', () => {
    const { mem, dir, map } = machine();
    map(V, 0x500, URW);
    map(V + PAGE_SIZE, 0x600, URW);
    const tlb = new Tlb();
    const src = new Uint8Array(4 * PAGE_SIZE).fill(0xab);
    const r = userWrite(mem, dir, tlb, V + 100, src, 0, 3 * PAGE_SIZE);
    expect(r).toEqual({
      fault: { vaddr: V + 2 * PAGE_SIZE, present: false, write: true },
      done: 2 * PAGE_SIZE - 100,
    });
    expect(bytesAt(mem, 0x500000 + 100, PAGE_SIZE - 100).every((b) => b === 0xab)).toBe(true);
    expect(bytesAt(mem, 0x600000, PAGE_SIZE).every((b) => b === 0xab)).toBe(true);
    expect(bytesAt(mem, 0x500000, 100).every((b) => b === 0)).toBe(true);
    // A read-only third page gives a protection fault instead.
    map(V + 2 * PAGE_SIZE, 0x700, UR);
    expect(userWrite(mem, dir, tlb, V, src, 0, 4 * PAGE_SIZE)).toEqual({
      fault: { vaddr: V + 2 * PAGE_SIZE, present: true, write: true },
      done: 2 * PAGE_SIZE,
    });
    expect(bytesAt(mem, 0x700000, PAGE_SIZE).every((b) => b === 0)).toBe(true);
  });

  it('reports a fault on the first page with done 0 and the exact address', () => {
    const { mem, dir } = machine();
    const tlb = new Tlb();
    expect(userRead(mem, dir, tlb, V + 3, new Uint8Array(8), 0, 8)).toEqual({
      fault: { vaddr: V + 3, present: false, write: false },
      done: 0,
    });
    expect(tlb.size).toBe(0);
  });

  it('copies from and to views with a byteOffset across several pages', () => {
    const { mem, dir, map } = machine();
    for (let i = 0; i < 4; i++) map(V + i * PAGE_SIZE, 0x900 - 3 * i, URW);
    const backing = Uint8Array.from({ length: 5 * PAGE_SIZE }, (_, i) => (i * 5 + 1) & 0xff);
    const src = backing.subarray(123);
    const tlb = new Tlb();
    expect(userWrite(mem, dir, tlb, V + 77, src, 11, 3 * PAGE_SIZE + 5)).toBeNull();
    const dst = new Uint8Array(6 * PAGE_SIZE).subarray(999);
    expect(userRead(mem, dir, tlb, V + 77, dst, 2, 3 * PAGE_SIZE + 5)).toBeNull();
    expect(dst.subarray(2, 3 * PAGE_SIZE + 7)).toEqual(src.subarray(11, 3 * PAGE_SIZE + 16));
    expect(bytesAt(mem, (0x900 - 3) * PAGE_SIZE, PAGE_SIZE)).toEqual(
      src.subarray(11 + PAGE_SIZE - 77, 11 + 2 * PAGE_SIZE - 77),
    );
  });

  it('transfers nothing for length 0', () => {
    const { mem, dir } = machine();
    expect(userWrite(mem, dir, new Tlb(), V, new Uint8Array(0), 0, 0)).toBeNull();
  });

  it('keeps using a stale TLB entry until the flush (the mutation sanity check F22 must catch)', () => {
    const { mem, dir, map } = machine();
    map(V, 0x500, URW);
    const tlb = new Tlb();
    const one = new Uint8Array([1]);
    expect(userWrite(mem, dir, tlb, V, one, 0, 1)).toBeNull();
    // Downgrade the PTE to read-only without flushing.
    const table = mem.pteRead(dir, pdeIndex(V)) >>> 12;
    mem.pteWrite(table, pteIndex(V), 0x500000 | UR);
    expect(walk(mem, dir, V, true, true)).toBe(-1);
    expect(userWrite(mem, dir, tlb, V + 1, new Uint8Array([2]), 0, 1)).toBeNull();
    expect([...bytesAt(mem, 0x500000, 2)]).toEqual([1, 2]);
    expect(tlb.entries()).toEqual([{ vpage: V / PAGE_SIZE, frame: 0x500, writable: true }]);
    tlb.flush();
    expect(userWrite(mem, dir, tlb, V + 2, new Uint8Array([3]), 0, 1)).toEqual({
      fault: { vaddr: V + 2, present: true, write: true },
      done: 0,
    });
    expect(bytesAt(mem, 0x500002, 1)[0]).toBe(0);
  });

  it('panics on ranges past 4 GiB and host buffers too small', () => {
    const { mem, dir, map } = machine();
    map(0xfffff000, 0x600, URW);
    const tlb = new Tlb();
    expect(() => userWrite(mem, dir, tlb, 0xfffffff0, new Uint8Array(32), 0, 32)).toThrow(Panic);
    expect(() => userRead(mem, dir, tlb, 0xfffff000, new Uint8Array(4), 2, 4)).toThrow(Panic);
    expect(userRead(mem, dir, tlb, 0xfffff000, new Uint8Array(PAGE_SIZE), 0, PAGE_SIZE)).toBeNull();
  });

  it('agrees with a flat reference over random mappings and accesses', () => {
    const PAGES = 12;
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0x200, max: 0x220 }), { minLength: PAGES, maxLength: PAGES }),
        fc.array(
          fc.tuple(
            fc.boolean(),
            fc.nat({ max: PAGES * PAGE_SIZE }),
            fc.nat({ max: 5 * PAGE_SIZE }),
            fc.integer(),
          ),
          { maxLength: 10 },
        ),
        fc.integer({ min: 1, max: 8 }),
        (frames, accesses, tlbSize) => {
          const { mem, dir, map } = machine();
          frames.forEach((f, i) => map(V + i * PAGE_SIZE, f, URW));
          const tlb = new Tlb(tlbSize);
          const ref = new Uint8Array(PAGES * PAGE_SIZE);
          for (const [isWrite, off, len0, seed] of accesses) {
            const len = Math.min(len0, ref.length - off);
            if (isWrite) {
              const src = Uint8Array.from({ length: len }, (_, i) => (seed + i * 31) & 0xff);
              expect(userWrite(mem, dir, tlb, V + off, src, 0, len)).toBeNull();
              ref.set(src, off);
            } else {
              const dst = new Uint8Array(len + 1);
              expect(userRead(mem, dir, tlb, V + off, dst, 1, len)).toBeNull();
              expect(Buffer.compare(dst.subarray(1), ref.subarray(off, off + len))).toBe(0);
            }
          }
          frames.forEach((f, i) => {
            expect(
              Buffer.compare(
                bytesAt(mem, f * PAGE_SIZE, PAGE_SIZE),
                ref.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE),
              ),
            ).toBe(0);
          });
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('checkRange', () => {
  it('returns -1 when every page is accessible, else the first inaccessible address', () => {
    const { mem, dir, map } = machine();
    map(V, 0x500, URW);
    map(V + PAGE_SIZE, 0x501, UR);
    map(V + 3 * PAGE_SIZE, 0x502, URW);
    expect(checkRange(mem, dir, V + 5, 2 * PAGE_SIZE - 10, false)).toBe(-1);
    expect(checkRange(mem, dir, V + 5, 2 * PAGE_SIZE - 10, true)).toBe(V + PAGE_SIZE);
    expect(checkRange(mem, dir, V, 4 * PAGE_SIZE, false)).toBe(V + 2 * PAGE_SIZE);
    expect(checkRange(mem, dir, V + 2 * PAGE_SIZE + 7, 10, false)).toBe(V + 2 * PAGE_SIZE + 7);
    expect(checkRange(mem, dir, V + 2 * PAGE_SIZE, 0, true)).toBe(-1);
    expect(checkRange(mem, dir, V + PAGE_SIZE - 1, 1, true)).toBe(-1);
    expect(checkRange(mem, dir, V + PAGE_SIZE - 1, 2, true)).toBe(V + PAGE_SIZE);
  });

  it('refuses pages without U', () => {
    const { mem, dir, map } = machine();
    map(V, 0x500, PTE.P | PTE.W);
    expect(checkRange(mem, dir, V, 1, false)).toBe(V);
  });
});

describe('WalkCache', () => {
  /** A machine with a pointer page whose entry 5 names the directory, and a cache over it. */
  function cached() {
    const m = machine();
    const pagedirs = m.alloc();
    m.mem.pteWrite(pagedirs, 5, (m.dir * PAGE_SIZE + URW) >>> 0);
    const cache = new WalkCache();
    /** The cached walk of v for slot 5, and the uncached walk it must equal. */
    const both = (v: number, write: boolean): [number, number] => {
      const e = cache.entry(m.mem, pagedirs, 5, v);
      return [e === WALK_NO_DIR ? -2 : walkEntry(e, v, write), walk(m.mem, m.dir, v, write, true)];
    };
    return { ...m, pagedirs, cache, both };
  }

  it('answers what the walk answers, hit after hit', () => {
    const c = cached();
    c.map(V, 0x300, URW);
    c.map(V + PAGE_SIZE, 0x301, UR);
    for (let i = 0; i < 2; i++) {
      for (const v of [V + 5, V + PAGE_SIZE + 7, V + 2 * PAGE_SIZE, 0x40000000]) {
        for (const write of [false, true]) {
          const [got, want] = c.both(v, write);
          expect(got).toBe(want);
        }
      }
    }
    expect(c.both(V + 5, false)[0]).toBe(0x300 * PAGE_SIZE + 5);
    expect(c.both(V + PAGE_SIZE, true)[0]).toBe(-1);
  });

  it('says so when the pointer page has no entry for the slot', () => {
    const c = cached();
    expect(c.cache.entry(c.mem, c.pagedirs, 6, V)).toBe(WALK_NO_DIR);
  });

  // Every way PhysMem can change a table word, each after the cache has answered from it.
  const changes: [string, (c: ReturnType<typeof cached>, pa: number, table: number) => void][] = [
    ['pteWrite', (c, _pa, table) => c.mem.pteWrite(table, pteIndex(V), 0)],
    ['writeU32', (c, pa) => c.mem.writeU32(pa, 0)],
    ['write', (c, pa) => c.mem.write(pa, new Uint8Array(4), 0, 4)],
    ['writeFromBuffer', (c, pa) => c.mem.writeFromBuffer(pa, new ArrayBuffer(4), 0, 4)],
    ['copy', (c, pa) => c.mem.copy(pa, 0x500 * PAGE_SIZE, 4)],
    ['zero', (c, pa) => c.mem.zero(pa, 4)],
    ['poison', (c, pa) => c.mem.poison(pa, 4)],
    ['clearWords', (c, _pa, table) => c.mem.clearWords(table, pteIndex(V), pteIndex(V) + 1)],
    [
      'frameWordsForWrite',
      (c, _pa, table) => c.mem.frameWordsForWrite(table).fill(0, pteIndex(V), pteIndex(V) + 1),
    ],
  ];
  for (const [name, change] of changes) {
    it(`forgets its answers when a table word changes by ${name}`, () => {
      const c = cached();
      c.map(V, 0x300, URW);
      expect(c.both(V, true)[0]).toBe(0x300 * PAGE_SIZE);
      const table = c.mem.pteRead(c.dir, pdeIndex(V)) >>> 12;
      change(c, table * PAGE_SIZE + 4 * pteIndex(V), table);
      expect(c.both(V, true)).toEqual([-1, -1]);
    });
  }

  it('forgets its answers when the directory or the pointer page changes', () => {
    const c = cached();
    c.map(V, 0x300, URW);
    expect(c.both(V, false)[0]).toBe(0x300 * PAGE_SIZE);
    c.mem.pteWrite(c.dir, pdeIndex(V), 0);
    expect(c.both(V, false)).toEqual([-1, -1]);
    c.map(V, 0x301, URW);
    expect(c.both(V, false)[0]).toBe(0x301 * PAGE_SIZE);
    c.mem.pteWrite(c.pagedirs, 5, 0);
    expect(c.cache.entry(c.mem, c.pagedirs, 5, V)).toBe(WALK_NO_DIR);
  });

  it('keeps its answers across writes to frames it never read', () => {
    const c = cached();
    c.map(V, 0x300, URW);
    c.both(V, false);
    const before = c.mem.tableWrites;
    c.mem.write(0x300 * PAGE_SIZE, new Uint8Array(PAGE_SIZE), 0, PAGE_SIZE);
    c.mem.copy(0x301 * PAGE_SIZE, 0x300 * PAGE_SIZE, 2 * PAGE_SIZE);
    expect(c.mem.tableWrites).toBe(before);
  });
});

describe('WalkCache.translateRange', () => {
  const runsOf = (r: PhysRuns): [number, number][] =>
    Array.from({ length: r.count }, (_, i) => [r.pa[i] ?? 0, r.bytes[i] ?? 0]);
  const fresh = (): PhysRuns => ({ pa: [], bytes: [], count: 0 });

  it('gives the runs and answers of translateRange, from the walk and from its memory', () => {
    const m = machine();
    m.map(V, 0x300, URW);
    m.map(V + PAGE_SIZE, 0x301, UR);
    m.map(V + 2 * PAGE_SIZE, 0x400, URW);
    const cache = new WalkCache();
    for (let i = 0; i < 2; i++) {
      for (const [v, n, write] of [
        [V + 8, 3 * PAGE_SIZE - 8, false],
        [V, PAGE_SIZE + 1, true],
        [V, 4 * PAGE_SIZE, false],
      ] as const) {
        const want = fresh();
        const got = fresh();
        const r = translateRange(m.mem, m.dir, v, n, write, want);
        expect(cache.translateRange(m.mem, m.dir, v, n, write, got)).toBe(r);
        if (r < 0) expect(runsOf(got)).toEqual(runsOf(want));
      }
    }
  });

  it('walks again once a table word it read has changed', () => {
    const m = machine();
    m.map(V, 0x300, URW);
    m.map(V + PAGE_SIZE, 0x301, URW);
    const cache = new WalkCache();
    const out = fresh();
    expect(cache.translateRange(m.mem, m.dir, V, 2 * PAGE_SIZE, true, out)).toBe(-1);
    expect(runsOf(out)).toEqual([[0x300 * PAGE_SIZE, 2 * PAGE_SIZE]]);
    m.map(V + PAGE_SIZE, 0x500, URW);
    expect(cache.translateRange(m.mem, m.dir, V, 2 * PAGE_SIZE, true, out)).toBe(-1);
    expect(runsOf(out)).toEqual([
      [0x300 * PAGE_SIZE, PAGE_SIZE],
      [0x500 * PAGE_SIZE, PAGE_SIZE],
    ]);
    const table = m.mem.pteRead(m.dir, pdeIndex(V)) >>> 12;
    m.mem.writeU32(table * PAGE_SIZE + 4 * pteIndex(V + PAGE_SIZE), 0);
    expect(cache.translateRange(m.mem, m.dir, V, 2 * PAGE_SIZE, true, out)).toBe(V + PAGE_SIZE);
  });
});
