// Exercise topic 'cowsafecopy': copy-on-write safecopy (grants.md §5.5, vm.md §7). G's buffer is one preallocated
// 8-page block, R's eight one-page blocks, all present; R safecopies from G's grant at given offsets and sizes, then
// one side writes. Questions: does the copy take the COW path, which of R's pages then share a frame with G, how
// each write is served (how many pages it copies), and the frames the two buffers use at the end. Answers from the
// vmreq, fault and cow-break trace events and VM's blocks. Entry points: cowsafecopyTopic, cowsafecopyExercise,
// CowsafecopyGivens. Levels 1–2 boot with cowBreak 'block' (MINIX: a write to a shared block copies the whole
// block); level 3 with cowBreak 'page' (what-if: only the written page is copied).
// DIVERGES: level 3's cowBreak 'page' is not MINIX (a what-if of the model).
import { VMPTYPE_COWMAP } from '../../include/com.ts';
import { CPF_READ } from '../../include/safecopies.ts';
import type { TraceEvent } from '../../include/trace.ts';
import { MAP_ANON, MAP_CONTIG, MAP_PREALLOC, MAP_PRIVATE } from '../../include/vm.ts';
import type { Rng } from '../../lib/rng.ts';
import { assert } from '../../lib/assert.ts';
import { vmMmap } from '../../libsys/vm.ts';
import { drivenActor } from '../driven.ts';
import type { Driven } from '../driven.ts';
import type { System } from '../system.ts';
import { bootSmall, exerciseRng, pick } from './common.ts';
import type { Answer, Block, Exercise, Question, Topic } from './types.ts';

/** One step: R's safecopyfrom of `bytes` from offset `src` of G's grant to offset `dst` of its buffer, or a write. */
export type CopyStep =
  { op: 'copy'; src: number; dst: number; bytes: number } | { op: 'write'; who: 'G' | 'R'; page: number };

/** What the student is given: the buffer size and the steps. */
export interface CowsafecopyGivens {
  /** Pages of each buffer. */
  pages: number;
  /** The steps, in order. */
  steps: CopyStep[];
  /** What a write to a shared block copies: the whole block (MINIX) or only the written page (what-if). */
  cowBreak: 'block' | 'page';
}

const PAGES = 8;
const PAGE = 4096;

/** A copy that fits both buffers; two times in three with offsets congruent modulo 4096. */
function randomCopy(rng: Rng): CopyStep {
  const bytes = 100 + rng.int(3 * PAGE);
  const room = PAGES * PAGE - bytes;
  const src = rng.int(room + 1);
  const head = src % PAGE;
  const dst =
    rng.int(3) === 0 ? rng.int(room + 1) : head + PAGE * rng.int(Math.floor((room - head) / PAGE) + 1);
  return { op: 'copy', src, dst, bytes };
}

/** The pages of `who`'s buffer the copies touch (level 3 writes there, where sharing is likely). */
function touched(copies: readonly CopyStep[], who: 'G' | 'R'): number[] {
  const pages = new Set<number>();
  for (const c of copies) {
    if (c.op !== 'copy') continue;
    const at = who === 'G' ? c.src : c.dst;
    for (let p = Math.floor(at / PAGE); p * PAGE < at + c.bytes; p++) pages.add(p);
  }
  return [...pages];
}

function generateSteps(rng: Rng, level: number): CopyStep[] {
  const steps: CopyStep[] = [randomCopy(rng)];
  if (level > 1) steps.push(randomCopy(rng));
  const copies = steps.slice();
  for (let i = 0; i < level; i++) {
    const who = pick(rng, ['G', 'R'] as const);
    steps.push({ op: 'write', who, page: level === 3 ? pick(rng, touched(copies, who)) : rng.int(PAGES) });
  }
  return steps;
}

/** Frame of page i of a buffer (VM's block base plus the page's place in it). */
function frameOf(sys: System, ep: number, base: number, i: number): number {
  const r = sys.vm.refAt(ep, base + i * PAGE);
  return r === null ? -1 : r.phys / PAGE + (base + i * PAGE - r.vaddr) / PAGE;
}

type World = { sys: System; g: Driven; r: Driven; gBuf: number; rBuf: number; gid: number };

async function setUp(cowBreak: 'block' | 'page'): Promise<World> {
  const sys = await bootSmall({ cowBreak });
  const g = await drivenActor(sys, 'G', { pages: 1 });
  const r = await drivenActor(sys, 'R', { pages: 1 });
  const gBuf = await g.do((p) =>
    vmMmap(p, 0, PAGES * PAGE, MAP_ANON | MAP_PRIVATE | MAP_PREALLOC | MAP_CONTIG),
  );
  const rBuf = await r.do((p) => vmMmap(p, 0, PAGES * PAGE, MAP_ANON | MAP_PRIVATE));
  assert(gBuf > 0 && rBuf > 0, 'cowsafecopy: mmap failed');
  await r.do((p) => p.write(rBuf, new Uint8Array(PAGES * PAGE).fill(0x52)));
  await g.do((p) => p.write(gBuf, new Uint8Array(PAGES * PAGE).fill(0x47)));
  const grant = await g.do((p) => p.cpf.grantDirect(r.ep, gBuf, PAGES * PAGE, CPF_READ));
  return { sys, g, r, gBuf, rBuf, gid: grant.id };
}

function sharedPages(w: World): string {
  const gFrames = new Set(Array.from({ length: PAGES }, (_, i) => frameOf(w.sys, w.g.ep, w.gBuf, i)));
  const shared = Array.from({ length: PAGES }, (_, i) => i).filter((i) =>
    gFrames.has(frameOf(w.sys, w.r.ep, w.rBuf, i)),
  );
  return shared.length === 0 ? 'none' : shared.join(', ');
}

