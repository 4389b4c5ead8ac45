// Exercise topic 'grants': grant tables and safecopy (grants.md §3–5). Three services build real grant tables in
// their memory (direct grants, ANY, an indirect chain, a revoked grant whose slot may be reused under a new
// generational id, a magic grant from a process that is not VFS); the problem prints the tables as the kernel
// reads them and a list of safecopy calls; the kernel's results answer (the bytes copied, or the errno), the
// grant trace events and the chain of entries explain. Entry points: grantsTopic, grantsExercise, GrantsGivens.
import { ANY } from '../../include/endpoint.ts';
import { OK, errnoName } from '../../include/errno.ts';
import {
  CPF_DIRECT,
  CPF_INDIRECT,
  CPF_MAGIC,
  CPF_READ,
  CPF_USED,
  CPF_VALID,
  CPF_WRITE,
  makeGrantId,
} from '../../include/safecopies.ts';
import type { GrantEntry } from '../../include/safecopies.ts';
import { readGrantEntry, usableGrantTable } from '../../kernel/grant.ts';
import type { Rng } from '../../lib/rng.ts';
import { assert } from '../../lib/assert.ts';
import { drivenActor } from '../driven.ts';
import type { Driven } from '../driven.ts';
import type { System } from '../system.ts';
import { bootSmall, exerciseRng, hex, pick } from './common.ts';
import type { Answer, Block, Exercise, Question, Topic } from './types.ts';

/** The three services; ana's buffer holds the data. */
export const GRANT_ACTORS = ['ana', 'bob', 'cat'] as const;
/** One of {@link GRANT_ACTORS}. */
export type GrantActor = (typeof GRANT_ACTORS)[number];

/** One table entry as printed: endpoints by name, addresses as offsets in the owner's buffer. */
export interface GrantRow {
  /** Slot in the table. */
  slot: number;
  /** The entry's sequence number (generational ids). */
  seq: number;
  /** Flags word. */
  flags: number;
  /** direct/magic: the grantee; indirect: the grantee. 'ANY' for the wildcard. */
  to: string;
  /** direct/magic: offset in the memory owner's buffer, and length. */
  start?: number;
  /** direct/magic: length in bytes. */
  len?: number;
  /** indirect/magic: the process the grant points at (the previous granter, or the memory owner). */
  from?: string;
  /** indirect: the id in `from`'s table. */
  grant?: number;
}

/** One safecopy call. */
export interface CopyCall {
  /** Who calls. */
  who: GrantActor;
  /** 'from' (read the grant) or 'to' (write it). */
  dir: 'from' | 'to';
  /** The granter named in the call. */
  granter: GrantActor;
  /** The grant id. */
  gid: number;
  /** Offset in the grant. */
  offset: number;
  /** Bytes. */
  bytes: number;
}

/** What the student is given: ana's first bytes, the three tables, the calls. */
export interface GrantsGivens {
  /** The first 64 bytes of ana's buffer. */
  data: number[];
  /** Each service's table. */
  tables: Record<GrantActor, GrantRow[]>;
  /** The calls, in order. */
  calls: CopyCall[];
}

const DATA_BYTES = 64;
const DST = 0x800;
/** The byte a safecopyto sends. */
export const FILL = 0xee;

type Grants = { actors: Map<GrantActor, Driven>; ids: { granter: GrantActor; id: number }[] };

/** Builds the tables; the ids worth calling with (stale ones included). */
async function buildTables(sys: System, rng: Rng, level: number): Promise<Grants> {
  const actors = new Map<GrantActor, Driven>();
  for (const name of GRANT_ACTORS) actors.set(name, await drivenActor(sys, name, { pages: 1 }));
  const actor = (n: GrantActor): Driven => actors.get(n) ?? assertNever(n);
  const ep = (n: GrantActor): number => actor(n).ep;
  const range = (): [number, number] => {
    const start = 4 * rng.int(10);
    return [start, 4 * (1 + rng.int(6))];
  };
  const ids: Grants['ids'] = [];
  const direct = async (owner: GrantActor, to: number, access: number): Promise<number> => {
    const [s, l] = range();
    const g = await actor(owner).do((p, buf) => p.cpf.grantDirect(to, buf + s, l, access));
    assert(g.errno === OK, 'grants exercise: grant failed');
    ids.push({ granter: owner, id: g.id });
    return g.id;
  };
  const a0 = await direct('ana', ep('bob'), CPF_READ);
  await direct('ana', ep('cat'), CPF_READ | CPF_WRITE);
  await direct('ana', ANY, CPF_READ);
  const old = await direct('ana', ep(pick(rng, ['bob', 'cat'] as const)), CPF_READ);
  await actor('ana').do((p) => p.cpf.revoke(old));
  if (level > 1) await direct('ana', ep(pick(rng, ['bob', 'cat'] as const)), CPF_READ | CPF_WRITE);
  const b0 = await actor('bob').do((p) => p.cpf.grantIndirect(ep('cat'), ep('ana'), a0));
  ids.push({ granter: 'bob', id: b0.id });
  if (level > 1) {
    const c0 = await actor('cat').do((p) => p.cpf.grantIndirect(ep('bob'), ep('bob'), b0.id));
    ids.push({ granter: 'cat', id: c0.id });
    const [s, l] = range();
    const c1 = await actor('cat').do((p) =>
      p.cpf.grantMagic(ep('bob'), ep('ana'), actor('ana').buf + s, l, CPF_READ),
    );
    ids.push({ granter: 'cat', id: c1.id });
  }
  return { actors, ids };
}

