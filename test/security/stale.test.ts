// Stale handles: V grants pages to A, revokes, is killed and restarted by RS (a new endpoint generation), and A
// is too; A keeps every (endpoint, grant id) it was ever given and uses them at random — safecopy from, to, and
// safemap. In the default generational mode a handle works iff V's endpoint is still live, the grant is not
// revoked and it was given to A's current endpoint; every other use fails with the spec's code — a dead granter
// EINVAL (spec/grants.md §4 1a), a revoked id or a grant to A's dead predecessor EPERM (§4 1d, 3) — and moves
// no byte. In 'legacy' mode the same checker finds the 2010 hazard: a revoked id reaches the next grant's memory.
import { describe, expect, it } from 'vitest';
import { test as fcTest, fc } from '@fast-check/vitest';
import { EINVAL, EPERM, OK } from '../../src/include/errno.ts';
import { CPF_MAP, CPF_READ, CPF_WRITE } from '../../src/include/safecopies.ts';
import { PAGE, pagesOf, secWorld } from './secworld.ts';
import type { SecWorld } from './secworld.ts';

type StaleOp =
  | { k: 'grant'; page: number }
  | { k: 'revoke'; pick: number }
  | { k: 'restartV' }
  | { k: 'restartA' }
  | { k: 'use'; pick: number; how: 'from' | 'to' | 'map' };

interface Handle {
  granter: number;
  id: number;
  to: number;
  page: number;
  revoked: boolean;
}

const V = 0;
const A = 2;
const RWM = CPF_READ | CPF_WRITE | CPF_MAP;

const opArb: fc.Arbitrary<StaleOp> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({ k: fc.constant('grant' as const), page: fc.integer({ min: 0, max: 3 }) }),
  },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('revoke' as const), pick: fc.nat(20) }) },
  { weight: 1, arbitrary: fc.constant({ k: 'restartV' as const }) },
  { weight: 1, arbitrary: fc.constant({ k: 'restartA' as const }) },
  {
    weight: 5,
    arbitrary: fc.record({
      k: fc.constant('use' as const),
      pick: fc.nat(40),
      how: fc.constantFrom('from' as const, 'to' as const, 'map' as const),
    }),
  },
);

async function restart(w: SecWorld, i: number): Promise<void> {
  const d = w.actors[i];
  if (d === undefined) throw new Error('no actor');
  const old = d.ep;
  w.sys.kill(old);
  await w.sys.run();
  if (d.ep === old || !d.alive()) throw new Error(`${d.label} was not restarted`);
}

/** Runs the ops; returns every use that went against the rule above (empty when the system is safe). */
async function violations(ops: readonly StaleOp[], grantIds: 'generational' | 'legacy'): Promise<string[]> {
  const w = await secWorld({ grantIds, trace: null }, 50);
  const v = w.actors[V];
  const a = w.actors[A];
  if (v === undefined || a === undefined) throw new Error('no actors');
  const handles: Handle[] = [];
  const bad: string[] = [];
  let stamp = 1;
  for (const op of ops) {
    if (op.k === 'grant') {
      // Every grant's page gets fresh contents, so a copy through a stale id would show whose bytes it reached.
      const fill = stamp++;
      const g = await v.do(async (p) => {
        await p.write(v.buf + op.page * PAGE, new Uint8Array(PAGE).fill(fill));
        return p.cpf.grantDirect(a.ep, v.buf + op.page * PAGE, PAGE, RWM);
      });
      if (g.errno === OK) handles.push({ granter: v.ep, id: g.id, to: a.ep, page: op.page, revoked: false });
    } else if (op.k === 'revoke') {
      const mine = handles.filter((h) => h.granter === v.ep && !h.revoked);
      const h = mine[op.pick % Math.max(1, mine.length)];
      if (h !== undefined && (await v.do((p) => p.cpf.revoke(h.id))) === OK) h.revoked = true;
    } else if (op.k === 'restartV' || op.k === 'restartA') {
      await restart(w, op.k === 'restartV' ? V : A);
    } else {
      const h = handles[op.pick % Math.max(1, handles.length)];
      if (h === undefined) continue;
      const current = h.granter === v.ep && !h.revoked && h.to === a.ep;
      const expected = current ? OK : h.granter !== v.ep ? EINVAL : EPERM;
      const before = [pagesOf(w, V), pagesOf(w, A)];
      const dst = a.buf + 4 * PAGE;
      const r = await a.do(async (p) => {
        if (op.how === 'from') return p.sys.safecopyFrom(h.granter, h.id, 0, dst, PAGE);
        if (op.how === 'to') return p.sys.safecopyTo(h.granter, h.id, 0, dst, PAGE);
        const m = await p.sys.safemap(h.granter, h.id, 0, dst, PAGE, false);
        if (m === OK) await p.sys.safeunmap(dst);
        return m;
      });
      w.sys.sanityCheck();
      const what = `${op.how} through ${JSON.stringify(h)} (V ${v.ep}, A ${a.ep})`;
      if (r !== expected) bad.push(`${what}: ${r}, expected ${expected}`);
      const after = [pagesOf(w, V), pagesOf(w, A)];
      const moved = after.some((x, i) => !x.every((b, j) => b === before[i]?.[j]));
      if (!current && moved) bad.push(`${what}: bytes moved through a stale handle`);
    }
  }
  return bad;
}

describe('stale handles', () => {
  fcTest.prop([fc.array(opArb, { minLength: 6, maxLength: 24 })], {
    numRuns: Number(process.env.SECURITY_RUNS ?? 10),
    timeout: 60_000,
  })(
    'generational: no revoked id, dead granter or grant to a dead grantee reaches memory; each fails with its code',
    async (ops) => {
      expect(await violations(ops, 'generational')).toEqual([]);
    },
  );

  // Checklist item 4 (spec/grants.md §3.3): the hazard the generational ids remove.
  const hazard: StaleOp[] = [
    { k: 'grant', page: 0 },
    { k: 'revoke', pick: 0 },
    { k: 'grant', page: 1 },
    { k: 'use', pick: 0, how: 'from' },
  ];

  it('legacy: a revoked id is handed out again and reaches the new grant (the checker catches it)', async () => {
    const found = await violations(hazard, 'legacy');
    expect(found.some((f) => f.includes('0, expected -1'))).toBe(true);
    expect(found.some((f) => f.includes('bytes moved through a stale handle'))).toBe(true);
  });

  it('generational: the same sequence fails with EPERM and moves nothing', async () => {
    expect(await violations(hazard, 'generational')).toEqual([]);
  });

  it('restarts: a dead granter gives EINVAL, a grant to a dead grantee EPERM, in both modes', async () => {
    const seq: StaleOp[] = [
      { k: 'grant', page: 0 },
      { k: 'restartA' },
      { k: 'use', pick: 0, how: 'from' },
      { k: 'grant', page: 1 },
      { k: 'restartV' },
      { k: 'use', pick: 1, how: 'map' },
      { k: 'grant', page: 2 },
      { k: 'use', pick: 2, how: 'to' },
    ];
    for (const mode of ['generational', 'legacy'] as const) expect(await violations(seq, mode)).toEqual([]);
  });
});
