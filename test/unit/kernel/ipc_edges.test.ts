// IPC (src/kernel/ipc.ts) at its edges: who may send to whom ('system', a list with -1, user processes), the
// special endpoints SELF, ANY and NONE, what a receive takes first, sendrec's failures, senda's queue limit,
// notifications to a process in sendrec, deadlock chains, and what a process's death does to the others.
import { describe, expect, it } from 'vitest';
import { bareKernel } from '../../helpers/bare.ts';
import type { Bare } from '../../helpers/bare.ts';
import { ANY, CLOCK, NONE, SELF, makeEndpoint } from '../../../src/include/endpoint.ts';
import {
  ECALLDENIED,
  EDEADSRCDST,
  EINVAL,
  ELOCKED,
  ENOMEM,
  ENOTREADY,
  OK,
} from '../../../src/include/errno.ts';
import { NOTIFY_MESSAGE } from '../../../src/include/com.ts';
import type { PrivSpec } from '../../../src/include/priv.ts';
import { makeSystemPriv } from '../../../src/kernel/priv.ts';
import { RTS } from '../../../src/kernel/proc.ts';
import { Proc, toProgram } from '../../../src/libsys/proc.ts';
import type { Program } from '../../../src/libsys/proc.ts';

const spec = (ipcTo: PrivSpec['ipcTo']): PrivSpec => ({ ipcTo, kernelCalls: [], vmCalls: [] });

/** A user process (the shared user priv: IPC to system processes only) in `slot`. */
function spawnUser(b: Bare, slot: number, main: Program): Proc {
  const kp = b.k.createProcess({ slot, name: `u${slot}`, program: toProgram(b.k, main), priority: 4 });
  return new Proc(b.k, kp);
}

/** The 'ipc' events of the trace as `op from→to mtype result`. */
function ipcLog(b: Bare): string[] {
  return b.trace.flatMap((e) =>
    e.kind === 'ipc' ? [`${e.op} ${e.from}→${e.to} ${e.mtype} ${e.result}`] : [],
  );
}

describe('who may send to whom', () => {
  it("'system' reaches system processes only; a list reaches its slots, and with -1 every system process", async () => {
    const b = bareKernel();
    const res: unknown[] = [];
    b.spawn(20, 'sys', async (p) => {
      for (;;) await p.receive(ANY);
    });
    const user = spawnUser(b, 21, async (p) => {
      for (;;) await p.receive(ANY);
    }).kp.endpoint;
    // A process in a kernel task's slot (not a system priv): anyone may send to it.
    const taskMain: Program = async (p) => {
      for (;;) await p.receive(ANY);
    };
    const task = b.k.createProcess({
      slot: -4,
      name: 'task',
      program: toProgram(b.k, taskMain),
      generation: 0,
    }).endpoint;
    b.spawn(
      22,
      'to-system',
      async (p) => {
        res.push('system', await p.notify(20), await p.notify(user));
      },
      spec('system'),
    );
    b.spawn(
      23,
      'to-list',
      async (p) => {
        res.push('list', await p.notify(20), await p.notify(user), await p.senda(user, { type: 1 }));
      },
      spec([21]),
    );
    b.spawn(
      24,
      'to-minus-one',
      async (p) => {
        res.push('-1', await p.notify(20), await p.notify(user), await p.send(user, { type: 1 }));
      },
      spec([-1]),
    );
    spawnUser(b, 25, async (p) => {
      res.push('user', await p.notify(20), await p.notify(user), await p.notify(task));
    });
    await b.k.run();
    expect(res).toEqual([
      'system',
      OK,
      ECALLDENIED,
      'list',
      ECALLDENIED,
      OK,
      OK,
      '-1',
      OK,
      ECALLDENIED,
      ECALLDENIED,
      'user',
      OK,
      ECALLDENIED,
      OK,
    ]);
  });
});

