// The grant library and the grant kernel-call wrappers of src/libsys/grant.ts in a booted system, as a service
// uses them through p.cpf and p.sys: the table's storage through VM (the old one given back when it grows), each
// sys_* wrapper's fields (offsets, the writable flag, a vector), revocation of a mapped grant, and the bindings.
/* eslint-disable @typescript-eslint/no-deprecated -- the deprecated pre-allocation calls are part of the binding */
import { describe, expect, it } from 'vitest';
import { ANY, SELF } from '../../../src/include/endpoint.ts';
import { ECALLDENIED, EDOM, EINVAL, ENOMEM, ENOSPC, EPERM, OK } from '../../../src/include/errno.ts';
import { kernelCallList } from '../../../src/include/priv.ts';
import type { PrivSpec } from '../../../src/include/priv.ts';
import { SYS_SETGRANT } from '../../../src/include/com.ts';
import {
  CPF_MAP,
  CPF_READ,
  CPF_WRITE,
  GRANT_ENTRY_BYTES,
  encodeScpVector,
} from '../../../src/include/safecopies.ts';
import { PTE } from '../../../src/hw/mmu.ts';
import { extentGrantAllocator } from '../../../src/libsys/grant.ts';
import type { GrantTableAllocator } from '../../../src/libsys/grant.ts';
import { createSystem } from '../../../src/sim/system.ts';
import type { System } from '../../../src/sim/system.ts';
import { PAGE, drivenActor } from '../../helpers/driven.ts';
import type { Driven } from '../../helpers/driven.ts';

/** A fresh system with a granter G and a grantee R (made in each test: see test/unit/libsys/vm.test.ts). */
async function world(): Promise<{ sys: System; g: Driven; r: Driven }> {
  const sys = await createSystem({ ramBytes: 16 * 1024 * 1024 });
  const g = await drivenActor(sys, 'G', { priv: ALL });
  const r = await drivenActor(sys, 'R', { priv: ALL });
  return { sys, g, r };
}

const ALL: PrivSpec = { ipcTo: 'all', kernelCalls: 'all', vmCalls: 'all' };
const bytes = (n: number, seed: number): Uint8Array =>
  Uint8Array.from({ length: n }, (_, i) => (i * 11 + seed) & 0xff);
const regionAt = (sys: System, ep: number, v: number): boolean =>
  sys.vm.regions(ep).some((x) => x.vaddr === v);

describe('grant table storage through VM', () => {
  it('the table lives in mmapped memory; when it grows, the old storage is unmapped', async () => {
    const { sys, g, r } = await world();
    const t2 = await g.do(async (p) => {
      await p.cpf.grantDirect(r.ep, g.buf, 8, CPF_READ);
      return p.cpf.table();
    });
    expect(t2.entries).toBe(2);
    expect(regionAt(sys, g.ep, t2.addr)).toBe(true);
    const t6 = await g.do(async (p) => {
      await p.cpf.grantDirect(r.ep, g.buf, 8, CPF_READ);
      await p.cpf.grantDirect(r.ep, g.buf, 8, CPF_READ);
      return p.cpf.table();
    });
    expect(t6.entries).toBe(6);
    expect(t6.addr).not.toBe(t2.addr);
    expect(regionAt(sys, g.ep, t6.addr)).toBe(true);
    expect(regionAt(sys, g.ep, t2.addr)).toBe(false);
    expect(g.kp.priv.grantTable).toEqual({ addr: t6.addr, entries: 6, registeredBy: g.ep });
  });

  it('a table the kernel will not take (no SYS_SETGRANT): ENOSPC, and the storage is given back', async () => {
    const sys = await createSystem({ ramBytes: 16 * 1024 * 1024 });
    const u = await drivenActor(sys, 'U', { priv: { ipcTo: 'all', kernelCalls: [], vmCalls: 'all' } });
    const before = sys.vm.regions(u.ep).length;
    const g = await u.do((p) => p.cpf.grantDirect(ANY, u.buf, 8, CPF_READ));
    expect(g).toEqual({ id: -1, errno: ENOSPC });
    expect(sys.vm.regions(u.ep).length).toBe(before);
    expect(await u.do((p) => Promise.resolve(p.cpf.table()))).toEqual({ addr: 0, entries: 0 });
  });

  it('an extent allocator reuses what was released, merged with its neighbours', async () => {
    const { g } = await world();
    const ext = extentGrantAllocator(0x1000, 100);
    const got = await g.do(async (p) => {
      const a = await ext.allocate(p, 30);
      const b = await ext.allocate(p, 30);
      const c = await ext.allocate(p, 40);
      const full = await ext.allocate(p, 1);
      await ext.release(p, b, 30);
      await ext.release(p, a, 30);
      const ab = await ext.allocate(p, 60); // fits only if a and b were merged
      await ext.release(p, c, 40);
      await ext.release(p, ab, 60);
      const all = await ext.allocate(p, 100);
      return { a, b, c, full, ab, all };
    });
    expect(got).toEqual({ a: 0x1000, b: 0x1000 + 30, c: 0x1000 + 60, full: -12, ab: 0x1000, all: 0x1000 });
  });
});

