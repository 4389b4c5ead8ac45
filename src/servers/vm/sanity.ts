// Models VM's sanity checks (servers/vm/sanitycheck.h, SANITYCHECK(SCL_*)): the full check of spec/vm.md §10 rules
// A–G in the order slab, page tables, regions, memory, panicking with the first failed rule; and an incremental
// check of what changed since the last check (the processes VM marked touched), for checking after every step.
// Entry points: sanityAt (level-gated), fullCheck, trackChanges, changesCheck.
// DIVERGES: H25/H26 are kernel-side facts VM cannot see; they are left to the kernel's own checks. E14's
// "used and free" check (promised by 32fbbd370, never written there) is done. One walk over regions and references
// reads each object unprotected once it is found live (slab.liveMeta/raw: no Proxy trap per field) and feeds the
// page-table and memory rules; blocks are counted with a sweep stamp in their slab bookkeeping, not a Map, and
// each reference found is stamped there too, for D11's walk of its block's list.
// The incremental check is ours (MINIX only has the full one): rules of VM_SWEEP_ONLY_RULES, and D11's count of
// references across processes, wait for the next full check.
import { VR_ANON, VR_DIRECT, VR_NOPF, VR_SHARED, VRT_HEAP, USER_PDE_FIRST } from '../../include/vm.ts';
import { assert, panic } from '../../lib/assert.ts';
import { PAGE_SIZE } from '../../lib/units.ts';
import { PTE } from '../../hw/mmu.ts';
import type { SanityLevel, Vm, VmProc } from './glo.ts';
import { VMF_HASPT, VMF_INUSE } from './glo.ts';
import { memtypeOf } from './memtypes.ts';
import { PAGEDIR_FLAGS, PDE0_BIGPAGE, PDE_ENTRIES, USER_PDE_FLAGS, ptReadPte } from './pagetable.ts';
import type { PhysBlock, PhysRegion, Region } from './region.ts';
import type { SlabClass, SlabMeta, SlabObj } from './slab.ts';
import { cowShared, writableBy } from './region.ts';

/**
 * The rules the full check reports by name in its panics (`VM sanity <rule>: ...`; listed in docs/testing.md):
 * those of this file, E17/E18 of the free list's own check (alloc.ts) and G23 of the slab's (slab.ts). H25/H26 are
 * kernel-side.
 */
export const VM_SANITY_RULES = [
  'A1', 'A2', 'A3', 'A4', 'B5', 'B6', 'B7', 'B8', 'C9', 'C10', 'D11', 'D12', 'D13',
  'E14', 'E15', 'E16', 'E17', 'E18', 'F19', 'F20', 'F21', 'F22', 'G23', 'G24',
] as const;

/**
 * The rules the incremental check (changesCheck) leaves to the next full check: they are about all of memory or
 * every slab page, which a change to a few processes does not narrow. D11 is checked incrementally in part (a
 * block's refcount equals its list, each reference found is listed); its count of references over every process
 * is also left to the full check.
 */
export const VM_SWEEP_ONLY_RULES = ['E14', 'E15', 'E16', 'G23'] as const;

/** The words of a directory frame never written (its chunk reads as zero). */
const ZERO_WORDS = new Uint32Array(PDE_ENTRIES);

const RANK: Record<SanityLevel, number> = { off: 0, top: 1, functions: 2, detail: 3 };

/**
 * Runs a check if the configured level reaches `level`: the full check, or the incremental one once a checker
 * that also sweeps in full from time to time has installed change tracking (trackChanges).
 */
export function sanityAt(vm: Vm, level: Exclude<SanityLevel, 'off'>, where: string): void {
  if (RANK[vm.config.sanity] >= RANK[level]) {
    if (vm.touched === null) fullCheck(vm, where);
    else changesCheck(vm, where);
  }
}

/**
 * Installs change tracking: from now on VM records the processes whose regions or page tables it changes, and
 * its own checkpoints run the incremental check. The caller owes a full check now and then (the rules of
 * VM_SWEEP_ONLY_RULES and whatever changed behind VM's back are only seen there).
 */
