// The ready queues (src/kernel/scheduler.ts) at their edges: the first and last priorities, the queue links after
// insertions at the front and the back, a chooser's bad answer, and the panics of a broken queue.
import { describe, expect, it } from 'vitest';
import { makeEndpoint } from '../../../src/include/endpoint.ts';
import { Tlb } from '../../../src/hw/mmu.ts';
import { makeUserPriv } from '../../../src/kernel/priv.ts';
import { KProc } from '../../../src/kernel/proc.ts';
import { NR_SCHED_QUEUES, Scheduler } from '../../../src/kernel/scheduler.ts';

function proc(i: number, priority: number): KProc {
  const p = new KProc(i, makeEndpoint(0, i), makeUserPriv(), new Tlb(4));
  p.name = `p${i}`;
  p.priority = priority;
  return p;
}

const names = (ps: readonly KProc[]): string => ps.map((p) => p.name).join(' ');

/** Empties the scheduler by pick, the names in the order picked. */
function drain(s: Scheduler): string {
  const out: KProc[] = [];
  for (let p = s.pick(); p !== null; p = s.pick()) out.push(p);
  return names(out);
}

describe('Scheduler edges', () => {
  it('takes priorities 0 and 15 and refuses -1, 16 and NaN', () => {
    const s = new Scheduler(null);
    s.enqueue(proc(1, NR_SCHED_QUEUES - 1));
    s.enqueue(proc(0, 0));
    expect(names(s.readyList())).toBe('p0 p1');
    expect(s.higherReady(0)).toBe(false);
    expect(s.higherReady(1)).toBe(true);
    for (const bad of [-1, NR_SCHED_QUEUES, Number.NaN])
      expect(() => {
        s.enqueue(proc(9, bad));
      }).toThrow(`enqueue: bad priority ${String(bad)}`);
    expect(drain(s)).toBe('p0 p1');
  });

  it('keeps the links right after front and back insertions and removals at every place', () => {
    const s = new Scheduler(null);
    const [a, b, c, d] = [proc(0, 5), proc(1, 5), proc(2, 5), proc(3, 5)];
    s.enqueue(a);
    s.enqueue(b, true); // b a
    s.enqueue(c); // b a c
    s.enqueue(d, true); // d b a c
    expect(names(s.readyList())).toBe('p3 p1 p0 p2');
    s.dequeue(b); // d a c
    expect([a.prevReady, d.nextReady]).toEqual([d, a]);
    expect([b.prevReady, b.nextReady, b.queued]).toEqual([null, null, false]);
    s.dequeue(c); // d a: a is the tail now
    s.enqueue(b); // d a b
    expect(names(s.readyList())).toBe('p3 p0 p1');
    s.dequeue(d); // a b: a is the head now
    s.enqueue(c, true); // c a b
    expect(names(s.readyList())).toBe('p2 p0 p1');
    expect(drain(s)).toBe('p2 p0 p1');
    expect(s.readyList()).toEqual([]);
  });

  it('a front insertion into an empty queue makes it both head and tail', () => {
    const s = new Scheduler(null);
    const [a, b] = [proc(0, 3), proc(1, 3)];
    s.enqueue(a, true);
    s.enqueue(b);
    expect(names(s.readyList())).toBe('p0 p1');
    expect(s.higherReady(4)).toBe(true);
    expect(drain(s)).toBe('p0 p1');
  });

  it('marks a queue empty only when its last process leaves', () => {
    const s = new Scheduler(null);
    const [a, b, c] = [proc(0, 2), proc(1, 2), proc(2, 6)];
    s.enqueue(a);
    s.enqueue(b);
    s.enqueue(c);
    s.dequeue(a);
    expect(s.higherReady(6)).toBe(true);
    expect(s.nextIfQueued(6)).toBe(false);
    s.dequeue(b);
    expect(s.higherReady(6)).toBe(false);
    expect(s.nextIfQueued(6)).toBe(false); // c itself is of priority 6
    expect(s.nextIfQueued(5)).toBe(true);
    expect(s.pick()).toBe(c);
    expect(s.nextIfQueued(15)).toBe(true);
  });

  it('with a chooser, nothing is ever next by itself; a bad choice panics', () => {
    const s = new Scheduler((all) => all.length);
    expect(s.nextIfQueued(15)).toBe(false);
    s.enqueue(proc(0, 4));
    s.enqueue(proc(1, 4));
    expect(() => s.pick()).toThrow('scheduler chooser returned 2 of 2');
  });

  it('panics on a process moved to another priority while queued, and on a queue that loops', () => {
    const s = new Scheduler(null);
    const [a, b] = [proc(0, 4), proc(1, 4)];
    s.enqueue(a);
    s.enqueue(b);
    a.priority = 5;
    expect(() => {
      s.dequeue(a);
    }).toThrow('dequeue: p0 not in its queue');
    const t = new Scheduler(null);
    const [c, d] = [proc(2, 1), proc(3, 1)];
    t.enqueue(c);
    t.enqueue(d);
    d.nextReady = c;
    expect(() => t.readyList()).toThrow('readyList: queue 1 does not end');
  });
});
