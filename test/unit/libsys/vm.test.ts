// The process-side VM calls of src/libsys/vm.ts against the real VM: each wrapper's value on success (an
// address, a physical address, a count, the statistics) and the negative errno VM answers, as a caller sees them.
import { describe, expect, it } from 'vitest';
import { EFAULT, EINVAL, EPERM, OK } from '../../../src/include/errno.ts';
import { DEFAULT_SERVICE_SPEC } from '../../../src/include/priv.ts';
import { MAP_ANON, MAP_PRIVATE, MAP_SHARED, VCTL_MEMSTATS, VR_DIRECT } from '../../../src/include/vm.ts';
import {
  vmCtl,
  vmGetphys,
  vmGetref,
  vmMapPhys,
  vmMmap,
  vmMunmap,
  vmRemap,
  vmShmUnmap,
  vmUnmapPhys,
} from '../../../src/libsys/vm.ts';
import { createSystem } from '../../../src/sim/system.ts';
import type { System } from '../../../src/sim/system.ts';
import { PAGE, drivenActor } from '../../helpers/driven.ts';
import type { Driven } from '../../helpers/driven.ts';

const VIDEO = 0xb8000;

/**
 * A fresh system with two driven services. Made inside each test, not in beforeAll: a mutation run switches
 * a mutant on before beforeAll, and a setup that fails there skips the tests, which counts as survived.
 */
async function world(): Promise<{ sys: System; a: Driven; b: Driven }> {
  const sys = await createSystem({ ramBytes: 16 * 1024 * 1024 });
  // A may map the page of video memory; B no physical memory
  const a = await drivenActor(sys, 'A', {
    priv: { ...DEFAULT_SERVICE_SPEC, physRanges: [{ base: VIDEO, length: PAGE }] },
  });
  const b = await drivenActor(sys, 'B', { priv: DEFAULT_SERVICE_SPEC });
  return { sys, a, b };
}

const bytes = (n: number, seed: number): Uint8Array =>
  Uint8Array.from({ length: n }, (_, i) => (i * 5 + seed) & 0xff);

describe('vmMmap, vmMunmap', () => {
  it('mmap gives a page-aligned address whose memory reads and writes by default; munmap gives OK', async () => {
    const { sys, a } = await world();
    const [at, back, un] = await a.do(async (p) => {
      const x = await vmMmap(p, 0, 2 * PAGE, MAP_ANON | MAP_PRIVATE);
      await p.write(x + 10, bytes(100, 3));
      const r = await p.read(x + 10, 100);
      return [x, r, await vmMunmap(p, x, 2 * PAGE)];
    });
    expect(at).toBeGreaterThan(0);
    expect(at % PAGE).toBe(0);
    expect([...back]).toEqual([...bytes(100, 3)]);
    expect(un).toBe(OK);
    expect(sys.vm.regions(a.ep).some((r) => r.vaddr === at)).toBe(false);
  });

  it("errors come back as VM's negative errno, never as an address", async () => {
    const { a } = await world();
    expect(await a.do((p) => vmMmap(p, 0, 0, MAP_ANON | MAP_PRIVATE))).toBe(EINVAL);
    expect(await a.do((p) => vmMunmap(p, 0x1234, PAGE))).toBe(EFAULT);
  });
});

