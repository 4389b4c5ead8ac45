// Models sys_privctl (kernel/system/do_privctl.c): give a process a private system priv, the shared user
// priv, or let it run (ALLOW clears RTS_NO_PRIV). SET_SYS resets the grant table to none.
import { EINVAL, OK } from '../../include/errno.ts';
import { SYS_PRIV_ALLOW, SYS_PRIV_DISALLOW, SYS_PRIV_SET_SYS, SYS_PRIV_SET_USER } from '../../include/com.ts';
import type { Payload } from '../../include/ipc.ts';
import { numField } from '../../include/ipc.ts';
import type { Kernel } from '../kernel.ts';
import { makeSystemPriv } from '../priv.ts';
import { DEFAULT_SERVICE_SPEC } from '../../include/priv.ts';
import type { PrivSpec } from '../../include/priv.ts';
import { RTS } from '../proc.ts';
import type { KProc } from '../proc.ts';

export function doPrivctl(k: Kernel, _caller: KProc, m: Payload): number {
  const p = k.liveProc(numField(m, 'endpoint'));
  if (p === null) return EINVAL;
  switch (numField(m, 'request')) {
    case SYS_PRIV_ALLOW:
      k.clearRts(p, RTS.NO_PRIV);
      return OK;
    case SYS_PRIV_DISALLOW:
      k.setRts(p, RTS.NO_PRIV);
      return OK;
    case SYS_PRIV_SET_SYS: {
      const spec = (m.priv as PrivSpec | undefined) ?? DEFAULT_SERVICE_SPEC;
      p.priv = makeSystemPriv(k.newPrivId(), spec);
      return OK;
    }
    case SYS_PRIV_SET_USER:
      p.priv = k.userPriv;
      return OK;
    default:
      return EINVAL;
  }
}
