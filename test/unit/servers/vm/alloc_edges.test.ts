// Edge cases of the VM free list (src/servers/vm/alloc.ts) through PhysAlloc's public methods, on a small PhysMem
// and a counting node source: bad arguments, every carve direction and boundary, alignment surplus, clearing and
// its cost, coalescing on either side, the node reservations of a free and the slab-page fallback, and the
// free-list check's messages.
import { describe, expect, it } from 'vitest';
import { K } from '../../../../src/hw/profile.ts';
import { PhysMem } from '../../../../src/hw/physmem.ts';
import { NO_MEM, PAF_ALIGN64K, PAF_CLEAR, PAF_LOWER16MB, PAF_LOWER1MB } from '../../../../src/include/vm.ts';
import { Panic } from '../../../../src/lib/assert.ts';
import type { AvlTree } from '../../../../src/lib/avl.ts';
import { PhysAlloc } from '../../../../src/servers/vm/alloc.ts';
import type { NodeSource } from '../../../../src/servers/vm/alloc.ts';
import { createVm } from '../../../../src/servers/vm/main.ts';

const PAGE = 4096;

/** A PhysAlloc over `pages` pages of RAM with the given boot ranges ([page, pages] pairs). */
function allocOver(
  pages: number,
  ranges: [number, number][],
  o: { sanity?: boolean; fail?: () => boolean } = {},
) {
  const mem = new PhysMem(pages * PAGE);
  const a = new PhysAlloc(pages, mem, { sanity: o.sanity ?? true, shouldFail: o.fail ?? (() => false) });
  for (const [p, n] of ranges) a.addBootRange(p, n);
  return { a, mem };
}

/** A node source that counts what the allocator asks of it; `spare` reservations succeed, then they fail. */
function nodes(spare = 1000) {
  const s = {
    reserved: 0,
    released: 0,
    adopted: [] as number[],
    left: spare,
    reserve(): boolean {
      if (s.left <= 0) return false;
      s.left--;
      s.reserved++;
      return true;
    },
    release(): void {
      s.released++;
    },
    adoptPage(frame: number): void {
      s.adopted.push(frame);
    },
  };
  return s satisfies NodeSource;
}

const spans = (a: PhysAlloc): [number, number][] => a.ranges().map((r) => [r.addr, r.size]);

describe('PhysAlloc: arguments', () => {
  it('a page count that is not a positive integer panics; shouldFail fails only injectable allocations', () => {
    let fail = false;
    const { a } = allocOver(64, [[1, 63]], { fail: () => fail });
    for (const n of [0, -1, 1.5, Number.NaN]) expect(() => a.allocPages(n, 0)).toThrow(/bad page count/);
    fail = true;
    expect(a.allocPages(1, 0)).toBe(NO_MEM);
    expect(a.allocPages(1, 0, false)).toBe(63);
    expect(a.freeCount).toBe(62);
  });

  it('freePages refuses a bad, outside or double-freed range, and accepts a range ending at the last page', () => {
    const { a } = allocOver(64, [[10, 10]]);
    for (const [p, n] of [
      [5, 0],
      [5, 1.5],
      [5.5, 1],
      [5, -1],
    ])
      expect(() => a.freePages(p ?? 0, n ?? 0)).toThrow(/bad range/);
    expect(() => a.freePages(0, 1)).toThrow(/outside RAM pages \[1, 64\)/);
    // The allocator's own message, not PhysMem's (which the poisoning of pages past RAM would give).
    expect(() => a.freePages(60, 5)).toThrow('freePages: range 60+5 outside RAM pages [1, 64)');
    // Overlaps with the free range 10+10: from below, starting inside, ending inside.
    expect(() => a.freePages(15, 1)).toThrow(/page 15\+1 overlaps free range 10\+10 \(double free\)/);
    expect(() => a.freePages(19, 3)).toThrow(/overlaps free range 10\+10/);
    expect(() => a.freePages(8, 3)).toThrow(/page 8\+3 overlaps free range 10\+10/);
    expect(() => a.freePages(8, 12)).toThrow(Panic);
    expect(spans(a)).toEqual([[10, 10]]);
    a.freePages(60, 4);
    a.freePages(20, 1);
    a.freePages(9, 1);
    expect(spans(a)).toEqual([
      [9, 12],
      [60, 4],
    ]);
    expect(a.freeCount).toBe(16);
    a.check();
  });

  it('addBootRange of 0 pages adds nothing; after chargeBootNodes it panics', () => {
    const { a } = allocOver(64, [
      [3, 0],
      [5, 2],
      [9, 1],
    ]);
    expect(spans(a)).toEqual([
      [5, 2],
      [9, 1],
    ]);
    const s = nodes();
    a.chargeBootNodes(s);
    expect(s.reserved).toBe(2);
    expect(() => a.addBootRange(20, 1)).toThrow(/addBootRange after boot/);
  });

  it("chargeBootNodes: a node page taken from the list itself empties a range, whose node's slot is given back", () => {
    for (const [ranges, left, reserved, released] of [
      [[[9, 1]], [], 1, 1],
      [
        [
          [5, 2],
          [9, 1],
        ],
        [[5, 2]],
        1,
        0,
      ],
    ] as [[number, number][], [number, number][], number, number][]) {
      const { a } = allocOver(64, ranges);
      const s = nodes();
      const reserve = s.reserve;
      // The slab's first node page, as at boot: from this allocator, without fault injection.
      s.reserve = () => (s.reserved === 0 ? a.allocPages(1, 0, false) === 9 && reserve() : reserve());
      a.chargeBootNodes(s);
      expect([s.reserved, s.released]).toEqual([reserved, released]);
      expect(spans(a)).toEqual(left);
      a.check();
    }
  });

  it('a VM booted on tiny RAM stops with a panic naming the page it lacks', () => {
    for (const [pages, kernelBytes] of [
      [2, 0],
      [3, PAGE],
    ] as const) {
      const ramBytes = pages * PAGE;
      const boot = { ramBytes, kernelBase: PAGE, kernelBytes, procs: [], nrProcs: 16 };
      expect(() => createVm({ sanity: 'functions', nrProcs: 16 }, boot, new PhysMem(ramBytes), null)).toThrow(
        'VM boot: no page for the page-directory pointer page',
      );
    }
  });

  it('chargeBootNodes panics when the slab cannot hold the boot nodes', () => {
    const { a } = allocOver(64, [
      [5, 2],
      [9, 1],
    ]);
    expect(() => a.chargeBootNodes(nodes(1))).toThrow(/no memory for the free list nodes/);
  });
});

