import { describe, expect, it } from 'vitest';
import { bareKernel } from '../../helpers/bare.ts';
import type { Bare } from '../../helpers/bare.ts';
import { ANY } from '../../../src/include/endpoint.ts';
import {
  EBADREQUEST,
  ECALLDENIED,
  EDEADSRCDST,
  EINVAL,
  ESRCH,
  OK,
  SIGKILL,
} from '../../../src/include/errno.ts';
import {
  KERNEL_CALL,
  SYS_GETINFO,
  SYS_PRIVCTL,
  SYS_PRIV_ALLOW,
  SYS_PRIV_DISALLOW,
  SYS_RUNCTL,
  SYS_VMCTL,
  VMCTL_CLEAR_PAGEFAULT,
  VMCTL_GET_PAGEFAULT,
  VMCTL_MEMREQ_GET,
  VMCTL_MEMREQ_REPLY,
  GET_WHOAMI,
  SYS_KILL,
} from '../../../src/include/com.ts';
import { traceHash } from '../../../src/sim/trace.ts';
import type { TraceEvent } from '../../../src/include/trace.ts';
import type { KernelConfig } from '../../../src/kernel/kernel.ts';

/** Three processes ping-ponging and computing: a small workload with real interleavings. */
function workload(b: Bare): string[] {
  const log: string[] = [];
  b.spawn(20, 'server', async (p) => {
    for (;;) {
      const m = await p.receive(ANY);
      log.push(`s:${m.source}:${String(m.n)}`);
      await p.send(m.source, { type: OK, n: Number(m.n) + 1 });
    }
  });
  for (const slot of [21, 22, 23]) {
    b.spawn(slot, `c${slot}`, async (p) => {
      let n = slot * 100;
      for (let i = 0; i < 20; i++) n = Number((await p.sendrec(20, { type: 1, n })).n);
      log.push(`c${slot}:${n}`);
    });
  }
  return log;
}

async function traceOf(
  config: Partial<KernelConfig>,
  stepsPerRun?: number,
): Promise<{ hash: string; events: TraceEvent[] }> {
  const b = bareKernel(config);
  workload(b);
  if (stepsPerRun === undefined) await b.k.run();
  else while ((await b.k.run({ maxSteps: stepsPerRun })).reason !== 'idle');
  return { hash: traceHash(b.trace), events: b.trace };
}

describe('determinism and scheduling', () => {
  it('same seed and scenario give the same trace, event for event', async () => {
    const a = await traceOf({ schedule: 'random', seed: 42, quantum: 3 });
    const b = await traceOf({ schedule: 'random', seed: 42, quantum: 3 });
    expect(a.hash).toBe(b.hash);
    expect(a.events.length).toBeGreaterThan(100);
  });

  it('different seeds explore different interleavings', async () => {
    const hashes = new Set<string>();
    for (let seed = 1; seed <= 6; seed++)
      hashes.add((await traceOf({ schedule: 'random', seed, quantum: 2 })).hash);
    expect(hashes.size).toBeGreaterThan(1);
  });

  it('stopping and resuming every few steps does not change the schedule', async () => {
    for (const config of [{ quantum: 4 }, { quantum: 3, schedule: 'random', seed: 9 }] as const) {
      const whole = await traceOf(config);
      for (const slice of [1, 3, 7]) expect((await traceOf(config, slice)).hash).toBe(whole.hash);
    }
  });

  it('an `until` that never holds changes neither the schedule nor what the CPU watch sees', async () => {
    const watched = async (options: { until?: () => boolean }): Promise<string[]> => {
      const b = bareKernel({ schedule: 'random', seed: 5, quantum: 3 });
      const seen: string[] = [];
      b.k.onSwitch = (p) => seen.push(p === null ? 'host' : p.name);
      workload(b);
      await b.k.run(options);
      return seen;
    };
    const plain = await watched({});
    expect(plain.length).toBeGreaterThan(10);
    expect(await watched({ until: () => false })).toEqual(plain);
  });

  it('run({ until }) stops at the first kernel entry where the condition holds', async () => {
    const b = bareKernel();
    const log = workload(b);
    const r = await b.k.run({ until: () => log.length >= 5 });
    expect(r.reason).toBe('until');
    expect(log.length).toBe(5);
    await b.k.run();
    expect(log.filter((l) => l.startsWith('c'))).toHaveLength(3);
  });

  it('a quantum of kernel entries preempts a process that never blocks', async () => {
    const b = bareKernel({ quantum: 5 });
    const order: string[] = [];
    for (const slot of [20, 21]) {
      b.spawn(slot, `n${slot}`, async (p) => {
        for (let i = 0; i < 10; i++) {
          order.push(String(slot));
          await p.kernelCall({ type: SYS_GETINFO, request: GET_WHOAMI });
        }
      });
    }
    await b.k.run();
    expect(order.slice(0, 12).join(',')).not.toBe(order.slice(0, 12).sort().join(','));
    expect(order.filter((x) => x === '20')).toHaveLength(10);
  });
});

