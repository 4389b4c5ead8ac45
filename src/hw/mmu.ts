// Models the i386 two-level paging unit and a per-process software TLB (spec/vm.md §4). Entry points: walk,
// translate, checkRange, translateRange (kernel, no TLB); WalkCache, walkEntry (the kernel's cached walks); userRead,
// userWrite (process, via Tlb); mapPage (test/boot helper).
// DIVERGES: supervisor writes need W (CR0.WP set); no A/D bits; ranges past 4 GiB panic, never wrap.
import { assert, panic } from '../lib/assert.ts';
import {
  ADDRESS_SPACE_BYTES,
  PAGE_MASK as UNITS_PAGE_MASK,
  PAGE_SHIFT as UNITS_PAGE_SHIFT,
  PAGE_SIZE as UNITS_PAGE_SIZE,
} from '../lib/units.ts';
import type { PhysMem } from './physmem.ts';
import { K } from './profile.ts';

// Module-level copies for the hot loops: a transpiled import (CJS, vitest) is a getter call on every read.
const PAGE_SIZE = UNITS_PAGE_SIZE;
const PAGE_MASK = UNITS_PAGE_MASK;
const PAGE_SHIFT = UNITS_PAGE_SHIFT;
const TLB_MISS = K.tlbMiss;

export const PTE = { P: 0x001, W: 0x002, U: 0x004, PS: 0x080, G: 0x100 } as const;
export const PTE_FRAME_MASK = 0xfffff000;
/** Frame bits of a 4 MiB page-directory entry, and the offset bits inside such a page. */
const BIG_FRAME_MASK = 0xffc00000;
const BIG_OFFSET_MASK = 0x003fffff;
/** Flags a PTE may carry (i386 bits). */
const PTE_FLAGS = PTE.P | PTE.W | PTE.U | PTE.G;

export const pdeIndex = (v: number): number => v >>> 22;
export const pteIndex = (v: number): number => (v >>> 12) & 0x3ff;

/** A page fault as the CPU reports it. present: the P bit of the i386 error code (protection, not absence). */
export type Fault = { vaddr: number; present: boolean; write: boolean };

/**
 * The effective 4 KiB entry for v: page frame address | P | (U and W where both levels grant them), or 0 when
 * the PDE or PTE is not present. A PS directory entry is a 4 MiB page; the 4 KiB slice holding v is returned.
 * As on i386, absence at either level outranks protection: that decides the fault's present bit.
 */
function resolve(mem: PhysMem, dirFrame: number, v: number): number {
  return resolveUnder(mem, mem.pteRead(dirFrame, v >>> 22), v);
}

/** resolve() with the directory entry of v already read: range walks read it once per 4 MiB. */
function resolveUnder(mem: PhysMem, pde: number, v: number): number {
  if ((pde & PTE.P) === 0) return 0;
  if ((pde & PTE.PS) !== 0) return bigPageEntry(pde, v);
  const pte = mem.pteRead(pde >>> PAGE_SHIFT, (v >>> 12) & 0x3ff);
  if ((pte & PTE.P) === 0) return 0;
  return ((pte & PTE_FRAME_MASK) | (pte & pde & (PTE.W | PTE.U)) | PTE.P) >>> 0;
}

/** The 4 KiB slice holding v of the 4 MiB page of a PS directory entry (apart: resolveUnder stays inlinable). */
function bigPageEntry(pde: number, v: number): number {
  return ((pde & BIG_FRAME_MASK) | (v & BIG_OFFSET_MASK & PTE_FRAME_MASK) | (pde & (PTE.P | PTE.W | PTE.U))) >>> 0;
}

/** Whether an effective entry allows the access. */
function permits(e: number, write: boolean, user: boolean): boolean {
  return (e & PTE.P) !== 0 && (!user || (e & PTE.U) !== 0) && (!write || (e & PTE.W) !== 0);
}

/** Frame number of an effective entry. */
const entryFrame = (e: number): number => e >>> PAGE_SHIFT;

/**
 * Walk without TLB (the kernel's walk for copies). Returns the physical byte address, or -1 on any fault.
 * user requires U on PDE and PTE; write requires W on both. A PS directory entry maps a 4 MiB page (needs U too).
 */
export function walk(mem: PhysMem, dirFrame: number, v: number, write: boolean, user: boolean): number {
  checkVaddr(v);
  const e = resolve(mem, dirFrame, v);
  return permits(e, write, user) ? entryFrame(e) * PAGE_SIZE + (v & PAGE_MASK) : -1;
}

