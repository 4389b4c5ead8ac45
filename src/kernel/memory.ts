// Models the kernel's access to process memory: a process's own loads and stores through its MMU and TLB,
// with page faults handed to VM (arch/i386/pagefault, kernel/arch/i386/memory.c), and the kernel's own
// walks for copies through the page-directory pointer page (spec/vm.md §4). Entry points: userAccess,
// kwalk, kcheckRange, kcheckRuns, kcopy, kcopyRuns, kshareFrames, kcopyInPage, kwrite, kread, kreadInto, hasPageTable.
// DIVERGES: a process's accesses are not kernel entries (no step) unless they fault.
import { SIGSEGV } from '../include/errno.ts';
import { HARDWARE } from '../include/endpoint.ts';
import { panic } from '../lib/assert.ts';
import { ADDRESS_SPACE_BYTES, PAGE_MASK, PAGE_SIZE } from '../lib/units.ts';
import { PTE, WALK_NO_DIR, translateRange, userRead, userWrite, walk, walkEntry } from '../hw/mmu.ts';
import type { Fault, PhysRuns } from '../hw/mmu.ts';
import { K } from '../hw/profile.ts';
import type { Kernel } from './kernel.ts';
import { RTS } from './proc.ts';
import type { KProc } from './proc.ts';

/** Pages of [v, v+length): the walks a range check makes. */
const pagesSpanned = (v: number, length: number): number => ((v + length - 1) >>> 12) - (v >>> 12) + 1;

/** Bytes a set of physical runs holds. */
function runsBytes(r: PhysRuns): number {
  let n = 0;
  for (let i = 0; i < r.count; i++) n += r.bytes[i] ?? 0;
  return n;
}

/** A range that does not fit in the 32-bit address space. */
export const rangeWraps = (v: number, length: number): boolean =>
  !Number.isInteger(v) || !Number.isInteger(length) || v < 0 || length < 0 || v + length > ADDRESS_SPACE_BYTES;

/**
 * A process reads or writes its own memory. Each page that faults suspends the process until VM has
 * handled the fault; the access then resumes at that page. An access VM refuses ends in SIGSEGV.
 */
export async function userAccess(
  k: Kernel,
  p: KProc,
  v: number,
  buf: Uint8Array,
  offset: number,
  length: number,
  write: boolean,
): Promise<void> {
  if (length === 0) return;
  if (rangeWraps(v, length)) return k.selfSignal(p, SIGSEGV);
  if (p.dirFrame < 0) return identityAccess(k, p, v, buf, offset, length, write);
  let done = 0;
  for (;;) {
    const r = write
      ? userWrite(k.mem, p.dirFrame, p.tlb, v + done, buf, offset + done, length - done)
      : userRead(k.mem, p.dirFrame, p.tlb, v + done, buf, offset + done, length - done);
    if (r === null) return;
    done += r.done;
    await pageFault(k, p, r.fault);
    if (p.dirFrame < 0) return k.selfSignal(p, SIGSEGV);
  }
}

/** A process without a page table addresses physical memory by identity inside its boot extent. */
function identityAccess(k: Kernel, p: KProc, v: number, buf: Uint8Array, offset: number, length: number, write: boolean): Promise<void> {
  const e = p.extent;
  if (e === null || v < e.base || v + length > e.base + e.length) return k.selfSignal(p, SIGSEGV);
  if (write) k.mem.write(v, buf, offset, length);
  else k.mem.read(v, buf, offset, length);
  return Promise.resolve();
}

/** The page-fault path: suspend, queue for VM, notify VM from HARDWARE, wait for VMCTL_CLEAR_PAGEFAULT. */
async function pageFault(k: Kernel, p: KProc, fault: Fault): Promise<void> {
  const y = k.enter(p);
  if (y !== null) await y;
  k.counts.pageFaults++;
  k.clock.charge(K.pageFault);
  if (k.tracing) k.emit({ step: k.step, kind: 'fault', ep: p.endpoint, vaddr: fault.vaddr, write: fault.write, present: fault.present });
  p.fault = { vaddr: fault.vaddr, write: fault.write, present: fault.present };
  k.pagefaults.push(p);
  k.setRts(p, RTS.PAGEFAULT);
  k.notifyVm(HARDWARE);
  await k.block(p);
}