describe('kernel calls', () => {
  it('an out-of-range call is EBADREQUEST; a call outside the mask ECALLDENIED', async () => {
    const b = bareKernel();
    const res: number[] = [];
    b.spawn(20, 'p', async (p) => {
      res.push((await p.kernelCall({ type: KERNEL_CALL + 50 })).type);
      res.push((await p.kernelCall({ type: KERNEL_CALL - 1 })).type);
    });
    b.spawn(
      21,
      'limited',
      async (p) => {
        res.push((await p.kernelCall({ type: SYS_GETINFO, request: GET_WHOAMI })).type);
      },
      { ipcTo: 'all', kernelCalls: [], vmCalls: [] },
    );
    await b.k.run();
    expect(res).toEqual([EBADREQUEST, EBADREQUEST, ECALLDENIED]);
  });

  it('privctl DISALLOW holds a process, ALLOW releases it; bad endpoint EINVAL', async () => {
    const b = bareKernel();
    const log: string[] = [];
    const victim = b.spawn(21, 'victim', async () => {
      log.push('victim ran');
    });
    b.spawn(
      20,
      'admin',
      async (p) => {
        log.push(
          `disallow ${(await p.kernelCall({ type: SYS_PRIVCTL, endpoint: victim.endpoint, request: SYS_PRIV_DISALLOW })).type}`,
        );
        log.push(
          `bad ${(await p.kernelCall({ type: SYS_PRIVCTL, endpoint: 999, request: SYS_PRIV_ALLOW })).type}`,
        );
        await p.sleep(10);
        log.push('allow');
        await p.kernelCall({ type: SYS_PRIVCTL, endpoint: victim.endpoint, request: SYS_PRIV_ALLOW });
      },
      undefined,
      2,
    );
    await b.k.run();
    expect(log).toEqual([`disallow ${OK}`, `bad ${EINVAL}`, 'allow', 'victim ran']);
  });

  it('vmctl: no page fault or memory request pending gives ESRCH; bad requests EINVAL', async () => {
    const b = bareKernel();
    const res: number[] = [];
    b.spawn(20, 'vm', async (p) => {
      res.push((await p.kernelCall({ type: SYS_VMCTL, request: VMCTL_GET_PAGEFAULT })).type);
      res.push((await p.kernelCall({ type: SYS_VMCTL, request: VMCTL_MEMREQ_GET })).type);
      res.push(
        (
          await p.kernelCall({
            type: SYS_VMCTL,
            request: VMCTL_MEMREQ_REPLY,
            requestor: p.endpoint,
            value: 0,
          })
        ).type,
      );
      res.push(
        (await p.kernelCall({ type: SYS_VMCTL, request: VMCTL_CLEAR_PAGEFAULT, endpoint: p.endpoint })).type,
      );
      res.push((await p.kernelCall({ type: SYS_VMCTL, request: 999, endpoint: p.endpoint })).type);
      res.push((await p.kernelCall({ type: SYS_RUNCTL, endpoint: p.endpoint, action: 7 })).type);
    });
    await b.k.run();
    expect(res).toEqual([ESRCH, ESRCH, ESRCH, EINVAL, EINVAL, EINVAL]);
  });

  it('sys_kill on a bare kernel ends the process with the signal; callers blocked on it are released', async () => {
    const b = bareKernel();
    const res: number[] = [];
    const victim = b.spawn(21, 'victim', async (p) => {
      for (;;) await p.receive(ANY);
    });
    b.spawn(22, 'client', async (p) => {
      res.push((await p.sendrec(victim.endpoint, { type: 1 })).type);
    });
    b.spawn(20, 'killer', async (p) => {
      await p.sleep(1);
      res.push((await p.kernelCall({ type: SYS_KILL, endpoint: victim.endpoint, sig: SIGKILL })).type);
      res.push((await p.kernelCall({ type: SYS_KILL, endpoint: victim.endpoint, sig: SIGKILL })).type);
    });
    await b.k.run();
    expect(res).toEqual([OK, EINVAL, EDEADSRCDST]);
    expect(victim.kp.inUse).toBe(false);
    expect(victim.kp.exitStatus).toBe(SIGKILL);
  });
});