describe('the sys_* wrappers', () => {
  it('safecopyfrom/to use the grant offset and the caller address; vsafecopy runs a vector', async () => {
    const { g, r } = await world();
    await g.do((p) => p.write(g.buf, bytes(64, 1)));
    const id = (await g.do((p) => p.cpf.grantDirect(r.ep, g.buf, 64, CPF_READ | CPF_WRITE))).id;
    expect(await r.do((p) => p.sys.safecopyFrom(g.ep, id, 10, r.buf + 3, 20))).toBe(OK);
    expect([...(await r.do((p) => p.read(r.buf + 3, 20)))]).toEqual([...bytes(64, 1).subarray(10, 30)]);
    await r.do((p) => p.write(r.buf + 100, Uint8Array.of(7, 8, 9)));
    expect(await r.do((p) => p.sys.safecopyTo(g.ep, id, 40, r.buf + 100, 3))).toBe(OK);
    expect([...(await g.do((p) => p.read(g.buf + 39, 5)))]).toEqual([
      bytes(64, 1)[39],
      7,
      8,
      9,
      bytes(64, 1)[43],
    ]);
    expect(await r.do((p) => p.sys.safecopyFrom(g.ep, id, 60, r.buf, 5))).toBe(EPERM);
    const vec = encodeScpVector([
      { from: g.ep, to: SELF, gid: id, offset: 0, addr: r.buf + 200, bytes: 4 },
      { from: SELF, to: g.ep, gid: id, offset: 50, addr: r.buf + 100, bytes: 2 },
    ]);
    await r.do((p) => p.write(r.buf + 1000, vec));
    expect(await r.do((p) => p.sys.vsafecopy(r.buf + 1000, 2))).toBe(OK);
    expect([...(await r.do((p) => p.read(r.buf + 200, 4)))]).toEqual([...bytes(64, 1).subarray(0, 4)]);
    expect([...(await g.do((p) => p.read(g.buf + 50, 2)))]).toEqual([7, 8]);
    expect(await r.do((p) => p.sys.vsafecopy(r.buf + 1000, 0))).toBe(EDOM);
  });

  it('safemap read-only or writable; saferevmap by grant and by address; safeunmap', async () => {
    const { sys, g, r } = await world();
    const rwm = CPF_READ | CPF_WRITE | CPF_MAP;
    const id = (await g.do((p) => p.cpf.grantDirect(r.ep, g.buf, 4 * PAGE, rwm))).id;
    await g.do((p) => p.write(g.buf + PAGE, Uint8Array.of(5)));
    const ro = r.buf;
    const rw = r.buf + 2 * PAGE;
    expect(await r.do((p) => p.sys.safemap(g.ep, id, PAGE, ro, PAGE, false))).toBe(OK);
    expect(await r.do((p) => p.sys.safemap(g.ep, id, 2 * PAGE, rw, PAGE, true))).toBe(OK);
    expect(await r.do((p) => p.readU8(ro))).toBe(5);
    expect(sys.vm.pte(r.ep, ro) & PTE.W).toBe(0);
    expect(sys.vm.pte(r.ep, rw) & PTE.W).toBe(PTE.W);
    await r.do((p) => p.writeU8(rw, 6));
    expect(await g.do((p) => p.readU8(g.buf + 2 * PAGE))).toBe(6);
    // by address: the mapping of G's page at g.buf + 2 pages goes; R keeps a private copy
    expect(await g.do((p) => p.sys.saferevmapAddr(g.buf + 2 * PAGE))).toBe(OK);
    await r.do((p) => p.writeU8(rw, 7));
    expect(await g.do((p) => p.readU8(g.buf + 2 * PAGE))).toBe(6);
    // by grant: every mapping made through the grant goes
    await g.do((p) => p.writeU8(g.buf + PAGE, 8));
    expect(await r.do((p) => p.readU8(ro))).toBe(8);
    expect(await g.do((p) => p.sys.saferevmapGid(id))).toBe(OK);
    await g.do((p) => p.writeU8(g.buf + PAGE, 9));
    expect(await r.do((p) => p.readU8(ro))).toBe(8);
    // safeunmap undoes the grantee's own mapping
    const again = (await g.do((p) => p.cpf.grantDirect(r.ep, g.buf, PAGE, rwm))).id;
    expect(await r.do((p) => p.sys.safemap(g.ep, again, 0, rw, PAGE, true))).toBe(OK);
    expect(await r.do((p) => p.sys.safeunmap(rw))).toBe(OK);
    await r.do((p) => p.writeU8(rw, 1));
    expect(await g.do((p) => p.readU8(g.buf))).toBe(0);
  });

  it('revoking a mapped grant breaks its mappings first; the old id then fails', async () => {
    const { g, r } = await world();
    const id = (await g.do((p) => p.cpf.grantDirect(r.ep, g.buf, PAGE, CPF_READ | CPF_MAP))).id;
    expect(await r.do((p) => p.sys.safemap(g.ep, id, 0, r.buf, PAGE, false))).toBe(OK);
    expect(await g.do((p) => p.cpf.revoke(id))).toBe(OK);
    await g.do((p) => p.writeU8(g.buf, 3));
    expect(await r.do((p) => p.readU8(r.buf))).toBe(0);
    expect(await r.do((p) => p.sys.safemap(g.ep, id, 0, r.buf, PAGE, false))).not.toBe(OK);
    expect(await g.do((p) => p.cpf.revoke(id))).toBe(EINVAL);
  });
});

