// Detection tests for the Data Store's invariant checker (DsStore.sanityCheck, src/servers/ds/store.ts): for every rule
// in DS_SANITY_RULES, one crafted corruption of a valid store that the check reports by that rule's name. The last
// test fails when a rule has no detection test.
import {
  DSF_IN_USE,
  DSF_TYPE_LABEL,
  DSF_TYPE_MAP,
  DSF_TYPE_MEM,
  DSF_TYPE_STR,
  DSF_TYPE_U32,
} from '../../../../src/include/ds.ts';
import { OK } from '../../../../src/include/errno.ts';
import { DS_SANITY_RULES } from '../../../../src/servers/ds/store.ts';
import type { DsEntry, DsMapValue, DsStore, DsSubscription } from '../../../../src/servers/ds/store.ts';
import { onFresh, ruleDetectionTests } from '../../../helpers/rules.ts';
import { makeWorld } from './fakeds.ts';

type Rule = (typeof DS_SANITY_RULES)[number];

const A = 20;
const B = 21;

/** The store's tables as it keeps them. */
interface Inside {
  table: (DsEntry | null)[];
  subs: (DsSubscription | null)[];
  heap: Map<number, number>;
}

interface Valid {
  store: DsStore;
  inside: Inside;
  /** The in-use entry of `key` and type bit `type`. */
  entry: (key: string, type: number) => DsEntry;
}

/**
 * A valid store: the boot labels, labels a and b, U32 "u1" and "u2", a MEM entry, a MAP entry with one snapshot,
 * subscriptions by a and b, and b's pending bit for "x.late" (published after b subscribed).
 */
async function validStore(): Promise<Valid> {
  const w = await makeWorld({ maxKeys: 32, maxSubs: 4 }, [
    { label: 'a', endpoint: A },
    { label: 'b', endpoint: B },
  ]);
  const a = w.client(A);
  const results = [
    await a.publishU32('u1', 1),
    await a.publishU32('u2', 2),
    await a.publishMem('mem', new Uint8Array(100)),
    await a.publishMap('map', new Uint8Array(4096)),
    (await a.snapshot('map')).r,
    await a.subscribe('y.*'),
    await w.client(B).subscribe('x.*'),
    await a.publishU32('x.late', 3),
  ];
  if (results.some((r) => r !== OK)) throw new Error(`setup failed: ${results.join(' ')}`);
  const store = w.store;
  store.sanityCheck();
  const inside = store as unknown as Inside;
  const entry = (key: string, type: number): DsEntry => {
    const e = inside.table.find((x) => x !== null && x.key === key && (x.flags & type) !== 0);
    if (e === undefined || e === null) throw new Error(`no entry ${key}`);
    return e;
  };
  return { store, inside, entry };
}

/** The subscription of `owner`. */
function subOf(inside: Inside, owner: string): DsSubscription {
  const s = inside.subs.find((x) => x !== null && x.owner === owner);
  if (s === undefined || s === null) throw new Error(`no subscription of ${owner}`);
  return s;
}

const mapOf = (v: Valid): DsMapValue => v.entry('map', DSF_TYPE_MAP).value as DsMapValue;

/** Each corruption: applied to a fresh valid store. */
const corruptions: Record<Rule, (v: Valid) => void> = {
  TABLE_SIZE: (v) => v.inside.table.push(null),
  SUBS_SIZE: (v) => v.inside.subs.pop(),
  ONE_TYPE: (v) => {
    v.entry('u1', DSF_TYPE_U32).flags |= DSF_TYPE_STR;
  },
  ENTRY_FLAGS: (v) => {
    v.entry('u1', DSF_TYPE_U32).flags &= ~DSF_IN_USE;
  },
  KEY_LENGTH: (v) => {
    v.entry('u1', DSF_TYPE_U32).key = 'k'.repeat(80);
  },
  KEY_UNIQUE: (v) => {
    v.entry('u2', DSF_TYPE_U32).key = 'u1';
  },
  OWNER_SET: (v) => {
    v.entry('u1', DSF_TYPE_U32).owner = '';
  },
  VALUE_KIND: (v) => {
    v.entry('u1', DSF_TYPE_U32).value = { kind: 'label', endpoint: 99 };
  },
  LABEL_UNIQUE: (v) => {
    v.entry('b', DSF_TYPE_LABEL).value = { kind: 'label', endpoint: A };
  },
  MAP_SINDEX: (v) => {
    mapOf(v).sindex = -2;
  },
  MAP_RING: (v) => {
    mapOf(v).ring.push(null);
  },
  MAP_WINDOW: (v) => {
    mapOf(v).window += 8;
  },
  SUB_OWNER_UNIQUE: (v) => {
    subOf(v.inside, 'b').owner = 'a';
  },
  PENDING_SIZE: (v) => {
    subOf(v.inside, 'b').pending = new Uint8Array(8);
  },
  PENDING_IN_USE: (v) => {
    subOf(v.inside, 'b').pending[v.inside.table.lastIndexOf(null)] = 1;
  },
  ALLOC_LEAKED: (v) => {
    v.inside.heap.set(0x7000_0000, 4096);
  },
  ALLOC_MISSING: (v) => {
    const mem = v.entry('mem', DSF_TYPE_MEM).value;
    if (mem.kind !== 'mem') throw new Error('not a MEM value');
    v.inside.heap.delete(mem.addr);
  },
};

ruleDetectionTests({
  title: 'DS sanity rules: each crafted corruption is reported by its rule',
  rules: DS_SANITY_RULES,
  start: (rule) => `DS sanity ${rule}: `,
  named: /DS sanity ([A-Z_]+):/g,
  corruptions: onFresh(validStore, (v) => v.store.sanityCheck(), corruptions),
});
