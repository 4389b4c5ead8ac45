// Models the kernel's privilege structures (kernel/priv.h): which processes one may talk to, which kernel
// calls it may make, its grant table, and flags. Entry points: Priv, makeUserPriv, makeSystemPriv, PrivSpec.
// DIVERGES: IPC targets are a set of slots (or 'all'/'system') rather than a bitmap of priv ids.
import { NR_SYS_CALLS } from '../include/com.ts';
import { USER_PRIV_SPEC } from '../include/priv.ts';
import type { PrivSpec } from '../include/priv.ts';
import type { Endpoint } from '../include/endpoint.ts';

/** A grant table registered with sys_setgrant: address and entry count in the registering process's memory. */
export interface GrantTableRef {
  addr: number;
  entries: number;
  registeredBy: Endpoint;
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
  if (spec.kernelCalls === 'all') return mask.fill(1);
  // Stryker disable next-line LogicalOperator: the mask is a Uint8Array of NR_SYS_CALLS entries, which ignores a write at any other index
  for (const c of spec.kernelCalls) if (c >= 0 && c < NR_SYS_CALLS) mask[c] = 1;
  return mask;
}

export function makeUserPriv(): Priv {
  return { id: 0, system: false, spec: USER_PRIV_SPEC, kcallMask: kcallMask(USER_PRIV_SPEC), grantTable: null };
}

export function makeSystemPriv(id: number, spec: PrivSpec): Priv {
  return { id, system: true, spec, kcallMask: kcallMask(spec), grantTable: null };
}

