// spec/vm.md §11.15 (second half: a DIRECT region after fork) and §11.26 in full: fork with an allocation failing
// at each point in turn, and the undo after the kernel's SYS_FORK itself fails — on VM alone (doFork with a
// stand-in for VM's kernel calls) and in a running system (PM → VM → kernel), with sanity level 'functions'.
import { describe, expect, it } from 'vitest';
import { SYS_FORK, SYS_VMCTL, VMCTL_I386_SETCR3, VM_FORK } from '../../../../src/include/com.ts';
import {
  ANY,
  PM_PROC_NR,
  SELF,
  SYSTEM,
  endpoint,
  endpointSlot,
  makeEndpoint,
} from '../../../../src/include/endpoint.ts';
import { EINVAL, ENOMEM, OK } from '../../../../src/include/errno.ts';
import type { Message, Payload } from '../../../../src/include/ipc.ts';
import { DEFAULT_SERVICE_SPEC } from '../../../../src/include/priv.ts';
import { MAP_ANON, MAP_PREALLOC, MAP_SHARED, VM_PROCSTART, VM_STACKTOP } from '../../../../src/include/vm.ts';
import { PTE } from '../../../../src/hw/mmu.ts';
import { kernelNotify } from '../../../../src/kernel/ipc.ts';
import { RTS } from '../../../../src/kernel/proc.ts';
import type { Proc } from '../../../../src/libsys/proc.ts';
import { vmMapPhys, vmMmap } from '../../../../src/libsys/vm.ts';
import { clearSlot, freeAddressSpace } from '../../../../src/servers/vm/exit.ts';
import { doFork, forkAddressSpace, forkCommit } from '../../../../src/servers/vm/fork.ts';
import { doMapPhys, mmapRegion } from '../../../../src/servers/vm/mmap.ts';
import { pageFault } from '../../../../src/servers/vm/region.ts';
import { smap } from '../../../../src/servers/vm/memreq.ts';
import { createSystem } from '../../../../src/sim/system.ts';
import type { System } from '../../../../src/sim/system.ts';
import { startTestService } from '../../../../src/sim/grantsuites.ts';
import { releaseChild } from '../../../../src/user/safetest.ts';
import { drivenActor } from '../../../helpers/driven.ts';
import type { UnitVm } from './helpers.ts';
import { PAGE, peek, poke, unitVm } from './helpers.ts';

const HEAP = VM_PROCSTART + 4 * PAGE;
const STACK = VM_STACKTOP - 2 * PAGE;
const W = (u: UnitVm, ep: number, v: number): number => u.state.pte(ep, v) & PTE.W;

/** VM's own Proc for doFork: SYS_FORK answers `forkResult` (a new endpoint in the slot on OK); other calls OK. */
function kernelStandIn(forkResult: () => number): { proc: Proc; calls: Payload[] } {
  const calls: Payload[] = [];
  const proc = {
    kernelCall: async (m: Payload): Promise<Message> => {
      calls.push(m);
      if (m.type === SYS_FORK) {
        const r = forkResult();
        return r === OK
          ? { type: OK, source: SYSTEM, child: makeEndpoint(1, m.slot as number) }
          : { type: r, source: SYSTEM };
      }
      return { type: OK, source: SYSTEM };
    },
    notify: async () => OK,
  } as unknown as Proc;
  return { proc, calls };
}

const forkMsg = (parent: number, slot: number): Message => ({
  type: VM_FORK,
  source: PM_PROC_NR,
  endpoint: parent,
  slot,
  program: () => undefined,
  name: 'child',
});

