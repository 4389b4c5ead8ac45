// Differential pairs (issue 8): cowSafecopy on and off are observationally identical (same codes, same windows,
// same DS after every command); the generational and legacy grant-id schemes differ only on sequences that reach a
// revoked id whose slot was handed out again — and on such a sequence the difference does show.
import { describe, expect, it } from 'vitest';
import { test as fcTest } from '@fast-check/vitest';
import { runModel } from '../../../src/sim/model/executor.ts';
import type { Command } from '../../../src/sim/model/commands.ts';
import type { SystemConfig } from '../../../src/sim/config.ts';
import { commandsArb, modelBudget, scheduleArb } from './arbitraries.ts';

async function pair(commands: Command[], a: Partial<SystemConfig>, b: Partial<SystemConfig>) {
  const x = await runModel(commands, { config: a });
  const y = await runModel(commands, { config: b });
  for (const r of [x, y]) {
    expect(r.violation).toBeNull();
    expect(r.leaks).toEqual([]);
  }
  return [x, y] as const;
}

describe('differential pairs', () => {
  fcTest.prop([commandsArb(25), scheduleArb], modelBudget(10))(
    'cowSafecopy on and off: the same outcome and the same windows after every command',
    async (commands, schedule) => {
      const [on, off] = await pair(
        commands,
        { ...schedule, cowSafecopy: true },
        { ...schedule, cowSafecopy: false },
      );
      expect(on.observations).toEqual(off.observations);
    },
  );

  fcTest.prop([commandsArb(25), scheduleArb], modelBudget(10))(
    'generational and legacy ids: identical unless a revoked id reaches a reused slot',
    async (commands, schedule) => {
      const [gen, legacy] = await pair(
        commands,
        { ...schedule, grantIds: 'generational' },
        { ...schedule, grantIds: 'legacy' },
      );
      expect(gen.staleReuse).toBe(false);
      if (!legacy.staleReuse) expect(gen.observations).toEqual(legacy.observations);
    },
  );

  it('a stale id whose slot was reused: generational refuses it, legacy reaches the new grant', async () => {
    const commands: Command[] = [
      { k: 'write', a: 0, pos: 0, len: 4096, byte: 0x11 },
      { k: 'write', a: 0, pos: 4096, len: 4096, byte: 0x22 },
      { k: 'grant', a: 0, to: 1, page: 0, pages: 1, access: 1 },
      { k: 'revoke', a: 0, g: 0 },
      { k: 'grant', a: 0, to: 1, page: 1, pages: 1, access: 1 },
      // Grant 0 (revoked) as fz1 knows it: its slot now holds grant 1 (page 1).
      { k: 'copy', a: 1, dir: 'from', g: 0, gOff: 0, pos: 0, len: 100 },
    ];
    const [gen, legacy] = await pair(commands, { grantIds: 'generational' }, { grantIds: 'legacy' });
    expect(legacy.staleReuse).toBe(true);
    expect(gen.staleReuse).toBe(false);
    expect(gen.observations[5]).toMatch(/^\{"result":-1\} /);
    expect(legacy.observations[5]).toMatch(/^\{"result":0\} /);
    expect(gen.observations.slice(0, 5)).toEqual(legacy.observations.slice(0, 5));
  });
});
