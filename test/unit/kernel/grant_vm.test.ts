/* eslint-disable @typescript-eslint/no-deprecated -- these tests exercise the deprecated pre-allocation API (spec §3.4) */
// The kernel side of the kernel ↔ VM protocol for safecopy and safemap (spec/grants.md §5.3, §5.5, §6), against a
// fake VM that answers memory requests with scripted results and processes with hand-built page tables.
// Checklist items 27, 32, 38, 41, 42 (kernel side), 45-50 (records), 56, 57, 60 and the COW request order.
import { describe, expect, it } from 'vitest';
import { grantWorld } from '../../helpers/grantworld.ts';
import type { Actor, World } from '../../helpers/grantworld.ts';
import { ANY, SELF } from '../../../src/include/endpoint.ts';
import { EBUSY, EDEADSRCDST, EFAULT, EINVAL, ENOMEM, EPERM, OK } from '../../../src/include/errno.ts';
import { VMPTYPE_CHECK, VMPTYPE_COWMAP, VMPTYPE_SMAP, VMPTYPE_SUNMAP } from '../../../src/include/com.ts';
import { numField } from '../../../src/include/ipc.ts';
import type { Message } from '../../../src/include/ipc.ts';
import { CPF_MAP, CPF_READ, CPF_WRITE, encodeScpVector } from '../../../src/include/safecopies.ts';
import { grantSanityCheck, safemapRecords } from '../../../src/kernel/system/do_safemap.ts';
import { pattern, PAGE } from '../../helpers/bytes.ts';

const fill = (n: number, byte: number): Uint8Array => new Uint8Array(n).fill(byte);

interface Req {
  type: number;
  target: number;
  addr: number;
  length: number;
  flag: number;
  ep2: number;
  addr2: number;
  requestor: number;
}
const req = (m: Message): Req => ({
  type: numField(m, 'reqType'),
  target: numField(m, 'target'),
  addr: numField(m, 'addr'),
  length: numField(m, 'length'),
  flag: numField(m, 'flag'),
  ep2: numField(m, 'ep2'),
  addr2: numField(m, 'addr2'),
  requestor: numField(m, 'requestor'),
});
/** A CHECK request as the fake VM logs it (`flag` 1: the range is written). */
const checkReq = (target: number, addr: number, length: number, flag: number, requestor: number): Req => ({
  type: VMPTYPE_CHECK,
  target,
  addr,
  length,
  flag,
  ep2: 0,
  addr2: 0,
  requestor,
});
/** A COWMAP request: `length` bytes of (ep2, addr2) shared copy-on-write at (target, addr). */
const cowmapReq = (
  target: number,
  addr: number,
  length: number,
  ep2: number,
  addr2: number,
  requestor: number,
): Req => ({
  type: VMPTYPE_COWMAP,
  target,
  addr,
  length,
  flag: 0,
  ep2,
  addr2,
  requestor,
});

/**
 * Two paged processes, G (granter, slot 20) and R (slot 21), each with `pages` pages at base mapped, and a
 * fake VM whose default answers are: CHECK → map every missing page of the range, OK; COWMAP → byte copy, OK;
 * SMAP / SUNMAP → OK. `hook` runs first and may answer instead (return a number).
 */
