// Kernel-call dispatch (src/kernel/system.ts) at its edges: call numbers at and past the ends of the table, the
// caller's call mask, a number with no handler, a handler that throws, suspends or ends its caller, the reply
// message and what every call counts, charges and traces.
import { describe, expect, it } from 'vitest';
import { ALL, bareKernel } from '../../helpers/bare.ts';
import { EBADREQUEST, ECALLDENIED, EINVAL, OK, SIGKILL } from '../../../src/include/errno.ts';
import {
  GET_WHOAMI,
  KERNEL_CALL,
  NR_SYS_CALLS,
  SYS_GETINFO,
  SYS_KILL,
  SYS_SAFEUNMAP,
  SYS_TIMES,
} from '../../../src/include/com.ts';
import { SYSTEM } from '../../../src/include/endpoint.ts';
import type { Message, Payload } from '../../../src/include/ipc.ts';
import type { PrivSpec } from '../../../src/include/priv.ts';
import { kernelCall, registerKernelCall } from '../../../src/kernel/system.ts';
import type { KcallHandler } from '../../../src/kernel/system.ts';
import type { Proc } from '../../../src/libsys/proc.ts';

/** Call numbers no file registers: this file installs its own handlers there (each test file has its own table). */
const THROWS = KERNEL_CALL + 45;
const THROWS_STRING = KERNEL_CALL + 42;
const SUSPENDS = KERNEL_CALL + 41;
const FIELDS = KERNEL_CALL + 40;
const NO_HANDLER = KERNEL_CALL + 39;

const throwing: KcallHandler = () => {
  throw new Error('handler broke');
};
registerKernelCall(THROWS, throwing);
registerKernelCall(THROWS_STRING, () => {
  // eslint-disable-next-line @typescript-eslint/only-throw-error -- what a handler that throws a non-Error gives
  throw 'a string';
});
registerKernelCall(SUSPENDS, async () => {
  await Promise.resolve();
  return { result: EINVAL, value: 7 };
});
registerKernelCall(FIELDS, (_k, caller, m) => ({ result: OK, echo: m['x'], who: caller.endpoint }));

/** Runs `calls` from one process (slot 20) with privileges `spec`; the replies, the trace, counts and cycles. */
async function callAll(calls: Payload[], spec: PrivSpec = ALL) {
  const b = bareKernel();
  const replies: Message[] = [];
  const p = b.spawn(
    20,
    'caller',
    async (proc: Proc) => {
      for (const m of calls) replies.push(await proc.kernelCall(m));
    },
    spec,
  );
  await b.k.run();
  return { b, p, replies, kcalls: b.trace.filter((e) => e.kind === 'kcall') };
}

describe('kernel-call numbers and the call mask', () => {
  it('refuses a number below, past or inside the table without a handler, or not an integer, with EBADREQUEST', async () => {
    const types = [
      KERNEL_CALL - 1,
      KERNEL_CALL + NR_SYS_CALLS,
      KERNEL_CALL + NR_SYS_CALLS + 1,
      NO_HANDLER,
      KERNEL_CALL + 0.5,
      Number.NaN,
    ];
    const { replies, kcalls } = await callAll(types.map((type) => ({ type })));
    expect(replies.map((r) => r.type)).toEqual(types.map(() => EBADREQUEST));
    expect(replies.every((r) => r.source === SYSTEM)).toBe(true);
    expect(kcalls.map((e) => (e.kind === 'kcall' ? e.call : ''))).toEqual([
      'KCALL_-1',
      `KCALL_${NR_SYS_CALLS}`,
      `KCALL_${NR_SYS_CALLS + 1}`,
      'KCALL_39',
      'KCALL_0.5',
      'KCALL_NaN',
    ]);
  });

  it('answers the first and last numbers of the table, and checks the mask call by call', async () => {
    const first: Payload = { type: KERNEL_CALL + 0 }; // SYS_FORK without fields: EINVAL from its handler
    const last: Payload = { type: SYS_SAFEUNMAP }; // the last number, 49: no mapping at address 0
    const allowed = await callAll([first, last]);
    expect(allowed.replies.map((r) => r.type)).toEqual([EINVAL, OK]);
    const denied = await callAll([first, last, { type: SYS_TIMES }], {
      ipcTo: 'all',
      kernelCalls: [39, NR_SYS_CALLS - 2, SYS_TIMES - KERNEL_CALL],
      vmCalls: [],
    });
    expect(denied.replies.map((r) => r.type)).toEqual([ECALLDENIED, ECALLDENIED, OK]);
  });
});

