// Sanity level 'detail' checks VM's tables in the middle of fork: the checkpoint must come once the child is
// committed (parent write-protected), not between building the child and sys_fork, when the parent's PTEs still
// allow writes to the blocks it now shares. Found by `grantvm fuzz --sanity detail` (every RS service start forks).
import { describe, expect, it } from 'vitest';
import { createSystem } from '../../../../src/sim/system.ts';

describe("VM fork at sanity 'detail'", () => {
  it('a process forks, both sides write their copy, and every checkpoint holds', async () => {
    const sys = await createSystem({ sanity: 'detail', trace: null });
    const addr = 0x19000000 + 4 * 4096; // the first data page of a spawned image
    const seen: number[] = [];
    const h = sys.spawn(async (p) => {
      await p.writeU32(addr, 1);
      const child = await p.fork(async (c) => {
        await c.writeU32(addr, 2);
        seen.push(await c.readU32(addr));
      });
      expect(child).toBeGreaterThan(0);
      await p.wait();
      seen.push(await p.readU32(addr));
    });
    await sys.run();
    expect(sys.panicked).toBeNull();
    expect(h.exit).toEqual({ code: 0, signal: 0 });
    expect(seen).toEqual([2, 1]);
    sys.sanityCheck();
  });
});
