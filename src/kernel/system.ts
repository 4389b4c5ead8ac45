// Models the SYSTEM task's kernel-call dispatch (kernel/system.c): the call number is checked, then the
// caller's kernel-call mask, then the handler runs on the caller's behalf and may suspend it (VM requests).
// Entry points: kernelCall, kernelCallResult, KcallHandler, KcallReply, registerKernelCall.
import { K } from '../hw/profile.ts';
import { ECALLDENIED, EBADREQUEST, OK } from '../include/errno.ts';
import {
  KERNEL_CALL,
  NR_SYS_CALLS,
  SYS_SAFECOPYFROM,
  SYS_SAFECOPYTO,
  SYS_SAFEMAP,
  SYS_SAFEREVMAP,
  SYS_SAFEUNMAP,
  SYS_SETGRANT,
  SYS_VSAFECOPY,
  kernelCallNames,
} from '../include/com.ts';
import { SYSTEM } from '../include/endpoint.ts';
import type { Message, Payload } from '../include/ipc.ts';
import { copyMessage } from '../include/ipc.ts';
import { assert } from '../lib/assert.ts';
import type { Kernel } from './kernel.ts';
import type { KProc } from './proc.ts';
import { doExec, doExit, doFork, doRunctl } from './system/do_fork.ts';
import { doGetinfo, doSetalarm, doTimes } from './system/do_getinfo.ts';
import { doPrivctl } from './system/do_privctl.ts';
import { doEndksig, doGetksig, doKill } from './system/do_kill.ts';
import { doVircopy } from './system/do_vircopy.ts';
import { doSafecopyFrom, doSafecopyTo, doVsafecopy } from './system/do_safecopy.ts';
import { doSafemap, doSaferevmap, doSafeunmap } from './system/do_safemap.ts';
import { doSetgrant } from './system/do_setgrant.ts';
import { doVmctl } from './system/do_vmctl.ts';

/** A handler's answer: a result code, or a result code with reply fields. */
export type KcallReply = number | { result: number; [field: string]: unknown };
export type KcallHandler = (k: Kernel, caller: KProc, m: Payload) => KcallReply | Promise<KcallReply>;

const handlers: (KcallHandler | undefined)[] = new Array<KcallHandler | undefined>(NR_SYS_CALLS);

/** Installs the handler of kernel call `callNr` (KERNEL_CALL + n). Each call's file registers itself once. */
export function registerKernelCall(callNr: number, h: KcallHandler): void {
  const n = callNr - KERNEL_CALL;
  assert(
    n >= 0 && n < NR_SYS_CALLS && handlers[n] === undefined,
    () => `registerKernelCall: bad or duplicate ${callNr}`,
  );
  handlers[n] = h;
}

registerKernelCall(KERNEL_CALL + 0, doFork);
registerKernelCall(KERNEL_CALL + 1, doExec);
registerKernelCall(KERNEL_CALL + 2, doExit);
registerKernelCall(KERNEL_CALL + 4, doPrivctl);
registerKernelCall(KERNEL_CALL + 6, doKill);
registerKernelCall(KERNEL_CALL + 7, doGetksig);
registerKernelCall(KERNEL_CALL + 8, doEndksig);
registerKernelCall(KERNEL_CALL + 15, doVircopy);
registerKernelCall(KERNEL_CALL + 24, doSetalarm);
registerKernelCall(KERNEL_CALL + 25, doTimes);
registerKernelCall(KERNEL_CALL + 26, doGetinfo);
registerKernelCall(SYS_SAFECOPYFROM, doSafecopyFrom);
registerKernelCall(SYS_SAFECOPYTO, doSafecopyTo);
registerKernelCall(SYS_VSAFECOPY, doVsafecopy);
registerKernelCall(SYS_SETGRANT, doSetgrant);
registerKernelCall(KERNEL_CALL + 43, doVmctl);
registerKernelCall(KERNEL_CALL + 46, doRunctl);
registerKernelCall(SYS_SAFEMAP, doSafemap);
registerKernelCall(SYS_SAFEREVMAP, doSaferevmap);
registerKernelCall(SYS_SAFEUNMAP, doSafeunmap);

