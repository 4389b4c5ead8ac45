// sys_safemap, sys_saferevmap and sys_safeunmap's edges on a bare kernel with a fake VM (spec/grants.md §6): the
// traces of the unmap calls, several records broken by one call while processes die in between, a VM error in
// the middle, and a failed SMAP whose record an exit already purged. Written for do_safemap.ts's mutation pass.
import { describe, expect, it } from 'vitest';
import type { Actor, World } from '../../../helpers/grantworld.ts';
import { PAGE, killAndReuseSlot, pagedWorld } from '../../../helpers/pagedworld.ts';
import type { PagedWorld, VmReq } from '../../../helpers/pagedworld.ts';
import { ANY, NONE } from '../../../../src/include/endpoint.ts';
import { EFAULT, ENOMEM, OK } from '../../../../src/include/errno.ts';
import { VMPTYPE_SMAP, VMPTYPE_SUNMAP } from '../../../../src/include/com.ts';
import { CPF_MAP, CPF_READ, CPF_WRITE, GRANT_INVALID } from '../../../../src/include/safecopies.ts';
import {
  grantSanityCheck,
  mapRecordTable,
  safemapRecords,
} from '../../../../src/kernel/system/do_safemap.ts';
import type { MapRecord } from '../../../../src/kernel/system/do_safemap.ts';
import { RTS } from '../../../../src/kernel/proc.ts';
import type { Endpoint } from '../../../../src/include/endpoint.ts';

const MAP_RW = CPF_MAP | CPF_READ | CPF_WRITE;

