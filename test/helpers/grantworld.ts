// A bare kernel with scripted processes ("actors") for grant tests: each actor is a system process with an
// identity extent of memory (or, with `paged`, a hand-built page table) that waits in receive and runs the
// actions the host gives it one at a time. A fake VM (optional) answers the kernel's memory requests with a
// test-supplied handler. No servers.
import { Kernel } from '../../src/kernel/kernel.ts';
import type { KernelConfig } from '../../src/kernel/kernel.ts';
import { makeSystemPriv } from '../../src/kernel/priv.ts';
import type { KProc } from '../../src/kernel/proc.ts';
import { kernelNotify } from '../../src/kernel/ipc.ts';
import type { PrivSpec } from '../../src/include/priv.ts';
import { ANY, SYSTEM, VM_PROC_NR } from '../../src/include/endpoint.ts';
import type { Endpoint } from '../../src/include/endpoint.ts';
import { ESRCH, OK } from '../../src/include/errno.ts';
import { SYS_VMCTL, VMCTL_MEMREQ_GET, VMCTL_MEMREQ_REPLY } from '../../src/include/com.ts';
import { numField } from '../../src/include/ipc.ts';
import type { Message } from '../../src/include/ipc.ts';
import type { TraceEvent } from '../../src/include/trace.ts';
import { PhysMem } from '../../src/hw/physmem.ts';
import { PTE, mapPage } from '../../src/hw/mmu.ts';
import { Proc, toProgram } from '../../src/libsys/proc.ts';
import { cpfSetAllocator, extentGrantAllocator } from '../../src/libsys/grant.ts';
import { MiB, PAGE } from './bytes.ts';

export const ALL: PrivSpec = { ipcTo: 'all', kernelCalls: 'all', vmCalls: 'all' };
export { MiB };

export interface Actor {
  readonly name: string;
  readonly p: Proc;
  readonly kp: KProc;
  readonly ep: Endpoint;
  /** First byte of the actor's memory (identity extent, or the first mapped virtual page when paged). */
  readonly base: number;
  /** Runs `fn` inside the process and returns its value once the system is idle again. */
  do<T>(fn: (p: Proc) => Promise<T>): Promise<T>;
  /** Queues `fn` without running the system; `result()` gives its value after a later run. */
  start<T>(fn: (p: Proc) => Promise<T>): { result(): T; done(): boolean };
  /** The process exits (its program calls exit). */
  exit(): Promise<void>;
  /** Host-side view of the actor's memory (kernel walk, no faults). */
  peek(v: number, n: number): Uint8Array;
  poke(v: number, bytes: Uint8Array): void;
  /** Paged actors: map virtual page v to a fresh zeroed frame (writable unless ro); unmap with unmapPage. */
  mapPage(v: number, writable?: boolean): void;
  unmapPage(v: number): void;
}

/** One memory request as VM sees it (VMCTL_MEMREQ_GET), answered with the handler's result. */
export type FakeVmHandler = (req: Message) => number;

export interface World {
  k: Kernel;
  trace: TraceEvent[];
  actor(slot: number, name: string, options?: { spec?: PrivSpec; paged?: boolean }): Actor;
  /** A VM at VM_PROC_NR that answers memory requests with `handler`; requests are logged. */
  fakeVm(handler: FakeVmHandler): { requests: Message[] };
}

