// The oracle's read-only bookkeeping across chained safemaps (finding 8 of docs/fuzzing.md): a safemap drops the
// grantee's old pages before it shares the owner's, so an owner whose page was the grantee's own, seen through an
// earlier read-only mapping, holds it alone again and may write it; while a third window still shares the page, the
// owner's earlier read-only view stays read-only. The system must agree, writes included.
import { describe, expect, it } from 'vitest';
import { ACTOR_HEAP, runModel } from '../../../src/sim/model/executor.ts';
import { EFAULT, OK, Oracle } from '../../../src/sim/model/oracle.ts';
import type { Command } from '../../../src/sim/model/commands.ts';

const P = 4096;
const ALL = 7; // READ | WRITE | MAP

/** fz2's page 0 mapped read-only at fz1's page 7, then fz1's page 7 (that same frame) read-only at `at`'s page 0. */
function chained(at: number): Oracle {
  const o = new Oracle(3, 'generational', ACTOR_HEAP);
  const own = o.grantDirect(2, 1, 0, 1, ALL).ref;
  const view = o.grantDirect(1, at, 7, 1, ALL).ref;
  expect(o.safemap(1, own, 0, 7, 1, false)).toEqual({ result: OK });
  expect(o.readOnlyPages(1)).toEqual([7]);
  expect(o.safemap(at, view, 0, 0, 1, false)).toEqual({ result: OK });
  return o;
}

describe('oracle: a safemap drops the grantee’s pages before it shares the owner’s', () => {
  it('the owner regains write access to a page that was the grantee’s own', () => {
    const o = chained(2);
    expect(o.readOnlyPages(1)).toEqual([]);
    expect(o.readOnlyPages(2)).toEqual([0]);
    const source = o.grantDirect(2, 1, 2, 1, ALL).ref;
    expect(o.copy(1, source, { dir: 'from', g: 0, gOff: 0, pos: 7 * P, len: 100 })).toEqual({ result: OK });
    expect(o.userWrite(1, 7 * P + 200, 8, 9)).toEqual({ result: OK });
    expect(o.window(2)[200]).toBe(9);
    expect(o.userWrite(2, 0, 8, 9)).toEqual({ result: 'killed' });
  });

  it('an owner whose page others still share keeps its read-only view', () => {
    const o = chained(0);
    expect(o.readOnlyPages(1)).toEqual([7]);
    expect(o.readOnlyPages(0)).toEqual([0]);
    const source = o.grantDirect(2, 1, 2, 1, ALL).ref;
    expect(o.copy(1, source, { dir: 'from', g: 0, gOff: 0, pos: 7 * P, len: 100 })).toEqual({
      result: EFAULT,
    });
    expect(o.userWrite(2, 0, 8, 9)).toEqual({ result: OK });
    expect(o.window(0)[0]).toBe(9);
  });
});

describe('system and oracle agree on chained read-only safemaps', () => {
  const run = (at: number): Command[] => [
    { k: 'grant', a: 2, to: 1, page: 0, pages: 1, access: ALL },
    { k: 'grant', a: 1, to: at, page: 7, pages: 1, access: ALL },
    { k: 'map', a: 1, g: 0, gOffPages: 0, page: 7, pages: 1, writable: false },
    { k: 'map', a: at, g: 1, gOffPages: 0, page: 0, pages: 1, writable: false },
    { k: 'write', a: 1, pos: 7 * P + 200, len: 8, byte: 9 },
    { k: 'write', a: 2, pos: 100, len: 8, byte: 5 },
    { k: 'write', a: at, pos: 300, len: 8, byte: 6 },
  ];
  for (const at of [2, 0]) {
    it(`the second map by fz${String(at)}`, async () => {
      const r = await runModel(run(at), { config: { cowSafecopy: false } });
      expect(r.violation).toBeNull();
      expect(r.commands).toBe(7);
    });
  }
});
