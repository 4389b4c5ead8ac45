// Whole-system tests of DS, its client library and RS (createSystem): the reference test/ds services and the
// spec/ds.md §11 items that need the kernel (grants, safecopy, safemap, process death).
import { describe, expect, it } from 'vitest';
import { GETSYSINFO, SI_DATA_STORE, SI_SUBSCRIPTION } from '../../../../src/include/com.ts';
import {
  DSF_OVERWRITE,
  DSF_PRIV_RETRIEVE,
  DSF_TYPE_MAP,
  DSF_TYPE_MEM,
  DSMF_COPY_MAPPED,
  DSMF_COPY_SNAPSHOT,
  DSMF_MAP_MAPPED,
  DS_PUBLISH,
} from '../../../../src/include/ds.ts';
import { DS_PROC_NR, KERNEL } from '../../../../src/include/endpoint.ts';
import { EBUSY, EINVAL, ENOENT, EPERM, ESRCH, OK, SIGSEGV } from '../../../../src/include/errno.ts';
import { DEFAULT_SERVICE_SPEC } from '../../../../src/include/priv.ts';
import { CPF_READ } from '../../../../src/include/safecopies.ts';
import { MAP_ANON, MAP_PRIVATE } from '../../../../src/include/vm.ts';
import { kernelNotify } from '../../../../src/kernel/ipc.ts';
import { safemapRecords } from '../../../../src/kernel/system/do_safemap.ts';
import { cpfGrantDirect, cpfRevoke, sysSafemap } from '../../../../src/libsys/grant.ts';
import {
  dsCheck,
  dsDeleteMap,
  dsPublishMap,
  dsPublishMem,
  dsPublishStr,
  dsPublishU32,
  dsRetrieveMap,
  dsRetrieveMem,
  dsRetrieveU32,
  dsSnapshotMap,
  dsSubscribe,
} from '../../../../src/libsys/ds.ts';
import type { Program, Proc } from '../../../../src/libsys/proc.ts';
import { vmMmap } from '../../../../src/libsys/vm.ts';
import { serviceInfo } from '../../../../src/servers/rs/main.ts';
import { startTestService } from '../../../../src/sim/grantsuites.ts';
import { createSystem } from '../../../../src/sim/system.ts';
import type { System } from '../../../../src/sim/system.ts';
import type { SystemConfig } from '../../../../src/sim/config.ts';
import { dstest, subs } from '../../../../src/user/dstest.ts';

const PAGE = 4096;

async function boot(config: Partial<SystemConfig> = {}): Promise<System> {
  return createSystem({ sanity: 'functions', ...config });
}

/** Starts a service through RS and runs until idle; its endpoint. */
async function service(sys: System, label: string, program: Program, maxRestarts = 0): Promise<number> {
  const ep = await startTestService(sys, label, program, { priv: DEFAULT_SERVICE_SPEC, maxRestarts });
  sys.sanityCheck();
  return ep;
}

/** Lets a service blocked in `await p.receive()` go on, and runs until idle. */
async function poke(sys: System, ep: number): Promise<void> {
  const kp = sys.kernel.liveProc(ep);
  if (kp === null) throw new Error(`poke: ${ep} is not live`);
  kernelNotify(sys.kernel, KERNEL, kp);
  await sys.run();
  sys.sanityCheck();
}

/** Waits for the host's go-ahead (a notification from KERNEL). */
async function pause(p: Proc): Promise<void> {
  await p.receive(KERNEL);
}

const pages = async (p: Proc, n: number): Promise<number> => vmMmap(p, 0, n * PAGE, MAP_ANON | MAP_PRIVATE);

