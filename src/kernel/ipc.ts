// Models MINIX IPC (kernel/proc.c: mini_send, mini_receive, mini_notify, mini_senda, deadlock): rendezvous
// send/receive, sendrec, coalescing notify and non-blocking senda, with privilege checks at the boundary.
// Entry points: ipcSend, ipcReceive, ipcSendrec, ipcNotify, ipcSenda, kernelNotify, dropIpcState.
// DIVERGES: senda queues whole messages in the receiver instead of a table in the sender's memory.
import { K } from '../hw/profile.ts';
import { EDEADSRCDST, ECALLDENIED, EINVAL, ELOCKED, ENOMEM, ENOTREADY, OK } from '../include/errno.ts';
import { ANY, NONE, SELF, endpointSlot } from '../include/endpoint.ts';
import type { Endpoint } from '../include/endpoint.ts';
import { NOTIFY_MESSAGE } from '../include/com.ts';
import type { Message, Payload } from '../include/ipc.ts';
import { copyMessage } from '../include/ipc.ts';
import { assert } from '../lib/assert.ts';
import type { Kernel } from './kernel.ts';
import { RTS } from './proc.ts';
import type { KProc } from './proc.ts';

/** May `from` send to or notify `to`? (may_send_to) */
export function maySendTo(from: KProc, to: KProc): boolean {
  if (from.slot < 0 || to.slot < 0) return true;
  const spec = from.priv.spec.ipcTo;
  if (spec === 'all') return true;
  if (spec === 'system') return to.priv.system;
  return spec.includes(to.slot) || (to.priv.system && spec.includes(-1));
}

/** Resolves a destination endpoint: SELF → caller; ANY/NONE → EINVAL; not live → EDEADSRCDST. */
function target(k: Kernel, caller: KProc, e: number): KProc | number {
  // A live endpoint first (the usual case): SELF, ANY and NONE are never live.
  const p = k.liveProc(e);
  if (p !== null) return p;
  if (e === SELF) return caller;
  return e === ANY || e === NONE ? EINVAL : EDEADSRCDST;
}

/** Is `p` waiting in receive for a message (or notification) from `src`? (WILLRECEIVE) */
function willReceive(p: KProc, src: Endpoint, isNotify: boolean): boolean {
  if ((p.rts & RTS.RECEIVING) === 0 || (p.rts & RTS.SENDING) !== 0) return false;
  if (isNotify && p.replyFrom !== null) return false;
  return p.recvFrom === ANY || p.recvFrom === src;
}

function deliver(k: Kernel, to: KProc, m: Message): void {
  to.recvFrom = null;
  to.replyFrom = null;
  k.wake(to, RTS.RECEIVING, m);
}

function trace(
  k: Kernel,
  op: 'send' | 'receive' | 'notify' | 'senda',
  from: number,
  to: number,
  mtype: number,
  result: number,
): void {
  k.counts.ipc++;
  k.clock.charge(K.ipcMessage);
  if (k.config.trace !== null) {
    const t0 = k.current !== null ? k.current.entryCycle : k.clock.cycles;
    k.emit({ step: k.step, kind: 'ipc', op, from, to, mtype, result, t0 });
  }
}

/** Would `caller` blocking on a send to `dst` close a cycle of blocked processes? (deadlock) */
function wouldDeadlock(k: Kernel, caller: KProc, dst: KProc): boolean {
  let xp: KProc | null = dst;
  for (let hops = 0; xp !== null && hops <= k.procs.length; hops++) {
    let next: Endpoint | null;
    if ((xp.rts & RTS.SENDING) !== 0) next = xp.sendTo;
    else if ((xp.rts & RTS.RECEIVING) !== 0) next = xp.recvFrom;
    else return false;
    // Stryker disable next-line LogicalOperator,BooleanLiteral: a process that sends or receives names an endpoint, and ANY names no live process: either test alone ends the walk. It never returns: a process in the chain receiving from ANY would have taken the message of the one before
    if (next === null || next === ANY) return false;
    // MINIX spares a pair whose other side receives from the caller (a sendrec); here that receiver has already
    // taken the message (willReceive comes first), so every chain back to the caller is a cycle.
    if (next === caller.endpoint) return true;
    xp = k.liveProc(next);
  }
  return false;
}

/** send: deliver if the receiver waits for us, else block until it receives (or dies). */
export function ipcSend(k: Kernel, caller: KProc, dstE: number, payload: Payload): Promise<number> {
  const y = k.enter(caller);
  if (y !== null) return y.then(() => sendNow(k, caller, dstE, payload));
  return sendNow(k, caller, dstE, payload);
}

