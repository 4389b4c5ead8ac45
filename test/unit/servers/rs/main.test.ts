// RS (src/servers/rs/main.ts) over a booted system: RS_UP and its failures (label in use, no process slot, no
// room for the label in DS), restarts after a death by a signal, RS_DOWN of a running, an exited and an unknown
// service. RS's log, its service records, DS's labels and the trace are what a user sees of it.
import { describe, expect, it } from 'vitest';
import { PM_KILL } from '../../../../src/include/com.ts';
import { KERNEL, NONE, PM_PROC_NR, RS_PROC_NR } from '../../../../src/include/endpoint.ts';
import { EAGAIN, EEXIST, ENOMEM, ESRCH, OK } from '../../../../src/include/errno.ts';
import { DEFAULT_SERVICE_SPEC } from '../../../../src/include/priv.ts';
import { kernelNotify } from '../../../../src/kernel/ipc.ts';
import { dsPublishU32 } from '../../../../src/libsys/ds.ts';
import type { Program } from '../../../../src/libsys/proc.ts';
import { createSystem } from '../../../../src/sim/system.ts';
import type { System } from '../../../../src/sim/system.ts';
import type { SystemConfig } from '../../../../src/sim/config.ts';

const boot = (config: Partial<SystemConfig> = {}): Promise<System> =>
  createSystem({ ramBytes: 16 * 1024 * 1024, sanity: 'top', ...config });

/** Waits for a notification from the host, then exits with `code`. */
const waitThenExit =
  (code: number): Program =>
  async (p) => {
    await p.receive(KERNEL);
    return code;
  };

/** RS_UP, run until idle: what `done` was given. */
async function up(
  sys: System,
  label: string,
  program: Program,
  maxRestarts = 0,
): Promise<{ result: number; endpoint: number }> {
  let out = { result: 1, endpoint: 1 };
  sys.startService(
    { label, program, priv: DEFAULT_SERVICE_SPEC, restart: { maxRestarts } },
    (result, endpoint) => {
      out = { result, endpoint };
    },
  );
  await sys.run();
  return out;
}

/** RS_DOWN, run until idle: what `done` was given. */
async function down(sys: System, label: string): Promise<number> {
  let out = 1;
  sys.stopService(label, (r) => {
    out = r;
  });
  await sys.run();
  return out;
}

/** Lets a service blocked in waitThenExit go on, and runs until idle. */
async function release(sys: System, ep: number): Promise<void> {
  const kp = sys.kernel.liveProc(ep);
  if (kp === null) throw new Error(`release: ${ep} is not live`);
  kernelNotify(sys.kernel, KERNEL, kp);
  await sys.run();
}

const restartEvents = (sys: System) => sys.trace.filter((e) => e.kind === 'proc' && e.op === 'restart');
const killsSentByRs = (sys: System) =>
  sys.trace.filter(
    (e) =>
      e.kind === 'ipc' &&
      e.op === 'send' &&
      e.from === RS_PROC_NR &&
      e.to === PM_PROC_NR &&
      e.mtype === PM_KILL,
  );

