// The kernel core (src/kernel/kernel.ts) at its edges: endpoint lookup for every kind of endpoint, slot bounds,
// process creation and slot reuse, the host's run() and its refusals, programs that crash or panic, alarms, and
// entries by a process that is not running.
import { describe, expect, it } from 'vitest';
import { bareKernel } from '../../helpers/bare.ts';
import {
  ANY,
  CLOCK,
  MAX_GENERATION,
  NONE,
  NR_TASKS,
  SELF,
  VM_PROC_NR,
  makeEndpoint,
} from '../../../src/include/endpoint.ts';
import { NOTIFY_MESSAGE } from '../../../src/include/com.ts';
import { SIGABRT } from '../../../src/include/errno.ts';
import { Panic } from '../../../src/lib/assert.ts';
import { RTS } from '../../../src/kernel/proc.ts';
import { toProgram } from '../../../src/libsys/proc.ts';

describe('endpoints and slots', () => {
  it('liveProc finds a live endpoint of any generation, and nothing for a stale, special or malformed one', async () => {
    const b = bareKernel({ nrProcs: 40 });
    const boot = b.spawn(20, 'boot', async (p) => {
      await p.receive(ANY);
    });
    const kp = b.k.createProcess({ slot: 39, name: 'late', program: toProgram(b.k, async () => 0) });
    const task = b.k.createProcess({
      slot: -NR_TASKS,
      name: 'task',
      program: toProgram(b.k, async () => 0),
      generation: 0,
    });
    expect(b.k.liveProc(20)).toBe(boot.kp);
    expect(kp.endpoint).toBe(makeEndpoint(1, 39));
    expect(b.k.liveProc(kp.endpoint)).toBe(kp);
    expect(b.k.liveProc(-NR_TASKS)).toBe(task);
    for (const e of [
      39,
      makeEndpoint(2, 39),
      makeEndpoint(1, 20),
      40,
      -NR_TASKS - 1,
      CLOCK,
      ANY,
      NONE,
      SELF,
      20.5,
    ])
      expect(b.k.liveProc(e)).toBeNull();
    expect(b.k.liveProc(2 ** 31)).toBeNull();
    expect(b.k.liveProc(makeEndpoint(MAX_GENERATION, 40))).toBeNull();
    expect(b.k.generationOf(kp.endpoint)).toBe(1);
    await b.k.run();
    expect(b.k.liveProc(kp.endpoint)).toBeNull();
  });

  it('isOkSlot takes the task slots and the process slots, nothing else; procAt panics outside them', () => {
    const { k } = bareKernel({ nrProcs: 10 });
    expect([-NR_TASKS, -1, 0, 9].map((s) => k.isOkSlot(s))).toEqual([true, true, true, true]);
    expect([-NR_TASKS - 1, 10, 1.5, Number.NaN].map((s) => k.isOkSlot(s))).toEqual([
      false,
      false,
      false,
      false,
    ]);
    expect(k.procAt(9).slot).toBe(9);
    expect(() => k.procAt(10)).toThrow('no process slot 10');
    expect(() => k.procAt(-NR_TASKS - 1)).toThrow(`no process slot ${String(-NR_TASKS - 1)}`);
  });

  it('a slot used again gets the next generation; a slot in use cannot be taken', async () => {
    const b = bareKernel();
    const first = b.k.createProcess({
      slot: 30,
      name: 'one',
      program: toProgram(b.k, async () => 3),
      priority: 2,
    });
    expect(() =>
      b.k.createProcess({ slot: 30, name: 'two', program: toProgram(b.k, async () => 0) }),
    ).toThrow('createProcess: slot 30 in use by one');
    await b.k.run();
    expect(first.exitStatus).toBe(3 << 8);
    const second = b.k.createProcess({
      slot: 30,
      name: 'two',
      program: toProgram(b.k, async () => 0),
      parent: makeEndpoint(0, 20),
    });
    expect(second.endpoint).toBe(makeEndpoint(2, 30));
    expect(second.priority).toBe(7);
    expect(second.parent).toBe(20);
    expect(b.trace.filter((e) => e.kind === 'proc' && e.op === 'start')).toEqual([
      { step: 0, kind: 'proc', op: 'start', ep: makeEndpoint(1, 30), name: 'one', parent: NONE },
      { step: b.k.step, kind: 'proc', op: 'start', ep: makeEndpoint(2, 30), name: 'two', parent: 20 },
    ]);
  });

  it('a process created stopped runs only once the flag is cleared', async () => {
    const b = bareKernel();
    const log: string[] = [];
    const kp = b.k.createProcess({
      slot: 30,
      name: 'held',
      program: toProgram(b.k, async () => {
        log.push('ran');
      }),
      rts: RTS.PROC_STOP,
    });
    expect((await b.k.run()).reason).toBe('idle');
    expect(log).toEqual([]);
    b.k.clearRts(kp, RTS.PROC_STOP);
    await b.k.run();
    expect(log).toEqual(['ran']);
  });
});