/** One settled promise for every send that completes at once: a settled promise may be awaited any number of times. */
const SENT_OK: Promise<number> = Promise.resolve(OK);

function sendNow(k: Kernel, caller: KProc, dstE: number, payload: Payload): Promise<number> {
  const r = sendCommon(k, caller, dstE, payload, false);
  if (r === null) return k.block<number>(caller);
  return r === OK ? SENT_OK : Promise.resolve(r);
}

/**
 * sendnb: deliver only if the receiver waits for us right now, else ENOTREADY; never blocks and never
 * switches, so it returns a number, not a promise. Servers reply with it (a client that stopped waiting cannot
 * hold a server up).
 */
export function ipcSendnb(k: Kernel, caller: KProc, dstE: number, payload: Payload): number {
  k.enterNoSwitch(caller);
  const dst = target(k, caller, dstE);
  if (typeof dst === 'number') return traced(k, 'send', caller, dstE, payload.type, dst);
  if (dst === caller) return traced(k, 'send', caller, dstE, payload.type, EINVAL);
  if (!maySendTo(caller, dst)) return traced(k, 'send', caller, dstE, payload.type, ECALLDENIED);
  if (!willReceive(dst, caller.endpoint, false))
    return traced(k, 'send', caller, dstE, payload.type, ENOTREADY);
  deliver(k, dst, copyMessage(payload, caller.endpoint));
  trace(k, 'send', caller.endpoint, dst.endpoint, payload.type, OK);
  return OK;
}

/** The send half shared by send and sendrec. Returns a result, or null when the caller must block. */
function sendCommon(
  k: Kernel,
  caller: KProc,
  dstE: number,
  payload: Payload,
  isSendrec: boolean,
): number | null {
  const dst = target(k, caller, dstE);
  if (typeof dst === 'number') return traced(k, 'send', caller, dstE, payload.type, dst);
  if (dst === caller) return traced(k, 'send', caller, dstE, payload.type, EINVAL);
  if (!maySendTo(caller, dst)) return traced(k, 'send', caller, dstE, payload.type, ECALLDENIED);
  const m = copyMessage(payload, caller.endpoint);
  if (willReceive(dst, caller.endpoint, false)) {
    deliver(k, dst, m);
    trace(k, 'send', caller.endpoint, dst.endpoint, payload.type, OK);
    return OK;
  }
  if (wouldDeadlock(k, caller, dst)) return traced(k, 'send', caller, dstE, payload.type, ELOCKED);
  caller.sendTo = dst.endpoint;
  caller.sendMsg = m;
  if (isSendrec) {
    caller.recvFrom = dst.endpoint;
    caller.replyFrom = dst.endpoint;
    caller.rts |= RTS.RECEIVING;
  }
  k.setRts(caller, RTS.SENDING);
  dst.callers.push(caller);
  trace(k, 'send', caller.endpoint, dst.endpoint, payload.type, OK);
  return null;
}

function traced(
  k: Kernel,
  op: 'send' | 'senda' | 'notify',
  caller: KProc,
  to: number,
  mtype: number,
  r: number,
): number {
  trace(k, op, caller.endpoint, to, mtype, r);
  return r;
}

/** receive: a pending notification first, then a queued sender, then a senda message; else block. */
export function ipcReceive(k: Kernel, caller: KProc, srcE: number): Promise<Message> {
  const y = k.enter(caller);
  if (y !== null) return y.then(() => receiveNow(k, caller, srcE));
  return receiveNow(k, caller, srcE);
}

function receiveNow(k: Kernel, caller: KProc, srcE: number): Promise<Message> {
  if (srcE !== ANY && srcE !== SELF && k.liveProc(srcE) === null && srcE >= 0) {
    return Promise.resolve({ type: EDEADSRCDST, source: srcE as Endpoint, ipcError: true });
  }
  const src = srcE === SELF ? caller.endpoint : (srcE as Endpoint);
  if (caller.notifyFrom.length !== 0 || caller.callers.length !== 0 || caller.asyncQueue.length !== 0) {
    const m = takePending(k, caller, src, false);
    if (m !== null) return Promise.resolve(m);
  }
  caller.recvFrom = src;
  return k.blockOn<Message>(caller, RTS.RECEIVING);
}