export function trackChanges(vm: Vm): void {
  vm.touched ??= new Set();
}

/**
 * The incremental check: A1–A4 and E17/E18 (cheap, whole), and rules B, C, D (in part, see VM_SWEEP_ONLY_RULES),
 * F19–F22 and G24 for the processes touched since the last check; nothing when none was. Without change
 * tracking, the full check.
 */
export function changesCheck(vm: Vm, where = 'on demand'): void {
  const touched = vm.touched;
  if (touched === null) {
    fullCheck(vm, where);
    return;
  }
  if (touched.size === 0) return;
  vm.mem.clock.offClock(() => {
    reportingWhere(where, () => {
      const all = holders(vm);
      checkProcesses(vm, all);
      const hs = all.filter((p) => touched.has(p));
      checkPageTables(vm, hs, checkRegions(vm, hs, true));
      vm.alloc.check();
    });
  });
  touched.clear();
}

/** Every process holding regions: the in-use slots, plus EXECTMP while an exec is under way. */
function holders(vm: Vm): VmProc[] {
  const out = vm.procs.filter((p) => (p.flags & VMF_INUSE) !== 0);
  if ((vm.exectmp.flags & VMF_INUSE) !== 0) out.push(vm.exectmp);
  return out;
}

/** The full check (rules A–G). `where` names the checkpoint in the panic message. */
export function fullCheck(vm: Vm, where = 'on demand'): void {
  vm.mem.clock.offClock(() => {
    reportingWhere(where, () => {
      fullCheckOnce(vm);
    });
  });
  vm.touched?.clear();
}

function fullCheckOnce(vm: Vm): void {
  vm.slab.check();
  const hs = holders(vm);
  checkProcesses(vm, hs);
  const walk = checkRegions(vm, hs, false);
  checkPageTables(vm, hs, walk);
  checkMemory(vm, hs, walk);
}

/** Runs a check, naming the checkpoint in its panic message. */
function reportingWhere(where: string, check: () => void): void {
  try {
    check();
  } catch (e) {
    if (e instanceof Error) e.message = `${e.message} [at ${where}]`;
    throw e;
  }
}

function checkProcesses(vm: Vm, hs: VmProc[]): void {
  const seen = new Set<number>();
  for (const p of hs) {
    if (p === vm.exectmp) continue;
    if (p.endpoint >= 0) {
      assert(!seen.has(p.endpoint), () => `VM sanity A1: endpoint ${p.endpoint} in use twice`);
      seen.add(p.endpoint);
    }
    assert((p.flags & VMF_HASPT) !== 0 || p.regions.length === 0, () => `VM sanity A2: slot ${p.slot} has regions but no page table`);
    const heap = p.heap;
    assert(heap === null || (p.regions.includes(heap) && heap.tag === VRT_HEAP), () => `VM sanity A4: heap of slot ${p.slot} is not a HEAP region of it`);
  }
  assert(vm.busy || (vm.exectmp.flags & VMF_INUSE) === 0, 'VM sanity A3: EXECTMP in use between requests');
}

/**
 * What the region walk found, so that the later rules need no second walk through protected objects. Objects
 * here are unprotected (slab.raw): the checker reads every field and must not pay a Proxy trap per read.
 */
interface Walk {
  /** This walk's stamp: a block whose SlabMeta.sweep holds it was seen, at index SlabMeta.sweepIndex. */
  readonly sweep: number;
  /** Each distinct block, in the order first seen (unprotected). */
  readonly blocks: PhysBlock[];
  /** Per block: does its memory belong to the pool (not DIRECT)? Filled by checkBlock. */
  readonly owns: boolean[];
  /** References found to each block across all holders, and how many of them are smap. */
  readonly found: number[];
  readonly smaps: number[];
  /** Per holder (in the order of hs): each reference, its block and its region. */
  readonly refs: PhysRegion[][];
  readonly refBlocks: PhysBlock[][];
  readonly refRegions: Region[][];
}