/** The directory frame the kernel uses for `p`: through the shared pointer page once VM gave it one. */
function kernelDir(k: Kernel, p: KProc): number {
  if (k.pagedirsFrame < 0 || p.slot < 0) return p.dirFrame;
  const e = k.mem.pteRead(k.pagedirsFrame, p.slot);
  return (e & PTE.P) === 0 ? -1 : e >>> 12;
}

/** True when the kernel reaches p's memory through a page table; false: identity inside its boot extent. */
export function hasPageTable(k: Kernel, p: KProc): boolean {
  return kernelDir(k, p) >= 0;
}

/**
 * Physical address of byte v of p for a kernel access (P and U; W for writes), or -1. Walks through the pointer
 * page go through the kernel's WalkCache: the same answer, charged the same, without re-reading unchanged tables.
 */
export function kwalk(k: Kernel, p: KProc, v: number, write: boolean): number {
  if (v < 0 || v >= ADDRESS_SPACE_BYTES) return -1;
  k.clock.charge(K.pageWalk);
  if (k.pagedirsFrame < 0 || p.slot < 0 || v >>> 0 !== v) return walkIn(k, p, kernelDir(k, p), v, write);
  const e = k.walks.entry(k.mem, k.pagedirsFrame, p.slot, v);
  return e === WALK_NO_DIR ? walkIn(k, p, -1, v, write) : walkEntry(e, v, write);
}

/** kwalk with the directory already looked up (-1: identity inside p's extent). v MUST be a 32-bit address. */
function walkIn(k: Kernel, p: KProc, dir: number, v: number, write: boolean): number {
  if (dir >= 0) return walk(k.mem, dir, v, write, true);
  const e = p.extent;
  return e !== null && v >= e.base && v < e.base + e.length ? v : -1;
}

/** -1 if every page of [v, v+length) of p is accessible to a kernel copy, else the first bad address. */
export function kcheckRange(k: Kernel, p: KProc, v: number, length: number, write: boolean): number {
  return kcheckRuns(k, p, v, length, write, null);
}

/** The physical runs of a copy's source and destination: filled by kcheckRuns, consumed at once by kcopyRuns. */
export const copySourceRuns: PhysRuns = { pa: [], bytes: [], count: 0 };
export const copyDestRuns: PhysRuns = { pa: [], bytes: [], count: 0 };

/**
 * kcheckRange that also records, when every page is accessible and `out` is given, the physically contiguous
 * runs of the range in `out` (one walk per page, the directory entry read once per 4 MiB).
 */
export function kcheckRuns(k: Kernel, p: KProc, v: number, length: number, write: boolean, out: PhysRuns | null): number {
  if (out !== null) out.count = 0;
  if (length === 0) return -1;
  if (rangeWraps(v, length)) return Number.isInteger(v) ? Math.max(v, 0) : 0;
  const dir = kernelDir(k, p);
  k.clock.charge(K.pageWalk, pagesSpanned(v, length));
  if (dir >= 0) return out === null ? translateRange(k.mem, dir, v, length, write, null) : k.walks.translateRange(k.mem, dir, v, length, write, out);
  for (let a = v; a < v + length; a = a - (a % PAGE_SIZE) + PAGE_SIZE) {
    if (walkIn(k, p, dir, a, write) < 0) return a;
  }
  if (out !== null) {
    // Identity inside the boot extent: one run.
    out.pa[0] = v;
    out.bytes[0] = length;
    out.count = 1;
  }
  return -1;
}

/**
 * Copies between two ranges of equal length given as physical runs (kcheckRuns), one memmove per piece where
 * both sides are contiguous. When the two ranges share physical bytes (one process's overlapping ranges, or two
 * processes sharing a frame through safemap or shared memory), the result is as if every source byte were read
 * before any destination byte is written: the source goes through a staging buffer.
 */
