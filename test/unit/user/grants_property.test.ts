// Properties of grants over random operation sequences on a real system (spec/grants.md §8 items 58, 59):
// three RS services A, B, C, each with 4 own pages (0–3, the only pages they grant) and 4 map pages (4–7,
// where safemap puts what they map). Operations: write a page, grant a page (R, W, RW, R|MAP, RW|MAP),
// revoke, safecopyto, safecopyfrom, safemap (read-only or writable), safeunmap. Grants are chosen among the
// live ones only, so no stale id is ever used. Small budgets: each run boots a system.
import { describe, expect } from 'vitest';
import { test as fcTest, fc } from '@fast-check/vitest';
import { OK } from '../../../src/include/errno.ts';
import { CPF_MAP, CPF_READ, CPF_WRITE } from '../../../src/include/safecopies.ts';
import { kwalk } from '../../../src/kernel/memory.ts';
import { createSystem } from '../../../src/sim/system.ts';
import type { System } from '../../../src/sim/system.ts';
import { PAGE, drivenActor } from '../../helpers/driven.ts';
import type { Driven } from '../../helpers/driven.ts';

const NPROC = 3;
const RWM = CPF_READ | CPF_WRITE | CPF_MAP;
/** Biased towards RW|MAP so that writable mappings, the interesting case, are common. */
const ACCESS = [CPF_READ, CPF_WRITE, CPF_READ | CPF_WRITE, CPF_READ | CPF_MAP, RWM, RWM, RWM] as const;

type Op =
  | { k: 'write'; who: number; page: number; byte: number }
  | { k: 'grant'; who: number; to: number; page: number; access: number }
  | { k: 'revoke'; who: number; pick: number }
  | { k: 'copyTo'; who: number; pick: number; page: number }
  | { k: 'copyFrom'; who: number; pick: number; page: number }
  | { k: 'map'; who: number; pick: number; page: number; writable: boolean }
  | { k: 'unmap'; who: number; page: number };

const who = fc.integer({ min: 0, max: NPROC - 1 });
const pick = fc.nat(20);
const other = fc.integer({ min: 1, max: NPROC - 1 });
/** Pages 0, 1 (granted) and 4, 5 (mapped) come up most, so that operations meet on the same pages. */
const anyPage = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(0, 1, 4, 5) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 7 }) },
);
const grantPage = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(0, 1) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 3 }) },
);
const mapPage = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(4, 5) },
  { weight: 1, arbitrary: fc.integer({ min: 4, max: 7 }) },
);
// Mostly grants to another process (a self-grant is still possible).
const grantArb: fc.Arbitrary<Op> = fc
  .record({
    who,
    other: fc.oneof({ weight: 4, arbitrary: other }, { weight: 1, arbitrary: fc.constant(0) }),
    page: grantPage,
    access: fc.constantFrom(...ACCESS),
  })
  .map(({ who: w, other: o, page, access }): Op => ({
    k: 'grant',
    who: w,
    to: (w + o) % NPROC,
    page,
    access,
  }));
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      k: fc.constant('write' as const),
      who,
      page: anyPage,
      byte: fc.integer({ min: 1, max: 255 }),
    }),
  },
  // Mostly grants to another process (a self-grant is still possible).
  { weight: 3, arbitrary: grantArb },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('revoke' as const), who, pick }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('copyTo' as const), who, pick, page: anyPage }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('copyFrom' as const), who, pick, page: anyPage }) },
  {
    weight: 3,
    arbitrary: fc.record({
      k: fc.constant('map' as const),
      who,
      pick,
      page: mapPage,
      writable: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('unmap' as const), who, page: mapPage }) },
);

/** The test's model of what exists: live grants and live mappings. */
interface Grant {
  owner: number;
  to: number;
  page: number;
  access: number;
  id: number;
}
interface Mapping {
  grantee: number;
  page: number;
  owner: number;
  ownerPage: number;
  writable: boolean;
  grant: Grant;
}

/** A location: process index and page index. */
const loc = (p: number, page: number): string => `${p}:${page}`;

class World {
  readonly grants: Grant[] = [];
  readonly maps: Mapping[] = [];
  constructor(
    readonly sys: System,
    readonly procs: Driven[],
  ) {}

