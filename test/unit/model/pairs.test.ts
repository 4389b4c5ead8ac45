// Interleavings: a pair of commands of two actors runs with both in flight; the random scheduler's seed decides
// the interleaving, and the oracle accepts exactly the outcomes of one of the two serial orders, or of a revoke's
// two steps with the other command between them.
import { describe, expect, it } from 'vitest';
import { runModel } from '../../../src/sim/model/executor.ts';
import type { Command } from '../../../src/sim/model/commands.ts';
import { outcomeOf } from './observations.ts';

const race: Command[] = [
  {
    k: 'pair',
    first: { k: 'publish', a: 0, key: 0, value: 1, flags: 0 },
    second: { k: 'publish', a: 1, key: 0, value: 2, flags: 0 },
  },
  { k: 'retrieve', a: 2, key: 0 },
];

// A read-only map by fz0 in flight with fz2's saferevmap of the same grant: both orders look the same right after
// (same codes, same bytes), but only if the map came last is fz0's page still read-only; fz0's next write tells.
const hidden: Command[] = [
  { k: 'grant', a: 2, to: 0, page: 1, pages: 1, access: 5 },
  {
    k: 'pair',
    first: { k: 'map', a: 0, g: 0, gOffPages: 0, page: 3, pages: 1, writable: false },
    second: { k: 'revmap', a: 2, g: 0 },
  },
  { k: 'write', a: 0, pos: 3 * 4096 + 10, len: 1, byte: 9 },
];

// fz0 revokes its MAP grant while fz1 maps it (finding 9 of docs/fuzzing.md). cpf_revoke is two steps: the kernel
// breaks the grant's mappings, then the library frees the slot. fz0's fork and exec before the pair only give the
// random scheduler other priorities to interleave (without them no seed of 1–60 falls between the steps). fz0 then
// writes its granted page: fz1 sees the byte only if its mapping outlived the revoke.
const revokeMap: Command[] = [
  { k: 'grant', a: 0, to: 1, page: 4, pages: 2, access: 7 },
  { k: 'fork', a: 0, pos: 8205, byte: 123, exec: true },
  {
    k: 'pair',
    first: { k: 'revoke', a: 0, g: 1 },
    second: { k: 'map', a: 1, g: 1, gOffPages: 0, page: 0, pages: 1, writable: false },
  },
  { k: 'write', a: 0, pos: 4 * 4096, len: 1, byte: 9 },
];

describe('pairs of commands in flight together', () => {
  it('two publishes of one key: the schedule picks the winner, the loser gets EEXIST, a reader sees the winner', async () => {
    const winners = new Set<number>();
    for (let seed = 1; seed <= 8; seed++) {
      const r = await runModel(race, { config: { schedule: 'random', seed } });
      expect(r.violation).toBeNull();
      expect(r.leaks).toEqual([]);
      const [pub, get] = r.observations.map((o) => o.slice(0, o.lastIndexOf(' ')));
      const winner =
        pub === '{"result":0} | {"result":-17}' ? 1 : pub === '{"result":-17} | {"result":0}' ? 2 : -1;
      expect(winner).toBeGreaterThan(0);
      expect(get).toBe(`{"result":0,"value":${winner}}`);
      winners.add(winner);
    }
    expect([...winners].sort()).toEqual([1, 2]);
  });

  it('keeps both serial orders while they look alike, and a later command decides', async () => {
    const outcomes = new Set<string>();
    for (let seed = 1; seed <= 10; seed++) {
      const r = await runModel(hidden, { config: { schedule: 'random', seed } });
      expect(r.violation).toBeNull();
      expect(r.leaks).toEqual([]);
      outcomes.add(outcomeOf(r.observations[2] ?? ''));
    }
    expect([...outcomes].sort()).toEqual(['{"result":"killed"}', '{"result":0}']);
  });

  it('a safemap between the two steps of a revoke outlives it: a third order', async () => {
    const seen = new Map<string, string>();
    for (let seed = 1; seed <= 10; seed++) {
      const r = await runModel(revokeMap, { config: { schedule: 'random', seed, grantIds: 'legacy' } });
      expect(r.violation).toBeNull();
      expect(r.leaks).toEqual([]);
      const pair = outcomeOf(r.observations[2] ?? '');
      const after = r.observations[3] ?? '';
      seen.set(pair, [seen.get(pair), after.slice(after.lastIndexOf(' ') + 1)].filter(Boolean).join(' '));
    }
    // the map refused (revoke first), and the map made: broken by the revoke, or not (fz1 sees fz0's write)
    expect([...seen.keys()].sort()).toEqual(['{"result":0} | {"result":-1}', '{"result":0} | {"result":0}']);
    const refused = new Set(seen.get('{"result":0} | {"result":-1}')?.split(' '));
    const made = new Set(seen.get('{"result":0} | {"result":0}')?.split(' '));
    expect(refused.size).toBe(1);
    expect(made.size).toBe(2);
    expect([...refused].every((h) => made.has(h))).toBe(true);
  });
});
