// Read-only introspection of the VM server for tests, the system and the browser view (spec/vm.md §8.10): regions
// and references per process, blocks, PTEs, free ranges, slab statistics, page counts, the sanity checks (full and
// incremental), and the fault-injection knob. Entry points: VmState.
import { endpointSlot } from '../../include/endpoint.ts';
import { USER_PDE_FIRST, VR_ANON, VR_DIRECT, VR_LOWER16MB, VR_LOWER1MB, VR_NOPF, VR_PHYS64K, VR_SHARED, VR_WRITABLE, VRT_HEAP } from '../../include/vm.ts';
import { PAGE_SIZE } from '../../lib/units.ts';
import type { MachineView, Vm, VmConfig, VmCounts, VmProc } from './glo.ts';
import { VMF_HASPT, VMF_INUSE } from './glo.ts';
import { PDE_ENTRIES, ptReadPte } from './pagetable.ts';
import type { PageTable } from './pagetable.ts';
import { PTE } from '../../hw/mmu.ts';
import type { PhysMem } from '../../hw/physmem.ts';
import { panic } from '../../lib/assert.ts';
import type { PhysRegion, Region } from './region.ts';
import { findRegion, refAt } from './region.ts';
import { changesCheck, fullCheck, trackChanges } from './sanity.ts';
import type { SlabStats } from './slab.ts';

/** One reference of a region to a physical block (phys_region): where it is mapped and how it is shared. */
export interface RefView {
  /** Offset of the block in its region, bytes. */
  offset: number;
  /** Virtual address of the block's first byte in the process. */
  vaddr: number;
  /** Physical address of the block's first byte. */
  phys: number;
  /** Length of the block, bytes (a page multiple). */
  length: number;
  /** References to the block from all processes: above 1, it is shared. */
  refcount: number;
  /** 'private' (copy-on-write when shared) or 'smap' (shared through safemap). */
  mode: 'private' | 'smap';
  /** smap mode: the mapping is writable. */
  smapWritable: boolean;
}

/** One region of a process's address space as VM keeps it (vir_region). */
export interface RegionView {
  /** Start address, bytes (page-aligned). */
  vaddr: number;
  /** Length, bytes. */
  length: number;
  /** VR_* flags (e.g. ANON, WRITABLE, SHARED, DIRECT). */
  flags: number;
  /** VRT_HEAP for the heap, else VRT_NONE. */
  tag: number;
  /** The region brk grows. */
  isHeap: boolean;
  /** Its present blocks, in offset order. */
  refs: RefView[];
}

