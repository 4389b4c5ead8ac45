// Every failure the model-based tests and `grantvm fuzz` found, shrunk, kept as a fixed case. A case names what was
// wrong and where it was fixed; the regression test replays each with sanity checks after every kernel entry.
import type { Command } from '../../../src/sim/model/commands.ts';
import type { SystemConfig } from '../../../src/sim/config.ts';

export interface RegressionCase {
  name: string;
  /** What failed and what was fixed (oracle or system). */
  note: string;
  config: Partial<SystemConfig>;
  commands: Command[];
}

export const REGRESSIONS: RegressionCase[] = [
  {
    name: 'grantee of a read-only safemap writes after the owner died',
    note:
      'fuzz seed 15 (grantvm fuzz, 60 commands): the oracle kept the page read-only and expected SIGSEGV; VM applies ' +
      'the revert rule (vm.md §5): the last reference left to a block becomes private and writable. Fixed in the oracle.',
    config: { schedule: 'random', seed: 15 },
    commands: [
      { k: 'grant', a: 1, to: 2, page: 3, pages: 2, access: 7 },
      { k: 'map', a: 2, g: 0, gOffPages: 0, page: 2, pages: 2, writable: false },
      { k: 'crash', a: 1 },
      { k: 'write', a: 2, pos: 15556, len: 7, byte: 59 },
    ],
  },
];
