// Exercise topic 'ds': the Data Store (ds.md §4–7). Three labelled services publish, overwrite, delete and retrieve
// u32 entries and two of them subscribe; the questions ask each call's result and what each subscriber's ds_check
// loop reports (pending entries, lowest slot first, until ENOENT). The real DS answers; the explanations come from
// its trace events and its tables. Entry points: dsTopic, dsExercise, DsGivens.
import { DSF_INITIAL, DSF_OVERWRITE, DSF_PRIV_RETRIEVE } from '../../include/ds.ts';
import { ENOENT, OK, errnoName } from '../../include/errno.ts';
import type { Rng } from '../../lib/rng.ts';
import { assert } from '../../lib/assert.ts';
import { dsCheck, dsDeleteU32, dsPublishU32, dsRetrieveU32, dsSubscribe } from '../../libsys/ds.ts';
import type { Proc } from '../../libsys/proc.ts';
import { drivenActor } from '../driven.ts';
import type { Driven } from '../driven.ts';
import type { System } from '../system.ts';
import { bootSmall, exerciseRng, pick } from './common.ts';
import type { Answer, Block, Exercise, Question, Topic } from './types.ts';

/** The three services; ana and bob subscribe. */
export const DS_ACTORS = ['ana', 'bob', 'cat'] as const;
/** One of {@link DS_ACTORS}. */
export type DsActor = (typeof DS_ACTORS)[number];

/** One call of the problem. */
export type DsOp =
  | { op: 'subscribe'; who: DsActor; pattern: string; initial: boolean }
  | { op: 'publish'; who: DsActor; key: string; value: number; overwrite: boolean; privRetrieve: boolean }
  | { op: 'delete'; who: DsActor; key: string }
  | { op: 'retrieve'; who: DsActor; key: string }
  | { op: 'check'; who: DsActor };

/** What the student is given: the first free slot of DS's table and the calls. */
export interface DsGivens {
  /** Slots below this one hold labels; new entries take the lowest free slot from here. */
  firstFree: number;
  /** The calls, in order. */
  ops: DsOp[];
}

const KEYS = ['x1', 'x2', 'y1', 'y2'];
const PATTERNS = ['x.*', '.*1', 'x1|y2', 'y.*', '.*2', 'x2|y1'];

function randomOp(rng: Rng, level: number): DsOp {
  const who = pick(rng, DS_ACTORS);
  const key = pick(rng, KEYS);
  const r = rng.int(10);
  if (r < 5)
    return {
      op: 'publish',
      who,
      key,
      value: 1 + rng.int(99),
      overwrite: rng.int(2) === 0,
      privRetrieve: level > 1 && rng.int(3) === 0,
    };
  if (r < 7) return { op: 'delete', who, key };
  if (r < 9) return { op: 'retrieve', who, key };
  return { op: 'check', who: pick(rng, ['ana', 'bob'] as const) };
}

function generateOps(rng: Rng, level: number): DsOp[] {
  const sub = (who: DsActor): DsOp => ({
    op: 'subscribe',
    who,
    pattern: pick(rng, PATTERNS),
    initial: level > 1,
  });
  const ops: DsOp[] = [sub('ana')];
  for (let i = 0; i < 9; i++) ops.push(randomOp(rng, level));
  ops.splice(level > 1 ? 3 + rng.int(4) : 1, 0, sub('bob'));
  ops.push({ op: 'check', who: 'ana' }, { op: 'check', who: 'bob' });
  return ops;
}

/** A ds_check loop: the keys reported until ENOENT (or the first other error). */
async function checkLoop(p: Proc): Promise<string[]> {
  const keys: string[] = [];
  for (let i = 0; i < 64; i++) {
    const c = await dsCheck(p);
    if (c.result !== OK) {
      if (c.result !== ENOENT) keys.push(errnoName(c.result));
      return keys;
    }
    keys.push(c.key);
  }
  return keys;
}

const opText = (o: DsOp): string => {
  if (o.op === 'subscribe') return `ds_subscribe("${o.pattern}"${o.initial ? ', DSF_INITIAL' : ''})`;
  if (o.op === 'publish') {
    const flags = [
      ...(o.overwrite ? ['DSF_OVERWRITE'] : []),
      ...(o.privRetrieve ? ['DSF_PRIV_RETRIEVE'] : []),
    ];
    return `ds_publish_u32("${o.key}", ${o.value}${flags.length > 0 ? `, ${flags.join('|')}` : ''})`;
  }
  if (o.op === 'delete') return `ds_delete_u32("${o.key}")`;
  if (o.op === 'retrieve') return `ds_retrieve_u32("${o.key}")`;
  return 'ds_check loop until ENOENT';
};