describe('special endpoints', () => {
  it('SELF names the caller: a send or sendrec to it is EINVAL, as to ANY or NONE', async () => {
    const b = bareKernel();
    const res: unknown[] = [];
    b.spawn(20, 'a', async (p) => {
      res.push(await p.send(SELF, { type: 1 }), await p.send(NONE, { type: 1 }), p.sendnb(SELF, { type: 1 }));
      res.push(p.sendnb(ANY, { type: 1 }), p.sendnb(NONE, { type: 1 }));
      const r = await p.sendrec(SELF, { type: 1 });
      res.push([r.type, r.source, r.ipcError]);
      const n = await p.sendrec(NONE, { type: 1 });
      res.push([n.type, n.source]);
      res.push(await p.notify(ANY), await p.senda(NONE, { type: 2 }));
    });
    await b.k.run();
    expect(res).toEqual([
      EINVAL,
      EINVAL,
      EINVAL,
      EINVAL,
      EINVAL,
      [EINVAL, SELF, true],
      [EINVAL, NONE],
      EINVAL,
      EINVAL,
    ]);
    expect(ipcLog(b)).toContain(`send 20→${SELF} 1 ${EINVAL}`);
  });

  it('a notification or senda to SELF waits for the caller own receive, from SELF or ANY', async () => {
    const b = bareKernel();
    const got: unknown[] = [];
    b.spawn(20, 'a', async (p) => {
      got.push(await p.notify(SELF), await p.senda(SELF, { type: 9, v: 'mine' }));
      const n = await p.receive(SELF);
      const m = await p.receive(ANY);
      got.push([n.type, n.source], [m.type, m.source, m.v]);
    });
    await b.k.run();
    expect(got).toEqual([OK, OK, [NOTIFY_MESSAGE, 20], [9, 20, 'mine']]);
  });

  it('a receive from a dead process fails at once; from a kernel task it waits', async () => {
    const b = bareKernel();
    const got: unknown[] = [];
    b.spawn(21, 'short', async () => 0);
    b.spawn(20, 'a', async (p) => {
      await p.sleep(1);
      const m = await p.receive(21);
      got.push([m.type, m.source, m.ipcError]);
      const s = await p.receive(makeEndpoint(2, 30));
      got.push(s.type);
      got.push(await p.setAlarm(5));
      const c = await p.receive(CLOCK);
      got.push([c.type, c.source]);
    });
    await b.k.run();
    expect(got).toEqual([[EDEADSRCDST, 21, true], EDEADSRCDST, OK, [NOTIFY_MESSAGE, CLOCK]]);
  });
});

describe('what a receive takes', () => {
  it('notifications first, lowest slot first, then queued senders in order, then senda messages; each by source', async () => {
    const b = bareKernel();
    const got: string[] = [];
    b.spawn(20, 'sink', async (p) => {
      await p.sleep(10);
      const take = async (src: number) => {
        const m = await p.receive(src);
        got.push(`${m.type === NOTIFY_MESSAGE ? 'notify' : String(m.v)}/${m.source}`);
      };
      // From one source: its notification first, then its queued send, then its senda messages.
      await take(23);
      await take(23); // past 22's queued send
      await take(22);
      await take(22);
      await take(ANY);
      await take(ANY);
    });
    b.spawn(24, 'n24', async (p) => {
      await p.notify(20);
    });
    b.spawn(22, 's22', async (p) => {
      await p.notify(20);
      await p.send(20, { type: 1, v: 'send' });
    });
    b.spawn(23, 'a23', async (p) => {
      await p.senda(20, { type: 1, v: 'senda' });
      await p.senda(20, { type: 1, v: 'senda2' });
      await p.notify(20);
      await p.sleep(100); // alive: a dead sender's senda messages vanish
    });
    await b.k.run();
    expect(got).toEqual(['notify/23', 'senda/23', 'notify/22', 'send/22', 'notify/24', 'senda2/23']);
  });

  it('pending notifications are taken lowest slot first, whatever their generation and order', async () => {
    const b = bareKernel();
    const got: number[] = [];
    b.spawn(20, 'sink', async (p) => {
      await p.sleep(10);
      for (let i = 0; i < 4; i++) got.push((await p.receive(ANY)).source);
    });
    const notifier = async (p: Proc) => {
      await p.notify(20);
      await p.sleep(100);
    };
    b.spawn(25, 'n25', notifier);
    b.spawn(23, 'n23', notifier);
    const user = spawnUser(b, 21, notifier).kp.endpoint; // generation 1: 36558 + 21
    b.spawn(24, 'n24', notifier);
    await b.k.run();
    expect(user).toBe(makeEndpoint(1, 21));
    expect(got).toEqual([user, 23, 24, 25]);
  });

  it('a notification waits while its target is in sendrec, and is delivered at once to a plain receive', async () => {
    const b = bareKernel();
    const got: string[] = [];
    b.spawn(20, 'server', async (p) => {
      const m = await p.receive(ANY);
      await p.notify(21); // 21 waits for the reply only: the notification is kept
      await p.send(m.source, { type: OK });
      await p.sleep(1);
      await p.notify(21); // 21 waits in receive: delivered now
    });
    b.spawn(21, 'client', async (p) => {
      const r = await p.sendrec(20, { type: 7 });
      got.push(`reply ${r.type}`);
      const n1 = await p.receive(ANY);
      const n2 = await p.receive(ANY);
      got.push(`${n1.type}/${n1.source}`, `${n2.type}/${n2.source}`);
    });
    await b.k.run();
    expect(got).toEqual([`reply ${OK}`, `${NOTIFY_MESSAGE}/20`, `${NOTIFY_MESSAGE}/20`]);
  });

  it('a sendrec whose reply is already queued, from a sender or a senda, takes it at once', async () => {
    const b = bareKernel();
    const got: string[] = [];
    b.spawn(20, 'server', async (p) => {
      await p.senda(21, { type: 5, v: 'early' });
      const m = await p.receive(ANY);
      got.push(`server got ${m.type}`);
    });
    b.spawn(21, 'client', async (p) => {
      await p.sleep(1);
      const r = await p.sendrec(20, { type: 7 });
      got.push(`client got ${r.type} ${String(r.v)} from ${r.source}`);
    });
    await b.k.run();
    expect(got).toEqual(['client got 5 early from 20', 'server got 7']);
  });
});