/** One process as VM knows it (vmproc). */
export interface ProcView {
  /** Process table slot. */
  slot: number;
  /** Its endpoint. */
  endpoint: number;
  /** VMF_* flags. */
  flags: number;
  /** VM gave it a page table (false for boot processes VM does not manage). */
  hasPageTable: boolean;
  /** Physical frame of its page directory (0 without a page table). */
  dirFrame: number;
  /** Its regions, in address order. */
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

/** VM's view of memory at one moment (Snapshot.vm): page counts, free ranges, each process's regions (vm.md §3, §5). Pages are 4096 bytes. */
export interface VmSnapshot {
  /** Physical memory, in pages. */
  memory: {
    /** Pages of RAM. */
    totalPages: number;
    /** Pages on VM's free list. */
    freePages: number;
    /** totalPages - freePages: anonPages + internalPages + reservedPages. */
    usedPages: number;
    /** Pages holding process memory. */
    anonPages: number;
    /** VM's own pages: slab, directory pointers, page directories and tables, spares. */
    internalPages: number;
    /** Pages reserved at boot for good: page 0, the kernel image, boot images VM does not manage. */
    reservedPages: number;
    /** Pages in the largest run of contiguous free pages. */
    largestFreeRange: number;
  };
  /** The free list as runs of contiguous free pages, in address order. */
  freeRanges: {
    /** First free page (physical frame number). */
    addr: number;
    /** Number of pages in the run. */
    pages: number;
  }[];
  /** Every process VM knows, with its address space. */
  processes: {
    /** Process table slot. */
    slot: number;
    /** Process name. */
    name: string;
    /** The process's endpoint. */
    endpoint: number;
    /** VM gave it a page table (false for boot processes VM does not manage). */
    hasPageTable: boolean;
    /** Its regions, in address order. */
    regions: {
      /** Start address of the region (bytes, page-aligned). */
      vaddr: number;
      /** Length of the region in bytes. */
      length: number;
      /** Pages VM holds a reference for (its metadata). */
      presentPages: number;
      /** Pages the page table maps (PTE present). */
      mappedPages: number;
      /** Mapped pages whose PTE is writable (copy-on-write shared pages are not). */
      writablePages: number;
      /** Region flags (VR_*, vm.md §5) joined by '|', e.g. 'ANON|WRITABLE'. */
      flags: string;
      /** 'HEAP' for the region brk grows, else 'NONE'. */
      tag: string;
      /**
       * Its present pages with their reference counts, in address order: one entry per physical block (pages of a
       * block share one count). A count above 1 is a page shared copy-on-write (mode 'private') or through safemap.
       */
      blocks: {
        /** Virtual address of the block's first page (bytes). */
        vaddr: number;
        /** Number of pages in the block. */
        pages: number;
        /** How many references the block has: 1 when only this process maps it. */
        refcount: number;
        /** 'private' (copy-on-write when refcount > 1) or 'smap' (shared through safemap). */
        mode: 'private' | 'smap';
      }[];
    }[];
  }[];
  /** VM's slab allocator for its own metadata: pages used, and per size class pages, live objects, objects per page. */
  slab: SlabStats;
}

/** What one physical frame holds, as VM accounts for it. */
export type FrameInfo =
  | {
      /** On VM's free list. */
      use: 'free';
    }
  | {
      /** Reserved at boot for good (page 0, the kernel image, boot images VM does not manage). */
      use: 'reserved';
    }
  /** VM's own pages: slab, the directory pointer page, directories, page tables, spares. */
  | {
      /** VM's own page. */
      use: 'vm';
      /** Which: 'slab', 'directory pointers', 'directory of slot N', 'page table of slot N' (or EXECTMP), 'spare'. */
      what: string;
    }
  /**
   * Process memory: every reference to the frame's block (the endpoint, the block's vaddr, its region's start and
   * the reference's mode), the block's refcount, and whether it is shared copy-on-write (private references,
   * refcount > 1) or through safemap.
   */
  | {
      /** Process memory. */
      use: 'process';
      /** Every reference to the frame's block. */
      refs: FrameRef[];
      /** The block's reference count. */
      refcount: number;
      /** Shared copy-on-write: a private reference while refcount > 1. */
      cow: boolean;
      /** Shared through safemap: a reference in smap mode (grants.md §6). */
      smap: boolean;
    };

/** One process's reference to a block of physical memory (FrameInfo of use 'process'). */
export interface FrameRef {
  /** The referencing process's endpoint. */
  endpoint: number;
  /** Virtual address (bytes) where the block starts in that process. */
  vaddr: number;
  /** Start address (bytes) of the region holding the reference. */
  region: number;
  /** 'private' (copy-on-write when shared) or 'smap' (shared through safemap, grants.md §6). */
  mode: 'private' | 'smap';
}

/** A run of consecutive frames of the same use (for process memory: the same block, page by page). */
export interface FrameRun {
  /** First physical frame number of the run. */
  frame: number;
  /** Number of frames (pages) in the run. */
  frames: number;
  /** What each frame of the run holds. */
  info: FrameInfo;
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

/** Pages of [vaddr, vaddr+length) the page table maps, and the writable ones; absent tables skip 1024 pages. */
function pteOccupancy(mem: PhysMem, pt: PageTable, vaddr: number, length: number): { mapped: number; writable: number } {
  let mapped = 0;
  let writable = 0;
  for (let v = vaddr; v < vaddr + length; ) {
    const table = pt.tables[v >>> 22] ?? 0;
    const tableEnd = Math.min(vaddr + length, ((v >>> 22) + 1) * 0x400000);
    if (table !== 0) {
      for (let a = v; a < tableEnd; a += PAGE_SIZE) {
        const e = mem.pteRead(table, (a >>> 12) & 0x3ff);
        if ((e & PTE.P) !== 0) {
          mapped++;
          if ((e & PTE.W) !== 0) writable++;
        }
      }
    }
    v = tableEnd;
  }
  return { mapped, writable };
}

/**
 * Sorted runs, with neighbours of the same non-process use joined. A frame nothing accounts for is one a VM
 * request in progress holds (when VM is busy); otherwise VM lost it, and that panics.
 */
function mergeRuns(byFrame: readonly (FrameRun | undefined)[], busy: boolean): FrameRun[] {
  const out: FrameRun[] = [];
  for (let f = 0; f < byFrame.length; ) {
    const r = byFrame[f] ?? { frame: f, frames: 1, info: { use: 'vm', what: 'held by the request in progress' } };
    if (byFrame[f] === undefined && !busy) panic(`frameMap: frame ${f} is neither free nor accounted for`);
    const last = out[out.length - 1];
    if (last !== undefined && r.info.use !== 'process' && JSON.stringify(last.info) === JSON.stringify(r.info)) last.frames += r.frames;
    else out.push({ ...r });
    f += r.frames;
  }
  return out;
}

/**
 * A read-only view of the VM server for the host (System.vm): its processes, regions and blocks, page-table
 * entries, free memory, counters, its sanity check, and allocation-failure injection.
 */
export class VmState {
  /** @internal */
  constructor(private readonly vm: Vm) {}