/** Like walk, but a failure says why: present=false when a level is missing, true when protection forbade it. */
export function translate(
  mem: PhysMem,
  dirFrame: number,
  v: number,
  write: boolean,
  user: boolean,
): { ok: true; pa: number } | { ok: false; fault: Fault } {
  checkVaddr(v);
  const e = resolve(mem, dirFrame, v);
  if (permits(e, write, user)) return { ok: true, pa: entryFrame(e) * PAGE_SIZE + (v & PAGE_MASK) };
  return { ok: false, fault: { vaddr: v, present: (e & PTE.P) !== 0, write } };
}

/**
 * Kernel-side range check before a copy. Returns -1 if every page of [v, v+length) is accessible to user mode
 * (present, U, and W if write), else the first inaccessible address in the range: v itself when the first page
 * fails, otherwise the base of the failing page.
 */
export function checkRange(
  mem: PhysMem,
  dirFrame: number,
  v: number,
  length: number,
  write: boolean,
): number {
  return translateRange(mem, dirFrame, v, length, write, null);
}

/** Physically contiguous runs of a virtual range, in order: run i is `bytes[i]` bytes at physical `pa[i]`. */
export interface PhysRuns {
  pa: number[];
  bytes: number[];
  count: number;
}

/**
 * checkRange that also records, when `out` is given and every page is accessible, the range's physically
 * contiguous runs in `out` (reused: its arrays only grow). Each 4 MiB slice reads its directory entry once and
 * then its page table's words directly.
 */
export function translateRange(
  mem: PhysMem,
  dirFrame: number,
  v: number,
  length: number,
  write: boolean,
  out: PhysRuns | null,
): number {
  checkUserRange(v, length);
  const runs = out ?? scratchRuns;
  const need = write ? PTE.P | PTE.W | PTE.U : PTE.P | PTE.U;
  const end = v + length;
  let count = 0;
  let runPa = 0;
  let runLen = 0;
  let a = v;
  while (a < end) {
    const pdeIndex = a >>> 22;
    const pde = mem.pteRead(dirFrame, pdeIndex);
    const sliceEnd = Math.min(end, (pdeIndex + 1) * BIG_PAGE_SIZE);
    // The page table under this directory entry, as words (null: a 4 MiB page, no table, or never written).
    const table = (pde & (PTE.P | PTE.PS)) === PTE.P ? mem.frameWords(pde >>> PAGE_SHIFT) : null;
    // U and W count where both levels grant them; P is the PTE's (the PDE's is known set when there is a table).
    const pdeBits = pde & (PTE.W | PTE.U);
    while (a < sliceEnd) {
      let pa: number;
      if (table !== null) {
        const pte = table[(a >>> PAGE_SHIFT) & 0x3ff] ?? 0;
        if ((((pte & PTE.P) | (pte & pdeBits)) & need) !== need) return a;
        pa = ((pte & PTE_FRAME_MASK) >>> 0) + (a & PAGE_MASK);
      } else {
        const e = resolveUnder(mem, pde, a);
        if (!permits(e, write, true)) return a;
        pa = entryFrame(e) * PAGE_SIZE + (a & PAGE_MASK);
      }
      const n = Math.min(PAGE_SIZE - (a & PAGE_MASK), sliceEnd - a);
      if (pa === runPa + runLen && runLen > 0) runLen += n;
      else {
        if (runLen > 0) count = pushRun(runs, count, runPa, runLen);
        runPa = pa;
        runLen = n;
      }
      a += n;
    }
  }
  runs.count = runLen > 0 ? pushRun(runs, count, runPa, runLen) : count;
  return -1;
}

/** Entries of a WalkCache (a power of two: the index is a mask of a hash). */
const WALK_CACHE_SIZE = 256;
/** A WalkCache answer for a slot whose pointer-page entry is absent: no effective entry has W without P. */
export const WALK_NO_DIR = PTE.W;

/**
 * The kernel's walks through the page-directory pointer page, cached by (process slot, virtual page): a hit
 * skips the reads of the pointer page, the directory and the table. A host-speed device, not part of the
 * modelled machine: it charges nothing and answers exactly what the walk would. Exact because every frame an
 * answer was read from is watched by PhysMem (`watchFrame`), and any write to a watched frame — a PTE, a PDE,
 * an entry of the pointer page — moves `PhysMem.tableWrites`, which empties the cache at its next lookup.
 */