describe('sendrec and senda failures', () => {
  it('a sendrec refused by privilege comes back as an error message; one whose peer dies while it waits too', async () => {
    const b = bareKernel();
    const got: unknown[] = [];
    const victim = b.spawn(20, 'victim', async (p) => {
      await p.sleep(100);
    });
    b.spawn(
      22,
      'limited',
      async (p) => {
        const r = await p.sendrec(20, { type: 1 });
        got.push([r.type, r.source, r.ipcError]);
      },
      spec([21]),
    );
    b.spawn(21, 'a', async (p) => {
      const r = await p.sendrec(20, { type: 1 });
      got.push([r.type, r.source, r.ipcError]);
    });
    await b.k.run({ maxSteps: 4 });
    b.k.terminate(victim.kp, { code: 0, signal: 9 });
    await b.k.run();
    expect(got).toEqual([
      [ECALLDENIED, 20, true],
      [EDEADSRCDST, 20, true],
    ]);
  });

  it('a sendrec that waited to send gets the reply sent after its message was taken', async () => {
    const b = bareKernel();
    const got: unknown[] = [];
    b.spawn(20, 'server', async (p) => {
      await p.sleep(5);
      const m = await p.receive(ANY);
      await p.sleep(5);
      await p.send(m.source, { type: OK, answer: Number(m.q) * 2 });
    });
    b.spawn(21, 'client', async (p) => {
      const r = await p.sendrec(20, { type: 1, q: 21 });
      got.push([r.type, r.source, r.answer]);
    });
    await b.k.run();
    expect(got).toEqual([[OK, 20, 42]]);
  });

  it('senda queues up to maxAsyncMessages messages, then ENOMEM; a waiting receiver gets one at once', async () => {
    const b = bareKernel({ maxAsyncMessages: 2 });
    const got: unknown[] = [];
    b.spawn(21, 'sink', async (p) => {
      await p.sleep(10);
      for (let i = 0; i < 3; i++) got.push((await p.receive(ANY)).v);
    });
    b.spawn(20, 'src', async (p) => {
      got.push(await p.senda(21, { type: 1, v: 1 }), await p.senda(21, { type: 1, v: 2 }));
      got.push(await p.senda(21, { type: 1, v: 3 }));
      await p.sleep(20);
      got.push(await p.senda(21, { type: 1, v: 4 }));
    });
    await b.k.run();
    expect(got).toEqual([OK, OK, ENOMEM, 1, 2, OK, 4]);
    expect(ipcLog(b)).toContain(`senda 20→21 1 ${ENOMEM}`);
  });
});