/** Numbers the full checks, for the blocks' sweep stamps (SlabMeta.sweep). */
let sweeps = 0;

/**
 * Rules B, C, D (and G24, checked as each object is first read) over the regions of hs; `partial` when hs is not
 * every holder, so a block may have references the walk does not see.
 */
function checkRegions(vm: Vm, hs: VmProc[], partial: boolean): Walk {
  // Stryker disable next-line UpdateOperator: a stamp need only differ from the other sweeps' and a new object's 0
  const walk: Walk = { sweep: ++sweeps, blocks: [], owns: [], found: [], smaps: [], refs: [], refBlocks: [], refRegions: [] };
  for (const p of hs) {
    const refs: PhysRegion[] = [];
    const refBlocks: PhysBlock[] = [];
    const refRegions: Region[] = [];
    walk.refs.push(refs);
    walk.refBlocks.push(refBlocks);
    walk.refRegions.push(refRegions);
    let prevEnd = -1;
    for (const pr of p.regions) {
      const r = liveRaw(vm, pr, 'region');
      if (r === null) panic(`VM sanity G24: slot ${p.slot} holds a dead region`);
      checkRegionShape(r, prevEnd, p.slot);
      prevEnd = r.vaddr + r.length;
      let refEnd = 0;
      let populated = 0;
      for (let c = r.refs.first(); c !== null; c = r.refs.next(c)) {
        const off = c.key;
        const rm = liveMetaOf(vm, c.value, 'physRegion');
        if (rm === null) panic(`VM sanity G24: dead reference in region 0x${r.vaddr.toString(16)}`);
        const ref = rm.target as PhysRegion;
        const bm = vm.config.sanity === 'off' ? ref.block._slab : vm.slab.liveMeta(ref.block, 'physBlock');
        if (bm === null) panic(`VM sanity G24: reference to a dead block in region 0x${r.vaddr.toString(16)}`);
        const b = bm.target as PhysBlock;
        const len = b.length;
        if (!(ref.region === pr && ref.offset === off)) panic(`VM sanity C9: reference at offset ${off} of region 0x${r.vaddr.toString(16)} names another region/offset`);
        if (!(off % PAGE_SIZE === 0 && len > 0 && len % PAGE_SIZE === 0)) panic(`VM sanity C9: reference at ${off} unaligned or block length ${len}`);
        if (!(off >= refEnd && off + len <= r.length)) panic(`VM sanity C10: reference at ${off}+${len} overlaps or leaves region 0x${r.vaddr.toString(16)}`);
        refEnd = off + len;
        populated += len;
        const k = countBlock(walk, bm, b);
        // Stamped as found to block k: D11 (checkBlock) reads the stamp of each reference the block lists.
        rm.sweep = walk.sweep;
        rm.sweepIndex = k;
        if (ref.mode === 'smap') walk.smaps[k] = (walk.smaps[k] ?? 0) + 1;
        refs.push(ref);
        refBlocks.push(b);
        refRegions.push(r);
      }
      if ((r.flags & VR_SHARED) !== 0) {
        assert(populated === r.length, () => `VM sanity B8: SHARED region 0x${r.vaddr.toString(16)} not fully populated`);
      }
    }
  }
  for (let i = 0; i < walk.blocks.length; i++) walk.owns.push(checkBlock(vm, walk, i, partial));
  return walk;
}

/** G24 with sanity on (obj live and of class cls, else null); the object to read, unprotected. */
function liveRaw<T extends SlabObj>(vm: Vm, obj: T, cls: SlabClass): T | null {
  const meta = liveMetaOf(vm, obj, cls);
  return meta === null ? null : (meta.target as T);
}

/** obj's slab bookkeeping; with sanity on, null unless obj is live and of class cls (G24). */
function liveMetaOf(vm: Vm, obj: SlabObj, cls: SlabClass): SlabMeta | null {
  return vm.config.sanity === 'off' ? obj._slab : vm.slab.liveMeta(obj, cls);
}

