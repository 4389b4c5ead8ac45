// What a program sees of src/libsys/proc.ts (Proc) on a booted system: its own memory (bytes, words, strings,
// with their offsets and lengths), the POSIX process calls through PM (fork, wait, kill, exec, getpid, brk,
// exit status), the clock, its library state and its grant bindings.
import { describe, expect, it } from 'vitest';
import { NOTIFY_MESSAGE } from '../../../src/include/com.ts';
import { CLOCK, NONE } from '../../../src/include/endpoint.ts';
import { EAGAIN, ECALLDENIED, ECHILD, ENOTREADY, OK, SIGKILL } from '../../../src/include/errno.ts';
import type { PrivSpec } from '../../../src/include/priv.ts';
import type { Proc, Program } from '../../../src/libsys/proc.ts';
import { createSystem } from '../../../src/sim/system.ts';
import type { System } from '../../../src/sim/system.ts';
import { drivenActor } from '../../helpers/driven.ts';

const ALL: PrivSpec = { ipcTo: 'all', kernelCalls: 'all', vmCalls: 'all' };
const boot = (): Promise<System> => createSystem({ ramBytes: 16 * 1024 * 1024 });

/** Runs `main` as a spawned user program until the system is idle; its exit. */
async function runUser(main: Program, name = 'u'): Promise<{ code: number; signal: number } | null> {
  const sys = await boot();
  const h = sys.spawn(main, { name });
  await sys.run();
  return h.exit;
}

/** Runs `body` in a system service with every privilege, given its mapped buffer; what it returned. */
async function inService<T>(body: (p: Proc, buf: number) => Promise<T>): Promise<T> {
  const sys = await boot();
  const s = await drivenActor(sys, 'S', { priv: ALL });
  return s.do(body);
}

describe('Proc: its own memory', () => {
  it('write and read with offsets and lengths; readInto fills only its window', async () => {
    const got = await inService(async (p, at) => {
      await p.write(at, Uint8Array.of(1, 2, 3, 4, 5, 6), 2, 3);
      await p.write(at + 3, Uint8Array.of(9, 8, 7), 1);
      const whole = await p.read(at, 6);
      const into = new Uint8Array(6).fill(0xee);
      await p.readInto(at, into, 1, 3);
      const tail = new Uint8Array(4).fill(0xee);
      await p.readInto(at + 1, tail, 2);
      return { whole: [...whole], into: [...into], tail: [...tail] };
    });
    expect(got.whole).toEqual([3, 4, 5, 8, 7, 0]);
    expect(got.into).toEqual([0xee, 3, 4, 5, 0xee, 0xee]);
    expect(got.tail).toEqual([0xee, 0xee, 4, 5]);
  });

  it('words are little-endian and unsigned; bytes; a string with its NUL, or cut at max without one', async () => {
    const got = await inService(async (p, at) => {
      await p.writeU32(at, -2);
      const word = await p.readU32(at);
      const bytes = [...(await p.read(at, 4))];
      await p.writeU32(at, 0x04030201);
      const le = [...(await p.read(at, 4))];
      await p.writeU8(at + 8, 0x1ab);
      const b = await p.readU8(at + 8);
      // words and bytes written another way read back as they are (not as the last word or byte written)
      await p.write(at + 12, Uint8Array.of(9, 8, 7, 6));
      const other = [await p.readU32(at + 12), await p.readU8(at + 13)];
      const n = await p.writeString(at + 16, 'héllo');
      const s = await p.readString(at + 16, 32);
      const cut = await p.readString(at + 16, 3);
      const nul = (await p.read(at + 16 + n - 1, 1))[0];
      await p.writeString(at + 64, '');
      const empty = await p.readString(at + 64, 8);
      return { word, bytes, le, b, other, n, s, cut, nul, empty };
    });
    expect(got.word).toBe(0xfffffffe);
    expect(got.bytes).toEqual([0xfe, 0xff, 0xff, 0xff]);
    expect(got.le).toEqual([1, 2, 3, 4]);
    expect(got.b).toBe(0xab);
    expect(got.other).toEqual([0x06070809, 8]);
    expect(got.n).toBe(7); // 'h', two bytes of é, 'llo', NUL
    expect(got.s).toBe('héllo');
    expect(got.cut).toBe('hé');
    expect(got.nul).toBe(0);
    expect(got.empty).toBe('');
  });
});