function writeServed(events: readonly TraceEvent[]): string {
  if (!events.some((e) => e.kind === 'fault')) return 'none';
  const br = events.find((e) => e.kind === 'vm' && e.op === 'cow-break');
  return br?.kind === 'vm' ? `copy ${br.pages ?? 0}` : 'no copy';
}

async function runStep(w: World, s: CopyStep, id: string): Promise<{ q: Question; a: Answer }[]> {
  const from = w.sys.trace.length;
  if (s.op === 'write') {
    const who = s.who === 'G' ? w.g : w.r;
    await who.do((p) => p.writeU32((s.who === 'G' ? w.gBuf : w.rBuf) + s.page * PAGE, 1));
    const v = writeServed(w.sys.trace.slice(from));
    const why =
      v === 'none'
        ? 'no fault event'
        : v === 'no copy'
          ? 'a write fault, no cow-break: the last reference became writable'
          : `a write fault and a cow-break event of ${v.slice(5)} page${v === 'copy 1' ? '' : 's'}: ${w.sys.config.cowBreak === 'page' ? 'only the written page' : 'the whole shared block'} was copied for the writer`;
    return [
      {
        q: { id, text: `Step ${id}: how is the write served (none, no copy, or copy N for N pages copied)?` },
        a: { id, value: v, why },
      },
    ];
  }
  const r = await w.r.do((p) => p.sys.safecopyFrom(w.g.ep, w.gid, s.src, w.rBuf + s.dst, s.bytes));
  assert(r === 0, 'cowsafecopy: the copy failed');
  const cow = w.sys.trace
    .slice(from)
    .some((e) => e.kind === 'vmreq' && e.op === 'post' && e.reqType === VMPTYPE_COWMAP);
  const shared = sharedPages(w);
  return [
    {
      q: { id: `${id}cow`, text: `Step ${id}: does the copy take the COW path (yes/no)?` },
      a: {
        id: `${id}cow`,
        value: cow ? 'yes' : 'no',
        why: cow ? 'the kernel posted a COWMAP request to VM' : 'no COWMAP request: a plain copy',
      },
    },
    {
      q: {
        id: `${id}shared`,
        text: `Step ${id}: which of R's pages now share a frame with G's buffer (list, or none)?`,
      },
      a: { id: `${id}shared`, value: shared, why: "VM's blocks behind R's and G's pages" },
    },
  ];
}

/**
 * Generates and solves one COW safecopy problem; level 2 has two copies and two writes, level 3 two copies and
 * three writes under cowBreak 'page'.
 */
export async function cowsafecopyExercise(seed: number, level: number): Promise<Exercise<CowsafecopyGivens>> {
  const rng = exerciseRng('cowsafecopy', seed, level);
  const steps = generateSteps(rng, level);
  const cowBreak = level === 3 ? 'page' : 'block';
  const w = await setUp(cowBreak);
  const questions: Question[] = [];
  const answers: Answer[] = [];
  for (const [i, s] of steps.entries()) {
    for (const { q, a } of await runStep(w, s, String(i + 1))) {
      questions.push(q);
      answers.push(a);
    }
  }
  const frames = new Set([
    ...Array.from({ length: PAGES }, (_, i) => frameOf(w.sys, w.g.ep, w.gBuf, i)),
    ...Array.from({ length: PAGES }, (_, i) => frameOf(w.sys, w.r.ep, w.rBuf, i)),
  ]);
  questions.push({ id: 'frames', text: "At the end: how many frames back G's and R's buffers together?" });
  answers.push({
    id: 'frames',
    value: String(frames.size),
    why: `${frames.size} distinct frames behind the ${2 * PAGES} pages in VM's blocks`,
  });
  const givens: CowsafecopyGivens = { pages: PAGES, steps, cowBreak };
  return {
    topic: 'cowsafecopy',
    seed,
    level,
    title: 'Copy-on-write safecopy',
    statement: statement(givens),
    questions,
    answers,
    givens,
  };
}

function statement(g: CowsafecopyGivens): Block[] {
  const what = (s: CopyStep): string =>
    s.op === 'copy'
      ? `R: safecopyfrom(G, grant, offset ${s.src}, R.buf + ${s.dst}, ${s.bytes} bytes)`
      : `${s.who} writes its page ${s.page}`;
  return [
    {
      kind: 'text',
      text:
        `G's buffer is ${g.pages} pages held as one preallocated block; R's buffer is ${g.pages} pages, one block each; all present, page-aligned. G granted R READ over its whole buffer. ` +
        'A safecopy takes the COW path when source and destination offsets are equal modulo 4096 and the range holds at least one whole page: ' +
        "the whole pages in the middle (after the head up to the next page boundary) are shared read-only, G's block split at their ends, R's old pages there dropped; head and tail bytes are copied. " +
        (g.cowBreak === 'page'
          ? 'A write to a shared block copies only the written page for the writer (the block is split around it for every holder); '
          : 'A write to a shared block copies the whole block for the writer; ') +
        'a write by the last holder of a read-only block only makes it writable. Offsets and sizes are decimal bytes.',
    },
    { kind: 'table', header: ['step', 'what'], rows: g.steps.map((s, i) => [String(i + 1), what(s)]) },
  ];
}

/** The COW safecopy topic. */
export const cowsafecopyTopic: Topic = {
  name: 'cowsafecopy',
  summary:
    'copy-on-write safecopy: offsets and sizes; COW path or not, pages shared, what later writes copy, frames',
  levels: 3,
  generate: cowsafecopyExercise,
};
