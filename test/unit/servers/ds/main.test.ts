// The DS server process (src/servers/ds/main.ts) over a booted system: its trace events, notifications it ignores,
// the key scratch page it keeps, what the host sees of it (booted, busy, sanityCheck).
import { describe, expect, it } from 'vitest';
import { DS_PROC_NR, KERNEL } from '../../../../src/include/endpoint.ts';
import { ESRCH, OK } from '../../../../src/include/errno.ts';
import type { TraceEvent } from '../../../../src/include/trace.ts';
import { kernelNotify } from '../../../../src/kernel/ipc.ts';
import { RTS } from '../../../../src/kernel/proc.ts';
import { dsPublishU32, dsRetrieveLabelName, dsRetrieveU32 } from '../../../../src/libsys/ds.ts';
import { startTestService } from '../../../../src/sim/grantsuites.ts';
import { createSystem } from '../../../../src/sim/system.ts';

type DsEvent = Extract<TraceEvent, { kind: 'ds' }>;

describe('DS server', () => {
  it('traces each request when it answers: kernel step, op, caller, key, result', async () => {
    const sys = await createSystem({ ramBytes: 16 * 1024 * 1024, sanity: 'top' });
    expect(sys.ds.booted).toBe(true);
    const ep = await startTestService(sys, 'svc', async (p) => {
      await dsPublishU32(p, 'x', 7);
      await dsRetrieveU32(p, 'y');
      await dsRetrieveLabelName(p, p.endpoint);
      await p.receive(KERNEL);
      return 0;
    });
    const events = sys.trace.filter((e): e is DsEvent => e.kind === 'ds');
    // RS's own label publication comes first.
    expect(events.map(({ op, caller, key, result }) => ({ op, caller, key, result }))).toEqual([
      { op: 'publish', caller: expect.any(Number) as number, key: 'svc', result: OK },
      { op: 'publish', caller: ep, key: 'x', result: OK },
      { op: 'retrieve', caller: ep, key: 'y', result: ESRCH },
      { op: 'retrieve_label', caller: ep, key: 'svc', result: OK },
    ]);
    const steps = events.map((e) => e.step);
    expect(steps[0]).toBeGreaterThan(0);
    expect(steps).toEqual([...steps].sort((a, b) => a - b));
    expect(new Set(steps).size).toBe(steps.length);
  });

  it('ignores notifications: no reply, no trace event; it stays waiting and checkable', async () => {
    const sys = await createSystem({ ramBytes: 16 * 1024 * 1024, sanity: 'top' });
    await sys.run();
    const before = sys.trace.length;
    const ds = sys.kernel.liveProc(DS_PROC_NR);
    if (ds === null) throw new Error('no DS');
    kernelNotify(sys.kernel, KERNEL, ds);
    await sys.run();
    expect(
      sys.trace
        .slice(before)
        .filter((e) => e.kind === 'ds' || (e.kind === 'ipc' && e.from === DS_PROC_NR && e.op === 'send')),
    ).toEqual([]);
    expect(ds.rts & RTS.RECEIVING).not.toBe(0);
    expect(sys.ds.busy).toBe(false);
    sys.ds.sanityCheck();
  });
});