describe('Proc: process calls through PM', () => {
  it('the exit status is the return value (0 for none), or exit()', async () => {
    expect(await runUser(() => Promise.resolve(7))).toEqual({ code: 7, signal: 0 });
    expect(await runUser(() => Promise.resolve())).toEqual({ code: 0, signal: 0 });
    expect(await runUser((p) => p.exit(3))).toEqual({ code: 3, signal: 0 });
    expect(await runUser((p) => p.exit())).toEqual({ code: 0, signal: 0 });
  });

  it('fork, wait (nohang too), kill, getpid; the child keeps the name unless given one', async () => {
    const sys = await boot();
    const seen: Record<string, unknown> = {};
    const h = sys.spawn(
      async (p) => {
        seen.none = await p.wait({ nohang: true });
        const c1 = await p.fork(async (c) => {
          seen.childIds = await c.getpid();
          seen.childName = c.name;
          return 5;
        });
        seen.c1 = c1;
        seen.w1 = await p.wait();
        const c2 = await p.fork(async (c) => {
          seen.c2name = c.name;
          await c.receive(CLOCK);
        }, 'sleeper');
        seen.early = await p.wait({ nohang: true });
        seen.kill = await p.kill(c2, SIGKILL);
        seen.w2 = await p.wait();
        seen.c2 = c2;
        seen.after = await p.wait();
        seen.ids = await p.getpid();
        seen.ep = p.endpoint;
      },
      { name: 'parent' },
    );
    await sys.run();
    expect(h.exit).toEqual({ code: 0, signal: 0 });
    expect(seen.none).toEqual({ endpoint: ECHILD, code: 0, signal: 0 });
    expect(seen.childName).toBe('parent');
    expect(seen.childIds).toEqual({ pid: seen.c1, parent: seen.ep });
    expect(seen.w1).toEqual({ endpoint: seen.c1, code: 5, signal: 0 });
    expect(seen.c2name).toBe('sleeper');
    expect(seen.early).toEqual({ endpoint: EAGAIN, code: 0, signal: 0 });
    expect(seen.kill).toBe(OK);
    expect(seen.w2).toEqual({ endpoint: seen.c2, code: 0, signal: SIGKILL });
    expect(seen.after).toEqual({ endpoint: ECHILD, code: 0, signal: 0 });
    expect((seen.ids as { pid: number }).pid).toBe(seen.ep);
    expect((seen.ids as { parent: number }).parent).not.toBe(NONE);
  });

  it('exec runs the new image; brk moves the heap end; sleep waits on the simulated clock', async () => {
    const sys = await boot();
    const seen: Record<string, unknown> = {};
    const h = sys.spawn(async (p) => {
      const t0 = sys.kernel.now;
      await p.sleep(20);
      seen.slept = sys.kernel.now - t0;
      seen.alarm = await p.setAlarm(5);
      seen.brkBad = await p.brk(-4096);
      seen.execBad = await p.exec(
        { name: 'bad', text: 4096, data: 64 * 1024 * 1024, bss: 0, tot: 128 * 1024 * 1024, args: 0 },
        () => Promise.resolve(1),
      );
      return p.exec({ name: 'next', text: 4096, data: 4096, bss: 0, tot: 64 * 4096, args: 0 }, async (q) => {
        seen.execName = q.name;
        seen.sameEp = q.endpoint === p.endpoint;
        seen.fresh = q.state('k', () => 'new');
        return 9;
      });
    });
    await sys.run();
    expect(h.exit).toEqual({ code: 9, signal: 0 });
    expect(seen.slept).toBe(20);
    expect(seen.alarm).toBe(ECALLDENIED); // a user process makes no kernel call
    expect(seen.brkBad).toBeLessThan(0);
    expect(seen.execBad).toBeLessThan(0);
    expect(seen.execName).toBe('next');
    expect(seen.sameEp).toBe(true);
    expect(seen.fresh).toBe('new');
  });
});

describe('Proc: the alarm of a system process', () => {
  it('setAlarm answers OK and CLOCK notifies after that many simulated milliseconds', async () => {
    const got = await inService(async (p) => {
      const t0 = p.kernel.now;
      const r = await p.setAlarm(5);
      const m = await p.receive(CLOCK);
      return { r, from: m.source, dt: p.kernel.now - t0 };
    });
    expect(got).toEqual({ r: OK, from: CLOCK, dt: 5 });
  });
});

describe('Proc: IPC', () => {
  it('send, notify, senda and sendnb reach another process in order', async () => {
    const sys = await boot();
    const got: { type: number; from: number; x: unknown }[] = [];
    const peer = sys.spawn(async (c) => {
      for (let i = 0; i < 4; i++) {
        const m = await c.receive();
        got.push({ type: m.type, from: m.source, x: m.x });
      }
    });
    await sys.run();
    const to = peer.endpoint ?? -1;
    const s = await drivenActor(sys, 'S', { priv: ALL });
    const r = await s.do(async (p) => [
      await p.send(to, { type: 77, x: 1 }),
      await p.notify(to),
      await p.senda(to, { type: 78, x: 2 }),
    ]);
    expect(r).toEqual([OK, OK, OK]);
    // the peer waits in receive again: sendnb delivers at once
    expect(await s.do((p) => Promise.resolve(p.sendnb(to, { type: 79, x: 3 })))).toBe(OK);
    expect(got).toEqual([
      { type: 77, from: s.ep, x: 1 },
      { type: NOTIFY_MESSAGE, from: s.ep, x: undefined },
      { type: 78, from: s.ep, x: 2 },
      { type: 79, from: s.ep, x: 3 },
    ]);
    expect(peer.exit).toEqual({ code: 0, signal: 0 });
  });

  it('sendnb to a process that is not receiving is ENOTREADY, and nothing is delivered', async () => {
    const r = await inService(async (p) => {
      const child = await p.fork(async (c) => {
        await c.sleep(50);
      });
      return p.sendnb(child, { type: 79 });
    });
    expect(r).toBe(ENOTREADY);
  });
});

describe('Proc: library state and bindings', () => {
  it('state is made once per key and kept; cpf and sys are bound once', async () => {
    const got = await inService((p) => {
      let made = 0;
      const a = p.state('x', () => ({ n: ++made }));
      const b = p.state('x', () => ({ n: ++made }));
      const c = p.state('y', () => ({ n: ++made }));
      return Promise.resolve({ same: a === b, made, c: c.n, cpf: p.cpf === p.cpf, sys: p.sys === p.sys });
    });
    expect(got).toEqual({ same: true, made: 2, c: 2, cpf: true, sys: true });
  });
});
