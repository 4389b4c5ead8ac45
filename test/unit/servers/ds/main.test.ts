// The DS server process (src/servers/ds/main.ts) over a booted system: its trace events, notifications it ignores,
// the key scratch page it keeps, what the host sees of it (booted, busy, sanityCheck); and over a stand-in process
// (one sendrec to VM per mmap or munmap, kernel calls with a fixed answer), what ProcDsMemory asks of VM and when
// the program checks its tables.
import { describe, expect, it } from 'vitest';
import { GETSYSINFO, SI_DATA_STORE, VM_MMAP, VM_MUNMAP } from '../../../../src/include/com.ts';
import { DS_PROC_NR, KERNEL, endpoint } from '../../../../src/include/endpoint.ts';
import { EINVAL, ENOMEM, EPERM, ESRCH, OK } from '../../../../src/include/errno.ts';
import type { Message, Payload } from '../../../../src/include/ipc.ts';
import { Panic } from '../../../../src/lib/assert.ts';
import type { TraceEvent } from '../../../../src/include/trace.ts';
import { kernelNotify } from '../../../../src/kernel/ipc.ts';
import { RTS } from '../../../../src/kernel/proc.ts';
import { dsPublishU32, dsRetrieveLabelName, dsRetrieveU32 } from '../../../../src/libsys/ds.ts';
import type { Proc } from '../../../../src/libsys/proc.ts';
import { ProcDsMemory, createDs } from '../../../../src/servers/ds/main.ts';
import type { DsState } from '../../../../src/servers/ds/main.ts';
import { startTestService } from '../../../../src/sim/grantsuites.ts';
import { createSystem } from '../../../../src/sim/system.ts';

type DsEvent = Extract<TraceEvent, { kind: 'ds' }>;

describe('DS server', () => {
  it('traces each request when it answers: kernel step, op, caller, key, result', async () => {
    const sys = await createSystem({ ramBytes: 16 * 1024 * 1024, sanity: 'top' });
    expect(sys.ds.booted).toBe(true);
    const ep = await startTestService(sys, 'svc', async (p) => {
      await dsPublishU32(p, 'x', 7);
      await dsRetrieveU32(p, 'y');
      await dsRetrieveLabelName(p, p.endpoint);
      await p.receive(KERNEL);
      return 0;
    });
    const events = sys.trace.filter((e): e is DsEvent => e.kind === 'ds');
    // RS's own label publication comes first.
    expect(events.map(({ op, caller, key, result }) => ({ op, caller, key, result }))).toEqual([
      { op: 'publish', caller: expect.any(Number) as number, key: 'svc', result: OK },
      { op: 'publish', caller: ep, key: 'x', result: OK },
      { op: 'retrieve', caller: ep, key: 'y', result: ESRCH },
      { op: 'retrieve_label', caller: ep, key: 'svc', result: OK },
    ]);
    const steps = events.map((e) => e.step);
    expect(steps[0]).toBeGreaterThan(0);
    expect(steps).toEqual([...steps].sort((a, b) => a - b));
    expect(new Set(steps).size).toBe(steps.length);
  });

  it('ignores notifications: no reply, no trace event; it stays waiting and checkable', async () => {
    const sys = await createSystem({ ramBytes: 16 * 1024 * 1024, sanity: 'top' });
    await sys.run();
    const before = sys.trace.length;
    const ds = sys.kernel.liveProc(DS_PROC_NR);
    if (ds === null) throw new Error('no DS');
    kernelNotify(sys.kernel, KERNEL, ds);
    await sys.run();
    expect(
      sys.trace
        .slice(before)
        .filter((e) => e.kind === 'ds' || (e.kind === 'ipc' && e.from === DS_PROC_NR && e.op === 'send')),
    ).toEqual([]);
    expect(ds.rts & RTS.RECEIVING).not.toBe(0);
    expect(sys.ds.busy).toBe(false);
    sys.ds.sanityCheck();
  });
});

/**
 * A stand-in for DS's process: VM answers `vmResult`, with a fresh page per VM_MMAP; kernel calls answer `kcall`;
 * `inbox` is received in order, then nothing.
 */
function standIn(
  kcall = OK,
  inbox: Message[] = [],
  vmResult = OK,
): { p: Proc; vm: Payload[]; sent: Payload[] } {
  const vm: Payload[] = [];
  const sent: Payload[] = [];
  let next = 0x1000_0000;
  const fake = {
    endpoint: DS_PROC_NR,
    kernel: { step: 0, clock: { charge: () => undefined } },
    sendrec: (_to: number, m: Payload) => {
      vm.push(m);
      const retAddr = next;
      if (m.type === VM_MMAP) next += 0x1000;
      return Promise.resolve({ type: vmResult, source: 8, retAddr });
    },
    kernelCallResult: () => Promise.resolve(kcall),
    read: (_addr: number, len: number) => Promise.resolve(new Uint8Array(len).fill(0x6b)),
    write: () => Promise.resolve(),
    receive: () => {
      const m = inbox.shift();
      return m === undefined ? new Promise<Message>(() => undefined) : Promise.resolve(m);
    },
    send: (_to: number, m: Payload) => {
      sent.push(m);
      return Promise.resolve(OK);
    },
  };
  return { p: fake as unknown as Proc, vm, sent };
}

