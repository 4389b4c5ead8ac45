// The fixed cases of regressions.ts: each agrees with the oracle, keeps every invariant and leaks nothing.
import { describe, expect, it } from 'vitest';
import { runModel } from '../../../src/sim/model/executor.ts';
import { REGRESSIONS } from './regressions.ts';

describe('model-based testing: regressions', () => {
  for (const c of REGRESSIONS) {
    it(c.name, async () => {
      const r = await runModel(c.commands, { config: c.config });
      expect(r.violation).toBeNull();
      expect(r.leaks).toEqual([]);
      expect(r.commands).toBe(c.commands.length);
    });
  }
});
