// VM's message loop (src/servers/vm/main.ts) driven through createVm's program by a stand-in process: the boot
// kernel calls, which messages reach a handler (call numbers, callers, call masks), the replies and what comes
// before them (TLB flushes, spares, the check), page faults and notifications, and the small calls answered in
// main.ts itself (RS_SET_PRIV, NOTIFY_SIG, QUERY_EXIT, CTL).
import { describe, expect, it } from 'vitest';
import {
  NOTIFY_MESSAGE,
  NR_VM_CALLS,
  SYS_KILL,
  SYS_VMCTL,
  VMCTL_CLEAR_PAGEFAULT,
  VMCTL_FLUSHTLB,
  VMCTL_GET_PAGEFAULT,
  VMCTL_I386_PAGEDIRS,
  VMCTL_I386_SETCR3,
  VMCTL_MEMREQ_GET,
  VMCTL_VMINHIBIT_CLEAR,
  VM_BRK,
  VM_CTL,
  VM_EXIT,
  VM_MMAP,
  VM_NOTIFY_SIG,
  VM_PUSH_SIG,
  VM_QUERY_EXIT,
  VM_RQ_BASE,
  VM_RS_SET_PRIV,
} from '../../../../src/include/com.ts';
import { EINVAL, ENOMEM, ENOSYS, ESRCH, OK, SIGSEGV } from '../../../../src/include/errno.ts';
import { HARDWARE, NONE, PM_PROC_NR, SYSTEM, makeEndpoint } from '../../../../src/include/endpoint.ts';
import type { Message } from '../../../../src/include/ipc.ts';
import type { TraceEvent } from '../../../../src/include/trace.ts';
import {
  MAP_ANON,
  MAP_PREALLOC,
  VCTL_MEMSTATS,
  VM_PROCSTART,
  VM_STACKTOP,
} from '../../../../src/include/vm.ts';
import type { BootProcImage, VmBootInfo } from '../../../../src/include/vm.ts';
import { PhysMem } from '../../../../src/hw/physmem.ts';
import { K } from '../../../../src/hw/profile.ts';
import { Panic } from '../../../../src/lib/assert.ts';
import { MiB } from '../../../../src/lib/units.ts';
import type { Proc } from '../../../../src/libsys/proc.ts';
import type { SanityLevel } from '../../../../src/servers/vm/glo.ts';
import { VMF_INUSE } from '../../../../src/servers/vm/glo.ts';
import { smap } from '../../../../src/servers/vm/memreq.ts';
import { createVm, doNotifySig } from '../../../../src/servers/vm/main.ts';
import { PAGE } from './helpers.ts';

const HEAP = VM_PROCSTART + 4 * PAGE;
const P1 = makeEndpoint(0, 1);
const P2 = makeEndpoint(0, 2);

/** A VM over 16 MiB with full-VM processes in slots 1 and 2, and its program not yet started. */
function vmOf(sanity: SanityLevel = 'functions') {
  const mem = new PhysMem(16 * MiB);
  const procs: BootProcImage[] = [1, 2].map((slot, i) => ({
    slot,
    endpoint: makeEndpoint(0, slot),
    name: `p${slot}`,
    fullVm: true,
    base: 0x21000 + i * 10 * PAGE,
    textPages: 4,
    dataPages: 4,
    stackPages: 2,
    vmCalls: 'all' as const,
  }));
  const boot: VmBootInfo = {
    ramBytes: 16 * MiB,
    kernelBase: 0x1000,
    kernelBytes: 128 * 1024,
    procs,
    nrProcs: 16,
  };
  const events: TraceEvent[] = [];
  const { program, state } = createVm({ sanity, nrProcs: 16 }, boot, mem, (e) => events.push(e));
  return { program, state, vm: state.internals, mem, events };
}

/** Breaks the free count (rule E18) at each PTE write from now on: a state broken inside a handler. */
function breakAtPteWrites(v: ReturnType<typeof vmOf>): void {
  const clock = v.mem.clock;
  const charge = clock.charge.bind(clock);
  clock.charge = (kind: number, count?: number) => {
    if (kind === K.pteWrite) v.vm.alloc.freeCount += 1;
    charge(kind, count);
  };
}