export function kcopyRuns(k: Kernel, src: PhysRuns, dst: PhysRuns): void {
  k.clock.chargeCopy(runsBytes(src));
  if (runsOverlap(src, dst)) {
    copyRunsStaged(k, src, dst);
    return;
  }
  let i = 0;
  let j = 0;
  let si = 0;
  let dj = 0;
  while (i < src.count && j < dst.count) {
    const sLeft = (src.bytes[i] ?? 0) - si;
    const dLeft = (dst.bytes[j] ?? 0) - dj;
    const n = Math.min(sLeft, dLeft);
    k.mem.copy((dst.pa[j] ?? 0) + dj, (src.pa[i] ?? 0) + si, n);
    si += n;
    dj += n;
    if (si === src.bytes[i]) {
      i++;
      si = 0;
    }
    if (dj === dst.bytes[j]) {
      j++;
      dj = 0;
    }
  }
  if (i !== src.count || j !== dst.count) panic('kcopyRuns: source and destination differ in length');
}

/**
 * True when a page of [sv, sv+length) of src and a writable page of [dv, dv+length) of dst, both present now,
 * share a frame. Absent pages get fresh frames when VM fills them, so only present ones can alias; such a copy
 * must not go by copy-on-write, whose page-by-page steps would read bytes it has already written.
 */
export function kshareFrames(k: Kernel, src: KProc, sv: number, dst: KProc, dv: number, length: number): boolean {
  presentRuns(k, src, sv, length, false, copySourceRuns);
  presentRuns(k, dst, dv, length, true, copyDestRuns);
  return runsOverlap(copySourceRuns, copyDestRuns);
}

/** The frames of the accessible pages of [v, v+length) of p (W too if `write`), merged where contiguous. */
function presentRuns(k: Kernel, p: KProc, v: number, length: number, write: boolean, out: PhysRuns): void {
  out.count = 0;
  for (let a = v; a < v + length; a = a - (a % PAGE_SIZE) + PAGE_SIZE) {
    const pa = kwalk(k, p, a, write);
    if (pa < 0) continue;
    const n = Math.min(PAGE_SIZE - (a & PAGE_MASK), v + length - a);
    // Stryker disable next-line ArithmeticOperator: runs never merged cover the same bytes: kshareFrames' answer is the same
    const last = out.count - 1;
    if (last >= 0 && (out.pa[last] ?? 0) + (out.bytes[last] ?? 0) === pa) out.bytes[last] = (out.bytes[last] ?? 0) + n;
    else {
      out.pa[out.count] = pa;
      out.bytes[out.count] = n;
      out.count++;
    }
  }
}

/** The first byte a set of runs covers (Infinity when empty). */
function runsLow(r: PhysRuns): number {
  let lo = Infinity;
  for (let i = 0; i < r.count; i++) lo = Math.min(lo, r.pa[i] ?? 0);
  return lo;
}

/** The end of the bytes a set of runs covers (-Infinity when empty). */
function runsHigh(r: PhysRuns): number {
  // Stryker disable next-line UnaryOperator: a span never below the other's only skips runsOverlap's shortcut; the full search gives the same answer
  let hi = -Infinity;
  for (let i = 0; i < r.count; i++) hi = Math.max(hi, (r.pa[i] ?? 0) + (r.bytes[i] ?? 0));
  return hi;
}

/**
 * Does a source run share a byte with a destination run? The spans first (frames of different processes are
 * usually far apart), then every source run against the destination runs sorted by address.
 */
function runsOverlap(src: PhysRuns, dst: PhysRuns): boolean {
  // Stryker disable next-line LogicalOperator: a shortcut; the search below gives the same answer for spans that overlap or not
  if (runsHigh(src) <= runsLow(dst) || runsHigh(dst) <= runsLow(src)) return false;
  const order = Array.from({ length: dst.count }, (_, j) => j).sort(
    (a, b) => (dst.pa[a] ?? 0) - (dst.pa[b] ?? 0),
  );
  const starts = order.map((j) => dst.pa[j] ?? 0);
  // reach[m]: the highest end among the first m+1 runs by address (one range may map a frame twice).
  let top = -Infinity;
  const reach = order.map((j) => (top = Math.max(top, (dst.pa[j] ?? 0) + (dst.bytes[j] ?? 0))));
  for (let i = 0; i < src.count; i++) {
    const a = src.pa[i] ?? 0;
    const b = a + (src.bytes[i] ?? 0);
    // Destination runs starting before b (none: -Infinity): one of them reaches past a?
    let lo = 0;
    let hi = starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((starts[mid] ?? 0) < b) lo = mid + 1;
      else hi = mid;
    }
    if ((reach[lo - 1] ?? -Infinity) > a) return true;
  }
  return false;
}