describe('the p.cpf binding', () => {
  it('each call reaches its library function with its arguments in order', async () => {
    const { g, r } = await world();
    const got = await g.do(async (p) => {
      const d = await p.cpf.grantDirect(r.ep, g.buf, 8, CPF_READ);
      const m = await p.cpf.grantMagic(r.ep, ANY, g.buf, 8, CPF_READ);
      const i = await p.cpf.grantIndirect(r.ep, ANY, 5);
      const [pre] = await p.cpf.getgrants(1);
      const lookups = [await p.cpf.lookup(d.id), await p.cpf.lookup(m.id), await p.cpf.lookup(i.id)];
      const sd = await p.cpf.setgrantDirect(pre ?? -1, ANY, g.buf, 4, CPF_WRITE);
      const afterDirect = await p.cpf.lookup(pre ?? -1);
      const sm = await p.cpf.setgrantMagic(pre ?? -1, r.ep, SELF, g.buf, 4, CPF_READ);
      const afterMagic = await p.cpf.lookup(pre ?? -1);
      const si = await p.cpf.setgrantIndirect(pre ?? -1, r.ep, ANY, 3);
      const afterIndirect = await p.cpf.lookup(pre ?? -1);
      const dis = await p.cpf.setgrantDisable(d.id);
      const afterDisable = await p.cpf.lookup(d.id);
      const rev = await p.cpf.revoke(m.id);
      const reload = await p.cpf.reload();
      const set = await p.sys.setgrant(p.cpf.table().addr, p.cpf.table().entries);
      return {
        lookups,
        sd,
        afterDirect,
        sm,
        afterMagic,
        si,
        afterIndirect,
        dis,
        afterDisable,
        rev,
        reload,
        set,
      };
    });
    expect(got.lookups).toEqual([
      { result: OK, from: SELF, to: r.ep },
      { result: OK, from: ANY, to: r.ep },
      { result: EINVAL },
    ]);
    expect(got.afterDirect).toEqual({ result: OK, from: SELF, to: ANY });
    expect(got.afterMagic).toEqual({ result: OK, from: SELF, to: r.ep });
    expect(got.afterIndirect).toEqual({ result: EINVAL });
    expect(got.afterDisable).toEqual({ result: EINVAL });
    expect([got.sd, got.sm, got.si, got.dis, got.rev, got.reload, got.set]).toEqual([
      OK,
      OK,
      OK,
      OK,
      OK,
      OK,
      OK,
    ]);
  });
});

