/* eslint-disable @typescript-eslint/no-deprecated -- these tests exercise the deprecated pre-allocation API (spec §3.4) */
// verify_grant and safecopy on a bare kernel with identity-extent processes (spec/grants.md §4, §5):
// checklist items 12-26, 29-31 and the adversarial classes. Every failing copy also leaves its destination untouched.
import { describe, expect, it } from 'vitest';
import { grantWorld } from '../../helpers/grantworld.ts';
import type { Actor, World } from '../../helpers/grantworld.ts';
import { MiB } from '../../helpers/grantworld.ts';
import { ANY, SELF, VFS_PROC_NR, makeEndpoint } from '../../../src/include/endpoint.ts';
import { ECALLDENIED, EDEADSRCDST, EDOM, EFAULT, EINVAL, ELOOP, EPERM, OK } from '../../../src/include/errno.ts';
import {
  CPF_DIRECT,
  CPF_MAP,
  CPF_READ,
  CPF_USED,
  CPF_VALID,
  CPF_WRITE,
  GRANT_ENTRY_BYTES,
  encodeGrantEntry,
  encodeScpVector,
} from '../../../src/include/safecopies.ts';
import { SYS_EXEC } from '../../../src/include/com.ts';
import { verifyGrant } from '../../../src/kernel/grant.ts';
import { safemapRecords } from '../../../src/kernel/system/do_safemap.ts';
import { toProgram } from '../../../src/libsys/proc.ts';
import { cpfSetAllocator, extentGrantAllocator } from '../../../src/libsys/grant.ts';

const fill = (n: number, byte: number): Uint8Array => new Uint8Array(n).fill(byte);
const seqBytes = (n: number, from = 1): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (from + i) & 0xff);

function pair(config: Parameters<typeof grantWorld>[0] = {}) {
  const w = grantWorld(config);
  const g = w.actor(20, 'G');
  const r = w.actor(21, 'R');
  g.poke(g.base, seqBytes(4096));
  r.poke(r.base, fill(4096, 0xee));
  return { ...w, g, r };
}

/** R copies from G and the call's result is returned; `untouched` asserts R's buffer kept its 0xee bytes. */
async function copyFrom(r: Actor, g: number, gid: number, off: number, bytes: number, addr = r.base): Promise<number> {
  return r.do((p) => p.sys.safecopyFrom(g, gid, off, addr, bytes));
}
const untouched = (r: Actor, n = 256): void => {
  expect([...r.peek(r.base, n)]).toEqual([...fill(n, 0xee)]);
};

async function grant(a: Actor, to: number, addr: number, len: number, access: number): Promise<number> {
  const res = await a.do((p) => p.cpf.grantDirect(to, addr, len, access));
  expect(res.errno).toBe(OK);
  return res.id;
}

