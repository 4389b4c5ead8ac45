// Models sys_getinfo, sys_setalarm and sys_times (kernel/system/do_getinfo.c, do_setalarm.c, do_times.c).
import { EINVAL, OK } from '../../include/errno.ts';
import { GET_MONOTONIC, GET_WHOAMI } from '../../include/com.ts';
import type { Payload } from '../../include/ipc.ts';
import { numField } from '../../include/ipc.ts';
import type { Kernel } from '../kernel.ts';
import type { KcallReply } from '../system.ts';
import type { KProc } from '../proc.ts';

export function doGetinfo(k: Kernel, caller: KProc, m: Payload): KcallReply {
  switch (numField(m, 'request')) {
    case GET_WHOAMI:
      return { result: OK, endpoint: caller.endpoint, name: caller.name, system: caller.priv.system };
    case GET_MONOTONIC:
      return { result: OK, now: k.now };
    default:
      return EINVAL;
  }
}

export function doSetalarm(k: Kernel, caller: KProc, m: Payload): number {
  const ms = numField(m, 'ms');
  if (!Number.isFinite(ms) || ms < 0) return EINVAL;
  k.setAlarm(caller, ms);
  return OK;
}

export function doTimes(k: Kernel): KcallReply {
  return { result: OK, now: k.now };
}
