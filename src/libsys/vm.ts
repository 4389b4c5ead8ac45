// Process-side wrappers of the VM calls (lib/libc/other/_mmap.c, lib/syslib/vm_*.c): one sendrec to VM each.
// Entry points: vmMmap, vmMunmap, vmRemap, vmShmUnmap, vmGetphys, vmGetref, vmMapPhys, vmUnmapPhys, vmCtl.
// Each returns the reply's value on success, or a negative errno (the IPC error, or VM's result).
import { VM_CTL, VM_GETPHYS, VM_GETREF, VM_MAP_PHYS, VM_MMAP, VM_MUNMAP, VM_REMAP, VM_SHM_UNMAP, VM_UNMAP_PHYS } from '../include/com.ts';
import { OK } from '../include/errno.ts';
import { SELF, VM_PROC_NR } from '../include/endpoint.ts';
import type { Message, Payload } from '../include/ipc.ts';
import { PROT_READ, PROT_WRITE } from '../include/vm.ts';
import type { Proc } from './proc.ts';

async function vmCall(p: Proc, m: Payload): Promise<Message> {
  return p.sendrec(VM_PROC_NR, m);
}

/** The reply's numeric field on success, else the (negative) result. */
async function valueOf(p: Proc, m: Payload, field: string): Promise<number> {
  const r = await vmCall(p, m);
  if (r.type !== OK) return r.type;
  const v = r[field];
  return typeof v === 'number' ? v : r.type;
}

/** mmap: the mapping's address, or a negative errno. */
export function vmMmap(p: Proc, addr: number, len: number, flags: number, fd = -1, prot = PROT_READ | PROT_WRITE, offset = 0): Promise<number> {
  return valueOf(p, { type: VM_MMAP, addr, len, prot, flags, fd, offset }, 'retAddr');
}

/**
 * munmap: unmaps [addr, addr+len) (len rounded up to pages), which must lie inside one region; head, tail and
 * middle ranges are fine (vm.md §8.3). OK, or EFAULT (len 0, addr not page-aligned, not inside one region),
 * ENXIO (no page table), ENOMEM.
 */
export async function vmMunmap(p: Proc, addr: number, len: number): Promise<number> {
  return (await vmCall(p, { type: VM_MUNMAP, addr, len })).type;
}

/** Attaches the SHARED region of src at srcAddr into dst (at dstAddr, or anywhere when 0): the new address. */
export function vmRemap(p: Proc, dst: number, src: number, dstAddr: number, srcAddr: number, size: number): Promise<number> {
  return valueOf(p, { type: VM_REMAP, dst, src, dstAddr, srcAddr, size }, 'retAddr');
}

/**
 * VM_SHM_UNMAP: removes the SHARED region starting at `addr` from `endpoint` (default: the caller), e.g. one
 * attached with {@link vmRemap} (vm.md §8.9). OK, or EINVAL (endpoint not live), EFAULT (no SHARED region starts at addr).
 */
export async function vmShmUnmap(p: Proc, addr: number, endpoint: number = SELF): Promise<number> {
  return (await vmCall(p, { type: VM_SHM_UNMAP, endpoint, addr })).type;
}

/**
 * VM_GETPHYS: the physical address of the SHARED region starting at `addr` in `endpoint` (its segment id, vm.md
 * §8.9), or EINVAL (endpoint not live, no SHARED region starts at addr).
 */
export function vmGetphys(p: Proc, addr: number, endpoint: number = SELF): Promise<number> {
  return valueOf(p, { type: VM_GETPHYS, endpoint, addr }, 'phys');
}

/**
 * VM_GETREF: the reference count of the SHARED region starting at `addr` in `endpoint` (1: only the owner is
 * left, vm.md §8.9), or EINVAL (endpoint not live, no SHARED region starts at addr).
 */
export function vmGetref(p: Proc, addr: number, endpoint: number = SELF): Promise<number> {
  return valueOf(p, { type: VM_GETREF, endpoint, addr }, 'refcount');
}

/** Maps physical [phys, phys+len) into endpoint's space: the virtual address. */
export function vmMapPhys(p: Proc, phys: number, len: number, endpoint: number = SELF): Promise<number> {
  return valueOf(p, { type: VM_MAP_PHYS, endpoint, phys, len }, 'vaddr');
}

/**
 * VM_UNMAP_PHYS: removes the device mapping (DIRECT region) containing `vaddr` from `endpoint`, freeing no memory
 * (vm.md §8.8). OK, or EINVAL (endpoint not live, no DIRECT region there).
 */
export async function vmUnmapPhys(p: Proc, vaddr: number, endpoint: number = SELF): Promise<number> {
  return (await vmCall(p, { type: VM_UNMAP_PHYS, endpoint, vaddr })).type;
}

/** VM_CTL: the whole reply (statistics fields) or a negative errno. */
export async function vmCtl(p: Proc, what: number, param = 0): Promise<Message | number> {
  const r = await vmCall(p, { type: VM_CTL, what, param });
  return r.type === OK ? r : r.type;
}