describe('§11.15 a DIRECT region after fork (VM alone)', () => {
  it('memory (for itself) and tty (for a user) map device memory; after fork both sides stay writable and share the frames', async () => {
    const u = unitVm({ slots: [1, 3, 5] });
    const [user, memory, tty] = [u.proc(1), u.proc(3), u.proc(5)];
    const m = (f: Record<string, unknown>, src: number): Message => ({
      type: 0,
      source: endpoint(src),
      ...f,
    });
    const { proc: vmProc } = kernelStandIn(() => OK);
    const mine = await doMapPhys(
      u.vm,
      vmProc,
      m({ endpoint: SELF, phys: 0xa0000, len: 2 * PAGE }, memory.endpoint),
      memory,
    );
    const forUser = await doMapPhys(
      u.vm,
      vmProc,
      m({ endpoint: user.endpoint, phys: 0xb8000, len: PAGE }, tty.endpoint),
      tty,
    );
    expect(typeof mine === 'object' && mine.result).toBe(OK);
    expect(typeof forUser === 'object' && forUser.result).toBe(OK);
    const va = (typeof mine === 'object' ? mine.vaddr : 0) as number;
    const vb = (typeof forUser === 'object' ? forUser.vaddr : 0) as number;
    // A private page too, so that the fork has something to make COW next to the DIRECT region.
    poke(u, memory, HEAP, new Uint8Array(PAGE).fill(1));
    for (const [from, to, v, len] of [
      [3, 6, va, 2 * PAGE],
      [1, 7, vb, PAGE],
    ] as const) {
      const parent = u.proc(from);
      const child = u.proc(to);
      expect(forkAddressSpace(u.vm, parent, child)).toBe(OK);
      forkCommit(u.vm, parent, child, makeEndpoint(1, to));
      u.vm.dirty.clear();
      for (let a = v; a < v + len; a += PAGE) {
        expect(W(u, parent.endpoint, a), `parent W at ${a.toString(16)}`).toBe(PTE.W);
        expect(W(u, child.endpoint, a), `child W at ${a.toString(16)}`).toBe(PTE.W);
        expect(u.state.pte(child.endpoint, a) >>> 12).toBe(u.state.pte(parent.endpoint, a) >>> 12);
      }
      // Writes through either side reach the same device memory.
      poke(u, child, v, Uint8Array.of(0x5a));
      expect(peek(u, parent, v, 1)[0]).toBe(0x5a);
      poke(u, parent, v + 1, Uint8Array.of(0xa5));
      expect(peek(u, child, v + 1, 1)[0]).toBe(0xa5);
    }
    // The private heap page did become COW: read-only in memory and its child.
    expect(W(u, memory.endpoint, HEAP)).toBe(0);
    expect(W(u, u.proc(6).endpoint, HEAP)).toBe(0);
    // The device frames are never handed to (or taken from) the pool: a child's exit leaves their state alone.
    const poolHas = (frame: number): boolean =>
      u.state.freeRanges().some((r) => frame >= r.addr && frame < r.addr + r.size);
    const devices = [0xa0, 0xa1, 0xb8].map(poolHas);
    freeAddressSpace(u.vm, u.proc(7));
    clearSlot(u.vm, u.proc(7));
    freeAddressSpace(u.vm, u.proc(6));
    clearSlot(u.vm, u.proc(6));
    expect([0xa0, 0xa1, 0xb8].map(poolHas)).toEqual(devices);
    expect(peek(u, user, vb + 1, 1)[0]).toBe(0xa5);
    u.state.sanityCheck();
  });
});