/** One more reference found to the block with bookkeeping bm (b: the block, unprotected); its index in walk. */
function countBlock(walk: Walk, bm: SlabMeta, b: PhysBlock): number {
  if (bm.sweep === walk.sweep) {
    walk.found[bm.sweepIndex] = (walk.found[bm.sweepIndex] ?? 0) + 1;
    return bm.sweepIndex;
  }
  bm.sweep = walk.sweep;
  bm.sweepIndex = walk.blocks.length;
  walk.blocks.push(b);
  walk.found.push(1);
  walk.smaps.push(0);
  return bm.sweepIndex;
}

function checkRegionShape(r: Region, prevEnd: number, slot: number): void {
  const at = `region 0x${r.vaddr.toString(16)} of slot ${slot}`;
  assert(r.vaddr % PAGE_SIZE === 0 && r.length > 0 && r.length % PAGE_SIZE === 0, () => `VM sanity B5: ${at} length ${r.length}`);
  assert(r.vaddr >= prevEnd, () => `VM sanity B6: ${at} overlaps or is out of order`);
  assert(r.vaddr >= USER_PDE_FIRST * 0x400000 && r.vaddr + r.length <= 0xfffff000, () => `VM sanity B7: ${at} outside user space`);
  const anon = (r.flags & VR_ANON) !== 0;
  const direct = (r.flags & VR_DIRECT) !== 0;
  if (anon === direct) panic(`VM sanity B8: ${at} must be exactly one of ANON/DIRECT`);
  assert(((r.flags & VR_NOPF) !== 0) === direct, () => `VM sanity B8: ${at} NOPF without DIRECT or vice versa`);
  assert((r.flags & VR_SHARED) === 0 || anon, () => `VM sanity B8: ${at} SHARED but not ANON`);
}

/**
 * D11–D13 for block k of the walk (unprotected; its list holds protected references, of which the walk found
 * found[k], smaps[k] of them smap; with `partial`, the walk may not have seen them all). Returns whether its memory
 * belongs to the pool (E14).
 */
function checkBlock(vm: Vm, walk: Walk, k: number, partial: boolean): boolean {
  const b = walk.blocks[k];
  // Stryker disable next-line StringLiteral: never reached, the walk fills these arrays in step
  if (b === undefined) panic('VM sanity: block walk out of step');
  const found = walk.found[k] ?? 0;
  // D11: the list is as long as refcount and holds every reference found to the block (found ≤ listed, both =
  // refcount in a full check, so the list is exactly the references found).
  let listed = 0;
  let matched = 0;
  let firstRaw: PhysRegion | undefined;
  for (let x = b.firstRef; x !== null; ) {
    if (++listed > b.refcount) panic(`VM sanity D11: block at 0x${b.phys.toString(16)} lists more references than its refcount ${b.refcount}`);
    const xm = liveMetaOf(vm, x, 'physRegion');
    if (xm === null) panic(`VM sanity D11: block at 0x${b.phys.toString(16)} lists a dead reference`);
    if (xm.sweep === walk.sweep && xm.sweepIndex === k) matched++;
    const t = xm.target as PhysRegion;
    firstRaw ??= t;
    x = t.nextRef;
  }
  const counted = partial ? found <= b.refcount : found === b.refcount;
  if (!(b.refcount >= 1 && b.refcount === listed && counted)) panic(`VM sanity D11: block at 0x${b.phys.toString(16)} refcount ${b.refcount}, list ${listed}, references found ${found}`);
  if (matched !== found) panic(`VM sanity D11: block at 0x${b.phys.toString(16)} does not list ${found - matched} of the references found to it`);
  const smaps = walk.smaps[k] ?? 0;
  if (smaps > 0) {
    if (cowShared(b)) panic(`VM sanity D12: block at 0x${b.phys.toString(16)} both COW- and SMAP-shared`);
    for (let ref = b.firstRef; ref !== null; ref = ref.nextRef) {
      if (!(ref.mode === 'smap' || !memtypeOf(ref.region.flags).cowSharable)) panic(`VM sanity D12: block at 0x${b.phys.toString(16)} has an smap reference and a private one from an anonymous region`);
    }
  }
  if (!(b.refcount > 1 || firstRaw?.mode === 'private')) panic(`VM sanity D12: block at 0x${b.phys.toString(16)} has one reference, in smap mode`);
  const owns = firstRaw === undefined || memtypeOf(vm.slab.raw(firstRaw.region).flags).ownsMemory;
  if (owns && !(b.phys >= PAGE_SIZE && b.phys + b.length <= vm.nPages * PAGE_SIZE)) {
    panic(`VM sanity D13: block at 0x${b.phys.toString(16)}+${b.length} outside RAM pages [1, ${vm.nPages})`);
  }
  return owns;
}

