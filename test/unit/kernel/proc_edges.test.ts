// The process table entry (src/kernel/proc.ts): the state of a slot never used, which processes may run, and the
// state names the inspector and the scenario reports show.
import { describe, expect, it } from 'vitest';
import { bareKernel } from '../../helpers/bare.ts';
import { RTS, isRunnable, rtsString } from '../../../src/kernel/proc.ts';

describe('a process table entry', () => {
  it('a slot never used is free, not queued, with no IPC state, program or continuation', () => {
    const { k } = bareKernel();
    const p = k.procAt(30);
    expect(p.inUse).toBe(false);
    expect(p.rts).toBe(RTS.SLOT_FREE);
    expect(isRunnable(p)).toBe(false);
    expect(k.scheduler.isQueued(p)).toBe(false);
    expect(p.keepQuantum).toBe(false);
    expect({ callers: p.callers, notifyFrom: p.notifyFrom, asyncQueue: p.asyncQueue }).toEqual({
      callers: [],
      notifyFrom: [],
      asyncQueue: [],
    });
    expect([p.name, p.sendTo, p.recvFrom, p.replyFrom, p.program, p.waiter, p.parent]).toEqual([
      '',
      null,
      null,
      null,
      null,
      null,
      null,
    ]);
    expect(p.userState.size).toBe(0);
    expect([p.dirFrame, p.extent, p.fault, p.exitStatus]).toEqual([-1, null, null, null]); // no page table yet
  });

  it('a process made in a fresh slot runs with a fresh quantum: it is preempted only when the quantum is used up', async () => {
    const b = bareKernel({ quantum: 3 });
    const order: string[] = [];
    for (const [slot, name] of [
      [20, 'a'],
      [21, 'b'],
    ] as const) {
      b.spawn(slot, name, async (p) => {
        for (let i = 0; i < 6; i++) {
          order.push(name);
          await p.kernelCallResult({ type: 0 });
        }
      });
    }
    await b.k.run();
    expect(order.join('')).toBe('aaabbbaaabbb');
  });

  it('runs only with no RTS flag and no VM hold', () => {
    const { k } = bareKernel();
    const p = k.procAt(30);
    p.rts = 0;
    expect(isRunnable(p)).toBe(true);
    p.vmHolds = 1;
    expect(isRunnable(p)).toBe(false);
    p.vmHolds = 0;
    p.rts = RTS.PROC_STOP;
    expect(isRunnable(p)).toBe(false);
    expect(p.inUse).toBe(true);
  });

  it('names the flags set, in the order of RTS, or RUNNABLE when none is', () => {
    expect(rtsString(0)).toBe('RUNNABLE');
    expect(rtsString(RTS.RECEIVING)).toBe('RECEIVING');
    expect(rtsString(RTS.RECEIVING | RTS.SENDING | RTS.VMREQUEST)).toBe('SENDING|RECEIVING|VMREQUEST');
    expect(rtsString(RTS.SLOT_FREE | RTS.PAGEFAULT)).toBe('SLOT_FREE|PAGEFAULT');
  });
});
