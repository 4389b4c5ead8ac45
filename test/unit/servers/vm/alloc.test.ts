import { describe, expect, it } from 'vitest';
import { NO_MEM, PAF_ALIGN64K, PAF_LOWER16MB, PAF_LOWER1MB } from '../../../../src/include/vm.ts';
import { Panic } from '../../../../src/lib/assert.ts';
import { PhysMem } from '../../../../src/hw/physmem.ts';
import { PhysAlloc } from '../../../../src/servers/vm/alloc.ts';
import { unitVm } from './helpers.ts';

describe('VM free list (alloc.c)', () => {
  it('§11.1 after boot free + used = RAM, the detail check passes, page 0 is never handed out', () => {
    const u = unitVm({ sanity: 'detail' });
    u.state.sanityCheck();
    expect(u.state.freePages() + u.state.usedPages()).toBe(u.state.totalPages);
    const got = new Set<number>();
    for (;;) {
      const f = u.vm.alloc.allocPages(1, 0);
      if (f === NO_MEM) break;
      got.add(f);
    }
    expect(got.has(0)).toBe(false);
    // The memory hole 640 KiB–1 MiB (pages 160-255) is never handed out (vm.md §12.3).
    expect([...got].some((f) => f >= 160 && f < 256)).toBe(false);
    expect(u.vm.alloc.freeCount).toBe(0);
  });

  it('§11.2 single pages come from the top, highest first', () => {
    const u = unitVm();
    const top = Math.max(...u.state.freeRanges().map((r) => r.addr + r.size - 1));
    expect(u.vm.alloc.allocPages(1, 0)).toBe(top);
    expect(u.vm.alloc.allocPages(1, 0)).toBe(top - 1);
  });

  it('§11.3 LOWER16MB takes the bottom of the lowest fitting range and never crosses 16 MiB', () => {
    const u = unitVm({ ramMiB: 32 });
    const low = u.state.freeRanges()[0];
    if (low === undefined) throw new Error('no free range');
    expect(u.vm.alloc.allocPages(2, PAF_LOWER16MB)).toBe(low.addr);
    // Take everything below 16 MiB except a range that straddles the boundary.
    const a = u.vm.alloc;
    const big = a.ranges().find((r) => r.addr < 4096 && r.addr + r.size > 4096);
    if (big === undefined) throw new Error('expected a range across 16 MiB');
    // Remove every range below it, so the lowest fitting range straddles the boundary.
    for (const r of a.ranges()) if (r.addr < big.addr) expect(a.allocPages(r.size, PAF_LOWER16MB)).toBe(r.addr);
    const below = 4096 - big.addr;
    expect(a.allocPages(below + 1, PAF_LOWER16MB)).toBe(NO_MEM);
    expect(a.allocPages(below, PAF_LOWER16MB)).toBe(big.addr);
    expect(a.freeCount).toBeGreaterThan(1000);
  });

  it('§11.4 LOWER1MB takes the bottom of the lowest fitting range and never reaches past 640 KiB after boot', () => {
    const u = unitVm();
    const a = u.vm.alloc;
    const r0 = a.ranges()[0];
    if (r0 === undefined) throw new Error('no range');
    expect(a.allocPages(1, PAF_LOWER1MB)).toBe(r0.addr);
    // The memory hole (pages 160-255) never enters the pool: no free range reaches into it (vm.md §12.3).
    expect(a.ranges().every((r) => r.addr + r.size <= 160 || r.addr >= 256)).toBe(true);
    const low = a.ranges().filter((r) => r.addr < 256);
    const largest = low.reduce((m, r) => (r.size > m.size ? r : m));
    // More than any range below 640 KiB holds: ENOMEM, though megabytes are free above 1 MiB.
    expect(a.allocPages(largest.size + 1, PAF_LOWER1MB)).toBe(NO_MEM);
    expect(a.allocPages(largest.size, PAF_LOWER1MB)).toBe(largest.addr);
    // Pages taken behind VM's back: the conservation check notices them.
    expect(() => u.state.sanityCheck()).toThrow(/E16/);
  });

  it('§11.4 LOWER1MB never crosses 1 MiB: a range straddling it gives only the pages below', () => {
    const a = new PhysAlloc(512, new PhysMem(2 * 1024 * 1024), { sanity: true, shouldFail: () => false });
    a.addBootRange(200, 100);
    expect(a.allocPages(57, PAF_LOWER1MB)).toBe(NO_MEM);
    expect(a.allocPages(56, PAF_LOWER1MB)).toBe(200);
    expect(a.freeCount).toBe(44);
  });

  it('§11.5 ALIGN64K gives a 64 KiB-aligned base and lowers the free count by exactly n', () => {
    const u = unitVm();
    for (const flags of [PAF_ALIGN64K, PAF_ALIGN64K | PAF_LOWER16MB]) {
      for (const n of [1, 3, 16, 17]) {
        const before = u.vm.alloc.freeCount + u.state.slabStats().pages;
        const f = u.vm.alloc.allocPages(n, flags);
        expect(f % 16).toBe(0);
        expect(u.vm.alloc.freeCount + u.state.slabStats().pages).toBe(before - n);
        u.vm.alloc.freePages(f, n);
      }
    }
    u.state.sanityCheck();
  });

  it('§11.6 freeing adjacent ranges coalesces; a double free panics', () => {
    const u = unitVm();
    const a = u.vm.alloc;
    const ranges = a.rangeCount;
    const x = a.allocPages(4, 0);
    const y = a.allocPages(4, 0);
    expect(y).toBe(x - 4);
    a.freePages(y, 4);
    a.freePages(x, 4);
    expect(a.rangeCount).toBe(ranges);
    expect(() => a.freePages(x, 1)).toThrow(/double free/);
    expect(() => a.freePages(0, 1)).toThrow(Panic);
  });

  it('freeing never fails: with no node available the freed page becomes a slab page', () => {
    const u = unitVm({ sparePages: 0 });
    const a = u.vm.alloc;
    const taken: number[] = [];
    for (;;) {
      const f = a.allocPages(1, 0);
      if (f === NO_MEM) break;
      taken.push(f);
    }
    // Fill every avlNode slot so the next non-adjacent free needs a new slab page and there is none.
    while (u.vm.slab.allocNode()) {
      /* drain */
    }
    const nodePagesBefore = u.state.slabStats().byClass.avlNode.pages;
    const p1 = taken[10] ?? 0;
    a.freePages(p1, 1);
    expect(u.state.slabStats().byClass.avlNode.pages).toBe(nodePagesBefore + 1);
    expect(a.isFree(p1)).toBe(false);
  });

  it('with sanity on, freed pages are poisoned', () => {
    const u = unitVm();
    const f = u.vm.alloc.allocPages(2, 0);
    u.vm.alloc.freePages(f, 2);
    expect(u.mem.isPoisoned(f * 4096, 2 * 4096)).toBe(true);
  });
});
