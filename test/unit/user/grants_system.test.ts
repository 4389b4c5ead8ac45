// Grants against the real VM server, between system services started through RS (checklist items 28, 34, 36,
// 37, 48, 49, 51, 55 of spec/grants.md §8). Each test boots a system with per-function sanity checks and runs
// the kernel's and VM's checkers after every step.
import { describe, expect, it } from 'vitest';
import { VMPTYPE_COWMAP, VMPTYPE_SUNMAP } from '../../../src/include/com.ts';
import { EFAULT, OK } from '../../../src/include/errno.ts';
import { ANY } from '../../../src/include/endpoint.ts';
import { CPF_MAP, CPF_READ, CPF_WRITE } from '../../../src/include/safecopies.ts';
import { kwalk } from '../../../src/kernel/memory.ts';
import { safemapRecords } from '../../../src/kernel/system/do_safemap.ts';
import { createSystem } from '../../../src/sim/system.ts';
import type { System } from '../../../src/sim/system.ts';
import { releaseChild } from '../../../src/user/safetest.ts';
import { PAGE, drivenActor } from '../../helpers/driven.ts';
import type { Driven } from '../../helpers/driven.ts';
import { pattern } from '../../helpers/bytes.ts';

const RW = CPF_READ | CPF_WRITE;
const RWM = CPF_READ | CPF_WRITE | CPF_MAP;
const fill = (n: number, byte: number): Uint8Array => new Uint8Array(n).fill(byte);

async function boot(cow = true): Promise<System> {
  return createSystem({ sanity: 'functions', cowSafecopy: cow });
}

const checked = (sys: System): void => {
  sys.sanityCheck();
};

async function grant(s: Driven, to: number, offset: number, len: number, access: number): Promise<number> {
  const g = await s.do((p) => p.cpf.grantDirect(to, s.buf + offset, len, access));
  expect(g.errno).toBe(OK);
  return g.id;
}

/** Physical page of v in s (-1 if absent) and whether s may write it, as the kernel's walk sees it. */
function frameOf(sys: System, s: Driven, v: number): { pa: number; writable: boolean } {
  const pa = kwalk(sys.kernel, s.kp, v, false);
  return { pa: pa < 0 ? -1 : pa - (pa % PAGE), writable: kwalk(sys.kernel, s.kp, v, true) >= 0 };
}

const vmreqs = (sys: System, type: number): number =>
  sys.trace.filter((e) => e.kind === 'vmreq' && e.op === 'post' && e.reqType === type).length;

describe('28: safecopy into a read-only safemapped page', () => {
  for (const cow of [false, true]) {
    it(`EFAULT and no byte changes on either side (cow ${cow})`, async () => {
      const sys = await boot(cow);
      const g = await drivenActor(sys, 'G');
      const r = await drivenActor(sys, 'R');
      await g.do((p) => p.write(g.buf, fill(2 * PAGE, 20)));
      const gro = await grant(g, r.ep, 0, PAGE, CPF_READ | CPF_MAP);
      const src = await grant(g, r.ep, PAGE, PAGE, CPF_READ);
      expect(await r.do((p) => p.sys.safemap(g.ep, gro, 0, r.buf, PAGE, false))).toBe(OK);
      await g.do((p) => p.write(g.buf + PAGE, fill(PAGE, 55)));
      for (const n of [16, PAGE]) {
        expect(await r.do((p) => p.sys.safecopyFrom(g.ep, src, 0, r.buf, n))).toBe(EFAULT);
        checked(sys);
      }
      expect([...new Set(await r.do((p) => p.read(r.buf, PAGE)))]).toEqual([20]);
      expect([...new Set(await g.do((p) => p.read(g.buf, PAGE)))]).toEqual([20]);
      expect(safemapRecords(sys.kernel)).toHaveLength(1);
    });
  }
});

describe('34: the COW path is taken iff the offsets are congruent mod 4096 and a whole page is covered', () => {
  // shared: the destination pages (index from the buffer start) expected to share the source's block.
  const cases = [
    { name: 'aligned, one page', s: 0, d: 0, n: PAGE, shared: [0] },
    { name: 'aligned, one byte short of a page', s: 0, d: 0, n: PAGE - 1, shared: [] },
    { name: 'congruent 100, two pages: the middle page', s: 100, d: 100, n: 2 * PAGE, shared: [1] },
    { name: 'offsets 100 and 101', s: 100, d: 101, n: 3 * PAGE, shared: [] },
    { name: 'aligned, three pages', s: PAGE, d: 0, n: 3 * PAGE, shared: [0, 1, 2] },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const sys = await boot(true);
      const g = await drivenActor(sys, 'G', { pages: 16 });
      const r = await drivenActor(sys, 'R', { pages: 16 });
      await g.do((p) => p.write(g.buf, pattern(8 * PAGE, 3)));
      const id = await grant(g, r.ep, 0, 8 * PAGE, CPF_READ);
      const before = vmreqs(sys, VMPTYPE_COWMAP);
      expect(await r.do((p) => p.sys.safecopyFrom(g.ep, id, c.s, r.buf + c.d, c.n))).toBe(OK);
      expect(vmreqs(sys, VMPTYPE_COWMAP) - before).toBe(c.shared.length > 0 ? 1 : 0);
      checked(sys);
      expect([...(await r.do((p) => p.read(r.buf + c.d, c.n)))]).toEqual([
        ...pattern(8 * PAGE, 3).subarray(c.s, c.s + c.n),
      ]);
      // Every destination page: shared (same frame, refcount 2, read-only in both) iff it is a whole COW page.
      const firstPage = r.buf + c.d - ((r.buf + c.d) % PAGE);
      for (let v = firstPage; v < r.buf + c.d + c.n; v += PAGE) {
        const rel = v - r.buf - c.d + c.s;
        const dst = frameOf(sys, r, v);
        const src = frameOf(sys, g, g.buf + rel);
        const ref = sys.vm.refAt(r.ep, v)?.refcount;
        const where = `${c.name}: destination page ${(v - r.buf) / PAGE} ${JSON.stringify({ dst, src, ref })}`;
        if (c.shared.includes((v - r.buf) / PAGE)) {
          expect(dst.pa, where).toBe(src.pa);
          expect(ref, where).toBe(2);
          expect(dst.writable || src.writable, where).toBe(false);
        } else {
          expect(dst.pa, where).not.toBe(src.pa);
        }
      }
    });
  }
});

