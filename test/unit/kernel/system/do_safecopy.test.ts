// sys_safecopyfrom/to and sys_vsafecopy's edges on a bare kernel (spec/grants.md §5): the counters, a copy that waits
// for VM while another caller copies, a VM that answers CHECK OK and maps nothing, which copies go copy-on-write,
// a side that dies while COWMAP runs, and a fractional vector count. Written for do_safecopy.ts's mutation pass.
import { describe, expect, it } from 'vitest';
import { MiB, grantWorld } from '../../../helpers/grantworld.ts';
import type { Actor } from '../../../helpers/grantworld.ts';
import { PAGE, mapPages, pagedWorld } from '../../../helpers/pagedworld.ts';
import { SELF } from '../../../../src/include/endpoint.ts';
import { EINVAL, EPERM, OK } from '../../../../src/include/errno.ts';
import { VMPTYPE_CHECK, VMPTYPE_COWMAP } from '../../../../src/include/com.ts';
import { CPF_READ, CPF_WRITE, encodeScpVector } from '../../../../src/include/safecopies.ts';
import { pattern } from '../../../helpers/bytes.ts';

async function grant(a: Actor, to: number, addr: number, len: number, access = CPF_READ): Promise<number> {
  const res = await a.do((p) => p.cpf.grantDirect(to, addr, len, access));
  expect(res.errno).toBe(OK);
  return res.id;
}

describe('safecopy: counters and traces', () => {
  it('counts each successful copy and its bytes (vector elements too), and no failed one', async () => {
    const w = grantWorld();
    const g = w.actor(20, 'G');
    const r = w.actor(21, 'R');
    const id = await grant(g, r.ep, g.base, 100, CPF_READ | CPF_WRITE);
    const counts = (): [number, number] => [w.k.counts.safecopies, w.k.counts.safecopyBytes];
    expect(await r.do((p) => p.sys.safecopyFrom(g.ep, id, 0, r.base, 10))).toBe(OK);
    expect(await r.do((p) => p.sys.safecopyTo(g.ep, id, 0, r.base, 7))).toBe(OK);
    expect(await r.do((p) => p.sys.safecopyFrom(g.ep, id, 0, r.base, 101))).toBe(EPERM);
    expect(counts()).toEqual([2, 17]);
    const vec = r.base + 0x1000;
    r.poke(
      vec,
      encodeScpVector([
        { from: g.ep, to: SELF, gid: id, offset: 0, addr: r.base, bytes: 3 },
        { from: g.ep, to: SELF, gid: id, offset: 99, addr: r.base, bytes: 2 },
      ]),
    );
    expect(await r.do((p) => p.sys.vsafecopy(vec, 2))).toBe(EPERM);
    expect(counts()).toEqual([3, 20]);
  });

  it('traces safecopyto, and each vector element with its granter (v_from of an element without SELF)', async () => {
    const w = grantWorld();
    const g = w.actor(20, 'G');
    const r = w.actor(21, 'R');
    const id = await grant(g, r.ep, g.base, 100, CPF_READ | CPF_WRITE);
    const vec = r.base + 0x1000;
    r.poke(
      vec,
      encodeScpVector([
        { from: SELF, to: g.ep, gid: id, offset: 0, addr: r.base, bytes: 3 },
        { from: g.ep, to: r.ep, gid: 7, offset: 0, addr: r.base, bytes: 3 },
      ]),
    );
    w.trace.length = 0;
    expect(await r.do((p) => p.sys.safecopyTo(g.ep, id, 0, r.base, 4))).toBe(OK);
    expect(await r.do((p) => p.sys.vsafecopy(vec, 2))).toBe(EINVAL);
    const grants = w.trace.flatMap((e) =>
      e.kind === 'grant' ? [[e.op, e.caller, e.granter, e.gid, e.result]] : [],
    );
    expect(grants).toEqual([
      ['safecopyto', r.ep, g.ep, id, OK],
      ['vsafecopy', r.ep, g.ep, id, OK],
      ['vsafecopy', r.ep, g.ep, 7, EINVAL],
    ]);
  });
});