export class WalkCache {
  // Stryker disable next-line UnaryOperator: the first lookup of a new cache resets it (writes starts at -1, tableWrites never does), filling slots with -1
  private readonly slots = new Int32Array(WALK_CACHE_SIZE).fill(-1);
  private readonly vpages = new Int32Array(WALK_CACHE_SIZE);
  private readonly entries = new Int32Array(WALK_CACHE_SIZE);
  /** The pointer page and the PhysMem.tableWrites the entries were read under. */
  // Stryker disable next-line UnaryOperator: the first lookup of a new cache resets it and sets pagedirs
  private pagedirs = -1;
  // Stryker disable next-line UnaryOperator: the state before the first reset equals the state after it, so whether it resets makes no difference
  private writes = -1;

  /**
   * The effective entry of v (as resolve() gives it) in the address space of `slot`, reached through entry
   * `slot` of the pointer page `pagedirs`; WALK_NO_DIR when that entry is absent. v MUST be a 32-bit address.
   */
  entry(mem: PhysMem, pagedirs: number, slot: number, v: number): number {
    if (mem.tableWrites !== this.writes || pagedirs !== this.pagedirs) this.reset(mem, pagedirs);
    const vpage = v >>> PAGE_SHIFT;
    // Stryker disable next-line ArithmeticOperator: a wider mask makes more collisions and an index past the end (a miss): only the hit rate changes
    const i = (vpage ^ (slot << 4)) & (WALK_CACHE_SIZE - 1);
    if (this.slots[i] === slot && this.vpages[i] === vpage) return this.entries[i] ?? 0;
    const e = this.read(mem, pagedirs, slot, v);
    this.slots[i] = slot;
    this.vpages[i] = vpage;
    this.entries[i] = e;
    return e;
  }

  /** A miss: the three-level read, each frame it reads watched from now on. */
  private read(mem: PhysMem, pagedirs: number, slot: number, v: number): number {
    mem.watchFrame(pagedirs);
    const d = mem.pteRead(pagedirs, slot);
    if ((d & PTE.P) === 0) return WALK_NO_DIR;
    const dir = d >>> PAGE_SHIFT;
    mem.watchFrame(dir);
    const pde = mem.pteRead(dir, v >>> 22);
    if ((pde & (PTE.P | PTE.PS)) === PTE.P) mem.watchFrame(pde >>> PAGE_SHIFT);
    return resolveUnder(mem, pde, v) | 0;
  }

  /** translateRange of a range the cache has seen: (directory, start, length, write) of each, and its runs. */
  // Stryker disable next-line UnaryOperator: the first lookup of a new cache resets it, filling the keys with -1
  private readonly rangeKeys = new Float64Array(4 * RANGE_CACHE_SIZE).fill(-1);
  private readonly rangeRuns: PhysRuns[] = Array.from({ length: RANGE_CACHE_SIZE }, () => ({ pa: [], bytes: [], count: 0 }));
  private nextRange = 0;

  /**
   * translateRange(mem, dir, v, length, write, out), with the runs of the last few ranges found accessible kept:
   * a copy that repeats (a server's buffer, a driver's ring) finds them without walking its pages again.
   */
  translateRange(mem: PhysMem, dir: number, v: number, length: number, write: boolean, out: PhysRuns): number {
    if (mem.tableWrites !== this.writes) this.reset(mem, this.pagedirs);
    const w = write ? 1 : 0;
    const keys = this.rangeKeys;
    // Stryker disable next-line ConditionalExpression,EqualityOperator,BlockStatement: a search that never finds (or runs past the end, where the keys are undefined) walks the range instead
    for (let i = 0; i < RANGE_CACHE_SIZE; i++) {
      const at = 4 * i;
      // Stryker disable next-line BlockStatement: a hit ignored walks the range instead: the same answer
      if (keys[at] === dir && keys[at + 1] === v && keys[at + 2] === length && keys[at + 3] === w) {
        return copyRuns(this.rangeRuns[i] ?? out, out);
      }
    }
    const r = translateRange(mem, dir, v, length, write, out);
    if (r >= 0 || length === 0) return r;
    watchTables(mem, dir, v, length);
    const i = this.nextRange;
    this.nextRange = (i + 1) % RANGE_CACHE_SIZE;
    // Stryker disable next-line ArrayDeclaration: keys never set are never matched: nothing is kept, each range is walked
    keys.set([dir, v, length, w], 4 * i);
    copyRuns(out, this.rangeRuns[i] ?? out);
    return r;
  }