describe('§11.26 VM_FORK unwinding, including after SYS_FORK fails (VM alone)', () => {
  it('each allocation failing in turn → ENOMEM; then SYS_FORK failing → its error; parent unchanged, slot free, no leak', async () => {
    const u = unitVm({ slots: [1, 2] });
    const p = u.proc(1);
    // A parent with every kind of reference: a preallocated block, a stack page, a COW-shared page (from an
    // earlier fork into slot 6), an smap mapping, and a SHARED region.
    mmapRegion(u.vm, p, 0, 3 * PAGE, MAP_ANON | MAP_PREALLOC, -1);
    mmapRegion(u.vm, p, 0, 2 * PAGE, MAP_ANON | MAP_SHARED, -1);
    expect(pageFault(u.vm, p, STACK, true)).toBe(OK);
    poke(u, p, HEAP, new Uint8Array(PAGE).fill(3));
    expect(forkAddressSpace(u.vm, p, u.proc(6))).toBe(OK);
    forkCommit(u.vm, p, u.proc(6), makeEndpoint(1, 6));
    u.vm.dirty.clear();
    expect(smap(u.vm, p, HEAP + PAGE, u.proc(2), HEAP, PAGE, true)).toBe(OK);
    u.vm.dirty.clear();
    u.state.sanityCheck();

    let forkResult = OK;
    const k = kernelStandIn(() => forkResult);
    // Twice: the first fork into slot 4 also makes its directory, which later forks reuse.
    let total = 0;
    for (let i = 0; i < 2; i++) {
      const before = u.state.allocCount;
      const r = await doFork(u.vm, k.proc, forkMsg(p.endpoint, 4));
      expect(typeof r === 'object' && r.result).toBe(OK);
      total = u.state.allocCount - before;
      freeAddressSpace(u.vm, u.proc(4));
      clearSlot(u.vm, u.proc(4));
    }
    expect(total).toBeGreaterThan(3);

    const parentView = JSON.stringify(u.state.process(p.endpoint));
    const parentPtes = [HEAP, HEAP + PAGE, STACK, VM_STACKTOP].map((v) => u.state.pte(p.endpoint, v));
    // Live slab objects by class: an unwound fork leaks none (no check rule sees an object nothing points to).
    const slabLive = (): number[] => Object.values(u.state.slabStats().byClass).map((c) => c.live);
    const liveBefore = slabLive();
    const expectUnchanged = (what: string): void => {
      expect(JSON.stringify(u.state.process(p.endpoint)), what).toBe(parentView);
      expect(slabLive(), what).toEqual(liveBefore);
      expect(
        [HEAP, HEAP + PAGE, STACK, VM_STACKTOP].map((v) => u.state.pte(p.endpoint, v)),
        what,
      ).toEqual(parentPtes);
      expect(u.proc(4).flags, what).toBe(0);
      expect(u.state.process(4, true), what).toBeNull();
      u.vm.dirty.clear();
      u.state.sanityCheck();
    };
    const forks = (): number => k.calls.filter((c) => c.type === SYS_FORK).length;
    for (let n = 1; n <= total; n++) {
      const pages = u.state.conservedPages();
      const sysForks = forks();
      u.state.failAfter(n);
      expect(await doFork(u.vm, k.proc, forkMsg(p.endpoint, 4)), `allocation ${n} of ${total}`).toBe(ENOMEM);
      u.state.failAfter(null);
      expect(forks(), 'no SYS_FORK after a failed build').toBe(sysForks);
      expect(u.state.conservedPages()).toBe(pages);
      expectUnchanged(`allocation ${n}`);
    }
    // Every allocation succeeds, then the kernel refuses the fork (no free kernel slot, or an injected failure).
    const binds = (): number =>
      k.calls.filter((c) => c.type === SYS_VMCTL && c.request === VMCTL_I386_SETCR3).length;
    for (const err of [EINVAL, ENOMEM]) {
      const pages = u.state.conservedPages();
      const bound = binds();
      forkResult = err;
      expect(await doFork(u.vm, k.proc, forkMsg(p.endpoint, 4))).toBe(err);
      expect(u.state.conservedPages()).toBe(pages);
      expect(binds(), 'no child page table bound after SYS_FORK failed').toBe(bound);
      expectUnchanged(`SYS_FORK ${err}`);
    }
    // And the slot is usable again.
    forkResult = OK;
    const ok = await doFork(u.vm, k.proc, forkMsg(p.endpoint, 4));
    expect(typeof ok === 'object' && ok.result).toBe(OK);
    expect(u.state.refAt(u.proc(4).endpoint, HEAP)?.refcount).toBe(3);
    expect(u.state.refAt(u.proc(4).endpoint, HEAP + PAGE)?.mode).toBe('private');
    u.vm.dirty.clear();
    u.state.sanityCheck();
  });
});

// ------------------------------------------------------------------ whole system

