// Read-only introspection of the VM server for tests, the system and the browser view (spec/vm.md §8.10): regions
// and references per process, blocks, PTEs, free ranges, slab statistics, page counts, the sanity check, and the
// fault-injection knob. Entry points: VmState.
import { endpointSlot } from '../../include/endpoint.ts';
import { USER_PDE_FIRST, VR_ANON, VR_DIRECT, VR_LOWER16MB, VR_LOWER1MB, VR_NOPF, VR_PHYS64K, VR_SHARED, VR_WRITABLE, VRT_HEAP } from '../../include/vm.ts';
import { PAGE_SIZE } from '../../lib/units.ts';
import type { MachineView, Vm, VmConfig, VmProc } from './glo.ts';
import { VMF_HASPT, VMF_INUSE } from './glo.ts';
import { PDE_ENTRIES, ptReadPte } from './pagetable.ts';
import type { PhysRegion, Region } from './region.ts';
import { findRegion, refAt } from './region.ts';
import { fullCheck } from './sanity.ts';
import type { SlabStats } from './slab.ts';

export interface RefView {
  /** Offset of the block in its region, bytes. */
  offset: number;
  vaddr: number;
  phys: number;
  length: number;
  refcount: number;
  mode: 'private' | 'smap';
  smapWritable: boolean;
}

export interface RegionView {
  vaddr: number;
  length: number;
  flags: number;
  tag: number;
  isHeap: boolean;
  refs: RefView[];
}

export interface ProcView {
  slot: number;
  endpoint: number;
  flags: number;
  hasPageTable: boolean;
  dirFrame: number;
  regions: RegionView[];
}

function refView(r: Region, ref: PhysRegion): RefView {
  return {
    offset: ref.offset,
    vaddr: r.vaddr + ref.offset,
    phys: ref.block.phys,
    length: ref.block.length,
    refcount: ref.block.refcount,
    mode: ref.mode,
    smapWritable: ref.smapWritable,
  };
}

export interface VmSnapshot {
  memory: {
    totalPages: number;
    freePages: number;
    usedPages: number;
    anonPages: number;
    internalPages: number;
    reservedPages: number;
    largestFreeRange: number;
  };
  freeRanges: { addr: number; pages: number }[];
  processes: {
    slot: number;
    name: string;
    endpoint: number;
    hasPageTable: boolean;
    regions: { vaddr: number; length: number; presentPages: number; flags: string; tag: string }[];
  }[];
  slab: SlabStats;
}

const FLAG_NAMES: [number, string][] = [
  [VR_ANON, 'ANON'],
  [VR_DIRECT, 'DIRECT'],
  [VR_SHARED, 'SHARED'],
  [VR_WRITABLE, 'WRITABLE'],
  [VR_NOPF, 'NOPF'],
  [VR_PHYS64K, 'PHYS64K'],
  [VR_LOWER16MB, 'LOWER16MB'],
  [VR_LOWER1MB, 'LOWER1MB'],
];

/** 'ANON|WRITABLE' for a region's flags. */
export function flagNames(flags: number): string {
  return FLAG_NAMES.filter(([bit]) => (flags & bit) !== 0).map(([, n]) => n).join('|');
}

export class VmState {
  constructor(private readonly vm: Vm) {}

  get config(): Readonly<VmConfig> {
    return this.vm.config;
  }

  /** Pages of RAM VM manages. */
  get totalPages(): number {
    return this.vm.nPages;
  }

  get pagedirsFrame(): number {
    return this.vm.pagedirs;
  }

  /** Lets VM see TLBs (check F22) and the kernel's step counter (trace). */
  setMachineView(view: MachineView): void {
    this.vm.view = view;
  }

  private vmpOf(epOrSlot: number, bySlot: boolean): VmProc | null {
    const vmp = this.vm.procs[bySlot ? epOrSlot : endpointSlot(epOrSlot)];
    if (vmp === undefined || (vmp.flags & VMF_INUSE) === 0) return null;
    return bySlot || vmp.endpoint === epOrSlot ? vmp : null;
  }

  processes(): ProcView[] {
    return this.vm.procs.filter((p) => (p.flags & VMF_INUSE) !== 0).map((p) => this.procView(p));
  }

  /** The process with endpoint ep (or, with bySlot, in slot ep), or null. */
  process(ep: number, bySlot = false): ProcView | null {
    const vmp = this.vmpOf(ep, bySlot);
    return vmp === null ? null : this.procView(vmp);
  }

  private procView(p: VmProc): ProcView {
    return {
      slot: p.slot,
      endpoint: p.endpoint,
      flags: p.flags,
      hasPageTable: (p.flags & VMF_HASPT) !== 0,
      dirFrame: p.pt.dir,
      regions: p.regions.map((r) => ({
        vaddr: r.vaddr,
        length: r.length,
        flags: r.flags,
        tag: r.tag,
        isHeap: r === p.heap,
        refs: [...r.refs.entries()].map(([, ref]) => refView(r, ref)),
      })),
    };
  }