describe('deadlock detection', () => {
  it('ELOCKED for the send that closes a cycle of three', async () => {
    const b = bareKernel();
    const res: string[] = [];
    b.spawn(20, 'a', async (p) => {
      res.push(`a ${await p.send(21, { type: 1 })}`);
    });
    b.spawn(21, 'b', async (p) => {
      res.push(`b ${await p.send(22, { type: 1 })}`);
    });
    b.spawn(22, 'c', async (p) => {
      res.push(`c ${await p.send(20, { type: 1 })}`);
      await p.receive(ANY);
    });
    await b.k.run();
    // c closes the cycle and gets ELOCKED; its receive then takes b's message; a's destination b then ends.
    expect(res).toEqual([`c ${ELOCKED}`, `b ${OK}`, `a ${EDEADSRCDST}`]);
  });
});

describe('a process that dies', () => {
  it('wakes its senders and receivers with EDEADSRCDST, leaves the queue it sent to, and its senda messages vanish', async () => {
    const b = bareKernel();
    const got: unknown[] = [];
    const victim = b.spawn(20, 'victim', async (p) => {
      await p.senda(23, { type: 1, v: 'from victim' });
      await p.send(23, { type: 2, v: 'blocked send' });
    });
    b.spawn(21, 'sender', async (p) => {
      got.push(`sender ${await p.send(20, { type: 3 })}`);
    });
    b.spawn(22, 'receiver', async (p) => {
      const m = await p.receive(20);
      got.push(`receiver ${m.type} ${String(m.ipcError)}`);
    });
    b.spawn(23, 'sink', async (p) => {
      await p.senda(23, { type: 4, v: 'own' });
      await p.sleep(10);
      const m = await p.receive(ANY);
      got.push(`sink ${String(m.v)}`);
      got.push(`queued ${p.kp.callers.length}`);
    });
    await b.k.run({ until: () => victim.kp.sendTo !== null && b.k.procAt(21).sendTo !== null });
    expect(victim.kp.sendTo).toBe(23);
    b.k.terminate(victim.kp, { code: 0, signal: 9 });
    await b.k.run();
    expect(got.sort()).toEqual(
      [`receiver ${EDEADSRCDST} true`, `sender ${EDEADSRCDST}`, 'queued 0', 'sink own'].sort(),
    );
  });
});

describe('a process that dies while others wait for it', () => {
  it('a receive from it and a sendrec waiting for its reply end with EDEADSRCDST, marked as IPC errors', async () => {
    const b = bareKernel();
    const got: unknown[] = [];
    const server = b.spawn(20, 'server', async (p) => {
      await p.receive(21); // takes the client's request
      await p.receive(22); // and never replies: 22 never sends
    });
    b.spawn(21, 'client', async (p) => {
      const r = await p.sendrec(20, { type: 1 });
      got.push(['client', r.type, r.source, r.ipcError]);
    });
    b.spawn(22, 'receiver', async (p) => {
      const m = await p.receive(20);
      got.push(['receiver', m.type, m.source, m.ipcError]);
    });
    expect((await b.k.run()).reason).toBe('idle');
    expect(got).toEqual([]);
    b.k.terminate(server.kp, { code: 0, signal: 9 });
    await b.k.run();
    expect(got).toEqual([
      ['client', EDEADSRCDST, 20, true],
      ['receiver', EDEADSRCDST, 20, true],
    ]);
  });
});