  mapAt(p: number, page: number): Mapping | undefined {
    return this.maps.find((m) => m.grantee === p && m.page === page);
  }

  /** Every location whose bytes a write to (p, page) may change: itself and what shares its block. */
  sharing(p: number, page: number): string[] {
    const out = [loc(p, page)];
    const m = this.mapAt(p, page);
    const owner = m === undefined ? { p, page } : m.writable ? { p: m.owner, page: m.ownerPage } : null;
    if (owner === null) return out;
    out.push(loc(owner.p, owner.page));
    for (const x of this.maps)
      if (x.owner === owner.p && x.ownerPage === owner.page) out.push(loc(x.grantee, x.page));
    return out;
  }

  /** Host-side view of every page (absent pages read as zero: demand-zero). */
  snapshot(): Map<string, string> {
    const snap = new Map<string, string>();
    const k = this.sys.kernel;
    this.procs.forEach((s, i) => {
      for (let page = 0; page < 8; page++) {
        const pa = kwalk(k, s.kp, s.buf + page * PAGE, false);
        const bytes = new Uint8Array(PAGE);
        if (pa >= 0) this.sys.mem.read(pa, bytes, 0, PAGE);
        snap.set(loc(i, page), Buffer.from(bytes).toString('base64'));
      }
    });
    return snap;
  }

  proc(i: number): Driven {
    const s = this.procs[i];
    if (s === undefined) throw new Error(`no process ${i}`);
    return s;
  }

  /** Runs one operation: its result (an errno, or 'skip'), and the locations it may legitimately change. */
  async apply(op: Op): Promise<{ result: number | 'skip'; allowed: string[] }> {
    const x = this.proc(op.who);
    const own = Array.from({ length: 8 }, (_, page) => loc(op.who, page));
    const live = this.grants;
    // Even picks choose among the grants made to this process (mostly usable), odd ones among all of them.
    const chosen = (n: number): Grant | undefined => {
      const pool = n % 2 === 0 ? live.filter((g) => g.to === op.who) : live;
      return pool.length === 0 ? undefined : pool[(n >> 1) % pool.length];
    };
    switch (op.k) {
      case 'write': {
        const m = this.mapAt(op.who, op.page);
        if (m !== undefined && !m.writable) return { result: 'skip', allowed: [] };
        await x.do((p) => p.write(x.buf + op.page * PAGE, new Uint8Array(PAGE).fill(op.byte)));
        return { result: OK, allowed: this.sharing(op.who, op.page) };
      }
      case 'grant': {
        const to = this.proc(op.to).ep;
        const g = await x.do((p) => p.cpf.grantDirect(to, x.buf + op.page * PAGE, PAGE, op.access));
        if (g.id >= 0) live.push({ owner: op.who, to: op.to, page: op.page, access: op.access, id: g.id });
        return { result: g.errno, allowed: [] };
      }
      case 'revoke': {
        const mine = live.filter((g) => g.owner === op.who);
        const g = mine[op.pick % Math.max(1, mine.length)];
        if (g === undefined) return { result: 'skip', allowed: [] };
        const r = await x.do((p) => p.cpf.revoke(g.id));
        if (r === OK) {
          live.splice(live.indexOf(g), 1);
          for (const m of this.maps.filter((mm) => mm.grant === g)) this.maps.splice(this.maps.indexOf(m), 1);
        }
        return { result: r, allowed: [] };
      }
      case 'copyTo': {
        const g = chosen(op.pick);
        if (g === undefined) return { result: 'skip', allowed: [] };
        const r = await x.do((p) =>
          p.sys.safecopyTo(this.proc(g.owner).ep, g.id, 0, x.buf + op.page * PAGE, PAGE),
        );
        if (r === OK) {
          expect(
            g.to === op.who && (g.access & CPF_WRITE) !== 0,
            `safecopyto succeeded through ${JSON.stringify(g)} by ${op.who}`,
          ).toBe(true);
        }
        return { result: r, allowed: r === OK ? this.sharing(g.owner, g.page) : [] };
      }
      case 'copyFrom': {
        const g = chosen(op.pick);
        if (g === undefined) return { result: 'skip', allowed: [] };
        const r = await x.do((p) =>
          p.sys.safecopyFrom(this.proc(g.owner).ep, g.id, 0, x.buf + op.page * PAGE, PAGE),
        );
        if (r === OK)
          expect(
            g.to === op.who && (g.access & CPF_READ) !== 0,
            `safecopyfrom through ${JSON.stringify(g)}`,
          ).toBe(true);
        return { result: r, allowed: r === OK ? [...own, ...this.sharing(op.who, op.page)] : own };
      }
      case 'map': {
        const g = chosen(op.pick);
        if (g === undefined || this.mapAt(op.who, op.page) !== undefined)
          return { result: 'skip', allowed: [] };
        const r = await x.do((p) =>
          p.sys.safemap(this.proc(g.owner).ep, g.id, 0, x.buf + op.page * PAGE, PAGE, op.writable),
        );
        if (r === OK) {
          const need = CPF_MAP | CPF_READ | (op.writable ? CPF_WRITE : 0);
          expect(
            g.to === op.who && g.owner !== op.who && (g.access & need) === need,
            `safemap through ${JSON.stringify(g)}`,
          ).toBe(true);
          this.maps.push({
            grantee: op.who,
            page: op.page,
            owner: g.owner,
            ownerPage: g.page,
            writable: op.writable,
            grant: g,
          });
        }
        return { result: r, allowed: own };
      }
      case 'unmap': {
        const r = await x.do((p) => p.sys.safeunmap(x.buf + op.page * PAGE));
        if (r === OK)
          for (const m of this.maps.filter((mm) => mm.grantee === op.who && mm.page === op.page))
            this.maps.splice(this.maps.indexOf(m), 1);
        return { result: r, allowed: own };
      }
    }
  }
}