describe('handlers', () => {
  it('a reply with fields comes back as a message from SYSTEM with those fields and the result as its type', async () => {
    const { replies, p } = await callAll([{ type: FIELDS, x: 42 }]);
    expect(replies).toEqual([{ type: OK, result: OK, source: SYSTEM, echo: 42, who: p.endpoint }]);
  });

  it('a handler that suspends answers when it resumes, as one that answers at once', async () => {
    const { replies, kcalls } = await callAll([
      { type: SUSPENDS },
      { type: SYS_GETINFO, request: GET_WHOAMI },
    ]);
    expect(replies[0]).toEqual({ type: EINVAL, result: EINVAL, source: SYSTEM, value: 7 });
    expect(replies[1]?.type).toBe(OK);
    expect(kcalls.map((e) => (e.kind === 'kcall' ? [e.call, e.result] : []))).toEqual([
      ['KCALL_41', EINVAL],
      ['SYS_GETINFO', OK],
    ]);
  });

  it.each([
    ['an Error', THROWS, 'handler broke'],
    ['a string', THROWS_STRING, 'a string'],
  ])(
    'a handler that throws %s rejects the call with an Error, never throws at the caller',
    async (_l, type, text) => {
      const b = bareKernel();
      let caught: unknown = null;
      let threw = false;
      b.spawn(20, 'caller', async (proc: Proc) => {
        let call: Promise<Message> | null = null;
        try {
          call = kernelCall(b.k, proc.kp, { type });
        } catch {
          threw = true;
        }
        caught = await call?.catch((e: unknown) => e);
      });
      await b.k.run();
      expect(threw).toBe(false);
      expect(caught).toBeInstanceOf(Error);
      expect((caught as Error).message).toBe(text);
      expect(b.k.counts.kernelCalls).toBe(0);
    },
  );

  it('registering a number twice, or one outside the table, panics', () => {
    expect(() => registerKernelCall(FIELDS, throwing)).toThrow(
      `registerKernelCall: bad or duplicate ${FIELDS}`,
    );
    expect(() => registerKernelCall(KERNEL_CALL - 1, throwing)).toThrow('bad or duplicate');
    expect(() => registerKernelCall(KERNEL_CALL + NR_SYS_CALLS, throwing)).toThrow('bad or duplicate');
    expect(() => registerKernelCall(KERNEL_CALL + 0, throwing)).toThrow('bad or duplicate');
  });
});

describe('what every call costs', () => {
  it('counts the call, charges the trap and the call, and traces it with the caller and its entry cycle', async () => {
    const b = bareKernel();
    let before = 0;
    let after = 0;
    const p = b.spawn(20, 'caller', async (proc: Proc) => {
      before = b.k.clock.cycles;
      await proc.kernelCall({ type: SYS_TIMES });
      after = b.k.clock.cycles;
    });
    await b.k.run();
    expect(b.k.counts.kernelCalls).toBe(1);
    const costs = b.k.clock.profile;
    expect(after - before).toBe(costs.trap + costs.kernelCall);
    const e = b.trace.find((x) => x.kind === 'kcall');
    expect(e).toEqual({
      step: 1,
      kind: 'kcall',
      caller: p.endpoint,
      call: 'SYS_TIMES',
      result: OK,
      t0: before,
    });
  });
});

describe('a call whose entry preempts the caller', () => {
  it.each([
    ['kernelCall', async (p: Proc) => (await p.kernelCall({ type: SYS_TIMES })).type],
    ['kernelCallResult', (p: Proc) => p.kernelCallResult({ type: SYS_TIMES })],
  ])('%s is made when the caller runs again, after the process that ran meanwhile', async (_name, call) => {
    const b = bareKernel({ quantum: 2 });
    const log: string[] = [];
    for (const [slot, name] of [
      [20, 'a'],
      [21, 'b'],
    ] as const) {
      b.spawn(slot, name, async (p) => {
        for (let i = 0; i < 3; i++) log.push(`${name}${i}:${await call(p)}`);
      });
    }
    await b.k.run();
    expect(log).toEqual(['a0:0', 'b0:0', 'a1:0', 'a2:0', 'b1:0', 'b2:0']);
    const kcalls = b.trace.flatMap((e) => (e.kind === 'kcall' ? [`${e.caller}@${e.step}`] : []));
    expect(kcalls).toEqual(['20@1', '21@3', '20@4', '20@5', '21@5', '21@6']);
  });
});

describe('registering and answering', () => {
  it('a handler registered for a free number answers calls of that number', async () => {
    const number = KERNEL_CALL + 38;
    registerKernelCall(number, (_k, caller) => ({ result: OK, slot: caller.slot }));
    const { replies } = await callAll([{ type: number }]);
    expect(replies).toEqual([{ type: OK, result: OK, source: SYSTEM, slot: 20 }]);
  });

  it('a call answered at once gives a settled promise: no promise step before the caller goes on', async () => {
    const b = bareKernel();
    const first: unknown[] = [];
    b.spawn(20, 'caller', async (proc: Proc) => {
      const later = Promise.resolve('a promise step later');
      const m = await Promise.race([proc.kernelCall({ type: SYS_TIMES }), later]);
      first.push(typeof m === 'string' ? m : m.type);
      first.push(await Promise.race([proc.kernelCallResult({ type: SYS_TIMES }), later]));
      first.push(await Promise.race([proc.kernelCallResult({ type: KERNEL_CALL - 1 }), later]));
    });
    await b.k.run();
    expect(first).toEqual([OK, OK, EBADREQUEST]);
  });
});

describe('a call that ends its own caller', () => {
  it('SYS_KILL of itself on a bare kernel: traced, never answered, and the next process runs', async () => {
    const b = bareKernel();
    const log: string[] = [];
    const self = b.spawn(20, 'self', async (proc: Proc) => {
      const r = await proc.kernelCallResult({ type: SYS_KILL, endpoint: proc.endpoint, sig: SIGKILL });
      log.push(`self answered ${r}`);
    });
    b.spawn(21, 'other', async (proc: Proc) => {
      await proc.sleep(1);
      log.push('other ran');
    });
    expect((await b.k.run()).reason).toBe('idle');
    expect(log).toEqual(['other ran']);
    expect([self.kp.inUse, self.kp.exitStatus, b.k.counts.kernelCalls]).toEqual([false, SIGKILL, 1]);
    expect(b.trace.filter((e) => e.kind === 'kcall')).toMatchObject([
      { caller: 20, call: 'SYS_KILL', result: OK },
    ]);
  });
});
