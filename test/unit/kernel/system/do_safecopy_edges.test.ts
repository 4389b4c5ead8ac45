// sys_safecopyfrom/to and sys_vsafecopy's edges on a bare kernel (spec/grants.md §5), written for the survivors of
// do_safecopy.ts's mutation pass: a vector count that is negative, or above SCPVEC_NR with a readable vector; a vector
// at address 0 or on a read-only page; a caller range past 2^32; a destination at address 0; the restart limit
// on the copy-on-write path; a COWMAP answered EDEADSRCDST, or an error or OK with a side dead or replaced.
import { describe, expect, it } from 'vitest';
import { grantWorld } from '../../../helpers/grantworld.ts';
import type { Actor, World } from '../../../helpers/grantworld.ts';
import { PAGE, killAndReuseSlot, mapPages, pagedWorld } from '../../../helpers/pagedworld.ts';
import type { PagedWorld, VmReq } from '../../../helpers/pagedworld.ts';
import { SELF } from '../../../../src/include/endpoint.ts';
import { EDEADSRCDST, EFAULT, EINVAL, ENOMEM, OK } from '../../../../src/include/errno.ts';
import { VMPTYPE_CHECK, VMPTYPE_COWMAP } from '../../../../src/include/com.ts';
import { CPF_READ, SCPVEC_NR, encodeScpVector } from '../../../../src/include/safecopies.ts';
import { pattern } from '../../../helpers/bytes.ts';

async function grant(a: Actor, to: number, addr: number, len: number): Promise<number> {
  const res = await a.do((p) => p.cpf.grantDirect(to, addr, len, CPF_READ));
  expect(res.errno).toBe(OK);
  return res.id;
}

/** G grants R its first `len` bytes of a known pattern (grantWorld, identity extents). */
async function bareCopy(): Promise<{ g: Actor; r: Actor; id: number }> {
  const w = grantWorld();
  const g = w.actor(20, 'G');
  const r = w.actor(21, 'R');
  g.poke(g.base, pattern(64, 3));
  return { g, r, id: await grant(g, r.ep, g.base, 64) };
}

