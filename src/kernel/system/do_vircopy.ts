// Models sys_vircopy (kernel/system/do_copy.c) for system processes: copy between two processes' virtual
// memory. Both ranges must already be accessible (no VM help): otherwise EFAULT.
import { EDOM, EFAULT, EINVAL, OK } from '../../include/errno.ts';
import { SELF } from '../../include/endpoint.ts';
import type { Payload } from '../../include/ipc.ts';
import { numField } from '../../include/ipc.ts';
import type { Kernel } from '../kernel.ts';
import { kcheckRange, kcopy } from '../memory.ts';
import type { KProc } from '../proc.ts';

export function doVircopy(k: Kernel, caller: KProc, m: Payload): number {
  const srcE = numField(m, 'srcEndpoint');
  const dstE = numField(m, 'dstEndpoint');
  const src = srcE === SELF ? caller : k.liveProc(srcE);
  const dst = dstE === SELF ? caller : k.liveProc(dstE);
  const sa = numField(m, 'srcAddr');
  const da = numField(m, 'dstAddr');
  const n = numField(m, 'bytes');
  if (src === null || dst === null) return EINVAL;
  if (!Number.isInteger(n) || n < 0) return EDOM;
  if (kcheckRange(k, src, sa, n, false) >= 0 || kcheckRange(k, dst, da, n, true) >= 0) return EFAULT;
  kcopy(k, src, sa, dst, da, n);
  return OK;
}
