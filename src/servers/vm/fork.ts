// Models VM's part of fork (servers/vm/fork.c): the child's address space as a COW copy of the parent's, then
// sys_fork and the child's page-table binding. Entry points: forkAddressSpace, doFork.
// DIVERGES: any failure undoes everything (slot free, refcounts restored, parent unchanged); an smap reference
// gives the child a private snapshot; the parent's PTEs are write-protected only once the fork cannot fail, from
// runs noted during the copy (no second walk of the parent's trees); each child region's reference tree is built
// at once, lazily, from the parent's sorted references (docs/ARCHITECTURE.md, "Fork at host speed").
import { EINVAL, ENOMEM, ENXIO, OK } from '../../include/errno.ts';
import { SYS_FORK, VMCTL_I386_SETCR3, SYS_VMCTL } from '../../include/com.ts';
import type { Message } from '../../include/ipc.ts';
import { NO_MEM, VR_PHYS64K } from '../../include/vm.ts';
import { assert } from '../../lib/assert.ts';
import { PAGE_SIZE } from '../../lib/units.ts';
import type { Proc } from '../../libsys/proc.ts';
import type { Vm, VmProc, VmReply } from './glo.ts';
import { VMF_HASPT, VMF_INUSE, markDirty, touch, vmTrace, vmpOf } from './glo.ts';
import { clearSlot, freeAddressSpace } from './exit.ts';
import { memtypeOf } from './memtypes.ts';
import { ptBindEntry, ptNew, ptWriteRun } from './pagetable.ts';
import type { PageTable } from './pagetable.ts';
import type { PhysMem } from '../../hw/physmem.ts';
import { PTE } from '../../hw/mmu.ts';
import { USER_PTE, dropRef, linkRefUnindexed, newRegion, writableBy, writeRefPtes } from './region.ts';
import type { PhysBlock, PhysRegion, Region } from './region.ts';
import { PAF_ALIGN64K } from '../../include/vm.ts';
import { sanityAt } from './sanity.ts';

/**
 * Builds child's address space from parent's (the child's side of VM_FORK). ENOMEM leaves the slot
 * free and the parent untouched.
 */
export function forkAddressSpace(vm: Vm, parent: VmProc, child: VmProc): number {
  child.flags = VMF_INUSE | VMF_HASPT;
  child.endpoint = -1;
  child.name = parent.name;
  child.callMask = parent.callMask.slice();
  child.physRanges = parent.physRanges;
  child.stacktop = parent.stacktop;
  child.regions = [];
  child.heap = null;
  if (ptNew(vm, child) !== OK || !copyRegions(vm, parent, child)) {
    freeAddressSpace(vm, child);
    clearSlot(vm, child);
    return ENOMEM;
  }
  return OK;
}

function copyRegions(vm: Vm, parent: VmProc, child: VmProc): boolean {
  const protect = protectRunsFor(vm, parent, child);
  for (const pr of parent.regions) {
    const cr = newRegion(vm, child, pr.vaddr, pr.length, pr.flags, pr.tag);
    if (cr === null || !copyRefs(vm, pr, cr, protect)) {
      protect.child = null;
      return false;
    }
    if (pr === parent.heap) child.heap = cr;
  }
  return true;
}

/**
 * The parent's PTE runs that forkCommit rewrites, as (vaddr, first frame, pages, PTE flags) quadruples noted while
 * the parent's references are walked for the copy (no second walk at commit). A typed array, kept per VM and
 * reused (a push of four numbers, some above 2^31, is slow on a plain array, and fresh pages cost a fault each).
 */
interface ProtectRuns {
  /** The child whose fork noted them (null: none pending). */
  child: VmProc | null;
  runs: Float64Array;
  n: number;
}

const protectRuns = new WeakMap<Vm, ProtectRuns>();

/** VM's run buffer, emptied for child's fork and large enough for every reference of parent. */
function protectRunsFor(vm: Vm, parent: VmProc, child: VmProc): ProtectRuns {
  let refs = 0;
  for (const pr of parent.regions) refs += pr.refs.size;
  let p = protectRuns.get(vm);
  if (p === undefined || p.runs.length < 4 * refs) {
    p = { child, runs: new Float64Array(4 * refs), n: 0 };
    protectRuns.set(vm, p);
  }
  p.child = child;
  p.n = 0;
  return p;
}

