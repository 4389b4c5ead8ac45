// Privilege records as RS and the boot image state them (kernel/priv.h, servers/rs table): IPC targets,
// kernel calls, VM calls, physical ranges. Entry points: PrivSpec, USER_PRIV_SPEC, DEFAULT_SERVICE_SPEC,
// kernelCallList, vmCallList.
import { KERNEL_CALL, NR_SYS_CALLS, NR_VM_CALLS, VM_RQ_BASE } from './com.ts';

/** What RS or the boot image says a process may do. */
export interface PrivSpec {
  /** Slots this process may send to / notify, or 'all', or 'system' (every process with a private priv). */
  ipcTo: 'all' | 'system' | readonly number[];
  /** Kernel call numbers (0..NR_SYS_CALLS-1, i.e. without KERNEL_CALL) or 'all'. */
  kernelCalls: 'all' | readonly number[];
  /** VM call numbers (0..NR_VM_CALLS-1) or 'all'; VM keeps the mask. */
  vmCalls: 'all' | readonly number[];
  /** May map physical memory (memory, tty) — and which ranges, for VM_MAP_PHYS. */
  physRanges?: readonly {
    /** Physical start address, bytes. */
    base: number;
    /** Length in bytes. */
    length: number;
  }[];
}

/** User processes may talk to system processes, make no kernel calls, and use the user VM calls. */
export const USER_PRIV_SPEC: PrivSpec = { ipcTo: 'system', kernelCalls: [], vmCalls: [10, 17, 19] };

/** What a service started without an explicit record gets: the reference test services' kernel calls. */
export const DEFAULT_SERVICE_SPEC: PrivSpec = {
  ipcTo: 'all',
  kernelCalls: [4, 14, 24, 25, 26, 31, 32, 33, 34, 44, 47, 48, 49],
  vmCalls: 'all',
};

/** The call numbers of `calls`, message types from `base` on; a value that is no such call is a caller's bug. */
function callNumbers(calls: readonly number[], base: number, count: number, what: string): number[] {
  return calls.map((c) => {
    const n = c - base;
    if (!Number.isInteger(n) || n < 0 || n >= count)
      throw new RangeError(`${String(c)} is not a ${what} message type`);
    return n;
  });
}

/**
 * The {@link PrivSpec.kernelCalls} entry for kernel calls named by their constants: `kernelCallList(SYS_SAFECOPYFROM,
 * SYS_SAFEMAP)` is `[31, 47]`. Throws a RangeError for a number that is not a kernel call's message type.
 */
export function kernelCallList(...calls: readonly number[]): number[] {
  return callNumbers(calls, KERNEL_CALL, NR_SYS_CALLS, 'kernel call');
}

/**
 * The {@link PrivSpec.vmCalls} entry for VM calls named by their constants: `vmCallList(VM_MMAP, VM_MUNMAP)` is
 * `[10, 17]`. Throws a RangeError for a number that is not a VM call's message type.
 */
export function vmCallList(...calls: readonly number[]): number[] {
  return callNumbers(calls, VM_RQ_BASE, NR_VM_CALLS, 'VM call');
}
