// fast-check arbitraries over the model's command type: a command is (kind, seed) turned into a command by the
// engine's own generator (src/sim/model/commands.ts randomCommand), so tests and `grantvm fuzz` draw from one
// definition and shrinking still works (shorter sequences, simpler kinds, smaller seeds).
import { fc } from '@fast-check/vitest';
import { Rng } from '../../../src/lib/rng.ts';
import { COMMAND_KINDS, randomCommand } from '../../../src/sim/model/commands.ts';
import type { Command } from '../../../src/sim/model/commands.ts';
import type { SystemConfig } from '../../../src/sim/config.ts';

export const commandArb: fc.Arbitrary<Command> = fc
  .tuple(fc.constantFrom(...COMMAND_KINDS), fc.nat())
  .map(([k, seed]) => randomCommand(new Rng(seed), k));

export const commandsArb = (maxLength: number): fc.Arbitrary<Command[]> =>
  fc.array(commandArb, { minLength: 1, maxLength });

/** The scheduler's seeded choices are part of the input: a failure replays from the printed seed and path. */
export const scheduleArb: fc.Arbitrary<Partial<SystemConfig>> = fc
  .nat()
  .map((seed) => ({ schedule: 'random' as const, seed }));

/** Default runs per property, small enough that the model tests stay under a minute; MODEL_RUNS raises it. */
export const modelBudget = (runs: number): { numRuns: number; timeout: number } => ({
  numRuns: Number(process.env.MODEL_RUNS ?? runs),
  timeout: 120_000,
});
