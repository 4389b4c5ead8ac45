// The kernel core (src/kernel/kernel.ts) as processes start and end: signals posted to PM (a stand-in PM that
// fetches and ends them) or handled by a bare kernel, a process that faults or crashes under PM, the teardown of a
// slot (its trace, its page-fault entry, its alarms), what a new process starts with, and a kernel without a trace.
import { describe, expect, it } from 'vitest';
import { bareKernel } from '../../helpers/bare.ts';
import type { Bare } from '../../helpers/bare.ts';
import { ANY, NR_TASKS, SYSTEM, makeEndpoint } from '../../../src/include/endpoint.ts';
import { OK, SIGABRT, SIGKILL, SIGSEGV, SIGTERM } from '../../../src/include/errno.ts';
import { NOTIFY_MESSAGE, PM_EXIT, SYS_ENDKSIG, SYS_GETKSIG } from '../../../src/include/com.ts';
import { RTS } from '../../../src/kernel/proc.ts';
import { toProgram } from '../../../src/libsys/proc.ts';

/**
 * A stand-in PM in slot 0: for each notification from SYSTEM it fetches the signalled process (SYS_GETKSIG),
 * logs `endpoint:mask`, and ends the signal (SYS_ENDKSIG); it answers PM_EXIT so that programs can return.
 */
function standInPm(b: Bare, log: string[]): void {
  b.spawn(0, 'pm', async (p) => {
    for (;;) {
      const m = await p.receive(ANY);
      if (m.type === PM_EXIT) p.sendnb(m.source, { type: OK });
      if (m.type !== NOTIFY_MESSAGE || m.source !== SYSTEM) continue;
      const r = await p.kernelCall({ type: SYS_GETKSIG });
      log.push(`pm ${String(r.endpoint)}:${String(r.sigmask)}`);
      await p.kernelCall({ type: SYS_ENDKSIG, endpoint: r.endpoint });
    }
  });
}