describe('kernel-call wrappers and a throwing kernel', () => {
  it('a synchronous throw comes back as a rejection, an Error kept as it is, anything else wrapped', async () => {
    const { g } = await world();
    const got = await g.do(async (p) => {
      const boom = new Error('boom');
      p.kernelCallResult = () => {
        throw boom;
      };
      let sync = false;
      let pending: Promise<number> | null = null;
      try {
        pending = p.sys.setgrant(0, 0);
      } catch {
        sync = true;
      }
      const first = await pending?.then(
        () => null,
        (e: unknown) => e,
      );
      p.kernelCallResult = () => {
        throw 'text'; // eslint-disable-line @typescript-eslint/only-throw-error -- what a foreign throw may be
      };
      const second = await p.sys.safeunmap(0).then(
        () => null,
        (e: unknown) => e,
      );
      return { sync, same: first === boom, second };
    });
    expect(got.sync).toBe(false);
    expect(got.same).toBe(true);
    expect(got.second).toBeInstanceOf(Error);
    expect((got.second as Error).message).toBe('text');
  });
});

describe('what a grant may cover, and which slot it takes', () => {
  it('a range outside 32 bits or not in whole bytes is EINVAL; the top of the address space is fine', async () => {
    const { g, r } = await world();
    const got = await g.do(async (p) => {
      const errs = [];
      for (const [addr, len] of [
        [-1, 8],
        [1.5, 8],
        [2 ** 32, 8],
        [0, -1],
        [0, 0.5],
        [0, 2 ** 32],
      ] as const) {
        errs.push((await p.cpf.grantDirect(r.ep, addr, len, CPF_READ)).errno);
        errs.push((await p.cpf.grantMagic(r.ep, SELF, addr, len, CPF_READ)).errno);
      }
      const top = (await p.cpf.grantDirect(r.ep, 2 ** 32 - 1, 0, CPF_READ)).errno;
      const zero = (await p.cpf.grantDirect(r.ep, 0, 2 ** 32 - 1, CPF_READ)).errno;
      const [pre] = await p.cpf.getgrants(1);
      const set = await p.cpf.setgrantMagic(pre ?? -1, r.ep, SELF, -1, 8, CPF_READ);
      const setBits = await p.cpf.setgrantMagic(pre ?? -1, r.ep, SELF, 0, 8, 0x1000);
      return { errs, top, zero, set, setBits };
    });
    expect(got.errs).toEqual(new Array(12).fill(EINVAL));
    expect([got.top, got.zero]).toEqual([OK, OK]);
    expect([got.set, got.setBits]).toEqual([EINVAL, EINVAL]);
  });

  it('a revoked low slot is the next one taken', async () => {
    const { g, r } = await world();
    const slots = await g.do(async (p) => {
      const ids = [];
      for (let i = 0; i < 3; i++) ids.push((await p.cpf.grantDirect(r.ep, g.buf, 8, CPF_READ)).id);
      await p.cpf.revoke(ids[0] ?? -1);
      const again = (await p.cpf.grantDirect(r.ep, g.buf, 8, CPF_READ)).id;
      return { ids, again, entries: p.cpf.table().entries };
    });
    // generational ids: slot 0 with its sequence number advanced
    expect(slots.again & 0xfffff).toBe(slots.ids[0]);
    expect(slots.again).not.toBe(slots.ids[0]);
    expect(slots.entries).toBe(6);
  });
});