describe('verify_grant through safecopy', () => {
  it('plain copy from and to a grant, at an offset', async () => {
    const { g, r } = pair();
    const id = await grant(g, r.ep, g.base, 100, CPF_READ | CPF_WRITE);
    expect(await copyFrom(r, g.ep, id, 10, 20)).toBe(OK);
    expect([...r.peek(r.base, 20)]).toEqual([...seqBytes(20, 11)]);
    r.poke(r.base + 100, fill(5, 0x55));
    expect(await r.do((p) => p.sys.safecopyTo(g.ep, id, 95, r.base + 100, 5))).toBe(OK);
    expect([...g.peek(g.base + 95, 6)]).toEqual([0x55, 0x55, 0x55, 0x55, 0x55, 101]);
  });

  it('12: dead granter, stale generation of the granter, SELF as granter → EINVAL', async () => {
    const { g, r, actor } = pair();
    const d = actor(22, 'D');
    const id = await grant(d, r.ep, d.base, 100, CPF_READ);
    await grant(g, r.ep, g.base, 100, CPF_READ);
    await d.exit();
    expect(d.kp.inUse).toBe(false);
    expect(await copyFrom(r, d.ep, id, 0, 4)).toBe(EINVAL);
    expect(await copyFrom(r, makeEndpoint(1, 20), 0, 0, 4)).toBe(EINVAL);
    expect(await copyFrom(r, SELF, 0, 0, 4)).toBe(EINVAL);
    untouched(r);
  });

  it('13: granter without a usable table: user priv, another endpoint\'s registration, after exec → EPERM', async () => {
    const { k, g, r } = pair();
    const id = await grant(g, r.ep, g.base, 100, CPF_READ);
    const t = g.kp.priv.grantTable;
    g.kp.priv.grantTable = t === null ? null : { ...t, registeredBy: r.ep };
    expect(await copyFrom(r, g.ep, id, 0, 4)).toBe(EPERM);
    g.kp.priv.grantTable = t;
    expect(await copyFrom(r, g.ep, id, 0, 4)).toBe(OK);
    const saved = g.kp.priv;
    g.kp.priv = k.userPriv;
    expect(await copyFrom(r, g.ep, id, 0, 4)).toBe(EPERM);
    g.kp.priv = saved;
    // exec clears the registration; the old id no longer works.
    r.poke(r.base, fill(4, 0xee));
    expect(await r.do((p) => p.kernelCall({ type: SYS_EXEC, endpoint: g.ep, program: toProgram(k, async (p) => { await p.receive(ANY); }) })).then((m) => m.type)).toBe(OK);
    expect(await copyFrom(r, g.ep, id, 0, 4)).toBe(EPERM);
    untouched(r);
  });

  it('14: gid -1: EINVAL with a table, EPERM without; safemap with gid -1 → EINVAL either way', async () => {
    const { g, r, actor } = pair();
    const n = actor(22, 'N');
    await grant(g, r.ep, g.base, 100, CPF_READ);
    expect(await copyFrom(r, g.ep, -1, 0, 4)).toBe(EINVAL);
    expect(await copyFrom(r, n.ep, -1, 0, 4)).toBe(EPERM);
    expect(await r.do((p) => p.sys.safemap(g.ep, -1, 0, r.base, 4096, false))).toBe(EINVAL);
    expect(await r.do((p) => p.sys.safemap(n.ep, -1, 0, r.base, 4096, false))).toBe(EINVAL);
    untouched(r);
  });

  it('malformed ids: negative, ≥ 2^31, fractional, NaN → EINVAL; slot beyond the table → EPERM', async () => {
    const { g, r } = pair();
    await grant(g, r.ep, g.base, 100, CPF_READ);
    for (const bad of [-5, 2 ** 31, 2 ** 32 + 1, 0.5, Number.NaN]) expect(await copyFrom(r, g.ep, bad, 0, 4)).toBe(EINVAL);
    expect(await copyFrom(r, g.ep, 2, 0, 4)).toBe(EPERM);
    expect(await copyFrom(r, g.ep, 0xfffff, 0, 4)).toBe(EPERM);
    expect(await copyFrom(r, g.ep, (5 << 20) | 0, 0, 4)).toBe(EPERM);
    untouched(r);
  });

  it('15: slot ≥ entries and a table in unmapped memory → EPERM', async () => {
    const { g, r } = pair();
    const id = await grant(g, r.ep, g.base, 100, CPF_READ);
    expect(await copyFrom(r, g.ep, 2, 0, 4)).toBe(EPERM);
    const t = g.kp.priv.grantTable;
    expect(await g.do((p) => p.sys.setgrant(0x7000_0000, 2))).toBe(OK);
    expect(await copyFrom(r, g.ep, id, 0, 4)).toBe(EPERM);
    // A table whose entry 1 straddles the end of the granter's memory: entry 0 readable, entry 1 not.
    const end = g.base + 1024 * 1024;
    g.poke(end - GRANT_ENTRY_BYTES - 8, encodeGrantEntry({ kind: 'direct', flags: CPF_READ | CPF_DIRECT | CPF_USED | CPF_VALID, seq: 0, whoTo: r.ep, start: g.base, len: 4 }));
    expect(await g.do((p) => p.sys.setgrant(end - GRANT_ENTRY_BYTES - 8, 2))).toBe(OK);
    expect(await copyFrom(r, g.ep, 1, 0, 4)).toBe(EPERM);
    untouched(r);
    expect(await copyFrom(r, g.ep, 0, 0, 4)).toBe(OK);
    expect(await g.do((p) => p.sys.setgrant(t?.addr ?? 0, t?.entries ?? 0))).toBe(OK);
  });

  it('16: an entry with USED only or VALID only → EPERM', async () => {
    const { g, r } = pair();
    const id = await grant(g, r.ep, g.base, 100, CPF_READ);
    const addr = g.kp.priv.grantTable?.addr ?? 0;
    const entry = (flags: number) => encodeGrantEntry({ kind: 'direct', flags, seq: 0, whoTo: r.ep, start: g.base, len: 100 });
    g.poke(addr, entry(CPF_READ | CPF_DIRECT | CPF_USED));
    expect(await copyFrom(r, g.ep, id, 0, 4)).toBe(EPERM);
    g.poke(addr, entry(CPF_READ | CPF_DIRECT | CPF_VALID));
    expect(await copyFrom(r, g.ep, id, 0, 4)).toBe(EPERM);
    g.poke(addr, entry(CPF_READ | CPF_USED | CPF_VALID));
    expect(await copyFrom(r, g.ep, id, 0, 4)).toBe(EPERM);
    untouched(r);
    g.poke(addr, entry(CPF_READ | CPF_DIRECT | CPF_USED | CPF_VALID));
    expect(await copyFrom(r, g.ep, id, 0, 4)).toBe(OK);
  });

  it('17: who_to ≠ caller → EPERM; who_to = ANY → any caller', async () => {
    const { g, r, actor } = pair();
    const other = actor(22, 'O');
    const toOther = await grant(g, other.ep, g.base, 100, CPF_READ);
    const toAny = await grant(g, ANY, g.base, 100, CPF_READ);
    expect(await copyFrom(r, g.ep, toOther, 0, 4)).toBe(EPERM);
    untouched(r);
    expect(await copyFrom(r, g.ep, toAny, 0, 4)).toBe(OK);
    expect(await copyFrom(other, g.ep, toAny, 0, 4, other.base)).toBe(OK);
  });

  it('18: copyfrom on a WRITE-only grant and copyto on a READ-only grant → EPERM', async () => {
    const { g, r } = pair();
    const wo = await grant(g, r.ep, g.base, 100, CPF_WRITE);
    const ro = await grant(g, r.ep, g.base, 100, CPF_READ);
    expect(await copyFrom(r, g.ep, wo, 0, 4)).toBe(EPERM);
    untouched(r);
    expect(await r.do((p) => p.sys.safecopyTo(g.ep, ro, 0, r.base, 4))).toBe(EPERM);
    expect([...g.peek(g.base, 4)]).toEqual([1, 2, 3, 4]);
    // A MAP-only grant is not readable by copy either.
    const mo = await grant(g, r.ep, g.base, 4096, CPF_MAP);
    expect(await copyFrom(r, g.ep, mo, 0, 4)).toBe(EPERM);
  });

  it('19: range checks: exact end OK, one past EPERM, bytes 0 at the end EDOM, offset wrap EPERM', async () => {
    const { g, r } = pair();
    const id = await grant(g, r.ep, g.base, 100, CPF_READ);
    expect(await copyFrom(r, g.ep, id, 100, 0)).toBe(EDOM);
    expect(await copyFrom(r, g.ep, id, 1, 100)).toBe(EPERM);
    expect(await copyFrom(r, g.ep, id, 0, 101)).toBe(EPERM);
    expect(await copyFrom(r, g.ep, id, 101, 0)).toBe(EPERM);
    expect(await copyFrom(r, g.ep, id, 0xffffffff, 2)).toBe(EPERM);
    expect(await copyFrom(r, g.ep, id, 2, 0xffffffff)).toBe(EPERM);
    expect(await copyFrom(r, g.ep, id, -1, 2)).toBe(EPERM);
    expect(await copyFrom(r, g.ep, id, 0, -1)).toBe(EPERM);
    untouched(r);
    expect(await copyFrom(r, g.ep, id, 0, 100)).toBe(OK);
    expect([...r.peek(r.base, 101)]).toEqual([...seqBytes(100), 0xee]);
    expect(await copyFrom(r, g.ep, id, 99, 1, r.base + 200)).toBe(OK);
    expect(r.peek(r.base + 200, 1)[0]).toBe(100);
  });

  it('20: start 0 passes verification (the copy then fails EFAULT); a grant wrapping past 2^32 → EPERM', async () => {
    const { k, g, r } = pair();
    const zero = await grant(g, r.ep, 0, 4096, CPF_READ);
    const wrap = await grant(g, r.ep, 0xfffff000, 0x1001, CPF_READ);
    const v = verifyGrant(k, g.ep, r.ep, zero, 16, CPF_READ, 0);
    expect(v).toEqual({ ok: true, owner: g.ep, addr: 0, finalOwner: g.ep, finalId: zero });
    expect(await copyFrom(r, g.ep, zero, 0, 16)).toBe(EFAULT);
    expect(verifyGrant(k, g.ep, r.ep, wrap, 1, CPF_READ, 0)).toEqual({ ok: false, err: EPERM });
    expect(await copyFrom(r, g.ep, wrap, 0, 1)).toBe(EPERM);
    untouched(r);
  });

  it('25: bytes 0 on a valid grant → EDOM; 26: caller range wrapping or outside its memory → EFAULT', async () => {
    const { g, r } = pair();
    const id = await grant(g, ANY, g.base, 4096, CPF_READ | CPF_WRITE);
    expect(await copyFrom(r, g.ep, id, 0, 0)).toBe(EDOM);
    expect(await copyFrom(r, g.ep, id, 0, 16, 0xfffffff8)).toBe(EFAULT);
    expect(await copyFrom(r, g.ep, id, 0, 16, -8)).toBe(EFAULT);
    expect(await copyFrom(r, g.ep, id, 0, 16, r.base - 8)).toBe(EFAULT);
    expect(await copyFrom(r, g.ep, id, 0, 16, r.base + 1024 * 1024 - 8)).toBe(EFAULT);
    expect(await r.do((p) => p.sys.safecopyTo(g.ep, id, 0, r.base - 8, 16))).toBe(EFAULT);
    untouched(r);
    expect([...g.peek(g.base, 4)]).toEqual([1, 2, 3, 4]);
  });

  it('29: a caller without SAFECOPYFROM in its mask → ECALLDENIED', async () => {
    const { g, actor } = pair();
    const limited = actor(22, 'L', { spec: { ipcTo: 'all', kernelCalls: [32], vmCalls: [] } });
    const id = await grant(g, limited.ep, g.base, 100, CPF_READ | CPF_WRITE);
    expect(await copyFrom(limited, g.ep, id, 0, 4, limited.base)).toBe(ECALLDENIED);
    expect(await limited.do((p) => p.sys.safecopyTo(g.ep, id, 0, limited.base, 4))).toBe(OK);
  });

  it('31: a self-grant with overlapping ranges copies as memmove', async () => {
    const { g } = pair();
    const id = await grant(g, g.ep, g.base, 64, CPF_READ | CPF_WRITE);
    // copyfrom: source = grant [base+0, +32), destination = base+8 (overlapping, higher).
    expect(await g.do((p) => p.sys.safecopyFrom(g.ep, id, 0, g.base + 8, 32))).toBe(OK);
    expect([...g.peek(g.base, 40)]).toEqual([...seqBytes(8), ...seqBytes(32)]);
    g.poke(g.base, seqBytes(64));
    // copyto: source = base+8, destination = grant offset 0 (lower).
    expect(await g.do((p) => p.sys.safecopyTo(g.ep, id, 0, g.base + 8, 32))).toBe(OK);
    expect([...g.peek(g.base, 40)]).toEqual([...seqBytes(32, 9), ...seqBytes(8, 33)]);
  });
});

