// The kernel core (src/kernel/kernel.ts) as it runs processes: the quantum counted exactly (sendnb included), a
// higher priority preempting at the next kernel entry with the preempted process first in its queue and the rest
// of its quantum, the host's stop and what it may change before the next run, the hand-over of a sendrec to a
// process that may not run, the CPU watch and the cost of switches, and the kernel's own checks on its callers.
import { describe, expect, it } from 'vitest';
import { bareKernel } from '../../helpers/bare.ts';
import { ANY, NR_TASKS } from '../../../src/include/endpoint.ts';
import { K } from '../../../src/hw/profile.ts';
import { Panic } from '../../../src/lib/assert.ts';
import { RTS } from '../../../src/kernel/proc.ts';
import type { KProc } from '../../../src/kernel/proc.ts';
import type { Proc } from '../../../src/libsys/proc.ts';

/** A kernel entry that does nothing (an unknown kernel call). */
const entry = (p: Proc): Promise<number> => p.kernelCallResult({ type: 0 });

describe('the quantum', () => {
  it('is exactly `quantum` kernel entries: the entry that uses it up switches to the next process', async () => {
    const b = bareKernel({ quantum: 3 });
    const log: number[] = [];
    for (const slot of [20, 21]) {
      b.spawn(slot, `p${slot}`, async (p) => {
        for (let i = 0; i < 5; i++) {
          log.push(slot);
          await entry(p);
        }
      });
    }
    await b.k.run();
    expect(log).toEqual([20, 20, 20, 21, 21, 21, 20, 20, 21, 21]);
  });

  it('sendnb counts as an entry and a step but never switches: the quantum ends at the next entry', async () => {
    const b = bareKernel({ quantum: 3 });
    const log: string[] = [];
    let checks = 0;
    b.k.stepCheck = () => {
      checks++;
    };
    b.spawn(20, 'a', async (p) => {
      for (let i = 0; i < 4; i++) p.sendnb(30, { type: 1 });
      log.push('a1');
      await entry(p);
      log.push('a2');
      await entry(p);
    });
    b.spawn(21, 'b', async (p) => {
      log.push('b');
      await entry(p);
    });
    await b.k.run();
    expect(log).toEqual(['a1', 'b', 'a2']);
    expect(b.k.step).toBe(7);
    expect(checks).toBe(7);
  });
});

describe('a higher priority', () => {
  it('preempts at the next entry; the preempted process goes first in its queue and keeps the rest of its quantum', async () => {
    const b = bareKernel({ quantum: 4 });
    const log: string[] = [];
    b.spawn(
      20,
      'high',
      async (p) => {
        for (;;) {
          await p.receive(ANY);
          log.push('high');
        }
      },
      undefined,
      2,
    );
    b.spawn(
      21,
      'low1',
      async (p) => {
        log.push('l1a');
        await entry(p); // quantum 3 left
        await p.send(20, { type: 1 }); // 2 left; high is ready, low1 goes on until its next entry
        log.push('l1b');
        await entry(p); // 1 left: preempted by high, then resumed before low2
        log.push('l1c');
        await entry(p); // the quantum is used up: low2's turn
        log.push('l1d');
      },
      undefined,
      5,
    );
    b.spawn(
      22,
      'low2',
      async (p) => {
        log.push('l2a');
        await entry(p);
      },
      undefined,
      5,
    );
    await b.k.run();
    expect(log).toEqual(['l1a', 'l1b', 'high', 'l1c', 'l2a', 'l1d']);
  });
});

describe('the host', () => {
  it('between two runs the CPU stays still: switchAway without a run starts nobody', async () => {
    const b = bareKernel();
    const log: number[] = [];
    b.spawn(20, 'a', async (p) => {
      for (let i = 0; i < 4; i++) {
        log.push(i);
        await entry(p);
      }
    });
    expect(await b.k.run({ maxSteps: 2 })).toEqual({ reason: 'steps', steps: 2 });
    b.k.switchAway();
    await new Promise((resolve) => setImmediate(resolve));
    expect([log, b.k.step, b.k.current]).toEqual([[0, 1], 2, null]);
    expect(await b.k.run()).toEqual({ reason: 'idle', steps: 4 });
    expect(log).toEqual([0, 1, 2, 3]);
  });

  it('a process stopped mid-quantum and then held by the host does not run on; it resumes once released', async () => {
    const b = bareKernel();
    const log: string[] = [];
    const a = b.spawn(20, 'a', async (p) => {
      log.push('a1');
      await entry(p);
      log.push('a2');
    });
    b.spawn(21, 'b', async () => {
      log.push('b');
      return Promise.resolve();
    });
    expect((await b.k.run({ maxSteps: 1 })).reason).toBe('steps');
    b.k.setRts(a.kp, RTS.PROC_STOP);
    expect((await b.k.run()).reason).toBe('idle');
    expect(log).toEqual(['a1', 'b']);
    b.k.clearRts(a.kp, RTS.PROC_STOP);
    await b.k.run();
    expect(log).toEqual(['a1', 'b', 'a2']);
  });

  it('a process stopped mid-quantum, then held and released before the next run, stays out of the ready queues and goes on first', async () => {
    const b = bareKernel({ quantum: 3 });
    const log: string[] = [];
    const a = b.spawn(20, 'a', async (p) => {
      for (let i = 0; i < 3; i++) {
        log.push(`a${String(i)}`);
        await entry(p);
      }
    });
    b.spawn(21, 'b', async (p) => {
      log.push('b');
      await entry(p);
    });
    expect((await b.k.run({ maxSteps: 1 })).reason).toBe('steps');
    b.k.setRts(a.kp, RTS.PROC_STOP);
    b.k.clearRts(a.kp, RTS.PROC_STOP);
    expect([a.kp.queued, b.k.scheduler.readyList().map((p) => p.name)]).toEqual([false, ['b']]);
    await b.k.run();
    expect(log).toEqual(['a0', 'a1', 'a2', 'b']);
  });

  it('a sendrec to a waiting server the host holds does not hand it the CPU; the server answers once released', async () => {
    const b = bareKernel();
    const log: string[] = [];
    const server = b.spawn(20, 'server', async (p) => {
      const m = await p.receive(ANY);
      log.push(`server got ${m.type}`);
      p.sendnb(m.source, { type: 0 });
    });
    await b.k.run();
    b.k.setRts(server.kp, RTS.PROC_STOP);
    b.spawn(21, 'client', async (p) => {
      const r = await p.sendrec(20, { type: 7 });
      log.push(`client got ${r.type}`);
    });
    expect((await b.k.run()).reason).toBe('idle');
    expect(log).toEqual([]);
    b.k.clearRts(server.kp, RTS.PROC_STOP);
    await b.k.run();
    expect(log).toEqual(['server got 7', 'client got 0']);
  });

  it('onSwitch is told of every process given the CPU, then of the host taking it back', async () => {
    const b = bareKernel();
    const seen: (number | null)[] = [];
    b.k.onSwitch = (p: KProc | null) => seen.push(p === null ? null : p.endpoint);
    b.spawn(20, 'a', async (p) => {
      await p.sleep(1);
    });
    b.spawn(21, 'b', async () => Promise.resolve());
    await b.k.run();
    expect(seen).toEqual([20, 21, 20, null]);
  });

  it('a system panic is kept as the first one: a second neither replaces it nor is traced', async () => {
    const b = bareKernel();
    const first = new Panic('first');
    b.k.systemPanic(first);
    b.k.systemPanic(new Panic('second'));
    expect(b.k.panicked).toBe(first);
    expect(b.trace).toEqual([{ step: 0, kind: 'panic', message: 'first' }]);
    await expect(b.k.run()).rejects.toBe(first);
  });
});

