// Exercise topic 'cowfork': copy-on-write fork (vm.md §5, §8.1). A process P maps four pages and writes them; then a
// script of forks, writes and exits runs. Questions: how each write is served (no fault; a fault that copies the
// shared block; a fault that only makes a last reference writable again; a fault that zero-fills an absent page),
// then the frames in use and P's refcounts. Answers from VM's trace events (fault, cow-break, alloc) and its
// blocks. Entry points: cowforkTopic, cowforkExercise, CowforkGivens.
import { MAP_ANON, MAP_PRIVATE } from '../../include/vm.ts';
import type { TraceEvent } from '../../include/trace.ts';
import type { Rng } from '../../lib/rng.ts';
import { assert } from '../../lib/assert.ts';
import { vmMmap } from '../../libsys/vm.ts';
import { bootSmall, distinctInts, exerciseRng, pick } from './common.ts';
import { Puppets } from './puppets.ts';
import type { Answer, Block, Exercise, Question, Topic } from './types.ts';

/** One step of the script. */
export type CowStep =
  | { op: 'fork'; who: string; child: string }
  | { op: 'write'; who: string; page: number }
  | { op: 'exit'; who: string };

/** What the student is given: the pages P wrote before the script, and the script. */
export interface CowforkGivens {
  /** Pages of the region (all of them mapped, none present until written). */
  pages: number;
  /** The pages P wrote before the script (present, refcount 1). */
  written: number[];
  /** The script. */
  steps: CowStep[];
}

const PAGES = 4;
const CHILDREN = ['A', 'B', 'C'];

function generateSteps(rng: Rng, level: number): CowStep[] {
  const alive = ['P'];
  const steps: CowStep[] = [{ op: 'fork', who: 'P', child: 'A' }];
  alive.push('A');
  let born = 1;
  while (steps.length < (level > 1 ? 9 : 6)) {
    const r = rng.int(10);
    const who = pick(rng, alive);
    if (r < 2 && born < CHILDREN.length) {
      const child = CHILDREN[born++] ?? 'C';
      steps.push({ op: 'fork', who, child });
      alive.push(child);
    } else if (r < 3 && level > 1 && who !== 'P') {
      steps.push({ op: 'exit', who });
      alive.splice(alive.indexOf(who), 1);
    } else steps.push({ op: 'write', who, page: rng.int(PAGES) });
  }
  return steps;
}

/** How a write was served, from the trace events it caused. */
function served(events: readonly TraceEvent[], ep: number): Answer['value'] {
  if (!events.some((e) => e.kind === 'fault' && e.ep === ep)) return 'none';
  if (events.some((e) => e.kind === 'vm' && e.op === 'cow-break')) return 'copy';
  if (events.some((e) => e.kind === 'vm' && e.op === 'alloc')) return 'zero';
  return 'no copy';
}

const WHY: Record<string, string> = {
  none: 'no fault event: the page was present and writable',
  copy: 'a write fault on a present page and a cow-break event: the block was shared, so VM copied it for the writer',
  'no copy':
    'a write fault on a present page and no copy: the writer held the last reference, so VM only made the page writable',
  zero: 'a fault on an absent page and an alloc event: VM gave a fresh zero-filled page',
};

/** Generates and solves one COW fork problem; level 2 leaves a page unwritten and adds exits. */
export async function cowforkExercise(seed: number, level: number): Promise<Exercise<CowforkGivens>> {
  const rng = exerciseRng('cowfork', seed, level);
  const written = level > 1 ? distinctInts(rng, PAGES - 1, 0, PAGES).sort((a, b) => a - b) : [0, 1, 2, 3];
  const steps = generateSteps(rng, level);
  const sys = await bootSmall();
  const pp = new Puppets(sys);
  await pp.spawn('P');
  const base = (await pp.do('P', (p) => vmMmap(p, 0, PAGES * 4096, MAP_ANON | MAP_PRIVATE))) ?? -1;
  assert(base > 0, 'cowfork: mmap failed');
  for (const i of written) await pp.do('P', (p) => p.writeU32(base + i * 4096, i));
  const questions: Question[] = [];
  const answers: Answer[] = [];
  for (const [i, s] of steps.entries()) {
    const from = sys.trace.length;
    if (s.op === 'fork') await pp.fork(s.who, s.child);
    else if (s.op === 'exit') await pp.do(s.who, (p) => p.exit(0));
    else {
      await pp.do(s.who, (p) => p.writeU32(base + s.page * 4096 + 4, i));
      const v = served(sys.trace.slice(from), pp.eps.get(s.who) ?? -1);
      const id = String(i + 1);
      questions.push({ id, text: `Step ${id}: how is the write served (none, copy, no copy, zero)?` });
      answers.push({ id, value: v, why: WHY[v] ?? v });
    }
  }
  answers.push(...finalState(pp, base, questions));
  const givens: CowforkGivens = { pages: PAGES, written, steps };
  return {
    topic: 'cowfork',
    seed,
    level,
    title: 'Copy-on-write fork',
    statement: statement(givens),
    questions,
    answers,
    givens,
  };
}

/** The frames the live processes hold for the region, and P's refcounts, from VM's blocks. */
function finalState(pp: Puppets, base: number, questions: Question[]): Answer[] {
  const live = [...pp.eps.keys()].filter((n) => pp.alive(n));
  const refs = live.flatMap((n) =>
    Array.from({ length: PAGES }, (_, i) => pp.sys.vm.refAt(pp.eps.get(n) ?? -1, base + i * 4096)),
  );
  const frames = new Set(refs.flatMap((r) => (r === null ? [] : [r.phys])));
  questions.push({
    id: 'frames',
    text: `At the end: how many frames hold the region's pages, over all live processes (${live.join(', ')})?`,
  });
  const out: Answer[] = [
    {
      id: 'frames',
      value: String(frames.size),
      why: `VM's blocks behind the pages of ${live.join(', ')}: ${frames.size} distinct`,
    },
  ];
  for (let i = 0; i < PAGES; i++) {
    const r = pp.sys.vm.refAt(pp.eps.get('P') ?? -1, base + i * 4096);
    const id = `ref${i}`;
    questions.push({ id, text: `At the end: the reference count of P's page ${i} (0 if absent)?` });
    out.push({
      id,
      value: String(r?.refcount ?? 0),
      why: r === null ? 'never written: no block' : `its block is referenced by ${r.refcount} process(es)`,
    });
  }
  return out;
}

function statement(g: CowforkGivens): Block[] {
  const what = (s: CowStep): string =>
    s.op === 'fork' ? `fork → ${s.child}` : s.op === 'exit' ? 'exit' : `write page ${s.page}`;
  return [
    {
      kind: 'text',
      text:
        `Process P maps ${g.pages} anonymous private pages (0–${g.pages - 1}) and writes pages ${g.written.join(', ')}; unwritten pages are absent. ` +
        'fork shares every present page between parent and child, read-only in both, and counts the references; ' +
        'a write to a shared page faults and copies it for the writer; a write by the last holder of a read-only page faults and only makes it writable; ' +
        'a write to an absent page faults and gets a fresh zero page; exit drops the references of the exiting process. Then:',
    },
    {
      kind: 'table',
      header: ['step', 'who', 'what'],
      rows: g.steps.map((s, i) => [String(i + 1), s.who, what(s)]),
    },
  ];
}

/** The COW fork topic. */
export const cowforkTopic: Topic = {
  name: 'cowfork',
  summary:
    'copy-on-write fork: forks, writes and exits; which writes fault and copy, frames in use, refcounts',
  levels: 2,
  generate: cowforkExercise,
};