describe('36/37: COW safecopy meets safemap', () => {
  it('36: a COW source page that is SMAP-shared is copied; later writes through the mapping do not reach the copy', async () => {
    const sys = await boot(true);
    const g = await drivenActor(sys, 'G');
    const m = await drivenActor(sys, 'M');
    const r = await drivenActor(sys, 'R');
    await g.do((p) => p.write(g.buf, fill(PAGE, 1)));
    const gm = await grant(g, m.ep, 0, PAGE, RWM);
    const gr = await grant(g, r.ep, 0, PAGE, CPF_READ);
    expect(await m.do((p) => p.sys.safemap(g.ep, gm, 0, m.buf, PAGE, true))).toBe(OK);
    expect(await r.do((p) => p.sys.safecopyFrom(g.ep, gr, 0, r.buf, PAGE))).toBe(OK);
    checked(sys);
    expect(frameOf(sys, r, r.buf).pa).not.toBe(frameOf(sys, g, g.buf).pa);
    expect(frameOf(sys, m, m.buf).pa).toBe(frameOf(sys, g, g.buf).pa);
    await m.do((p) => p.write(m.buf, fill(PAGE, 7)));
    expect((await g.do((p) => p.read(g.buf, PAGE)))[100]).toBe(7);
    await g.do((p) => p.writeU8(g.buf + 5, 9));
    expect((await m.do((p) => p.read(m.buf, 8)))[5]).toBe(9);
    expect([...new Set(await r.do((p) => p.read(r.buf, PAGE)))]).toEqual([1]);
    checked(sys);
  });

  for (const cow of [false, true]) {
    it(`37: a safecopy into a safemap grantee range reaches the mapping's owner (cow ${cow})`, async () => {
      const sys = await boot(cow);
      const o = await drivenActor(sys, 'O');
      const g = await drivenActor(sys, 'G');
      const r = await drivenActor(sys, 'R');
      await o.do((p) => p.write(o.buf, fill(2 * PAGE, 4)));
      await g.do((p) => p.write(g.buf, pattern(2 * PAGE, 8)));
      const om = await grant(o, r.ep, 0, 2 * PAGE, RWM);
      const gs = await grant(g, r.ep, 0, 2 * PAGE, CPF_READ);
      expect(await r.do((p) => p.sys.safemap(o.ep, om, 0, r.buf, 2 * PAGE, true))).toBe(OK);
      expect(await r.do((p) => p.sys.safecopyFrom(g.ep, gs, 0, r.buf, 2 * PAGE))).toBe(OK);
      checked(sys);
      const want = [...pattern(2 * PAGE, 8)];
      expect([...(await o.do((p) => p.read(o.buf, 2 * PAGE)))]).toEqual(want);
      expect([...(await r.do((p) => p.read(r.buf, 2 * PAGE)))]).toEqual(want);
      // Still one shared page between owner and grantee; the source is on its own.
      await g.do((p) => p.write(g.buf, fill(PAGE, 0xcc)));
      await o.do((p) => p.writeU8(o.buf, 0x31));
      expect(await r.do((p) => p.readU8(r.buf))).toBe(0x31);
      expect(await r.do((p) => p.readU8(r.buf + 1))).toBe(want[1]);
      checked(sys);
    });
  }
});