/**
 * Runs the program over a stand-in process until it waits for a message with none left. `kernel` answers kernel
 * calls (default OK); page faults are served from `faults`, memory requests never.
 */
async function drive(
  v: ReturnType<typeof vmOf>,
  queue: Message[],
  o: { faults?: Message[]; kernel?: (m: Message) => number; received?: (m: Message) => void } = {},
) {
  const sent: [number, Message][] = [];
  const calls: Message[] = [];
  const log: string[] = [];
  let idle: () => void = () => undefined;
  const done = new Promise<void>((r) => {
    idle = r;
  });
  const p = {
    receive: () => {
      const m = queue.shift();
      if (m === undefined) {
        idle();
        return new Promise<Message>(() => undefined);
      }
      o.received?.(m);
      return Promise.resolve(m);
    },
    send: (dst: number, m: Message) => {
      sent.push([dst, m]);
      log.push(`reply ${String(m.type)}`);
      return Promise.resolve(OK);
    },
    kernelCall: (m: Message) => {
      calls.push(m);
      log.push(typeof m.request === 'number' ? String(m.request) : String(m.type));
      if (m.request === VMCTL_GET_PAGEFAULT)
        return Promise.resolve(o.faults?.shift() ?? { type: ESRCH, source: SYSTEM });
      if (m.request === VMCTL_MEMREQ_GET) return Promise.resolve({ type: ESRCH, source: SYSTEM });
      return Promise.resolve({ type: o.kernel?.(m) ?? OK, source: SYSTEM });
    },
    notify: () => Promise.resolve(OK),
  } as unknown as Proc;
  const failed = v.program(p).then(
    () => null,
    (e: unknown) => e,
  );
  const error = await Promise.race([done.then(() => null), failed]);
  return { sent, calls, log, error };
}

const call = (source: number, type: number, f: Record<string, unknown> = {}): Message =>
  ({ type, source, ...f }) as Message;
const notification = (source: number): Message => ({ type: NOTIFY_MESSAGE, source }) as Message;

describe('VM main loop: boot', () => {
  it('gives the kernel the pointer page, then binds and releases each full-VM process, with no TLB flush owed', async () => {
    const v = vmOf();
    const { calls, error } = await drive(v, []);
    expect(error).toBeNull();
    expect(calls.map((m) => [m.type, m.request, m.endpoint, m.frame])).toEqual([
      [SYS_VMCTL, VMCTL_I386_PAGEDIRS, undefined, v.vm.pagedirs],
      [SYS_VMCTL, VMCTL_I386_SETCR3, P1, v.vm.procs[1]?.pt.dir],
      [SYS_VMCTL, VMCTL_VMINHIBIT_CLEAR, P1, undefined],
      [SYS_VMCTL, VMCTL_I386_SETCR3, P2, v.vm.procs[2]?.pt.dir],
      [SYS_VMCTL, VMCTL_VMINHIBIT_CLEAR, P2, undefined],
    ]);
    expect(v.vm.dirty.size).toBe(0);
  });

  it('panics when the kernel refuses the pointer page or a SETCR3', async () => {
    for (const refused of [VMCTL_I386_PAGEDIRS, VMCTL_I386_SETCR3]) {
      const { error } = await drive(vmOf(), [], { kernel: (m) => (m.request === refused ? EINVAL : OK) });
      expect(error).toBeInstanceOf(Panic);
      expect(String(error)).toMatch(
        refused === VMCTL_I386_PAGEDIRS
          ? /PAGEDIRS failed \(-22\)/
          : new RegExp(`SETCR3 for ${P1} failed \\(-22\\)`),
      );
    }
  });
});

