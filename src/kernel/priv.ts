// Models the kernel's privilege structures (kernel/priv.h): which processes one may talk to, which kernel
// calls it may make, its grant table, and flags. Entry points: Priv, makeUserPriv, makeSystemPriv, PrivSpec.
// DIVERGES: IPC targets are a set of slots (or 'all'/'system') rather than a bitmap of priv ids.
import { NR_SYS_CALLS } from '../include/com.ts';
import type { Endpoint } from '../include/endpoint.ts';

/** A grant table registered with sys_setgrant: address and entry count in the registering process's memory. */
export interface GrantTableRef {
  addr: number;
  entries: number;
  registeredBy: Endpoint;
}

/** What RS or the boot image says a process may do. */
export interface PrivSpec {
  /** Slots this process may send to / notify, or 'all', or 'system' (every process with a private priv). */
  ipcTo: 'all' | 'system' | readonly number[];
  /** Kernel call numbers (0..NR_SYS_CALLS-1, i.e. without KERNEL_CALL) or 'all'. */
  kernelCalls: 'all' | readonly number[];
  /** VM call numbers (0..NR_VM_CALLS-1) or 'all'; VM keeps the mask (spec/vm.md §8.1). */
  vmCalls: 'all' | readonly number[];
  /** May map physical memory (memory, tty) — and which ranges, for VM_MAP_PHYS. */
  physRanges?: readonly { base: number; length: number }[];
}

export interface Priv {
  readonly id: number;
  /** A private priv of a system process; false for the one user priv all user processes share. */
  readonly system: boolean;
  readonly spec: PrivSpec;
  readonly kcallMask: Uint8Array;
  grantTable: GrantTableRef | null;
}

function kcallMask(spec: PrivSpec): Uint8Array {
  const mask = new Uint8Array(NR_SYS_CALLS);
  if (spec.kernelCalls === 'all') mask.fill(1);
  else for (const c of spec.kernelCalls) if (c >= 0 && c < NR_SYS_CALLS) mask[c] = 1;
  return mask;
}

/** User processes may talk to system processes, make no kernel calls, and use the user VM calls. */
export const USER_PRIV_SPEC: PrivSpec = { ipcTo: 'system', kernelCalls: [], vmCalls: [10, 17, 19] };

export function makeUserPriv(): Priv {
  return { id: 0, system: false, spec: USER_PRIV_SPEC, kcallMask: kcallMask(USER_PRIV_SPEC), grantTable: null };
}

export function makeSystemPriv(id: number, spec: PrivSpec): Priv {
  return { id, system: true, spec, kcallMask: kcallMask(spec), grantTable: null };
}

/** What a service started without an explicit record gets: the reference test services' kernel calls. */
export const DEFAULT_SERVICE_SPEC: PrivSpec = {
  ipcTo: 'all',
  kernelCalls: [4, 14, 24, 25, 26, 31, 32, 33, 34, 44, 47, 48, 49],
  vmCalls: 'all',
};