describe('signals', () => {
  it('with PM: the signal is pending, the process held, PM notified once however many come', async () => {
    const b = bareKernel({ signalsToPm: true });
    const log: string[] = [];
    b.spawn(0, 'pm', async (p) => {
      for (;;) {
        const m = await p.receive(ANY);
        log.push(`${m.type}/${m.source}`);
      }
    });
    const victim = b.spawn(21, 'victim', async (p) => {
      await p.sleep(100);
    });
    await b.k.run({ maxSteps: 2 });
    expect(b.k.hasPm).toBe(true);
    expect(b.k.nextSignaled()).toBeNull();
    b.k.causeSig(victim.kp, SIGTERM);
    b.k.causeSig(victim.kp, SIGKILL);
    expect(victim.kp.pendingSignals).toBe((1 << SIGTERM) | (1 << SIGKILL));
    expect(victim.kp.rts & RTS.SIGNALED).toBe(RTS.SIGNALED);
    expect(b.k.nextSignaled()).toBe(victim.kp);
    await b.k.run({ maxSteps: 10 });
    expect(log).toEqual([`${NOTIFY_MESSAGE}/${SYSTEM}`]);
    expect(victim.kp.inUse).toBe(true);
    expect(b.trace.filter((e) => e.kind === 'signal')).toEqual([
      { step: 2, kind: 'signal', ep: 21, sig: SIGTERM },
      { step: 2, kind: 'signal', ep: 21, sig: SIGKILL },
    ]);
  });

  it('PM itself, a kernel without PM, or one that handles signals itself: the signal ends the process', async () => {
    const withPm = bareKernel({ signalsToPm: true });
    const pm = withPm.spawn(0, 'pm', async (p) => {
      await p.receive(ANY);
    });
    await withPm.k.run();
    withPm.k.causeSig(pm.kp, SIGTERM);
    expect([pm.kp.inUse, pm.kp.exitStatus, withPm.k.hasPm]).toEqual([false, SIGTERM, false]);

    const noPm = bareKernel({ signalsToPm: true });
    const lone = noPm.spawn(21, 'lone', async (p) => {
      await p.receive(ANY);
    });
    await noPm.k.run();
    noPm.k.causeSig(lone.kp, SIGTERM);
    expect([lone.kp.inUse, lone.kp.exitStatus]).toEqual([false, SIGTERM]);

    const bare = bareKernel({ signalsToPm: false });
    bare.spawn(0, 'pm', async (p) => {
      await p.receive(ANY);
    });
    const other = bare.spawn(21, 'other', async (p) => {
      await p.receive(ANY);
    });
    await bare.k.run();
    expect(bare.k.hasPm).toBe(false);
    bare.k.hostKill(other.kp);
    expect([other.kp.inUse, other.kp.exitStatus]).toEqual([false, SIGKILL]);
  });

  it('a bad access under PM: the process waits for PM, then ends with the signal once PM is done with it', async () => {
    const b = bareKernel({ signalsToPm: true });
    const log: string[] = [];
    standInPm(b, log);
    const faulty = b.spawn(21, 'faulty', async (p) => {
      await p.read(0x1000, 4); // no page table and no boot extent: SIGSEGV
      log.push('read returned');
    });
    b.spawn(22, 'other', async (p) => {
      await p.sleep(1);
      log.push('other ran');
    });
    await b.k.run();
    expect(log).toEqual([`pm 21:${1 << SIGSEGV}`, 'other ran']);
    expect([faulty.kp.inUse, faulty.kp.exitStatus]).toEqual([false, SIGSEGV]);
  });

  it('a program that throws under PM ends with SIGABRT once PM is done with the signal', async () => {
    const b = bareKernel({ signalsToPm: true });
    const log: string[] = [];
    standInPm(b, log);
    const crasher = b.spawn(21, 'crasher', async (p) => {
      await p.kernelCallResult({ type: 0 });
      throw new Error('boom');
    });
    b.spawn(22, 'other', async (p) => {
      await p.sleep(1);
      log.push('other ran');
    });
    await b.k.run();
    expect(log).toEqual([`pm 21:${1 << SIGABRT}`, 'other ran']);
    expect([crasher.kp.inUse, crasher.kp.exitStatus]).toEqual([false, SIGABRT]);
    expect(b.k.crashes.map((c) => c.endpoint)).toEqual([21]);
  });
});

describe('teardown', () => {
  it('is done once: a second terminate changes nothing; exits and kills are traced with their status', async () => {
    const b = bareKernel();
    const a = b.spawn(20, 'a', async (p) => {
      await p.receive(ANY);
    });
    const c = b.spawn(21, 'c', async (p) => {
      await p.receive(ANY);
    });
    await b.k.run();
    a.kp.dirFrame = 5; // as if VM had given it a page table
    b.k.terminate(a.kp, { code: 0, signal: SIGKILL });
    b.k.terminate(a.kp, { code: 3, signal: 0 });
    b.k.terminate(c.kp, { code: 3, signal: 0 });
    expect([a.kp.exitStatus, a.kp.dirFrame, c.kp.exitStatus]).toEqual([SIGKILL, -1, 3 << 8]);
    expect(b.trace.filter((e) => e.kind === 'proc' && e.op !== 'start')).toEqual([
      { step: 2, kind: 'proc', op: 'kill', ep: 20, name: 'a', status: SIGKILL },
      { step: 2, kind: 'proc', op: 'exit', ep: 21, name: 'c', status: 3 },
    ]);
  });

  it('takes the process out of the page-fault queue, whatever its place, and only it', async () => {
    const b = bareKernel();
    const procs = [20, 21, 22].map((slot) =>
      b.spawn(slot, `p${slot}`, async (p) => {
        await p.receive(ANY);
      }),
    );
    await b.k.run();
    const [p20, p21, p22] = procs.map((p) => p.kp);
    if (p20 === undefined || p21 === undefined || p22 === undefined) throw new Error('three processes');
    b.k.pagefaults.push(p20, p21);
    b.k.terminate(p20, { code: 0, signal: SIGKILL });
    expect(b.k.pagefaults).toEqual([p21]);
    b.k.terminate(p22, { code: 0, signal: SIGKILL });
    expect(b.k.pagefaults).toEqual([p21]);
  });

  it("drops the process's alarms, the earliest included: the others fire in the same run, at their time", async () => {
    const b = bareKernel();
    const got: string[] = [];
    b.spawn(20, 'early', async (p) => {
      p.kernel.setAlarm(p.kp, 5);
      await p.kernelCallResult({ type: 0 });
    });
    b.spawn(21, 'late', async (p) => {
      await p.sleep(10);
      got.push(`late woke at ${p.kernel.now}`);
    });
    expect((await b.k.run()).reason).toBe('idle');
    expect(got).toEqual(['late woke at 10']);
  });
});