/** The whole source read into a buffer, then written to the destination: memmove over physical memory. */
function copyRunsStaged(k: Kernel, src: PhysRuns, dst: PhysRuns): void {
  let total = 0;
  for (let i = 0; i < src.count; i++) total += src.bytes[i] ?? 0;
  const buf = new Uint8Array(total);
  let off = 0;
  for (let i = 0; i < src.count; i++) {
    const n = src.bytes[i] ?? 0;
    k.mem.read(src.pa[i] ?? 0, buf, off, n);
    off += n;
  }
  off = 0;
  for (let j = 0; j < dst.count; j++) {
    const n = dst.bytes[j] ?? 0;
    k.mem.write(dst.pa[j] ?? 0, buf, off, n);
    off += n;
  }
  if (off !== total) panic('kcopyRuns: source and destination differ in length');
}

/**
 * Copies `length` bytes from src's `sv` to dst's `dv`, one memmove per piece physically contiguous on both
 * sides. Both ranges MUST have passed kcheckRange. Ranges sharing physical bytes copy as memmove (kcopyRuns).
 */
export function kcopy(k: Kernel, src: KProc, sv: number, dst: KProc, dv: number, length: number): void {
  if (length === 0) return;
  if (kcheckRuns(k, src, sv, length, false, copySourceRuns) >= 0 || kcheckRuns(k, dst, dv, length, true, copyDestRuns) >= 0) {
    panic(`kcopy: unchecked range (${src.name}@${sv} → ${dst.name}@${dv}, ${length} bytes)`);
  }
  kcopyRuns(k, copySourceRuns, copyDestRuns);
}

/**
 * The common small copy: when [sv, sv+length) and [dv, dv+length) each lie inside one page and both pages are
 * accessible (source P|U, destination P|U|W), copies them with one walk per side and returns true. Otherwise
 * copies nothing and returns false: the caller checks the ranges (kcheckRange) and copies with kcopy.
 */
export function kcopyInPage(k: Kernel, src: KProc, sv: number, dst: KProc, dv: number, length: number): boolean {
  if ((sv & PAGE_MASK) + length > PAGE_SIZE || (dv & PAGE_MASK) + length > PAGE_SIZE) return false;
  const ps = kwalk(k, src, sv, false);
  if (ps < 0) return false;
  const pd = kwalk(k, dst, dv, true);
  if (pd < 0) return false;
  k.clock.chargeCopy(length);
  k.mem.copy(pd, ps, length);
  return true;
}

/** Kernel write of host bytes into p's memory; every page MUST be accessible (kcheckRange). */
export function kwrite(k: Kernel, p: KProc, v: number, bytes: Uint8Array): void {
  const dir = kernelDir(k, p);
  k.clock.chargeCopy(bytes.length);
  let done = 0;
  while (done < bytes.length) {
    const a = v + done;
    const n = Math.min(PAGE_SIZE - (a & PAGE_MASK), bytes.length - done);
    const pa = walkIn(k, p, dir, a, true);
    if (pa < 0) panic(`kwrite: unchecked page ${a} of ${p.name}`);
    k.mem.write(pa, bytes, done, n);
    done += n;
  }
}

/** Kernel read of p's memory into a new buffer; every page MUST be accessible (kcheckRange). */
export function kread(k: Kernel, p: KProc, v: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  kreadInto(k, p, v, out);
  return out;
}

/** Kernel read of `out.length` bytes of p's memory at v into `out`; every page MUST be accessible (kcheckRange). */
export function kreadInto(k: Kernel, p: KProc, v: number, out: Uint8Array): void {
  const dir = kernelDir(k, p);
  const length = out.length;
  k.clock.chargeCopy(length);
  let done = 0;
  while (done < length) {
    const a = v + done;
    const n = Math.min(PAGE_SIZE - (a & PAGE_MASK), length - done);
    const pa = walkIn(k, p, dir, a, false);
    if (pa < 0) panic(`kread: unchecked page ${a} of ${p.name}`);
    k.mem.read(pa, out, done, n);
    done += n;
  }
}
