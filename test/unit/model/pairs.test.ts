// Interleavings: a pair of commands of two actors runs with both in flight; the random scheduler's seed decides
// the interleaving, and the oracle accepts exactly the outcomes of one of the two serial orders.
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
});