async function world(grantIds: 'legacy' | 'generational', cow: boolean): Promise<World> {
  const sys = await createSystem({ sanity: 'functions', grantIds, cowSafecopy: cow, trace: null });
  const procs: Driven[] = [];
  for (const label of ['A', 'B', 'C']) procs.push(await drivenActor(sys, label, { pages: 8 }));
  return new World(sys, procs);
}

/** Runs the ops; with `integrity`, checks after each op that only allowed locations changed. */
async function runOps(
  ops: readonly Op[],
  grantIds: 'legacy' | 'generational',
  cow: boolean,
  integrity: boolean,
): Promise<{ results: (number | 'skip')[]; final: Map<string, string> }> {
  const w = await world(grantIds, cow);
  const results: (number | 'skip')[] = [];
  let before = w.snapshot();
  for (const [i, op] of ops.entries()) {
    const { result, allowed } = await w.apply(op);
    results.push(result);
    w.sys.sanityCheck();
    const after = w.snapshot();
    if (integrity) {
      const changed = [...after.keys()].filter((key) => after.get(key) !== before.get(key));
      const bad = changed.filter((c) => !allowed.includes(c));
      expect(
        bad,
        `op ${i} ${JSON.stringify(op)} changed ${JSON.stringify(bad)}; allowed ${JSON.stringify(allowed)}; maps ${JSON.stringify(w.maps.map((m) => [m.grantee, m.page, m.owner, m.ownerPage, m.writable]))}`,
      ).toEqual([]);
    }
    before = after;
  }
  return { results, final: before };
}

/** A few grants first, so that the operations after them have something to use. */
const ops = fc
  .tuple(fc.array(grantArb, { minLength: 2, maxLength: 5 }), fc.array(opArb, { minLength: 6, maxLength: 24 }))
  .map(([setup, rest]) => [...setup, ...rest]);
const budget = { numRuns: Number(process.env.GRANT_PROP_RUNS ?? 12), timeout: 60_000 };

describe('58: legacy and generational ids agree when no stale id is used', () => {
  fcTest.prop([ops, fc.boolean()], budget)('same results and the same final memory', async (seq, cow) => {
    const a = await runOps(seq, 'legacy', cow, false);
    const b = await runOps(seq, 'generational', cow, false);
    expect(a.results).toEqual(b.results);
    expect(a.final).toEqual(b.final);
  });
});

describe('59: integrity — memory changes only through its owner, a live WRITE grant, or a mapping', () => {
  fcTest.prop([ops, fc.boolean()], budget)(
    'every changed page is explained by the operation',
    async (seq, cow) => {
      await runOps(seq, 'generational', cow, true);
    },
  );
});
