// The campaign's shrinker: a failing sequence loses every command the failure does not need. The failure here is
// made on purpose: the system runs with a safemap table of one record while the oracle assumes the default 20.
import { describe, expect, it } from 'vitest';
import { shrinkCommands } from '../../../src/sim/model/campaign.ts';
import { runModel } from '../../../src/sim/model/executor.ts';
import type { Command } from '../../../src/sim/model/commands.ts';

const noise: Command[] = [
  { k: 'write', a: 2, pos: 0, len: 100, byte: 7 },
  { k: 'publish', a: 0, key: 1, value: 5, flags: 0 },
  { k: 'grant', a: 2, to: 0, page: 4, pages: 1, access: 1 },
];
const commands: Command[] = [
  ...noise,
  { k: 'grant', a: 0, to: 1, page: 0, pages: 2, access: 7 },
  ...noise,
  { k: 'map', a: 1, g: 0, gOffPages: 0, page: 0, pages: 1, writable: true },
  ...noise,
  { k: 'map', a: 1, g: 0, gOffPages: 1, page: 3, pages: 1, writable: false },
  ...noise,
];
const config = { maxMapInfo: 1 };

describe('shrinkCommands', () => {
  it('keeps only the grant and the two maps that overflow a one-record table', async () => {
    const r = await runModel(commands, { config });
    expect(r.violation?.message).toContain('returned {"result":-16}, the oracle says {"result":0}');
    const shrunk = await shrinkCommands(commands, config, 'violation', 200);
    expect(shrunk.map((c) => c.k)).toEqual(['grant', 'map', 'map']);
    expect((await runModel(shrunk, { config })).violation).not.toBeNull();
  });
});
