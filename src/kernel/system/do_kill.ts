// Models sys_kill, sys_getksig and sys_endksig (kernel/system/do_kill.c, do_getksig.c, do_endksig.c): a
// signal is posted to PM, which fetches pending kernel signals and says when it is done with them.
import { EINVAL, OK } from '../../include/errno.ts';
import { NONE } from '../../include/endpoint.ts';
import type { Payload } from '../../include/ipc.ts';
import { numField } from '../../include/ipc.ts';
import type { Kernel } from '../kernel.ts';
import type { KcallReply } from '../system.ts';
import { RTS } from '../proc.ts';
import type { KProc } from '../proc.ts';

export function doKill(k: Kernel, _caller: KProc, m: Payload): number {
  const p = k.liveProc(numField(m, 'endpoint'));
  const sig = numField(m, 'sig');
  if (p === null || !Number.isInteger(sig) || sig < 1 || sig > 31) return EINVAL;
  k.causeSig(p, sig);
  return OK;
}

export function doGetksig(k: Kernel): KcallReply {
  const p = k.nextSignaled();
  if (p === null) return { result: OK, endpoint: NONE, sigmask: 0 };
  const sigmask = p.pendingSignals;
  p.pendingSignals = 0;
  return { result: OK, endpoint: p.endpoint, sigmask };
}

export function doEndksig(k: Kernel, _caller: KProc, m: Payload): number {
  const p = k.liveProc(numField(m, 'endpoint'));
  if (p === null) return EINVAL;
  if (p.pendingSignals === 0) k.clearRts(p, RTS.SIGNALED);
  return OK;
}