describe('VM main loop: dispatch', () => {
  it('ENOSYS for a call number out of range or without a handler, an unknown caller, or a call not in its mask', async () => {
    const v = vmOf();
    const q = [
      call(P1, VM_RQ_BASE - 1),
      call(P1, VM_RQ_BASE + NR_VM_CALLS),
      call(P1, VM_RQ_BASE + 0.5),
      call(P1, VM_PUSH_SIG),
      call(makeEndpoint(1, 1), VM_BRK, { endpoint: P1, addr: HEAP + PAGE }),
      call(makeEndpoint(0, 9), VM_BRK, { endpoint: P1, addr: HEAP + PAGE }),
      call(P1, VM_RS_SET_PRIV, {
        slot: 2,
        mask: [VM_BRK - VM_RQ_BASE],
        physRanges: [{ base: 0xa0000, length: PAGE }],
      }),
      call(P2, VM_MMAP, { len: PAGE, flags: MAP_ANON }),
      call(P2, VM_BRK, { endpoint: P2, addr: HEAP + 6 * PAGE }),
    ];
    const { sent, error } = await drive(v, q);
    expect(error).toBeNull();
    expect(sent).toEqual([
      [P1, { type: ENOSYS }],
      [P1, { type: ENOSYS }],
      [P1, { type: ENOSYS }],
      [P1, { type: ENOSYS }],
      [makeEndpoint(1, 1), { type: ENOSYS }],
      [makeEndpoint(0, 9), { type: ENOSYS }],
      [P1, { type: OK }],
      [P2, { type: ENOSYS }],
      [P2, { type: OK }],
    ]);
    expect(v.vm.procs[2]?.physRanges).toEqual([{ base: 0xa0000, length: PAGE }]);
    expect(v.state.regions(P2).find((r) => r.isHeap)?.length).toBe(6 * PAGE);
  });

  it('RS_SET_PRIV refuses a bad slot or mask and keeps the ranges when none are given; a reply carries the fields', async () => {
    const v = vmOf();
    const q = [
      call(P1, VM_RS_SET_PRIV, { slot: '2', mask: 'all' }),
      call(P1, VM_RS_SET_PRIV, { slot: 16, mask: 'all' }),
      call(P1, VM_RS_SET_PRIV, { slot: 2, mask: 'some' }),
      call(P1, VM_RS_SET_PRIV, { slot: 2, mask: 'all', physRanges: 'none' }),
      call(P1, VM_CTL, { what: VCTL_MEMSTATS + 1 }),
      call(P1, VM_QUERY_EXIT),
    ];
    const { sent } = await drive(v, q);
    expect(sent.map(([, m]) => m)).toEqual([
      { type: EINVAL },
      { type: EINVAL },
      { type: EINVAL },
      { type: OK },
      { type: EINVAL },
      { type: OK, result: OK, endpoint: NONE, isMore: 0 },
    ]);
    expect(v.vm.procs[2]?.physRanges).toEqual([]);
    expect(v.vm.procs[2]?.callMask.every((b) => b === 1)).toBe(true);
  });

  it('VM_CTL MEMSTATS reports the free pages, the largest range, VM-internal pages and the slab', async () => {
    const v = vmOf();
    const { sent } = await drive(v, [call(P1, VM_CTL, { what: VCTL_MEMSTATS })]);
    expect(sent[0]?.[1]).toEqual({
      type: OK,
      result: OK,
      freePages: v.state.freePages(),
      largestRange: v.state.largestFreeRange(),
      internalPages: v.state.internalPages(),
      slab: v.state.slabStats(),
    });
  });

  it('after a call: the TLB flushes before the reply, spares topped up, not busy; the check runs at the configured level', async () => {
    const v = vmOf();
    for (const f of v.vm.spares.splice(0, 5)) v.vm.alloc.freePages(f, 1);
    const { log, sent } = await drive(v, [
      call(P1, VM_MMAP, { len: 2 * PAGE, flags: MAP_ANON | MAP_PREALLOC }),
    ]);
    expect(log.slice(-2)).toEqual([String(VMCTL_FLUSHTLB), `reply ${OK}`]);
    expect(sent[0]?.[1]).toMatchObject({ type: OK, result: OK });
    expect(v.vm.spares.length).toBe(v.state.config.sparePages);
    expect(v.state.busy).toBe(false);
    for (const [sanity, fails] of [
      ['top', true],
      ['off', false],
    ] as const) {
      const w = vmOf(sanity);
      w.vm.alloc.freeCount += 1;
      const { error } = await drive(w, [call(P1, VM_BRK, { endpoint: P1, addr: HEAP + 5 * PAGE })]);
      expect(error instanceof Panic && /E18/.test(error.message)).toBe(fails);
    }
  });
});

