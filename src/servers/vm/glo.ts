// Models VM's global state (servers/vm/glo.h, vmproc.h, vm.h): the configuration, the vmproc table, and the
// context object every VM file works on. Entry points: VmConfig, defaultVmConfig, VmProc, Vm, VMF_*.
// DIVERGES: VM's state is host-side objects; only its internal pages (slab, tables, spares) are charged to RAM.
import { endpointSlot } from '../../include/endpoint.ts';
import type { TraceSink } from '../../include/trace.ts';
import type { PhysMem } from '../../hw/physmem.ts';
import type { PhysAlloc } from './alloc.ts';
import type { Slab, SlabClass } from './slab.ts';
import type { PageTable } from './pagetable.ts';
import type { Region } from './region.ts';

export type SanityLevel = 'off' | 'top' | 'functions' | 'detail';

export interface VmConfig {
  sanity: SanityLevel;
  /** VM's reserve of pages for its own allocations (SPAREPAGES). */
  sparePages: number;
  /** Nominal object sizes; objects per slab page = ⌊(4096 − 64) / size⌋. */
  slabObjectBytes: Readonly<Record<SlabClass, number>>;
  nrProcs: number;
  tlbEntries: number;
  /** Copy-on-write break: 'block' copies the whole shared block (MINIX); 'page' splits it and copies the written pages. */
  cowBreak: 'block' | 'page';
}

/** Every VM configuration default, in one place. */
export const defaultVmConfig: VmConfig = {
  sanity: 'off',
  sparePages: 25,
  slabObjectBytes: { region: 48, physRegion: 24, physBlock: 24, avlNode: 20 },
  nrProcs: 100,
  tlbEntries: 64,
  cowBreak: 'block',
};

/** vmproc flags. */
export const VMF_INUSE = 0x1;
export const VMF_HASPT = 0x4;
export const VMF_EXITING = 0x8;

/** One vmproc slot. `regions` is kept sorted by vaddr; heap is one of them (tag HEAP) or null. */
export interface VmProc {
  readonly slot: number;
  /** Program name (for inspection). */
  name: string;
  flags: number;
  endpoint: number;
  pt: PageTable;
  stacktop: number;
  regions: Region[];
  heap: Region | null;
  /** Bit c set: the process may make VM call c (VM_RQ_BASE + c). */
  callMask: Uint8Array;
  /** Physical ranges this process may map with VM_MAP_PHYS (its priv's memory ranges). */
  physRanges: readonly { base: number; length: number }[];
}

/** What VM may see of the machine besides RAM, for its sanity checks and trace (wired by the system). */
export interface MachineView {
  /** The TLB contents of the process in `slot` (F22), or null. */
  tlbEntries?(slot: number): readonly { vpage: number; frame: number; writable: boolean }[] | null;
  /** The kernel's step counter, stamped on VM trace events. */
  step?(): number;
}

/** Allocation failure injection: the `failAt`-th fallible allocation from now fails (counting from 1). */
export interface Injection {
  /** Fallible allocations made so far (physical and slab). */
  count: number;
  /** Absolute value of `count` at which an allocation fails; 0 = never. */
  failAt: number;
}

/** VM event counters: copies made to break copy-on-write sharing. */
/** What VM has copied so far. */
export interface VmCounts {
  /** Times VM gave a process a private copy of a shared block (a copy-on-write break, or a safemap snapshot). */
  cowBreaks: number;
  /** Pages VM copied for those private copies. */
  cowPagesCopied: number;
}

/** The context every VM function works on. */
export interface Vm {
  readonly config: VmConfig;
  readonly mem: PhysMem;
  readonly nPages: number;
  readonly alloc: PhysAlloc;
  readonly slab: Slab;
  /** vmproc table, indexed by slot. */
  readonly procs: VmProc[];
  /** EXECTMP: the old image while an exec builds the new one. */
  readonly exectmp: VmProc;
  /** Directory frame each slot got on its first pt_new (kept forever), 0 = none yet. */
  readonly slotDirs: Int32Array;
  /** Frame of the page-directory-pointer page. */
  pagedirs: number;
  /** Spare pages for VM's own allocations. */
  readonly spares: number[];
  /** Reserved boot memory (page 0, kernel, non-full-VM images): [firstPage, pages). */
  readonly reserved: { page: number; pages: number }[];
  /** Processes whose PTEs changed since their TLB was last flushed. */
  readonly dirty: Set<VmProc>;
  /**
   * Processes whose regions or page tables changed since the last check, for the incremental check
   * (sanity.ts changesCheck); null when no incremental checker is installed, so tracking costs one null test.
   */
  touched: Set<VmProc> | null;
  readonly inject: Injection;
  /** What VM has done so far, for inspection (VmState.counts). */
  readonly counts: VmCounts;
  /** VM_NOTIFY_SIG table: endpoints waiting for VM_QUERY_EXIT (NONE = empty). */
  readonly notifySig: number[];
  /** True while a request is being handled (EXECTMP may be in use, TLB flushes may be owed). */
  busy: boolean;
  trace: TraceSink | null;
  view: MachineView | null;
}

/** vmp's regions or page table changed: the incremental check, when installed, must visit it. */
export function touch(vm: Vm, vmp: VmProc): void {
  vm.touched?.add(vmp);
}

/** vmp's PTEs changed: its TLB flush is owed, and the incremental check must visit it. */
export function markDirty(vm: Vm, vmp: VmProc): void {
  vm.dirty.add(vmp);
  vm.touched?.add(vmp);
}

/** A fallible allocation is about to happen: true if fault injection says it must fail. */
export function injectFail(vm: Pick<Vm, 'inject'>): boolean {
  const i = vm.inject;
  i.count++;
  return i.failAt !== 0 && i.count === i.failAt;
}

/** A 'vm' trace event, when tracing. */
export function vmTrace(vm: Vm, op: string, ep: number, extra?: { vaddr?: number; pages?: number; result?: number }): void {
  const sink = vm.trace;
  if (sink === null) return;
  const step = vm.view?.step?.() ?? 0;
  sink({ step, kind: 'vm', op, ep, ...extra });
}

/** The in-use vmproc holding endpoint `ep` (live per VM's table), or null. */
export function vmpOf(vm: Vm, ep: unknown): VmProc | null {
  if (typeof ep !== 'number' || !Number.isInteger(ep)) return null;
  const vmp = vm.procs[endpointSlot(ep)];
  return vmp !== undefined && (vmp.flags & VMF_INUSE) !== 0 && vmp.endpoint === ep ? vmp : null;
}

/** A handler's answer: a result code, or a result with reply fields. */
export type VmReply = number | { result: number; [field: string]: unknown };