/** Rules F19–F22. */
function checkPageTables(vm: Vm, hs: VmProc[], walk: Walk): void {
  const mem = vm.mem;
  for (let h = 0; h < hs.length; h++) {
    const p = hs[h];
    if (p === undefined || (p.flags & VMF_HASPT) === 0) continue;
    const pt = p.pt;
    if (p !== vm.exectmp) checkDirectory(vm, p);
    let mappedPages = 0;
    const refs = walk.refs[h] ?? [];
    const refBlocks = walk.refBlocks[h] ?? [];
    const refRegions = walk.refRegions[h] ?? [];
    for (let k = 0; k < refs.length; k++) {
      const ref = refs[k];
      const b = refBlocks[k];
      const r = refRegions[k];
      // Stryker disable next-line StringLiteral: never reached, the walk fills these arrays in step
      if (ref === undefined || b === undefined || r === undefined) panic('VM sanity: region walk out of step');
      const base = r.vaddr + ref.offset;
      const pages = b.length / PAGE_SIZE;
      const w = writableBy(r.flags, ref.mode, ref.smapWritable, b.refcount);
      for (let i = 0; i < pages; i++) {
        const pte = ptReadPte(mem, pt, base + i * PAGE_SIZE);
        const want = (b.phys + i * PAGE_SIZE) | PTE.P | PTE.U;
        if ((pte & ~PTE.W) >>> 0 !== want >>> 0 || ((pte & PTE.W) !== 0 && !w)) {
          panic(`VM sanity F20: slot ${p.slot} PTE of 0x${(base + i * PAGE_SIZE).toString(16)} is 0x${(pte >>> 0).toString(16)}, want 0x${want.toString(16)}${w ? '' : ' without W'}`);
        }
      }
      mappedPages += pages;
    }
    let present = 0;
    for (let i = USER_PDE_FIRST; i < PDE_ENTRIES; i++) {
      const t = pt.tables[i] ?? 0;
      const words = t === 0 ? null : mem.frameWords(t);
      // An indexed loop: for-of over a typed array is several times slower here, and this is the check's hottest loop.
      if (words !== null) for (let j = 0; j < words.length; j++) present += (words[j] ?? 0) & PTE.P;
    }
    if (present !== mappedPages) panic(`VM sanity F21: slot ${p.slot} has ${present} present PTEs for ${mappedPages} referenced pages`);
    if (p !== vm.exectmp && !vm.dirty.has(p)) checkTlb(vm, p);
  }
}

function checkDirectory(vm: Vm, p: VmProc): void {
  const mem = vm.mem;
  const dir = p.pt.dir;
  assert(dir !== 0 && dir === vm.slotDirs[p.slot], () => `VM sanity F19: slot ${p.slot} directory ${dir} is not its slot's directory`);
  if (p.endpoint >= 0) {
    const e = mem.pteRead(vm.pagedirs, p.slot);
    assert(e === (dir * PAGE_SIZE + PAGEDIR_FLAGS) >>> 0, () => `VM sanity F19: page_directories[${p.slot}] = 0x${e.toString(16)}`);
  }
  // The directory's words through one view (a never-written chunk reads as zero), not a pteRead per entry.
  const words = mem.frameWords(dir) ?? ZERO_WORDS;
  assert(words[0] === PDE0_BIGPAGE, () => `VM sanity F19: slot ${p.slot} PDE 0 wrong`);
  assert(words[1] === (vm.pagedirs * PAGE_SIZE + PAGEDIR_FLAGS) >>> 0, () => `VM sanity F19: slot ${p.slot} PDE 1 wrong`);
  for (let i = 2; i < USER_PDE_FIRST; i++) if (words[i] !== 0) panic(`VM sanity F19: slot ${p.slot} PDE ${i} not zero`);
  const tables = p.pt.tables;
  for (let i = USER_PDE_FIRST; i < PDE_ENTRIES; i++) {
    const t = tables[i] ?? 0;
    const pde = words[i] ?? 0;
    const want = t === 0 ? 0 : (t * PAGE_SIZE + USER_PDE_FLAGS) >>> 0;
    if (pde !== want) panic(`VM sanity F19: slot ${p.slot} PDE ${i} = 0x${pde.toString(16)}, want 0x${want.toString(16)}`);
  }
}