describe('VM main loop: notifications', () => {
  it('page faults from HARDWARE: resolved → CLEAR_PAGEFAULT, else SIGSEGV (also for an unknown endpoint); traced', async () => {
    const v = vmOf();
    const faults: Message[] = [
      { type: OK, source: SYSTEM, endpoint: P1, addr: HEAP + PAGE, write: true },
      { type: OK, source: SYSTEM, endpoint: P1, addr: 0x40000000, write: false },
      { type: OK, source: SYSTEM, endpoint: makeEndpoint(2, 2), addr: HEAP, write: false },
    ];
    const { calls, error } = await drive(v, [notification(PM_PROC_NR), notification(HARDWARE)], { faults });
    expect(error).toBeNull();
    const after = calls.slice(5).filter((m) => m.request !== VMCTL_FLUSHTLB);
    expect(after.map((m) => [m.type, m.request, m.endpoint, m.sig])).toEqual([
      [SYS_VMCTL, VMCTL_GET_PAGEFAULT, undefined, undefined],
      [SYS_VMCTL, VMCTL_CLEAR_PAGEFAULT, P1, undefined],
      [SYS_VMCTL, VMCTL_GET_PAGEFAULT, undefined, undefined],
      [SYS_KILL, undefined, P1, SIGSEGV],
      [SYS_VMCTL, VMCTL_GET_PAGEFAULT, undefined, undefined],
      [SYS_KILL, undefined, makeEndpoint(2, 2), SIGSEGV],
      [SYS_VMCTL, VMCTL_GET_PAGEFAULT, undefined, undefined],
    ]);
    const pf = v.events.filter((e) => e.kind === 'vm' && e.op === 'pagefault');
    expect(pf.map((e) => (e.kind === 'vm' ? [e.ep, e.vaddr, e.result] : []))).toEqual([
      [P1, HEAP + PAGE, OK],
      [P1, 0x40000000, -14],
      [makeEndpoint(2, 2), HEAP, EINVAL],
    ]);
    expect(v.state.busy).toBe(false);
  });

  it('a notification from SYSTEM fetches memory requests', async () => {
    const v = vmOf();
    const { calls } = await drive(v, [notification(SYSTEM)]);
    expect(calls.slice(5).map((m) => m.request)).toEqual([VMCTL_MEMREQ_GET]);
  });

  it('NOTIFY_SIG: a full table → ENOMEM; an endpoint already listed still fits', async () => {
    const v = vmOf();
    const p = { notify: () => Promise.resolve(OK) } as unknown as Proc;
    for (let i = 0; i < 16; i++)
      expect(await doNotifySig(v.vm, p, call(P1, VM_NOTIFY_SIG, { endpoint: 100 + i }))).toBe(OK);
    expect(await doNotifySig(v.vm, p, call(P1, VM_NOTIFY_SIG, { endpoint: 99 }))).toBe(ENOMEM);
    expect(await doNotifySig(v.vm, p, call(P1, VM_NOTIFY_SIG, { endpoint: 115 }))).toBe(OK);
    const { sent } = await drive(v, [call(P1, VM_QUERY_EXIT)]);
    expect(sent[0]?.[1]).toEqual({ type: OK, result: OK, endpoint: 100, isMore: 1 });
  });

  it('NOTIFY_SIG notifies the IPC endpoint named, unless it is 0, the endpoint itself or not a number; QUERY_EXIT drains in order', async () => {
    const v = vmOf();
    const notified: number[] = [];
    const p = {
      notify: (dst: number) => {
        notified.push(dst);
        return Promise.resolve(OK);
      },
    } as unknown as Proc;
    for (const ipcEndpoint of [7, 0, 101, '7', undefined, 8])
      expect(await doNotifySig(v.vm, p, call(P1, VM_NOTIFY_SIG, { endpoint: 101, ipcEndpoint }))).toBe(OK);
    expect(notified).toEqual([7, 8]);
    expect(await doNotifySig(v.vm, p, call(P1, VM_NOTIFY_SIG, { endpoint: 102 }))).toBe(OK);
    const { sent } = await drive(v, [
      call(P1, VM_QUERY_EXIT),
      call(P1, VM_QUERY_EXIT),
      call(P1, VM_QUERY_EXIT),
    ]);
    expect(sent.map(([, m]) => [m.endpoint, m.isMore])).toEqual([
      [101, 1],
      [102, 0],
      [NONE, 0],
    ]);
  });
});