describe('vsafecopy: the count and the vector', () => {
  it('a negative count → EFAULT, whole or not; above SCPVEC_NR → EINVAL with a readable vector, nothing copied', async () => {
    const { g, r, id } = await bareCopy();
    const vec = r.base + 0x1000;
    const el = { from: g.ep, to: SELF, gid: id, offset: 0, addr: r.base, bytes: 8 };
    r.poke(vec, encodeScpVector(Array.from({ length: SCPVEC_NR + 1 }, () => el)));
    expect(await r.do((p) => p.sys.vsafecopy(vec, -1))).toBe(EFAULT);
    expect(await r.do((p) => p.sys.vsafecopy(vec, -0.5))).toBe(EFAULT);
    expect(await r.do((p) => p.sys.vsafecopy(vec, SCPVEC_NR + 1))).toBe(EINVAL);
    expect([...r.peek(r.base, 8)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(await r.do((p) => p.sys.vsafecopy(vec, SCPVEC_NR))).toBe(OK);
    expect([...r.peek(r.base, 8)]).toEqual([...pattern(8, 3)]);
  });

  it('a vector at address 0, outside the caller → EFAULT; a vector on a read-only page is read', async () => {
    const { r } = await bareCopy();
    expect(await r.do((p) => p.sys.vsafecopy(0, 1))).toBe(EFAULT);
    const s = pagedWorld();
    mapPages(s.g, 1);
    mapPages(s.r, 1);
    s.g.poke(s.g.base, pattern(16, 5));
    const id = await grant(s.g, s.r.ep, s.g.base, 16);
    const vec = s.r.base + PAGE;
    s.r.mapPage(vec, false);
    s.r.poke(
      vec,
      encodeScpVector([{ from: s.g.ep, to: SELF, gid: id, offset: 0, addr: s.r.base, bytes: 16 }]),
    );
    expect(await s.r.do((p) => p.sys.vsafecopy(vec, 1))).toBe(OK);
    expect([...s.r.peek(s.r.base, 16)]).toEqual([...pattern(16, 5)]);
    expect(s.log).toEqual([]);
  });
});

describe('safecopy: the caller range', () => {
  it('a range past 2^32 → EFAULT before any VM request', async () => {
    const s = pagedWorld();
    mapPages(s.g, 1);
    const id = await grant(s.g, s.r.ep, s.g.base, 64);
    expect(await s.r.do((p) => p.sys.safecopyFrom(s.g.ep, id, 0, 2 ** 32 - 16, 32))).toBe(EFAULT);
    expect(s.log).toEqual([]);
  });

  it('a destination at address 0 is CHECKed like any other, then written', async () => {
    const s = pagedWorld();
    mapPages(s.g, 1);
    s.g.poke(s.g.base, pattern(16, 9));
    const id = await grant(s.g, s.r.ep, s.g.base, 16);
    expect(await s.r.do((p) => p.sys.safecopyFrom(s.g.ep, id, 0, 0, 16))).toBe(OK);
    expect(s.log).toEqual([[VMPTYPE_CHECK, s.r.ep, 0, 16]]);
    expect([...s.r.peek(0, 16)]).toEqual([...pattern(16, 9)]);
  });
});

describe('safecopy: copy-on-write restarts', () => {
  /** G's first three pages mapped with a pattern, a grant of them to R; R's pages mapped if `mapR`. */
  async function cowWorld(
    hook: (q: VmReq, w: World) => number | undefined,
    mapR: boolean,
  ): Promise<{ s: PagedWorld; id: number }> {
    const s = pagedWorld(hook);
    mapPages(s.g, 3);
    if (mapR) mapPages(s.r, 3);
    s.g.poke(s.g.base, pattern(3 * PAGE, 2));
    return { s, id: await grant(s.g, s.r.ep, s.g.base, 3 * PAGE) };
  }

  it('a VM that answers CHECK OK but maps nothing: the kernel panics after 64 restarts (COW path)', async () => {
    const { s, id } = await cowWorld(() => OK, false);
    await expect(
      s.r.do((p) => p.sys.safecopyFrom(s.g.ep, id, 100, s.r.base + 100, 2 * PAGE)),
    ).rejects.toThrow(/R restarted 65 times/);
    expect(s.log).toHaveLength(65);
  });

  it('a VM that always answers COWMAP EDEADSRCDST: the kernel panics after 64 restarts', async () => {
    const { s, id } = await cowWorld((q) => (q[0] === VMPTYPE_COWMAP ? EDEADSRCDST : undefined), true);
    await expect(s.r.do((p) => p.sys.safecopyFrom(s.g.ep, id, 0, s.r.base, 2 * PAGE))).rejects.toThrow(
      /R restarted 65 times/,
    );
    expect(s.log.every((q) => q[0] === VMPTYPE_COWMAP)).toBe(true);
  });

  it('a COWMAP answered EDEADSRCDST once, both sides alive: the copy restarts and completes', async () => {
    let answered = false;
    const { s, id } = await cowWorld((q) => {
      if (q[0] !== VMPTYPE_COWMAP || answered) return undefined;
      answered = true;
      return EDEADSRCDST;
    }, true);
    expect(await s.r.do((p) => p.sys.safecopyFrom(s.g.ep, id, 0, s.r.base, 2 * PAGE))).toBe(OK);
    expect(s.log.map((q) => q[0])).toEqual([VMPTYPE_COWMAP, VMPTYPE_COWMAP]);
    expect([...s.r.peek(s.r.base, 2 * PAGE)]).toEqual([...pattern(2 * PAGE, 2)]);
  });

  it('a COWMAP error with the granter dead is the result; OK with its slot reused restarts (EINVAL)', async () => {
    const ref: { victim?: Actor } = {};
    const kill = (answer: number) => (q: VmReq, w: World) => {
      if (q[0] !== VMPTYPE_COWMAP || ref.victim === undefined) return undefined;
      if (answer === OK) killAndReuseSlot(w.k, ref.victim.kp, 'G2');
      else w.k.terminate(ref.victim.kp, { code: 0, signal: 9 });
      return answer;
    };
    const a = await cowWorld(kill(ENOMEM), true);
    ref.victim = a.s.g;
    expect(await a.s.r.do((p) => p.sys.safecopyFrom(a.s.g.ep, a.id, 0, a.s.r.base, 2 * PAGE))).toBe(ENOMEM);
    const b = await cowWorld(kill(OK), true);
    ref.victim = b.s.g;
    expect(await b.s.r.do((p) => p.sys.safecopyFrom(b.s.g.ep, b.id, 0, b.s.r.base, 2 * PAGE))).toBe(EINVAL);
    expect(b.s.log.map((q) => q[0])).toEqual([VMPTYPE_COWMAP]);
    expect(b.s.k.counts.safecopies).toBe(0);
  });
});