  private reset(mem: PhysMem, pagedirs: number): void {
    this.slots.fill(-1);
    this.rangeKeys.fill(-1);
    this.writes = mem.tableWrites;
    this.pagedirs = pagedirs;
  }
}

/** Ranges a WalkCache keeps the runs of: a copy has two sides. */
const RANGE_CACHE_SIZE = 4;

/** Watches the frames translateRange read for [v, v+length) under directory `dir`: the directory and its tables. */
function watchTables(mem: PhysMem, dir: number, v: number, length: number): void {
  mem.watchFrame(dir);
  for (let i = v >>> 22; i <= (v + length - 1) >>> 22; i++) {
    const pde = mem.pteRead(dir, i);
    if ((pde & (PTE.P | PTE.PS)) === PTE.P) mem.watchFrame(pde >>> PAGE_SHIFT);
  }
}

/** Copies the runs of `from` into `to` (when they differ); -1, translateRange's answer for an accessible range. */
function copyRuns(from: PhysRuns, to: PhysRuns): number {
  if (from !== to) {
    for (let i = 0; i < from.count; i++) pushRun(to, i, from.pa[i] ?? 0, from.bytes[i] ?? 0);
    to.count = from.count;
  }
  return -1;
}

/**
 * walk() on an effective entry already found (a WalkCache answer other than WALK_NO_DIR): the physical byte
 * address of v, or -1 when the entry does not allow the access.
 */
export function walkEntry(e: number, v: number, write: boolean): number {
  return permits(e, write, true) ? (e >>> PAGE_SHIFT) * PAGE_SIZE + (v & PAGE_MASK) : -1;
}

/** Where checkRange's runs go (nobody reads them). */
const scratchRuns: PhysRuns = { pa: [], bytes: [], count: 0 };
const BIG_PAGE_SIZE = 0x400000;

function pushRun(out: PhysRuns, i: number, pa: number, bytes: number): number {
  if (i < out.pa.length) {
    out.pa[i] = pa;
    out.bytes[i] = bytes;
  } else {
    out.pa.push(pa);
    out.bytes.push(bytes);
  }
  return i + 1;
}

/**
 * Per-process software TLB: `capacity` entries {virtual page → frame, writable}, FIFO eviction.
 * VM flushes it after rewriting the process's tables; until then a stale entry keeps translating (as on i386).
 */
export class Tlb {
  readonly capacity: number;
  readonly stats = { hits: 0, misses: 0, flushes: 0 };
  /** vpage → slot in the ring below. */
  private readonly slotOf = new Map<number, number>();
  private readonly vpages: Int32Array;
  private readonly frames: Int32Array;
  private readonly writable: Uint8Array;
  /** Next slot to fill; once the ring is full it is also the oldest entry. */
  private next = 0;
  /** The last hit, checked before the Map: successive small accesses mostly touch the same page. */
  private lastVpage = -1;
  private lastSlot = 0;

  constructor(capacity = 64) {
    assert(
      Number.isInteger(capacity) && capacity > 0,
      () => `tlb: capacity ${capacity} must be a positive integer`,
    );
    this.capacity = capacity;
    this.vpages = new Int32Array(capacity).fill(-1);
    this.frames = new Int32Array(capacity);
    this.writable = new Uint8Array(capacity);
  }

  /** Frame number for vpage, or -1 on a miss. An entry without W is a miss for a write. */
  lookup(vpage: number, write: boolean): number {
    const slot = vpage === this.lastVpage ? this.lastSlot : this.slotOf.get(vpage);
    if (slot === undefined || (write && this.writable[slot] === 0)) {
      this.stats.misses++;
      return -1;
    }
    this.stats.hits++;
    this.lastVpage = vpage;
    this.lastSlot = slot;
    // Stryker disable next-line UnaryOperator: slot indexes the ring: the typed array always has the element
    return this.frames[slot] ?? -1;
  }

  /** Caches a successful walk. A vpage already cached is updated in place (it keeps its FIFO position). */
  insert(vpage: number, frameNo: number, writable: boolean): void {
    assert(vpage >>> 0 === vpage && vpage < 1 << 20, () => `tlb: virtual page ${vpage} out of range`);
    this.lastVpage = -1;
    let slot = this.slotOf.get(vpage);
    if (slot === undefined) {
      slot = this.next;
      this.next = slot + 1 === this.capacity ? 0 : slot + 1;
      // Stryker disable next-line UnaryOperator: slot indexes the ring: the typed array always has the element
      const evicted = this.vpages[slot] ?? -1;
      if (evicted >= 0) this.slotOf.delete(evicted);
      this.vpages[slot] = vpage;
      this.slotOf.set(vpage, slot);
    }
    this.frames[slot] = frameNo;
    this.writable[slot] = writable ? 1 : 0;
  }

