// sys_safemap, sys_saferevmap and sys_safeunmap's edges on a bare kernel with a fake VM (spec/grants.md §6): the
// traces of the unmap calls, several records broken by one call while processes die in between, a VM error in
// the middle, and a failed SMAP whose record an exit already purged. Written for do_safemap.ts's mutation pass.
import { describe, expect, it } from 'vitest';
import type { Actor, World } from '../../../helpers/grantworld.ts';
import { PAGE, pagedWorld } from '../../../helpers/pagedworld.ts';
import type { PagedWorld, VmReq } from '../../../helpers/pagedworld.ts';
import { ANY, NONE } from '../../../../src/include/endpoint.ts';
import { EFAULT, ENOMEM, OK } from '../../../../src/include/errno.ts';
import { VMPTYPE_SMAP, VMPTYPE_SUNMAP } from '../../../../src/include/com.ts';
import { CPF_MAP, CPF_READ, CPF_WRITE, GRANT_INVALID } from '../../../../src/include/safecopies.ts';
import { grantSanityCheck, safemapRecords } from '../../../../src/kernel/system/do_safemap.ts';

const MAP_RW = CPF_MAP | CPF_READ | CPF_WRITE;

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
