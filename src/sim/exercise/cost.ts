// Exercise topic 'cost': which of two ways to move N pages from G to R is cheaper under a machine profile, and by
// how much simulated time (issue 16, docs/cost-model.md). A way is plain safecopy (cowSafecopy off), COW safecopy
// or safemap, with R then reading or writing one word of every page. Each way runs on its own freshly booted
// system; its cost is the cycle counter's advance from R's call to its last touch, and the explanation lists the
// counter's per-kind counts times the profile's costs. Entry points: costTopic, costExercise, measureWay,
// CostGivens, Way.
// DIVERGES: not MINIX — a teaching aid built on the model's cost profiles.
import { CPF_MAP, CPF_READ, CPF_WRITE } from '../../include/safecopies.ts';
import { MAP_ANON, MAP_PREALLOC, MAP_PRIVATE } from '../../include/vm.ts';
import { COST_KINDS, K, builtinProfiles, PROFILE_NUMBERS } from '../../hw/profile.ts';
import type { CostKind, CostProfile } from '../../hw/profile.ts';
import { assert } from '../../lib/assert.ts';
import { vmMmap } from '../../libsys/vm.ts';
import { drivenActor } from '../driven.ts';
import { bootSmall, exerciseRng, pick } from './common.ts';
import type { Block, Exercise, Topic } from './types.ts';

/** One way to move the pages: the call R makes, and what R does to each destination page afterwards. */
export interface Way {
  /** Plain safecopy (cowSafecopy off), COW safecopy (cowSafecopy on), or safemap. */
  method: 'copy' | 'cow' | 'map';
  /** One 4-byte read or write per destination page after the call. */
  touch: 'read' | 'write';
}

/** What the student is given: the profile's name, the page count and the two ways (A, B). */
export interface CostGivens {
  /** A built-in profile name ('i386-2010' or 'modern-x86'). */
  profile: string;
  /** Pages moved. */
  pages: number;
  /** Way A then way B. */
  ways: [Way, Way];
}

/** What one way cost: cycles in all, and the counter's occurrences per kind. */
export interface WayCost {
  /** Cycles from R's call to its last touch. */
  cycles: number;
  /** Occurrences per cost kind in that span (bytes for copyByte, pages for vmPage and zeroPage). */
  counts: Record<CostKind, number>;
}

const PAGE = 4096;
const METHODS = ['copy', 'cow', 'map'] as const;
const NAMES: Record<Way['method'], string> = {
  copy: 'plain safecopy (copy-on-write safecopy off)',
  cow: 'copy-on-write safecopy',
  map: 'safemap',
};

function profileOf(name: string): CostProfile {
  const p = builtinProfiles[name];
  assert(p !== undefined, `cost exercise: no profile ${name}`);
  return p;
}

/** Runs one way on a freshly booted system under `profile`: G's N present pages to R's N present pages. */
export async function measureWay(profile: string, pages: number, way: Way): Promise<WayCost> {
  const sys = await bootSmall({ profile, cowSafecopy: way.method === 'cow' });
  const g = await drivenActor(sys, 'G', { pages: 1 });
  const r = await drivenActor(sys, 'R', { pages: 1 });
  const bytes = pages * PAGE;
  const flags = MAP_ANON | MAP_PRIVATE | MAP_PREALLOC;
  const gBuf = await g.do((p) => vmMmap(p, 0, bytes, flags));
  const rBuf = await r.do((p) => vmMmap(p, 0, bytes, flags));
  assert(gBuf > 0 && rBuf > 0, 'cost exercise: mmap failed');
  await g.do((p) => p.write(gBuf, new Uint8Array(bytes).fill(0x47)));
  const grant = await g.do((p) => p.cpf.grantDirect(r.ep, gBuf, bytes, CPF_READ | CPF_WRITE | CPF_MAP));
  const clock = sys.clock;
  return r.do(async (p) => {
    const counts0 = Float64Array.from(clock.countByKind);
    const cycles0 = clock.cycles;
    const rc =
      way.method === 'map'
        ? await p.sys.safemap(g.ep, grant.id, 0, rBuf, bytes, way.touch === 'write')
        : await p.sys.safecopyFrom(g.ep, grant.id, 0, rBuf, bytes);
    assert(rc === 0, `cost exercise: ${way.method} failed (${rc})`);
    for (let i = 0; i < pages; i++)
      if (way.touch === 'write') await p.writeU32(rBuf + i * PAGE, 1);
      else await p.readU32(rBuf + i * PAGE);
    const counts = Object.fromEntries(
      COST_KINDS.map((k) => [k, (clock.countByKind[K[k]] ?? 0) - (counts0[K[k]] ?? 0)]),
    ) as Record<CostKind, number>;
    return { cycles: clock.cycles - cycles0, counts };
  });
}

/** Cycles one occurrence of `kind` costs under `p` (copyByte: clockMHz / copyMBps). */
const kindCost = (p: CostProfile, kind: CostKind): number =>
  kind === 'copyByte' ? p.clockMHz / p.copyMBps : p[kind];