function setup(
  config: Parameters<typeof grantWorld>[0] = {},
  hook: (r: Req, w: World) => number | undefined = () => undefined,
) {
  const w = grantWorld(config);
  const actors = new Map<number, Actor>();
  const log: Req[] = [];
  const vm = w.fakeVm((m) => {
    const r = req(m);
    log.push(r);
    grantSanityCheck(w.k);
    expect(w.k.vmRequests.inProgress.size).toBe(1);
    const answer = hook(r, w);
    if (answer !== undefined) return answer;
    const t = actors.get(r.target);
    if (t === undefined || !t.kp.inUse) return EDEADSRCDST;
    if (r.type === VMPTYPE_CHECK) {
      for (let v = r.addr - (r.addr % PAGE); v < r.addr + r.length; v += PAGE)
        if (!mapped(t, v)) t.mapPage(v);
    } else if (r.type === VMPTYPE_COWMAP) {
      const s = actors.get(r.ep2);
      if (s === undefined) return EDEADSRCDST;
      for (let v = r.addr; v < r.addr + r.length; v += PAGE) if (!mapped(t, v)) t.mapPage(v);
      t.poke(r.addr, s.peek(r.addr2, r.length));
    }
    return OK;
  });
  const g = w.actor(20, 'G', { paged: true });
  const r = w.actor(21, 'R', { paged: true });
  actors.set(g.ep, g);
  actors.set(r.ep, r);
  return { ...w, g, r, log, vm, actors };
}

function mapped(a: Actor, v: number): boolean {
  try {
    a.peek(v, 1);
    return true;
  } catch {
    return false;
  }
}

function mapPages(a: Actor, from: number, n: number): void {
  for (let i = 0; i < n; i++) a.mapPage(from + i * PAGE);
}

describe('safecopy with CHECK requests', () => {
  it('27: destination pages never touched → one CHECK (write) of the destination range, then the copy', async () => {
    const { g, r, log } = setup();
    mapPages(g, g.base, 2);
    g.poke(g.base, pattern(2 * PAGE, 1));
    const id = (await g.do((p) => p.cpf.grantDirect(r.ep, g.base, 2 * PAGE, CPF_READ))).id;
    expect(await r.do((p) => p.sys.safecopyFrom(g.ep, id, 100, r.base + 100, 5000))).toBe(OK);
    expect(log).toEqual([checkReq(r.ep, r.base + 100, 5000, 1, r.ep)]);
    expect([...r.peek(r.base + 100, 5000)]).toEqual([...pattern(2 * PAGE, 1).subarray(100, 5100)]);
  });

  it('27: source holes → CHECK of the source with write=0 first, then the destination', async () => {
    const { g, r, log } = setup();
    const id = (await g.do((p) => p.cpf.grantDirect(r.ep, g.base, 2 * PAGE, CPF_READ))).id;
    expect(await r.do((p) => p.sys.safecopyFrom(g.ep, id, 0, r.base + 8, 300))).toBe(OK);
    expect(log.map((x) => [x.type, x.target, x.flag])).toEqual([
      [VMPTYPE_CHECK, g.ep, 0],
      [VMPTYPE_CHECK, r.ep, 1],
    ]);
    expect([...r.peek(r.base + 8, 300)]).toEqual([...fill(300, 0)]);
  });

  it('a VM error on CHECK is the result; nothing is copied', async () => {
    const { g, r } = setup({}, (q) => (q.type === VMPTYPE_CHECK ? EFAULT : undefined));
    mapPages(g, g.base, 1);
    const id = (await g.do((p) => p.cpf.grantDirect(r.ep, g.base, PAGE, CPF_READ | CPF_WRITE))).id;
    expect(await r.do((p) => p.sys.safecopyFrom(g.ep, id, 0, r.base, 16))).toBe(EFAULT);
    r.mapPage(r.base);
    r.poke(r.base, fill(16, 0xee));
    g.unmapPage(g.base);
    expect(await r.do((p) => p.sys.safecopyTo(g.ep, id, 0, r.base, 16))).toBe(EFAULT);
    expect([...r.peek(r.base, 16)]).toEqual([...fill(16, 0xee)]);
  });

  it('32: the grant revoked while the caller waits on CHECK → the restarted copy returns EPERM', async () => {
    const ref: { g?: Actor } = {};
    const s = setup({}, (q) => {
      const g = ref.g;
      if (q.type === VMPTYPE_CHECK && g !== undefined) {
        const t = g.kp.priv.grantTable;
        if (t !== null) g.poke(t.addr, fill(4, 0)); // flags of entry 0 cleared, as cpf_revoke would
      }
      return undefined;
    });
    ref.g = s.g;
    mapPages(s.g, s.g.base, 1);
    const id = (await s.g.do((p) => p.cpf.grantDirect(s.r.ep, s.g.base, PAGE, CPF_READ))).id;
    expect(await s.r.do((p) => p.sys.safecopyFrom(s.g.ep, id, 0, s.r.base, 16))).toBe(EPERM);
    expect(s.log).toHaveLength(1);
    expect([...s.r.peek(s.r.base, 16)]).toEqual([...fill(16, 0)]);
  });

  it('56: the granter exits while the caller waits on a CHECK of either side → EINVAL', async () => {
    for (const side of ['source', 'destination'] as const) {
      const ref: { victim?: Actor } = {};
      const s = setup({}, (q, w) => {
        const victim = ref.victim;
        if (q.type === VMPTYPE_CHECK && victim !== undefined) {
          w.k.terminate(victim.kp, { code: 0, signal: 9 });
          return victim.ep === q.target ? EDEADSRCDST : OK;
        }
        return undefined;
      });
      ref.victim = s.g;
      if (side === 'destination') mapPages(s.g, s.g.base, 1);
      const id = (await s.g.do((p) => p.cpf.grantDirect(s.r.ep, s.g.base, PAGE, CPF_READ))).id;
      expect(await s.r.do((p) => p.sys.safecopyFrom(s.g.ep, id, 0, s.r.base, 16))).toBe(EINVAL);
      expect(s.log.map((x) => x.target)).toEqual([side === 'source' ? s.g.ep : s.r.ep]);
      grantSanityCheck(s.k);
    }
  });
});

