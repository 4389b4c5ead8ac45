// Issue 5, "restart with state, proven": the stateful kv service (src/user/kvservice.ts) is crashed at
// every kernel step of its run, one crash per run (this file: every other step, from step 2; its twin
// file takes the rest, so the two halves run on both cores). RS restarts it, it recovers from DS and finishes;
// nothing acknowledged is lost, the sanity checks hold, and no frame or DS slot is leaked.
import { describe, expect, it } from 'vitest';
import { crashSweep } from './crashsweep.ts';

describe('restart with state: one crash at every step (part 2 of 2)', () => {
  it('recovers from a crash at each of its steps; nothing acknowledged is lost, nothing leaks', async () => {
    const r = await crashSweep(1, 2);
    expect(r.runs).toBe(Math.ceil((r.steps - 1 - 1) / 2));
    // Crashes land in every phase: recovery, between operations, inside them.
    expect(r.kills).toBeGreaterThan(r.runs / 2);
  }, 900_000);
});