describe('what the trace and the counters say', () => {
  it('every outcome of sendnb, send, notify and senda is traced with its operation and result, and counted', async () => {
    const b = bareKernel({ maxAsyncMessages: 1 });
    const limited = spec([21, 22, 25]);
    b.spawn(21, 'rx', async (p) => {
      for (;;) {
        const m = await p.receive(ANY);
        if (m.type === 7) p.sendnb(m.source, { type: OK });
      }
    });
    b.spawn(22, 'sleeper', async (p) => {
      await p.sleep(1000);
      await p.receive(ANY);
      await p.receive(ANY);
    });
    b.spawn(24, 'denied', async (p) => {
      for (;;) await p.receive(ANY);
    });
    // 25 blocks sending to 20 before 20 runs; 20's send to 25 then closes a cycle.
    b.spawn(25, 'peer', async (p) => {
      await p.send(20, { type: 5 });
      await p.sleep(2000);
    });
    const res: unknown[] = [];
    b.spawn(
      20,
      'a',
      async (p) => {
        res.push(p.sendnb(30, { type: 1 }), p.sendnb(SELF, { type: 1 }), p.sendnb(24, { type: 1 }));
        res.push(p.sendnb(22, { type: 1 }), p.sendnb(21, { type: 1 }));
        res.push(await p.send(30, { type: 2 }), await p.send(24, { type: 2 }), await p.send(25, { type: 2 }));
        res.push(await p.notify(30), await p.notify(24), await p.notify(22));
        res.push(
          await p.senda(30, { type: 3 }),
          await p.senda(24, { type: 3 }),
          await p.senda(22, { type: 3 }),
        );
        res.push(await p.senda(22, { type: 3 }));
        res.push((await p.receive(ANY)).source);
        await p.sleep(1);
        res.push(await p.senda(21, { type: 3 }));
        await p.sleep(1);
        res.push(await p.send(21, { type: 2 }));
        await p.sleep(1);
        res.push((await p.sendrec(21, { type: 7 })).type);
        await p.sleep(5000); // alive: a dead sender's senda messages vanish
      },
      limited,
    );
    await b.k.run();
    expect(res).toEqual([
      EDEADSRCDST,
      EINVAL,
      ECALLDENIED,
      ENOTREADY,
      OK,
      EDEADSRCDST,
      ECALLDENIED,
      ELOCKED,
      EDEADSRCDST,
      ECALLDENIED,
      OK,
      EDEADSRCDST,
      ECALLDENIED,
      OK,
      ENOMEM,
      25,
      OK,
      OK,
      OK,
    ]);
    const N = NOTIFY_MESSAGE;
    expect(ipcLog(b)).toEqual([
      `send 25→20 5 ${OK}`, // 25 blocks: 20 does not receive yet
      `send 20→30 1 ${EDEADSRCDST}`,
      `send 20→${SELF} 1 ${EINVAL}`,
      `send 20→24 1 ${ECALLDENIED}`,
      `send 20→22 1 ${ENOTREADY}`,
      `send 20→21 1 ${OK}`,
      `send 20→30 2 ${EDEADSRCDST}`,
      `send 20→24 2 ${ECALLDENIED}`,
      `send 20→25 2 ${ELOCKED}`,
      `notify 20→30 ${N} ${EDEADSRCDST}`,
      `notify 20→24 ${N} ${ECALLDENIED}`,
      `notify 20→22 ${N} ${OK}`,
      `senda 20→30 3 ${EDEADSRCDST}`,
      `senda 20→24 3 ${ECALLDENIED}`,
      `senda 20→22 3 ${OK}`, // queued
      `senda 20→22 3 ${ENOMEM}`,
      `receive 25→20 5 ${OK}`, // 25's queued send
      `notify ${CLOCK}→20 ${N} ${OK}`,
      `senda 20→21 3 ${OK}`, // 21 waits: delivered at once
      `notify ${CLOCK}→20 ${N} ${OK}`,
      `send 20→21 2 ${OK}`,
      `notify ${CLOCK}→20 ${N} ${OK}`,
      `send 20→21 7 ${OK}`, // the sendrec's rendezvous
      `send 21→20 ${OK} ${OK}`, // its reply, by sendnb
      `notify ${CLOCK}→22 ${N} ${OK}`,
      `receive 20→22 ${N} ${OK}`, // the pending notification
      `receive 20→22 3 ${OK}`, // then the senda message
      `notify ${CLOCK}→25 ${N} ${OK}`,
      `notify ${CLOCK}→20 ${N} ${OK}`,
    ]);
    expect(b.k.counts.ipc).toBe(ipcLog(b).length);
  });

  it('an IPC event starts at the kernel entry of the call (t0), before the trap and the message are charged', async () => {
    const b = bareKernel();
    const before: number[] = [];
    b.spawn(20, 'rx', async (p) => {
      for (;;) await p.receive(ANY);
    });
    b.spawn(21, 'a', async (p) => {
      before.push(p.kernel.clock.cycles);
      await p.notify(20);
      before.push(p.kernel.clock.cycles);
      await p.send(20, { type: 1 });
    });
    await b.k.run();
    const t0 = b.trace.flatMap((e) =>
      e.kind === 'ipc' && e.from === 21 && e.op !== 'receive' ? [e.t0] : [],
    );
    expect(t0).toEqual(before);
    expect(before[1]).toBeGreaterThan(before[0] ?? 0);
  });
});