describe('test/ds: dstest and subs (§10, §11.1, §11.2)', () => {
  it('dstest prints every success line; subs reports test_u32 = 1234 and a deletion', async () => {
    const sys = await boot();
    const lines: string[] = [];
    await service(sys, 'subs', subs((l) => lines.push(l)));
    await service(sys, 'dstest', dstest((l) => lines.push(l)));
    const dstestLines = lines.filter((l) => l.startsWith('DSTEST'));
    expect(dstestLines).toEqual([
      'DSTEST: U32 test successful!',
      'DSTEST: STRING test successful!',
      'DSTEST: MEM test successful!',
      'DSTEST: MAP test successful!',
      'DSTEST: LABEL test successful!',
    ]);
    const subsLines = lines.filter((l) => l.startsWith('SUBSCRIBER'));
    expect(subsLines[0]).toBe('SUBSCRIBER: key: test_u32, U32: 1234');
    expect(subsLines).toContain('SUBSCRIBER: the key test_u32 was deleted.');
    expect(sys.rs.services.get('dstest')?.status).toBe('exited');
    expect(sys.rs.services.get('dstest')?.deaths[0]).toMatchObject({ code: 0, signal: 0 });
    // dstest's exit stops both.
    sys.stopService('subs');
    await sys.run();
    expect(sys.rs.services.get('subs')?.status).toBe('down');
    sys.sanityCheck();
    expect(sys.ds.entries().map((e) => e.key)).not.toContain('subs');
  });

  it('subs draining ds_check to ENOENT sees the final state: 1234, 4321, then the deletion', async () => {
    const sys = await boot();
    const lines: string[] = [];
    await service(sys, 'subs', subs((l) => lines.push(l), { drain: true }));
    await service(sys, 'dstest', dstest((l) => lines.push(l)));
    const subsLines = lines.filter((l) => l.startsWith('SUBSCRIBER'));
    expect(subsLines.at(-1)).toBe('SUBSCRIBER: the key test_u32 was deleted.');
    expect(subsLines[0]).toBe('SUBSCRIBER: key: test_u32, U32: 1234');
    expect(lines).toContain('DSTEST: LABEL test successful!');
  });

  it('with dsLabelPolicy rs-only the first publish_label → EPERM', async () => {
    const sys = await boot({ dsLabelPolicy: 'rs-only' });
    const lines: string[] = [];
    await service(sys, 'dstest', dstest((l) => lines.push(l), { rsOnly: true }));
    expect(lines.at(-1)).toBe('DSTEST: LABEL test successful!');
    expect(lines.some((l) => l.includes('assertion failed'))).toBe(false);
    // RS itself could still publish labels: every service above got its label.
    expect(sys.ds.entries().some((e) => e.key === 'dstest' && e.owner === 'rs')).toBe(true);
  });
});

