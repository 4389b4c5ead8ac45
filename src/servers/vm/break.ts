// Models VM's brk (servers/vm/break.c): the heap region grows lazily up to the next region, or shrinks with munmap
// tail semantics. Entry points: brkCore, doBrk.
// DIVERGES: a failed growth changes nothing; shrinking releases the pages (spec/vm.md §8.4).
import { EINVAL, ENOMEM, OK } from '../../include/errno.ts';
import type { Message } from '../../include/ipc.ts';
import { VM_DATATOP } from '../../include/vm.ts';
import { PAGE_SIZE } from '../../lib/units.ts';
import type { Vm, VmProc, VmReply } from './glo.ts';
import { vmTrace, vmpOf } from './glo.ts';
import { munmapRange } from './mmap.ts';

/** Moves the end of vmp's heap to addr rounded up to a page. */
export function brkCore(vm: Vm, vmp: VmProc, addr: number): number {
  const heap = vmp.heap;
  if (heap === null || !Number.isInteger(addr)) return ENOMEM;
  const newEnd = Math.ceil(addr / PAGE_SIZE) * PAGE_SIZE;
  if (newEnd <= heap.vaddr) return ENOMEM;
  const oldEnd = heap.vaddr + heap.length;
  if (newEnd > oldEnd) {
    const i = vmp.regions.indexOf(heap);
    const limit = vmp.regions[i + 1]?.vaddr ?? VM_DATATOP;
    if (newEnd > limit) return ENOMEM;
    vm.slab.use(heap, () => (heap.length = newEnd - heap.vaddr));
    return OK;
  }
  if (newEnd < oldEnd) return munmapRange(vm, vmp, newEnd, oldEnd - newEnd);
  return OK;
}

/** VM_BRK {endpoint, addr}. */
export function doBrk(vm: Vm, m: Message): VmReply {
  const vmp = vmpOf(vm, m.endpoint);
  if (vmp === null) return EINVAL;
  const r = brkCore(vm, vmp, typeof m.addr === 'number' ? m.addr : Number.NaN);
  vmTrace(vm, 'brk', vmp.endpoint, { vaddr: typeof m.addr === 'number' ? m.addr : 0, result: r });
  return r;
}