describe('switches and their cost', () => {
  it('a switch to another process costs a context switch; to another address space a CR3 load too', async () => {
    const b = bareKernel();
    const a = b.spawn(20, 'a', async (p) => {
      await p.sleep(1);
      await p.sleep(1); // resumed right after itself: no switch
    });
    const paged = [21, 22].map((slot) => b.spawn(slot, `p${slot}`, async () => Promise.resolve()));
    for (const p of paged) p.kp.dirFrame = 5; // the same page directory: one CR3 load for both
    await b.k.run();
    const counts = b.k.clock.countByKind;
    // a (from no process), 21 (another directory), 22 (the same), a (another directory), a again.
    expect([counts[K.contextSwitch], counts[K.addressSpaceSwitch]]).toEqual([4, 3]);
    // Every cycle is charged to one of the three processes' slots, or to no process before the first switch.
    const owners = [a, ...paged].map((p) => b.k.clock.ownerCycles(p.kp.slot + NR_TASKS));
    for (const o of owners) expect(o.kernel).toBeGreaterThan(0);
    const none = b.k.clock.ownerCycles(b.k.procs.length);
    const sum = owners.reduce((s, o) => s + o.user + o.kernel, none.user + none.kernel);
    expect(sum).toBe(b.k.clock.cycles);
  });

  it('the first switch loads CR3 whatever the frame of the directory, frame 2 included', async () => {
    const b = bareKernel();
    const a = b.spawn(20, 'a', async (p) => {
      await entry(p);
    });
    a.kp.dirFrame = 2;
    await b.k.run();
    const counts = b.k.clock.countByKind;
    expect([counts[K.contextSwitch], counts[K.addressSpaceSwitch]]).toEqual([1, 1]);
  });
});

describe('the kernel checks its callers', () => {
  it('an entry, block or wait by a process that is not running, or a block that nothing would end, panics', async () => {
    const b = bareKernel();
    const other = b.spawn(21, 'other', async (p) => {
      await p.receive(ANY);
    });
    const errors: string[] = [];
    const attempt = (f: () => unknown): void => {
      try {
        f();
      } catch (e) {
        errors.push((e as Error).message);
      }
    };
    b.spawn(20, 'p', async (p) => {
      attempt(() => b.k.enterNoSwitch(other.kp));
      attempt(() => b.k.block(other.kp));
      attempt(() => b.k.blockOn(other.kp, RTS.RECEIVING));
      attempt(() => b.k.block(p.kp)); // runnable and in no queue: nobody would wake it
      b.k.makeReady(p.kp); // the running process is never queued
      errors.push(`queued ${String(p.kp.queued)}`);
      b.k.scheduler.enqueue(p.kp);
      attempt(() => b.k.blockOn(p.kp, RTS.RECEIVING));
      b.k.scheduler.dequeue(p.kp);
      await entry(p);
    });
    await b.k.run();
    expect(errors).toEqual([
      'enter: other is not the running process',
      'block: other is not the running process',
      'block: other is not the running process',
      'block: p would never be woken',
      'queued false',
      'block: p runs but is queued',
    ]);
  });
});

describe("a test's chooser", () => {
  it('overrides the priority queues and the seeded schedule: here the last runnable process runs first', async () => {
    const b = bareKernel({ schedule: 'random', chooser: (all) => all.length - 1 });
    const log: number[] = [];
    for (const slot of [20, 21, 22]) {
      b.spawn(slot, `p${slot}`, async () => {
        log.push(slot);
        return Promise.resolve();
      });
    }
    await b.k.run();
    expect(log).toEqual([22, 21, 20]);
  });
});
