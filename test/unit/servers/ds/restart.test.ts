// "Restart with state": a stateful service keeps a counter (U32), a small key-value table (MEM) and a ring
// buffer (a live MAP), is killed at many points of a run, is restarted by RS under the same label, recovers
// from DS and finishes. No acknowledged operation is lost; DS, VM and kernel sanity checks hold throughout.
import { describe, expect, it } from 'vitest';
import { DSF_OVERWRITE, DSMF_COPY_MAPPED } from '../../../../src/include/ds.ts';
import { ESRCH, OK } from '../../../../src/include/errno.ts';
import { DEFAULT_SERVICE_SPEC } from '../../../../src/include/priv.ts';
import { MAP_ANON, MAP_PRIVATE } from '../../../../src/include/vm.ts';
import { dsDeleteMap, dsPublishMap, dsPublishMem, dsPublishU32, dsRetrieveMap, dsRetrieveMem, dsRetrieveU32 } from '../../../../src/libsys/ds.ts';
import type { Program, Proc } from '../../../../src/libsys/proc.ts';
import { vmMmap } from '../../../../src/libsys/vm.ts';
import { serviceInfo } from '../../../../src/servers/rs/main.ts';
import { RTS } from '../../../../src/kernel/proc.ts';
import { createSystem } from '../../../../src/sim/system.ts';

const PAGE = 4096;
const RING = 4;

interface Op {
  key: string;
  value: number;
}

const OPS: Op[] = Array.from({ length: 10 }, (_, i) => ({ key: `k${i % 3}`, value: 100 + i }));

interface Journal {
  /** Operations acknowledged (committed in DS), in order. */
  acked: number[];
  /** At each start: the restart count and how many operations it recovered. */
  recovered: { restarts: number; n: number; ackedBefore: number }[];
  failures: string[];
}

async function must(j: Journal, what: string, r: number): Promise<void> {
  if (r !== OK) {
    j.failures.push(`${what}: ${r}`);
    throw new Error(what);
  }
  return Promise.resolve();
}

/** Recovers counter, table and ring from DS, publishes the ring anew (generation g+1), then runs the rest. */
function kvService(j: Journal): Program {
  return async (p: Proc) => {
    const buf = await vmMmap(p, 0, 3 * PAGE, MAP_ANON | MAP_PRIVATE);
    const ring = buf + PAGE;
    const io = buf + 2 * PAGE;
    const c = await dsRetrieveU32(p, 'kv.n');
    let n = c.result === OK ? c.value : 0;
    let table: Record<string, number> = {};
    const m = await dsRetrieveMem(p, 'kv.data', io, PAGE);
    if (m.result === OK) table = JSON.parse(new TextDecoder().decode(await p.read(io, m.len))) as Record<string, number>;
    j.recovered.push({ restarts: serviceInfo(p)?.restarts ?? -1, n, ackedBefore: j.acked.length });
    const g = await dsRetrieveU32(p, 'kv.gen');
    const gen = g.result === OK ? g.value : 0;
    if (g.result === OK) await must(j, 'recover ring', (await dsRetrieveMap(p, `ring.${gen}`, ring, PAGE, 0, DSMF_COPY_MAPPED)).result);
    const stale = await dsDeleteMap(p, `ring.${gen + 1}`);
    if (stale !== OK && stale !== ESRCH) j.failures.push(`delete stale ring: ${stale}`);
    await must(j, 'publish ring', await dsPublishMap(p, `ring.${gen + 1}`, ring, PAGE));
    await must(j, 'publish gen', await dsPublishU32(p, 'kv.gen', gen + 1, DSF_OVERWRITE));
    if (g.result === OK) await dsDeleteMap(p, `ring.${gen}`);
    for (; n < OPS.length; n++) {
      const op = OPS[n];
      if (op === undefined) break;
      table[op.key] = op.value;
      await p.writeU32(ring + 4 * (n % RING), op.value);
      const bytes = new TextEncoder().encode(JSON.stringify(table));
      await p.write(io, bytes);
      await must(j, 'publish table', await dsPublishMem(p, 'kv.data', io, bytes.length, DSF_OVERWRITE));
      await must(j, 'commit counter', await dsPublishU32(p, 'kv.n', n + 1, DSF_OVERWRITE));
      j.acked.push(n);
    }
    return 0;
  };
}

/** Reads the final state as another service would. */
function reader(out: { n: number; table: string; ring: number[] }): Program {
  return async (p) => {
    const buf = await vmMmap(p, 0, 2 * PAGE, MAP_ANON | MAP_PRIVATE);
    out.n = (await dsRetrieveU32(p, 'kv.n')).value;
    const m = await dsRetrieveMem(p, 'kv.data', buf, PAGE);
    out.table = new TextDecoder().decode(await p.read(buf, m.len));
    const gen = (await dsRetrieveU32(p, 'kv.gen')).value;
    await dsRetrieveMap(p, `ring.${gen}`, buf + PAGE, PAGE, 0, DSMF_COPY_MAPPED);
    for (let i = 0; i < RING; i++) out.ring.push(await p.readU32(buf + PAGE + 4 * i));
  };
}

describe('restart with state (RS + DS)', () => {
  // Each crash comes `offset` kernel entries after the service acknowledged one more operation (or, with the
  // short offsets, while it is still recovering from the previous crash): every phase of the protocol is hit.
  for (const offset of [0, 5, 14, 27, 44, 60, 90]) {
    it(`killed ${offset} steps after each acknowledgement: recovers, loses no acknowledged operation`, async () => {
      const sys = await createSystem({ sanity: 'functions' });
      const j: Journal = { acked: [], recovered: [], failures: [] };
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
      sys.startService({ label: 'reader', program: reader(out), priv: DEFAULT_SERVICE_SPEC, restart: { maxRestarts: 0 } });
      await sys.run();
      sys.sanityCheck();
      const expected: Record<string, number> = {};
      for (const op of OPS) expected[op.key] = op.value;
      expect(out.n).toBe(OPS.length);
      expect(JSON.parse(out.table)).toEqual(expected);
      expect(out.ring).toEqual([108, 109, 106, 107]);
      // One ring generation survives; DS memory holds the table, the ring window and nothing else.
      expect(sys.ds.entries().filter((e) => e.key.startsWith('ring.')).length).toBe(1);
    });
  }
});