describe('48/49: exits under the real VM', () => {
  for (const cow of [false, true]) {
    it(`48: the owner exits; the grantee keeps the last contents, may write them, and safeunmap → OK (cow ${cow})`, async () => {
      const sys = await boot(cow);
      const g = await drivenActor(sys, 'G');
      const r = await drivenActor(sys, 'R');
      const id = await grant(g, r.ep, 0, 2 * PAGE, RWM);
      expect(await r.do((p) => p.sys.safemap(g.ep, id, 0, r.buf, 2 * PAGE, true))).toBe(OK);
      await g.do((p) => p.write(g.buf, fill(2 * PAGE, 0x42)));
      expect(sys.kill(g.ep)).toBe(true);
      await sys.run();
      expect(g.alive()).toBe(false);
      expect(safemapRecords(sys.kernel)).toHaveLength(0);
      checked(sys);
      expect([...new Set(await r.do((p) => p.read(r.buf, 2 * PAGE)))]).toEqual([0x42]);
      await r.do((p) => p.write(r.buf + PAGE, fill(PAGE, 0x43)));
      expect(await r.do((p) => p.readU8(r.buf + PAGE + 77))).toBe(0x43);
      expect(await r.do((p) => p.readU8(r.buf))).toBe(0x42);
      expect(await r.do((p) => p.sys.safeunmap(r.buf))).toBe(OK);
      checked(sys);
    });
  }

  it('49: the grantee exits; its records go and the owner’s saferevmap_gid → OK without a VM request', async () => {
    const sys = await boot(true);
    const g = await drivenActor(sys, 'G');
    const r = await drivenActor(sys, 'R');
    const id = await grant(g, r.ep, 0, PAGE, RWM);
    expect(await r.do((p) => p.sys.safemap(g.ep, id, 0, r.buf, PAGE, true))).toBe(OK);
    await r.do((p) => p.writeU8(r.buf, 0x55));
    expect(safemapRecords(sys.kernel)).toHaveLength(1);
    expect(sys.kill(r.ep)).toBe(true);
    await sys.run();
    expect(safemapRecords(sys.kernel)).toHaveLength(0);
    const sunmaps = vmreqs(sys, VMPTYPE_SUNMAP);
    expect(await g.do((p) => p.sys.saferevmapGid(id))).toBe(OK);
    expect(await g.do((p) => p.cpf.revoke(id))).toBe(OK);
    expect(vmreqs(sys, VMPTYPE_SUNMAP)).toBe(sunmaps);
    expect(await g.do((p) => p.readU8(g.buf))).toBe(0x55);
    await g.do((p) => p.writeU8(g.buf, 0x56));
    expect(await g.do((p) => p.readU8(g.buf))).toBe(0x56);
    checked(sys);
  });
});

describe('51/55: fork and safemap', () => {
  it('51: an owner page left read-only by an earlier fork becomes SMAP-shared; the owner’s next write succeeds', async () => {
    const sys = await boot(true);
    const g = await drivenActor(sys, 'G');
    const r = await drivenActor(sys, 'R');
    await g.do((p) => p.write(g.buf, fill(PAGE, 1)));
    const status = await g.do(async (p) => {
      const child = await p.fork(async (c) => c.readU8(g.buf), 'G-child');
      await releaseChild(p, child);
      return (await p.wait()).code;
    });
    expect(status).toBe(1);
    const id = await grant(g, r.ep, 0, PAGE, RWM);
    expect(await r.do((p) => p.sys.safemap(g.ep, id, 0, r.buf, PAGE, true))).toBe(OK);
    await g.do((p) => p.writeU8(g.buf, 2));
    expect(g.alive()).toBe(true);
    expect(await r.do((p) => p.readU8(r.buf))).toBe(2);
    await r.do((p) => p.writeU8(r.buf + 1, 3));
    expect(await g.do((p) => p.readU8(g.buf + 1))).toBe(3);
    checked(sys);
  });

  it('55: the owner forks while mapped; the child gets a snapshot, owner and grantee stay live-shared', async () => {
    const sys = await boot(true);
    const g = await drivenActor(sys, 'G');
    const r = await drivenActor(sys, 'R');
    const id = await grant(g, ANY, 0, PAGE, RWM);
    expect(await r.do((p) => p.sys.safemap(g.ep, id, 0, r.buf, PAGE, true))).toBe(OK);
    await g.do((p) => p.writeU8(g.buf, 1));
    const child = await g.do((p) => p.fork(async (c) => c.readU8(g.buf), 'G-child'));
    expect(child).toBeGreaterThan(0);
    checked(sys);
    await g.do((p) => p.writeU8(g.buf, 2));
    expect(await r.do((p) => p.readU8(r.buf))).toBe(2);
    await r.do((p) => p.writeU8(r.buf, 3));
    expect(await g.do((p) => p.readU8(g.buf))).toBe(3);
    const w = await g.do(async (p) => {
      await releaseChild(p, child);
      return p.wait();
    });
    expect(w).toMatchObject({ endpoint: child, code: 1, signal: 0 });
    checked(sys);
  });
});

describe('RW grant sanity', () => {
  it('a plain READ|WRITE grant copies both ways between two RS services', async () => {
    const sys = await boot(true);
    const g = await drivenActor(sys, 'G');
    const r = await drivenActor(sys, 'R');
    const id = await grant(g, r.ep, 0, PAGE, RW);
    await r.do((p) => p.write(r.buf, fill(PAGE, 9)));
    expect(await r.do((p) => p.sys.safecopyTo(g.ep, id, 0, r.buf, PAGE))).toBe(OK);
    expect(await g.do((p) => p.readU8(g.buf + 4095))).toBe(9);
  });
});
