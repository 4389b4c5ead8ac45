// verify_grant's edges on a bare kernel (spec/grants.md §4): what each entry read and each indirect hop costs,
// entries read across a page end or from memory never written, a magic entry wrapping past 2^32, fractional
// offsets and byte counts, and a granter that has lost its privileges. Written for src/kernel/grant.ts's mutation pass.
import { describe, expect, it } from 'vitest';
import { MiB, grantWorld } from '../../helpers/grantworld.ts';
import type { Actor } from '../../helpers/grantworld.ts';
import { ANY, VFS_PROC_NR } from '../../../src/include/endpoint.ts';
import type { Endpoint } from '../../../src/include/endpoint.ts';
import { EPERM, OK } from '../../../src/include/errno.ts';
import {
  CPF_DIRECT,
  CPF_MAGIC,
  CPF_READ,
  CPF_USED,
  CPF_VALID,
  GRANT_ENTRY_BYTES,
  encodeGrantEntry,
} from '../../../src/include/safecopies.ts';
import { K } from '../../../src/hw/profile.ts';
import { readGrantEntry, verifyGrant } from '../../../src/kernel/grant.ts';
import { RTS } from '../../../src/kernel/proc.ts';

const LIVE = CPF_USED | CPF_VALID;

/** A world with G (slot 20) and R (slot 21), identity-mapped. */
function twoActors(config: Parameters<typeof grantWorld>[0] = {}) {
  const w = grantWorld(config);
  return { w, g: w.actor(20, 'G'), r: w.actor(21, 'R') };
}

/** A live, readable direct entry for `whoTo` of [start, +len). */
const directEntry = (whoTo: number, start: number, len: number, seq = 0): Uint8Array =>
  encodeGrantEntry({
    kind: 'direct',
    flags: CPF_READ | CPF_DIRECT | LIVE,
    seq,
    whoTo: whoTo as Endpoint,
    start,
    len,
  });

async function grantTo(a: Actor, to: number, addr: number, len: number): Promise<number> {
  const res = await a.do((p) => p.cpf.grantDirect(to, addr, len, CPF_READ));
  expect(res.errno).toBe(OK);
  return res.id;
}

/** `a` registers a table of `entries` entries at `addr` (entries poked there by the test). */
async function setTable(a: Actor, addr: number, entries: number): Promise<void> {
  expect(await a.do((p) => p.sys.setgrant(addr, entries))).toBe(OK);
}