/** What a copied byte costs, in words: '1 cycle', '0.15 cycles'. */
function bytePrice(p: CostProfile): string {
  const c = kindCost(p, 'copyByte');
  return `${String(c)} cycle${c === 1 ? '' : 's'}`;
}

/** µs to one decimal, as the answers give them. */
const micros = (cycles: number, p: CostProfile): string => (cycles / p.clockMHz).toFixed(1);

function explain(c: WayCost, p: CostProfile): string {
  const terms = COST_KINDS.filter((k) => c.counts[k] > 0)
    .map((k) => ({ k, n: c.counts[k], cy: c.counts[k] * kindCost(p, k) }))
    .sort((a, b) => b.cy - a.cy)
    .map((t) => `${String(t.n)} ${t.k} (${String(Math.round(t.cy))})`);
  return `${terms.join(' + ')} = ${String(Math.round(c.cycles))} cycles = ${micros(c.cycles, p)} µs`;
}

function generateGivens(seed: number, level: number): CostGivens {
  const rng = exerciseRng('cost', seed, level);
  const profile = level === 1 ? 'i386-2010' : pick(rng, Object.keys(builtinProfiles));
  // Level 1: 32 consecutive seeds give 32 different page counts (13 is prime to 32), so a sheet never repeats.
  const pages = level === 1 ? 1 + ((seed * 13) % 32) : 1 + rng.int(50);
  const a = pick(rng, METHODS);
  const b = pick(
    rng,
    METHODS.filter((m) => m !== a),
  );
  const touch = pick(rng, ['read', 'write'] as const);
  const touchB = level === 1 ? touch : pick(rng, ['read', 'write'] as const);
  return {
    profile,
    pages,
    ways: [
      { method: a, touch },
      { method: b, touch: touchB },
    ],
  };
}

/** Generates and solves one cost problem; level 1 has up to 32 pages under i386-2010 and one touch for both ways; level 2 draws the profile, up to 50 pages and each way's touch. */
export async function costExercise(seed: number, level: number): Promise<Exercise<CostGivens>> {
  const givens = generateGivens(seed, level);
  const p = profileOf(givens.profile);
  const [ca, cb] = [
    await measureWay(givens.profile, givens.pages, givens.ways[0]),
    await measureWay(givens.profile, givens.pages, givens.ways[1]),
  ];
  const winner = ca.cycles < cb.cycles ? 'A' : cb.cycles < ca.cycles ? 'B' : 'same';
  const why = `A: ${explain(ca, p)}; B: ${explain(cb, p)}`;
  return {
    topic: 'cost',
    seed,
    level,
    title: `The cost of moving ${String(givens.pages)} page${givens.pages === 1 ? '' : 's'}`,
    statement: statement(givens, p),
    questions: [
      { id: 'cheaper', text: 'Which way is cheaper (A, B, or same)?' },
      { id: 'by', text: 'By how many simulated µs (to 0.1 µs)?' },
    ],
    answers: [
      { id: 'cheaper', value: winner, why },
      {
        id: 'by',
        value: micros(Math.abs(ca.cycles - cb.cycles), p),
        why: `${String(Math.round(Math.abs(ca.cycles - cb.cycles)))} cycles at ${String(p.clockMHz)} cycles per µs`,
      },
    ],
    givens,
  };
}

function statement(g: CostGivens, p: CostProfile): Block[] {
  const way = (w: Way): string =>
    `${NAMES[w.method]} of the ${String(g.pages * PAGE)} bytes, then R ${w.touch === 'write' ? 'writes' : 'reads'} one word of each page`;
  return [
    {
      kind: 'text',
      text:
        `G's buffer is ${String(g.pages)} present pages, R's buffer ${String(g.pages)} present pages, both page-aligned; G granted R READ|WRITE|MAP over its whole buffer. ` +
        "R moves G's pages into its buffer in one of two ways, each on a freshly booted system; the time counted runs from R's call to its last touch. " +
        'A plain safecopy traps, checks the grant and copies every byte in the kernel. COW safecopy asks VM to share the pages read-only (a request, page-table writes, a TLB flush); ' +
        "a later write to a shared page faults and VM copies it. safemap asks VM to map G's frames into R (writable if R writes), with no copy. " +
        `Machine profile ${p.name}: ${String(p.clockMHz)} cycles per µs, copies at ${String(p.copyMBps)} MB/s (${bytePrice(p)} per byte); cycles per action:`,
    },
    {
      kind: 'table',
      header: ['action', 'cycles'],
      rows: PROFILE_NUMBERS.filter((k) => k !== 'clockMHz' && k !== 'copyMBps').map((k) => [k, String(p[k])]),
    },
    {
      kind: 'table',
      header: ['way', 'what R does'],
      rows: [
        ['A', way(g.ways[0])],
        ['B', way(g.ways[1])],
      ],
    },
  ];
}

/** The cost topic. */
export const costTopic: Topic = {
  name: 'cost',
  summary:
    'cost of moving pages under a machine profile: safecopy, COW safecopy or safemap; which is cheaper, by how much',
  levels: 2,
  generate: costExercise,
};