describe('deadlock detection through receivers', () => {
  it('a process in sendrec whose destination sends to it: ELOCKED, and the sendrec still gets its reply', async () => {
    const b = bareKernel();
    const got: string[] = [];
    b.spawn(21, 'b', async (p) => {
      await p.sleep(1); // 20's sendrec finds 21 not receiving: 20 waits with SENDING and RECEIVING
      got.push(`b send ${await p.send(20, { type: 5 })}`);
      const m = await p.receive(ANY);
      got.push(`b got ${m.type} from ${m.source}`);
      await p.send(m.source, { type: OK, answer: 1 });
    });
    b.spawn(20, 'a', async (p) => {
      const r = await p.sendrec(21, { type: 7 });
      got.push(`a reply ${r.type} ${String(r.answer)}`);
    });
    await b.k.run();
    expect(got).toEqual([`b send ${ELOCKED}`, 'b got 7 from 20', `a reply ${OK} 1`]);
  });

  it('a receive from one source is not a receive from another: its sender waits', async () => {
    const b = bareKernel();
    const got: string[] = [];
    b.spawn(20, 'a', async (p) => {
      const m1 = await p.receive(21);
      const m2 = await p.receive(ANY);
      got.push(`${m1.type}/${m1.source}`, `${m2.type}/${m2.source}`);
    });
    b.spawn(22, 'other', async (p) => {
      got.push(`other ${await p.send(20, { type: 2 })}`);
    });
    b.spawn(21, 'awaited', async (p) => {
      await p.sleep(1);
      await p.send(20, { type: 1 });
    });
    await b.k.run();
    expect(got).toEqual(['1/21', '2/22', `other ${OK}`]);
  });

  it('ELOCKED for a cycle of three through a process receiving from one source', async () => {
    const b = bareKernel();
    const got: string[] = [];
    b.spawn(20, 'a', async (p) => {
      const m = await p.receive(21);
      got.push(`a got ${m.type} from ${m.source}`);
    });
    b.spawn(21, 'b', async (p) => {
      got.push(`b ${await p.send(22, { type: 1 })}`);
      await p.send(20, { type: 2 });
    });
    b.spawn(22, 'c', async (p) => {
      await p.sleep(1);
      // 22 → 20, which receives from 21, which sends to 22: a cycle.
      got.push(`c ${await p.send(20, { type: 3 })}`);
      const m = await p.receive(ANY);
      got.push(`c got ${m.type} from ${m.source}`);
    });
    await b.k.run();
    expect(got).toEqual([`c ${ELOCKED}`, 'c got 1 from 21', `b ${OK}`, 'a got 2 from 21']);
  });

  it('a chain that loops without the caller is no deadlock: the send waits (the walk is bounded)', async () => {
    const b = bareKernel({ nrProcs: 30 });
    const got: string[] = [];
    const srv = b.spawn(21, 'srv', async (p) => {
      await p.receive(ANY);
      await p.receive(20); // 20 waits for 21's reply, 21 for a message from 20
    });
    b.spawn(20, 'client', async (p) => {
      const r = await p.sendrec(21, { type: 1 });
      got.push(`client ${r.type}`);
      const m = await p.receive(ANY);
      got.push(`client got ${m.type} from ${m.source}`);
    });
    b.spawn(22, 'third', async (p) => {
      await p.sleep(1);
      got.push(`third ${await p.send(20, { type: 3 })}`);
    });
    expect((await b.k.run()).reason).toBe('idle');
    expect(b.k.procAt(22).sendTo).toBe(20);
    b.k.terminate(srv.kp, { code: 0, signal: 9 });
    await b.k.run();
    expect(got).toEqual([`client ${EDEADSRCDST}`, 'client got 3 from 22', `third ${OK}`]);
  });

  it('a receive from endpoint 0 when slot 0 is free fails at once, as from any dead endpoint', async () => {
    const b = bareKernel();
    const got: unknown[] = [];
    b.spawn(20, 'a', async (p) => {
      const m = await p.receive(0);
      got.push([m.type, m.source, m.ipcError]);
    });
    await b.k.run();
    expect(got).toEqual([[EDEADSRCDST, 0, true]]);
  });
});