describe('DS over the kernel: MAP entries (§11.20–23, §11.29)', () => {
  it('§11.20: client-side checks of publish_map; §11.6 client-side publish_str', async () => {
    const sys = await boot();
    let got: number[] = [];
    await service(sys, 'svc', async (p) => {
      const b = await pages(p, 2);
      got = [
        await dsPublishMap(p, 'm', b + 1, PAGE),
        await dsPublishMap(p, 'm', b, 100),
        await dsPublishMap(p, 'm', b, 0),
        await dsPublishMap(p, 'm', b, PAGE, DSF_OVERWRITE),
        await dsPublishMap(p, 'm', b, PAGE),
        await dsPublishMap(p, 'm', b, PAGE),
        await dsPublishStr(p, 's', 'x'.repeat(15)),
        await dsPublishStr(p, 't', 'x'.repeat(16)),
      ];
      await pause(p);
    });
    expect(got).toEqual([EINVAL, EINVAL, EINVAL, EINVAL, OK, -17, OK, EINVAL]);
  });

  it('§11.21: publish_map with the kernel map table full → EBUSY, no entry', async () => {
    const sys = await boot();
    const results: number[] = [];
    await service(sys, 'svc', async (p) => {
      const b = await pages(p, 21);
      for (let i = 0; i < 21; i++) results.push(await dsPublishMap(p, `m${i}`, b + i * PAGE, PAGE));
      await pause(p);
    });
    expect(results.slice(0, 20).every((r) => r === OK)).toBe(true);
    expect(results[20]).toBe(EBUSY);
    expect(sys.ds.entries().filter((e) => e.type === 'MAP').length).toBe(20);
    expect(sys.ds.store.heapBytes).toBe(20 * PAGE);
  });

  it('§11.22, §11.23: MAP_MAPPED rounds down to pages; a retriever write → SIGSEGV; delete_map freezes retrievers', async () => {
    const sys = await boot();
    const seen: Record<string, unknown> = {};
    const a = await service(sys, 'pub', async (p) => {
      const b = await pages(p, 2);
      await p.writeU32(b, 5);
      await p.writeU32(b + PAGE, 6);
      seen.publish = await dsPublishMap(p, 'two', b, 2 * PAGE);
      await pause(p);
      await p.writeU32(b, 7);
      await pause(p);
      seen.delete = await dsDeleteMap(p, 'two');
      await p.writeU32(b, 8);
      await pause(p);
    });
    const r = await service(sys, 'ret', async (p) => {
      const v = await pages(p, 2);
      const m = await dsRetrieveMap(p, 'two', v, PAGE + 100, 0, DSMF_MAP_MAPPED);
      seen.mapped = m;
      seen.first = await p.readU32(v);
      await pause(p);
      seen.live = await p.readU32(v);
      await pause(p);
      seen.frozen = await p.readU32(v);
      const ids = sys.ds.entries();
      seen.entries = ids.filter((e) => e.key === 'two').length;
      await p.writeU32(v, 1); // private copy now: allowed
      seen.wrote = await p.readU32(v);
      await pause(p);
    });
    expect(seen.publish).toBe(OK);
    expect(seen.mapped).toEqual({ result: OK, len: PAGE });
    expect(seen.first).toBe(5);
    await poke(sys, a); // publisher writes 7
    await poke(sys, r);
    expect(seen.live).toBe(7);
    const mapsBefore = safemapRecords(sys.kernel).filter((x) => x.grantee === DS_PROC_NR || x.owner === DS_PROC_NR).length;
    expect(mapsBefore).toBe(2);
    await poke(sys, a); // delete_map, then writes 8
    expect(seen.delete).toBe(OK);
    expect(safemapRecords(sys.kernel).filter((x) => x.grantee === DS_PROC_NR || x.owner === DS_PROC_NR)).toEqual([]);
    await poke(sys, r);
    expect(seen.frozen).toBe(7);
    expect(seen.entries).toBe(0);
    expect(seen.wrote).toBe(1);
    expect(sys.ds.store.heapBytes).toBe(0);

    // A read-only live view: the retriever's write kills it with SIGSEGV.
    await service(sys, 'pub2', async (p) => {
      const b = await pages(p, 1);
      await dsPublishMap(p, 'ro', b, PAGE);
      await pause(p);
    });
    const killedEp = await service(sys, 'ret2', async (p) => {
      const v = await pages(p, 1);
      await dsRetrieveMap(p, 'ro', v, PAGE, 0, DSMF_MAP_MAPPED);
      await p.writeU32(v, 1);
    });
    expect(sys.exits.find((x) => x.endpoint === killedEp)?.signal).toBe(SIGSEGV);
    expect(sys.rs.services.get('ret2')?.status).toBe('failed');
    expect(sys.rs.log.some((l) => l.includes('giving up on ret2'))).toBe(true);
  });

  it('§11.23: the MAP_MAPPED grant DS made is revoked by delete_map', async () => {
    const sys = await boot();
    const seen: Record<string, unknown> = {};
    const a = await service(sys, 'pub', async (p) => {
      const b = await pages(p, 1);
      await dsPublishMap(p, 'g', b, PAGE);
      await pause(p);
      seen.del = await dsDeleteMap(p, 'g');
      await pause(p);
    });
    // Take the grant id the way the library does, but keep it.
    const r = await service(sys, 'ret', async (p) => {
      const v = await pages(p, 2);
      const key = await pages(p, 1);
      const len = await p.writeString(key, 'g');
      const kg = await cpfGrantDirect(p, DS_PROC_NR, key, len, CPF_READ);
      const rep = await p.sendrec(DS_PROC_NR, { type: 0x801, keyGrant: kg.id, keyLen: len, flags: DSF_TYPE_MAP | DSMF_MAP_MAPPED, valLen: PAGE });
      const gid = rep.val as number;
      seen.first = await sysSafemap(p, DS_PROC_NR, gid, 0, v, PAGE, false);
      await pause(p);
      seen.again = await sysSafemap(p, DS_PROC_NR, gid, 0, v + PAGE, PAGE, false);
      await cpfRevoke(p, kg.id);
      await pause(p);
    });
    expect(seen.first).toBe(OK);
    await poke(sys, a);
    expect(seen.del).toBe(OK);
    await poke(sys, r);
    expect(seen.again).toBe(EPERM);
  });

  it('§11.29: the publisher of a MAP entry exits → COPY_MAPPED gives the last contents; snapshots work', async () => {
    const sys = await boot();
    await service(sys, 'pub', async (p) => {
      const b = await pages(p, 1);
      await p.writeU32(b, 41);
      await dsPublishMap(p, 'last', b, PAGE);
      await p.writeU32(b, 42);
      return 0;
    });
    expect(sys.rs.services.get('pub')?.status).toBe('exited');
    const seen: number[] = [];
    await service(sys, 'reader', async (p) => {
      const v = await pages(p, 1);
      const c = await dsRetrieveMap(p, 'last', v, PAGE, 0, DSMF_COPY_MAPPED);
      seen.push(c.result, await p.readU32(v));
      const s = await dsSnapshotMap(p, 'last');
      seen.push(s.result, s.nr);
      const g = await dsRetrieveMap(p, 'last', v, PAGE, s.nr, DSMF_COPY_SNAPSHOT);
      seen.push(g.result, await p.readU32(v));
      await pause(p);
    });
    expect(seen).toEqual([OK, 42, OK, 0, OK, 42]);
  });
});

