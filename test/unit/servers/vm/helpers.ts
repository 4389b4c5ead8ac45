// Test helpers for the VM server: a VM built directly on a PhysMem (no kernel), with full-VM boot processes.
import { makeEndpoint } from '../../../../src/include/endpoint.ts';
import type { BootProcImage, VmBootInfo } from '../../../../src/include/vm.ts';
import { PhysMem } from '../../../../src/hw/physmem.ts';
import type { Proc } from '../../../../src/libsys/proc.ts';
import { OK } from '../../../../src/include/errno.ts';
import { forkAddressSpace, forkCommit } from '../../../../src/servers/vm/fork.ts';
import { createVm } from '../../../../src/servers/vm/main.ts';
import type { VmState } from '../../../../src/servers/vm/main.ts';
import type { SanityLevel, Vm, VmConfig, VmProc } from '../../../../src/servers/vm/glo.ts';
import { MiB } from '../../../../src/lib/units.ts';

export const PAGE = 4096;

export interface UnitVm {
  vm: Vm;
  state: VmState;
  mem: PhysMem;
  /** The vmproc in slot s. */
  proc(s: number): VmProc;
}

/**
 * A VM over `ramMiB` of RAM with full-VM boot processes in the given slots (text 4, data 4, stack 2 pages each),
 * nrProcs 16. Slot 3 is 'memory', slot 5 'tty' by MINIX's numbering.
 */
export function unitVm(
  o: {
    ramMiB?: number;
    sanity?: SanityLevel;
    slots?: number[];
    sparePages?: number;
    cowBreak?: VmConfig['cowBreak'];
  } = {},
): UnitVm {
  const ramBytes = (o.ramMiB ?? 16) * MiB;
  const mem = new PhysMem(ramBytes);
  let base = 0x1000 + 128 * 1024;
  const procs: BootProcImage[] = [];
  for (const slot of o.slots ?? [1, 2]) {
    procs.push({
      slot,
      endpoint: makeEndpoint(0, slot),
      name: `p${slot}`,
      fullVm: true,
      base,
      textPages: 4,
      dataPages: 4,
      stackPages: 2,
      vmCalls: 'all',
    });
    base += 10 * PAGE;
  }
  const boot: VmBootInfo = { ramBytes, kernelBase: 0x1000, kernelBytes: 128 * 1024, procs, nrProcs: 16 };
  const config: Partial<VmConfig> = {
    sanity: o.sanity ?? 'functions',
    nrProcs: 16,
    cowBreak: o.cowBreak ?? 'block',
  };
  if (o.sparePages !== undefined) config.sparePages = o.sparePages;
  const { state } = createVm(config, boot, mem, null);
  const vm = state.internals;
  return {
    vm,
    state,
    mem,
    proc(s) {
      const p = vm.procs[s];
      if (p === undefined) throw new Error(`no slot ${s}`);
      return p;
    },
  };
}

/** Forks slot `from` into slot `to` as VM_FORK would (without the kernel); TLB flushes taken as done. */
export function fork(u: UnitVm, from: number, to: number): number {
  const parent = u.proc(from);
  const child = u.proc(to);
  const r = forkAddressSpace(u.vm, parent, child);
  if (r === OK) forkCommit(u.vm, parent, child, makeEndpoint(1, to));
  u.vm.dirty.clear();
  return r;
}

/** A stand-in for VM's own Proc where a handler makes kernel calls (VMINHIBIT, flush): they all succeed. */
export const fakeVmProc = {
  kernelCall: async () => ({ type: 0, source: -2 }),
  notify: async () => 0,
} as unknown as Proc;

/** Reads n bytes at vaddr of vmp through VM's own metadata (not the MMU). */
export function peek(u: UnitVm, vmp: VmProc, vaddr: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let done = 0; done < n;) {
    const v = vaddr + done;
    const k = Math.min(n - done, PAGE - (v % PAGE));
    const pa = u.state.physAddr(vmp.endpoint, v);
    if (pa < 0) throw new Error(`peek: 0x${v.toString(16)} not present`);
    u.mem.read(pa, out, done, k);
    done += k;
  }
  return out;
}

/** Writes bytes at vaddr of vmp through VM's metadata (pages must be present). */
export function poke(u: UnitVm, vmp: VmProc, vaddr: number, bytes: Uint8Array): void {
  for (let done = 0; done < bytes.length;) {
    const v = vaddr + done;
    const k = Math.min(bytes.length - done, PAGE - (v % PAGE));
    const pa = u.state.physAddr(vmp.endpoint, v);
    if (pa < 0) throw new Error(`poke: 0x${v.toString(16)} not present`);
    u.mem.write(pa, bytes, done, k);
    done += k;
  }
}

/**
 * A VM of 16 MiB booted with two processes: 'full' (slot 1, a page table and its regions) and 'bare' (slot 6, no
 * page table), with sanity at 'functions'.
 */
export function fullAndBareVm(): VmState {
  const ramBytes = 16 * MiB;
  const image = (slot: number, name: string, fullVm: boolean, base: number): BootProcImage => ({
    slot,
    endpoint: makeEndpoint(0, slot),
    name,
    fullVm,
    base,
    textPages: 1,
    dataPages: 1,
    stackPages: 1,
    vmCalls: 'all',
  });
  const boot: VmBootInfo = {
    ramBytes,
    kernelBase: 0x1000,
    kernelBytes: 128 * 1024,
    nrProcs: 16,
    procs: [image(1, 'full', true, 0x21000), image(6, 'bare', false, 0x30000)],
  };
  return createVm({ sanity: 'functions', nrProcs: 16 }, boot, new PhysMem(ramBytes), null).state;
}