/**
 * Notes the PTE run of a parent's private reference of a COW region for forkCommit: `pages` pages at v from frame
 * `frame`, with `flags` (WRITABLE now that the child shares the block).
 */
function noteProtect(protect: ProtectRuns, v: number, frame: number, pages: number, flags: number): void {
  const runs = protect.runs;
  const i = protect.n;
  runs[i] = v;
  runs[i + 1] = frame;
  runs[i + 2] = pages;
  runs[i + 3] = flags;
  protect.n = i + 4;
}

/**
 * The child region's references, one per parent reference, built into its tree at once (nodes reserved first;
 * one balanced build instead of an insert per block). The parent's references are read from its tree's sorted
 * run (kept while the tree is unchanged), whose keys are the child's too. ENOMEM unwinds this region's references.
 */
function copyRefs(vm: Vm, pr: Region, cr: Region, protect: ProtectRuns): boolean {
  const n = pr.refs.size;
  if (n === 0) return true;
  if (!vm.slab.reserveNodes(n)) return false;
  const share = memtypeOf(pr.flags).fork === 'share';
  const offs = pr.refs.sortedKeys();
  const refs = pr.refs.sortedValues();
  // Sized once: the child's tree keeps it as its sorted run (AvlTree.buildSorted).
  // Stryker disable next-line ArrayDeclaration: an array grows as it is filled; the size is for speed
  const made = new Array<PhysRegion>(n);
  // A reference that shares its block (all but smap snapshots) is private with refcount ≥ 2 in both processes:
  // WRITABLE depends on the region alone, so its PTE flags are reckoned once per region.
  // Stryker disable next-line BooleanLiteral: smapWritable is read only in smap mode
  const sharedFlags = USER_PTE | (writableBy(pr.flags, 'private', false, 2) ? PTE.W : 0);
  const pt = cr.owner.pt;
  const vaddr = cr.vaddr;
  const mem = vm.mem;
  for (let i = 0; i < n; i++) {
    const ref = refs[i] as PhysRegion;
    const off = offs[i] ?? 0;
    // The parent's reference and block read once, before the link writes references and blocks (V8 would read
    // again after each write to an object of the same shape).
    const mode = ref.mode;
    const b = ref.block;
    const frame = b.phys / PAGE_SIZE;
    const pages = b.length / PAGE_SIZE;
    const snapshot = mode === 'smap' && !share;
    // Stryker disable next-line BooleanLiteral: smapWritable is read only in smap mode, and SMAP sets it when it changes the mode
    const nref = snapshot ? snapshotRef(vm, cr, ref) : linkRefUnindexed(vm, cr, b, off, 'private', false);
    if (nref === null) return unwindRefs(vm, made, i, n);
    // The child's region has the parent's address: one v for both processes' PTEs.
    const v = vaddr + off;
    if (!snapshot) ptWriteRun(mem, pt, v, frame, pages, sharedFlags);
    if (!share && mode === 'private') noteProtect(protect, v, frame, pages, sharedFlags);
    made[i] = nref;
  }
  const built = cr.refs.buildSorted(offs, made);
  // Stryker disable next-line StringLiteral: never fails, the nodes were reserved above
  assert(built, 'fork: reserved tree nodes missing');
  markDirty(vm, cr.owner);
  return true;
}

/**
 * copyRefs' failure: the first i references it made are dropped and its n reserved nodes given back; false. Apart
 * from the loop (as the snapshot case is), so that V8 inlines the common case's calls into it.
 */
function unwindRefs(vm: Vm, made: PhysRegion[], i: number, n: number): false {
  for (const m of made.slice(0, i)) dropRef(vm, m);
  vm.slab.unreserveNodes(n);
  return false;
}

