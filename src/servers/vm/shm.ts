// Models VM's shared-memory calls for IPC servers (servers/vm/mmap.c: do_remap, do_shared_unmap, do_get_phys,
// do_get_refcount). Entry points: remapCore, doRemap, doShmUnmap, doGetphys, doGetref.
// DIVERGES: remap references are linked into their blocks, take the source region's length, and a non-SHARED
// source gives EINVAL (spec/vm.md §8.9).
import { EFAULT, EINVAL, ENOMEM, OK } from '../../include/errno.ts';
import type { Message } from '../../include/ipc.ts';
import { VM_DATATOP, VM_PROCSTART, VRT_NONE } from '../../include/vm.ts';
import { PAGE_SIZE } from '../../lib/units.ts';
import type { Proc } from '../../libsys/proc.ts';
import type { Vm, VmProc, VmReply } from './glo.ts';
import { memtypeOf } from './memtypes.ts';
import { findSlot, targetOf } from './mmap.ts';
import { findRegion, linkRef, mapRef, newRegion, removeRegion } from './region.ts';
import type { Region } from './region.ts';
import { withInhibit } from './utility.ts';

const isShared = (r: Region): boolean => memtypeOf(r.flags).name === 'shared';

/** The SHARED region of vmp containing sa, or an errno. */
function sharedSource(vmp: VmProc, sa: unknown): Region | number {
  if (typeof sa !== 'number') return EINVAL;
  const r = findRegion(vmp, sa);
  if (r === null || !isShared(r)) return EINVAL;
  return r;
}

/** Where the remapped region goes: from da (exactly there) or the first fit from stacktop. */
function remapPlace(d: VmProc, da: number, len: number): number {
  const lower = da !== 0 ? da - (da % PAGE_SIZE) : d.stacktop;
  const at = findSlot(d, lower, len);
  if (at < 0) return ENOMEM;
  if (da !== 0 && at !== da) return EINVAL;
  return at;
}

/** REMAP core: a new region of d at `at` referencing every block of src (refcount + 1), PTEs writable. */
export function remapCore(vm: Vm, d: VmProc, at: number, src: Region): number {
  const r = newRegion(vm, d, at, src.length, src.flags, VRT_NONE);
  if (r === null) return ENOMEM;
  for (const [off, ref] of src.refs.entries()) {
    const nref = linkRef(vm, r, ref.block, off, 'private', false);
    if (nref === null) {
      removeRegion(vm, d, r);
      return ENOMEM;
    }
    mapRef(vm, nref);
  }
  return OK;
}

/** VM_REMAP {dst, src, dstAddr, srcAddr, size} → {retAddr}. */
export async function doRemap(vm: Vm, p: Proc, m: Message, caller: VmProc): Promise<VmReply> {
  const d = targetOf(vm, m.dst, caller);
  const s = targetOf(vm, m.src, caller);
  if (d === null || s === null) return EINVAL;
  const src = sharedSource(s, m.srcAddr);
  if (typeof src === 'number') return src;
  const da = typeof m.dstAddr === 'number' && Number.isInteger(m.dstAddr) ? m.dstAddr : 0;
  if (da < 0 || da >= VM_DATATOP || (da !== 0 && da < VM_PROCSTART)) return EINVAL;
  const at = remapPlace(d, da, src.length);
  if (at < 0) return at;
  return withInhibit(vm, p, caller, d, () => {
    const r = remapCore(vm, d, at, src);
    return r === OK ? { result: OK, retAddr: at } : r;
  });
}

/** VM_SHM_UNMAP {endpoint, addr}: detaches a whole SHARED region starting at addr. */
export async function doShmUnmap(vm: Vm, p: Proc, m: Message, caller: VmProc): Promise<VmReply> {
  const t = targetOf(vm, m.endpoint, caller);
  if (t === null) return EINVAL;
  const r = typeof m.addr === 'number' ? findRegion(t, m.addr) : null;
  if (r === null || r.vaddr !== m.addr || !isShared(r)) return EFAULT;
  return withInhibit(vm, p, caller, t, () => {
    removeRegion(vm, t, r);
    return OK;
  });
}

/** The SHARED region of the endpoint starting exactly at addr, or EINVAL. */
function shmAt(vm: Vm, m: Message, caller: VmProc): Region | number {
  const t = targetOf(vm, m.endpoint, caller);
  if (t === null || typeof m.addr !== 'number') return EINVAL;
  const r = findRegion(t, m.addr);
  return r === null || r.vaddr !== m.addr || !isShared(r) ? EINVAL : r;
}

/** VM_GETPHYS {endpoint, addr} → {phys} of the lowest block. */
export function doGetphys(vm: Vm, m: Message, caller: VmProc): VmReply {
  const r = shmAt(vm, m, caller);
  if (typeof r === 'number') return r;
  const first = r.refs.min();
  return first === undefined ? EINVAL : { result: OK, phys: first.value.block.phys };
}

/** VM_GETREF {endpoint, addr} → {refcount} of the lowest block. */
export function doGetref(vm: Vm, m: Message, caller: VmProc): VmReply {
  const r = shmAt(vm, m, caller);
  if (typeof r === 'number') return r;
  const first = r.refs.min();
  return first === undefined ? EINVAL : { result: OK, refcount: first.value.block.refcount };
}