  regions(ep: number): RegionView[] {
    return this.process(ep)?.regions ?? [];
  }

  /** The reference mapping vaddr of ep (block, refcount, mode), or null. */
  refAt(ep: number, vaddr: number): RefView | null {
    const vmp = this.vmpOf(ep, false);
    const r = vmp === null ? null : findRegion(vmp, vaddr);
    if (r === null) return null;
    const ref = refAt(r, vaddr - r.vaddr);
    return ref === null ? null : refView(r, ref);
  }

  /** The PTE for vaddr of ep (0 when none). */
  pte(ep: number, vaddr: number): number {
    const vmp = this.vmpOf(ep, false);
    return vmp === null || vmp.pt.dir === 0 ? 0 : ptReadPte(this.vm.mem, vmp.pt, vaddr);
  }

  /** Directory frame ever allocated for a slot (0 = none). */
  slotDirectory(slot: number): number {
    return this.vm.slotDirs[slot] ?? 0;
  }

  freeRanges(): { addr: number; size: number }[] {
    return this.vm.alloc.ranges();
  }

  /** Pages reserved for good at boot (page 0, the kernel, the boot images), as page ranges. */
  reservedRanges(): { page: number; pages: number }[] {
    return this.vm.reserved.map((r) => ({ ...r }));
  }

  freePages(): number {
    return this.vm.alloc.freeCount;
  }

  usedPages(): number {
    return this.vm.nPages - this.vm.alloc.freeCount;
  }

  largestFreeRange(): number {
    return this.vm.alloc.largestRange();
  }

  slabStats(): SlabStats {
    return this.vm.slab.stats();
  }

  /** VM-internal pages: slab pages, pointer page, directories, table frames, spares. */
  internalPages(): number {
    const vm = this.vm;
    let n = vm.slab.stats().pages + 1 + vm.spares.length;
    for (const d of vm.slotDirs) if (d !== 0) n++;
    for (const p of [...vm.procs, vm.exectmp]) for (let i = USER_PDE_FIRST; i < PDE_ENTRIES; i++) if ((p.pt.tables[i] ?? 0) !== 0) n++;
    return n;
  }

  spareCount(): number {
    return this.vm.spares.length;
  }

  /** Free pages plus pages VM holds for itself that a failed operation may have grown (slab, spares). */
  conservedPages(): number {
    return this.vm.alloc.freeCount + this.vm.slab.stats().pages + this.vm.spares.length;
  }

  /** The full check (spec/vm.md §10, rules A–G), whatever the configured level. Panics naming the rule. */
  sanityCheck(): void {
    fullCheck(this.vm, 'sanityCheck()');
  }

  /** Fallible allocations (physical and slab) made so far. */
  get allocCount(): number {
    return this.vm.inject.count;
  }

  /** Makes the n-th fallible allocation from now fail (n ≥ 1); 0 or null disables injection. */
  failAfter(n: number | null): void {
    this.vm.inject.failAt = n === null || n <= 0 ? 0 : this.vm.inject.count + n;
  }

  /** True while VM is inside a request. */
  get busy(): boolean {
    return this.vm.busy;
  }

  /** Bytes of physical memory at a virtual address of ep per VM's metadata, or -1. */
  physAddr(ep: number, vaddr: number): number {
    const ref = this.refAt(ep, vaddr);
    return ref === null ? -1 : ref.phys + (vaddr - ref.vaddr);
  }

  /** A plain, serialisable snapshot for inspection (CLI, browser view). */
  snapshot(): VmSnapshot {
    const vm = this.vm;
    const internal = this.internalPages();
    let reserved = 0;
    for (const r of vm.reserved) reserved += r.pages;
    const used = this.usedPages();
    return {
      memory: {
        totalPages: vm.nPages,
        freePages: vm.alloc.freeCount,
        usedPages: used,
        anonPages: used - internal - reserved,
        internalPages: internal,
        reservedPages: reserved,
        largestFreeRange: vm.alloc.largestRange(),
      },
      freeRanges: vm.alloc.ranges().map((r) => ({ addr: r.addr, pages: r.size })),
      processes: vm.procs
        .filter((p) => (p.flags & VMF_INUSE) !== 0)
        .map((p) => ({
          slot: p.slot,
          name: p.name,
          endpoint: p.endpoint,
          hasPageTable: (p.flags & VMF_HASPT) !== 0,
          regions: p.regions.map((r) => {
            let present = 0;
            for (const [, ref] of r.refs.entries()) present += ref.block.length / PAGE_SIZE;
            return { vaddr: r.vaddr, length: r.length, presentPages: present, flags: flagNames(r.flags), tag: r.tag === VRT_HEAP ? 'HEAP' : 'NONE' };
          }),
        })),
      slab: vm.slab.stats(),
    };
  }

  /** Test hook: the internal context (for unit tests of VM's own modules only). */
  get internals(): Vm {
    return this.vm;
  }

  static pageSize = PAGE_SIZE;
}
