// The boot image layout (src/sim/boot.ts) and the memory hole (spec/vm.md §12.3): images never reach into
// 640 KiB–1 MiB, the kernel must end below it, and a booted system never hands out a page of it.
import { describe, expect, it } from 'vitest';
import { MEM_HOLE_BASE, MEM_HOLE_END } from '../../../src/include/vm.ts';
import { bootTable, layoutBootImage } from '../../../src/sim/boot.ts';
import { resolveConfig } from '../../../src/sim/config.ts';
import { createSystem } from '../../../src/sim/system.ts';

const PAGE = 4096;
const MiB = 1024 * 1024;

describe('boot image layout', () => {
  it('the default images lie below the hole; bigger ones skip it and go on at 1 MiB', () => {
    const small = layoutBootImage(bootTable(), 64 * MiB, 128 * 1024, 100);
    expect(
      small.procs.every((b) => b.base + (b.textPages + b.dataPages + b.stackPages) * PAGE <= MEM_HOLE_BASE),
    ).toBe(true);
    const big = layoutBootImage(bootTable(), 64 * MiB, 500 * 1024, 100);
    const inHole = big.procs.filter((b) => {
      const end = b.base + (b.textPages + b.dataPages + b.stackPages) * PAGE;
      return end > MEM_HOLE_BASE && b.base < MEM_HOLE_END;
    });
    expect(inHole.filter((b) => b.textPages + b.dataPages + b.stackPages > 0)).toEqual([]);
    expect(big.procs.some((b) => b.base === MEM_HOLE_END)).toBe(true);
  });

  it('the kernel must end below the hole: kernelBytes above 636 KiB is a config problem', () => {
    expect(resolveConfig({ kernelBytes: 636 * 1024 }).problems).toEqual([]);
    expect(resolveConfig({ kernelBytes: 636 * 1024 + PAGE }).problems.join()).toMatch(/kernelBytes/);
  });

  it('a system whose images straddle the hole boots and keeps the hole reserved', async () => {
    const sys = await createSystem({ ramBytes: 16 * MiB, kernelBytes: 500 * 1024, sanity: 'top' });
    sys.sanityCheck();
    const m = sys.inspect().vm.memory;
    expect(m.freePages + m.usedPages).toBe(m.totalPages);
    const holePages = (MEM_HOLE_END - MEM_HOLE_BASE) / PAGE;
    expect(m.reservedPages).toBeGreaterThanOrEqual(holePages + 1 + 125);
    for (const r of sys.inspect().vm.freeRanges)
      expect(r.addr + r.pages <= MEM_HOLE_BASE / PAGE || r.addr >= MEM_HOLE_END / PAGE).toBe(true);
  });
});