describe('PhysAlloc: where pages come from', () => {
  it('default: the top of the highest range that fits; an exact fit removes the range', () => {
    const { a } = allocOver(64, [
      [2, 8],
      [20, 3],
      [40, 2],
    ]);
    expect(a.allocPages(3, 0)).toBe(20);
    expect(spans(a)).toEqual([
      [2, 8],
      [40, 2],
    ]);
    expect(a.allocPages(2, 0)).toBe(40);
    expect(a.allocPages(1, 0)).toBe(9);
    expect(spans(a)).toEqual([[2, 7]]);
    expect(a.allocPages(8, 0)).toBe(NO_MEM);
    expect(a.freeCount).toBe(7);
    expect(a.largestRange()).toBe(7);
    expect(a.rangeCount).toBe(1);
    // The largest of several ranges, not the last one.
    expect(
      allocOver(64, [
        [2, 8],
        [20, 3],
        [40, 2],
      ]).a.largestRange(),
    ).toBe(8);
  });

  it('LOWER16MB: the bottom of the lowest range that fits, the boundary itself allowed', () => {
    const { a } = allocOver(4200, [
      [2, 1],
      [4000, 150],
    ]);
    expect(a.allocPages(2, PAF_LOWER16MB)).toBe(4000);
    expect(spans(a)).toEqual([
      [2, 1],
      [4002, 148],
    ]);
    expect(a.allocPages(95, PAF_LOWER16MB)).toBe(NO_MEM);
    expect(a.allocPages(94, PAF_LOWER16MB)).toBe(4002);
    expect(a.allocPages(1, PAF_LOWER16MB)).toBe(2);
    expect(spans(a)).toEqual([[4096, 54]]);
    expect(a.allocPages(1, PAF_LOWER16MB)).toBe(NO_MEM);
    expect(a.allocPages(54, 0)).toBe(4096);
    expect(a.freeCount).toBe(0);
  });

  it('LOWER1MB: the boundary is page 256, also when LOWER16MB is given too', () => {
    const { a } = allocOver(512, [[250, 100]]);
    expect(a.allocPages(7, PAF_LOWER1MB | PAF_LOWER16MB)).toBe(NO_MEM);
    expect(a.allocPages(6, PAF_LOWER1MB)).toBe(250);
    expect(a.allocPages(1, PAF_LOWER1MB)).toBe(NO_MEM);
    expect(a.allocPages(1, PAF_LOWER16MB)).toBe(256);
  });

  it('ALIGN64K frees the surplus on both sides, or only the trailing 16 pages when already aligned', () => {
    const { a } = allocOver(128, [
      [3, 61],
      [96, 32 - 1],
    ]);
    // Top-down: 96+31 holds 5 + 16 pages at its top (106..126), aligned base 112, surplus 106..111 and 117..126.
    expect(a.allocPages(5, PAF_ALIGN64K)).toBe(112);
    expect(spans(a)).toEqual([
      [3, 61],
      [96, 16],
      [117, 10],
    ]);
    expect(a.freeCount).toBe(61 + 26);
    // From the bottom at page 16 (already aligned): the 16 trailing pages go back.
    const b = allocOver(128, [[16, 40]]).a;
    expect(b.allocPages(4, PAF_ALIGN64K | PAF_LOWER16MB)).toBe(16);
    expect(spans(b)).toEqual([[20, 36]]);
    expect(b.allocPages(30, PAF_ALIGN64K)).toBe(NO_MEM);
    b.check();
  });

  it('PAF_CLEAR zeroes the pages and charges one zeroPage per page; every allocation charges one frameAlloc', () => {
    const { a, mem } = allocOver(64, [[1, 63]]);
    mem.write(60 * PAGE, new Uint8Array(4 * PAGE).fill(7), 0, 4 * PAGE);
    const counts = mem.clock.countByKind;
    expect(a.allocPages(2, 0)).toBe(62);
    expect(counts[K.frameAlloc]).toBe(1);
    expect(counts[K.zeroPage]).toBe(0);
    const out = new Uint8Array(2 * PAGE);
    mem.read(62 * PAGE, out, 0, 2 * PAGE);
    expect(out.every((b) => b === 7)).toBe(true);
    expect(a.allocPages(2, PAF_CLEAR)).toBe(60);
    expect(counts[K.frameAlloc]).toBe(2);
    expect(counts[K.zeroPage]).toBe(2);
    mem.read(60 * PAGE, out, 0, 2 * PAGE);
    expect(out.every((b) => b === 0)).toBe(true);
    expect(a.allocPages(64, 0)).toBe(NO_MEM);
    expect(counts[K.frameAlloc]).toBe(2);
  });

  it('with sanity off freed pages are not poisoned; with it they are', () => {
    for (const sanity of [false, true]) {
      const { a, mem } = allocOver(64, [[1, 63]], { sanity });
      const f = a.allocPages(1, 0);
      a.freePages(f, 1);
      expect(mem.isPoisoned(f * PAGE, PAGE)).toBe(sanity);
    }
  });
});