describe('grant tables anywhere in memory', () => {
  it('entries that straddle a page, and tables at an address that is not word-aligned, verify like any other', async () => {
    for (const misalign of [0, 2]) {
      const w = grantWorld();
      const g = w.actor(20, 'G', { paged: true });
      const r = w.actor(21, 'R', { paged: true });
      g.mapPage(g.base);
      r.mapPage(r.base);
      g.poke(g.base, seqBytes(160));
      const half = MiB / 2;
      await g.do(async (p) => {
        cpfSetAllocator(p, extentGrantAllocator(g.base + half + misalign, half - misalign));
        return Promise.resolve();
      });
      // 160 grants: the table grows to 254 entries (9144 bytes), so several entries cross a page end.
      const ids: number[] = [];
      for (let i = 0; i < 160; i++) ids.push(await grant(g, r.ep, g.base + i, 1, CPF_READ));
      const table = g.kp.priv.grantTable;
      expect(table?.entries).toBe(254);
      expect((table?.addr ?? 0) % 4).toBe(misalign);
      for (const [i, id] of ids.entries()) expect(await copyFrom(r, g.ep, id, 0, 1, r.base + i)).toBe(OK);
      expect([...r.peek(r.base, 160)]).toEqual([...seqBytes(160)]);
      const last = ids[159] ?? -1;
      expect(verifyGrant(w.k, g.ep, r.ep, last, 1, CPF_READ, 0)).toEqual({ ok: true, owner: g.ep, addr: g.base + 159, finalOwner: g.ep, finalId: last });
      expect(verifyGrant(w.k, g.ep, r.ep, last, 1, CPF_WRITE, 0)).toEqual({ ok: false, err: EPERM });
    }
  });
});

