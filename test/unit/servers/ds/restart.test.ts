// "Restart with state": a stateful service keeps a counter (U32), a small key-value table (MEM) and a ring
// buffer (a live MAP), is killed at many points of a run, is restarted by RS under the same label, recovers
// from DS and finishes. No acknowledged operation is lost; DS, VM and kernel sanity checks hold throughout.
import { describe, expect, it } from 'vitest';
import { DEFAULT_SERVICE_SPEC } from '../../../../src/include/priv.ts';
import { KV_OPS, kvReader, kvService } from '../../../../src/user/kvservice.ts';
import type { KvJournal } from '../../../../src/user/kvservice.ts';
import { RTS } from '../../../../src/kernel/proc.ts';
import { createSystem } from '../../../../src/sim/system.ts';

describe('restart with state (RS + DS)', () => {
  // Each crash comes `offset` kernel entries after the service acknowledged one more operation (or, with the
  // short offsets, while it is still recovering from the previous crash): every phase of the protocol is hit.
  for (const offset of [0, 5, 14, 27, 44, 60, 90]) {
    it(`killed ${offset} steps after each acknowledgement: recovers, loses no acknowledged operation`, async () => {
      const sys = await createSystem({ sanity: 'functions' });
      const j: KvJournal = { acked: [], recovered: [], failures: [] };
      sys.startService({ label: 'kv', program: kvService(j), priv: DEFAULT_SERVICE_SPEC, restart: { maxRestarts: 100 } });
      let kills = 0;
      for (let i = 0; i < 8; i++) {
        const before = j.acked.length;
        const r = await sys.run({ until: () => j.acked.length > before });
        if (r.reason === 'idle') break;
        await sys.run({ maxSteps: offset + 1 });
        // Host-side checks only where VM waits for work (mid-request its tables are in flux).
        if (sys.proc('vm')?.rts === RTS.RECEIVING) sys.sanityCheck();
        const rp = sys.rs.services.get('kv');
        if (rp === undefined || rp.status !== 'running' || sys.kernel.liveProc(rp.endpoint) === null) continue;
        if (sys.kill(rp.endpoint)) kills++;
      }
      await sys.run();
      sys.sanityCheck();
      expect(j.failures).toEqual([]);
      expect(sys.rs.services.get('kv')?.status).toBe('exited');
      // Every start recovered at least everything acknowledged before it.
      for (const r of j.recovered) expect(r.n).toBeGreaterThanOrEqual(r.ackedBefore);
      // Instances killed before they finished recovering do not appear; the first and the last do.
      expect(j.recovered.length).toBeGreaterThanOrEqual(1);
      expect(j.recovered.length).toBeLessThanOrEqual((sys.rs.services.get('kv')?.restarts ?? 0) + 1);
      expect(kills).toBeGreaterThan(0);
      const out = { n: 0, table: '', ring: [] as number[] };
      sys.startService({ label: 'reader', program: kvReader(out), priv: DEFAULT_SERVICE_SPEC, restart: { maxRestarts: 0 } });
      await sys.run();
      sys.sanityCheck();
      const expected: Record<string, number> = {};
      for (const op of KV_OPS) expected[op.key] = op.value;
      expect(out.n).toBe(KV_OPS.length);
      expect(JSON.parse(out.table)).toEqual(expected);
      expect(out.ring).toEqual([108, 109, 106, 107]);
      // One ring generation survives; DS memory holds the table, the ring window and nothing else.
      expect(sys.ds.entries().filter((e) => e.key.startsWith('ring.')).length).toBe(1);
    });
  }
});