describe('VM main loop: costs and the busy flag', () => {
  it('a call charges one request; a page fault one request and one page; VM is busy until its TLB flushes are done', async () => {
    const v = vmOf();
    const counts = v.mem.clock.countByKind;
    const busy: string[] = [];
    const kernel = (m: Message): number => {
      busy.push(`${typeof m.request === 'number' ? m.request : m.type} ${String(v.state.busy)}`);
      return OK;
    };
    await drive(v, [], { kernel });
    const [req0, page0] = [counts[K.vmRequest] ?? 0, counts[K.vmPage] ?? 0];
    busy.length = 0;
    await drive(v, [call(P1, VM_MMAP, { len: PAGE, flags: MAP_ANON | MAP_PREALLOC })], { kernel });
    expect([(counts[K.vmRequest] ?? 0) - req0, (counts[K.vmPage] ?? 0) - page0]).toEqual([1, 0]);
    expect(busy.slice(-1)).toEqual([`${String(VMCTL_FLUSHTLB)} true`]);
    const faults: Message[] = [{ type: OK, source: SYSTEM, endpoint: P1, addr: HEAP + PAGE, write: true }];
    busy.length = 0;
    await drive(v, [notification(HARDWARE)], { faults, kernel });
    expect([(counts[K.vmRequest] ?? 0) - req0, (counts[K.vmPage] ?? 0) - page0]).toEqual([2, 1]);
    expect(busy.slice(-2)).toEqual([
      `${String(VMCTL_FLUSHTLB)} true`,
      `${String(VMCTL_CLEAR_PAGEFAULT)} false`,
    ]);
    expect(v.state.busy).toBe(false);
  });
});

describe('VM main loop: where the check finds a broken state', () => {
  const breakState = (v: ReturnType<typeof vmOf>): void => {
    v.vm.alloc.freeCount += 1;
  };
  const MMAP = VM_MMAP - VM_RQ_BASE;
  const prealloc = (): Message => call(P1, VM_MMAP, { len: PAGE, flags: MAP_ANON | MAP_PREALLOC });
  const stackFault = (): Message[] => [
    { type: OK, source: SYSTEM, endpoint: P1, addr: VM_STACKTOP - PAGE, write: true },
  ];

  it('at boot, before and after a call, and after it at level top', async () => {
    const boot = vmOf();
    const atBoot = await drive(boot, [], {
      kernel: (m) => {
        if (m.request === VMCTL_VMINHIBIT_CLEAR) breakState(boot);
        return OK;
      },
    });
    expect(String(atBoot.error)).toMatch(/E18: .* \[at boot\]$/);
    const entry = vmOf();
    const atEntry = await drive(entry, [prealloc()], { received: () => breakState(entry) });
    expect(String(atEntry.error)).toMatch(new RegExp(`E18: .* \\[at call ${MMAP} entry\\]$`));
    const exit = vmOf();
    await drive(exit, []);
    breakAtPteWrites(exit);
    const atExit = await drive(exit, [prealloc()]);
    expect(String(atExit.error)).toMatch(new RegExp(`E18: .* \\[at call ${MMAP} exit\\]$`));
    const top = vmOf('top');
    await drive(top, []);
    breakAtPteWrites(top);
    const atTop = await drive(top, [prealloc()]);
    expect(String(atTop.error)).toMatch(new RegExp(`E18: .* \\[at VM call ${MMAP}\\]$`));
  });

  it('before and after a page fault, and after it at level top', async () => {
    const entry = vmOf();
    const atEntry = await drive(entry, [notification(HARDWARE)], {
      faults: stackFault(),
      received: () => breakState(entry),
    });
    expect(String(atEntry.error)).toMatch(/E18: .* \[at pagefault entry\]$/);
    const exit = vmOf();
    await drive(exit, []);
    breakAtPteWrites(exit);
    const atExit = await drive(exit, [notification(HARDWARE)], { faults: stackFault() });
    expect(String(atExit.error)).toMatch(/E18: .* \[at pagefault exit\]$/);
    const top = vmOf('top');
    await drive(top, []);
    breakAtPteWrites(top);
    const atTop = await drive(top, [notification(HARDWARE)], { faults: stackFault() });
    expect(String(atTop.error)).toMatch(/E18: .* \[at page fault\]$/);
  });
});