describe('indirect and magic grants', () => {
  /** A chain owner → i[0] → ... → i[n-1] → R: each link an indirect entry naming the next grantee. */
  async function chain(w: World, r: Actor, hops: number, last: { access?: number; whoTo?: number } = {}) {
    const owner = w.actor(22, 'O');
    owner.poke(owner.base, seqBytes(64));
    const links: Actor[] = Array.from({ length: hops }, (_, i) => w.actor(23 + i, `I${i + 1}`));
    const first = links[0];
    const directTo = first === undefined ? r.ep : first.ep;
    let id = await grant(owner, directTo, owner.base, 64, last.access ?? CPF_READ);
    let from = owner.ep;
    for (const [i, link] of links.entries()) {
      const next = links[i + 1];
      const to = next === undefined ? (last.whoTo ?? r.ep) : next.ep;
      const res = await link.do((p) => p.cpf.grantIndirect(to, from, id));
      expect(res.errno).toBe(OK);
      id = res.id;
      from = link.ep;
    }
    return { owner, links, granter: from, id };
  }

  it('21: 5 indirect hops → OK, 6 → ELOOP', async () => {
    const w5 = grantWorld();
    const r5 = w5.actor(21, 'R');
    const c5 = await chain(w5, r5, 5);
    expect(await copyFrom(r5, c5.granter, c5.id, 0, 8)).toBe(OK);
    expect([...r5.peek(r5.base, 8)]).toEqual([...seqBytes(8)]);
    const v = verifyGrant(w5.k, c5.granter, r5.ep, c5.id, 8, CPF_READ, 4);
    expect(v).toEqual({ ok: true, owner: c5.owner.ep, addr: c5.owner.base + 4, finalOwner: c5.owner.ep, finalId: 0 });

    const w6 = grantWorld();
    const r6 = w6.actor(21, 'R');
    r6.poke(r6.base, fill(8, 0xee));
    const c6 = await chain(w6, r6, 6);
    expect(await copyFrom(r6, c6.granter, c6.id, 0, 8)).toBe(ELOOP);
    untouched(r6, 8);
  });

  it('21: a cycle A → B → A → ELOOP', async () => {
    const w = grantWorld();
    const r = w.actor(21, 'R');
    const a = w.actor(22, 'A');
    const b = w.actor(23, 'B');
    expect((await a.do((p) => p.cpf.grantIndirect(ANY, b.ep, 0))).id).toBe(0);
    expect((await b.do((p) => p.cpf.grantIndirect(ANY, a.ep, 0))).id).toBe(0);
    expect(await copyFrom(r, a.ep, 0, 0, 8)).toBe(ELOOP);
  });

  it('22: wrong who_to in the middle, a revoked middle link, a stale id in the middle → EPERM; a dead link → EINVAL', async () => {
    const w = grantWorld();
    const r = w.actor(21, 'R');
    r.poke(r.base, fill(256, 0xee));
    const c = await chain(w, r, 2);
    const [i1, i2] = c.links;
    if (i1 === undefined || i2 === undefined) throw new Error('chain');
    expect(await copyFrom(r, c.granter, c.id, 0, 8)).toBe(OK);
    r.poke(r.base, fill(8, 0xee));
    // I1's link names R instead of I2: the hop from I2 fails.
    await i1.do((p) => p.cpf.setgrantIndirect(0, r.ep, c.owner.ep, 0));
    expect(await copyFrom(r, c.granter, c.id, 0, 8)).toBe(EPERM);
    await i1.do((p) => p.cpf.setgrantIndirect(0, i2.ep, c.owner.ep, 0));
    expect(await copyFrom(r, c.granter, c.id, 0, 8)).toBe(OK);
    r.poke(r.base, fill(8, 0xee));
    // Revoked middle link.
    expect(await i1.do((p) => p.cpf.revoke(0))).toBe(OK);
    expect(await copyFrom(r, c.granter, c.id, 0, 8)).toBe(EPERM);
    // The middle link re-created in the same slot (new id): I2's entry still names the old id → stale → EPERM.
    const again = await i1.do((p) => p.cpf.grantIndirect(i2.ep, c.owner.ep, 0));
    expect(again.id).toBe(1 << 20);
    expect(await copyFrom(r, c.granter, c.id, 0, 8)).toBe(EPERM);
    untouched(r, 8);
    // A dead intermediary: the chain hits a non-live granter → EINVAL.
    await i1.exit();
    expect(await copyFrom(r, c.granter, c.id, 0, 8)).toBe(EINVAL);
  });

  it('22 (legacy): the same stale middle id still resolves — the 2010 hazard', async () => {
    const w = grantWorld({ grantIds: 'legacy' });
    const r = w.actor(21, 'R');
    const c = await chain(w, r, 2);
    const [i1, i2] = c.links;
    if (i1 === undefined || i2 === undefined) throw new Error('chain');
    expect(await i1.do((p) => p.cpf.revoke(0))).toBe(OK);
    expect(await copyFrom(r, c.granter, c.id, 0, 8)).toBe(EPERM);
    expect((await i1.do((p) => p.cpf.grantIndirect(i2.ep, c.owner.ep, 0))).id).toBe(0);
    expect(await copyFrom(r, c.granter, c.id, 0, 8)).toBe(OK);
  });

  it('23: access comes from the final entry only', async () => {
    const wr = grantWorld();
    const r1 = wr.actor(21, 'R');
    const ro = await chain(wr, r1, 2, { access: CPF_READ });
    r1.poke(r1.base, fill(8, 0x42));
    expect(await r1.do((p) => p.sys.safecopyTo(ro.granter, ro.id, 0, r1.base, 8))).toBe(EPERM);
    expect([...ro.owner.peek(ro.owner.base, 8)]).toEqual([...seqBytes(8)]);
    const ww = grantWorld();
    const r2 = ww.actor(21, 'R');
    const rw = await chain(ww, r2, 2, { access: CPF_READ | CPF_WRITE });
    r2.poke(r2.base, fill(8, 0x42));
    expect(await r2.do((p) => p.sys.safecopyTo(rw.granter, rw.id, 0, r2.base, 8))).toBe(OK);
    expect([...rw.owner.peek(rw.owner.base, 8)]).toEqual([...fill(8, 0x42)]);
  });

  it('23: an indirect grant cannot widen the range: the final entry bounds it', async () => {
    const w = grantWorld();
    const r = w.actor(21, 'R');
    const c = await chain(w, r, 1);
    expect(await copyFrom(r, c.granter, c.id, 0, 65)).toBe(EPERM);
    expect(await copyFrom(r, c.granter, c.id, 60, 4)).toBe(OK);
  });

  it('24: magic grants: only in VFS\'s table; to the caller or ANY; who_from dead → EDEADSRCDST', async () => {
    const w = grantWorld();
    const vfs = w.actor(VFS_PROC_NR, 'vfs');
    const user = w.actor(22, 'user');
    const r = w.actor(21, 'R');
    const other = w.actor(23, 'X');
    const notVfs = w.actor(24, 'notvfs');
    user.poke(user.base, seqBytes(32, 50));
    r.poke(r.base, fill(64, 0xee));
    const m = await vfs.do((p) => p.cpf.grantMagic(r.ep, user.ep, user.base, 32, CPF_READ));
    const mAny = await vfs.do((p) => p.cpf.grantMagic(ANY, user.ep, user.base, 32, CPF_READ));
    const fake = await notVfs.do((p) => p.cpf.grantMagic(r.ep, user.ep, user.base, 32, CPF_READ));
    expect(await copyFrom(r, notVfs.ep, fake.id, 0, 8)).toBe(EPERM);
    untouched(r, 8);
    expect(await copyFrom(other, vfs.ep, m.id, 0, 8, other.base)).toBe(EPERM);
    expect(await copyFrom(r, vfs.ep, m.id, 2, 8)).toBe(OK);
    expect([...r.peek(r.base, 8)]).toEqual([...seqBytes(8, 52)]);
    expect(await copyFrom(other, vfs.ep, mAny.id, 0, 4, other.base)).toBe(OK);
    expect([...other.peek(other.base, 4)]).toEqual([50, 51, 52, 53]);
    expect(await copyFrom(r, vfs.ep, m.id, 0, 33)).toBe(EPERM);
    await user.exit();
    r.poke(r.base, fill(8, 0xee));
    expect(await copyFrom(r, vfs.ep, m.id, 0, 8)).toBe(EDEADSRCDST);
    untouched(r, 8);
  });
});

