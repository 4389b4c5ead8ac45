// Detection tests for the Data Store's invariant checker (DsStore.sanityCheck, src/servers/ds/store.ts): for every rule
// in DS_SANITY_RULES, one crafted corruption of a valid store that the check reports by that rule's name, and the
// detail that follows the name (what a user reads to find the broken entry). The last test of the first group fails
// when a rule has no detection test.
import { describe, expect, it } from 'vitest';
import {
  DSF_IN_USE,
  DSF_OVERWRITE,
  DSF_TYPE_LABEL,
  DSF_TYPE_MAP,
  DSF_TYPE_MEM,
  DSF_TYPE_STR,
  DSF_TYPE_U32,
} from '../../../../src/include/ds.ts';
import { OK } from '../../../../src/include/errno.ts';
import { Panic } from '../../../../src/lib/assert.ts';
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

/** The slot of the in-use entry `key` of type bit `type`. */
const slotOf = (v: Valid, key: string, type: number): number => v.inside.table.indexOf(v.entry(key, type));

/** Per rule: the message its corruption above gives, computed from the valid store before the corruption. */
const messages: Record<Rule, (v: Valid) => string> = {
  TABLE_SIZE: () => '33 entry slots, dsMaxKeys 32',
  SUBS_SIZE: () => '3 subscription slots, dsMaxSubs 4',
  ONE_TYPE: (v) => `slot ${slotOf(v, 'u1', DSF_TYPE_U32)} flags 0x31`,
  ENTRY_FLAGS: (v) => `slot ${slotOf(v, 'u1', DSF_TYPE_U32)} flags 0x10`,
  KEY_LENGTH: (v) => `slot ${slotOf(v, 'u1', DSF_TYPE_U32)} key of 80 chars`,
  KEY_UNIQUE: () => '"u1" U32 twice',
  OWNER_SET: (v) => `slot ${slotOf(v, 'u1', DSF_TYPE_U32)} has no owner`,
  VALUE_KIND: (v) => `slot ${slotOf(v, 'u1', DSF_TYPE_U32)} U32 holds a label value`,
  LABEL_UNIQUE: () => `endpoint ${A} labelled twice`,
  MAP_SINDEX: (v) => `slot ${slotOf(v, 'map', DSF_TYPE_MAP)} sindex -2`,
  MAP_RING: (v) => `slot ${slotOf(v, 'map', DSF_TYPE_MAP)} sindex 0, ring of 6 holds 1 buffers`,
  MAP_WINDOW: (v) => `slot ${slotOf(v, 'map', DSF_TYPE_MAP)} window 0x${(mapOf(v).window + 8).toString(16)}`,
  SUB_OWNER_UNIQUE: () => '"a" subscribes twice',
  PENDING_SIZE: (v) => `subscription ${v.inside.subs.indexOf(subOf(v.inside, 'b'))} has 8 pending bits`,
  PENDING_IN_USE: (v) =>
    `subscription ${v.inside.subs.indexOf(subOf(v.inside, 'b'))} pending on free slot 31`,
  ALLOC_LEAKED: () => '0x70000000 (4096 bytes) not held by an entry of that length',
  ALLOC_MISSING: (v) => {
    const mem = v.entry('mem', DSF_TYPE_MEM).value;
    return `0x${mem.kind === 'mem' ? mem.addr.toString(16) : '?'} (100 bytes) not allocated`;
  },
};

/** The message of the Panic that the store's check throws after `corrupt`, and the message `expected` computes first. */
async function panicAfter(
  corrupt: (v: Valid) => void,
  expected: (v: Valid) => string,
): Promise<{ got: string; want: string }> {
  const v = await validStore();
  const want = expected(v);
  corrupt(v);
  try {
    v.store.sanityCheck();
  } catch (e) {
    expect(e).toBeInstanceOf(Panic);
    return { got: (e as Panic).message, want };
  }
  return expect.unreachable('the check passed: the corruption went undetected');
}

describe('DS sanity rules: the detail names the slot, key, endpoint or address and the values found', () => {
  it.each(DS_SANITY_RULES)('%s', async (rule) => {
    const { got, want } = await panicAfter(corruptions[rule], messages[rule]);
    expect(got).toBe(`DS sanity ${rule}: ${want}`);
  });

  /** The other half of a two-part condition: a corruption the table above does not make. */
  const others: [Rule, string, (v: Valid) => void, (v: Valid) => string][] = [
    [
      'ENTRY_FLAGS',
      'a flag outside the stored bits (OVERWRITE kept by mistake)',
      (v) => {
        v.entry('u1', DSF_TYPE_U32).flags |= DSF_OVERWRITE;
      },
      (v) => `slot ${slotOf(v, 'u1', DSF_TYPE_U32)} flags 0x1011`,
    ],
    [
      'KEY_LENGTH',
      'an empty key',
      (v) => {
        v.entry('u1', DSF_TYPE_U32).key = '';
      },
      (v) => `slot ${slotOf(v, 'u1', DSF_TYPE_U32)} key of 0 chars`,
    ],
    [
      'MAP_RING',
      'a buffer in a ring slot no snapshot has reached',
      (v) => {
        mapOf(v).ring[3] = 0x7000_0000;
      },
      (v) => `slot ${slotOf(v, 'map', DSF_TYPE_MAP)} sindex 0, ring of 5 holds 2 buffers`,
    ],
  ];

  it.each(others)('%s: %s', async (rule, _what, corrupt, expected) => {
    const { got, want } = await panicAfter(corrupt, expected);
    expect(got).toBe(`DS sanity ${rule}: ${want}`);
  });
});