describe('PhysAlloc: coalescing and tree nodes', () => {
  it('isFree tells free pages from taken ones at both ends of a range', () => {
    const { a } = allocOver(64, [[10, 5]]);
    expect([9, 10, 14, 15].map((p) => a.isFree(p))).toEqual([false, true, true, false]);
  });

  it('a free needing a node reserves one; a merge needs none; a merge of both sides releases one', () => {
    const { a } = allocOver(64, [
      [10, 5],
      [20, 5],
    ]);
    const s = nodes();
    a.chargeBootNodes(s);
    expect(s.reserved).toBe(2);
    a.freePages(30, 2); // alone: a new node
    expect([s.reserved, s.released]).toEqual([3, 0]);
    a.freePages(15, 2); // after 10+5: no node
    expect([s.reserved, s.released]).toEqual([3, 0]);
    a.freePages(8, 2); // before 10+7: no node
    expect([s.reserved, s.released]).toEqual([3, 0]);
    a.freePages(17, 3); // joins 8+9 and 20+5: one node goes
    expect([s.reserved, s.released]).toEqual([3, 1]);
    expect(spans(a)).toEqual([
      [8, 17],
      [30, 2],
    ]);
    a.check();
  });

  it('with no node left the first freed page becomes a node page; a one-page free stops there', () => {
    const { a } = allocOver(64, [[10, 5]]);
    const s = nodes(1);
    a.chargeBootNodes(s);
    a.freePages(30, 1);
    expect(s.adopted).toEqual([30]);
    expect(spans(a)).toEqual([[10, 5]]);
    expect(a.freeCount).toBe(5);
    a.check();
  });

  it('a longer free gives its first page to the slab and frees the rest; no node even then panics', () => {
    const { a } = allocOver(64, [[10, 5]]);
    const s = nodes(1);
    a.chargeBootNodes(s);
    // The adopted page makes one node available.
    s.adoptPage = (f: number) => {
      s.adopted.push(f);
      s.left++;
    };
    a.freePages(30, 3);
    expect(s.adopted).toEqual([30]);
    expect(spans(a)).toEqual([
      [10, 5],
      [31, 2],
    ]);
    expect(a.freeCount).toBe(7);
    a.check();
    const b = allocOver(64, [[10, 5]]).a;
    b.chargeBootNodes(nodes(1));
    expect(() => b.freePages(30, 3)).toThrow(/no node even after adopting a freed page/);
  });
});

