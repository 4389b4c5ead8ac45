// Models the kernel's access to process memory: a process's own loads and stores through its MMU and TLB,
// with page faults handed to VM (arch/i386/pagefault, kernel/arch/i386/memory.c), and the kernel's own
// walks for copies through the page-directory pointer page (spec/vm.md §4). Entry points: userAccess,
// kwalk, kcheckRange, kcopy, kwrite, kread, hasPageTable.
// DIVERGES: a process's accesses are not kernel entries (no step) unless they fault.
import { SIGSEGV } from '../include/errno.ts';
import { HARDWARE } from '../include/endpoint.ts';
import { panic } from '../lib/assert.ts';
import { ADDRESS_SPACE_BYTES, PAGE_SIZE } from '../lib/units.ts';
import { PTE, userRead, userWrite, walk } from '../hw/mmu.ts';
import type { Fault } from '../hw/mmu.ts';
import type { Kernel } from './kernel.ts';
import { RTS } from './proc.ts';
import type { KProc } from './proc.ts';

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

/** Physical address of byte v of p for a kernel access (P and U; W for writes), or -1. */
export function kwalk(k: Kernel, p: KProc, v: number, write: boolean): number {
  if (v < 0 || v >= ADDRESS_SPACE_BYTES) return -1;
  const dir = kernelDir(k, p);
  if (dir < 0) {
    const e = p.extent;
    return e !== null && v >= e.base && v < e.base + e.length ? v : -1;
  }
  return walk(k.mem, dir, v, write, true);
}

/** -1 if every page of [v, v+length) of p is accessible to a kernel copy, else the first bad address. */
export function kcheckRange(k: Kernel, p: KProc, v: number, length: number, write: boolean): number {
  if (length === 0) return -1;
  if (rangeWraps(v, length)) return Number.isInteger(v) && v >= 0 ? v : 0;
  for (let a = v; a < v + length; a = a - (a % PAGE_SIZE) + PAGE_SIZE) {
    if (kwalk(k, p, a, write) < 0) return a;
  }
  return -1;
}

/**
 * Copies `length` bytes from src's `sv` to dst's `dv` in runs bounded by page ends on both sides. Both
 * ranges MUST have passed kcheckRange. Within one process overlapping ranges copy as memmove.
 */
export function kcopy(k: Kernel, src: KProc, sv: number, dst: KProc, dv: number, length: number): void {
  const backward = src === dst && dv > sv && dv < sv + length;
  let left = length;
  while (left > 0) {
    const s = backward ? sv + left - 1 : sv + length - left;
    const d = backward ? dv + left - 1 : dv + length - left;
    const room = backward
      ? Math.min((s % PAGE_SIZE) + 1, (d % PAGE_SIZE) + 1)
      : Math.min(PAGE_SIZE - (s % PAGE_SIZE), PAGE_SIZE - (d % PAGE_SIZE));
    const n = Math.min(room, left);
    const s0 = backward ? s - n + 1 : s;
    const d0 = backward ? d - n + 1 : d;
    const ps = kwalk(k, src, s0, false);
    const pd = kwalk(k, dst, d0, true);
    if (ps < 0 || pd < 0) panic(`kcopy: unchecked page (${src.name}@${s0} → ${dst.name}@${d0})`);
    k.mem.copy(pd, ps, n);
    left -= n;
  }
}

/** Kernel write of host bytes into p's memory; every page MUST be accessible (kcheckRange). */
export function kwrite(k: Kernel, p: KProc, v: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) {
    const a = v + done;
    const n = Math.min(PAGE_SIZE - (a % PAGE_SIZE), bytes.length - done);
    const pa = kwalk(k, p, a, true);
    if (pa < 0) panic(`kwrite: unchecked page ${a} of ${p.name}`);
    k.mem.write(pa, bytes, done, n);
    done += n;
  }
}

/** Kernel read of p's memory into a new buffer; every page MUST be accessible (kcheckRange). */
export function kread(k: Kernel, p: KProc, v: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const a = v + done;
    const n = Math.min(PAGE_SIZE - (a % PAGE_SIZE), length - done);
    const pa = kwalk(k, p, a, false);
    if (pa < 0) panic(`kread: unchecked page ${a} of ${p.name}`);
    k.mem.read(pa, out, done, n);
    done += n;
  }
  return out;
}