/** Runs one call in its actor; its answer and why, from DS's tables and trace around it. */
async function runOp(sys: System, actor: Driven, o: DsOp): Promise<{ value: string; why: string } | null> {
  const entry = (key: string) => sys.ds.entries().find((e) => e.key === key && e.type === 'U32');
  const before = o.op === 'check' || o.op === 'subscribe' ? undefined : entry(o.key);
  const held =
    before === undefined ? 'no u32 entry of that key exists' : `the entry is owned by ${before.owner}`;
  if (o.op === 'subscribe') {
    await actor.do((p) => dsSubscribe(p, o.pattern, o.initial ? DSF_INITIAL : 0));
    return null;
  }
  if (o.op === 'check') {
    const pending = sys.ds.subscriptions().find((s) => s.owner === o.who)?.pending ?? [];
    const keys = await actor.do((p) => checkLoop(p));
    return {
      value: keys.length === 0 ? 'none' : keys.join(', '),
      why: `pending slots ${pending.length === 0 ? 'none' : pending.join(', ')}, reported lowest first, then ENOENT`,
    };
  }
  if (o.op === 'retrieve') {
    const r = await actor.do((p) => dsRetrieveU32(p, o.key));
    return r.result === OK
      ? { value: String(r.value), why: held }
      : {
          value: errnoName(r.result),
          why: `${held}${before !== undefined ? ' with DSF_PRIV_RETRIEVE' : ''}`,
        };
  }
  const r =
    o.op === 'publish'
      ? await actor.do((p) =>
          dsPublishU32(
            p,
            o.key,
            o.value,
            (o.overwrite ? DSF_OVERWRITE : 0) | (o.privRetrieve ? DSF_PRIV_RETRIEVE : 0),
          ),
        )
      : await actor.do((p) => dsDeleteU32(p, o.key));
  const after = entry(o.key);
  const subs = sys.ds
    .subscriptions()
    .filter((s) => after !== undefined && s.pending.includes(after.slot))
    .map((s) => s.owner);
  const done =
    o.op === 'publish' && r === OK && after !== undefined
      ? `; now in slot ${after.slot}, owner ${after.owner}${subs.length > 0 ? `, pending for ${subs.join(', ')}` : ''}`
      : '';
  return { value: errnoName(r), why: `${held}${done}` };
}

/** Generates and solves one DS problem; level 2 adds DSF_PRIV_RETRIEVE and a late DSF_INITIAL subscription. */
export async function dsExercise(seed: number, level: number): Promise<Exercise<DsGivens>> {
  const rng = exerciseRng('ds', seed, level);
  const sys = await bootSmall();
  const actors = new Map<DsActor, Driven>();
  for (const name of DS_ACTORS) actors.set(name, await drivenActor(sys, name, { pages: 1 }));
  const slots = sys.ds.entries().map((e) => e.slot);
  const firstFree = slots.length;
  assert(
    slots.every((s, i) => s === i),
    'ds exercise: the labels are not in slots 0..n-1',
  );
  const ops = generateOps(rng, level);
  const questions: Question[] = [];
  const answers: Answer[] = [];
  for (const [i, o] of ops.entries()) {
    const actor = actors.get(o.who);
    assert(actor !== undefined, 'ds exercise: unknown actor');
    const a = await runOp(sys, actor, o);
    if (a === null) continue;
    const id = String(i + 1);
    questions.push({
      id,
      text:
        o.op === 'check'
          ? `Call ${id}: which keys does ${o.who}'s loop report, in order (or none)?`
          : `Call ${id}: the result (${o.op === 'retrieve' ? 'the value, or an errno' : 'OK or an errno'})?`,
    });
    answers.push({ id, ...a });
  }
  const givens: DsGivens = { firstFree, ops };
  return {
    topic: 'ds',
    seed,
    level,
    title: 'What does the Data Store answer?',
    statement: statement(givens),
    questions,
    answers,
    givens,
  };
}

function statement(g: DsGivens): Block[] {
  return [
    {
      kind: 'text',
      text:
        `Three services labelled ana, bob and cat use DS. Its table's slots 0–${g.firstFree - 1} hold labels; a new entry takes the lowest free slot (from ${g.firstFree}). ` +
        'Entries are identified by key (all u32 here); the publisher owns an entry; publishing an existing key needs DSF_OVERWRITE (EEXIST otherwise) and moves ownership; ' +
        'only the owner may delete (EPERM), a missing entry is ESRCH; DSF_PRIV_RETRIEVE lets only the owner retrieve. A subscription is a whole-key regular expression; ' +
        'every successful publish or delete of a matching key marks its slot pending (a delete clears the mark), DSF_INITIAL marks every existing match at once; ' +
        'ds_check reports and clears the lowest pending slot, answers ENOENT when none is left, and ESRCH to a service that has not subscribed (the loop then reports ESRCH).',
    },
    {
      kind: 'table',
      header: ['call', 'who', 'what'],
      rows: g.ops.map((o, i) => [String(i + 1), o.who, opText(o)]),
    },
  ];
}

/** The Data Store topic. */
export const dsTopic: Topic = {
  name: 'ds',
  summary:
    'Data Store: publishes, deletes, retrieves, subscriptions; each result and what each ds_check loop reports',
  levels: 2,
  generate: dsExercise,
};