/** F22: each TLB entry matches the current PTE (frame; W only if the PTE has W). */
function checkTlb(vm: Vm, p: VmProc): void {
  const entries = vm.view?.tlbEntries?.(p.slot);
  if (entries === null || entries === undefined) return;
  for (const e of entries) {
    const pte = ptReadPte(vm.mem, p.pt, e.vpage * PAGE_SIZE);
    const ok = (pte & PTE.P) !== 0 && pte >>> 12 === e.frame && (!e.writable || (pte & PTE.W) !== 0);
    assert(ok, () => `VM sanity F22: slot ${p.slot} TLB entry for 0x${(e.vpage * PAGE_SIZE).toString(16)} (frame ${e.frame}${e.writable ? ', W' : ''}) does not match PTE 0x${(pte >>> 0).toString(16)}`);
  }
}

/** Rules E14–E18. */
function checkMemory(vm: Vm, hs: VmProc[], walk: Walk): void {
  const n = vm.nPages;
  const used = new Uint8Array(n);
  let count = 0;
  const mark = (page: number, pages: number, what: string): void => {
    if (!(page >= 0 && page + pages <= n)) panic(`VM sanity E14: ${what} pages ${page}+${pages} outside RAM`);
    // One page (most marks: tables, directories, slab and spare pages) without a subarray to collect.
    // Stryker disable next-line BlockStatement: a fast path, the marking below does the same for one page
    if (pages === 1) {
      if (used[page] !== 0) panic(`VM sanity E14: page ${page} counted twice (${what})`);
      used[page] = 1;
      count++;
      return;
    }
    const twice = used.subarray(page, page + pages).indexOf(1);
    if (twice >= 0) panic(`VM sanity E14: page ${page + twice} counted twice (${what})`);
    used.fill(1, page, page + pages);
    count += pages;
  };
  for (const f of vm.slab.frames()) mark(f, 1, 'slab page');
  mark(vm.pagedirs, 1, 'pointer page');
  for (const d of vm.slotDirs) if (d !== 0) mark(d, 1, 'directory');
  for (const p of hs) for (let i = USER_PDE_FIRST; i < PDE_ENTRIES; i++) {
    const t = p.pt.tables[i] ?? 0;
    if (t !== 0) mark(t, 1, `page table of slot ${p.slot}`);
  }
  for (const f of vm.spares) mark(f, 1, 'spare page');
  for (let i = 0; i < walk.blocks.length; i++) {
    const b = walk.blocks[i];
    if (b !== undefined && walk.owns[i] === true) mark(b.phys / PAGE_SIZE, b.length / PAGE_SIZE, 'a block');
  }
  for (const r of vm.reserved) mark(r.page, r.pages, 'reserved boot memory');
  for (const { addr, size } of vm.alloc.ranges()) {
    const both = used.subarray(addr, addr + size).indexOf(1);
    if (both >= 0) panic(`VM sanity E15: page ${addr + both} used and free`);
  }
  vm.alloc.check();
  if (vm.alloc.freeCount + count !== n) panic(`VM sanity E16: free ${vm.alloc.freeCount} + used ${count} ≠ RAM ${n} pages`);
}