/** A message `caller` can receive from `src` right now, removed from where it waited; else null. */
function takePending(k: Kernel, caller: KProc, src: Endpoint, replyOnly: boolean): Message | null {
  if (!replyOnly && caller.notifyFrom.length > 0) {
    const from = lowestNotifier(caller.notifyFrom, src);
    if (from !== null) {
      caller.notifyFrom.splice(caller.notifyFrom.indexOf(from), 1);
      trace(k, 'receive', from, caller.endpoint, NOTIFY_MESSAGE, OK);
      return { type: NOTIFY_MESSAGE, source: from };
    }
  }
  const callers = caller.callers;
  for (let i = 0; i < callers.length; i++) {
    const sender = callers[i];
    if (sender === undefined || (src !== ANY && sender.endpoint !== src)) continue;
    // Stryker disable next-line StringLiteral: never fires: a sender waits in a queue with its message, and leaves the queue whenever it loses it
    assert(sender.sendMsg !== null, 'receive: queued sender without a message');
    callers.splice(i, 1);
    const m = sender.sendMsg;
    sender.sendMsg = null;
    sender.sendTo = null;
    sender.wakeValue = OK;
    k.clearRts(sender, RTS.SENDING);
    trace(k, 'receive', m.source, caller.endpoint, m.type, OK);
    return m;
  }
  const queue = caller.asyncQueue;
  for (let i = 0; i < queue.length; i++) {
    const m = queue[i];
    if (m === undefined || (src !== ANY && m.source !== src)) continue;
    queue.splice(i, 1);
    trace(k, 'receive', m.source, caller.endpoint, m.type, OK);
    return m;
  }
  return null;
}

/** Pending notifications are taken lowest slot first, as MINIX scans its notify bitmap by priv id. */
function lowestNotifier(list: readonly Endpoint[], src: Endpoint): Endpoint | null {
  let best: Endpoint | null = null;
  for (const e of list) {
    if (src !== ANY && e !== src) continue;
    if (best === null || endpointSlot(e) < endpointSlot(best)) best = e;
  }
  return best;
}

/** sendrec: send, then receive only the reply from the same endpoint; notifications wait meanwhile. */
export function ipcSendrec(k: Kernel, caller: KProc, dstE: number, payload: Payload): Promise<Message> {
  const y = k.enter(caller);
  if (y !== null) return y.then(() => sendrecNow(k, caller, dstE, payload));
  return sendrecNow(k, caller, dstE, payload);
}

function sendrecNow(k: Kernel, caller: KProc, dstE: number, payload: Payload): Promise<Message> {
  const dst = target(k, caller, dstE);
  if (typeof dst !== 'number' && dst !== caller && caller.asyncQueue.length === 0)
    // Stryker disable next-line BooleanLiteral: the notification rule only sends a reply to a sendrec down the general path, which delivers it the same
    if (willReceive(dst, caller.endpoint, false) && maySendTo(caller, dst))
      return rendezvous(k, caller, dst, payload);
  return sendrecSlow(k, caller, dstE, payload);
}

/**
 * The usual sendrec, in one small function so V8 inlines it whole: `dst` waits in receive for the caller and no
 * senda message waits to be received by the caller (it could be the reply). The same steps as sendCommon (deliver
 * written out) and the receive half on that path; `dst` gets the CPU straight away when the scheduler would pick it
 * anyway (Kernel.blockFor).
 */
function rendezvous(k: Kernel, caller: KProc, dst: KProc, payload: Payload): Promise<Message> {
  dst.recvFrom = null;
  dst.replyFrom = null;
  dst.wakeValue = copyMessage(payload, caller.endpoint);
  dst.rts &= ~RTS.RECEIVING;
  trace(k, 'send', caller.endpoint, dst.endpoint, payload.type, OK);
  caller.recvFrom = dst.endpoint;
  caller.replyFrom = dst.endpoint;
  return k.blockFor<Message>(caller, RTS.RECEIVING, dst);
}

/** sendrec by the general path: the send half of sendCommon, then the receive half (or the wait for the send). */
function sendrecSlow(k: Kernel, caller: KProc, dstE: number, payload: Payload): Promise<Message> {
  const r = sendCommon(k, caller, dstE, payload, true);
  if (r === null) return k.block<number | Message>(caller).then((res) => afterBlockedSend(dstE, res));
  if (r !== OK) return Promise.resolve({ type: r, source: dstE as Endpoint, ipcError: true });
  // OK: the message went to the live process `dstE` names (SELF is refused), which waited in receive.
  const dst = dstE as Endpoint;
  // Only a senda message can be the reply already: notifications wait, and `dst`, which waited in receive, is in no
  // queue of senders (a sender waits with SENDING set, which willReceive refuses). Skip the scan when none is.
  if (caller.asyncQueue.length !== 0) {
    const m = takePending(k, caller, dst, true);
    if (m !== null) return Promise.resolve(m);
  }
  caller.recvFrom = dst;
  caller.replyFrom = dst;
  return k.blockOn<Message>(caller, RTS.RECEIVING);
}