/** Corrupts the store behind `state` (one entry slot too many), for TABLE_SIZE. */
const CLIENT = endpoint(20);

const corrupt = (state: DsState): void => {
  (state.store as unknown as { table: unknown[] }).table.push(null);
};

describe('ProcDsMemory over a stand-in process', () => {
  it('maps one scratch page for every key it fetches; a failed copy answers its error', async () => {
    const { p, vm } = standIn();
    const mem = new ProcDsMemory();
    mem.bind(p);
    expect(await mem.fetch(CLIENT, 1, 3)).toEqual(new Uint8Array(3).fill(0x6b));
    expect(await mem.deliver(CLIENT, 2, new Uint8Array(4))).toBe(OK);
    expect(await mem.fetch(CLIENT, 3, 5)).toEqual(new Uint8Array(5).fill(0x6b));
    expect(vm.map((m) => m.type)).toEqual([VM_MMAP]);
    const failing = standIn(EPERM);
    const mem2 = new ProcDsMemory();
    mem2.bind(failing.p);
    expect(await mem2.fetch(CLIENT, 1, 3)).toBe(EPERM);
  });

  it('answers a grant it could not make with the grant call\'s errno, not GRANT_INVALID', async () => {
    const mem = new ProcDsMemory();
    mem.bind(standIn().p);
    // CPF_MAP on an unaligned window: cpf_grant_direct refuses it before touching the grant table.
    expect(await mem.grantMap(CLIENT, 0x1000_0001, 4096)).toBe(EINVAL);
  });

  it('frees by unmapping the whole pages it mapped', async () => {
    const { p, vm } = standIn();
    const mem = new ProcDsMemory();
    mem.bind(p);
    const a = await mem.alloc(5000);
    await mem.free(a, 5000);
    expect(vm).toEqual([
      { type: VM_MMAP, addr: 0, len: 8192, prot: 3, flags: expect.any(Number) as number, fd: -1, offset: 0 },
      { type: VM_MUNMAP, addr: a, len: 8192 },
    ]);
  });
});

describe('ProcDsMemory: what must not fail panics', () => {
  it('used before DS runs, without a scratch page, or when its own munmap fails', async () => {
    await expect(new ProcDsMemory().fetch(CLIENT, 1, 3)).rejects.toThrow(
      'ds: store used before the DS process started',
    );
    const noMemory = new ProcDsMemory();
    noMemory.bind(standIn(OK, [], ENOMEM).p);
    await expect(noMemory.fetch(CLIENT, 1, 3)).rejects.toThrow(
      `ds: no memory for the key scratch page (${ENOMEM})`,
    );
    const badFree = new ProcDsMemory();
    badFree.bind(standIn(OK, [], EINVAL).p);
    await expect(badFree.free(0x2000_0000, 10)).rejects.toThrow(
      `ds: munmap of its own 0x20000000 failed (${EINVAL})`,
    );
  });
});

describe('DS program over a stand-in process', () => {
  it('is neither booted nor busy before it runs; the host check then sees a broken table', () => {
    const { state } = createDs({ maxKeys: 16, maxSubs: 2, labelPolicy: 'any' }, []);
    expect([state.booted, state.busy]).toEqual([false, false]);
    corrupt(state);
    expect(() => state.sanityCheck()).toThrow(/^DS sanity TABLE_SIZE: /);
  });

  it('is busy while it boots, skipping the host check, then waits idle', async () => {
    const { program, state } = createDs({ maxKeys: 16, maxSubs: 2, labelPolicy: 'any' }, [
      { label: 'a', endpoint: 20 },
    ]);
    const { p } = standIn();
    void program(p);
    expect([state.booted, state.busy]).toEqual([false, true]);
    corrupt(state);
    state.sanityCheck();
    await new Promise((r) => setTimeout(r, 0));
    expect([state.booted, state.busy]).toEqual([true, false]);
    expect(() => state.sanityCheck()).toThrow(Panic);
  });

  it('checks its tables after each request only with sanity on', async () => {
    const request = (): Message[] => [{ type: GETSYSINFO, source: CLIENT, what: SI_DATA_STORE }];
    const quiet = createDs({ maxKeys: 16, maxSubs: 2, labelPolicy: 'any' }, []);
    const q = standIn(OK, request());
    void quiet.program(q.p);
    corrupt(quiet.state);
    await new Promise((r) => setTimeout(r, 0));
    expect(q.sent.map((m) => m.type)).toEqual([OK]);
    const checked = createDs({ maxKeys: 16, maxSubs: 2, labelPolicy: 'any', sanity: true }, []);
    const c = standIn(OK, request());
    const run = checked.program(c.p).then(
      () => 'returned',
      (e: unknown) => (e instanceof Panic ? e.message : 'threw something else'),
    );
    corrupt(checked.state);
    const waiting = new Promise((r) => setTimeout(() => r('still waiting'), 0));
    expect(await Promise.race([run, waiting])).toMatch(/^DS sanity TABLE_SIZE: /);
    expect(c.sent).toEqual([]);
  });
});