/** The slot PM's fork will use next (the lowest one PM has no process in). */
function pmNextSlot(sys: System): number {
  const used = new Set([...sys.pm.procs.keys()].map((e) => endpointSlot(e)));
  for (let s = 0; s < sys.config.nrProcs; s++) if (!used.has(s)) return s;
  return -1;
}

describe('§11.26 fork failures in a running system (PM → VM → kernel)', () => {
  it('each VM allocation failing in turn, then SYS_FORK refused (kernel slot taken): error to the caller, parent unchanged, slot free', async () => {
    const sys = await createSystem({ sanity: 'functions', nrProcs: 32 });
    const a = await drivenActor(sys, 'forker', { spawn: {} });
    const region = await a.do(async (p) => {
      const r = await vmMmap(p, 0, 3 * PAGE, MAP_ANON | MAP_PREALLOC);
      await p.write(HEAP, new Uint8Array(2 * PAGE).fill(7));
      await p.writeU32(STACK, 1);
      return r;
    });
    expect(region).toBe(VM_STACKTOP);
    sys.sanityCheck();
    const slot = pmNextSlot(sys);
    expect(sys.kernel.procAt(slot).inUse).toBe(false);
    let parentView = '';
    const checkUnchanged = (what: string): void => {
      expect(JSON.stringify(sys.vm.process(a.ep)), what).toBe(parentView);
      expect(sys.vm.process(slot, true), what).toBeNull();
      expect(sys.pm.procs.size, what).toBe(pmProcs);
      sys.sanityCheck();
    };
    const pmProcs = sys.pm.procs.size;
    const childBody = async (c: Proc): Promise<number> => ((await c.readU8(HEAP)) === 7 ? 0 : 1);
    // One fork first: it gives the slot its directory (kept with the slot) and makes the parent's pages COW.
    const first = await a.do((p) => p.fork(childBody));
    expect(endpointSlot(first)).toBe(slot);
    expect(await a.do((p) => p.wait())).toMatchObject({ endpoint: first, code: 0, signal: 0 });
    parentView = JSON.stringify(sys.vm.process(a.ep));
    // Allocation failures, each point in turn, until the fork needs no more allocations than were allowed.
    let n = 1;
    for (; n < 100; n++) {
      const pages = sys.vm.conservedPages();
      sys.vm.failAfter(n);
      const r = await a.do((p) => p.fork(childBody));
      sys.vm.failAfter(null);
      if (r >= 0) {
        const w = await a.do((p) => p.wait());
        expect(w).toMatchObject({ endpoint: r, code: 0, signal: 0 });
        break;
      }
      expect(r, `allocation ${n}`).toBe(ENOMEM);
      expect(sys.vm.conservedPages(), `allocation ${n}`).toBe(pages);
      expect(sys.kernel.procAt(slot).inUse).toBe(false);
      checkUnchanged(`allocation ${n}`);
    }
    expect(n).toBeGreaterThan(3);
    sys.sanityCheck();
    // Every allocation succeeds but the kernel's SYS_FORK fails: the slot PM chose is taken in the kernel.
    const squatter = sys.kernel.createProcess({
      slot,
      name: 'squatter',
      program: () => new Promise<never>(() => undefined),
      rts: RTS.PROC_STOP,
    });
    const pages = sys.vm.conservedPages();
    const free = sys.vm.freePages();
    const r = await a.do((p) => p.fork(childBody));
    expect(r).toBe(EINVAL);
    expect(sys.vm.conservedPages()).toBe(pages);
    expect(sys.vm.freePages()).toBe(free);
    expect(sys.vm.slotDirectory(slot)).not.toBe(0); // the directory stays with the slot, as on a normal exit
    checkUnchanged('SYS_FORK refused');
    expect(squatter.inUse).toBe(true);
    sys.kernel.terminate(squatter, { code: 0, signal: 0 });
    // The slot works again.
    const child = await a.do((p) => p.fork(childBody));
    expect(child).toBeGreaterThan(0);
    expect(endpointSlot(child)).toBe(slot);
    expect(await a.do((p) => p.wait())).toMatchObject({ endpoint: child, code: 0, signal: 0 });
    sys.sanityCheck();
  });
});

