// Models sys_vmctl (kernel/system/do_vmctl.c), VM's window into the kernel: fetch and clear page faults,
// fetch and answer memory requests, bind page directories, flush TLBs, hold processes (VMINHIBIT).
import { K } from '../../hw/profile.ts';
import { EINVAL, ESRCH, OK } from '../../include/errno.ts';
import {
  VMCTL_CLEAR_PAGEFAULT,
  VMCTL_FLUSHTLB,
  VMCTL_GET_PAGEFAULT,
  VMCTL_I386_PAGEDIRS,
  VMCTL_I386_SETCR3,
  VMCTL_MEMREQ_GET,
  VMCTL_MEMREQ_REPLY,
  VMCTL_VMINHIBIT_CLEAR,
  VMCTL_VMINHIBIT_SET,
} from '../../include/com.ts';
import type { Payload } from '../../include/ipc.ts';
import { numField } from '../../include/ipc.ts';
import type { Kernel } from '../kernel.ts';
import { RTS } from '../proc.ts';
import type { KProc } from '../proc.ts';
import type { KcallReply } from '../system.ts';
import { memreqGet, memreqReply } from '../vmrequest.ts';

export function doVmctl(k: Kernel, _caller: KProc, m: Payload): KcallReply {
  const req = numField(m, 'request');
  switch (req) {
    case VMCTL_GET_PAGEFAULT: {
      const p = k.pagefaults.shift();
      if (p === undefined || p.fault === null) return ESRCH;
      return { result: OK, endpoint: p.endpoint, addr: p.fault.vaddr, write: p.fault.write, present: p.fault.present };
    }
    case VMCTL_MEMREQ_GET: {
      const r = memreqGet(k);
      if (r === null) return ESRCH;
      return {
        result: OK,
        reqType: r.reqType,
        target: r.targetEndpoint,
        addr: r.start,
        length: r.length,
        flag: r.write ? 1 : 0,
        ep2: r.sourceEndpoint ?? 0,
        addr2: r.sourceAddr,
        requestor: r.requestor.endpoint,
      };
    }
    case VMCTL_MEMREQ_REPLY:
      return memreqReply(k, numField(m, 'requestor'), numField(m, 'value'));
    case VMCTL_I386_PAGEDIRS: {
      const f = numField(m, 'frame');
      if (!Number.isInteger(f) || f <= 0 || f >= k.mem.nFrames) return EINVAL;
      k.pagedirsFrame = f;
      return OK;
    }
    default:
      return targetVmctl(k, req, m);
  }
}

/** The vmctl requests that act on one named process. */
function targetVmctl(k: Kernel, req: number, m: Payload): number {
  const p = k.liveProc(numField(m, 'endpoint'));
  if (p === null) return EINVAL;
  switch (req) {
    case VMCTL_CLEAR_PAGEFAULT:
      if ((p.rts & RTS.PAGEFAULT) === 0) return EINVAL;
      p.fault = null;
      k.clearRts(p, RTS.PAGEFAULT);
      return OK;
    case VMCTL_I386_SETCR3: {
      const f = numField(m, 'frame');
      if (!Number.isInteger(f) || f < -1 || f >= k.mem.nFrames) return EINVAL;
      p.dirFrame = f;
      p.tlb.flush();
      k.clock.charge(K.tlbFlush);
      return OK;
    }
    case VMCTL_FLUSHTLB:
      p.tlb.flush();
      k.clock.charge(K.tlbFlush);
      return OK;
    case VMCTL_VMINHIBIT_SET:
      k.setRts(p, RTS.VMINHIBIT);
      return OK;
    case VMCTL_VMINHIBIT_CLEAR:
      k.clearRts(p, RTS.VMINHIBIT);
      return OK;
    default:
      return EINVAL;
  }
}
