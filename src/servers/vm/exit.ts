// Models process exit in VM (servers/vm/exit.c): VM_WILLEXIT marks the process, VM_EXIT frees its address space.
// Entry points: freeAddressSpace, clearSlot, doWillExit, doExit.
// DIVERGES: a dead endpoint gives EINVAL instead of a panic; the slot's directory frame stays with the slot.
import { EINVAL, OK } from '../../include/errno.ts';
import type { Message } from '../../include/ipc.ts';
import type { Vm, VmProc, VmReply } from './glo.ts';
import { VMF_EXITING, VMF_HASPT, vmTrace, vmpOf } from './glo.ts';
import { emptyPageTable, ptFree, ptUnbindEntry } from './pagetable.ts';
import { unreferenceAll } from './region.ts';
import type { Region } from './region.ts';

/** Unreferences every reference of every region of vmp and frees the region objects (no PTE work). */
export function freeRegions(vm: Vm, regions: readonly Region[]): void {
  for (const r of regions) {
    unreferenceAll(vm, r);
    vm.slab.free(r);
  }
}

/** pt_free + unreference everything: vmp ends with no regions and no tables (directory kept). */
export function freeAddressSpace(vm: Vm, vmp: VmProc): void {
  const regions = vmp.regions;
  vmp.regions = [];
  vmp.heap = null;
  freeRegions(vm, regions);
  if ((vmp.flags & VMF_HASPT) !== 0) ptFree(vm, vmp.pt);
  vm.dirty.delete(vmp);
}

/** Marks the slot free. */
export function clearSlot(vm: Vm, vmp: VmProc): void {
  if (vmp.pt.dir !== 0 && vm.pagedirs !== 0) ptUnbindEntry(vm, vmp.slot);
  vmp.flags = 0;
  vmp.name = '';
  vmp.endpoint = 0;
  vmp.pt = emptyPageTable();
  vmp.regions = [];
  vmp.heap = null;
  vmp.callMask = new Uint8Array(vmp.callMask.length);
  vmp.physRanges = [];
  vm.dirty.delete(vmp);
}

export function doWillExit(vm: Vm, m: Message): VmReply {
  const vmp = vmpOf(vm, m.endpoint);
  if (vmp === null) return EINVAL;
  vmp.flags |= VMF_EXITING;
  return OK;
}

export function doExit(vm: Vm, m: Message): VmReply {
  const vmp = vmpOf(vm, m.endpoint);
  if (vmp === null || (vmp.flags & VMF_EXITING) === 0) return EINVAL;
  const ep = vmp.endpoint;
  freeAddressSpace(vm, vmp);
  clearSlot(vm, vmp);
  vmTrace(vm, 'exit', ep);
  return OK;
}
