// Models the kernel scheduler (kernel/proc.c: enqueue, dequeue, pick_proc): priority queues with round
// robin. With a chooser (seeded RNG or a test's script) it picks among all runnable processes instead, so
// tests can explore interleavings. Entry points: Scheduler (enqueue, dequeue, pick, higherReady).
import { assert, panic } from '../lib/assert.ts';
import type { KProc } from './proc.ts';

export const NR_SCHED_QUEUES = 16;

/** Given the runnable processes in queue order, returns the index of the one to run. */
export type Chooser = (runnable: readonly KProc[]) => number;

export class Scheduler {
  private readonly queues: KProc[][] = Array.from({ length: NR_SCHED_QUEUES }, () => []);
  private count = 0;

  constructor(private readonly chooser: Chooser | null) {}

  isQueued(p: KProc): boolean {
    return p.queued;
  }

  enqueue(p: KProc, front = false): void {
    if (p.queued) panic(`enqueue: ${p.name} already queued`);
    const q = this.queues[p.priority];
    if (q === undefined) panic(`enqueue: bad priority ${p.priority}`);
    if (front) q.unshift(p);
    else q.push(p);
    p.queued = true;
    this.count++;
  }

  dequeue(p: KProc): void {
    if (!p.queued) return;
    p.queued = false;
    this.count--;
    const q = this.queues[p.priority];
    assert(q !== undefined, 'dequeue: bad priority');
    const i = q.indexOf(p);
    if (i < 0) panic(`dequeue: ${p.name} not in its queue`);
    q.splice(i, 1);
  }

  /** Removes and returns the next process to run, or null when none is runnable. */
  pick(): KProc | null {
    if (this.count === 0) return null;
    if (this.chooser !== null) return this.pickChosen(this.chooser);
    for (const q of this.queues) {
      const p = q.shift();
      if (p !== undefined) {
        p.queued = false;
        this.count--;
        return p;
      }
    }
    return null;
  }

  private pickChosen(chooser: Chooser): KProc {
    const all = this.queues.flat();
    const i = chooser(all);
    const p = all[i];
    assert(p !== undefined, () => `scheduler chooser returned ${i} of ${all.length}`);
    this.dequeue(p);
    return p;
  }

  /** True when a process of strictly higher priority than `prio` is ready (it should preempt). */
  higherReady(prio: number): boolean {
    if (this.chooser !== null) return false;
    for (let i = 0; i < prio; i++) if ((this.queues[i]?.length ?? 0) > 0) return true;
    return false;
  }

  readyList(): KProc[] {
    return this.queues.flat();
  }
}