describe('the host', () => {
  it('run stops after maxSteps more entries and says how many steps in all', async () => {
    const b = bareKernel();
    b.spawn(20, 'loop', async (p) => {
      for (let i = 0; i < 10; i++) await p.kernelCallResult({ type: 0 });
    });
    expect(await b.k.run({ maxSteps: 3 })).toEqual({ reason: 'steps', steps: 3 });
    expect(await b.k.run({ maxSteps: 4 })).toEqual({ reason: 'steps', steps: 7 });
    expect(b.k.running).toBe(false);
    expect(await b.k.run()).toEqual({ reason: 'idle', steps: 10 });
  });

  it('refuses a second run while one is going on', async () => {
    const b = bareKernel();
    let inner: unknown = null;
    b.spawn(20, 'p', async (p) => {
      expect(b.k.running).toBe(true);
      try {
        await b.k.run();
      } catch (e) {
        inner = e;
      }
      await p.kernelCallResult({ type: 0 });
    });
    await b.k.run();
    expect(inner).toBeInstanceOf(Panic);
    expect((inner as Panic).message).toContain('run: the system is already running');
  });

  it('a program that throws crashes its process with SIGABRT and is recorded; a Panic stops the system', async () => {
    const b = bareKernel();
    b.spawn(20, 'crasher', async (p) => {
      await p.kernelCallResult({ type: 0 });
      throw new Error('boom');
    });
    await b.k.run();
    expect(b.k.crashes).toEqual([{ step: 1, endpoint: 20, name: 'crasher', error: new Error('boom') }]);
    expect(b.k.procAt(20).inUse).toBe(false);
    expect(b.k.procAt(20).exitStatus).toBe(SIGABRT);
    expect(b.trace).toContainEqual({ step: 1, kind: 'panic', message: 'crasher: Error: boom' });

    b.spawn(21, 'panics', async () => {
      throw new Panic('broken rule');
    });
    await expect(b.k.run()).rejects.toThrow('broken rule');
    expect(b.k.panicked?.message).toBe('broken rule');
    await expect(b.k.run()).rejects.toBe(b.k.panicked);
    expect(b.trace.filter((e) => e.kind === 'panic')).toHaveLength(2);
  });

  it('a kernel entry or block by a process that is not running panics', async () => {
    const b = bareKernel();
    const other = b.spawn(21, 'other', async (p) => {
      await p.receive(ANY);
    });
    let err: unknown = null;
    b.spawn(20, 'p', async () => {
      try {
        void b.k.enter(other.kp);
      } catch (e) {
        err = e;
      }
    });
    await b.k.run();
    expect(String(err)).toContain('enter: other is not the running process');
    expect(() => b.k.dropHold(other.kp)).toThrow('dropHold: other holds no VM request');
  });
});

describe('alarms', () => {
  it('fire in time order, a negative delay at once, and never for a process that has gone', async () => {
    const b = bareKernel();
    const got: string[] = [];
    const short = b.spawn(22, 'short', async (p) => {
      p.kernel.setAlarm(p.kp, 5);
      await p.kernelCallResult({ type: 0 });
    });
    for (const [slot, ms] of [
      [20, 30],
      [21, -1],
      [23, 10],
      [24, -5], // set after 21's: due at the same time (now), so delivered after it
    ] as const) {
      b.spawn(slot, `a${slot}`, async (p) => {
        p.kernel.setAlarm(p.kp, ms);
        const m = await p.receive(ANY);
        got.push(`${slot}@${p.kernel.now}:${m.type === NOTIFY_MESSAGE ? 'clock' : m.type}/${m.source}`);
      });
    }
    await b.k.run();
    expect(got).toEqual([
      `21@0:clock/${CLOCK}`,
      `24@0:clock/${CLOCK}`,
      `23@10:clock/${CLOCK}`,
      `20@30:clock/${CLOCK}`,
    ]);
    expect(short.kp.inUse).toBe(false);
    const notified = b.trace.flatMap((e) => (e.kind === 'ipc' && e.op === 'notify' ? [e.to] : []));
    expect(notified).toEqual([21, 24, 23, 20]);
  });

  it('notifies VM when there is one, and nobody otherwise', async () => {
    const b = bareKernel();
    b.k.notifyVm(CLOCK); // no VM yet: nothing happens
    const got: string[] = [];
    b.spawn(VM_PROC_NR, 'vm', async (p) => {
      const m = await p.receive(ANY);
      got.push(`${m.type}/${m.source}`);
    });
    b.k.notifyVm(CLOCK);
    await b.k.run();
    expect(got).toEqual([`${NOTIFY_MESSAGE}/${CLOCK}`]);
    expect(b.trace.filter((e) => e.kind === 'ipc')).toHaveLength(2);
  });
});

describe('endpoints of task slots', () => {
  it('a process created in a task slot without a generation gets generation 1, and liveProc finds it', async () => {
    const b = bareKernel();
    const kp = b.k.createProcess({
      slot: -NR_TASKS,
      name: 'task1',
      program: toProgram(b.k, async (p) => {
        await p.receive(ANY);
      }),
    });
    expect(kp.endpoint).toBe(makeEndpoint(1, -NR_TASKS));
    expect(b.k.liveProc(kp.endpoint)).toBe(kp);
    expect(b.k.liveProc(-NR_TASKS)).toBeNull();
    await b.k.run();
  });
});
