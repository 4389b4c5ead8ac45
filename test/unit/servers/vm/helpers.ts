// Test helpers for the VM server: a VM built directly on a PhysMem (no kernel), with full-VM boot processes.
import { makeEndpoint } from '../../../../src/include/endpoint.ts';
import type { BootProcImage, VmBootInfo } from '../../../../src/include/vm.ts';
import { PhysMem } from '../../../../src/hw/physmem.ts';
import type { Proc } from '../../../../src/libsys/proc.ts';
import { createVm } from '../../../../src/servers/vm/main.ts';
import type { VmState } from '../../../../src/servers/vm/main.ts';
import type { SanityLevel, Vm, VmProc } from '../../../../src/servers/vm/glo.ts';
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
export function unitVm(o: { ramMiB?: number; sanity?: SanityLevel; slots?: number[]; sparePages?: number } = {}): UnitVm {
  const ramBytes = (o.ramMiB ?? 16) * MiB;
  const mem = new PhysMem(ramBytes);
  let base = 0x1000 + 128 * 1024;
  const procs: BootProcImage[] = [];
  for (const slot of o.slots ?? [1, 2]) {
    procs.push({ slot, endpoint: makeEndpoint(0, slot), name: `p${slot}`, fullVm: true, base, textPages: 4, dataPages: 4, stackPages: 2, vmCalls: 'all' });
    base += 10 * PAGE;
  }
  const boot: VmBootInfo = { ramBytes, kernelBase: 0x1000, kernelBytes: 128 * 1024, procs, nrProcs: 16 };
  const { state } = createVm({ sanity: o.sanity ?? 'functions', nrProcs: 16, ...(o.sparePages !== undefined ? { sparePages: o.sparePages } : {}) }, boot, mem, null);
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

/** A stand-in for VM's own Proc where a handler makes kernel calls (VMINHIBIT, flush): they all succeed. */
export const fakeVmProc = {
  kernelCall: async () => ({ type: 0, source: -2 }),
  notify: async () => 0,
} as unknown as Proc;

/** Reads n bytes at vaddr of vmp through VM's own metadata (not the MMU). */
export function peek(u: UnitVm, vmp: VmProc, vaddr: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let done = 0; done < n; ) {
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
  for (let done = 0; done < bytes.length; ) {
    const v = vaddr + done;
    const k = Math.min(bytes.length - done, PAGE - (v % PAGE));
    const pa = u.state.physAddr(vmp.endpoint, v);
    if (pa < 0) throw new Error(`poke: 0x${v.toString(16)} not present`);
    u.mem.write(pa, bytes, done, k);
    done += k;
  }
}