describe('DS over the kernel: MEM, errors, GETSYSINFO (§11.24, §11.30, §11.12)', () => {
  it('§11.24: a failed MEM overwrite (bad grant) returns the error; the old value stays', async () => {
    const sys = await boot();
    const seen: unknown[] = [];
    await service(sys, 'svc', async (p) => {
      const b = await pages(p, 1);
      const len = await p.writeString(b, 'old value');
      seen.push(await dsPublishMem(p, 'm', b, len));
      const keyLen = await p.writeString(b + 100, 'm');
      const kg = await cpfGrantDirect(p, DS_PROC_NR, b + 100, keyLen, CPF_READ);
      const rep = await p.sendrec(DS_PROC_NR, { type: DS_PUBLISH, keyGrant: kg.id, keyLen, flags: DSF_TYPE_MEM | DSF_OVERWRITE, val: 12345, valLen: 5 });
      seen.push(rep.type);
      const r = await dsRetrieveMem(p, 'm', b + 200, 100);
      seen.push(r.result, r.len, await p.readString(b + 200, 100));
      await pause(p);
    });
    expect(seen[0]).toBe(OK);
    expect(seen[1]).toBe(EPERM); // slot beyond the table: verify_grant → EPERM
    expect(seen.slice(2)).toEqual([OK, 10, 'old value']);
  });

  it('§11.30: GETSYSINFO 5 and 6 return the tables, 7 → EINVAL, an unknown request → EINVAL', async () => {
    const sys = await boot();
    const seen: unknown[] = [];
    await service(sys, 'svc', async (p) => {
      await dsSubscribe(p, 'x');
      const t5 = await p.sendrec(DS_PROC_NR, { type: GETSYSINFO, what: SI_DATA_STORE });
      const t6 = await p.sendrec(DS_PROC_NR, { type: GETSYSINFO, what: SI_SUBSCRIPTION });
      const t7 = await p.sendrec(DS_PROC_NR, { type: GETSYSINFO, what: 7 });
      const bad = await p.sendrec(DS_PROC_NR, { type: 0x8ff });
      seen.push(t5.type, (t5.table as unknown[]).length, t6.type, t6.table, t7.type, bad.type);
      await pause(p);
    });
    expect(seen).toEqual([OK, 12, OK, [{ slot: 0, owner: 'svc', pattern: 'x', filter: 0, pending: [] }], EINVAL, EINVAL]);
  });

  it('§11.12: with dsMaxKeys 16, 4 free slots after 11 boot labels and the service label', async () => {
    const sys = await boot({ dsMaxKeys: 16 });
    const seen: number[] = [];
    await service(sys, 'svc', async (p) => {
      for (let i = 0; i < 5; i++) seen.push(await dsPublishU32(p, `k${i}`, i));
      await pause(p);
    });
    expect(seen).toEqual([OK, OK, OK, OK, -12]);
  });
});