function assertNever(n: string): never {
  throw new Error(`grants exercise: no actor ${n}`);
}

/** A table as the kernel reads it: used or revoked slots, names for endpoints, buffer offsets for addresses. */
function readTable(sys: System, g: Grants, owner: GrantActor): GrantRow[] {
  const kp = g.actors.get(owner)?.kp;
  const table = kp === undefined ? null : usableGrantTable(kp);
  if (kp === undefined || table === null) return [];
  const name = (ep: number): string =>
    ep === ANY ? 'ANY' : ([...g.actors].find(([, a]) => a.ep === ep)?.[0] ?? String(ep));
  const off = (addr: number): number => addr - (g.actors.get('ana')?.buf ?? 0);
  const rows: GrantRow[] = [];
  for (let slot = 0; slot < table.entries; slot++) {
    const e: GrantEntry | null = readGrantEntry(sys.kernel, kp, table, slot);
    if (e === null || (e.flags === 0 && e.seq === 0)) continue;
    const row: GrantRow = { slot, seq: e.seq, flags: e.flags, to: '' };
    if (e.kind === 'direct') Object.assign(row, { to: name(e.whoTo), start: off(e.start), len: e.len });
    else if (e.kind === 'indirect')
      Object.assign(row, { to: name(e.whoTo), from: name(e.whoFrom), grant: e.grant });
    else if (e.kind === 'magic')
      Object.assign(row, { to: name(e.whoTo), from: name(e.whoFrom), start: off(e.start), len: e.len });
    rows.push(row);
  }
  return rows;
}

function randomCall(rng: Rng, g: Grants, level: number): CopyCall {
  const target = pick(rng, g.ids);
  const bytes = 4 * (1 + rng.int(2));
  return {
    who: pick(
      rng,
      GRANT_ACTORS.filter((n) => n !== target.granter),
    ),
    dir: level > 1 && rng.int(4) === 0 ? 'to' : 'from',
    granter: target.granter,
    gid: target.id,
    offset: 4 * rng.int(8),
    bytes,
  };
}

/** Runs one call; the answer from the kernel's result and the bytes that arrived. */
async function runCall(sys: System, g: Grants, c: CopyCall): Promise<Omit<Answer, 'id'>> {
  const me = g.actors.get(c.who);
  const granter = g.actors.get(c.granter);
  assert(me !== undefined && granter !== undefined, 'grants exercise: unknown actor');
  const from = sys.trace.length;
  const r = await me.do(async (p, buf) => {
    if (c.dir === 'to') await p.write(buf + DST, new Uint8Array(c.bytes).fill(FILL));
    const res =
      c.dir === 'from'
        ? await p.sys.safecopyFrom(granter.ep, c.gid, c.offset, buf + DST, c.bytes)
        : await p.sys.safecopyTo(granter.ep, c.gid, c.offset, buf + DST, c.bytes);
    return { res, bytes: res === OK && c.dir === 'from' ? [...(await p.read(buf + DST, c.bytes))] : [] };
  });
  const ev = sys.trace.slice(from).find((e) => e.kind === 'grant');
  const traced =
    ev?.kind === 'grant'
      ? `trace: ${ev.op} by ${c.who} of ${c.granter}'s grant ${hex(ev.gid)} → ${errnoName(ev.result)}`
      : 'no grant event';
  const value =
    r.res !== OK
      ? errnoName(r.res)
      : c.dir === 'from'
        ? r.bytes.map((b) => b.toString(16).padStart(2, '0')).join(' ')
        : 'OK';
  return { value, why: `${chain(sys, g, c)}; ${traced}` };
}

/** The entries verification walks, as text (the kernel decides; this only names them). */
function chain(sys: System, g: Grants, c: CopyCall): string {
  const hops: string[] = [];
  let owner: GrantActor | undefined = c.granter;
  let id = c.gid;
  for (let depth = 0; owner !== undefined && depth < 6; depth++) {
    const slot = id & 0xfffff;
    const row: GrantRow | undefined = readTable(sys, g, owner).find((r) => r.slot === slot);
    if (row === undefined || (row.flags & CPF_USED) === 0) {
      hops.push(`${owner} slot ${slot} is free`);
      break;
    }
    if (row.seq !== id >>> 20) {
      hops.push(`${owner} slot ${slot} has seq ${row.seq}, the id says ${id >>> 20}`);
      break;
    }
    hops.push(`${owner} slot ${slot}: ${describe(row)}`);
    if ((row.flags & CPF_INDIRECT) === 0) break;
    owner = GRANT_ACTORS.find((n) => n === row.from);
    id = row.grant ?? -1;
  }
  return hops.join(' → ');
}

