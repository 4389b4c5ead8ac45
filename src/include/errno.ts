// MINIX error numbers (include/errno.h), negated as kernel calls and servers return them: OK or -Exxx.
// Entry points: the E* constants, errnoName.

/** Success. */
export const OK = 0;
/** Not permitted: a grant that does not give the caller this access (grants.md §4), a granter without a grant table, or a DS request the caller's label may not make. */
export const EPERM = -1;
/** Not found: ds_check found no pending change (ds.md §6.7). */
export const ENOENT = -2;
/** No such process or item: kill of a process that is not alive, exec of a dead endpoint, a DS key or label that does not exist, a DS caller without label or subscription. */
export const ESRCH = -3;
/** Interrupted call: MINIX's number, not returned by the model. */
export const EINTR = -4;
/** I/O error: a device the memory driver has not set up (a RAM disk before MIOCRAMSIZE, /dev/boot, /dev/imgrd). */
export const EIO = -5;
/** The process has no page table (a boot process VM does not manage), so VM cannot serve it (vm.md §7–8). */
export const ENXIO = -6;
/** Exec image whose data and bss do not fit in its total size (vm.md §8.6). */
export const ENOEXEC = -8;
/** wait(): the caller has no children. */
export const ECHILD = -10;
/** Try again: wait() with nohang and no child has ended; DS's subscription table is full. */
export const EAGAIN = -11;
/** Out of memory or table space: physical pages, VM's slab, no room in the address space, DS's table, a full senda queue. */
export const ENOMEM = -12;
/** Bad address: a copy or mapping range outside the process's regions, a copy into non-writable memory, a bad munmap range. */
export const EFAULT = -14;
/** Busy: the kernel's safemap record table is full (maxMapInfo, grants.md §6.3). */
export const EBUSY = -16;
/** Already exists: a DS key published without DSF_OVERWRITE, a label already bound, a second subscription. */
export const EEXIST = -17;
/** Invalid argument: a bad grant id or access, an endpoint that is not live, unaligned or zero lengths, bad flags. */
export const EINVAL = -22;
/** Not a typewriter: an I/O control request the device does not know (a driver's default answer). */
export const ENOTTY = -25;
/** No space: the grant library found no free slot and could not grow the table. */
export const ENOSPC = -28;
/** Out of range: a safecopy of 0 bytes, or a vsafecopy with a count ≤ 0. */
export const EDOM = -33;
/** Not implemented or not allowed: a VM call the model does not have, or one missing from the caller's VM call mask (vm.md §8.1); file mmap. */
export const ENOSYS = -38;
/** A chain of indirect grants too long to resolve (grants.md §4). */
export const ELOOP = -40;
/** IPC: the send would deadlock (a cycle of processes blocked sending to each other). */
export const ELOCKED = -101;
/** Illegal IPC call: MINIX's number, not returned by the model. */
export const EBADCALL = -102;
/** Not allowed: IPC to a process outside the caller's ipcTo, or a kernel call missing from its kernel-call mask. */
export const ECALLDENIED = -104;
/** IPC: the other party is dead or not live (also returned to callers blocked on a process that exits). */
export const EDEADSRCDST = -105;
/** IPC: a non-blocking send found the receiver not waiting. */
export const ENOTREADY = -106;
/** A kernel call number the kernel does not know. */
export const EBADREQUEST = -107;
/** A server handler's answer meaning 'reply later or never' (PM's exit and blocking wait); never reaches a caller. */
export const EDONTREPLY = -201;

const names: Readonly<Record<number, string>> = {
  [OK]: 'OK',
  [EPERM]: 'EPERM',
  [ENOENT]: 'ENOENT',
  [ESRCH]: 'ESRCH',
  [EINTR]: 'EINTR',
  [EIO]: 'EIO',
  [ENXIO]: 'ENXIO',
  [ENOEXEC]: 'ENOEXEC',
  [ECHILD]: 'ECHILD',
  [EAGAIN]: 'EAGAIN',
  [ENOMEM]: 'ENOMEM',
  [EFAULT]: 'EFAULT',
  [EBUSY]: 'EBUSY',
  [EEXIST]: 'EEXIST',
  [EINVAL]: 'EINVAL',
  [ENOTTY]: 'ENOTTY',
  [ENOSPC]: 'ENOSPC',
  [EDOM]: 'EDOM',
  [ENOSYS]: 'ENOSYS',
  [ELOOP]: 'ELOOP',
  [ELOCKED]: 'ELOCKED',
  [EBADCALL]: 'EBADCALL',
  [ECALLDENIED]: 'ECALLDENIED',
  [EDEADSRCDST]: 'EDEADSRCDST',
  [ENOTREADY]: 'ENOTREADY',
  [EBADREQUEST]: 'EBADREQUEST',
  [EDONTREPLY]: 'EDONTREPLY',
};

/** 'EPERM' for -1, 'OK' for 0, the number itself for anything else. */
export function errnoName(code: number): string {
  return names[code] ?? String(code);
}

/** Signals that matter to the model (include/signal.h). */
export const SIGABRT = 6;
/** Kill, cannot be caught (the default of System.kill). */
export const SIGKILL = 9;
/** Segmentation violation: a memory access VM could not resolve (e.g. outside every region, or a write to a read-only mapping). */
export const SIGSEGV = 11;
/** Termination request (PM's shutdown signal). */
export const SIGTERM = 15;
