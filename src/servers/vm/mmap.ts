// Models VM's mmap family (servers/vm/mmap.c): anonymous mmap with placement, munmap of whole, head, tail and middle
// ranges, and physical mappings (map_phys/unmap_phys). Entry points: findSlot, munmapRange, doMmap, doMunmap,
// doMapPhys, doUnmapPhys.
// DIVERGES: munmap supports tail and middle ranges and DIRECT regions; MAP_FIXED is a grantvm extension.
import { EFAULT, EINVAL, ENOMEM, ENOSYS, ENXIO, EPERM, OK } from '../../include/errno.ts';
import { MEM_PROC_NR, SELF, TTY_PROC_NR, endpointSlot } from '../../include/endpoint.ts';
import type { Message } from '../../include/ipc.ts';
import {
  MAP_ALIGN64K,
  MAP_ANON,
  MAP_FIXED,
  MAP_LOWER16M,
  MAP_LOWER1M,
  MAP_NONE,
  MAP_PREALLOC,
  MAP_SHARED,
  VM_DATATOP,
  VM_PROCSTART,
  VR_ANON,
  VR_DIRECT,
  VR_LOWER16MB,
  VR_LOWER1MB,
  VR_NOPF,
  VR_PHYS64K,
  VR_SHARED,
  VR_WRITABLE,
  VRT_HEAP,
  VRT_NONE,
} from '../../include/vm.ts';
import { assert } from '../../lib/assert.ts';
import { PAGE_SIZE } from '../../lib/units.ts';
import type { Proc } from '../../libsys/proc.ts';
import type { Vm, VmProc, VmReply } from './glo.ts';
import { VMF_HASPT, markDirty, vmTrace, vmpOf } from './glo.ts';
import { memtypeOf } from './memtypes.ts';
import { ptClearRun } from './pagetable.ts';
import { allocRegion, findRegion, insertRegion, newBlock, newRegion, refsIn, removeRegion, splitAt, unreference } from './region.ts';
import type { Region } from './region.ts';
import { withInhibit } from './utility.ts';

const isInt = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n);
const roundUp = (n: number): number => Math.ceil(n / PAGE_SIZE) * PAGE_SIZE;

/** First fit: the lowest address ≥ lower where len bytes fit between regions and below VM_DATATOP; -1 if none. */
export function findSlot(vmp: VmProc, lower: number, len: number): number {
  let addr = lower;
  for (const r of vmp.regions) {
    if (r.vaddr + r.length <= addr) continue;
    if (r.vaddr >= addr + len) break;
    addr = r.vaddr + r.length;
  }
  return addr + len <= VM_DATATOP ? addr : -1;
}

/** Does [addr, addr+len) overlap any region of vmp? */
export function overlapsRegion(vmp: VmProc, addr: number, len: number): boolean {
  return vmp.regions.some((r) => r.vaddr < addr + len && addr < r.vaddr + r.length);
}

function regionFlagsOf(mapFlags: number): number {
  return (
    VR_ANON |
    VR_WRITABLE |
    ((mapFlags & MAP_SHARED) !== 0 ? VR_SHARED : 0) |
    ((mapFlags & MAP_LOWER16M) !== 0 ? VR_LOWER16MB : 0) |
    ((mapFlags & MAP_ALIGN64K) !== 0 ? VR_PHYS64K : 0) |
    ((mapFlags & MAP_LOWER1M) !== 0 ? VR_LOWER1MB : 0)
  );
}

/** The address for an mmap: MAP_FIXED's exact one or a first fit; an errno when there is none. */
function placeMapping(vmp: VmProc, addr: number, len: number, flags: number): number {
  if ((flags & MAP_FIXED) !== 0) {
    if (!isInt(addr) || addr === 0 || addr % PAGE_SIZE !== 0 || addr < VM_PROCSTART || addr + len > VM_DATATOP) return EINVAL;
    return overlapsRegion(vmp, addr, len) ? ENOMEM : addr;
  }
  const lower = isInt(addr) && addr > 0 ? Math.max(addr - (addr % PAGE_SIZE), VM_PROCSTART) : vmp.stacktop;
  const at = findSlot(vmp, lower, len);
  return at < 0 ? ENOMEM : at;
}