/**
 * The sendrec's send had to wait: the reply came, or the send failed (its destination died). Once its send is
 * taken the caller stays blocked in its receive half, which only the reply or a death ends, both with a message:
 * a number is always a failure.
 */
function afterBlockedSend(dstE: number, res: number | Message): Message {
  return typeof res === 'number' ? { type: res, source: dstE as Endpoint, ipcError: true } : res;
}

/** notify: never blocks; delivered at once if the receiver waits for it, else one pending bit per sender. */
export async function ipcNotify(k: Kernel, caller: KProc, dstE: number): Promise<number> {
  const y = k.enter(caller);
  if (y !== null) await y;
  const dst = target(k, caller, dstE);
  if (typeof dst === 'number') return traced(k, 'notify', caller, dstE, NOTIFY_MESSAGE, dst);
  if (!maySendTo(caller, dst)) return traced(k, 'notify', caller, dstE, NOTIFY_MESSAGE, ECALLDENIED);
  kernelNotify(k, caller.endpoint, dst);
  return OK;
}

/** A notification from `from` (a process, or a kernel task: HARDWARE, SYSTEM, CLOCK) to `dst`. */
export function kernelNotify(k: Kernel, from: Endpoint, dst: KProc): void {
  trace(k, 'notify', from, dst.endpoint, NOTIFY_MESSAGE, OK);
  if (willReceive(dst, from, true)) {
    deliver(k, dst, { type: NOTIFY_MESSAGE, source: from });
    return;
  }
  if (!dst.notifyFrom.includes(from)) dst.notifyFrom.push(from);
}

/** senda: deliver now if the receiver waits for us, else queue it; never blocks. */
export async function ipcSenda(k: Kernel, caller: KProc, dstE: number, payload: Payload): Promise<number> {
  const y = k.enter(caller);
  if (y !== null) await y;
  const dst = target(k, caller, dstE);
  if (typeof dst === 'number') return traced(k, 'senda', caller, dstE, payload.type, dst);
  if (!maySendTo(caller, dst)) return traced(k, 'senda', caller, dstE, payload.type, ECALLDENIED);
  const m = copyMessage(payload, caller.endpoint);
  if (willReceive(dst, caller.endpoint, false)) {
    deliver(k, dst, m);
    return traced(k, 'senda', caller, dst.endpoint, payload.type, OK);
  }
  if (dst.asyncQueue.length >= k.config.maxAsyncMessages)
    return traced(k, 'senda', caller, dstE, payload.type, ENOMEM);
  dst.asyncQueue.push(m);
  return traced(k, 'senda', caller, dst.endpoint, payload.type, OK);
}

/** `p`, blocked in a send, leaves its destination's queue of senders (teardown, exec). */
export function leaveSendQueue(k: Kernel, p: KProc): void {
  if (p.sendTo === null) return;
  const dst = k.liveProc(p.sendTo);
  if (dst !== null) dst.callers = dst.callers.filter((c) => c !== p);
}

/**
 * Process teardown: everyone blocked on `p` gets EDEADSRCDST; `p` leaves every queue it was in. Its senda
 * messages vanish (MINIX keeps them in the sender's memory); its pending notifications stay, naming its
 * dead endpoint.
 */
export function dropIpcState(k: Kernel, p: KProc): void {
  for (const s of p.callers) {
    s.sendMsg = null;
    s.sendTo = null;
    s.recvFrom = null;
    s.replyFrom = null;
    s.rts &= ~RTS.RECEIVING;
    k.wake(s, RTS.SENDING, EDEADSRCDST);
  }
  p.callers = [];
  leaveSendQueue(k, p);
  for (const q of k.procs) {
    if (!q.inUse || q === p) continue;
    // Its senders are out of their sendrec above: a process naming it in recvFrom waits in receive for it.
    if (q.recvFrom === p.endpoint) {
      q.recvFrom = null;
      q.replyFrom = null;
      k.wake(q, RTS.RECEIVING, { type: EDEADSRCDST, source: p.endpoint, ipcError: true } satisfies Message);
    }
    if (q.asyncQueue.length > 0) q.asyncQueue = q.asyncQueue.filter((m) => m.source !== p.endpoint);
  }
  p.sendTo = null;
  p.sendMsg = null;
  p.recvFrom = null;
  p.replyFrom = null;
  p.notifyFrom = [];
  p.asyncQueue = [];
}