/** The message `fn` panics with, or null when it returns. */
function messageOf(fn: () => void): string | null {
  try {
    fn();
    return null;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

/** G grants ANY two pages to map; R and a third paged actor S each map one of them. */
async function twoMappings(w: PagedWorld): Promise<{ id: number; s: Actor }> {
  const s = w.pagedActor(22, 'S');
  const res = await w.g.do((p) => p.cpf.grantDirect(ANY, w.g.base, 2 * PAGE, MAP_RW));
  expect(res.errno).toBe(OK);
  expect(await w.r.do((p) => p.sys.safemap(w.g.ep, res.id, 0, w.r.base, PAGE, true))).toBe(OK);
  expect(await s.do((p) => p.sys.safemap(w.g.ep, res.id, PAGE, s.base, PAGE, false))).toBe(OK);
  w.log.length = 0;
  return { id: res.id, s };
}

/** A hook that, at the first request of type `type`, kills `victim()` and answers `answer` (undefined: the default). */
function killAt(type: number, victim: () => Actor | undefined, answer?: number) {
  let done = false;
  return (q: VmReq, w: World): number | undefined => {
    const v = victim();
    if (done || q[0] !== type || v === undefined) return undefined;
    done = true;
    w.k.terminate(v.kp, { code: 0, signal: 9 });
    return answer;
  };
}

describe('saferevmap and safeunmap', () => {
  it('trace their op, the caller, the granter and the grant id (none for safeunmap and revmap by address)', async () => {
    const w = pagedWorld();
    const { id, s } = await twoMappings(w);
    w.trace.length = 0;
    expect(await w.r.do((p) => p.sys.safeunmap(w.r.base))).toBe(OK);
    expect(await w.g.do((p) => p.sys.saferevmapAddr(w.g.base + PAGE))).toBe(OK);
    expect(await w.g.do((p) => p.sys.saferevmapGid(id))).toBe(OK);
    const grants = w.trace.flatMap((e) =>
      e.kind === 'grant' ? [[e.op, e.caller, e.granter, e.gid, e.result]] : [],
    );
    expect(grants).toEqual([
      ['safeunmap', w.r.ep, NONE, GRANT_INVALID, OK],
      ['saferevmap_addr', w.g.ep, w.g.ep, GRANT_INVALID, OK],
      ['saferevmap_gid', w.g.ep, w.g.ep, id, OK],
    ]);
    expect(w.log.map((q) => [q[0], q[1]])).toEqual([
      [VMPTYPE_SUNMAP, w.r.ep],
      [VMPTYPE_SUNMAP, s.ep],
    ]);
  });

  it('a VM error on the first of two records: returned, and both records stay', async () => {
    const w = pagedWorld((q) => (q[0] === VMPTYPE_SUNMAP ? ENOMEM : undefined));
    const { id } = await twoMappings(w);
    expect(await w.g.do((p) => p.sys.saferevmapGid(id))).toBe(ENOMEM);
    expect(w.log).toHaveLength(1);
    expect(safemapRecords(w.k)).toHaveLength(2);
  });

  it('a grantee that dies while the first record is unmapped: its record is skipped, no request', async () => {
    const ref: { s?: Actor } = {};
    const w = pagedWorld(killAt(VMPTYPE_SUNMAP, () => ref.s));
    const { id, s } = await twoMappings(w);
    ref.s = s;
    expect(await w.g.do((p) => p.sys.saferevmapGid(id))).toBe(OK);
    expect(w.log.map((q) => [q[0], q[1]])).toEqual([[VMPTYPE_SUNMAP, w.r.ep]]);
    expect(safemapRecords(w.k)).toEqual([]);
    grantSanityCheck(w.k);
  });

  it('a grantee that dies while its own record is unmapped, VM answering an error: OK, the record is gone', async () => {
    const ref: { s?: Actor } = {};
    const kill = killAt(VMPTYPE_SUNMAP, () => ref.s, EFAULT);
    const w = pagedWorld((q, k) => (q[1] === ref.s?.ep ? kill(q, k) : undefined));
    const { id, s } = await twoMappings(w);
    ref.s = s;
    expect(await w.g.do((p) => p.sys.saferevmapGid(id))).toBe(OK);
    expect(w.log.map((q) => [q[0], q[1]])).toEqual([
      [VMPTYPE_SUNMAP, w.r.ep],
      [VMPTYPE_SUNMAP, s.ep],
    ]);
    expect(safemapRecords(w.k)).toEqual([]);
  });
});

describe('which records an unmap call breaks', () => {
  it("only the caller's: as granter (by grant id), as owner (by address), as grantee (by address)", async () => {
    const w = pagedWorld();
    const { id, s } = await twoMappings(w);
    // H grants R its page under the same id, at the same virtual address as G's (paged actors share their base).
    const h = w.pagedActor(23, 'H');
    const hid = await h.do((p) => p.cpf.grantDirect(w.r.ep, h.base, PAGE, MAP_RW));
    expect([hid.id, h.base]).toEqual([id, w.g.base]);
    expect(await w.r.do((p) => p.sys.safemap(h.ep, hid.id, 0, w.r.base + PAGE, PAGE, false))).toBe(OK);
    const grantees = (): number[] => safemapRecords(w.k).map((r) => r.grantee);
    expect(grantees()).toEqual([w.r.ep, s.ep, w.r.ep]);
    expect(await h.do((p) => p.sys.saferevmapGid(id))).toBe(OK);
    expect(safemapRecords(w.k).map((r) => r.owner)).toEqual([w.g.ep, w.g.ep]);
    expect(await s.do((p) => p.sys.safeunmap(w.r.base))).toBe(OK);
    expect(grantees()).toEqual([w.r.ep]);
    expect(await h.do((p) => p.sys.saferevmapAddr(w.g.base))).toBe(OK);
    expect(grantees()).toEqual([w.r.ep]);
  });

  it('a request whose owner died and whose slot was reused: the new process holds nothing, and the check agrees', async () => {
    const ref: { g?: Actor; seen?: string | null } = {};
    const w = pagedWorld((q, world) => {
      const g = ref.g;
      if (q[0] !== VMPTYPE_SMAP || g === undefined) return undefined;
      killAndReuseSlot(world.k, g.kp, 'G2');
      ref.seen = messageOf(() => {
        grantSanityCheck(world.k);
      });
      return OK;
    });
    const res = await w.g.do((p) => p.cpf.grantDirect(w.r.ep, w.g.base, PAGE, MAP_RW));
    ref.g = w.g;
    expect(await w.r.do((p) => p.sys.safemap(w.g.ep, res.id, 0, w.r.base, PAGE, false))).toBe(OK);
    expect(ref.seen).toBeNull();
  });
});

describe('safemap', () => {
  it("an SMAP that fails after the owner died (its exit purged the record): other processes' records stay", async () => {
    const ref: { o?: Actor } = {};
    const w = pagedWorld(killAt(VMPTYPE_SMAP, () => ref.o, EFAULT));
    const { s } = await twoMappings(w);
    const o = w.pagedActor(23, 'O');
    ref.o = o;
    const res = await o.do((p) => p.cpf.grantDirect(s.ep, o.base, PAGE, MAP_RW));
    expect(await s.do((p) => p.sys.safemap(o.ep, res.id, 0, s.base + PAGE, PAGE, true))).toBe(EFAULT);
    expect(o.kp.inUse).toBe(false);
    expect(safemapRecords(w.k).map((r) => r.grantee)).toEqual([w.r.ep, s.ep]);
    grantSanityCheck(w.k);
  });
});

describe('grantSanityCheck: what each rule reports', () => {
  /** One record (R maps G's page) and the check's message after `corrupt`, or null when the check passes. */
  async function recordCheck(corrupt: (r: MapRecord, w: PagedWorld) => void): Promise<string | null> {
    const w = pagedWorld();
    const { id } = await twoMappings(w);
    const record = mapRecordTable(w.k)[0];
    if (record === undefined) throw new Error(`no record of grant ${id}`);
    corrupt(record, w);
    return messageOf(() => {
      grantSanityCheck(w.k);
    });
  }

  it('mapping records: the limit, a dead side, one process on both sides, each range misaligned or empty', async () => {
    const what = (r: MapRecord): string => `record ${r.grantee}@${r.granteeAddr} ← ${r.owner}@${r.ownerAddr}`;
    let shown = '';
    expect(await recordCheck((_, w) => ((w.k.config as { maxMapInfo: number }).maxMapInfo = 1))).toBe(
      'kernel sanity MAPINFO_LIMIT: 2 records, at most 1',
    );
    expect(await recordCheck((r) => ((r.grantee = 5000 as Endpoint), (shown = what(r))))).toBe(
      `kernel sanity MAPINFO_LIVE: a side is dead: ${shown}`,
    );
    expect(await recordCheck((r) => ((r.owner = 5000 as Endpoint), (shown = what(r))))).toBe(
      `kernel sanity MAPINFO_LIVE: a side is dead: ${shown}`,
    );
    expect(await recordCheck((r) => ((r.owner = r.grantee), (shown = what(r))))).toBe(
      `kernel sanity MAPINFO_DISTINCT: grantee is the owner: ${shown}`,
    );
    expect(await recordCheck((r) => ((r.ownerAddr += 8), (shown = what(r))))).toBe(
      `kernel sanity MAPINFO_ALIGNED: ${shown} of ${PAGE} bytes`,
    );
    expect(await recordCheck((r) => ((r.granteeAddr += 8), (shown = what(r))))).toBe(
      `kernel sanity MAPINFO_ALIGNED: ${shown} of ${PAGE} bytes`,
    );
    expect(await recordCheck((r) => ((r.bytes = 0), (shown = what(r))))).toBe(
      `kernel sanity MAPINFO_ALIGNED: ${shown} of 0 bytes`,
    );
    expect(await recordCheck(() => undefined)).toBeNull();
  });

  it("VM requests and grant tables: the process named; a free slot's holds are checked, its table is not", async () => {
    const held = pagedWorld();
    const { s } = await twoMappings(held);
    const r = held.r.kp;
    const g = held.g.kp;
    const check = (): string | null =>
      messageOf(() => {
        grantSanityCheck(held.k);
      });
    // A request of R's naming G, put in the queue by hand, then a second one.
    const request = {
      reqType: VMPTYPE_SMAP,
      requestor: r,
      target: r,
      targetEndpoint: r.endpoint,
      start: 0,
      length: PAGE,
      write: false,
      source: g,
      sourceEndpoint: g.endpoint,
      sourceAddr: 0,
    };
    r.rts |= RTS.VMREQUEST;
    held.k.vmRequests.waiting.push(request, { ...request });
    expect(check()).toBe('kernel sanity VMREQ_ONE: R has two outstanding VM requests');
    held.k.vmRequests.waiting.pop();
    expect(check()).toBe('kernel sanity VMREQ_HOLDS: G has 0 VMREQTARGET holds, 1 requests name it');
    r.rts &= ~RTS.VMREQUEST;
    expect(check()).toBe('kernel sanity VMREQ_BLOCKED: R does not wait in VMREQUEST');
    held.k.vmRequests.waiting.pop();
    // S exits: its slot's table, whoever registered it, is not checked any more; its holds are (a free slot holds
    // nothing).
    await s.exit();
    s.kp.vmHolds = 1;
    expect(check()).toBe('kernel sanity VMREQ_HOLDS: S has 1 VMREQTARGET holds, 0 requests name it');
    s.kp.vmHolds = 0;
    s.kp.priv.grantTable = { addr: s.base, entries: 1, registeredBy: r.endpoint };
    expect(check()).toBeNull();
    const t = g.priv.grantTable;
    if (t === null) throw new Error('G has no grant table');
    g.priv.grantTable = { ...t, registeredBy: r.endpoint };
    expect(check()).toBe(`kernel sanity GRANT_TABLE_OWNER: G holds the table ${r.endpoint} registered`);
    g.priv.grantTable = t;
    expect(check()).toBeNull();
  });
});
