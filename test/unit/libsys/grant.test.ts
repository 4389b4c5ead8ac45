/* eslint-disable @typescript-eslint/no-deprecated -- these tests exercise the deprecated pre-allocation API (spec §3.4) */
// The grant library (spec/grants.md §3.4) and grant ids (§3.3): checklist items 1-11.
import { describe, expect, it } from 'vitest';
import { grantWorld, MiB } from '../../helpers/grantworld.ts';
import { ANY, SELF } from '../../../src/include/endpoint.ts';
import { ECALLDENIED, EINVAL, ENOSPC, EPERM, OK } from '../../../src/include/errno.ts';
import {
  CPF_MAP,
  CPF_READ,
  CPF_USED,
  CPF_VALID,
  CPF_WRITE,
  GRANT_ENTRY_BYTES,
  GRANT_MAX_ENTRIES,
  encodeGrantEntry,
} from '../../../src/include/safecopies.ts';
import { SYS_SETGRANT } from '../../../src/include/com.ts';
import { makeSystemPriv } from '../../../src/kernel/priv.ts';
import { RTS } from '../../../src/kernel/proc.ts';
import { doSetgrant } from '../../../src/kernel/system/do_setgrant.ts';
import { cpfTable, extentGrantAllocator as extentAllocatorAt } from '../../../src/libsys/grant.ts';

function pair(config: Parameters<typeof grantWorld>[0] = {}) {
  const w = grantWorld(config);
  const g = w.actor(20, 'G');
  const r = w.actor(21, 'R');
  return { ...w, g, r };
}

const fill = (n: number, byte: number): Uint8Array => new Uint8Array(n).fill(byte);