describe('PhysAlloc: failures and the check', () => {
  it('a failed allocation with sanity on finds no fitting range, and returns NO_MEM with sanity off too', () => {
    for (const sanity of [false, true]) {
      const { a } = allocOver(
        4200,
        [
          [3, 2],
          [4090, 20],
        ],
        { sanity },
      );
      expect(a.allocPages(21, 0)).toBe(NO_MEM);
      expect(a.allocPages(8, PAF_LOWER16MB)).toBe(NO_MEM);
      expect(a.allocPages(3, PAF_LOWER1MB)).toBe(NO_MEM);
      expect(a.freeCount).toBe(22);
    }
  });

  it('check() reports a wrong count or a reservation left by E18 with the figures', () => {
    const { a } = allocOver(64, [
      [10, 5],
      [20, 1],
    ]);
    a.check();
    a.freeCount = 7;
    expect(() => a.check()).toThrow('VM sanity E18: free ranges hold 6 pages, allocator counted 7');
    a.freeCount = 6;
    (a as unknown as { reserved: number }).reserved = 2;
    expect(() => a.check()).toThrow('VM sanity E18: 2 free-list nodes reserved between operations');
  });

  it('check() reports page 0, a range past RAM and touching ranges by E17, naming the range', () => {
    const broken = (edit: (tree: AvlTree<number>) => void): PhysAlloc => {
      const { a } = allocOver(64, [
        [10, 5],
        [20, 1],
      ]);
      edit((a as unknown as { tree: AvlTree<number> }).tree);
      return a;
    };
    expect(() => broken((t) => t.insert(0, 1)).check()).toThrow('VM sanity E17: page 0 is free');
    expect(() => broken((t) => t.setValue(20, 45)).check()).toThrow(
      'VM sanity E17: free range 20+45 outside RAM',
    );
    expect(() => broken((t) => t.setValue(20, 44)).check()).toThrow(/^VM sanity E18/);
    expect(() => broken((t) => t.setValue(10, 10)).check()).toThrow(
      'VM sanity E17: free range 20+1 adjacent to or overlapping the previous one',
    );
    expect(() => broken((t) => t.setValue(10, 0)).check()).toThrow(
      'VM sanity E17: empty free range at page 10',
    );
  });
});

describe('PhysAlloc: page 1, boot merges and the failed-allocation check', () => {
  it('page 1 is the lowest page that can be freed, and a free range there passes the check', () => {
    const { a } = allocOver(64, [[5, 2]]);
    a.freePages(1, 1);
    expect(spans(a)).toEqual([
      [1, 1],
      [5, 2],
    ]);
    a.check();
  });

  it('a boot range joining two others frees a node, and the slab is charged only for the nodes left', () => {
    const { a } = allocOver(64, [
      [5, 2],
      [9, 1],
      [7, 2],
    ]);
    expect(spans(a)).toEqual([[5, 5]]);
    const s = nodes();
    a.chargeBootNodes(s);
    expect(s.reserved).toBe(1);
  });

  it("a failed allocation's sanity search panics on a range that would have fitted, naming the first", () => {
    // failed() is what carve calls once it found no range: called here directly over ranges that do fit, as a
    // broken carve would leave them.
    const failed = (a: PhysAlloc, n: number, boundary: number): number =>
      (a as unknown as { failed(n: number, b: number): number }).failed(n, boundary);
    const { a } = allocOver(4200, [
      [3, 2],
      [4090, 20],
    ]);
    expect(() => failed(a, 2, 0)).toThrow('alloc: failed to allocate 2 pages although range 3+2 fits');
    expect(() => failed(a, 20, 0)).toThrow('alloc: failed to allocate 20 pages although range 4090+20 fits');
    expect(failed(a, 21, 0)).toBe(NO_MEM);
    // Below a boundary: the range must fit under it, its end at the boundary itself allowed.
    expect(() => failed(a, 6, 4096)).toThrow('although range 4090+20 fits');
    expect(failed(a, 7, 4096)).toBe(NO_MEM);
    const off = allocOver(64, [[3, 2]], { sanity: false }).a;
    expect(failed(off, 2, 0)).toBe(NO_MEM);
  });
});