/** The child's private copy of an smap-shared block (a snapshot at fork time) with its PTEs, not yet in cr's tree. */
function snapshotRef(vm: Vm, cr: Region, ref: PhysRegion): PhysRegion | null {
  const old = ref.block;
  const pages = old.length / PAGE_SIZE;
  const frame = vm.alloc.allocPages(pages, (cr.flags & VR_PHYS64K) !== 0 ? PAF_ALIGN64K : 0);
  if (frame === NO_MEM) return null;
  const b = vm.slab.alloc<PhysBlock>('physBlock', { _slab: null, phys: frame * PAGE_SIZE, length: old.length, refcount: 0, firstRef: null });
  // Stryker disable next-line BooleanLiteral: smapWritable is read only in smap mode, and SMAP sets it when it changes the mode
  const nref = b === null ? null : linkRefUnindexed(vm, cr, b, ref.offset, 'private', false);
  if (b === null || nref === null) {
    if (b !== null) vm.slab.free(b);
    vm.alloc.freePages(frame, pages);
    return null;
  }
  vm.mem.clock.chargeCopy(old.length);
  vm.mem.copy(b.phys, old.phys, old.length);
  writeRefPtes(vm, nref);
  return nref;
}

/**
 * Step 3, parent side: private references in COW regions become read-only (refcount now > 1), from the runs
 * copyRegions noted; one TLB-flush mark if the parent has a COW region.
 */
function protectParent(vm: Vm, parent: VmProc, child: VmProc): void {
  const protect = protectRuns.get(vm);
  // Stryker disable next-line StringLiteral: never fails, forkCommit follows the child's forkAddressSpace
  assert(protect?.child === child, 'fork: commit of a child that was not built');
  protect.child = null;
  writeRuns(vm.mem, parent.pt, protect.runs, protect.n);
  if (parent.regions.some((r) => memtypeOf(r.flags).fork === 'cow')) markDirty(vm, parent);
}

/**
 * protectParent's loop: the PTE runs of the first n numbers of runs. A function of its own: V8 compiled protectParent
 * while in this loop (on-stack replacement) before its code after the loop had ever run, then dropped the compiled
 * code there at every fork and ran the loop unoptimised (about 200 machine instructions per page).
 */
function writeRuns(mem: PhysMem, pt: PageTable, runs: Float64Array, n: number): void {
  for (let i = 0; i < n; i += 4) ptWriteRun(mem, pt, runs[i] ?? 0, runs[i + 1] ?? 0, runs[i + 2] ?? 0, runs[i + 3] ?? 0);
}

/** After sys_fork succeeded: the child's endpoint and pointer-page entry, and the parent's PTEs write-protected. */
export function forkCommit(vm: Vm, parent: VmProc, child: VmProc, endpoint: number, name?: unknown): void {
  child.endpoint = endpoint;
  if (typeof name === 'string') child.name = name;
  ptBindEntry(vm, child);
  touch(vm, child);
  protectParent(vm, parent, child);
}

/** VM_FORK {endpoint (parent), slot, program, name} → {child}. */
export async function doFork(vm: Vm, p: Proc, m: Message): Promise<VmReply> {
  const parent = vmpOf(vm, m.endpoint);
  if (parent === null) return EINVAL;
  const slot = m.slot;
  // A number that is not a slot (negative, too big, not an integer) finds no vmproc.
  const child = typeof slot === 'number' ? vm.procs[slot] : undefined;
  if (child === undefined || (child.flags & VMF_INUSE) !== 0) return EINVAL;
  if ((parent.flags & VMF_HASPT) === 0) return ENXIO;
  const built = forkAddressSpace(vm, parent, child);
  if (built !== OK) return built;
  // No checkpoint here: until forkCommit the parent's PTEs still allow writes to blocks the child now shares
  // (the parent is blocked in fork meanwhile); the tables are whole again once the child is committed.
  const r = await p.kernelCall({ type: SYS_FORK, parent: parent.endpoint, slot, program: m.program, name: m.name });
  if (r.type !== OK) {
    freeAddressSpace(vm, child);
    clearSlot(vm, child);
    return r.type;
  }
  forkCommit(vm, parent, child, r.child as number, m.name);
  const bound = await p.kernelCall({ type: SYS_VMCTL, request: VMCTL_I386_SETCR3, endpoint: child.endpoint, frame: child.pt.dir });
  if (bound.type !== OK) return bound.type;
  vm.dirty.delete(child);
  sanityAt(vm, 'detail', 'fork: child committed');
  vmTrace(vm, 'fork', parent.endpoint, { result: child.endpoint });
  return { result: OK, child: child.endpoint };
}
