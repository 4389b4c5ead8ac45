// Integrity and confinement over random programs of V, P and A (test/security/program.ts), on a real system
// with the sanity checkers after every step. After every operation of process X:
// - integrity: every byte that changed in another actor Y lies in a range X could write before the operation —
//   a live grant with WRITE held by X (direct, through an indirect chain ending at X, or to ANY) or pages
//   physically shared through a mapping with memory X may write (secworld.ts writableBy). X's own pages may
//   change freely.
// - confinement: every edge the authority graph gained is explained by the operation: a grant X made over its
//   own memory to its grantee; a delegation (indirect grant) of authority X already held; a mapping X made
//   through a grant it held with MAP; an entry over X's own memory changed by a copy into X's memory, where its
//   grant table lives. Nothing else adds authority (DS label lookups give endpoints, not memory).
import { describe, expect } from 'vitest';
import { test as fcTest, fc } from '@fast-check/vitest';
import { OK } from '../../src/include/errno.ts';
import { NAMES, PAGES, authorityGraph, pagesOf, secWorld, writableBy } from './secworld.ts';
import type { SecWorld } from './secworld.ts';
import { Runner, programArb } from './program.ts';
import type { Op, Who } from './program.ts';

const holderName = (w: SecWorld, r: Runner, who: Who): string | null => {
  if ('any' in who) return 'ANY';
  if ('actor' in who) return NAMES[who.actor] ?? null;
  const i = w.actors.findIndex((a) => a.ep === r.ep(who));
  return i < 0 ? null : (NAMES[i] ?? null);
};

/** Why a new edge `holder>owner@page:how` may appear after `op`; null if nothing explains it. */
function explained(
  edge: string,
  op: Op,
  result: number | null,
  before: Set<string>,
  w: SecWorld,
  r: Runner,
): boolean {
  if (result !== OK) return false;
  const m = /^(\w+)>(\w)@(\d+):([gm])(\w*)$/.exec(edge);
  if (m === null) return false;
  const [, holder, owner, page, kind, how = ''] = m;
  const self = NAMES[op.who];
  // X's grant table lies in X's memory past its pages: a copy into X that runs on may change entries over X's pages.
  if (owner === self && op.k === 'copy' && !op.to) return true;
  if (op.k === 'grant') return kind === 'g' && owner === self && holder === holderName(w, r, op.to);
  if (op.k === 'indirect') {
    if (kind !== 'g' || holder !== holderName(w, r, op.to)) return false;
    return before.has(`${self}>${owner}@${page}:g${how}`) || before.has(`ANY>${owner}@${page}:g${how}`);
  }
  if (op.k === 'map' && kind === 'm' && holder === self) {
    const need = how.includes('W') ? ['RWM'] : ['RM', 'RWM'];
    return need.some(
      (n) => before.has(`${self}>${owner}@${page}:g${n}`) || before.has(`ANY>${owner}@${page}:g${n}`),
    );
  }
  return false;
}

async function check(ops: readonly Op[], cow: boolean): Promise<void> {
  const w = await secWorld({ cowSafecopy: cow, trace: null });
  const r = new Runner(w);
  for (const [n, raw] of ops.entries()) {
    const op = r.byHolder(raw) ?? raw;
    const mem = w.actors.map((_, i) => pagesOf(w, i));
    const allowed = w.actors.map((_, y) => writableBy(w, op.who, y));
    const graph = authorityGraph(w);
    const result = await r.apply(op);
    w.sys.sanityCheck();
    const where = `op ${n} ${JSON.stringify(op)} → ${String(result)}`;
    for (let y = 0; y < w.actors.length; y++) {
      const now = pagesOf(w, y);
      const old = mem[y] ?? now;
      const ok = allowed[y] ?? (() => false);
      for (let i = 0; i < PAGES * 4096; i++) {
        if (now[i] !== old[i] && !ok(i))
          expect.fail(`integrity: ${where} changed ${NAMES[y] ?? y}'s byte ${i}`);
      }
    }
    const grown = [...authorityGraph(w)].filter((e) => !graph.has(e));
    const bad = grown.filter((e) => !explained(e, op, result, graph, w, r));
    expect(bad, `confinement: ${where} added authority`).toEqual([]);
  }
}