/** mmap core: a new anonymous region (preallocated for MAP_PREALLOC and MAP_SHARED). Address or errno. */
export function mmapRegion(vm: Vm, vmp: VmProc, addr: number, lenIn: number, flags: number, fd: number): number {
  if ((vmp.flags & VMF_HASPT) === 0) return ENXIO;
  if (fd !== -1) return (flags & MAP_ANON) !== 0 ? EINVAL : ENOSYS;
  if (!isInt(lenIn) || lenIn <= 0 || lenIn > VM_DATATOP) return EINVAL;
  const len = roundUp(lenIn);
  const at = placeMapping(vmp, addr, len, flags);
  if (at < 0) return at;
  const r = newRegion(vm, vmp, at, len, regionFlagsOf(flags), VRT_NONE);
  if (r === null) return ENOMEM;
  if ((flags & (MAP_PREALLOC | MAP_SHARED)) !== 0 && newBlock(vm, r, 0, len, MAP_NONE) !== OK) {
    removeRegion(vm, vmp, r);
    return ENOMEM;
  }
  return at;
}

/** VM_MMAP {addr, len, prot, flags, fd, offset} → {retAddr}. */
export function doMmap(vm: Vm, m: Message, caller: VmProc): VmReply {
  const fd = m.fd === undefined ? -1 : m.fd;
  const flags = isInt(m.flags) ? m.flags : 0;
  const r = mmapRegion(vm, caller, isInt(m.addr) ? m.addr : 0, m.len as number, flags, isInt(fd) ? fd : -2);
  if (vm.trace !== null) vmTrace(vm, 'mmap', caller.endpoint, { vaddr: r, pages: isInt(m.len) ? Math.ceil(m.len / PAGE_SIZE) : 0, result: r < 0 ? r : OK });
  return r < 0 ? r : { result: OK, retAddr: r };
}

/**
 * Removes [addr, addr+len) of vmp (len a positive page multiple): whole region, head, tail or middle. Blocks
 * straddling a cut are split for all sharers. ENOMEM (slab) with nothing removed; EFAULT for a bad range.
 */
export function munmapRange(vm: Vm, vmp: VmProc, addr: number, len: number): number {
  const r = findRegion(vmp, addr);
  if (r === null || addr + len > r.vaddr + r.length) return EFAULT;
  const off = addr - r.vaddr;
  const offEnd = off + len;
  if (off === 0 && offEnd === r.length) {
    removeRegion(vm, vmp, r);
    return OK;
  }
  let res = splitAt(vm, r, off);
  if (res === OK) res = splitAt(vm, r, offEnd);
  if (res !== OK) return res;
  const middle = off > 0 && offEnd < r.length;
  let upper: Region | null = null;
  if (middle) {
    const moved = refsIn(r, offEnd, r.length).length;
    upper = allocRegion(vm, vmp, r.vaddr + offEnd, r.length - offEnd, r.flags, r.tag);
    if (upper === null) return ENOMEM;
    if (!vm.slab.reserveNodes(moved)) {
      vm.slab.free(upper);
      return ENOMEM;
    }
  }
  for (const ref of refsIn(r, off, offEnd)) unreference(vm, ref);
  ptClearRun(vm.mem, vmp.pt, addr, len / PAGE_SIZE);
  markDirty(vm, vmp);
  if (upper !== null) moveUpper(vm, vmp, r, upper, off, offEnd);
  else if (off === 0) shiftHead(vm, r, len);
  else vm.slab.use(r, () => (r.length = off));
  return OK;
}

/** Head cut: the region starts len bytes later; its references' offsets drop by len (order kept). */
function shiftHead(vm: Vm, r: Region, len: number): void {
  const refs = refsIn(r, 0, r.length);
  vm.slab.use(r, () => {
    r.vaddr += len;
    r.length -= len;
  });
  for (const ref of refs) {
    r.refs.rekey(ref.offset, ref.offset - len);
    vm.slab.use(ref, () => (ref.offset -= len));
  }
}

