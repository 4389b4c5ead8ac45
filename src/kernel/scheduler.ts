// Models the kernel scheduler (kernel/proc.c: enqueue, dequeue, pick_proc): priority queues with round
// robin, kept as MINIX keeps them, lists linked through the process table entries (p_nextready), with a bitmap
// of the non-empty queues. With a chooser (seeded RNG or a test's script) it picks among all runnable
// processes instead, so tests can explore interleavings. Entry points: Scheduler (enqueue, dequeue, pick,
// higherReady, readyList).
import { assert, panic } from '../lib/assert.ts';
import type { KProc } from './proc.ts';

export const NR_SCHED_QUEUES = 16;

/** Given the runnable processes in queue order, returns the index of the one to run. */
export type Chooser = (runnable: readonly KProc[]) => number;

export class Scheduler {
  /** Head and tail of each priority's ready list (rdy_head, rdy_tail). */
  // Stryker disable next-line ArrayDeclaration: an empty array reads undefined, which every read takes as null (?? null)
  private readonly heads: (KProc | null)[] = new Array<KProc | null>(NR_SCHED_QUEUES).fill(null);
  // Stryker disable next-line ArrayDeclaration: as for heads
  private readonly tails: (KProc | null)[] = new Array<KProc | null>(NR_SCHED_QUEUES).fill(null);
  /** Bit i set iff queue i is non-empty: pick and higherReady test it instead of scanning the queues. */
  private nonEmpty = 0;

  constructor(private readonly chooser: Chooser | null) {}

  isQueued(p: KProc): boolean {
    return p.queued;
  }

  enqueue(p: KProc, front = false): void {
    if (p.queued) panic(`enqueue: ${p.name} already queued`);
    const q = p.priority;
    if (!(q >= 0 && q < NR_SCHED_QUEUES)) panic(`enqueue: bad priority ${q}`);
    const head = this.heads[q] ?? null;
    if (head === null) {
      p.prevReady = null;
      p.nextReady = null;
      this.heads[q] = p;
      this.tails[q] = p;
      this.nonEmpty |= 1 << q;
    } else if (front) {
      p.prevReady = null;
      p.nextReady = head;
      head.prevReady = p;
      this.heads[q] = p;
    } else {
      const tail = this.tails[q] ?? null;
      // Stryker disable next-line StringLiteral: never fires: enqueue and dequeue set a queue's head and tail together
      if (tail === null) panic(`enqueue: queue ${q} has a head but no tail`);
      p.prevReady = tail;
      p.nextReady = null;
      tail.nextReady = p;
      this.tails[q] = p;
    }
    p.queued = true;
  }

  dequeue(p: KProc): void {
    if (!p.queued) return;
    p.queued = false;
    const q = p.priority;
    const prev = p.prevReady;
    const next = p.nextReady;
    if (prev === null) {
      if (this.heads[q] !== p) panic(`dequeue: ${p.name} not in its queue`);
      this.heads[q] = next;
    } else prev.nextReady = next;
    if (next === null) this.tails[q] = prev;
    else next.prevReady = prev;
    if (this.heads[q] === null) this.nonEmpty &= ~(1 << q);
    p.prevReady = null;
    p.nextReady = null;
  }

  /** Removes and returns the next process to run, or null when none is runnable. */
  pick(): KProc | null {
    const mask = this.nonEmpty;
    if (mask === 0) return null;
    if (this.chooser !== null) return this.pickChosen(this.chooser);
    // The lowest set bit is the highest-priority non-empty queue.
    const p = this.heads[31 - Math.clz32(mask & -mask)] ?? null;
    // Stryker disable next-line StringLiteral: never fires: the bit of a queue is cleared when its last process leaves
    if (p === null) return panic('pick: a queue marked non-empty is empty');
    this.dequeue(p);
    return p;
  }

  private pickChosen(chooser: Chooser): KProc {
    const all = this.readyList();
    const i = chooser(all);
    const p = all[i];
    assert(p !== undefined, () => `scheduler chooser returned ${i} of ${all.length}`);
    this.dequeue(p);
    return p;
  }

  /** True when a process of strictly higher priority than `prio` is ready (it should preempt). */
  higherReady(prio: number): boolean {
    return this.chooser === null && (this.nonEmpty & ((1 << prio) - 1)) !== 0;
  }

  /**
   * True when a process of priority `prio` enqueued now would be the next pick: no chooser, and nothing of that
   * priority or higher is ready (Kernel.blockFor hands the CPU to it without the queue).
   */
  nextIfQueued(prio: number): boolean {
    return this.chooser === null && (this.nonEmpty & ((2 << prio) - 1)) === 0;
  }

  /** The ready processes, highest priority first, each queue in order. */
  readyList(): KProc[] {
    const out: KProc[] = [];
    for (let q = 0; q < NR_SCHED_QUEUES; q++) {
      let n = 0;
      for (let p = this.heads[q] ?? null; p !== null; p = p.nextReady) {
        assert(++n <= 1 << 20, () => `readyList: queue ${q} does not end`);
        out.push(p);
      }
    }
    return out;
  }
}
