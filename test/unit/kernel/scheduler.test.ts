// The ready queues (kernel/scheduler.ts): lists linked through the process entries with a bitmap of the
// non-empty queues; round robin within a priority, strict priority between them, and a chooser that overrides both.
import { describe, expect, it } from 'vitest';
import { makeEndpoint } from '../../../src/include/endpoint.ts';
import { Tlb } from '../../../src/hw/mmu.ts';
import { makeUserPriv } from '../../../src/kernel/priv.ts';
import { KProc } from '../../../src/kernel/proc.ts';
import { Scheduler } from '../../../src/kernel/scheduler.ts';

function procs(priorities: number[]): KProc[] {
  return priorities.map((prio, i) => {
    const p = new KProc(i, makeEndpoint(0, i), makeUserPriv(), new Tlb(4));
    p.name = `p${i}`;
    p.priority = prio;
    return p;
  });
}

const names = (ps: readonly KProc[]): string[] => ps.map((p) => p.name);

describe('Scheduler', () => {
  it('picks the highest priority first, round robin inside one priority; front insertion goes first', () => {
    const s = new Scheduler(null);
    const [a, b, c, d, e] = procs([7, 7, 4, 7, 15]);
    if (a === undefined || b === undefined || c === undefined || d === undefined || e === undefined)
      throw new Error('procs');
    s.enqueue(a);
    s.enqueue(b);
    s.enqueue(e);
    s.enqueue(c);
    s.enqueue(d, true);
    expect(names(s.readyList())).toEqual(['p2', 'p3', 'p0', 'p1', 'p4']);
    expect(s.higherReady(7)).toBe(true);
    expect(s.higherReady(4)).toBe(false);
    expect(names([s.pick(), s.pick(), s.pick()].filter((p): p is KProc => p !== null))).toEqual([
      'p2',
      'p3',
      'p0',
    ]);
    expect(s.higherReady(7)).toBe(false);
    expect(a.queued).toBe(false);
    s.enqueue(a);
    expect(names(s.readyList())).toEqual(['p1', 'p0', 'p4']);
    expect(s.pick()?.name).toBe('p1');
    expect(s.pick()?.name).toBe('p0');
    expect(s.pick()?.name).toBe('p4');
    expect(s.pick()).toBeNull();
    expect(s.higherReady(16)).toBe(false);
  });

  it('dequeue takes a process out of the head, the middle or the tail; twice is harmless; enqueue twice panics', () => {
    const s = new Scheduler(null);
    const ps = procs([5, 5, 5, 5]);
    for (const p of ps) s.enqueue(p);
    const [p0, p1, p2, p3] = ps;
    if (p0 === undefined || p1 === undefined || p2 === undefined || p3 === undefined)
      throw new Error('procs');
    s.dequeue(p1);
    expect(names(s.readyList())).toEqual(['p0', 'p2', 'p3']);
    s.dequeue(p1);
    s.dequeue(p0);
    expect(names(s.readyList())).toEqual(['p2', 'p3']);
    s.dequeue(p3);
    expect(names(s.readyList())).toEqual(['p2']);
    expect(s.higherReady(6)).toBe(true);
    s.dequeue(p2);
    expect(s.readyList()).toEqual([]);
    expect(s.higherReady(6)).toBe(false);
    expect(s.pick()).toBeNull();
    s.enqueue(p3);
    s.enqueue(p1);
    expect(names(s.readyList())).toEqual(['p3', 'p1']);
    expect(() => s.enqueue(p3)).toThrow(/already queued/);
  });

  it('a chooser picks among all ready processes in queue order and never reports a higher one ready', () => {
    const seen: string[][] = [];
    const s = new Scheduler((all) => {
      seen.push(names(all));
      return all.length - 1;
    });
    const ps = procs([3, 9, 3]);
    for (const p of ps) s.enqueue(p);
    expect(s.higherReady(9)).toBe(false);
    expect(s.pick()?.name).toBe('p1');
    expect(s.pick()?.name).toBe('p2');
    expect(s.pick()?.name).toBe('p0');
    expect(s.pick()).toBeNull();
    expect(seen).toEqual([['p0', 'p2', 'p1'], ['p0', 'p2'], ['p0']]);
  });
});