describe('a new process', () => {
  it('starts without a page table, with a new incarnation and the slot its own clock owner', async () => {
    const b = bareKernel();
    const first = b.spawn(22, 'first', async (p) => {
      await p.kernelCallResult({ type: 0 });
    });
    await b.k.run();
    const owner = b.k.clock.ownerCycles(22 + NR_TASKS);
    expect(owner.kernel).toBeGreaterThan(0);
    const kp = b.k.createProcess({ slot: 30, name: 'new', program: toProgram(b.k, async () => 0) });
    expect([kp.dirFrame, kp.incarnation]).toEqual([-1, 1]);
    expect(b.k.clock.ownerCycles(22 + NR_TASKS)).toEqual(owner); // another slot's time is left alone
    expect(b.k.clock.retired[1]).toBe(0);
    await b.k.run();
    expect(kp.incarnation).toBe(2);
    const again = b.k.createProcess({ slot: 22, name: 'again', program: toProgram(b.k, async () => 0) });
    expect([again.incarnation, again.endpoint, first.kp.dirFrame]).toEqual([3, makeEndpoint(1, 22), -1]);
    expect(b.k.clock.retired[1]).toBe(owner.kernel); // the slot's time moved to the retired account
    const id = b.k.newPrivId();
    expect(b.k.newPrivId()).toBe(id + 1);
  });
});

describe('a kernel without a trace', () => {
  it('runs alarms, IPC and teardown without emitting anything', async () => {
    const b = bareKernel({ trace: null });
    const got: string[] = [];
    b.spawn(20, 'sleeper', async (p) => {
      await p.sleep(5);
      got.push(`woke at ${p.kernel.now}`);
    });
    b.spawn(21, 'crasher', async () => {
      throw new Error('boom');
    });
    expect(b.k.tracing).toBe(false);
    expect((await b.k.run()).reason).toBe('idle');
    expect(got).toEqual(['woke at 5']);
    expect(b.trace).toEqual([]);
  });
});

describe('a program that returns without calling exit', () => {
  it('is ended by the kernel with the number it returned as its exit code, or 0', async () => {
    const b = bareKernel();
    const five = b.k.createProcess({ slot: 20, name: 'five', program: async () => Promise.resolve(5) });
    const none = b.k.createProcess({ slot: 21, name: 'none', program: async () => Promise.resolve() });
    expect((await b.k.run()).reason).toBe('idle');
    expect([five.inUse, five.exitStatus, none.inUse, none.exitStatus]).toEqual([false, 5 << 8, false, 0]);
    expect(b.trace.filter((e) => e.kind === 'proc' && e.op === 'exit')).toEqual([
      { step: 0, kind: 'proc', op: 'exit', ep: makeEndpoint(1, 20), name: 'five', status: 5 },
      { step: 0, kind: 'proc', op: 'exit', ep: makeEndpoint(1, 21), name: 'none', status: 0 },
    ]);
  });
});
