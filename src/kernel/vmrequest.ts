// Models the kernel → VM memory-request protocol (kernel/system.c vmrequest list, do_vmctl.c MEMREQ_GET /
// MEMREQ_REPLY): a kernel call that needs VM suspends its caller, VM is notified, the call resumes with VM's
// result. At most one outstanding request per process. Entry points: postVmRequest, memreqGet, memreqReply,
// requestHolders.
import { ESRCH, OK } from '../include/errno.ts';
import { SYSTEM } from '../include/endpoint.ts';
import type { Endpoint } from '../include/endpoint.ts';
import { VMPTYPE_COWMAP, VMPTYPE_SMAP } from '../include/com.ts';
import { assert } from '../lib/assert.ts';
import type { Kernel } from './kernel.ts';
import { RTS } from './proc.ts';
import type { KProc } from './proc.ts';

/** One request slot: what the kernel asks VM to do on behalf of a suspended kernel call. */
export interface VmRequest {
  reqType: number;
  requestor: KProc;
  target: KProc;
  targetEndpoint: Endpoint;
  /** CHECK: start/length/write. COWMAP/SMAP/SUNMAP: destination address and length in the target. */
  start: number;
  length: number;
  write: boolean;
  /** COWMAP/SMAP: the source process and address. */
  source: KProc | null;
  sourceEndpoint: Endpoint | null;
  sourceAddr: number;
}

export interface VmRequestQueue {
  /** Requests VM has not fetched yet, newest first (the LIFO list of the reference). */
  waiting: VmRequest[];
  /** Fetched by VM and not yet answered, by requestor. */
  inProgress: Map<KProc, VmRequest>;
}

export function createVmRequestQueue(): VmRequestQueue {
  return { waiting: [], inProgress: new Map() };
}

/** The processes a request holds (VMREQTARGET), each with the endpoint it had when the request was posted. */
export function requestHolders(r: VmRequest): [KProc, Endpoint][] {
  const list: [KProc, Endpoint][] = [[r.target, r.targetEndpoint]];
  const twoSided = r.reqType === VMPTYPE_COWMAP || r.reqType === VMPTYPE_SMAP;
  if (twoSided && r.source !== null && r.sourceEndpoint !== null && r.source !== r.requestor) {
    list.push([r.source, r.sourceEndpoint]);
  }
  return list;
}

/** Suspends `requestor` until VM has handled `r`; resolves with VM's result. */
export function postVmRequest(k: Kernel, r: VmRequest): Promise<number> {
  const q = k.vmRequests;
  const p = r.requestor;
  assert(
    // Stryker disable next-line LogicalOperator,ArrowFunction: a process waiting in VMREQUEST makes no kernel call, so no request of its own is ever found
    (p.rts & RTS.VMREQUEST) === 0 && !q.inProgress.has(p) && !q.waiting.some((w) => w.requestor === p),
    // Stryker disable next-line StringLiteral: the message of an assert that never fires (a process waiting in VMREQUEST posts nothing)
    () => `postVmRequest: ${p.name} already has an outstanding VM request`,
  );
  for (const [h] of requestHolders(r)) k.addHold(h);
  const wasEmpty = q.waiting.length === 0;
  q.waiting.unshift(r);
  k.setRts(p, RTS.VMREQUEST);
  k.counts.vmRequests++;
  if (k.tracing) {
    k.emit({ step: k.step, kind: 'vmreq', op: 'post', requestor: p.endpoint, reqType: r.reqType, target: r.targetEndpoint });
  }
  if (wasEmpty) k.notifyVm(SYSTEM);
  return k.block<number>(p);
}

/** VMCTL_MEMREQ_GET: the newest waiting request, now in progress; null (ESRCH) when none. */
export function memreqGet(k: Kernel): VmRequest | null {
  const r = k.vmRequests.waiting.shift();
  if (r === undefined) return null;
  k.vmRequests.inProgress.set(r.requestor, r);
  return r;
}

/** VMCTL_MEMREQ_REPLY: drop the holds and resume the requestor's kernel call with `result`. */
export function memreqReply(k: Kernel, requestorEp: number, result: number): number {
  const p = k.liveProc(requestorEp);
  if (p === null) return ESRCH;
  const r = k.vmRequests.inProgress.get(p);
  if (r === undefined) return ESRCH;
  k.vmRequests.inProgress.delete(p);
  releaseHolds(k, r, null);
  if (k.tracing) {
    k.emit({ step: k.step, kind: 'vmreq', op: 'reply', requestor: p.endpoint, reqType: r.reqType, target: r.targetEndpoint, result });
  }
  k.wake(p, RTS.VMREQUEST, result);
  return OK;
}

/** Drops the holds of a finished request on the processes that still are the ones it named. */
function releaseHolds(k: Kernel, r: VmRequest, except: KProc | null): void {
  for (const [h, e] of requestHolders(r)) if (h !== except && h.inUse && h.endpoint === e) k.dropHold(h);
}

/** Process teardown: its own request is dropped (a late reply is discarded); holds on it vanish with it. */
export function dropVmRequests(k: Kernel, p: KProc): void {
  const q = k.vmRequests;
  const mine = q.waiting.find((w) => w.requestor === p) ?? q.inProgress.get(p);
  if (mine !== undefined) {
    q.waiting = q.waiting.filter((w) => w !== mine);
    q.inProgress.delete(p);
    releaseHolds(k, mine, p);
  }
}