describe('§11.15 a DIRECT region after fork in a running system', () => {
  it('a privileged service maps device memory and forks: the region stays writable in both, writes are shared, nothing is freed', async () => {
    const sys = await createSystem({ sanity: 'functions' });
    const PHYS = 0xa0000;
    const log: string[] = [];
    const state = { v: -1, child: -1, childSaw: -1 };
    const ep = await startTestService(
      sys,
      'fb',
      async (p) => {
        const v = await vmMapPhys(p, PHYS, 2 * PAGE);
        state.v = v;
        if (v < 0) return 1;
        await p.writeU8(v, 0x11);
        await p.writeU8(HEAP, 0x33); // a private page: COW after the fork
        const child = await p.fork(async (c) => {
          state.childSaw = await c.readU8(v);
          await c.writeU8(v + PAGE + 1, 0x22);
          await c.receive(SYSTEM); // stays alive until the host lets it go
          return 0;
        }, 'fb-child');
        state.child = child;
        if (child < 0) return 2;
        await releaseChild(p, child);
        await p.receive(SYSTEM);
        log.push(`parent sees ${await p.readU8(v + PAGE + 1)}`);
        await p.writeU8(v + 2, 0x44);
        for (;;) await p.receive(ANY);
      },
      { priv: { ...DEFAULT_SERVICE_SPEC, physRanges: [{ base: PHYS, length: 2 * PAGE }] } },
    );
    expect(ep).toBeGreaterThan(0);
    expect(state.v).toBeGreaterThan(0);
    expect(state.child).toBeGreaterThan(0);
    expect(state.childSaw).toBe(0x11);
    sys.sanityCheck();
    const v = state.v;
    const child = state.child;
    for (let a = v; a < v + 2 * PAGE; a += PAGE) {
      expect(sys.vm.pte(ep, a) & PTE.W).toBe(PTE.W);
      expect(sys.vm.pte(child, a) & PTE.W).toBe(PTE.W);
      expect(sys.vm.pte(child, a) >>> 12).toBe((PHYS + (a - v)) >>> 12);
      expect(sys.vm.pte(ep, a) >>> 12).toBe((PHYS + (a - v)) >>> 12);
    }
    expect(sys.vm.pte(ep, HEAP) & PTE.W).toBe(0);
    const direct = sys.vm.regions(child).find((r) => r.vaddr === v);
    expect(direct?.length).toBe(2 * PAGE);
    // The parent sees the child's write; the child sees the parent's.
    const kp = sys.kernel.liveProc(ep);
    if (kp === null) throw new Error('fb not live');
    kernelNotify(sys.kernel, SYSTEM, kp);
    await sys.run();
    expect(log).toEqual(['parent sees 34']);
    const buf = new Uint8Array(1);
    sys.mem.read(sys.vm.physAddr(child, v + 2), buf, 0, 1);
    expect(buf[0]).toBe(0x44);
    // The child exits: the device frames are not returned to the pool; the parent's mapping still works.
    const poolHas = (frame: number): boolean =>
      sys.vm.freeRanges().some((r) => frame >= r.addr && frame < r.addr + r.size);
    const devices = [PHYS >>> 12, (PHYS >>> 12) + 1].map(poolHas);
    const ckp = sys.kernel.liveProc(child);
    if (ckp === null) throw new Error('child not live');
    kernelNotify(sys.kernel, SYSTEM, ckp);
    await sys.run();
    expect(sys.kernel.liveProc(child)).toBeNull();
    expect([PHYS >>> 12, (PHYS >>> 12) + 1].map(poolHas)).toEqual(devices);
    expect(sys.vm.physAddr(ep, v)).toBe(PHYS);
    expect(sys.vm.pte(ep, v) & PTE.W).toBe(PTE.W);
    sys.sanityCheck();
  });
});
