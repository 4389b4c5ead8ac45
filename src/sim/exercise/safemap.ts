// Exercise topic 'safemap': grant-based sharing of pages (grants.md §6), the generalised test/safemap. G grants R its
// buffer page with CPF_MAP; a script of safemaps, writes, a fork, unmaps, revokes and reads runs; the questions ask
// what each read returns and each safemap's result. Answers from the real kernel and VM; explanations from the
// grant trace events and VM's blocks (which frame each side's page uses, shared or private).
// Entry points: safemapTopic, safemapExercise, SafemapGivens.
import { errnoName } from '../../include/errno.ts';
import { CPF_MAP, CPF_READ, CPF_WRITE } from '../../include/safecopies.ts';
import { MAP_ANON, MAP_PRIVATE } from '../../include/vm.ts';
import type { Rng } from '../../lib/rng.ts';
import { assert } from '../../lib/assert.ts';
import { vmMmap } from '../../libsys/vm.ts';
import { bootSmall, exerciseRng, hex } from './common.ts';
import { Puppets } from './puppets.ts';
import type { Answer, Block, Exercise, Question, Topic } from './types.ts';

/** One step of the script. `who` reads or writes its own page (C: G's child, forked by the 'fork' step). */
export type MapStep =
  | { op: 'map'; writable: boolean }
  | { op: 'write'; who: 'G' | 'R'; value: number }
  | { op: 'read'; who: 'G' | 'R' | 'C' }
  | { op: 'unmap' }
  | { op: 'revoke' }
  | { op: 'fork' };

/** What the student is given: the grant's access, the first values, the script. */
export interface SafemapGivens {
  /** Whether G's grant carries CPF_WRITE (it always carries READ and MAP). */
  grantWrite: boolean;
  /** The value on G's page and on R's page before the script. */
  initial: { G: number; R: number };
  /** The script. */
  steps: MapStep[];
}

/** The script, kept valid: R writes only where its page is writable, unmaps only what it has mapped. */
function generateSteps(rng: Rng, level: number, grantWrite: boolean): MapStep[] {
  let mapped: 'none' | 'ro' | 'rw' = 'none';
  let child = false;
  let value = 10;
  const steps: MapStep[] = [];
  while (steps.length < (level > 1 ? 12 : 9)) {
    const r = rng.int(12);
    if (r < 2 && mapped === 'none') {
      const writable = rng.int(3) > 0;
      steps.push({ op: 'map', writable });
      mapped = writable ? (grantWrite ? 'rw' : 'none') : 'ro';
    } else if (r < 4) steps.push({ op: 'write', who: 'G', value: value++ });
    else if (r < 6 && mapped !== 'ro') steps.push({ op: 'write', who: 'R', value: value++ });
    else if (r < 7 && mapped !== 'none') {
      steps.push(rng.int(2) === 0 ? { op: 'unmap' } : { op: 'revoke' });
      mapped = 'none';
    } else if (r < 8 && level > 1 && !child) {
      steps.push({ op: 'fork' });
      child = true;
    } else {
      const who = child && rng.int(3) === 0 ? 'C' : rng.int(2) === 0 ? 'G' : 'R';
      const last = steps.at(-1);
      if (last?.op !== 'read' || last.who !== who) steps.push({ op: 'read', who });
    }
  }
  steps.push({ op: 'read', who: 'G' }, { op: 'read', who: 'R' });
  return steps;
}

type World = { pp: Puppets; gBuf: number; rBuf: number; gid: number };

async function setUp(grantWrite: boolean): Promise<World> {
  const pp = new Puppets(await bootSmall());
  await pp.spawn('G', true);
  await pp.spawn('R', true);
  const map = (name: string): Promise<number | null> =>
    pp.do(name, (p) => vmMmap(p, 0, 4096, MAP_ANON | MAP_PRIVATE));
  const gBuf = (await map('G')) ?? -1;
  const rBuf = (await map('R')) ?? -1;
  assert(gBuf > 0 && rBuf > 0, 'safemap exercise: mmap failed');
  await pp.do('G', (p) => p.writeU32(gBuf, 1));
  await pp.do('R', (p) => p.writeU32(rBuf, 2));
  const rEp = pp.eps.get('R') ?? -1;
  const g = await pp.do('G', (p) =>
    p.cpf.grantDirect(rEp, gBuf, 4096, CPF_READ | CPF_MAP | (grantWrite ? CPF_WRITE : 0)),
  );
  assert(g !== null && g.id >= 0, 'safemap exercise: grant failed');
  return { pp, gBuf, rBuf, gid: g.id };
}

