// The state hash in a run's observations (ModelOptions.hashes): by default every observation ends in a hash of the
// actors' windows, areas and heaps after the command (the differential runs compare them); with `hashes: false`,
// as a campaign runs, the observations carry the outcomes alone and everything checked and counted is the same.
import { describe, expect, it } from 'vitest';
import { runModel } from '../../../src/sim/model/executor.ts';
import type { Command } from '../../../src/sim/model/commands.ts';

const commands: Command[] = [
  { k: 'write', a: 0, pos: 10, len: 7, byte: 33 },
  { k: 'revoke', a: 1, g: 0 }, // no grant of fz1's yet: n/a, the system untouched
  { k: 'grant', a: 0, to: 1, page: 0, pages: 1, access: 7 },
  { k: 'copy', a: 1, g: 0, dir: 'from', gOff: 8, pos: 4096, len: 16 },
  { k: 'write', a: 2, pos: 0, len: 1, byte: 1 },
];

describe('model tester: state hashes', () => {
  it('hash the state after every command, the same when nothing changed, and only when asked', async () => {
    const hashed = await runModel(commands);
    const bare = await runModel(commands, { hashes: false });
    expect(hashed.violation).toBeNull();
    const hashes = hashed.observations.map((o) => o.slice(o.lastIndexOf(' ') + 1));
    expect(hashes.every((h) => /^[0-9a-f]+$/.test(h))).toBe(true);
    expect(hashed.observations[1]).toMatch(/^n\/a /);
    expect(hashes[1]).toBe(hashes[0]); // n/a: the hash of the state as it is
    expect(hashes[2]).toBe(hashes[1]); // a grant changes no memory
    expect(hashes[3]).not.toBe(hashes[2]); // the copy wrote fz1's page 1
    expect(hashes[4]).not.toBe(hashes[3]);
    expect(bare.observations).toEqual(hashed.observations.map((o) => o.slice(0, o.lastIndexOf(' '))));
    expect(bare.observations[1]).toBe('n/a');
    expect({ ...bare, observations: [] }).toEqual({ ...hashed, observations: [] });
  });
});