describe('privileges at slot 0 and in task slots', () => {
  it('slot 0 is a process slot like any other, a task slot is never restricted; sendrec to a waiting server checks too', async () => {
    const b = bareKernel();
    const res: unknown[] = [];
    const receiver: Program = async (p) => {
      for (;;) await p.receive(ANY);
    };
    b.spawn(22, 'srv', receiver);
    b.spawn(23, 'srv2', receiver);
    b.spawn(
      0,
      'at0',
      async (p) => {
        res.push('at0', await p.notify(22), await p.notify(21));
        await receiver(p);
      },
      spec([21]),
    );
    b.spawn(
      21,
      'to0',
      async (p) => {
        await p.sleep(1);
        res.push('to0', await p.notify(0), await p.notify(23));
      },
      spec([23]),
    );
    b.spawn(
      24,
      'limited',
      async (p) => {
        const r = await p.sendrec(22, { type: 1 }); // 22 waits in receive: the fast path checks the privilege too
        res.push('sendrec', r.type, r.ipcError, p.sendnb(22, { type: 1 }));
      },
      spec([23]),
    );
    b.k.createProcess({
      slot: -2,
      name: 'task',
      program: toProgram(b.k, async (p) => {
        res.push('task', await p.notify(22));
      }),
      priv: makeSystemPriv(b.k.newPrivId(), spec([])),
      generation: 0,
    });
    await b.k.run();
    expect(res).toEqual([
      'at0',
      ECALLDENIED,
      OK,
      'sendrec',
      ECALLDENIED,
      true,
      ECALLDENIED,
      'task',
      OK,
      'to0',
      ECALLDENIED,
      OK,
    ]);
  });
});

describe('what a sendrec takes as its reply', () => {
  it('neither a pending notification from its destination nor a senda message from another process', async () => {
    const b = bareKernel();
    const got: string[] = [];
    b.spawn(20, 'server', async (p) => {
      await p.notify(21);
      const m = await p.receive(ANY);
      await p.send(m.source, { type: OK, answer: 42 });
      await p.sleep(100);
    });
    b.spawn(22, 'other', async (p) => {
      await p.senda(21, { type: 9 });
      await p.sleep(100);
    });
    b.spawn(21, 'client', async (p) => {
      await p.sleep(1);
      const r = await p.sendrec(20, { type: 7 });
      got.push(`reply ${r.type}/${r.source} ${String(r.answer)}`);
      for (let i = 0; i < 2; i++) {
        const m = await p.receive(ANY);
        got.push(`${m.type}/${m.source}`);
      }
    });
    await b.k.run();
    expect(got).toEqual([`reply ${OK}/20 42`, `${NOTIFY_MESSAGE}/20`, '9/22']);
  });
});

describe('a reply by senda', () => {
  it('reaches a client waiting in sendrec at once, as a send would', async () => {
    const b = bareKernel();
    const got: string[] = [];
    b.spawn(20, 'server', async (p) => {
      const m = await p.receive(ANY);
      got.push(`senda ${await p.senda(m.source, { type: OK, answer: 42 })}`);
      got.push(`queued ${b.k.procAt(21).asyncQueue.length}`);
    });
    b.spawn(21, 'client', async (p) => {
      const r = await p.sendrec(20, { type: 7 });
      got.push(`reply ${r.type}/${r.source} ${String(r.answer)}`);
    });
    await b.k.run();
    expect(got).toEqual([`senda ${OK}`, 'queued 0', `reply ${OK}/20 42`]);
  });
});

