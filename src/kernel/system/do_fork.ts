// Models the process-lifecycle kernel calls: sys_fork (from VM), sys_exec and sys_exit (from PM), sys_runctl
// (kernel/system/do_fork.c, do_exec.c, do_exit.c, do_runctl.c).
// DIVERGES: fork and exec carry the TypeScript entry function to run; exec also loads the image's initial
// bytes (MINIX's VFS did that with sys_datacopy from the file system).
import { EFAULT, EINVAL, OK } from '../../include/errno.ts';
import type { Payload } from '../../include/ipc.ts';
import { numField } from '../../include/ipc.ts';
import type { Kernel } from '../kernel.ts';
import { leaveSendQueue } from '../ipc.ts';
import { kcheckRange, kwrite } from '../memory.ts';
import { RTS } from '../proc.ts';
import type { KProc, ProgramFn } from '../proc.ts';
import type { KcallReply } from '../system.ts';

export const RC_STOP = 0;
export const RC_RESUME = 1;

/** sys_fork(parent, childSlot, entry): a new process in the slot's next generation, stopped (PROC_STOP). */
export function doFork(k: Kernel, _caller: KProc, m: Payload): KcallReply {
  const parent = k.liveProc(numField(m, 'parent'));
  const slot = numField(m, 'slot');
  const program = m.program as ProgramFn<KProc> | undefined;
  if (parent === null || !k.isOkSlot(slot) || slot < 0 || typeof program !== 'function') return EINVAL;
  if (k.procAt(slot).inUse) return EINVAL;
  const child = k.createProcess({
    slot,
    name: typeof m.name === 'string' ? m.name : parent.name,
    program,
    priority: parent.priv.system ? 7 : parent.priority,
    parent: parent.endpoint,
    rts: RTS.PROC_STOP | (parent.priv.system ? RTS.NO_PRIV : 0),
  });
  if (k.tracing) k.emit({ step: k.step, kind: 'proc', op: 'fork', ep: child.endpoint, name: child.name, parent: parent.endpoint });
  return { result: OK, child: child.endpoint };
}

/** One piece of an image to place in the new address space: bytes at a virtual address. */
export interface ImageSegment {
  vaddr: number;
  bytes: Uint8Array;
}

/**
 * sys_exec(ep, entry, segments): after VM built the new address space, load the image's bytes and start the
 * entry function; the old continuation is abandoned, a send it was blocked in withdrawn, and the grant-table
 * registration cleared.
 */
export function doExec(k: Kernel, _caller: KProc, m: Payload): number {
  const p = k.liveProc(numField(m, 'endpoint'));
  const program = m.program as ProgramFn<KProc> | undefined;
  const segments = (m.segments as ImageSegment[] | undefined) ?? [];
  if (p === null || typeof program !== 'function') return EINVAL;
  for (const s of segments) if (kcheckRange(k, p, s.vaddr, s.bytes.length, true) >= 0) return EFAULT;
  for (const s of segments) kwrite(k, p, s.vaddr, s.bytes);
  if (typeof m.name === 'string') p.name = m.name;
  p.priv.grantTable = null;
  p.userState = new Map();
  p.incarnation++;
  // A process blocked in a send leaves its destination's queue: the old incarnation's message is never received.
  leaveSendQueue(k, p);
  p.recvFrom = null;
  p.replyFrom = null;
  p.sendTo = null;
  p.sendMsg = null;
  p.rts &= ~(RTS.RECEIVING | RTS.SENDING);
  p.tlb.flush();
  k.setProgram(p, program);
  k.makeReady(p);
  if (k.tracing) k.emit({ step: k.step, kind: 'proc', op: 'exec', ep: p.endpoint, name: p.name });
  return OK;
}

/** sys_exit(ep, code, signal): PM clears a process slot once VM has released its memory. */
export function doExit(k: Kernel, caller: KProc, m: Payload): number {
  const p = k.liveProc(numField(m, 'endpoint'));
  if (p === null || p === caller) return EINVAL;
  const code = numField(m, 'code');
  const signal = numField(m, 'signal');
  k.terminate(p, { code: Number.isInteger(code) ? code : 0, signal: Number.isInteger(signal) ? signal : 0 });
  return OK;
}

/** sys_runctl(ep, RC_STOP | RC_RESUME): hold a process back from running, or let it go. */
export function doRunctl(k: Kernel, _caller: KProc, m: Payload): number {
  const p = k.liveProc(numField(m, 'endpoint'));
  if (p === null) return EINVAL;
  const action = numField(m, 'action');
  if (action === RC_STOP) k.setRts(p, RTS.PROC_STOP);
  else if (action === RC_RESUME) k.clearRts(p, RTS.PROC_STOP);
  else return EINVAL;
  return OK;
}