describe('vsafecopy', () => {
  it('30: n = 0 → EDOM, n < 0 → EFAULT (as MINIX), n = 65 → EINVAL, unreadable vector → EFAULT, element without SELF → EINVAL', async () => {
    const { g, r } = pair();
    await grant(g, r.ep, g.base, 100, CPF_READ);
    const vec = r.base + 0x1000;
    expect(await r.do((p) => p.sys.vsafecopy(vec, 0))).toBe(EDOM);
    expect(await r.do((p) => p.sys.vsafecopy(vec, -1))).toBe(EFAULT);
    expect(await r.do((p) => p.sys.vsafecopy(vec, -65))).toBe(EFAULT);
    expect(await r.do((p) => p.sys.vsafecopy(vec, 65))).toBe(EINVAL);
    expect(await r.do((p) => p.sys.vsafecopy(0x7000_0000, 1))).toBe(EFAULT);
    expect(await r.do((p) => p.sys.vsafecopy(-24, 1))).toBe(EFAULT);
    r.poke(vec, encodeScpVector([{ from: g.ep, to: r.ep, gid: 0, offset: 0, addr: r.base, bytes: 4 }]));
    expect(await r.do((p) => p.sys.vsafecopy(vec, 1))).toBe(EINVAL);
    untouched(r);
  });

  it('30: elements run in order and stop at the first error; earlier ones stay done', async () => {
    const { g, r } = pair();
    const ro = await grant(g, r.ep, g.base, 100, CPF_READ);
    const rw = await grant(g, r.ep, g.base + 200, 100, CPF_READ | CPF_WRITE);
    r.poke(r.base + 0x800, fill(8, 0x77));
    const vec = r.base + 0x1000;
    r.poke(
      vec,
      encodeScpVector([
        { from: g.ep, to: SELF, gid: ro, offset: 0, addr: r.base, bytes: 8 },
        { from: SELF, to: g.ep, gid: rw, offset: 4, addr: r.base + 0x800, bytes: 8 },
        { from: SELF, to: g.ep, gid: ro, offset: 0, addr: r.base + 0x800, bytes: 8 },
        { from: g.ep, to: SELF, gid: ro, offset: 0, addr: r.base + 16, bytes: 8 },
      ]),
    );
    expect(await r.do((p) => p.sys.vsafecopy(vec, 4))).toBe(EPERM);
    expect([...r.peek(r.base, 24)]).toEqual([...seqBytes(8), ...fill(16, 0xee)]);
    expect([...g.peek(g.base + 204, 8)]).toEqual([...fill(8, 0x77)]);
    expect([...g.peek(g.base, 8)]).toEqual([...seqBytes(8)]);
    expect(await r.do((p) => p.sys.vsafecopy(vec, 2))).toBe(OK);
  });

  it('64 elements are accepted', async () => {
    const { g, r } = pair();
    const id = await grant(g, r.ep, g.base, 64, CPF_READ);
    const vec = r.base + 0x1000;
    r.poke(vec, encodeScpVector(Array.from({ length: 64 }, (_, i) => ({ from: g.ep, to: SELF, gid: id, offset: i, addr: r.base + i, bytes: 1 }))));
    expect(await r.do((p) => p.sys.vsafecopy(vec, 64))).toBe(OK);
    expect([...r.peek(r.base, 64)]).toEqual([...seqBytes(64)]);
  });
});