describe('grant library: table growth and ids', () => {
  it('1: first grant is id 0 with a 2-entry table; the 3rd grows it to 6, the 7th to 14', async () => {
    const { k, g, r } = pair();
    const ids: number[] = [];
    const sizes: number[] = [];
    await g.do(async (p) => {
      for (let i = 0; i < 7; i++) {
        ids.push((await p.cpf.grantDirect(r.ep, g.base, 16, CPF_READ)).id);
        sizes.push(k.procAt(20).priv.grantTable?.entries ?? 0);
      }
    });
    expect(ids).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(sizes).toEqual([2, 2, 6, 6, 6, 6, 14]);
    expect(g.kp.priv.grantTable?.registeredBy).toBe(g.ep);
    // Observable from outside: slot 6 (the 7th grant) works, slot 14 is beyond the 14-entry table (EPERM).
    const res = await r.do(async (p) => [
      await p.sys.safecopyFrom(g.ep, 6, 0, r.base, 4),
      await p.sys.safecopyFrom(g.ep, 14, 0, r.base, 4),
    ]);
    expect(res).toEqual([OK, EPERM]);
  });

  it('growth continues 30, 62, 126 and keeps every entry', async () => {
    const { g, r } = pair();
    g.poke(g.base, Uint8Array.from([1, 2, 3, 4]));
    const sizes = await g.do(async (p) => {
      const s: number[] = [];
      for (let i = 0; i < 63; i++) {
        await p.cpf.grantDirect(r.ep, g.base, 4, CPF_READ);
        s.push(p.cpf.table().entries);
      }
      return [...new Set(s)];
    });
    expect(sizes).toEqual([2, 6, 14, 30, 62, 126]);
    expect(await r.do((p) => p.sys.safecopyFrom(g.ep, 0, 0, r.base, 4))).toBe(OK);
    expect(await r.do((p) => p.sys.safecopyFrom(g.ep, 62, 0, r.base + 8, 4))).toBe(OK);
    expect([...r.peek(r.base, 12)]).toEqual([1, 2, 3, 4, 0, 0, 0, 0, 1, 2, 3, 4]);
  });

  it('2: access bits outside READ|WRITE|MAP → -1, EINVAL', async () => {
    const { g, r } = pair();
    expect(await g.do((p) => p.cpf.grantDirect(r.ep, g.base, 16, 0x8))).toEqual({ id: -1, errno: EINVAL });
    expect(await g.do((p) => p.cpf.grantMagic(r.ep, r.ep, g.base, 16, 0x100))).toEqual({ id: -1, errno: EINVAL });
  });

  it('3: a MAP grant must cover whole pages; no slot is consumed by the refusal', async () => {
    const { g, r } = pair();
    const res = await g.do(async (p) => [
      await p.cpf.grantDirect(r.ep, g.base + 1, 4096, CPF_READ | CPF_MAP),
      await p.cpf.grantDirect(r.ep, g.base, 4095, CPF_READ | CPF_MAP),
      await p.cpf.grantDirect(r.ep, g.base, 4096, CPF_READ | CPF_MAP),
    ]);
    expect(res).toEqual([
      { id: -1, errno: EINVAL },
      { id: -1, errno: EINVAL },
      { id: 0, errno: OK },
    ]);
  });

  it('4: legacy ids: a revoked id is handed out again and the old holder reaches the new grant', async () => {
    const { g, r } = pair({ grantIds: 'legacy' });
    g.poke(g.base, fill(8, 0xaa));
    g.poke(g.base + 0x100, fill(8, 0xbb));
    const a = await g.do((p) => p.cpf.grantDirect(r.ep, g.base, 8, CPF_READ));
    expect(a.id).toBe(0);
    expect(await g.do((p) => p.cpf.revoke(a.id))).toBe(OK);
    const b = await g.do((p) => p.cpf.grantDirect(r.ep, g.base + 0x100, 8, CPF_READ));
    expect(b.id).toBe(0);
    expect(await r.do((p) => p.sys.safecopyFrom(g.ep, a.id, 0, r.base, 8))).toBe(OK);
    expect([...r.peek(r.base, 8)]).toEqual([...fill(8, 0xbb)]);
  });

  it('5: generational ids: the reissued slot has id 1<<20; the old id fails with EPERM, revoking it EINVAL', async () => {
    const { g, r } = pair();
    g.poke(g.base, fill(8, 0xaa));
    g.poke(g.base + 0x100, fill(8, 0xbb));
    const a = await g.do((p) => p.cpf.grantDirect(r.ep, g.base, 8, CPF_READ));
    expect(await g.do((p) => p.cpf.revoke(a.id))).toBe(OK);
    const b = await g.do((p) => p.cpf.grantDirect(r.ep, g.base + 0x100, 8, CPF_READ));
    expect(b.id).toBe(1048576);
    r.poke(r.base, fill(8, 0x11));
    expect(await r.do((p) => p.sys.safecopyFrom(g.ep, a.id, 0, r.base, 8))).toBe(EPERM);
    expect([...r.peek(r.base, 8)]).toEqual([...fill(8, 0x11)]);
    expect(await g.do((p) => p.cpf.revoke(0))).toBe(EINVAL);
    expect(await r.do((p) => p.sys.safecopyFrom(g.ep, b.id, 0, r.base, 8))).toBe(OK);
    expect([...r.peek(r.base, 8)]).toEqual([...fill(8, 0xbb)]);
  });

  it('6: after 2048 revoke/regrant cycles slot 0 has its first id again', async () => {
    const { g, r } = pair();
    const ids = await g.do(async (p) => {
      const out: number[] = [];
      for (let i = 0; i <= 2048; i++) {
        const { id } = await p.cpf.grantDirect(r.ep, g.base, 8, CPF_READ);
        out.push(id);
        expect(await p.cpf.revoke(id)).toBe(OK);
      }
      return out;
    });
    expect(ids[0]).toBe(0);
    expect(ids[1]).toBe(1 << 20);
    expect(ids[2047]).toBe((2047 << 20) | 0);
    expect(ids[2048]).toBe(0);
    expect(new Set(ids.slice(0, 2048)).size).toBe(2048);
  });

  it('7: revoke of an unused, out-of-range or malformed id → EINVAL', async () => {
    const { g, r } = pair();
    const res = await g.do(async (p) => {
      await p.cpf.grantDirect(r.ep, g.base, 8, CPF_READ);
      return [await p.cpf.revoke(1), await p.cpf.revoke(2), await p.cpf.revoke(99), await p.cpf.revoke(-1), await p.cpf.revoke(1.5)];
    });
    expect(res).toEqual([EINVAL, EINVAL, EINVAL, EINVAL, EINVAL]);
  });

  it('7b: revoke before any table exists → EINVAL', async () => {
    const { g } = pair();
    expect(await g.do((p) => p.cpf.revoke(0))).toBe(EINVAL);
  });

  it('8: lookup: direct → (SELF, who_to); magic → (who_from, who_to); indirect → EINVAL', async () => {
    const { g, r } = pair();
    const res = await g.do(async (p) => {
      const d = await p.cpf.grantDirect(r.ep, g.base, 8, CPF_READ);
      const m = await p.cpf.grantMagic(r.ep, 33, 0x1000, 8, CPF_READ);
      const i = await p.cpf.grantIndirect(r.ep, 33, 5);
      return [await p.cpf.lookup(d.id), await p.cpf.lookup(m.id), await p.cpf.lookup(i.id), await p.cpf.lookup(7)];
    });
    expect(res).toEqual([
      { result: OK, from: SELF, to: r.ep },
      { result: OK, from: 33, to: r.ep },
      { result: EINVAL },
      { result: EINVAL },
    ]);
  });

  it('9: a getgrants slot is unusable until set; setgrant_disable makes it unusable again', async () => {
    const { g, r } = pair();
    g.poke(g.base, fill(4, 7));
    const ids = await g.do((p) => p.cpf.getgrants(3));
    expect(ids).toEqual([0, 1, 2]);
    const id = ids[1] ?? -1;
    const copy = (): Promise<number> => r.do((p) => p.sys.safecopyFrom(g.ep, id, 0, r.base, 4));
    expect(await copy()).toBe(EPERM);
    expect(await g.do((p) => p.cpf.setgrantDirect(id, r.ep, g.base, 4, CPF_READ))).toBe(OK);
    expect(await copy()).toBe(OK);
    expect(await g.do((p) => p.cpf.setgrantDisable(id))).toBe(OK);
    expect(await copy()).toBe(EPERM);
    // Reserved slots are not handed out again; the next grant takes slot 3 (the table grew to 6).
    expect((await g.do((p) => p.cpf.grantDirect(r.ep, g.base, 4, CPF_READ))).id).toBe(3);
    // Setters check the id and the access bits.
    expect(await g.do((p) => p.cpf.setgrantDirect(id, r.ep, g.base, 4, 0x10))).toBe(EINVAL);
    expect(await g.do((p) => p.cpf.setgrantDirect(99, r.ep, g.base, 4, CPF_READ))).toBe(EINVAL);
    expect(await g.do((p) => p.cpf.setgrantDisable(99))).toBe(EINVAL);
  });

  it('9b: setgrant_indirect / setgrant_magic overwrite in place and keep the id', async () => {
    const { g, r } = pair();
    const [id = -1] = await g.do((p) => p.cpf.getgrants(1));
    expect(await g.do((p) => p.cpf.setgrantMagic(id, r.ep, 40, 0x2000, 8, CPF_READ))).toBe(OK);
    expect(await g.do((p) => p.cpf.lookup(id))).toEqual({ result: OK, from: 40, to: r.ep });
    expect(await g.do((p) => p.cpf.setgrantIndirect(id, r.ep, 40, 3))).toBe(OK);
    expect(await g.do((p) => p.cpf.lookup(id))).toEqual({ result: EINVAL });
  });

  it('10: a full table of 2^20 entries → -1, ENOSPC', { timeout: 120_000 }, async () => {
    const w = grantWorld({ ramBytes: 160 * MiB });
    const g = w.actor(20, 'G');
    // This actor's table needs ~75 MiB at the last growth: give it storage beyond the normal extents.
    const res = await g.do(async (p) => {
      p.kp.extent = { base: g.base, length: 150 * MiB };
      p.cpf.setAllocator(extentAllocatorAt(20 * MiB, 130 * MiB));
      const ids = await p.cpf.getgrants(GRANT_MAX_ENTRIES + 5);
      const next = await p.cpf.grantDirect(ANY, g.base, 8, CPF_READ);
      return { n: ids.length, last: ids[ids.length - 1], entries: cpfTable(p).entries, next };
    });
    expect(res).toEqual({ n: GRANT_MAX_ENTRIES, last: GRANT_MAX_ENTRIES - 1, entries: GRANT_MAX_ENTRIES, next: { id: -1, errno: ENOSPC } });
    expect(g.kp.priv.grantTable?.entries).toBe(GRANT_MAX_ENTRIES);
  });

  it('a table that cannot grow (allocation fails) gives ENOSPC and stays as it was', async () => {
    const { g, r } = pair();
    const res = await g.do(async (p) => {
      p.cpf.setAllocator(extentAllocatorAt(g.base + 0x80000, 2 * GRANT_ENTRY_BYTES));
      return [
        await p.cpf.grantDirect(r.ep, g.base, 8, CPF_READ),
        await p.cpf.grantDirect(r.ep, g.base, 8, CPF_READ),
        await p.cpf.grantDirect(r.ep, g.base, 8, CPF_READ),
      ];
    });
    expect(res.map((x) => x.errno)).toEqual([OK, OK, ENOSPC]);
    expect(g.kp.priv.grantTable?.entries).toBe(2);
  });

  it('11: sys_setgrant: no private priv or RTS_NO_PRIV → EPERM; not in the mask → ECALLDENIED; bad size → EINVAL', async () => {
    const w = grantWorld();
    const g = w.actor(20, 'G');
    const u = w.actor(22, 'U', { spec: { ipcTo: 'all', kernelCalls: [], vmCalls: [] } });
    expect(await u.do((p) => p.sys.setgrant(u.base, 2))).toBe(ECALLDENIED);
    // A process holding a non-system priv whose mask allows the call: EPERM.
    const userish = { ...makeSystemPriv(99, { ipcTo: 'all', kernelCalls: 'all', vmCalls: [] }), system: false };
    const kp = g.kp;
    const saved = kp.priv;
    kp.priv = userish;
    expect(doSetgrant(w.k, kp, { type: SYS_SETGRANT, addr: g.base, size: 2 })).toBe(EPERM);
    kp.priv = saved;
    kp.rts |= RTS.NO_PRIV;
    expect(doSetgrant(w.k, kp, { type: SYS_SETGRANT, addr: g.base, size: 2 })).toBe(EPERM);
    kp.rts &= ~RTS.NO_PRIV;
    expect(kp.priv.grantTable).toBeNull();
    expect(await g.do((p) => p.sys.setgrant(g.base, -1))).toBe(EINVAL);
    expect(await g.do((p) => p.sys.setgrant(g.base, GRANT_MAX_ENTRIES + 1))).toBe(EINVAL);
    expect(kp.priv.grantTable).toBeNull();
    expect(await g.do((p) => p.sys.setgrant(g.base, GRANT_MAX_ENTRIES))).toBe(OK);
    expect(kp.priv.grantTable).toEqual({ addr: g.base, entries: GRANT_MAX_ENTRIES, registeredBy: g.ep });
    expect(await g.do((p) => p.sys.setgrant(0, 0))).toBe(OK);
    expect(kp.priv.grantTable).toBeNull();
  });

  it('cpf_reload registers the current table again', async () => {
    const { g, r } = pair();
    await g.do((p) => p.cpf.grantDirect(r.ep, g.base, 8, CPF_READ));
    const t = g.kp.priv.grantTable;
    g.kp.priv.grantTable = null;
    expect(await g.do((p) => p.cpf.reload())).toBe(OK);
    expect(g.kp.priv.grantTable).toEqual(t);
  });

  it('entries hold the documented layout (flags, who_to, start, len, seq)', async () => {
    const { g, r } = pair();
    await g.do(async (p) => {
      const { id } = await p.cpf.grantDirect(r.ep, 0x123456, 0x40, CPF_READ | CPF_WRITE);
      await p.cpf.revoke(id);
      await p.cpf.grantDirect(r.ep, 0x123456, 0x40, CPF_READ | CPF_WRITE);
    });
    const t = g.kp.priv.grantTable;
    expect(t).not.toBeNull();
    const bytes = g.peek(t?.addr ?? 0, GRANT_ENTRY_BYTES);
    const want = encodeGrantEntry({
      kind: 'direct',
      flags: CPF_READ | CPF_WRITE | 0x200 | CPF_USED | CPF_VALID,
      seq: 1,
      whoTo: r.ep,
      start: 0x123456,
      len: 0x40,
    });
    expect([...bytes]).toEqual([...want]);
  });
});