export function grantWorld(config: Partial<KernelConfig> & { ramBytes?: number } = {}): World {
  const { ramBytes = 16 * MiB, ...kconfig } = config;
  const trace: TraceEvent[] = [];
  const mem = new PhysMem(ramBytes);
  const k = new Kernel(mem, { signalsToPm: false, trace: (e) => trace.push(e), ...kconfig });
  let nextExtent = 1;
  // Frames for hand-built page tables and pages come from the top quarter of RAM.
  let nextFrame = Math.floor((ramBytes * 3) / 4 / PAGE);
  const allocFrame = (): number => {
    const f = nextFrame++;
    mem.zero(f * PAGE, PAGE);
    return f;
  };

  function actor(slot: number, name: string, options: { spec?: PrivSpec; paged?: boolean } = {}): Actor {
    const queue: ((p: Proc) => Promise<void>)[] = [];
    const paged = options.paged === true;
    const base = paged ? 0x1000_0000 : nextExtent * MiB;
    const length = MiB;
    if (!paged) nextExtent++;
    const kp = k.createProcess({
      slot,
      name,
      program: toProgram(k, async (p) => {
        cpfSetAllocator(p, extentGrantAllocator(base + length / 2, length / 2));
        for (;;) {
          await p.receive(ANY);
          const a = queue.shift();
          if (a !== undefined) await a(p);
        }
      }),
      priv: makeSystemPriv(k.newPrivId(), options.spec ?? ALL),
      priority: 4,
      generation: 0,
    });
    if (paged) {
      kp.dirFrame = allocFrame();
      // The table storage half is mapped from the start so the library can work without VM.
      for (let v = base + length / 2; v < base + length; v += PAGE)
        mapPage(mem, kp.dirFrame, v, allocFrame(), PTE.P | PTE.W | PTE.U, allocFrame);
    } else kp.extent = { base, length };
    const p = new Proc(k, kp);
    const phys = (v: number): number => {
      if (!paged) return v;
      const pa = k.mem.pteRead(kp.dirFrame, v >>> 22);
      if ((pa & PTE.P) === 0) throw new Error(`peek: ${v.toString(16)} not mapped`);
      const pte = k.mem.pteRead(pa >>> 12, (v >>> 12) & 0x3ff);
      if ((pte & PTE.P) === 0) throw new Error(`peek: ${v.toString(16)} not mapped`);
      return (pte & 0xfffff000) + (v & 0xfff);
    };
    const start = <T>(fn: (p: Proc) => Promise<T>): { result(): T; done(): boolean } => {
      let done = false;
      let value: T | undefined;
      let error: unknown = undefined;
      queue.push(async (pp) => {
        try {
          value = await fn(pp);
        } catch (e) {
          error = e;
        }
        done = true;
      });
      kernelNotify(k, SYSTEM, kp);
      return {
        done: () => done,
        result: () => {
          if (error !== undefined)
            throw error instanceof Error ? error : new Error('action failed', { cause: error });
          if (!done) throw new Error(`${name}: action did not complete (blocked)`);
          return value as T;
        },
      };
    };
    return {
      name,
      p,
      kp,
      ep: kp.endpoint,
      base,
      start,
      async do<T>(fn: (p: Proc) => Promise<T>): Promise<T> {
        const h = start(fn);
        await k.run();
        return h.result();
      },
      async exit() {
        start(async (pp) => pp.exit(0));
        await k.run();
        if (kp.inUse) throw new Error(`${name}: still alive after exit`);
      },
      peek(v, n) {
        const out = new Uint8Array(n);
        for (let i = 0; i < n; i++) mem.read(phys(v + i), out, i, 1);
        return out;
      },
      poke(v, bytes) {
        for (let i = 0; i < bytes.length; i++) mem.write(phys(v + i), bytes, i, 1);
      },
      mapPage(v, writable = true) {
        mapPage(mem, kp.dirFrame, v, allocFrame(), PTE.P | PTE.U | (writable ? PTE.W : 0), allocFrame);
        kp.tlb.flush();
      },
      unmapPage(v) {
        const pde = mem.pteRead(kp.dirFrame, v >>> 22);
        if ((pde & PTE.P) !== 0) mem.pteWrite(pde >>> 12, (v >>> 12) & 0x3ff, 0);
        kp.tlb.flush();
      },
    };
  }

  function fakeVm(handler: FakeVmHandler): { requests: Message[] } {
    const requests: Message[] = [];
    k.createProcess({
      slot: VM_PROC_NR,
      name: 'fakevm',
      program: toProgram(k, async (p) => {
        for (;;) {
          await p.receive(ANY);
          for (;;) {
            const r = await p.kernelCall({ type: SYS_VMCTL, request: VMCTL_MEMREQ_GET });
            if (r.type === ESRCH) break;
            if (r.type !== OK) throw new Error(`MEMREQ_GET ${r.type}`);
            requests.push(r);
            const value = handler(r);
            await p.kernelCall({
              type: SYS_VMCTL,
              request: VMCTL_MEMREQ_REPLY,
              requestor: numField(r, 'requestor'),
              value,
            });
          }
        }
      }),
      priv: makeSystemPriv(k.newPrivId(), ALL),
      priority: 2,
      generation: 0,
    });
    return { requests };
  }

  return { k, trace, actor, fakeVm };
}