const ACCESS: [number, string][] = [
  [CPF_READ, 'R'],
  [CPF_WRITE, 'W'],
];

function describe(r: GrantRow): string {
  const acc =
    ACCESS.filter(([b]) => (r.flags & b) !== 0)
      .map(([, n]) => n)
      .join('') || '-';
  if ((r.flags & CPF_INDIRECT) !== 0) return `indirect to ${r.to} of ${r.from}'s ${hex(r.grant ?? 0)}`;
  const kind = (r.flags & CPF_MAGIC) !== 0 ? `magic (memory of ${r.from ?? '?'})` : 'direct';
  return `${kind} ${acc} to ${r.to}, bytes ${r.start ?? 0}..${(r.start ?? 0) + (r.len ?? 0)}`;
}

/** Generates and solves one grants problem; level 2 adds slot reuse, a chain of two, a magic grant, safecopyto. */
export async function grantsExercise(seed: number, level: number): Promise<Exercise<GrantsGivens>> {
  const rng = exerciseRng('grants', seed, level);
  const sys = await bootSmall();
  const g = await buildTables(sys, rng, level);
  const data = Array.from({ length: DATA_BYTES }, (_, i) => (i * 29 + seed * 7 + 0x10) & 0xff);
  await g.actors.get('ana')?.do((p, buf) => p.write(buf, Uint8Array.from(data)));
  const tables = {
    ana: readTable(sys, g, 'ana'),
    bob: readTable(sys, g, 'bob'),
    cat: readTable(sys, g, 'cat'),
  };
  const calls = Array.from({ length: level > 1 ? 8 : 6 }, () => randomCall(rng, g, level));
  const questions: Question[] = [];
  const answers: Answer[] = [];
  for (const [i, c] of calls.entries()) {
    const id = String(i + 1);
    questions.push({
      id,
      text: `Call ${id}: ${c.dir === 'from' ? 'the bytes copied (hex, in order), or the errno' : 'OK, or the errno'}?`,
    });
    answers.push({ id, ...(await runCall(sys, g, c)) });
  }
  const givens: GrantsGivens = { data, tables, calls };
  return {
    topic: 'grants',
    seed,
    level,
    title: 'Grant tables and safecopy',
    statement: statement(givens),
    questions,
    answers,
    givens,
  };
}

const FLAG_NAMES: [number, string][] = [
  [CPF_READ, 'READ'],
  [CPF_WRITE, 'WRITE'],
  [CPF_USED, 'USED'],
  [CPF_DIRECT, 'DIRECT'],
  [CPF_INDIRECT, 'INDIRECT'],
  [CPF_MAGIC, 'MAGIC'],
  [CPF_VALID, 'VALID'],
];

const flagText = (f: number): string =>
  FLAG_NAMES.filter(([b]) => (f & b) !== 0)
    .map(([, n]) => n)
    .join('|') || '0';

function statement(g: GrantsGivens): Block[] {
  const dump = [0, 16, 32, 48].map(
    (o) =>
      `buf+${String(o).padStart(2)}: ${g.data
        .slice(o, o + 16)
        .map((b) => b.toString(16).padStart(2, '0'))
        .join(' ')}`,
  );
  const rows = GRANT_ACTORS.flatMap((owner) =>
    g.tables[owner].map((r) => [
      owner,
      String(r.slot),
      String(r.seq),
      hex(makeGrantId('generational', r.slot, r.seq)),
      flagText(r.flags),
      r.to,
      r.start !== undefined ? `${r.start}+${r.len ?? 0}` : '',
      r.from !== undefined ? `${r.from}${r.grant !== undefined ? ` ${hex(r.grant)}` : ''}` : '',
    ]),
  );
  return [
    {
      kind: 'text',
      text:
        'Services ana, bob and cat have grant tables (generational ids: id = seq << 20 | slot; revoking a grant clears its flags and adds 1 to its seq). ' +
        "Offsets and lengths are decimal, in ana's buffer, whose first bytes are shown in hex. safecopyfrom needs READ; safecopyto needs WRITE and sends bytes of 0xee; only the last entry of an indirect chain gives rights and range; " +
        "each entry must be USED and VALID, carry the id's seq, and name the caller (or the previous granter) or ANY as grantee; offset+bytes must fit in len; " +
        'only VFS may issue magic grants. Errors: EINVAL (bad granter or id), EPERM (everything else).',
    },
    { kind: 'code', lines: dump },
    {
      kind: 'table',
      header: ['table of', 'slot', 'seq', 'id', 'flags', 'to', 'start+len', 'from, grant'],
      rows,
    },
    {
      kind: 'table',
      header: ['call', 'who', 'what'],
      rows: g.calls.map((c, i) => [
        String(i + 1),
        c.who,
        `safecopy${c.dir}(${c.granter}, ${hex(c.gid)}, offset ${c.offset}, ${c.bytes} bytes)`,
      ]),
    },
  ];
}

/** The grants topic. */
export const grantsTopic: Topic = {
  name: 'grants',
  summary:
    'grant tables (direct, indirect chains, magic, revoked, generational ids): each safecopy result and why',
  levels: 2,
  generate: grantsExercise,
};