describe('VM main loop: callers and faults it refuses', () => {
  it('notifications get no reply; VM_EXIT (call 0) is dispatched; a slot no longer in use may not call', async () => {
    const v = vmOf('off');
    const p2 = v.vm.procs[2];
    if (p2 === undefined) throw new Error('no slot 2');
    const { sent } = await drive(v, [
      notification(PM_PROC_NR),
      notification(SYSTEM),
      call(P1, VM_EXIT, { endpoint: P2 }),
      call(P2, VM_QUERY_EXIT),
    ]);
    expect(sent.map(([dst, m]) => [dst, m.type])).toEqual([
      [P1, EINVAL],
      [P2, OK],
    ]);
    p2.flags = 0;
    const after = await drive(v, [call(P2, VM_QUERY_EXIT)]);
    expect(after.sent).toEqual([[P2, { type: ENOSYS }]]);
  });

  it('a fault of a process without a page table is refused; a read of a read-only page resolves, a write does not', async () => {
    const v = vmOf();
    await drive(v, []);
    const [p1, p2] = [v.vm.procs[1], v.vm.procs[2]];
    if (p1 === undefined || p2 === undefined) throw new Error('no slots');
    expect(smap(v.vm, p2, HEAP, p1, HEAP, PAGE, false)).toBe(OK);
    v.vm.dirty.clear();
    const faults: Message[] = [
      { type: OK, source: SYSTEM, endpoint: P2, addr: HEAP, write: false },
      { type: OK, source: SYSTEM, endpoint: P2, addr: HEAP, write: 'yes' },
      { type: OK, source: SYSTEM, endpoint: P2, addr: HEAP, write: true },
    ];
    const { calls } = await drive(v, [notification(HARDWARE)], { faults });
    const answers = (cs: Message[]) =>
      cs
        .filter((m) => m.request === VMCTL_CLEAR_PAGEFAULT || m.type === SYS_KILL)
        .map((m) => (m.type === SYS_KILL ? 'kill' : 'clear'));
    expect(answers(calls)).toEqual(['clear', 'clear', 'kill']);
    const bare = vmOf('off');
    await drive(bare, []);
    const b2 = bare.vm.procs[2];
    if (b2 === undefined) throw new Error('no slot 2');
    b2.flags = VMF_INUSE;
    const r = await drive(bare, [notification(HARDWARE)], {
      faults: [{ type: OK, source: SYSTEM, endpoint: P2, addr: HEAP, write: false }],
    });
    expect(answers(r.calls)).toEqual(['kill']);
    const pf = bare.events.filter((e) => e.kind === 'vm' && e.op === 'pagefault');
    expect(pf.map((e) => (e.kind === 'vm' ? e.result : 0))).toEqual([EINVAL]);
  });
});