  flush(): void {
    this.stats.flushes++;
    if (this.slotOf.size === 0) return;
    this.lastVpage = -1;
    this.slotOf.clear();
    this.vpages.fill(-1);
    this.next = 0;
  }

  get size(): number {
    return this.slotOf.size;
  }

  /** The cached translations, oldest first (for sanity check F22 and inspection). */
  entries(): Array<{ vpage: number; frame: number; writable: boolean }> {
    const out: Array<{ vpage: number; frame: number; writable: boolean }> = [];
    for (let i = 0; i < this.capacity; i++) {
      const slot = (this.next + i) % this.capacity;
      // Stryker disable next-line UnaryOperator: slot indexes the ring: the typed array always has the element
      const vpage = this.vpages[slot] ?? -1;
      if (vpage >= 0)
        // Stryker disable next-line UnaryOperator: slot indexes the ring: the typed array always has the element
        out.push({ vpage, frame: this.frames[slot] ?? -1, writable: this.writable[slot] === 1 });
    }
    return out;
  }
}

/** Frame of the page holding va for a user access: TLB, then a walk that refills the TLB; -1 on a fault. */
function userFrame(mem: PhysMem, dirFrame: number, tlb: Tlb, va: number, write: boolean): number {
  const vpage = va >>> PAGE_SHIFT;
  const hit = tlb.lookup(vpage, write);
  if (hit >= 0) return hit;
  // A miss: the hardware walks the tables (whether or not the walk then faults).
  mem.clock.charge(TLB_MISS);
  const e = resolve(mem, dirFrame, va);
  if (!permits(e, write, true)) return -1;
  tlb.insert(vpage, entryFrame(e), (e & PTE.W) !== 0);
  return entryFrame(e);
}

/**
 * Page-by-page user access. Physically contiguous pages are merged into one run so each run is one TypedArray
 * copy. Stops before the first faulting page: earlier pages are already transferred, as on real hardware.
 */
function userAccess(
  mem: PhysMem,
  dirFrame: number,
  tlb: Tlb,
  v: number,
  buf: Uint8Array,
  bufOffset: number,
  length: number,
  write: boolean,
): null | { fault: Fault; done: number } {
  checkUserRange(v, length);
  // Stryker disable next-line BlockStatement: the loop below does an access inside one page as one run: the same bytes and fault
  if (length <= PAGE_SIZE - (v & PAGE_MASK)) {
    // Inside one page (the common small access): no run bookkeeping.
    if (length === 0) return null;
    const f = userFrame(mem, dirFrame, tlb, v, write);
    if (f < 0) return faultAt(mem, dirFrame, v, write, 0);
    moveRun(mem, f * PAGE_SIZE + (v & PAGE_MASK), buf, bufOffset, length, write, null, 0);
    return null;
  }
  // A write of several pages takes views of the source per run: read its buffer once here, not per page.
  const src = write ? buf.buffer : null;
  const srcBase = src === null ? 0 : buf.byteOffset + bufOffset;
  let done = 0;
  let runPa = 0;
  let runAt = 0;
  let runLen = 0;
  while (done < length) {
    const va = v + done;
    const off = va & PAGE_MASK;
    const n = Math.min(length - done, PAGE_SIZE - off);
    const f = userFrame(mem, dirFrame, tlb, va, write);
    if (f < 0) {
      moveRun(mem, runPa, buf, bufOffset + runAt, runLen, write, src, srcBase + runAt);
      return faultAt(mem, dirFrame, va, write, done);
    }
    const pa = f * PAGE_SIZE + off;
    if (runLen > 0 && pa === runPa + runLen) {
      runLen += n;
    } else {
      moveRun(mem, runPa, buf, bufOffset + runAt, runLen, write, src, srcBase + runAt);
      runPa = pa;
      runAt = done;
      runLen = n;
    }
    done += n;
  }
  moveRun(mem, runPa, buf, bufOffset + runAt, runLen, write, src, srcBase + runAt);
  return null;
}

/** The fault report for a user access that failed at va after `done` bytes. */
function faultAt(
  mem: PhysMem,
  dirFrame: number,
  va: number,
  write: boolean,
  done: number,
): { fault: Fault; done: number } {
  const t = translate(mem, dirFrame, va, write, true);
  // Stryker disable next-line StringLiteral: the message of an assert that never fires: userFrame and translate read the same entry
  assert(!t.ok, () => `mmu: user access at 0x${va.toString(16)} faulted but translates`);
  return { fault: t.fault, done };
}