describe('vmRemap, vmGetphys, vmGetref, vmShmUnmap', () => {
  it('attaches a SHARED region into another process; the count and the physical address follow it', async () => {
    const { sys, a, b } = await world();
    const src = await a.do(async (p) => {
      const x = await vmMmap(p, 0, PAGE, MAP_ANON | MAP_SHARED);
      await p.write(x, bytes(64, 9));
      return x;
    });
    expect(src).toBeGreaterThan(0);
    const phys = await a.do((p) => vmGetphys(p, src));
    expect(phys).toBe(sys.vm.physAddr(a.ep, src));
    expect(await a.do((p) => vmGetref(p, src))).toBe(1);
    const at = await a.do((p) => vmRemap(p, b.ep, a.ep, 0, src, PAGE));
    expect(at).toBeGreaterThan(0);
    expect(at % PAGE).toBe(0);
    expect([...(await b.do((p) => p.read(at, 64)))]).toEqual([...bytes(64, 9)]);
    expect(await a.do((p) => vmGetref(p, src))).toBe(2);
    expect(await b.do((p) => vmGetref(p, at))).toBe(2);
    expect(await a.do((p) => vmGetref(p, at, b.ep))).toBe(2);
    expect(await b.do((p) => vmGetphys(p, src, a.ep))).toBe(phys);
    expect(await b.do((p) => vmGetphys(p, at))).toBe(phys);
    expect(await b.do((p) => vmShmUnmap(p, at))).toBe(OK);
    expect(await a.do((p) => vmGetref(p, src))).toBe(1);
    expect(await b.do((p) => vmShmUnmap(p, at))).toBe(EFAULT);
  });

  it('shm unmap of another endpoint, and the errors of a region that is not SHARED', async () => {
    const { sys, a, b } = await world();
    const src = await a.do((p) => vmMmap(p, 0, PAGE, MAP_ANON | MAP_SHARED));
    const priv = await a.do((p) => vmMmap(p, 0, PAGE, MAP_ANON | MAP_PRIVATE));
    const at = await a.do((p) => vmRemap(p, b.ep, a.ep, 0, src, PAGE));
    expect(await a.do((p) => vmShmUnmap(p, at, b.ep))).toBe(OK);
    expect(sys.vm.regions(b.ep).some((r) => r.vaddr === at)).toBe(false);
    expect(await a.do((p) => vmRemap(p, b.ep, a.ep, 0, priv, PAGE))).toBe(EINVAL);
    expect(await a.do((p) => vmGetphys(p, priv))).toBe(EINVAL);
    expect(await a.do((p) => vmGetref(p, priv))).toBe(EINVAL);
    expect(await a.do((p) => vmShmUnmap(p, priv))).toBe(EFAULT);
  });
});

describe('vmMapPhys, vmUnmapPhys', () => {
  it('maps a physical range the caller may map at a new address, and unmaps it, freeing nothing', async () => {
    const { sys, a } = await world();
    // a first mapping may take a page-table page, kept after the unmap
    expect(await a.do(async (p) => vmUnmapPhys(p, await vmMapPhys(p, VIDEO, PAGE)))).toBe(OK);
    const free = sys.vm.freePages();
    const at = await a.do((p) => vmMapPhys(p, VIDEO, PAGE));
    expect(at).toBeGreaterThan(0);
    expect(at % PAGE).toBe(0);
    expect(sys.vm.physAddr(a.ep, at)).toBe(VIDEO);
    expect((sys.vm.regions(a.ep).find((r) => r.vaddr === at)?.flags ?? 0) & VR_DIRECT).toBe(VR_DIRECT);
    expect(await a.do((p) => vmUnmapPhys(p, at))).toBe(OK);
    expect(sys.vm.regions(a.ep).some((r) => r.vaddr === at)).toBe(false);
    expect(sys.vm.freePages()).toBe(free);
  });

  it('EPERM for a range the caller may not map; EINVAL to unmap what is not a device region', async () => {
    const { a, b } = await world();
    expect(await b.do((p) => vmMapPhys(p, VIDEO, PAGE))).toBe(EPERM);
    expect(await a.do((p) => vmMapPhys(p, VIDEO, PAGE, b.ep))).toBe(EPERM);
    const priv = await a.do((p) => vmMmap(p, 0, PAGE, MAP_ANON | MAP_PRIVATE));
    expect(await a.do((p) => vmUnmapPhys(p, priv))).toBe(EINVAL);
    expect(await a.do((p) => vmUnmapPhys(p, priv, b.ep))).toBe(EINVAL);
  });
});

describe('vmCtl', () => {
  it("VCTL_MEMSTATS gives the whole reply, with VM's free page count; another request EINVAL", async () => {
    const { sys, a } = await world();
    const r = await a.do((p) => vmCtl(p, VCTL_MEMSTATS));
    expect(typeof r).toBe('object');
    if (typeof r === 'number') return;
    expect(r.type).toBe(OK);
    expect(r.freePages).toBe(sys.vm.freePages());
    expect(await a.do((p) => vmCtl(p, 99))).toBe(EINVAL);
  });
});