/** Middle cut: references above the hole move to `upper`, which takes the HEAP tag if r had it. */
function moveUpper(vm: Vm, vmp: VmProc, r: Region, upper: Region, off: number, offEnd: number): void {
  const refs = refsIn(r, offEnd, r.length);
  for (const ref of refs) {
    r.refs.remove(ref.offset);
    const ok = upper.refs.insert(ref.offset - offEnd, ref);
    assert(ok, 'munmap: reserved node missing');
    vm.slab.use(ref, () => {
      ref.region = upper;
      ref.offset -= offEnd;
    });
  }
  vm.slab.use(r, () => {
    r.length = off;
    if (r.tag === VRT_HEAP) r.tag = VRT_NONE;
  });
  insertRegion(vmp, upper);
  if (vmp.heap === r) vmp.heap = upper;
}

/** VM_MUNMAP / VM_MUNMAP_TEXT {addr, len}. */
export function doMunmap(vm: Vm, m: Message, caller: VmProc): VmReply {
  if ((caller.flags & VMF_HASPT) === 0) return ENXIO;
  const addr = m.addr;
  const len = m.len;
  if (!isInt(addr) || !isInt(len) || len <= 0 || addr % PAGE_SIZE !== 0) return EFAULT;
  const r = munmapRange(vm, caller, addr, roundUp(len));
  if (vm.trace !== null) vmTrace(vm, 'munmap', caller.endpoint, { vaddr: addr, pages: Math.ceil(len / PAGE_SIZE), result: r });
  return r;
}

/** Endpoint argument: SELF means the caller. */
export function targetOf(vm: Vm, ep: unknown, caller: VmProc): VmProc | null {
  return ep === SELF ? caller : vmpOf(vm, ep);
}

function mayMapPhys(caller: VmProc, target: VmProc, phys: number, len: number): boolean {
  if (endpointSlot(caller.endpoint) === endpointSlot(TTY_PROC_NR)) return true;
  if (caller !== target) return false;
  if (endpointSlot(caller.endpoint) === endpointSlot(MEM_PROC_NR)) return true;
  return caller.physRanges.some((g) => phys >= g.base && phys + len <= g.base + g.length);
}

/** VM_MAP_PHYS {endpoint, phys, len} → {vaddr}. */
export async function doMapPhys(vm: Vm, p: Proc, m: Message, caller: VmProc): Promise<VmReply> {
  const target = targetOf(vm, m.endpoint, caller);
  if (target === null) return EINVAL;
  const phys = m.phys;
  const len = m.len;
  if (!isInt(phys) || !isInt(len)) return EINVAL;
  if (!mayMapPhys(caller, target, phys, len)) return EPERM;
  if ((target.flags & VMF_HASPT) === 0) return ENXIO;
  if (phys % PAGE_SIZE !== 0 || len <= 0 || phys < 0 || phys + len > 0x1_0000_0000) return EINVAL;
  const size = roundUp(len);
  const at = findSlot(target, target.stacktop, size);
  if (at < 0) return ENOMEM;
  return withInhibit(vm, p, caller, target, () => {
    const r = newRegion(vm, target, at, size, VR_DIRECT | VR_NOPF | VR_WRITABLE, VRT_NONE);
    if (r === null) return ENOMEM;
    if (newBlock(vm, r, 0, size, phys) !== OK) {
      removeRegion(vm, target, r);
      return ENOMEM;
    }
    return { result: OK, vaddr: at };
  });
}

/** VM_UNMAP_PHYS {endpoint, vaddr}. */
export async function doUnmapPhys(vm: Vm, p: Proc, m: Message, caller: VmProc): Promise<VmReply> {
  const target = targetOf(vm, m.endpoint, caller);
  if (target === null || !isInt(m.vaddr)) return EINVAL;
  const r = findRegion(target, m.vaddr);
  if (r === null || memtypeOf(r.flags).name !== 'direct') return EINVAL;
  return withInhibit(vm, p, caller, target, () => {
    removeRegion(vm, target, r);
    return OK;
  });
}