describe('copy-on-write safecopy: request order', () => {
  it('congruent offsets with whole pages: head/tail CHECKs first, then exactly one COWMAP of the middle', async () => {
    const { g, r, log } = setup();
    mapPages(g, g.base, 4);
    g.poke(g.base, pattern(4 * PAGE, 3));
    const id = (await g.do((p) => p.cpf.grantDirect(r.ep, g.base, 4 * PAGE, CPF_READ))).id;
    // S = base+100, D = base+100: head 3996, middle 2 pages, tail 4*4096-100-3996-8192-? (n = 3*4096)
    const n = 3 * PAGE;
    expect(await r.do((p) => p.sys.safecopyFrom(g.ep, id, 100, r.base + 100, n))).toBe(OK);
    const h = PAGE - 100;
    expect(log).toEqual([
      checkReq(r.ep, r.base + 100, h, 1, r.ep),
      checkReq(r.ep, r.base + 3 * PAGE, 100, 1, r.ep),
      cowmapReq(r.ep, r.base + PAGE, 2 * PAGE, g.ep, g.base + PAGE, r.ep),
    ]);
    expect([...r.peek(r.base + 100, n)]).toEqual([...pattern(4 * PAGE, 3).subarray(100, 100 + n)]);
  });

  it('the source side first: its missing head and tail pages are CHECKed (read) before the COWMAP', async () => {
    const { g, r, log } = setup();
    mapPages(g, g.base + PAGE, 2);
    mapPages(r, r.base, 4);
    g.poke(g.base + PAGE, pattern(2 * PAGE, 9));
    const id = (await g.do((p) => p.cpf.grantDirect(r.ep, g.base, 4 * PAGE, CPF_READ))).id;
    const n = 3 * PAGE;
    expect(await r.do((p) => p.sys.safecopyFrom(g.ep, id, 100, r.base + 100, n))).toBe(OK);
    const h = PAGE - 100;
    expect(log).toEqual([
      checkReq(g.ep, g.base + 100, h, 0, r.ep),
      checkReq(g.ep, g.base + 3 * PAGE, 100, 0, r.ep),
      cowmapReq(r.ep, r.base + PAGE, 2 * PAGE, g.ep, g.base + PAGE, r.ep),
    ]);
    const want = new Uint8Array(n);
    want.set(pattern(2 * PAGE, 9), h);
    expect([...r.peek(r.base + 100, n)]).toEqual([...want]);
  });

  it('COW off, non-congruent offsets, or less than a whole page: no COWMAP', async () => {
    for (const [cow, dOff, n] of [
      [false, 100, 3 * PAGE],
      [true, 101, 3 * PAGE],
      [true, 100, PAGE],
    ] as const) {
      const { g, r, log } = setup({ cowSafecopy: cow });
      mapPages(g, g.base, 4);
      mapPages(r, r.base, 4);
      g.poke(g.base, pattern(4 * PAGE, 5));
      const id = (await g.do((p) => p.cpf.grantDirect(r.ep, g.base, 4 * PAGE, CPF_READ))).id;
      expect(await r.do((p) => p.sys.safecopyFrom(g.ep, id, 100, r.base + dOff, n))).toBe(OK);
      expect(log).toEqual([]);
      expect([...r.peek(r.base + dOff, n)]).toEqual([...pattern(4 * PAGE, 5).subarray(100, 100 + n)]);
    }
  });

  it('a head page that went away while COWMAP ran → CHECK and a restart (COWMAP posted again)', async () => {
    let once = true;
    const ref: { r0?: Actor } = {};
    const s = setup({}, (q) => {
      const r0 = ref.r0;
      if (q.type === VMPTYPE_COWMAP && once && r0 !== undefined) {
        once = false;
        r0.unmapPage(r0.base);
      }
      return undefined;
    });
    ref.r0 = s.r;
    mapPages(s.g, s.g.base, 3);
    mapPages(s.r, s.r.base, 3);
    s.g.poke(s.g.base, pattern(3 * PAGE, 9));
    const id = (await s.g.do((p) => p.cpf.grantDirect(s.r.ep, s.g.base, 3 * PAGE, CPF_READ))).id;
    expect(await s.r.do((p) => p.sys.safecopyFrom(s.g.ep, id, 10, s.r.base + 10, 2 * PAGE))).toBe(OK);
    expect(s.log.map((x) => x.type)).toEqual([VMPTYPE_COWMAP, VMPTYPE_CHECK, VMPTYPE_COWMAP]);
    expect([...s.r.peek(s.r.base + 10, 2 * PAGE)]).toEqual([
      ...pattern(3 * PAGE, 9).subarray(10, 10 + 2 * PAGE),
    ]);
  });

  it('a VM error on COWMAP is the result', async () => {
    const { g, r } = setup({}, (q) => (q.type === VMPTYPE_COWMAP ? ENOMEM : undefined));
    mapPages(g, g.base, 2);
    mapPages(r, r.base, 2);
    const id = (await g.do((p) => p.cpf.grantDirect(r.ep, g.base, 2 * PAGE, CPF_READ))).id;
    expect(await r.do((p) => p.sys.safecopyFrom(g.ep, id, 0, r.base, 2 * PAGE))).toBe(ENOMEM);
  });

  it('38: vsafecopy with 3 COW-eligible elements → 3 COWMAPs, one at a time', async () => {
    const { g, r, log, k } = setup();
    mapPages(g, g.base, 6);
    mapPages(r, r.base, 8);
    g.poke(g.base, pattern(6 * PAGE, 11));
    const id = (await g.do((p) => p.cpf.grantDirect(r.ep, g.base, 6 * PAGE, CPF_READ | CPF_WRITE))).id;
    const vec = r.base + 7 * PAGE;
    r.poke(
      vec,
      encodeScpVector(
        [0, 2, 4].map((i) => ({
          from: g.ep,
          to: SELF,
          gid: id,
          offset: i * PAGE,
          addr: r.base + i * PAGE,
          bytes: 2 * PAGE,
        })),
      ),
    );
    expect(await r.do((p) => p.sys.vsafecopy(vec, 3))).toBe(OK);
    expect(log.map((x) => [x.type, x.addr2 - g.base])).toEqual([
      [VMPTYPE_COWMAP, 0],
      [VMPTYPE_COWMAP, 2 * PAGE],
      [VMPTYPE_COWMAP, 4 * PAGE],
    ]);
    expect([...r.peek(r.base, 6 * PAGE)]).toEqual([...pattern(6 * PAGE, 11)]);
    grantSanityCheck(k);
  });
});

