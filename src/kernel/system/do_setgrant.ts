// Models sys_setgrant (kernel/system/do_setgrant.c): a system process registers the grant table it keeps in its
// own memory. The kernel stores only (address, entries, registering endpoint); entries are read at every use
// (spec/grants.md §3.1). Entry point: doSetgrant.
// DIVERGES: an address that is not a 32-bit value is EINVAL (MINIX's vir_bytes could not express one).
import { EINVAL, EPERM, OK } from '../../include/errno.ts';
import type { Payload } from '../../include/ipc.ts';
import { numField } from '../../include/ipc.ts';
import { GRANT_MAX_ENTRIES } from '../../include/safecopies.ts';
import type { Kernel } from '../kernel.ts';
import { rangeWraps } from '../memory.ts';
import { RTS } from '../proc.ts';
import type { KProc } from '../proc.ts';

export function doSetgrant(k: Kernel, caller: KProc, m: Payload): number {
  const addr = numField(m, 'addr');
  const n = numField(m, 'size');
  const result = setgrant(caller, addr, n);
  if (k.tracing) k.emit({ step: k.step, kind: 'grant', op: 'setgrant', caller: caller.endpoint, granter: caller.endpoint, gid: n, result });
  return result;
}

function setgrant(caller: KProc, addr: number, n: number): number {
  if (!caller.priv.system || (caller.rts & RTS.NO_PRIV) !== 0) return EPERM;
  if (!Number.isInteger(n) || n < 0 || n > GRANT_MAX_ENTRIES) return EINVAL;
  // A 32-bit address: 0 to 2^32 - 1, the range of one byte.
  if (rangeWraps(addr, 1)) return EINVAL;
  // Address 0 means no table: the granter's grants all fail with EPERM until it registers one.
  caller.priv.grantTable = addr === 0 ? null : { addr, entries: n, registeredBy: caller.endpoint };
  return OK;
}
