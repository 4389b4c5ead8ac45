// The sendrec rendezvous hands the CPU to the receiver without its ready queue (Kernel.blockFor) only when the
// scheduler would pick it next anyway: the order in which processes run must be the queue's order either way.
import { describe, expect, it } from 'vitest';
import { bareKernel } from '../../helpers/bare.ts';
import { ANY, makeEndpoint } from '../../../src/include/endpoint.ts';
import { Tlb } from '../../../src/hw/mmu.ts';
import { makeUserPriv } from '../../../src/kernel/priv.ts';
import { KProc } from '../../../src/kernel/proc.ts';
import { Scheduler } from '../../../src/kernel/scheduler.ts';

describe('sendrec hand-over', () => {
  it('a ready process of the same priority runs before the woken server (it was queued first)', async () => {
    const { k, spawn } = bareKernel();
    const log: string[] = [];
    spawn(20, 'server', async (p) => {
      const m = await p.receive(ANY);
      log.push('server got');
      p.sendnb(m.source, { type: 0 });
    });
    spawn(21, 'client', async (p) => {
      const r = await p.sendrec(20, { type: 1 });
      log.push(`client got ${r.type}`);
    });
    spawn(22, 'other', async () => {
      log.push('other runs');
      return Promise.resolve();
    });
    expect((await k.run()).reason).toBe('idle');
    expect(log).toEqual(['other runs', 'server got', 'client got 0']);
  });

  it('with nothing of its priority or higher ready, the server runs at once, before a lower priority', async () => {
    const { k, spawn, trace } = bareKernel();
    const log: string[] = [];
    spawn(20, 'server', async (p) => {
      const m = await p.receive(ANY);
      log.push('server got');
      p.sendnb(m.source, { type: 0, echo: m.value });
    });
    spawn(21, 'client', async (p) => {
      const r = await p.sendrec(20, { type: 1, value: 7 });
      log.push(`client got ${String(r.echo)}`);
    });
    spawn(
      22,
      'low',
      async () => {
        log.push('low runs');
        return Promise.resolve();
      },
      undefined,
      7,
    );
    expect((await k.run()).reason).toBe('idle');
    expect(log).toEqual(['server got', 'client got 7', 'low runs']);
    const ipc = trace
      .filter((e) => e.kind === 'ipc')
      .map((e) => (e.kind === 'ipc' ? `${e.op} ${e.from}>${e.to}` : ''));
    expect(ipc).toEqual(['send 21>20', 'send 20>21']);
  });
});

describe('Scheduler.nextIfQueued', () => {
  it('is true only when nothing of that priority or higher is ready, and never with a chooser', () => {
    const s = new Scheduler(null);
    expect(s.nextIfQueued(4)).toBe(true);
    const p = new KProc(1, makeEndpoint(0, 1), makeUserPriv(), new Tlb(4));
    p.priority = 4;
    s.enqueue(p);
    expect([s.nextIfQueued(3), s.nextIfQueued(4), s.nextIfQueued(5), s.nextIfQueued(15)]).toEqual([
      true,
      false,
      false,
      false,
    ]);
    s.dequeue(p);
    expect(s.nextIfQueued(15)).toBe(true);
    expect(new Scheduler(() => 0).nextIfQueued(0)).toBe(false);
  });
});