describe('RS_UP', () => {
  it('starts a service under its label; the label is refused while it runs and free again once it exits', async () => {
    const sys = await boot();
    const first = await up(sys, 'svc', waitThenExit(3));
    expect(first.result).toBe(OK);
    expect(sys.kernel.liveProc(first.endpoint)?.name).toBe('svc');
    expect(sys.ds.store.endpointOf('svc')).toBe(first.endpoint);
    const again = await up(sys, 'svc', waitThenExit(0));
    expect(again).toEqual({ result: EEXIST, endpoint: first.endpoint });
    await release(sys, first.endpoint);
    const rp = sys.rs.services.get('svc');
    expect(rp?.status).toBe('exited');
    expect(rp?.deaths).toEqual([{ endpoint: first.endpoint, code: 3, signal: 0 }]);
    const third = await up(sys, 'svc', waitThenExit(0));
    expect(third.result).toBe(OK);
    expect(third.endpoint).not.toBe(first.endpoint);
    expect(sys.rs.services.get('svc')?.restarts).toBe(0);
    expect(sys.rs.log).toEqual([
      `rs: svc up as ${first.endpoint}`,
      `rs: up svc: already running as ${first.endpoint}`,
      `rs: svc exited with status 3`,
      `rs: svc up as ${third.endpoint}`,
    ]);
    // A start is no restart, even under a label used before.
    expect(restartEvents(sys)).toEqual([]);
    sys.sanityCheck();
  });

  it('a start that cannot fork is given up with the errno, no endpoint and no label', async () => {
    // 16 slots, 11 taken at boot: five services fit.
    const sys = await boot({ nrProcs: 16 });
    for (let i = 0; i < 5; i++) expect((await up(sys, `s${i}`, waitThenExit(0))).result).toBe(OK);
    expect(await up(sys, 'late', waitThenExit(0), 3)).toEqual({ result: EAGAIN, endpoint: -1 });
    expect(sys.rs.services.get('late')?.status).toBe('failed');
    expect(sys.rs.log.at(-1)).toBe('rs: giving up on late: fork failed (EAGAIN)');
    expect(sys.ds.store.endpointOf('late')).toBe(NONE);
    sys.sanityCheck();
  });

  it('a label DS has no room for: the service runs all the same, with a warning', async () => {
    // dsMaxKeys 16: 11 boot labels, then the filler's label and its keys take the rest.
    const sys = await boot({ dsMaxKeys: 16 });
    const published: number[] = [];
    const filler = await up(sys, 'filler', async (p) => {
      for (let i = 0, r = OK; r === OK; i++) published.push((r = await dsPublishU32(p, `k${i}`, i)));
      await p.receive(KERNEL);
      return 0;
    });
    expect(published.at(-1)).toBe(ENOMEM);
    const late = await up(sys, 'late', waitThenExit(0));
    expect(late.result).toBe(OK);
    expect(sys.kernel.liveProc(late.endpoint)?.name).toBe('late');
    expect(sys.ds.store.nameOf(late.endpoint)).toBeNull();
    expect(sys.rs.log).toEqual([
      `rs: filler up as ${filler.endpoint}`,
      'rs: warning: publishing label late in DS failed (ENOMEM)',
      `rs: late up as ${late.endpoint}`,
    ]);
    // RS_DOWN still stops it, and says that DS had no label to delete.
    expect(await down(sys, 'late')).toBe(OK);
    expect(sys.kernel.liveProc(late.endpoint)).toBeNull();
    expect(sys.rs.log.at(-1)).toBe('rs: late down (ds_delete_label: ESRCH)');
    sys.sanityCheck();
  });
});

describe('restarts and RS_DOWN', () => {
  it('a death by a signal is a restart under the same label: logged with its number, traced', async () => {
    const sys = await boot();
    const first = await up(sys, 'svc', waitThenExit(0), 1);
    sys.kill(first.endpoint);
    await sys.run();
    const rp = sys.rs.services.get('svc');
    expect(rp?.restarts).toBe(1);
    const second = rp?.endpoint ?? -1;
    expect(second).not.toBe(first.endpoint);
    expect(sys.ds.store.endpointOf('svc')).toBe(second);
    expect(sys.rs.log.at(-1)).toBe(`rs: svc restarted as ${second} (restart 1)`);
    expect(restartEvents(sys)).toEqual([
      expect.objectContaining({ ep: second, name: 'svc', parent: RS_PROC_NR }),
    ]);
    sys.sanityCheck();
  });

  it('stops a running service and deletes its label; an exited one is not signalled; an unknown label is ESRCH', async () => {
    const sys = await boot();
    const a = await up(sys, 'a', waitThenExit(0));
    const b = await up(sys, 'b', waitThenExit(5));
    await release(sys, b.endpoint);
    expect(sys.rs.services.get('b')?.status).toBe('exited');
    // A service that exits keeps its (stale) label until RS_DOWN.
    expect(sys.ds.store.endpointOf('b')).toBe(b.endpoint);
    expect(await down(sys, 'a')).toBe(OK);
    expect(sys.kernel.liveProc(a.endpoint)).toBeNull();
    expect(sys.rs.services.get('a')?.deaths).toEqual([{ endpoint: a.endpoint, code: 0, signal: 9 }]);
    expect(killsSentByRs(sys).length).toBe(1);
    expect(await down(sys, 'b')).toBe(OK);
    expect(killsSentByRs(sys).length).toBe(1);
    expect(await down(sys, 'nobody')).toBe(ESRCH);
    for (const label of ['a', 'b']) {
      expect(sys.rs.services.get(label)?.status).toBe('down');
      expect(sys.ds.store.endpointOf(label)).toBe(NONE);
    }
    expect(sys.rs.log.slice(-2)).toEqual(['rs: a down', 'rs: b down']);
    sys.sanityCheck();
  });
});