const budget = { numRuns: Number(process.env.SECURITY_RUNS ?? 10), timeout: 60_000 };

describe('integrity and confinement', () => {
  fcTest.prop([programArb, fc.boolean()], budget)(
    'no write without a right, no authority without a grant, delegation or mapping',
    async (ops, cow) => {
      await check(ops, cow);
    },
  );

  fcTest.prop([fc.constant(0)], { numRuns: 1 })(
    'a write through a live WRITE grant is allowed; one after revoke is refused (the check can fail)',
    async () => {
      // A fixed program: A's copy through V's WRITE grant changes V's bytes (allowed); after V revokes, the same
      // copy fails and changes nothing.
      const ops: Op[] = [
        { k: 'grant', who: 0, to: { actor: 2 }, page: 1, off: 0, len: 4096, access: 2 },
        { k: 'write', who: 2, page: 3, byte: 0x77 },
        { k: 'copy', who: 2, byHolder: false, to: true, h: { pick: 0 }, off: 0, bytes: 4096, page: 3 },
        { k: 'revoke', who: 0, pick: 0 },
        { k: 'write', who: 2, page: 3, byte: 0x78 },
        { k: 'copy', who: 2, byHolder: false, to: true, h: { pick: 0 }, off: 0, bytes: 4096, page: 3 },
      ];
      await check(ops, true);
      // And the checker itself: with the grant's rights ignored, A's write into V would be flagged.
      const w = await secWorld({ trace: null });
      const r = new Runner(w);
      await r.apply(ops[0] as Op);
      await r.apply(ops[1] as Op);
      const ok = writableBy(w, 2, 0);
      expect(ok(4096)).toBe(true);
      expect(ok(0)).toBe(false);
      await r.apply(ops[3] as Op);
      expect(writableBy(w, 2, 0)(4096)).toBe(false);
    },
  );

  fcTest.prop([fc.constant(0)], { numRuns: 1 })(
    "a copy into X that runs past its pages may rewrite X's own grant table (fast-check seed 1609942971)",
    async () => {
      // P's table lies after its 8 pages: a copy of 4097 bytes to P's last page writes a byte of it, and P's grant to
      // ANY changes its flags. P may do that: the entries are over P's own memory.
      const ops: Op[] = [
        { k: 'grant', who: 0, to: { actor: 1 }, page: 0, off: 0, len: 8192, access: 1 },
        { k: 'grant', who: 1, to: { any: true }, page: 0, off: 1, len: 4096, access: 1 },
        { k: 'copy', who: 1, byHolder: false, to: false, h: { pick: 0 }, off: 0, bytes: 4097, page: 7 },
      ];
      await check(ops, false);
    },
  );

  fcTest.prop([fc.constant(0)], { numRuns: 1 })(
    "a write through a grant reaches whoever maps the granter's page (fast-check seed -169367045)",
    async () => {
      // V maps A's page 3 read-only; P writes A's page 3 through A's WRITE grant, and V sees the bytes change.
      // That is allowed: the pages are physically shared, and P's grant reaches them.
      const ops: Op[] = [
        { k: 'grant', who: 2, to: { actor: 0 }, page: 3, off: 0, len: 4096, access: 7 },
        { k: 'grant', who: 2, to: { actor: 1 }, page: 3, off: 0, len: 4096, access: 7 },
        { k: 'map', who: 0, byHolder: true, h: { pick: 0 }, offPages: 0, page: 0, pages: 1, writable: false },
        { k: 'write', who: 1, page: 3, byte: 0x55 },
        { k: 'copy', who: 1, byHolder: true, to: true, h: { pick: 1 }, off: 0, bytes: 16, page: 3 },
      ];
      await check(ops, false);
      const w = await secWorld({ trace: null });
      const r = new Runner(w);
      for (const op of ops.slice(0, 3)) expect(await r.apply(op)).toBe(OK);
      expect(writableBy(w, 1, 0)(0)).toBe(true);
      expect(writableBy(w, 1, 0)(4096)).toBe(false);
    },
  );
});