describe('storage given back, and a revoke that cannot break its mappings', () => {
  it('an extent allocator merges only extents that touch', async () => {
    const { g } = await world();
    const ext = extentGrantAllocator(0x1000, 90);
    const got = await g.do(async (p) => {
      const a = await ext.allocate(p, 30);
      const b = await ext.allocate(p, 30);
      const c = await ext.allocate(p, 30);
      await ext.release(p, a, 30);
      await ext.release(p, c, 30);
      const apart = await ext.allocate(p, 60); // a and c are 30 bytes apart: no room for 60
      await ext.release(p, b, 30);
      const all = await ext.allocate(p, 90);
      return { b, apart, all };
    });
    expect(got).toEqual({ b: 0x1000 + 30, apart: ENOMEM, all: 0x1000 });
  });

  it('a growing table gives back exactly the old storage, and nothing at its first growth', async () => {
    const { g, r } = await world();
    const calls: string[] = [];
    const got = await g.do(async (p) => {
      const ext = extentGrantAllocator(g.buf, 4 * PAGE);
      const recording: GrantTableAllocator = {
        allocate: async (q, n) => {
          const a = await ext.allocate(q, n);
          calls.push(`allocate ${n} -> ${a - g.buf}`);
          return a;
        },
        release: (q, a, n) => {
          calls.push(`release ${a - g.buf} ${n}`);
          return ext.release(q, a, n);
        },
      };
      p.cpf.setAllocator(recording);
      for (let i = 0; i < 3; i++) await p.cpf.grantDirect(r.ep, g.buf, 8, CPF_READ);
      return p.cpf.table();
    });
    const E = GRANT_ENTRY_BYTES;
    expect(calls).toEqual([`allocate ${2 * E} -> 0`, `allocate ${6 * E} -> ${2 * E}`, `release 0 ${2 * E}`]);
    expect(got).toEqual({ addr: g.buf + 2 * E, entries: 6 });
  });

  it('revoking a MAP grant without SYS_SAFEREVMAP: ECALLDENIED, and the grant stays valid', async () => {
    const sys = await createSystem({ ramBytes: 16 * 1024 * 1024 });
    const u = await drivenActor(sys, 'U', {
      priv: { ipcTo: 'all', kernelCalls: kernelCallList(SYS_SETGRANT), vmCalls: 'all' },
    });
    const r = await drivenActor(sys, 'R', { priv: ALL });
    const got = await u.do(async (p) => {
      const id = (await p.cpf.grantDirect(r.ep, u.buf, PAGE, CPF_READ | CPF_MAP)).id;
      const revoked = await p.cpf.revoke(id);
      const lookup = await p.cpf.lookup(id);
      return { revoked, lookup };
    });
    expect(got).toEqual({ revoked: ECALLDENIED, lookup: { result: OK, from: SELF, to: r.ep } });
  });

  it('getgrants after a revoke gives the slot under its advanced sequence number', async () => {
    const { g, r } = await world();
    const got = await g.do(async (p) => {
      const old = (await p.cpf.grantDirect(r.ep, g.buf, 8, CPF_READ)).id;
      await p.cpf.revoke(old);
      const [pre] = await p.cpf.getgrants(1);
      const set = await p.cpf.setgrantDirect(pre ?? -1, r.ep, g.buf, 8, CPF_READ);
      return { old, pre, set };
    });
    expect(got.pre).not.toBe(got.old);
    expect((got.pre ?? -1) & 0xfffff).toBe(got.old);
    expect(got.set).toBe(OK);
  });
});