  /** VM's configuration. @internal */
  get config(): Readonly<VmConfig> {
    return this.vm.config;
  }

  /** Pages of RAM VM manages. */
  get totalPages(): number {
    return this.vm.nPages;
  }

  /** The frame of the page-directory pointer page. @internal */
  get pagedirsFrame(): number {
    return this.vm.pagedirs;
  }

  /** Lets VM see TLBs (check F22) and the kernel's step counter (trace). @internal */
  setMachineView(view: MachineView): void {
    this.vm.view = view;
  }

  private vmpOf(epOrSlot: number, bySlot: boolean): VmProc | null {
    const vmp = this.vm.procs[bySlot ? epOrSlot : endpointSlot(epOrSlot)];
    if (vmp === undefined || (vmp.flags & VMF_INUSE) === 0) return null;
    return bySlot || vmp.endpoint === epOrSlot ? vmp : null;
  }

  /** Every process VM knows. */
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

  /** The regions of the process with endpoint ep (none if VM does not know it). */
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
    // Without a page table (no directory) there are no tables either: ptReadPte gives 0.
    return vmp === null ? 0 : ptReadPte(this.vm.mem, vmp.pt, vaddr);
  }

  /** Directory frame ever allocated for a slot (0 = none). */
  slotDirectory(slot: number): number {
    return this.vm.slotDirs[slot] ?? 0;
  }

  /** The free list: runs of free pages in address order. */
  freeRanges(): {
    /** First free page (physical frame number). */
    addr: number;
    /** Pages in the run. */
    size: number;
  }[] {
    return this.vm.alloc.ranges();
  }

  /** Pages on the free list. */
  freePages(): number {
    return this.vm.alloc.freeCount;
  }

  /** Pages not on the free list. */
  usedPages(): number {
    return this.vm.nPages - this.vm.alloc.freeCount;
  }

  /** Pages in the largest run of free pages. */
  largestFreeRange(): number {
    return this.vm.alloc.largestRange();
  }

  /** VM's slab allocator: pages used, and per size class pages, live objects, objects per page. */
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

  /** Spare pages VM keeps for page tables. */
  spareCount(): number {
    return this.vm.spares.length;
  }

  /** Free pages plus pages VM holds for itself that a failed operation may have grown (slab, spares). */
  conservedPages(): number {
    return this.vm.alloc.freeCount + this.vm.slab.stats().pages + this.vm.spares.length;
  }

  /** The full check (rules A–G), whatever the configured level. Panics naming the rule. */
  sanityCheck(): void {
    fullCheck(this.vm, 'sanityCheck()');
  }

  /**
   * The incremental check of what changed since the last check (the full check until trackChanges()). Rules E14–E16
   * and G23 wait for the next sanityCheck().
   */
  changesCheck(): void {
    changesCheck(this.vm, 'changesCheck()');
  }