/** Where a side's page lives: its frame and whether it is a safemap share, from VM's blocks. */
function where(w: World, who: string): string {
  const addr = who === 'R' ? w.rBuf : w.gBuf;
  const r = w.pp.sys.vm.refAt(w.pp.eps.get(who) ?? -1, addr);
  return r === null
    ? `${who}: no page`
    : `${who}'s page in frame ${hex(r.phys / 4096)}${r.mode === 'smap' ? ' (safemap-shared)' : r.refcount > 1 ? ` (COW, ${r.refcount} refs)` : ''}`;
}

/** Runs one step; the answer if the step is a question. */
async function runStep(w: World, s: MapStep): Promise<Omit<Answer, 'id'> | null> {
  const { pp } = w;
  const gEp = pp.eps.get('G') ?? -1;
  if (s.op === 'map') {
    const from = pp.sys.trace.length;
    const r = (await pp.do('R', (p) => p.sys.safemap(gEp, w.gid, 0, w.rBuf, 4096, s.writable))) ?? -1;
    const ev = pp.sys.trace.slice(from).find((e) => e.kind === 'grant');
    return {
      value: errnoName(r),
      why: `trace: safemap → ${ev?.kind === 'grant' ? errnoName(ev.result) : '?'}; ${where(w, 'R')}, ${where(w, 'G')}`,
    };
  }
  if (s.op === 'read') {
    const v = (await pp.do(s.who, (p) => p.readU32(s.who === 'R' ? w.rBuf : w.gBuf))) ?? -1;
    return { value: String(v), why: s.who === 'G' ? where(w, 'G') : `${where(w, s.who)}, ${where(w, 'G')}` };
  }
  if (s.op === 'write') await pp.do(s.who, (p) => p.writeU32(s.who === 'R' ? w.rBuf : w.gBuf, s.value));
  else if (s.op === 'unmap') await pp.do('R', (p) => p.sys.safeunmap(w.rBuf));
  else if (s.op === 'revoke') await pp.do('G', (p) => p.sys.saferevmapGid(w.gid));
  else await pp.fork('G', 'C');
  return null;
}

/** Generates and solves one safemap problem; level 2 may drop WRITE from the grant and adds a fork. */
export async function safemapExercise(seed: number, level: number): Promise<Exercise<SafemapGivens>> {
  const rng = exerciseRng('safemap', seed, level);
  const grantWrite = level === 1 || rng.int(2) === 0;
  const steps = generateSteps(rng, level, grantWrite);
  const w = await setUp(grantWrite);
  const questions: Question[] = [];
  const answers: Answer[] = [];
  for (const [i, s] of steps.entries()) {
    const a = await runStep(w, s);
    if (a === null) continue;
    const id = String(i + 1);
    questions.push({
      id,
      text:
        s.op === 'map'
          ? `Step ${id}: the result of safemap (OK or an errno)?`
          : `Step ${id}: the value read?`,
    });
    answers.push({ id, ...a });
  }
  const givens: SafemapGivens = { grantWrite, initial: { G: 1, R: 2 }, steps };
  return {
    topic: 'safemap',
    seed,
    level,
    title: 'safemap: who sees what',
    statement: statement(givens),
    questions,
    answers,
    givens,
  };
}

function stepText(s: MapStep): string {
  if (s.op === 'map')
    return `R: safemap(G, grant, offset 0, R's page, 4096, ${s.writable ? 'writable' : 'read-only'})`;
  if (s.op === 'write') return `${s.who} writes ${s.value} to its page`;
  if (s.op === 'read') return `${s.who} reads its page`;
  if (s.op === 'unmap') return "R: safeunmap(R's page)";
  if (s.op === 'revoke') return 'G: saferevmap_gid(grant)';
  return "G forks a child C (C's page is G's, copy-on-write)";
}

function statement(g: SafemapGivens): Block[] {
  return [
    {
      kind: 'text',
      text:
        `G's page holds ${g.initial.G}, R's page holds ${g.initial.R}. G has granted R ${g.grantWrite ? 'READ|WRITE|MAP' : 'READ|MAP'} over its page. ` +
        "safemap makes R's page the same frame as G's (a writable map needs WRITE in the grant: EPERM otherwise); writes through a shared frame are seen by both; " +
        'safeunmap and saferevmap_gid leave R a private copy of the current contents; a page G shares copy-on-write is copied for G before it is safemapped, ' +
        'and a safemap-shared page is copied for a child at fork. Each step runs after the previous one has finished.',
    },
    { kind: 'table', header: ['step', 'what'], rows: g.steps.map((s, i) => [String(i + 1), stepText(s)]) },
  ];
}

/** The safemap topic. */
export const safemapTopic: Topic = {
  name: 'safemap',
  summary: 'safemap: maps, writes, a fork, unmaps and revokes; the value each side reads',
  levels: 2,
  generate: safemapExercise,
};
