import { describe, expect, it } from 'vitest';
import { bareKernel } from '../../helpers/bare.ts';
import { ANY, makeEndpoint } from '../../../src/include/endpoint.ts';
import { ECALLDENIED, EDEADSRCDST, EINVAL, ELOCKED, ENOTREADY, OK } from '../../../src/include/errno.ts';
import { NOTIFY_MESSAGE } from '../../../src/include/com.ts';
import type { Message, Payload } from '../../../src/include/ipc.ts';

describe('IPC', () => {
  it('rendezvous: send blocks until the receiver receives, in order', async () => {
    const { k, spawn } = bareKernel();
    const log: string[] = [];
    spawn(20, 'server', async (p) => {
      for (let i = 0; i < 3; i++) {
        const m = await p.receive(ANY);
        log.push(`got ${String(m.value)} from ${m.source}`);
      }
    });
    spawn(21, 'a', async (p) => {
      log.push(`a sent ${await p.send(20, { type: 1, value: 'a1' })}`);
      log.push(`a sent ${await p.send(20, { type: 1, value: 'a2' })}`);
    });
    spawn(22, 'b', async (p) => {
      log.push(`b sent ${await p.send(20, { type: 1, value: 'b1' })}`);
    });
    const r = await k.run();
    expect(r.reason).toBe('idle');
    // a1 is delivered at once and a goes on; a2 and b1 queue in the order they were sent.
    expect(log.filter((l) => l.startsWith('got'))).toEqual(['got a1 from 21', 'got a2 from 21', 'got b1 from 22']);
    expect(log).toContain('a sent 0');
  });

  it('copy on delivery: a sender reusing its message object never changes what a receiver got', async () => {
    const { k, spawn } = bareKernel();
    const got: Message[] = [];
    const sent: Payload[] = [];
    spawn(20, 'server', async (p) => {
      got.push(await p.receive(ANY));
      await p.sleep(10);
      got.push(await p.receive(ANY));
      const req = await p.receive(ANY);
      got.push(req);
      const reply: Payload = { type: OK, answer: 1 };
      sent.push(reply);
      await p.send(req.source, reply);
      reply.answer = 2;
      reply.type = -1;
    });
    spawn(21, 'client', async (p) => {
      const m: Payload = { type: 1, value: 'a' };
      sent.push(m);
      // The server waits: delivered at once. Then it sleeps: the second send waits in the queue.
      expect(await p.send(20, m)).toBe(OK);
      m.value = 'b';
      expect(await p.send(20, m)).toBe(OK);
      m.value = 'c';
      m.type = 2;
      const r = await p.sendrec(20, m);
      m.value = 'd';
      got.push(r);
      await p.sleep(1);
      got.push(r);
    });
    await k.run();
    expect(got.map((m) => [m.type, m.source, m.value ?? m.answer])).toEqual([
      [1, 21, 'a'],
      [1, 21, 'b'],
      [2, 21, 'c'],
      [OK, 20, 1],
      [OK, 20, 1],
    ]);
    // The kernel stamps `source` on its copies only; no delivered message is a sender's object.
    for (const m of sent) expect('source' in m).toBe(false);
    for (const m of got) expect(sent).not.toContain(m);
  });

  it('sendrec gets the reply; notifications wait until after it', async () => {
    const { k, spawn } = bareKernel();
    const got: number[] = [];
    spawn(20, 'server', async (p) => {
      const m = await p.receive(ANY);
      await p.notify(21);
      await p.send(m.source, { type: OK, answer: 42 });
    });
    spawn(21, 'client', async (p) => {
      const r = await p.sendrec(20, { type: 7 });
      got.push(Number(r.answer));
      const n = await p.receive(ANY);
      got.push(n.type, n.source);
    });
    await k.run();
    expect(got).toEqual([42, NOTIFY_MESSAGE, 20]);
  });

  it('sendrec by a process with a sender queued on it takes its reply only from its destination', async () => {
    const { k, spawn } = bareKernel();
    const got: unknown[] = [];
    spawn(20, 'server', async (p) => {
      const m = await p.receive(ANY);
      got.push(`server got ${m.type} from ${m.source}`);
      await p.send(m.source, { type: OK, answer: 42 });
    });
    // 22 runs before 21 and blocks sending to it: 21's sendrec then starts with a sender queued on it.
    spawn(22, 'other', async (p) => {
      got.push(`other sent ${await p.send(21, { type: 5 })}`);
    });
    spawn(21, 'client', async (p) => {
      const r = await p.sendrec(20, { type: 7 });
      got.push(`reply ${r.type} from ${r.source}: ${String(r.answer)}`);
      const n = await p.receive(ANY);
      got.push(`then ${n.type} from ${n.source}`);
    });
    expect((await k.run()).reason).toBe('idle');
    expect(got).toEqual(['server got 7 from 21', 'reply 0 from 20: 42', 'then 5 from 22', 'other sent 0']);
  });

  it('notify coalesces: one pending per sender', async () => {
    const { k, spawn } = bareKernel();
    const got: number[] = [];
    spawn(21, 'sink', async (p) => {
      await p.sleep(10);
      for (;;) {
        const m = await p.receive(ANY);
        got.push(m.source);
      }
    });
    spawn(20, 'src', async (p) => {
      for (let i = 0; i < 5; i++) expect(await p.notify(21)).toBe(OK);
    });
    spawn(22, 'src2', async (p) => {
      await p.notify(21);
    });
    await k.run();
    expect(got).toEqual([20, 22]);
  });

  it('detects a send cycle with ELOCKED', async () => {
    const { k, spawn } = bareKernel();
    const res: number[] = [];
    spawn(20, 'a', async (p) => {
      res.push(await p.send(21, { type: 1 }));
    });
    spawn(21, 'b', async (p) => {
      res.push(await p.send(20, { type: 1 }));
    });
    await k.run();
    expect(res).toContain(ELOCKED);
  });

  it('dead and stale endpoints give EDEADSRCDST; ANY as target EINVAL', async () => {
    const { k, spawn } = bareKernel();
    const res: number[] = [];
    spawn(20, 'short', async () => 0);
    await k.run();
    spawn(21, 'a', async (p) => {
      res.push(await p.send(20, { type: 1 }));
      res.push(await p.send(makeEndpoint(3, 22), { type: 1 }));
      res.push(await p.send(ANY, { type: 1 }));
      res.push((await p.sendrec(20, { type: 1 })).type);
    });
    await k.run();
    expect(res).toEqual([EDEADSRCDST, EDEADSRCDST, EINVAL, EDEADSRCDST]);
  });

  it('a sender blocked on a process that dies is woken with EDEADSRCDST', async () => {
    const { k, spawn } = bareKernel();
    const res: number[] = [];
    const victim = spawn(20, 'victim', async (p) => {
      await p.sleep(100);
    });
    spawn(21, 'a', async (p) => {
      res.push(await p.send(20, { type: 1 }));
    });
    await k.run({ maxSteps: 3 });
    k.terminate(victim.kp, { code: 0, signal: 9 });
    await k.run();
    expect(res).toEqual([EDEADSRCDST]);
  });

  it('privileges: a target outside ipcTo gives ECALLDENIED', async () => {
    const { k, spawn } = bareKernel();
    const res: number[] = [];
    spawn(20, 'server', async (p) => {
      await p.receive(ANY);
    });
    spawn(21, 'limited', async (p) => {
      res.push(await p.send(20, { type: 1 }));
      res.push(await p.notify(20));
    }, { ipcTo: [22], kernelCalls: [], vmCalls: [] });
    await k.run();
    expect(res).toEqual([ECALLDENIED, ECALLDENIED]);
  });

  it('senda does not block and is received later', async () => {
    const { k, spawn } = bareKernel();
    const got: unknown[] = [];
    spawn(21, 'sink', async (p) => {
      await p.sleep(5);
      got.push((await p.receive(ANY)).v);
    });
    spawn(20, 'src', async (p) => {
      got.push(await p.senda(21, { type: 3, v: 'x' }));
      await p.sleep(50);
    });
    await k.run();
    expect(got).toEqual([OK, 'x']);
  });

  it('sendnb delivers only to a waiting receiver, else ENOTREADY, and never blocks', async () => {
    const { k, spawn } = bareKernel();
    const got: unknown[] = [];
    spawn(20, 'server', async (p) => {
      const m = await p.receive(ANY);
      got.push(`server got ${String(m.v)}`);
      got.push(p.sendnb(m.source, { type: OK, v: 'reply' }));
      got.push(p.sendnb(21, { type: OK, v: 'nobody waits' }));
      got.push(p.sendnb(makeEndpoint(7, 30), { type: OK }));
    });
    spawn(21, 'client', async (p) => {
      const r = await p.sendrec(20, { type: 1, v: 'req' });
      got.push(`client got ${String(r.v)}`);
    });
    await k.run();
    expect(got).toEqual(['server got req', OK, ENOTREADY, EDEADSRCDST, 'client got reply']);
  });
});
