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
 * The sweep's system: VM's sanity check after every request (incremental: see crashSweep); 16 MiB, a quarter of
 * the default, which the service and its reader use a sliver of (boot and every full check cost less); no trace,
 * which nothing here reads.
 */
const SWEEP_CONFIG: Partial<SystemConfig> = { sanity: 'top', ramBytes: 16 * MiB, trace: null };

const EXPECTED_TABLE: Record<string, number> = {};
for (const op of KV_OPS) EXPECTED_TABLE[op.key] = op.value;

/** Pages not held by any process: free, plus VM's own (page tables, slab) which a crash may grow. */
const pool = (sys: System): number => sys.vm.freePages() + sys.vm.internalPages();

/** What a life of the service did: its journal, its kernel steps, whether the crash found it running. */
interface Life {
  j: KvJournal;
  steps: number;
  killed: boolean;
}

/**
 * One life of the kv service on `sys`, crashed `crashStep` kernel entries after its start (null: never), then
 * read back, then taken down for good.
 */
async function cycle(sys: System, crashStep: number | null): Promise<Life> {
  const j: KvJournal = { acked: [], recovered: [], failures: [] };
  const start = sys.kernel.step;
  sys.startService({
    label: 'kv',
    program: kvService(j),
    priv: DEFAULT_SERVICE_SPEC,
    restart: { maxRestarts: 2 },
  });
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
  sys.startService({
    label: 'reader',
    program: kvReader(out),
    priv: DEFAULT_SERVICE_SPEC,
    restart: { maxRestarts: 0 },
  });
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

/** A cycle (as `cycle`) that must leave every page and every DS slot as it found them. */
async function leakFreeCycle(sys: System, crashStep: number | null): Promise<Life> {
  const poolBefore = pool(sys);
  const slotsBefore = sys.ds.entries().length;
  const r = await cycle(sys, crashStep);
  expect(sys.ds.entries().length).toBe(slotsBefore);
  expect(pool(sys)).toBe(poolBefore);
  return r;
}

/**
 * Crashes the service once at each step in [from, to) of its run (one life, one crash per step) after a
 * crash-free reference life; returns how many of those lives really killed a running instance. All lives run on
 * one system, booted once: a clean life first (RS, DS and the libraries allocate their scratch pages and grant
 * tables once), then the reference, then the crashed ones. The system is deterministic and a life takes down
 * all it started, so each life runs as the same life on a fresh system would (same steps, journal and reads);
 * booting a system per crash only repeated that prefix, two thirds of the sweep's time. VM checks itself after
 * every request incrementally (the processes it changed: the fuzzer's check), and in full at the end of every life
 * (cycle's sanityCheck): the rules only a full sweep sees (free-page and slab accounting) hold state that a crash
 * would leave wrong until then, and the full check after every request was three fifths of the sweep's time.
 */
export async function crashSweep(
  part: number,
  parts: number,
): Promise<{ kills: number; runs: number; steps: number }> {
  const sys = await createSystem(SWEEP_CONFIG);
  sys.vm.trackChanges();
  await cycle(sys, null);
  const reference = await leakFreeCycle(sys, null);
  expect(reference.j.acked).toHaveLength(KV_OPS.length);
  const lives = new Map<number, Life>();
  for (let step = 1 + part; step < reference.steps; step += parts)
    lives.set(step, await leakFreeCycle(sys, step));
  // The claim above, checked on one crash of this part: a fresh system lives it the same way.
  const sample = 1 + part + parts * Math.floor(lives.size / 2);
  const fresh = await createSystem(SWEEP_CONFIG);
  fresh.vm.trackChanges();
  await cycle(fresh, null);
  expect(await cycle(fresh, sample)).toEqual(lives.get(sample));
  const kills = [...lives.values()].filter((r) => r.killed).length;
  return { kills, runs: lives.size, steps: reference.steps };
}
