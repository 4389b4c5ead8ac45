// A stateful service for the "restart with state" story (issue 5): it keeps a counter (U32), a small
// key-value table (MEM) and a ring buffer (a live MAP) in DS, acknowledges each operation once it is committed
// there, and after a restart by RS recovers everything from DS and goes on. `reader` reads the final state as
// another service would. Entry points: kvService, kvReader, KV_OPS, KvJournal.
import { DSF_OVERWRITE, DSMF_COPY_MAPPED } from '../include/ds.ts';
import { ESRCH, OK } from '../include/errno.ts';
import { MAP_ANON, MAP_PRIVATE } from '../include/vm.ts';
import { dsDeleteMap, dsPublishMap, dsPublishMem, dsPublishU32, dsRetrieveMap, dsRetrieveMem, dsRetrieveU32 } from '../libsys/ds.ts';
import type { Program, Proc } from '../libsys/proc.ts';
import { vmMmap } from '../libsys/vm.ts';
import { serviceInfo } from '../servers/rs/main.ts';

const PAGE = 4096;
export const KV_RING = 4;

export interface KvOp {
  key: string;
  value: number;
}

export const KV_OPS: readonly KvOp[] = Array.from({ length: 10 }, (_, i) => ({ key: `k${i % 3}`, value: 100 + i }));

export interface KvJournal {
  /** Operations acknowledged (committed in DS), in order. */
  acked: number[];
  /** At each start: the restart count and how many operations it recovered. */
  recovered: { restarts: number; n: number; ackedBefore: number }[];
  failures: string[];
}

async function must(j: KvJournal, what: string, r: number): Promise<void> {
  if (r !== OK) {
    j.failures.push(`${what}: ${r}`);
    throw new Error(what);
  }
  return Promise.resolve();
}

/** Recovers counter, table and ring from DS, publishes the ring anew (generation g+1), then runs the rest. */
export function kvService(j: KvJournal): Program {
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
    for (; n < KV_OPS.length; n++) {
      const op = KV_OPS[n];
      if (op === undefined) break;
      table[op.key] = op.value;
      await p.writeU32(ring + 4 * (n % KV_RING), op.value);
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
export function kvReader(out: { n: number; table: string; ring: number[] }): Program {
  return async (p) => {
    const buf = await vmMmap(p, 0, 2 * PAGE, MAP_ANON | MAP_PRIVATE);
    out.n = (await dsRetrieveU32(p, 'kv.n')).value;
    const m = await dsRetrieveMem(p, 'kv.data', buf, PAGE);
    out.table = new TextDecoder().decode(await p.read(buf, m.len));
    const gen = (await dsRetrieveU32(p, 'kv.gen')).value;
    await dsRetrieveMap(p, `ring.${gen}`, buf + PAGE, PAGE, 0, DSMF_COPY_MAPPED);
    for (let i = 0; i < KV_RING; i++) out.ring.push(await p.readU32(buf + PAGE + 4 * i));
  };
}