describe('RS and DS: restart and down (§8, §11.27, §11.28)', () => {
  it('§11.27: a restarted service owns its PRIV data, keeps its subscription, and hears of its own label', async () => {
    const sys = await boot();
    const seen: unknown[] = [];
    const watcherSeen: string[] = [];
    await service(sys, 'watcher', async (p) => {
      await dsSubscribe(p, 'svc');
      for (;;) {
        const m = await p.receive();
        if (m.source !== DS_PROC_NR) continue;
        for (let c = await dsCheck(p); c.result === OK; c = await dsCheck(p)) watcherSeen.push(`${c.key}:${c.owner}`);
      }
    });
    const first = await service(
      sys,
      'svc',
      async (p) => {
        const info = serviceInfo(p);
        if (info?.restarts === 0) {
          seen.push(await dsPublishU32(p, 'svc.data', 7, DSF_PRIV_RETRIEVE));
          seen.push(await dsSubscribe(p, 'svc\\..*|svc'));
          await pause(p);
          return 0;
        }
        seen.push(`restart ${info?.restarts}`);
        const checks: string[] = [];
        for (let c = await dsCheck(p); c.result === OK; c = await dsCheck(p)) checks.push(c.key);
        seen.push(checks.join(','));
        seen.push((await dsRetrieveU32(p, 'svc.data')).value);
        seen.push(await dsPublishU32(p, 'svc.data', 8, DSF_OVERWRITE | DSF_PRIV_RETRIEVE));
        seen.push((await dsCheck(p)).key);
        seen.push((await dsCheck(p)).result);
        await pause(p);
        return 0;
      },
      1,
    );
    expect(seen).toEqual([OK, OK]);
    watcherSeen.length = 0;
    sys.kill(first);
    await sys.run();
    sys.sanityCheck();
    const rp = sys.rs.services.get('svc');
    expect(rp?.restarts).toBe(1);
    expect(rp?.endpoint).not.toBe(first);
    expect(seen.slice(2)).toEqual(['restart 1', 'svc', 7, OK, 'svc.data', ENOENT]);
    expect(watcherSeen).toEqual([`svc:2`]);
    expect(sys.rs.log.some((l) => l.includes('svc restarted as'))).toBe(true);
    expect(sys.trace.some((e) => e.kind === 'proc' && e.op === 'restart' && e.name === 'svc')).toBe(true);
    // The old endpoint is unlabelled now; the data stays private.
    expect(sys.ds.store.nameOf(first)).toBeNull();
  });

  it('a service crashing more than maxRestarts times is given up with a report', async () => {
    const sys = await boot();
    await service(
      sys,
      'crashy',
      async (p) => {
        await dsPublishU32(p, `run${serviceInfo(p)?.restarts ?? -1}`, 1);
        throw new Error('boom');
      },
      2,
    );
    const rp = sys.rs.services.get('crashy');
    expect(rp?.status).toBe('failed');
    expect(rp?.restarts).toBe(2);
    expect(rp?.deaths.length).toBe(3);
    expect(sys.rs.log.at(-1)).toMatch(/giving up on crashy: died by signal 6 after 2 restarts/);
    expect(sys.ds.entries().filter((e) => e.key.startsWith('run')).map((e) => e.key)).toEqual(['run0', 'run1', 'run2']);
    sys.sanityCheck();
  });

  it('§11.28: RS_DOWN purges the service entries (all types, MAP released) and subscription; subscribers notified', async () => {
    const sys = await boot();
    const watcherSeen: number[] = [];
    await service(sys, 'watcher', async (p) => {
      await dsSubscribe(p, 'svc\\..*');
      for (;;) {
        const m = await p.receive();
        if (m.source !== DS_PROC_NR) continue;
        watcherSeen.push((await dsCheck(p)).result);
      }
    });
    const usedBefore = sys.ds.store.usedSlots;
    await service(sys, 'svc', async (p) => {
      const b = await pages(p, 2);
      await dsPublishU32(p, 'svc.u32', 1);
      await dsPublishStr(p, 'svc.str', 's');
      await p.writeString(b, 'mem');
      await dsPublishMem(p, 'svc.mem', b, 4);
      await dsPublishMap(p, 'svc.map', b + PAGE, PAGE);
      await dsSnapshotMap(p, 'svc.map');
      await dsSubscribe(p, '.*');
      await pause(p);
    });
    expect(sys.ds.store.usedSlots).toBe(usedBefore + 5);
    watcherSeen.length = 0;
    sys.stopService('svc');
    await sys.run();
    sys.sanityCheck();
    expect(sys.ds.store.usedSlots).toBe(usedBefore);
    expect(sys.ds.store.heapBytes).toBe(0);
    expect(sys.ds.subscriptions().map((s) => s.owner)).toEqual(['watcher']);
    expect(safemapRecords(sys.kernel).filter((x) => x.grantee === DS_PROC_NR)).toEqual([]);
    expect(watcherSeen.length).toBeGreaterThan(0);
    expect(watcherSeen.every((r) => r === ENOENT)).toBe(true);
    expect(sys.rs.services.get('svc')?.status).toBe('down');
    expect((await retrieveAs(sys, 'svc.u32')).result).toBe(ESRCH);
  });
});

async function retrieveAs(sys: System, key: string): Promise<{ result: number; value: number }> {
  let out = { result: -999, value: 0 };
  await service(sys, `probe-${key}`, async (p) => {
    out = await dsRetrieveU32(p, key);
    await pause(p);
  });
  return out;
}