  /** Installs change tracking for changesCheck(); VM's own checkpoints then check incrementally too. */
  trackChanges(): void {
    trackChanges(this.vm);
  }

  /** Copy-on-write breaks VM has made so far, and the pages they copied. */
  get counts(): Readonly<VmCounts> {
    return this.vm.counts;
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
            // The tree's entries come in offset order, so the blocks in address order.
            const blocks = [...r.refs.entries()].map(([, ref]) => ({ vaddr: r.vaddr + ref.offset, pages: ref.block.length / PAGE_SIZE, refcount: ref.block.refcount, mode: ref.mode }));
            const { mapped, writable } = pteOccupancy(vm.mem, p.pt, r.vaddr, r.length);
            return {
              vaddr: r.vaddr,
              length: r.length,
              presentPages: blocks.reduce((n, x) => n + x.pages, 0),
              mappedPages: mapped,
              writablePages: writable,
              flags: flagNames(r.flags),
              tag: r.tag === VRT_HEAP ? 'HEAP' : 'NONE',
              blocks,
            };
          }),
        })),
      slab: vm.slab.stats(),
    };
  }

  /**
   * The physical frame map, frame by frame in runs: free, reserved boot memory, VM's own pages, and process
   * memory with the references to each block. Frames of one block form one run; so do consecutive frames of
   * the same non-process use. Device mappings (DIRECT regions) own no RAM and are not in it.
   */
  frameMap(): FrameRun[] {
    const vm = this.vm;
    // Stryker disable next-line ArrayDeclaration: RAM's last frame is always marked (a slab page: the allocator gives the highest pages first, and the slab never gives a page back)
    const runs: (FrameRun | undefined)[] = new Array<FrameRun | undefined>(vm.nPages);
    const mark = (frame: number, frames: number, info: FrameInfo): void => {
      runs[frame] = { frame, frames, info };
    };
    for (const { addr, size } of vm.alloc.ranges()) mark(addr, size, { use: 'free' });
    for (const r of vm.reserved) mark(r.page, r.pages, { use: 'reserved' });
    for (const f of vm.slab.frames()) mark(f, 1, { use: 'vm', what: 'slab' });
    mark(vm.pagedirs, 1, { use: 'vm', what: 'directory pointers' });
    for (let slot = 0; slot < vm.slotDirs.length; slot++) {
      const d = vm.slotDirs[slot] ?? 0;
      if (d !== 0) mark(d, 1, { use: 'vm', what: `directory of slot ${slot}` });
    }
    for (const p of [...vm.procs, vm.exectmp]) {
      for (let i = USER_PDE_FIRST; i < PDE_ENTRIES; i++) {
        const t = p.pt.tables[i] ?? 0;
        if (t !== 0) mark(t, 1, { use: 'vm', what: `page table of ${p === vm.exectmp ? 'EXECTMP' : `slot ${p.slot}`}` });
      }
    }
    for (const f of vm.spares) mark(f, 1, { use: 'vm', what: 'spare' });
    for (const p of vm.procs) {
      if ((p.flags & VMF_INUSE) === 0) continue;
      for (const r of p.regions) {
        if ((r.flags & VR_DIRECT) !== 0) continue;
        for (const [, ref] of r.refs.entries()) {
          const b = ref.block;
          const frame = b.phys / PAGE_SIZE;
          const seen = runs[frame];
          const ent = { endpoint: p.endpoint, vaddr: r.vaddr + ref.offset, region: r.vaddr, mode: ref.mode };
          const cow = ref.mode === 'private' && b.refcount > 1;
          if (seen?.info.use === 'process') {
            seen.info.refs.push(ent);
            seen.info.smap ||= ref.mode === 'smap';
            seen.info.cow ||= cow;
          } else {
            mark(frame, b.length / PAGE_SIZE, { use: 'process', refs: [ent], refcount: b.refcount, cow, smap: ref.mode === 'smap' });
          }
        }
      }
    }
    return mergeRuns(runs, vm.busy);
  }

  /** Test hook: the internal context (for unit tests of VM's own modules only). @internal */
  get internals(): Vm {
    return this.vm;
  }

  /** Bytes per page. */
  static pageSize = PAGE_SIZE;
}