describe('safemap argument checks (no VM needed)', () => {
  it('39: no CPF_MAP, writable without WRITE, MAP without READ → EPERM; 40: bad sizes and alignment → EINVAL; no record kept', async () => {
    const { k, g, r } = pair();
    const readOnly = await grant(g, r.ep, g.base, 8192, CPF_READ);
    const mapRo = await grant(g, r.ep, g.base, 8192, CPF_READ | CPF_MAP);
    const mapOnly = await grant(g, r.ep, g.base, 8192, CPF_MAP);
    const mapRw = await grant(g, r.ep, g.base, 8192, CPF_READ | CPF_WRITE | CPF_MAP);
    const self = await grant(r, r.ep, r.base, 8192, CPF_READ | CPF_WRITE | CPF_MAP);
    const map = (granter: number, id: number, off: number, addr: number, bytes: number, w: boolean): Promise<number> =>
      r.do((p) => p.sys.safemap(granter, id, off, addr, bytes, w));
    expect(await map(g.ep, readOnly, 0, r.base, 4096, false)).toBe(EPERM);
    expect(await map(g.ep, mapRo, 0, r.base, 4096, true)).toBe(EPERM);
    expect(await map(g.ep, mapOnly, 0, r.base, 4096, false)).toBe(EPERM);
    expect(await map(g.ep, mapRw, 0, r.base, 0, true)).toBe(EINVAL);
    expect(await map(g.ep, mapRw, 0, r.base, 4097, true)).toBe(EINVAL);
    expect(await map(g.ep, mapRw, 0, r.base, 4095, true)).toBe(EINVAL);
    expect(await map(g.ep, mapRw, 0, r.base + 1, 4096, true)).toBe(EINVAL);
    expect(await map(g.ep, mapRw, 1, r.base, 4096, true)).toBe(EINVAL);
    expect(await map(g.ep, mapRw, 0, 0xfffff000 + 0, 8192, true)).toBe(EINVAL);
    expect(await map(r.ep, self, 0, r.base + 8192, 4096, true)).toBe(EINVAL);
    expect(await map(g.ep, mapRw, 0, r.base, 12288, true)).toBe(EPERM);
    expect(safemapRecords(k)).toEqual([]);
  });

  it("41: through VFS's magic grant whose memory owner (who_from) has exited → EDEADSRCDST, no record kept", async () => {
    const w = grantWorld();
    const vfs = w.actor(VFS_PROC_NR, 'vfs');
    const user = w.actor(22, 'user');
    const r = w.actor(21, 'R');
    const m = await vfs.do((p) => p.cpf.grantMagic(r.ep, user.ep, user.base, 8192, CPF_READ | CPF_WRITE | CPF_MAP));
    expect(m.id).toBeGreaterThanOrEqual(0);
    await user.exit();
    for (const writable of [false, true]) {
      expect(await r.do((p) => p.sys.safemap(vfs.ep, m.id, 0, r.base, 8192, writable))).toBe(EDEADSRCDST);
    }
    expect(safemapRecords(w.k)).toEqual([]);
  });
});