describe('notifications of one slot', () => {
  it('a dead process keeps its pending notification; its successor in the slot notifies after it, and is taken after it', async () => {
    const b = bareKernel();
    const got: number[] = [];
    b.spawn(20, 'sink', async (p) => {
      await p.sleep(10);
      for (let i = 0; i < 3; i++) got.push((await p.receive(ANY)).source);
    });
    const first = spawnUser(b, 30, async (p) => {
      await p.notify(20);
    }).kp.endpoint;
    let second = -1;
    b.spawn(31, 'spawner', async (p) => {
      await p.sleep(1); // 30 has ended
      second = spawnUser(b, 30, async (q) => {
        await q.notify(20);
        await q.sleep(100);
      }).kp.endpoint;
      await p.notify(20);
      await p.sleep(100);
    });
    await b.k.run();
    expect([first, second]).toEqual([makeEndpoint(1, 30), makeEndpoint(2, 30)]);
    expect(got).toEqual([first, second, 31]);
  });
});

describe('a process that dies in a queue, or waiting for itself', () => {
  it('only the dead sender leaves the queue of its destination: the other senders stay in order', async () => {
    const b = bareKernel();
    const got: string[] = [];
    b.spawn(20, 'sink', async (p) => {
      await p.sleep(10);
      const m = await p.receive(ANY);
      got.push(`${m.type}/${m.source}`);
    });
    const dying = b.spawn(21, 'dying', async (p) => {
      await p.send(20, { type: 1 });
    });
    b.spawn(22, 'staying', async (p) => {
      got.push(`staying ${await p.send(20, { type: 2 })}`);
    });
    await b.k.run({ until: () => b.k.procAt(22).sendTo !== null });
    b.k.terminate(dying.kp, { code: 0, signal: 9 });
    await b.k.run();
    expect(got).toEqual(['2/22', `staying ${OK}`]);
  });

  it('a process blocked in a receive from itself is not woken by its own death', async () => {
    const b = bareKernel();
    const got: string[] = [];
    const self = b.spawn(20, 'self', async (p) => {
      await p.receive(SELF);
      got.push('self woke');
    });
    b.spawn(21, 'other', async (p) => {
      await p.sleep(1);
      got.push('other ran');
    });
    await b.k.run({ until: () => (self.kp.rts & RTS.RECEIVING) !== 0 });
    b.k.terminate(self.kp, { code: 0, signal: 9 });
    expect((await b.k.run()).reason).toBe('idle');
    expect(got).toEqual(['other ran']);
  });
});

describe('IPC calls preempted at their kernel entry', () => {
  it('with a quantum of one entry, every call is made after the switch and answers as usual', async () => {
    const b = bareKernel({ quantum: 1 });
    const got: unknown[] = [];
    b.spawn(20, 'server', async (p) => {
      for (let i = 0; i < 4; i++) {
        const m = await p.receive(ANY);
        got.push(`server ${m.type}/${m.source}`);
        if (m.type === 7) await p.send(m.source, { type: OK, answer: 42 });
      }
      got.push(`server notify ${await p.notify(21)}`);
    });
    b.spawn(21, 'client', async (p) => {
      got.push(`send ${await p.send(20, { type: 1 })}`);
      got.push(`senda ${await p.senda(20, { type: 2 })}`);
      got.push(`notify ${await p.notify(20)}`);
      const r = await p.sendrec(20, { type: 7 });
      got.push(`reply ${r.type} ${String(r.answer)}`);
      const n = await p.receive(ANY);
      got.push(`client ${n.type}/${n.source}`);
    });
    b.spawn(22, 'spinner', async (p) => {
      for (let i = 0; i < 8; i++) await p.kernelCallResult({ type: 0 });
    });
    expect((await b.k.run()).reason).toBe('idle');
    // Whether the senda and the notification wait for the server's receive depends on the switches: any order.
    expect(got.filter((g) => String(g).startsWith('server')).sort()).toEqual(
      [
        'server 1/21',
        `server ${NOTIFY_MESSAGE}/21`,
        'server 2/21',
        'server 7/21',
        `server notify ${OK}`,
      ].sort(),
    );
    expect(got.filter((g) => !String(g).startsWith('server'))).toEqual([
      `send ${OK}`,
      `senda ${OK}`,
      `notify ${OK}`,
      `reply ${OK} 42`,
      `client ${NOTIFY_MESSAGE}/20`,
    ]);
  });
});
