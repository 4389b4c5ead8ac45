// Issue 5, "restart with state, proven": the stateful kv service is crashed at every kernel step of its run,
// one crash per run. RS restarts it, it recovers from DS and finishes; nothing acknowledged is lost, the
// sanity checks hold, and once the service is taken down for good no frame and no DS slot is leaked.
import { expect } from 'vitest';
import { DEFAULT_SERVICE_SPEC } from '../../../../src/include/priv.ts';
import { createSystem } from '../../../../src/sim/system.ts';
import type { System } from '../../../../src/sim/system.ts';
import type { SystemConfig } from '../../../../src/sim/config.ts';
import { MiB } from '../../../../src/lib/units.ts';
import { KV_OPS, kvReader, kvService } from '../../../../src/user/kvservice.ts';
import type { KvJournal } from '../../../../src/user/kvservice.ts';

/**
 * The sweep's system: VM's sanity check after every request; 16 MiB, a quarter of the default, which the service
 * and its reader use a sliver of (boot and every full check cost less); no trace, which nothing here reads.
 */
const SWEEP_CONFIG: Partial<SystemConfig> = { sanity: 'top', ramBytes: 16 * MiB, trace: null };

const EXPECTED_TABLE: Record<string, number> = {};
for (const op of KV_OPS) EXPECTED_TABLE[op.key] = op.value;

/** Pages not held by any process: free, plus VM's own (page tables, slab) which a crash may grow. */
const pool = (sys: System): number => {
  const m = sys.vm.snapshot().memory;
  return m.freePages + m.internalPages;
};

/**
 * One life of the kv service on `sys`, crashed `crashStep` kernel entries after its start (null: never), then
 * read back, then taken down for good.
 */
async function cycle(sys: System, crashStep: number | null): Promise<{ j: KvJournal; steps: number; killed: boolean }> {
  const j: KvJournal = { acked: [], recovered: [], failures: [] };
  const start = sys.kernel.step;
  sys.startService({ label: 'kv', program: kvService(j), priv: DEFAULT_SERVICE_SPEC, restart: { maxRestarts: 2 } });
  let killed = false;
  if (crashStep !== null) {
    await sys.run({ maxSteps: crashStep });
    const rp = sys.rs.services.get('kv');
    if (rp !== undefined && rp.status === 'running') killed = sys.kill(rp.endpoint);
  }
  await sys.run();
  const steps = sys.kernel.step - start;
  expect(j.failures).toEqual([]);
  expect(sys.rs.services.get('kv')?.status).toBe('exited');
  for (const r of j.recovered) expect(r.n).toBeGreaterThanOrEqual(r.ackedBefore);
  const out = { n: 0, table: '', ring: [] as number[] };
  sys.startService({ label: 'reader', program: kvReader(out), priv: DEFAULT_SERVICE_SPEC, restart: { maxRestarts: 0 } });
  await sys.run();
  expect(out.n).toBe(KV_OPS.length);
  expect(JSON.parse(out.table)).toEqual(EXPECTED_TABLE);
  expect(out.ring).toEqual([108, 109, 106, 107]);
  sys.sanityCheck();
  // Down for good: DS purges the owners' entries and their memory.
  sys.stopService('kv');
  sys.stopService('reader');
  await sys.run();
  sys.sanityCheck();
  return { j, steps, killed };
}

/**
 * A fresh system, one clean cycle first (RS, DS and the libraries allocate their scratch pages and grant tables
 * once), then the measured cycle: afterwards every page and every DS slot is back.
 */
export async function runWithCrashAt(crashStep: number | null): Promise<{ j: KvJournal; steps: number; killed: boolean }> {
  const sys = await createSystem(SWEEP_CONFIG);
  await cycle(sys, null);
  const poolBefore = pool(sys);
  const slotsBefore = sys.ds.entries().length;
  const r = await cycle(sys, crashStep);
  expect(sys.ds.entries().length).toBe(slotsBefore);
  expect(pool(sys)).toBe(poolBefore);
  return r;
}


/**
 * Crashes the service once at each step in [from, to) of its run (one run per step) after a crash-free
 * reference run; returns how many of those runs really killed a running instance.
 */
export async function crashSweep(part: number, parts: number): Promise<{ kills: number; runs: number; steps: number }> {
  const reference = await runWithCrashAt(null);
  expect(reference.j.acked).toHaveLength(KV_OPS.length);
  let kills = 0;
  let runs = 0;
  for (let step = 1 + part; step < reference.steps; step += parts) {
    const r = await runWithCrashAt(step);
    runs++;
    if (r.killed) kills++;
  }
  return { kills, runs, steps: reference.steps };
}