/**
 * A kernel call from `caller`: the reply message carries the result in `type`. A handler that answers at once
 * costs no promise of its own; one that suspends the caller (VM requests) is awaited.
 */
export function kernelCall(k: Kernel, caller: KProc, m: Payload): Promise<Message> {
  const y = k.enter(caller);
  if (y !== null) return y.then(() => dispatch(k, caller, m, replyMessage));
  const r = dispatch(k, caller, m, replyMessage);
  return r instanceof Promise ? r : Promise.resolve(r);
}

/** One settled promise for every call that answers OK at once: a settled promise may be awaited any number of times. */
const CALL_OK: Promise<number> = Promise.resolve(OK);

/**
 * kernelCall for a caller that wants only the result (the sys_safecopy* wrappers): the same call, trace and
 * charges, but no reply message and one promise step less, on the path of every safecopy.
 */
export function kernelCallResult(k: Kernel, caller: KProc, m: Payload): Promise<number> {
  const y = k.enter(caller);
  if (y !== null) return y.then(() => dispatch(k, caller, m, finishCall));
  const r = dispatch(k, caller, m, finishCall);
  if (typeof r !== 'number') return r;
  return r === OK ? CALL_OK : Promise.resolve(r);
}

/**
 * Dispatches the call and answers it through `answer` (the reply message, or the result alone): the answer itself
 * when the handler answered at once, else a promise of it (the entry points wrap the first into a promise).
 */
function dispatch<T>(
  k: Kernel,
  caller: KProc,
  m: Payload,
  answer: (k: Kernel, caller: KProc, m: Payload, r: KcallReply) => T,
): T | Promise<T> {
  const n = m.type - KERNEL_CALL;
  let reply: KcallReply | Promise<KcallReply>;
  try {
    if (!Number.isInteger(n) || n < 0 || n >= NR_SYS_CALLS) reply = EBADREQUEST;
    else if (caller.priv.kcallMask[n] !== 1) reply = ECALLDENIED;
    else {
      const h = handlers[n];
      reply = h === undefined ? EBADREQUEST : h(k, caller, m);
    }
  } catch (err) {
    // As from an async function: a handler's panic rejects the call, it never throws at the caller.
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
  if (reply instanceof Promise) return reply.then((r) => answer(k, caller, m, r));
  if (k.current !== caller) {
    // The call ended its own caller (SYS_KILL of itself with no PM to take the signal): it is counted and traced
    // but never answered, and the CPU goes to the next process, as after any other end of a process.
    answer(k, caller, m, reply);
    k.switchAway();
    return new Promise<T>(() => undefined);
  }
  return answer(k, caller, m, reply);
}

function replyMessage(k: Kernel, caller: KProc, m: Payload, reply: KcallReply): Message {
  const result = finishCall(k, caller, m, reply);
  if (typeof reply === 'number') return { type: result, source: SYSTEM };
  const out = copyMessage(reply as unknown as Payload, SYSTEM);
  out.type = result;
  return out;
}

/** The end of every kernel call: counted, charged and traced; its result (m_type of the reply). */
function finishCall(k: Kernel, caller: KProc, m: Payload, reply: KcallReply): number {
  const result = typeof reply === 'number' ? reply : reply.result;
  k.counts.kernelCalls++;
  k.clock.charge(K.kernelCall);
  if (k.tracing) {
    const call = kernelCallNames[m.type] ?? `KCALL_${m.type - KERNEL_CALL}`;
    k.emit({ step: k.step, kind: 'kcall', caller: caller.endpoint, call, result, t0: caller.entryCycle });
  }
  return result;
}