/** One TypedArray copy between the host buffer and a physically contiguous run (src: buf's buffer, if resolved). */
function moveRun(
  mem: PhysMem,
  pa: number,
  buf: Uint8Array,
  bufOffset: number,
  length: number,
  write: boolean,
  src: ArrayBufferLike | null,
  srcByteOffset: number,
): void {
  // Stryker disable next-line ConditionalExpression: a run of no bytes moves nothing: read and write accept an empty range
  if (length === 0) return;
  if (!write) mem.read(pa, buf, bufOffset, length);
  else if (src === null) mem.write(pa, buf, bufOffset, length);
  else mem.writeFromBuffer(pa, src, srcByteOffset, length);
}

/**
 * User-mode read of [v, v+length) into dst[dstOffset...] through TLB then walk. Returns null on success, or the
 * fault and the bytes transferred before the faulting page. Successful walks fill the TLB.
 */
export function userRead(
  mem: PhysMem,
  dirFrame: number,
  tlb: Tlb,
  v: number,
  dst: Uint8Array,
  dstOffset: number,
  length: number,
): null | { fault: Fault; done: number } {
  checkHostBuffer(dst, dstOffset, length, 'userRead');
  return userAccess(mem, dirFrame, tlb, v, dst, dstOffset, length, false);
}

/** User-mode write of src[srcOffset, +length) to [v, v+length); same contract as userRead. */
export function userWrite(
  mem: PhysMem,
  dirFrame: number,
  tlb: Tlb,
  v: number,
  src: Uint8Array,
  srcOffset: number,
  length: number,
): null | { fault: Fault; done: number } {
  checkHostBuffer(src, srcOffset, length, 'userWrite');
  return userAccess(mem, dirFrame, tlb, v, src, srcOffset, length, true);
}

/**
 * Test/boot helper, not VM's pt_writemap: maps the 4 KiB page at v to frameNo with flags ⊆ {P, W, U, G}.
 * A missing page table is taken from allocTableFrame(), zeroed, and entered as `table | P|W|U`. Overwrites any PTE.
 */
export function mapPage(
  mem: PhysMem,
  dirFrame: number,
  v: number,
  frameNo: number,
  flags: number,
  allocTableFrame: () => number,
): void {
  checkVaddr(v);
  assert((flags & ~PTE_FLAGS) === 0, () => `mapPage: flags 0x${flags.toString(16)} outside P|W|U|G`);
  assert(
    Number.isInteger(frameNo) && frameNo >= 0 && frameNo < mem.nFrames,
    () => `mapPage: frame ${frameNo} outside RAM`,
  );
  let pde = mem.pteRead(dirFrame, pdeIndex(v));
  assert(
    (pde & PTE.PS) === 0 || (pde & PTE.P) === 0,
    () => `mapPage: 0x${v.toString(16)} lies in a 4 MiB page`,
  );
  if ((pde & PTE.P) === 0) {
    const table = allocTableFrame();
    mem.zero(table * PAGE_SIZE, PAGE_SIZE);
    pde = (table * PAGE_SIZE + (PTE.P | PTE.W | PTE.U)) >>> 0;
    mem.pteWrite(dirFrame, pdeIndex(v), pde);
  }
  mem.pteWrite(pde >>> PAGE_SHIFT, pteIndex(v), (frameNo * PAGE_SIZE + flags) >>> 0);
}

function checkVaddr(v: number): void {
  if (v >>> 0 !== v) panic(`mmu: ${v} is not a 32-bit virtual address`);
}

function checkUserRange(v: number, length: number): void {
  checkVaddr(v);
  if (!(Number.isInteger(length) && length >= 0 && v + length <= ADDRESS_SPACE_BYTES)) {
    panic(`mmu: range 0x${v.toString(16)} +${length} bytes leaves the 32-bit address space`);
  }
}

function checkHostBuffer(buf: Uint8Array, offset: number, length: number, what: string): void {
  if (!(
    Number.isInteger(offset) &&
    Number.isInteger(length) &&
    offset >= 0 &&
    length >= 0 &&
    offset + length <= buf.length
  )) {
    panic(`mmu ${what}: host buffer range [${offset}, +${length}) outside buffer of ${buf.length} bytes`);
  }
}