describe('safecopy: waits for VM', () => {
  it('a copy that waits on CHECK keeps its own arguments while another caller copies', async () => {
    const s = pagedWorld();
    const x = s.pagedActor(22, 'X');
    mapPages(s.g, 2);
    mapPages(x, 1);
    s.g.poke(s.g.base, pattern(2 * PAGE, 1));
    const toR = await grant(s.g, s.r.ep, s.g.base, PAGE);
    const toX = await grant(s.g, x.ep, s.g.base + PAGE, 64);
    s.trace.length = 0;
    // R's destination is unmapped: its copy waits on a CHECK while X's copy (all mapped) completes.
    const waiting = s.r.start((p) => p.sys.safecopyFrom(s.g.ep, toR, 100, s.r.base + 100, 300));
    const quick = x.start((p) => p.sys.safecopyFrom(s.g.ep, toX, 8, x.base + 8, 16));
    await s.k.run();
    expect([waiting.result(), quick.result()]).toEqual([OK, OK]);
    expect([...s.r.peek(s.r.base + 100, 300)]).toEqual([...pattern(2 * PAGE, 1).subarray(100, 400)]);
    expect([...x.peek(x.base + 8, 16)]).toEqual([...pattern(2 * PAGE, 1).subarray(PAGE + 8, PAGE + 24)]);
    expect(s.log).toEqual([[VMPTYPE_CHECK, s.r.ep, s.r.base + 100, 300]]);
    const copies = s.trace.flatMap((e) => (e.kind === 'grant' ? [[e.caller, e.gid, e.result]] : []));
    expect(copies).toContainEqual([s.r.ep, toR, OK]);
    expect(copies).toContainEqual([x.ep, toX, OK]);
    expect(s.k.counts.safecopyBytes).toBe(316);
  });

  it('a VM that answers CHECK OK but maps nothing: the kernel panics after 64 restarts', async () => {
    const s = pagedWorld(() => OK);
    mapPages(s.g, 1);
    const id = await grant(s.g, s.r.ep, s.g.base, PAGE);
    await expect(s.r.do((p) => p.sys.safecopyFrom(s.g.ep, id, 0, s.r.base, 16))).rejects.toThrow(
      /R restarted 65 times/,
    );
    expect(s.log).toHaveLength(65);
  });

  it('a granter killed while COWMAP runs, answered OK: the copy restarts and finds no granter (EINVAL)', async () => {
    const ref: { g?: Actor } = {};
    const s = pagedWorld((q, w) => {
      if (q[0] !== VMPTYPE_COWMAP || ref.g === undefined) return undefined;
      w.k.terminate(ref.g.kp, { code: 0, signal: 9 });
      return OK;
    });
    ref.g = s.g;
    mapPages(s.g, 2);
    mapPages(s.r, 2);
    const id = await grant(s.g, s.r.ep, s.g.base, 2 * PAGE);
    expect(await s.r.do((p) => p.sys.safecopyFrom(s.g.ep, id, 0, s.r.base, 2 * PAGE))).toBe(EINVAL);
    expect(s.log.map((q) => q[0])).toEqual([VMPTYPE_COWMAP]);
    expect(s.k.counts.safecopies).toBe(0);
  });
});

describe('safecopy: which copies go copy-on-write', () => {
  it('a head and exactly one whole page: one COWMAP of that page, no tail', async () => {
    const s = pagedWorld();
    mapPages(s.g, 2);
    mapPages(s.r, 2);
    s.g.poke(s.g.base, pattern(2 * PAGE, 4));
    const id = await grant(s.g, s.r.ep, s.g.base, 2 * PAGE);
    expect(await s.r.do((p) => p.sys.safecopyFrom(s.g.ep, id, 100, s.r.base + 100, 2 * PAGE - 100))).toBe(OK);
    expect(s.log).toEqual([[VMPTYPE_COWMAP, s.r.ep, s.r.base + PAGE, PAGE]]);
    expect([...s.r.peek(s.r.base + 100, 2 * PAGE - 100)]).toEqual([...pattern(2 * PAGE, 4).subarray(100)]);
  });

  it('a copy within one process, or between processes without page tables, is a plain copy', async () => {
    const s = pagedWorld();
    mapPages(s.g, 4);
    s.g.poke(s.g.base, pattern(2 * PAGE, 6));
    const self = await grant(s.g, s.g.ep, s.g.base, 2 * PAGE);
    expect(await s.g.do((p) => p.sys.safecopyFrom(s.g.ep, self, 0, s.g.base + 2 * PAGE, 2 * PAGE))).toBe(OK);
    expect([...s.g.peek(s.g.base + 2 * PAGE, 2 * PAGE)]).toEqual([...pattern(2 * PAGE, 6)]);
    expect(s.log).toEqual([]);
    // Identity-extent processes (no page table) and no VM at all: a COWMAP would never be answered.
    const w = grantWorld();
    const g = w.actor(20, 'G');
    const r = w.actor(21, 'R');
    g.poke(g.base, pattern(2 * PAGE, 8));
    const id = await grant(g, r.ep, g.base, 2 * PAGE);
    expect(await r.do((p) => p.sys.safecopyFrom(g.ep, id, 0, r.base + MiB / 4, 2 * PAGE))).toBe(OK);
    expect([...r.peek(r.base + MiB / 4, 2 * PAGE)]).toEqual([...pattern(2 * PAGE, 8)]);
  });
});

describe('vsafecopy: the count', () => {
  it('a fractional count → EINVAL, nothing copied', async () => {
    const w = grantWorld();
    const g = w.actor(20, 'G');
    const r = w.actor(21, 'R');
    g.poke(g.base, pattern(8, 1));
    const id = await grant(g, r.ep, g.base, 8);
    const vec = r.base + 0x1000;
    r.poke(vec, encodeScpVector([{ from: g.ep, to: SELF, gid: id, offset: 0, addr: r.base, bytes: 8 }]));
    expect(await r.do((p) => p.sys.vsafecopy(vec, 1.5))).toBe(EINVAL);
    expect([...r.peek(r.base, 8)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(await r.do((p) => p.sys.vsafecopy(vec, 1))).toBe(OK);
    expect([...r.peek(r.base, 8)]).toEqual([...pattern(8, 1)]);
  });
});