describe('safemap records', () => {
  const MAP_RW = CPF_READ | CPF_WRITE | CPF_MAP;

  it('41: records up to maxMapInfo, then EBUSY; 45: unmap with no match → OK without a VM request', async () => {
    const { g, r, k, log } = setup({ maxMapInfo: 3 });
    const id = (await g.do((p) => p.cpf.grantDirect(r.ep, g.base, 4 * PAGE, MAP_RW))).id;
    const res = await r.do(async (p) => {
      const out: number[] = [];
      for (let i = 0; i < 4; i++)
        out.push(await p.sys.safemap(g.ep, id, i * PAGE, r.base + i * PAGE, PAGE, i % 2 === 0));
      return out;
    });
    expect(res).toEqual([OK, OK, OK, EBUSY]);
    expect(safemapRecords(k).map((x) => [x.granteeAddr - r.base, x.ownerAddr - g.base, x.writable])).toEqual([
      [0, 0, true],
      [PAGE, PAGE, false],
      [2 * PAGE, 2 * PAGE, true],
    ]);
    expect(log.map((x) => [x.type, x.target, x.ep2, x.flag])).toEqual([
      [VMPTYPE_SMAP, r.ep, g.ep, 1],
      [VMPTYPE_SMAP, r.ep, g.ep, 0],
      [VMPTYPE_SMAP, r.ep, g.ep, 1],
    ]);
    log.length = 0;
    expect(await r.do((p) => p.sys.safeunmap(r.base + 5 * PAGE))).toBe(OK);
    expect(await g.do((p) => p.sys.saferevmapGid(77))).toBe(OK);
    expect(await g.do((p) => p.sys.saferevmapAddr(g.base + 7 * PAGE))).toBe(OK);
    expect(log).toEqual([]);
    expect(await r.do((p) => p.sys.safeunmap(r.base + PAGE))).toBe(OK);
    expect(log.map((x) => [x.type, x.target, x.addr - r.base, x.length])).toEqual([
      [VMPTYPE_SUNMAP, r.ep, PAGE, PAGE],
    ]);
    expect(safemapRecords(k)).toHaveLength(2);
    expect(await r.do((p) => p.sys.safemap(g.ep, id, 3 * PAGE, r.base + 3 * PAGE, PAGE, true))).toBe(OK);
    grantSanityCheck(k);
  });

  it('41: the default table holds 20 records; the 21st → EBUSY', async () => {
    const { g, r, k } = setup();
    const id = (await g.do((p) => p.cpf.grantDirect(r.ep, g.base, PAGE, MAP_RW))).id;
    const res = await r.do(async (p) => {
      const out: number[] = [];
      for (let i = 0; i < 21; i++) out.push(await p.sys.safemap(g.ep, id, 0, r.base + i * PAGE, PAGE, true));
      return out;
    });
    expect(res.filter((x) => x === OK)).toHaveLength(20);
    expect(res[20]).toBe(EBUSY);
    expect(safemapRecords(k)).toHaveLength(20);
  });

  it('42: a VM error on SMAP is returned and no record is kept', async () => {
    const { g, r, k } = setup({}, (q) => (q.type === VMPTYPE_SMAP ? EFAULT : undefined));
    const id = (await g.do((p) => p.cpf.grantDirect(r.ep, g.base, PAGE, MAP_RW))).id;
    expect(await r.do((p) => p.sys.safemap(g.ep, id, 0, r.base, PAGE, true))).toBe(EFAULT);
    expect(safemapRecords(k)).toEqual([]);
  });

  it('46: cpf_revoke of a MAP grant breaks its mappings first; if that fails the grant stays valid', async () => {
    let failUnmap = true;
    const { g, r, k, log } = setup({}, (q) => (q.type === VMPTYPE_SUNMAP && failUnmap ? ENOMEM : undefined));
    mapPages(g, g.base, 1);
    const id = (await g.do((p) => p.cpf.grantDirect(r.ep, g.base, PAGE, MAP_RW))).id;
    expect(await r.do((p) => p.sys.safemap(g.ep, id, 0, r.base, PAGE, true))).toBe(OK);
    expect(await g.do((p) => p.cpf.revoke(id))).toBe(ENOMEM);
    expect(safemapRecords(k)).toHaveLength(1);
    expect(await r.do((p) => p.sys.safecopyFrom(g.ep, id, 0, r.base + 2 * PAGE, 8))).toBe(OK);
    failUnmap = false;
    log.length = 0;
    expect(await g.do((p) => p.cpf.revoke(id))).toBe(OK);
    expect(log.map((x) => [x.type, x.target, x.requestor])).toEqual([[VMPTYPE_SUNMAP, r.ep, g.ep]]);
    expect(safemapRecords(k)).toEqual([]);
    expect(await r.do((p) => p.sys.safecopyFrom(g.ep, id, 0, r.base + 2 * PAGE, 8))).toBe(EPERM);
  });

  it('47: cpf_setgrant_disable leaves the mapping alone', async () => {
    const { g, r, k, log } = setup();
    const [id = -1] = await g.do((p) => p.cpf.getgrants(1));
    expect(await g.do((p) => p.cpf.setgrantDirect(id, r.ep, g.base, PAGE, MAP_RW))).toBe(OK);
    expect(await r.do((p) => p.sys.safemap(g.ep, id, 0, r.base, PAGE, true))).toBe(OK);
    log.length = 0;
    expect(await g.do((p) => p.cpf.setgrantDisable(id))).toBe(OK);
    expect(log).toEqual([]);
    expect(safemapRecords(k)).toHaveLength(1);
  });

  it('48/49: the owner or the grantee exiting purges its records with no VM request; later unmap/revmap → OK', async () => {
    const { g, r, k, log, actor, actors } = setup();
    const id = (await g.do((p) => p.cpf.grantDirect(ANY, g.base, 2 * PAGE, MAP_RW))).id;
    const r2 = actor(22, 'R2', { paged: true });
    actors.set(r2.ep, r2);
    expect(await r.do((p) => p.sys.safemap(g.ep, id, 0, r.base, PAGE, true))).toBe(OK);
    expect(await r2.do((p) => p.sys.safemap(g.ep, id, PAGE, r2.base, PAGE, false))).toBe(OK);
    log.length = 0;
    await r2.exit();
    expect(safemapRecords(k).map((x) => x.grantee)).toEqual([r.ep]);
    expect(await g.do((p) => p.sys.saferevmapAddr(g.base + PAGE))).toBe(OK);
    await g.exit();
    expect(safemapRecords(k)).toEqual([]);
    expect(await r.do((p) => p.sys.safeunmap(r.base))).toBe(OK);
    expect(log).toEqual([]);
    grantSanityCheck(k);
  });

  it("50: an indirect mapping A → B → C is broken by B's revmap of its id, A's revmap of its id, A's revmap by address", async () => {
    for (const who of ['B-gid', 'A-gid', 'A-addr', 'A-after-B-exit'] as const) {
      const { g: a, r: c, k, log, actor, actors } = setup();
      const b = actor(22, 'B', { paged: true });
      actors.set(b.ep, b);
      const direct = (await a.do((p) => p.cpf.grantDirect(b.ep, a.base + PAGE, 2 * PAGE, MAP_RW))).id;
      await a.do((p) => p.cpf.grantDirect(b.ep, a.base, PAGE, CPF_READ));
      const indirect = (
        await b.do(async (p) => {
          await p.cpf.grantDirect(ANY, b.base, PAGE, CPF_READ);
          return p.cpf.grantIndirect(c.ep, a.ep, direct);
        })
      ).id;
      expect([direct, indirect]).toEqual([0, 1]);
      expect(await c.do((p) => p.sys.safemap(b.ep, indirect, PAGE, c.base, PAGE, true))).toBe(OK);
      expect(safemapRecords(k)).toEqual([
        {
          granter: b.ep,
          gid: indirect,
          finalOwner: a.ep,
          finalId: direct,
          owner: a.ep,
          ownerAddr: a.base + 2 * PAGE,
          grantee: c.ep,
          granteeAddr: c.base,
          bytes: PAGE,
          writable: true,
        },
      ]);
      log.length = 0;
      // Unrelated keys do not match: B's revmap of A's id number, A's revmap of the grant's start address.
      expect(await b.do((p) => p.sys.saferevmapGid(direct))).toBe(OK);
      expect(await a.do((p) => p.sys.saferevmapAddr(a.base + PAGE))).toBe(OK);
      expect(log).toEqual([]);
      if (who === 'B-gid') expect(await b.do((p) => p.sys.saferevmapGid(indirect))).toBe(OK);
      if (who === 'A-gid') expect(await a.do((p) => p.sys.saferevmapGid(direct))).toBe(OK);
      if (who === 'A-addr') expect(await a.do((p) => p.sys.saferevmapAddr(a.base + 2 * PAGE))).toBe(OK);
      if (who === 'A-after-B-exit') {
        await b.exit();
        expect(safemapRecords(k)).toHaveLength(1);
        expect(await a.do((p) => p.sys.saferevmapGid(direct))).toBe(OK);
      }
      expect(log.map((x) => [x.type, x.target, x.addr])).toEqual([[VMPTYPE_SUNMAP, c.ep, c.base]]);
      expect(safemapRecords(k)).toEqual([]);
    }
  });

  it('57: the requestor killed while its SMAP request is out → record released, late reply discarded', async () => {
    const ref: { victim?: Actor } = {};
    const { g, r, k } = setup({}, (q, w) => {
      const victim = ref.victim;
      if (q.type === VMPTYPE_SMAP && victim !== undefined) w.k.terminate(victim.kp, { code: 0, signal: 9 });
      return undefined;
    });
    ref.victim = r;
    const id = (await g.do((p) => p.cpf.grantDirect(r.ep, g.base, PAGE, MAP_RW))).id;
    const h = r.start((p) => p.sys.safemap(g.ep, id, 0, r.base, PAGE, true));
    await k.run();
    expect(h.done()).toBe(false);
    expect(r.kp.inUse).toBe(false);
    expect(safemapRecords(k)).toEqual([]);
    expect(k.vmRequests.inProgress.size).toBe(0);
    grantSanityCheck(k);
  });

  it('traces each grant call', async () => {
    const { g, r, trace } = setup();
    const id = (await g.do((p) => p.cpf.grantDirect(r.ep, g.base, PAGE, MAP_RW))).id;
    await r.do((p) => p.sys.safemap(g.ep, id, 0, r.base, PAGE, true));
    await r.do((p) => p.sys.safecopyFrom(g.ep, 99, 0, r.base, 4));
    const grants = trace.filter((e) => e.kind === 'grant');
    expect(
      grants.map((e) => (e.kind === 'grant' ? [e.op, e.caller, e.granter, e.gid, e.result] : [])),
    ).toEqual([
      ['setgrant', g.ep, g.ep, 2, OK],
      ['safemap', r.ep, g.ep, id, OK],
      ['safecopyfrom', r.ep, g.ep, 99, EPERM],
    ]);
  });
});