describe('verify_grant: edges', () => {
  it('charges one grantEntry per entry read and one grantHop per indirect hop; a slot beyond the table reads none', async () => {
    const w = grantWorld();
    const owner = w.actor(20, 'O');
    const link = w.actor(21, 'I');
    const r = w.actor(22, 'R');
    const id = await grantTo(owner, link.ep, owner.base, 64);
    const res = await link.do((p) => p.cpf.grantIndirect(r.ep, owner.ep, id));
    expect(res.errno).toBe(OK);
    const counts = w.k.clock.countByKind;
    const entries = (): number => counts[K.grantEntry] ?? 0;
    const hops = (): number => counts[K.grantHop] ?? 0;
    const [e0, h0] = [entries(), hops()];
    expect(verifyGrant(w.k, link.ep, r.ep, res.id, 8, CPF_READ, 0).ok).toBe(true);
    expect([entries() - e0, hops() - h0]).toEqual([2, 1]);
    expect(verifyGrant(w.k, owner.ep, r.ep, 1000, 8, CPF_READ, 0)).toEqual({ ok: false, err: EPERM });
    expect([entries() - e0, hops() - h0]).toEqual([2, 1]);
  });

  it('an entry of a word-aligned table that crosses a page end is read whole', async () => {
    const { w, g, r } = twoActors();
    // Entry 0 at 8 bytes before a page end: its flags and who_to on one page, its start and length on the next.
    const at = g.base + 0x2000 - 8;
    g.poke(at, directEntry(r.ep, g.base + 0x100, 64));
    await setTable(g, at, 1);
    expect(verifyGrant(w.k, g.ep, r.ep, 0, 64, CPF_READ, 0)).toEqual({
      ok: true,
      owner: g.ep,
      addr: g.base + 0x100,
      finalOwner: g.ep,
      finalId: 0,
    });
    expect(verifyGrant(w.k, g.ep, r.ep, 0, 65, CPF_READ, 0)).toEqual({ ok: false, err: EPERM });
  });

  it('a table in memory never written reads as unused entries, whatever entry was read before', async () => {
    const w = grantWorld();
    const g = w.actor(20, 'G');
    const h = w.actor(21, 'H');
    const r = w.actor(22, 'R');
    const id = await grantTo(g, r.ep, g.base, 64);
    expect(id).toBe(0);
    await setTable(h, h.base, 4);
    expect(verifyGrant(w.k, g.ep, r.ep, 0, 8, CPF_READ, 0).ok).toBe(true);
    expect(verifyGrant(w.k, h.ep, r.ep, 0, 8, CPF_READ, 0)).toEqual({ ok: false, err: EPERM });
  });

  it('a magic entry whose range wraps past 2^32 → EPERM; one ending at 2^32 verifies', async () => {
    const w = grantWorld();
    const vfs = w.actor(VFS_PROC_NR, 'vfs');
    const user = w.actor(20, 'user');
    const r = w.actor(21, 'R');
    const magic = (len: number): Uint8Array =>
      encodeGrantEntry({
        kind: 'magic',
        flags: CPF_READ | CPF_MAGIC | LIVE,
        seq: 0,
        whoFrom: user.ep,
        whoTo: r.ep,
        start: 0xfffff000,
        len,
      });
    vfs.poke(vfs.base, new Uint8Array([...magic(0x1001), ...magic(0x1000)]));
    await setTable(vfs, vfs.base, 2);
    expect(verifyGrant(w.k, vfs.ep, r.ep, 0, 1, CPF_READ, 0)).toEqual({ ok: false, err: EPERM });
    expect(verifyGrant(w.k, vfs.ep, r.ep, 1, 1, CPF_READ, 0xfff)).toEqual({
      ok: true,
      owner: user.ep,
      addr: 0xffffffff,
      finalOwner: vfs.ep,
      finalId: 1,
    });
  });

  it('a fractional offset or byte count → EPERM', async () => {
    const { w, g, r } = twoActors();
    const id = await grantTo(g, r.ep, g.base, 100);
    expect(verifyGrant(w.k, g.ep, r.ep, id, 4, CPF_READ, 0.5)).toEqual({ ok: false, err: EPERM });
    expect(verifyGrant(w.k, g.ep, r.ep, id, 1.5, CPF_READ, 0)).toEqual({ ok: false, err: EPERM });
    expect(verifyGrant(w.k, g.ep, r.ep, id, 4, CPF_READ, 1)).toEqual({
      ok: true,
      owner: g.ep,
      addr: g.base + 1,
      finalOwner: g.ep,
      finalId: id,
    });
  });

  it('a granter whose privileges are withdrawn (NO_PRIV) has no usable table → EPERM', async () => {
    const { w, g, r } = twoActors();
    const id = await grantTo(g, r.ep, g.base, 100);
    g.kp.rts |= RTS.NO_PRIV;
    expect(verifyGrant(w.k, g.ep, r.ep, id, 4, CPF_READ, 0)).toEqual({ ok: false, err: EPERM });
    g.kp.rts &= ~RTS.NO_PRIV;
    expect(verifyGrant(w.k, g.ep, r.ep, id, 4, CPF_READ, 0).ok).toBe(true);
  });

  it('an entry that cannot be read (unmapped, past the end of memory, past 2^32) → EPERM, whatever was read before', async () => {
    const w = grantWorld();
    const g = w.actor(20, 'G');
    const h = w.actor(21, 'H');
    const r = w.actor(22, 'R');
    await grantTo(h, r.ep, h.base, 64);
    expect(await grantTo(h, r.ep, h.base, 64)).toBe(1);
    const end = g.base + MiB;
    // Slot 1 of each table: in unmapped memory (one walk), straddling the end of G's memory (a byte copy), at 2^32.
    for (const addr of [0x7000_0000, end - GRANT_ENTRY_BYTES - 8, 2 ** 32 - GRANT_ENTRY_BYTES]) {
      await setTable(g, addr, 2);
      expect(verifyGrant(w.k, h.ep, r.ep, 1, 8, CPF_READ, 0).ok).toBe(true);
      expect(verifyGrant(w.k, g.ep, r.ep, 1, 8, CPF_READ, 0)).toEqual({ ok: false, err: EPERM });
    }
  });

  it('a table on a read-only page verifies (the kernel only reads it), aligned or not', async () => {
    for (const misalign of [0, 2]) {
      const w = grantWorld();
      const g = w.actor(20, 'G', { paged: true });
      const r = w.actor(21, 'R', { paged: true });
      const page = g.base + 0x10000;
      g.mapPage(page, false);
      const at = page + 0x100 + misalign;
      g.poke(at, directEntry(r.ep, g.base, 64));
      await setTable(g, at, 1);
      expect(verifyGrant(w.k, g.ep, r.ep, 0, 64, CPF_READ, 0)).toEqual({
        ok: true,
        owner: g.ep,
        addr: g.base,
        finalOwner: g.ep,
        finalId: 0,
      });
      expect(readGrantEntry(w.k, g.kp, { addr: at, entries: 1, registeredBy: g.ep }, 0)).toMatchObject({
        kind: 'direct',
        whoTo: r.ep,
        start: g.base,
        len: 64,
      });
    }
  });

  it('readGrantEntry: the entry of a slot, or null when it cannot be read', async () => {
    const { w, g, r } = twoActors();
    for (let i = 0; i < 3; i++) await grantTo(g, r.ep, g.base + i, 10 + i);
    const t = g.kp.priv.grantTable;
    if (t === null) throw new Error('no table');
    expect(readGrantEntry(w.k, g.kp, t, 2)).toMatchObject({
      kind: 'direct',
      whoTo: r.ep,
      start: g.base + 2,
      len: 12,
    });
    expect(readGrantEntry(w.k, g.kp, { ...t, addr: 0x7000_0000 }, 0)).toBeNull();
    expect(readGrantEntry(w.k, g.kp, { ...t, addr: g.base + MiB - 8 }, 0)).toBeNull();
    expect(readGrantEntry(w.k, g.kp, { ...t, addr: 2 ** 32 - GRANT_ENTRY_BYTES }, 1)).toBeNull();
  });

  it('the grantee ANY asks for any grantee; a slot equal to the table size is outside it', async () => {
    const { w, g, r } = twoActors();
    const entry = directEntry(r.ep, g.base, 64);
    g.poke(g.base + 0x2000, new Uint8Array([...entry, ...entry]));
    await setTable(g, g.base + 0x2000, 1);
    expect(verifyGrant(w.k, g.ep, ANY, 0, 8, CPF_READ, 0).ok).toBe(true);
    expect(verifyGrant(w.k, g.ep, r.ep, 1, 8, CPF_READ, 0)).toEqual({ ok: false, err: EPERM });
  });

  it("legacy ids: an entry's sequence number is not checked", async () => {
    const { w, g, r } = twoActors({ grantIds: 'legacy' });
    g.poke(g.base + 0x2000, directEntry(r.ep, g.base, 64, 5));
    await setTable(g, g.base + 0x2000, 1);
    expect(verifyGrant(w.k, g.ep, r.ep, 0, 8, CPF_READ, 0).ok).toBe(true);
  });

  it("a direct entry ending at 2^32 verifies; an entry of no kind in VFS's table → EPERM", async () => {
    const w = grantWorld();
    const vfs = w.actor(VFS_PROC_NR, 'vfs');
    const r = w.actor(21, 'R');
    const direct = directEntry(r.ep, 0xfffff000, 0x1000);
    // Read as magic, this entry's words would name who_from R, who_to R and [R's base, +64).
    const none = encodeGrantEntry({
      kind: 'magic',
      flags: CPF_READ | LIVE,
      seq: 0,
      whoFrom: r.ep,
      whoTo: r.ep,
      start: r.base,
      len: 64,
    });
    vfs.poke(vfs.base, new Uint8Array([...direct, ...none]));
    await setTable(vfs, vfs.base, 2);
    expect(verifyGrant(w.k, vfs.ep, r.ep, 0, 0x1000, CPF_READ, 0)).toEqual({
      ok: true,
      owner: vfs.ep,
      addr: 0xfffff000,
      finalOwner: vfs.ep,
      finalId: 0,
    });
    expect(verifyGrant(w.k, vfs.ep, r.ep, 1, 8, CPF_READ, 0)).toEqual({ ok: false, err: EPERM });
  });
});
