// Exercise topic 'alloc': VM's physical allocator (servers/vm/alloc.c, vm.md §3). Free ranges are given; each
// allocation is placed by VM's own PhysAlloc: by default the top of the highest range that fits, LOWER16MB the
// bottom of the lowest range that fits below 16 MiB, ALIGN64K a carve of n+16 pages rounded up to a 64 KiB
// boundary with the surplus given back. Entry points: allocTopic, allocExercise, AllocGivens.
// DIVERGES: runs the allocator alone on a 32 MiB machine, without the slab pages its tree nodes would take.
import { PhysMem } from '../../hw/physmem.ts';
import { NO_MEM, PAF_ALIGN64K, PAF_LOWER16MB } from '../../include/vm.ts';
import type { Rng } from '../../lib/rng.ts';
import { MiB } from '../../lib/units.ts';
import { PhysAlloc } from '../../servers/vm/alloc.ts';
import { exerciseRng, hex, pick } from './common.ts';
import type { Answer, Exercise, Question, Topic } from './types.ts';

/** A free range in pages. */
export interface PageRange {
  /** First page. */
  addr: number;
  /** Pages. */
  size: number;
}

/** One step of the problem: an allocation (with its flags) or the freeing of the allocation of step `of` (1-based). */
export type AllocStep =
  { op: 'alloc'; pages: number; flags: ('LOWER16MB' | 'ALIGN64K')[] } | { op: 'free'; of: number };

/** What the student is given: RAM size, the free ranges, the steps. */
export interface AllocGivens {
  /** Pages of RAM (page 0x1000 is the 16 MiB boundary). */
  ramPages: number;
  /** The free ranges before the first step, in address order. */
  free: PageRange[];
  /** The steps, in order. */
  steps: AllocStep[];
}

const RAM_PAGES = (32 * MiB) / 4096;
const LOW = 0x1000;

/** Non-adjacent free ranges: `n` below the 16 MiB boundary and `n` above it. */
function freeRanges(rng: Rng, n: number): PageRange[] {
  const out: PageRange[] = [];
  for (const [lo, hi] of [
    [0x100, LOW],
    [LOW, RAM_PAGES],
  ] as const) {
    const w = Math.floor((hi - lo) / n);
    for (let i = 0; i < n; i++) out.push({ addr: lo + i * w + rng.int(w / 2), size: 4 + rng.int(44) });
  }
  return out;
}

const flagBits = (flags: readonly string[]): number =>
  (flags.includes('LOWER16MB') ? PAF_LOWER16MB : 0) | (flags.includes('ALIGN64K') ? PAF_ALIGN64K : 0);

const rangesText = (rs: readonly PageRange[]): string =>
  rs.map((r) => `${hex(r.addr)}+${hex(r.size)}`).join(', ');

function allocWhy(
  before: readonly PageRange[],
  s: Extract<AllocStep, { op: 'alloc' }>,
  page: number,
): string {
  if (page === NO_MEM)
    return `no free range can hold ${s.pages} pages${s.flags.includes('LOWER16MB') ? ' below page 0x1000' : ''}`;
  const from =
    before.find((r) => page >= r.addr && page < r.addr + r.size) ??
    before.find((r) => page + s.pages === r.addr);
  const where = from === undefined ? 'a free range' : `range ${hex(from.addr)}+${hex(from.size)}`;
  if (s.flags.includes('ALIGN64K') && from !== undefined) {
    const raw = from.addr + from.size - s.pages - 16;
    return `${s.pages}+16 pages carved at ${hex(raw)} from the top of ${where}, start rounded up to ${hex(page)}; the surplus went back`;
  }
  if (s.flags.includes('LOWER16MB'))
    return `the lowest range with ${s.pages} pages is ${where}; taken from its bottom`;
  return `the highest range with ${s.pages} pages is ${where}; taken from its top`;
}

/** Generates and solves one allocator problem; level 1 plain allocations, level 2 flags and frees. */
export function allocExercise(seed: number, level: number): Exercise<AllocGivens> {
  const rng = exerciseRng('alloc', seed, level);
  const free = freeRanges(rng, 2 + rng.int(2));
  const pa = new PhysAlloc(RAM_PAGES, new PhysMem(32 * MiB), { sanity: false, shouldFail: () => false });
  for (const r of free) pa.addBootRange(r.addr, r.size);
  const steps: AllocStep[] = [];
  const questions: Question[] = [];
  const answers: Answer[] = [];
  const live: { page: number; pages: number; step: number }[] = [];
  for (let i = 0; i < 6; i++) {
    const before = pa.ranges();
    if (level > 1 && live.length > 0 && rng.int(4) === 0) {
      const [x] = live.splice(rng.int(live.length), 1);
      if (x === undefined) continue;
      pa.freePages(x.page, x.pages);
      steps.push({ op: 'free', of: x.step });
      continue;
    }
    const flags =
      level > 1 ? pick(rng, [[], [], ['LOWER16MB'], ['ALIGN64K']] as ('LOWER16MB' | 'ALIGN64K')[][]) : [];
    const s: AllocStep = { op: 'alloc', pages: 1 + rng.int(flags.includes('ALIGN64K') ? 8 : 40), flags };
    const page = pa.allocPages(s.pages, flagBits(flags));
    steps.push(s);
    if (page !== NO_MEM) live.push({ page, pages: s.pages, step: steps.length });
    const id = String(steps.length);
    questions.push({ id, text: `Step ${id}: first page of the allocation (hex), or NO_MEM?` });
    answers.push({ id, value: page === NO_MEM ? 'NO_MEM' : hex(page), why: allocWhy(before, s, page) });
  }
  const id = 'ranges';
  questions.push({
    id,
    text: 'The free ranges after the last step, in address order (first+pages, hex, comma-separated)?',
  });
  answers.push({
    id,
    value: rangesText(pa.ranges()),
    why: `${pa.freeCount} pages free; freed pages merge with free neighbours`,
  });
  const givens: AllocGivens = { ramPages: RAM_PAGES, free, steps };
  return {
    topic: 'alloc',
    seed,
    level,
    title: 'Where does each allocation land?',
    statement: statement(givens),
    questions,
    answers,
    givens,
  };
}

function statement(g: AllocGivens): Exercise['statement'] {
  return [
    {
      kind: 'text',
      text:
        `VM's free list holds these ranges of 4 KiB pages (first+pages, hex) on a machine of ${hex(g.ramPages)} pages; page 0x1000 is the 16 MiB boundary. ` +
        'A plain allocation takes the top of the highest range that fits; LOWER16MB the bottom of the lowest range that fits, never crossing 16 MiB; ' +
        'ALIGN64K carves pages+16 like a plain allocation, rounds its start up to a multiple of 0x10 pages and gives the rest back. Freed pages merge with free neighbours.',
    },
    { kind: 'code', lines: [`free: ${rangesText(g.free)}`] },
    {
      kind: 'table',
      header: ['step', 'call'],
      rows: g.steps.map((s, i) => [
        String(i + 1),
        s.op === 'alloc'
          ? `alloc ${s.pages} page${s.pages === 1 ? '' : 's'}${s.flags.length > 0 ? ` ${s.flags.join('|')}` : ''}`
          : `free the allocation of step ${s.of}`,
      ]),
    },
  ];
}

/** The allocator topic. */
export const allocTopic: Topic = {
  name: 'alloc',
  summary:
    'physical allocator: free ranges, top-down first fit, LOWER16MB, ALIGN64K; where each allocation lands',
  levels: 2,
  generate: (seed, level) => Promise.resolve(allocExercise(seed, level)),
};
