// Tests the allocation-free parts of the AVL tree (src/lib/avl.ts) used on VM hot paths: cursors (first, last,
// find, next, prev, setValueAt), values(), buildSorted and the sorted run (sortedKeys, sortedValues), against a
// sorted-array oracle, plus the hooks of buildSorted on refusal, its lazily made nodes, and its panics on misuse.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { AvlSearch, AvlTree } from '../../../src/lib/avl.ts';
import type { AvlCursor, AvlSearchMode } from '../../../src/lib/avl.ts';
import { Panic } from '../../../src/lib/assert.ts';

const sortedKeys = fc.uniqueArray(fc.integer({ min: 0, max: 5000 }), { maxLength: 200 }).map((a) => a.sort((x, y) => x - y));

function walk<V>(t: AvlTree<V>, c: AvlCursor<V> | null, step: (c: AvlCursor<V>) => AvlCursor<V> | null): number[] {
  const out: number[] = [];
  for (; c !== null; c = step(c)) out.push(c.key);
  return out;
}

describe('AVL cursors and buildSorted', () => {
  it('buildSorted gives a balanced tree equal to one built by inserts; cursors walk it both ways', () => {
    fc.assert(
      fc.property(sortedKeys, (keys) => {
        const t = new AvlTree<number>();
        expect(t.buildSorted(keys, keys.map((k) => k * 2))).toBe(true);
        t.check();
        expect(t.size).toBe(keys.length);
        expect(walk(t, t.first(), (c) => t.next(c))).toEqual(keys);
        expect(walk(t, t.last(), (c) => t.prev(c))).toEqual([...keys].reverse());
        expect(t.values()).toEqual(keys.map((k) => k * 2));
        expect([...t.entries()].map(([k]) => k)).toEqual(keys);
      }),
    );
  });

  it('find matches search in every mode; setValueAt changes the value in place', () => {
    const modes: AvlSearchMode[] = [AvlSearch.EQUAL, AvlSearch.LESS, AvlSearch.LESS_EQUAL, AvlSearch.GREATER, AvlSearch.GREATER_EQUAL];
    fc.assert(
      fc.property(sortedKeys, fc.integer({ min: 0, max: 5001 }), (keys, probe) => {
        const t = new AvlTree<number>();
        for (const k of keys) t.insert(k, k);
        for (const m of modes) {
          const c = t.find(probe, m);
          const e = t.search(probe, m);
          expect(c === null ? undefined : { key: c.key, value: c.value }).toEqual(e);
          if (c !== null) {
            t.setValueAt(c, -1);
            expect(t.get(c.key)).toBe(-1);
            t.setValueAt(c, c.key);
          }
        }
      }),
    );
  });

  it('buildSorted takes its nodes with one allocMany call when the hooks have it; a refusal leaves the tree empty', () => {
    const asked: number[] = [];
    let grant = false;
    const t = new AvlTree<number>({
      alloc: () => {
        throw new Error('alloc per node while allocMany exists');
      },
      free: () => undefined,
      allocMany: (k) => {
        asked.push(k);
        return grant;
      },
    });
    expect(t.buildSorted([1, 2, 3], [1, 2, 3])).toBe(false);
    expect(t.size).toBe(0);
    grant = true;
    expect(t.buildSorted([1, 2, 3], [4, 5, 6])).toBe(true);
    expect(asked).toEqual([3, 3]);
    expect(t.get(2)).toBe(5);
  });

  it('buildSorted calls alloc once per node; a refusal frees what it took and leaves the tree empty', () => {
    let live = 0;
    let budget = 3;
    const t = new AvlTree<number>({
      alloc: () => {
        if (budget-- <= 0) return false;
        live++;
        return true;
      },
      free: () => {
        live--;
      },
    });
    expect(t.buildSorted([1, 2, 3, 4], [1, 2, 3, 4])).toBe(false);
    expect(live).toBe(0);
    expect(t.size).toBe(0);
    budget = 4;
    expect(t.buildSorted([1, 2, 3, 4], [1, 2, 3, 4])).toBe(true);
    expect(live).toBe(4);
    t.clear();
    expect(live).toBe(0);
  });

  it('a built tree answers before and after its nodes are made: values and clear on the run, inserts and removes after', () => {
    fc.assert(
      fc.property(sortedKeys, fc.array(fc.integer({ min: 0, max: 5000 }), { maxLength: 20 }), (keys, ops) => {
        const oracle = new Map(keys.map((k) => [k, k + 1]));
        const t = new AvlTree<number>();
        expect(t.buildSorted(keys, keys.map((k) => k + 1))).toBe(true);
        expect(t.values()).toEqual(keys.map((k) => k + 1));
        // Each op removes the key if present, else inserts it: the first one makes the nodes.
        for (const k of ops) {
          if (oracle.has(k)) {
            expect(t.remove(k)).toBe(oracle.get(k));
            oracle.delete(k);
          } else {
            expect(t.insert(k, -k)).toBe(true);
            oracle.set(k, -k);
          }
        }
        t.check();
        const sorted = [...oracle.keys()].sort((a, b) => a - b);
        expect([...t.entries()]).toEqual(sorted.map((k) => [k, oracle.get(k)]));
        t.clear();
        expect(t.buildSorted(keys, keys)).toBe(true);
        expect(t.size).toBe(keys.length);
        if (keys.length > 0) expect(() => t.buildSorted([5001], [0])).toThrow(Panic);
      }),
      { numRuns: 50 },
    );
  });

  it('buildSorted panics on unsorted or duplicate keys, a non-empty tree, or a length mismatch; foreign cursors panic', () => {
    expect(() => new AvlTree<number>().buildSorted([2, 1], [0, 0])).toThrow(Panic);
    expect(() => new AvlTree<number>().buildSorted([1, 1], [0, 0])).toThrow(Panic);
    expect(() => new AvlTree<number>().buildSorted([1], [])).toThrow(Panic);
    const t = new AvlTree<number>();
    t.insert(1, 1);
    expect(() => t.buildSorted([2], [2])).toThrow(Panic);
    expect(() => t.next({ key: 1, value: 1 })).toThrow(Panic);
  });

  it('the sorted run follows every change: insert, remove, rekey, setValue, setValueAt, clear and buildSorted', () => {
    const ops = fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 300 })), { maxLength: 60 });
    fc.assert(
      fc.property(sortedKeys, ops, (keys, steps) => {
        const t = new AvlTree<number>();
        expect(t.buildSorted(keys, keys.map((k) => k + 1))).toBe(true);
        for (const [op, k] of steps) {
          // Read the run before each change, so that a run kept past a change would show.
          expect(t.sortedKeys()).toEqual(walk(t, t.first(), (c) => t.next(c)));
          const c = t.find(k, AvlSearch.LESS_EQUAL);
          if (op === 0 && !t.has(k)) t.insert(k, -k);
          else if (op === 1) t.remove(k);
          else if (op === 2 && c !== null) t.setValue(c.key, c.value + 7);
          else if (op === 3 && c !== null) t.setValueAt(c, c.value - 3);
          else if (op === 4 && c !== null && !t.has(c.key + 1) && t.next(c)?.key !== c.key + 1) t.rekey(c.key, c.key + 1);
          else if (op === 5 && k % 50 === 0) t.clear();
          const entries = [...t.entries()];
          expect(t.sortedKeys()).toEqual(entries.map(([key]) => key));
          expect(t.sortedValues()).toEqual(entries.map(([, v]) => v));
          expect(t.values()).toEqual(entries.map(([, v]) => v));
        }
      }),
      { numRuns: 60 },
    );
  });

  it('a tree built from a run keeps it as its sorted run; a walk makes a run only once for an unchanged tree', () => {
    const keys = [3, 8, 20];
    const values = [30, 80, 200];
    const t = new AvlTree<number>();
    expect(t.buildSorted(keys, values)).toBe(true);
    expect(t.sortedKeys()).toBe(keys);
    expect(t.get(8)).toBe(80); // makes the nodes; the run stays
    expect(t.sortedValues()).toBe(values);
    t.insert(10, 100);
    const run = t.sortedKeys();
    expect(run).toEqual([3, 8, 10, 20]);
    expect(t.sortedKeys()).toBe(run);
    expect(new AvlTree<number>().sortedKeys()).toEqual([]);
  });
});
