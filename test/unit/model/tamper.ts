// Detection tests: a run of the model tester in which something happens behind the oracle's back, so the next
// comparison must report it. Entry point: runTampered.
import { runModel } from '../../../src/sim/model/executor.ts';
import type { ModelRun } from '../../../src/sim/model/executor.ts';
import type { Command } from '../../../src/sim/model/commands.ts';
import type { Driven } from '../../../src/sim/driven.ts';
import type { System } from '../../../src/sim/system.ts';

/** Runs `commands`; right after command `after`, `tamper` acts on actor `actor` (fz0..fz2) where the oracle cannot see. */
export function runTampered(
  commands: readonly Command[],
  at: { after: number; actor: number },
  tamper: (a: Driven, sys: System) => unknown,
): Promise<ModelRun> {
  return runModel(commands, {
    afterCommand: async (sys, actors, index) => {
      if (index !== at.after) return;
      const a = actors[at.actor];
      if (a === undefined) throw new Error(`runTampered: no actor ${at.actor}`);
      await tamper(a, sys);
    },
  });
}
