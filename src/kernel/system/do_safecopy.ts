// Models sys_safecopyfrom, sys_safecopyto and sys_vsafecopy (kernel/system/do_safecopy.c): copies between the
// caller and memory another process granted it, with CHECK requests to VM for absent pages and the
// copy-on-write path of the 2009 GSOC work (spec/grants.md §5). Entry points: doSafecopyFrom, doSafecopyTo, doVsafecopy.
// DIVERGES: a CHECK asks for write access only on the destination; the one COWMAP is posted after the head
// and tail pages are known good and before any byte is copied; a COWMAP answered EDEADSRCDST restarts the call
// like a CHECK does (§5.3), so the result (EINVAL / EDEADSRCDST from the re-run) does not depend on the COW switch;
// source and destination sharing physical bytes copy as memmove over physical memory (§9 item 9), by the plain path.
import { EDEADSRCDST, EDOM, EFAULT, EINVAL, EPERM, OK } from '../../include/errno.ts';
import { SELF } from '../../include/endpoint.ts';
import type { Endpoint } from '../../include/endpoint.ts';
import { VMPTYPE_CHECK, VMPTYPE_COWMAP } from '../../include/com.ts';
import type { Payload } from '../../include/ipc.ts';
import { numField } from '../../include/ipc.ts';
import { CPF_READ, CPF_WRITE, SCPVEC_ELEMENT_BYTES, SCPVEC_NR, decodeScpVector } from '../../include/safecopies.ts';
import type { ScpVecElement } from '../../include/safecopies.ts';
import { assert, panic } from '../../lib/assert.ts';
import { PAGE_SIZE, pageOffset } from '../../lib/units.ts';
import { checkGrant, grantFound, usableGrantTable } from '../grant.ts';
import type { Kernel } from '../kernel.ts';
import {
  copyDestRuns,
  copySourceRuns,
  hasPageTable,
  kcheckRange,
  kcheckRuns,
  kcopy,
  kcopyInPage,
  kcopyRuns,
  kread,
  kshareFrames,
  rangeWraps,
} from '../memory.ts';
import type { KProc } from '../proc.ts';
import { postVmRequest } from '../vmrequest.ts';

/** One copy: `bytes` between the caller's `addr` and `offset` into grant `gid` of `granter`. */
interface CopyArgs {
  dir: 'from' | 'to';
  granter: number;
  gid: number;
  offset: number;
  addr: number;
  bytes: number;
}

/** One side of a copy: a process as it was when the copy was (re)started, and its start address. */
interface Side {
  proc: KProc;
  endpoint: Endpoint;
  addr: number;
}

/** A range the copy cannot touch yet: VM is asked to make it present (and writable if `write`). */
interface CheckNeed {
  side: Side;
  start: number;
  length: number;
  write: boolean;
}

/** Restarts one copy may take before we conclude VM answers CHECK OK without making the range accessible. */
const MAX_RESTARTS = 64;

export const doSafecopyFrom = (k: Kernel, caller: KProc, m: Payload): number | Promise<number> => safecopyCall(k, caller, m, 'from');
export const doSafecopyTo = (k: Kernel, caller: KProc, m: Payload): number | Promise<number> => safecopyCall(k, caller, m, 'to');

/** A message field as a number (NaN when absent or not a number): a constant-name load at each use, not m[field]. */
const num = (v: unknown): number => (typeof v === 'number' ? v : Number.NaN);

/**
 * The arguments of the sys_safecopyfrom/to being checked now: filled at each call and used synchronously; a copy
 * that must wait for VM continues with its own copy of them (`kept`), since the next call refills this one.
 */
const callArgs: CopyArgs = { dir: 'from', granter: 0, gid: 0, offset: 0, addr: 0, bytes: 0 };

/** `c` as kept across a wait: callArgs is copied, any other record is already the copy's own. */
const kept = (c: CopyArgs): CopyArgs => (c === callArgs ? { ...c } : c);

/** One sys_safecopyfrom/to. A copy that needs no VM help completes without a promise or a record of its own. */
function safecopyCall(k: Kernel, caller: KProc, m: Payload, dir: 'from' | 'to'): number | Promise<number> {
  const c = callArgs;
  c.dir = dir;
  c.granter = num(m['granter']);
  c.gid = num(m['gid']);
  c.offset = num(m['offset']);
  c.addr = num(m['address']);
  c.bytes = num(m['bytes']);
  const r = safecopy(k, caller, c, 0);
  if (typeof r === 'number') return traceCopy(k, caller, c, r);
  const own = kept(c);
  return r.then((result) => traceCopy(k, caller, own, result));
}

function traceCopy(k: Kernel, caller: KProc, c: CopyArgs, result: number): number {
  countCopy(k, c, result);
  if (k.tracing) {
    const op = c.dir === 'from' ? 'safecopyfrom' : 'safecopyto';
    k.emit({ step: k.step, kind: 'grant', op, caller: caller.endpoint, granter: c.granter, gid: c.gid, result });
  }
  return result;
}

function countCopy(k: Kernel, c: CopyArgs, result: number): void {
  if (result !== OK) return;
  k.counts.safecopies++;
  k.counts.safecopyBytes += c.bytes;
}

/** sys_vsafecopy: up to SCPVEC_NR copies in order; stops at the first error, earlier copies stay done. */
export async function doVsafecopy(k: Kernel, caller: KProc, m: Payload): Promise<number> {
  const vecAddr = numField(m, 'vecAddr');
  const n = numField(m, 'count');
  if (n < 0) return EFAULT;
  if (n === 0) return EDOM;
  if (!Number.isInteger(n) || n > SCPVEC_NR) return EINVAL;
  const length = n * SCPVEC_ELEMENT_BYTES;
  if (rangeWraps(vecAddr, length) || kcheckRange(k, caller, vecAddr, length, false) >= 0) return EFAULT;
  for (const el of decodeScpVector(kread(k, caller, vecAddr, length), n)) {
    const c = vectorCopy(el);
    const result = c === null ? EINVAL : await safecopy(k, caller, c, 0);
    if (c !== null) countCopy(k, c, result);
    if (k.tracing) {
      const granter = c?.granter ?? el.from;
      k.emit({ step: k.step, kind: 'grant', op: 'vsafecopy', caller: caller.endpoint, granter, gid: el.gid, result });
    }
    if (result !== OK) return result;
  }
  return OK;
}

/** A vector element as a copy: from SELF is a copy TO granter v_to, to SELF a copy FROM granter v_from. */
function vectorCopy(el: ScpVecElement): CopyArgs | null {
  const base = { gid: el.gid, offset: el.offset, addr: el.addr, bytes: el.bytes };
  if (el.from === SELF) return { dir: 'to', granter: el.to, ...base };
  if (el.to === SELF) return { dir: 'from', granter: el.from, ...base };
  return null;
}

/**
 * One copy, restarted from the first check (grant verification included) after every CHECK VM answered.
 * `attempt` counts the restarts so far. Synchronous (a number) unless VM must be asked; the synchronous path
 * makes no object (the sides are plain arguments until a side must be kept across a wait).
 */
function safecopy(k: Kernel, caller: KProc, c: CopyArgs, attempt: number): number | Promise<number> {
  if (attempt > MAX_RESTARTS) panic(`safecopy: ${caller.name} restarted ${attempt} times: VM's CHECK OK left the range inaccessible`);
  const owner = resolveCopy(k, caller, c);
  if (typeof owner === 'number') return owner;
  const from = c.dir === 'from';
  const theirs = grantFound.addr;
  const sp = from ? owner : caller;
  const sa = from ? theirs : c.addr;
  const dp = from ? caller : owner;
  const da = from ? c.addr : theirs;
  if (!cowEligible(k, sp, sa, dp, da, c.bytes) || kshareFrames(k, sp, sa, dp, da, c.bytes)) {
    const need = plainCopy(k, sp, sa, dp, da, c.bytes);
    if (need === null) return OK;
    const own = kept(c);
    return checkRange(k, caller, need).then((r) => (r === null ? safecopy(k, caller, own, attempt + 1) : r));
  }
  const own = kept(c);
  const src = side(sp, sa);
  const dst = side(dp, da);
  const pieces = headAndTail(src.addr, dst.addr, own.bytes);
  const need = firstNeed(k, src, dst, pieces);
  if (need !== null) return checkRange(k, caller, need).then((r) => (r === null ? safecopy(k, caller, own, attempt + 1) : r));
  return cowCopy(k, caller, src, dst, own.bytes, pieces).then((r) => (r === null ? safecopy(k, caller, own, attempt + 1) : r));
}

/** A side of the copy as kept across a wait: the process, its endpoint now, and the address. */
const side = (proc: KProc, addr: number): Side => ({ proc, endpoint: proc.endpoint, addr });

/**
 * The plain copy (§5.3): the whole source (sp's sa), then the whole destination (dp's da), checked before any
 * byte moves; null when copied, else the range VM must make accessible. One walk per page and side: the checks
 * record the physical runs the copy then moves (a copy inside one page on each side is done with one walk per side).
 */
function plainCopy(k: Kernel, sp: KProc, sa: number, dp: KProc, da: number, n: number): CheckNeed | null {
  if (kcopyInPage(k, sp, sa, dp, da, n)) return null;
  if (kcheckRuns(k, sp, sa, n, false, copySourceRuns) >= 0) return { side: side(sp, sa), start: sa, length: n, write: false };
  if (kcheckRuns(k, dp, da, n, true, copyDestRuns) >= 0) return { side: side(dp, da), start: da, length: n, write: true };
  kcopyRuns(k, copySourceRuns, copyDestRuns);
  return null;
}

/**
 * §5.2 steps 1-3: the process whose memory the grant names (its address is `grantFound.addr`), or the error.
 * The granter is checked before verification so that a dead granter or one without a table fails first.
 */
function resolveCopy(k: Kernel, caller: KProc, c: CopyArgs): KProc | number {
  const granter = k.liveProc(c.granter);
  if (granter === null) return EINVAL;
  if (usableGrantTable(granter) === null) return EPERM;
  const access = c.dir === 'from' ? CPF_READ : CPF_WRITE;
  const err = checkGrant(k, granter, caller.endpoint, c.gid, c.bytes, access, c.offset);
  if (err !== OK) return err;
  if (c.bytes === 0) return EDOM;
  if (rangeWraps(c.addr, c.bytes)) return EFAULT;
  const f = grantFound;
  // A direct grant's memory is its granter's, whose process the check has just found live.
  return (f.owner === f.finalOwner ? f.granter : k.liveProc(f.owner)) ?? EDEADSRCDST;
}

/** §5.5: COW on, two processes with page tables, congruent offsets, at least one whole page in the range. */
function cowEligible(k: Kernel, sp: KProc, sa: number, dp: KProc, da: number, n: number): boolean {
  if (!k.config.cowSafecopy || sp === dp) return false;
  if (pageOffset(sa) !== pageOffset(da)) return false;
  const head = (PAGE_SIZE - pageOffset(sa)) % PAGE_SIZE;
  return n - head >= PAGE_SIZE && hasPageTable(k, sp) && hasPageTable(k, dp);
}

/** A byte run copied plainly: n bytes from source address s to destination address d. */
interface Piece {
  s: number;
  d: number;
  n: number;
}

/** The head and tail runs of a COW copy (either may be empty); the whole pages between go by COWMAP. */
function headAndTail(s: number, d: number, n: number): Piece[] {
  const h = (PAGE_SIZE - pageOffset(s)) % PAGE_SIZE;
  const mid = Math.floor((n - h) / PAGE_SIZE) * PAGE_SIZE;
  const t = n - h - mid;
  return [
    { s, d, n: h },
    { s: s + h + mid, d: d + h + mid, n: t },
  ];
}

/** The first run the kernel cannot copy yet, all source runs before the destination's, or null (an empty run checks OK). */
function firstNeed(k: Kernel, src: Side, dst: Side, pieces: readonly Piece[]): CheckNeed | null {
  for (const p of pieces) {
    if (kcheckRange(k, src.proc, p.s, p.n, false) >= 0) return { side: src, start: p.s, length: p.n, write: false };
  }
  for (const p of pieces) {
    if (kcheckRange(k, dst.proc, p.d, p.n, true) >= 0) return { side: dst, start: p.d, length: p.n, write: true };
  }
  return null;
}

/**
 * Posts CHECK for `need` and waits. Returns the call's result, or null when the copy must restart (VM said OK,
 * or EDEADSRCDST: the target died meanwhile). A process without a page table cannot be helped: EFAULT.
 */
async function checkRange(k: Kernel, caller: KProc, need: CheckNeed): Promise<number | null> {
  if (!hasPageTable(k, need.side.proc)) return EFAULT;
  const r = await postVmRequest(k, {
    reqType: VMPTYPE_CHECK,
    requestor: caller,
    target: need.side.proc,
    targetEndpoint: need.side.endpoint,
    start: need.start,
    length: need.length,
    write: need.write,
    source: null,
    sourceEndpoint: null,
    sourceAddr: 0,
  });
  return r === OK || r === EDEADSRCDST ? null : r;
}

const sideLive = (s: Side): boolean => s.proc.inUse && s.proc.endpoint === s.endpoint;

/**
 * §5.5 steps 2-4, the head and tail pages already checked: one COWMAP for the whole pages, then the head and
 * tail bytes. Returns the result, or null to restart (a side died, or a head/tail page went away meanwhile).
 */
async function cowCopy(k: Kernel, caller: KProc, src: Side, dst: Side, n: number, pieces: readonly Piece[]): Promise<number | null> {
  const [head, tail] = pieces;
  // Stryker disable next-line StringLiteral: the message of an assert that never fires (headAndTail makes two runs)
  assert(head !== undefined && tail !== undefined, 'cowCopy: head and tail runs');
  const r = await postVmRequest(k, {
    reqType: VMPTYPE_COWMAP,
    requestor: caller,
    target: dst.proc,
    targetEndpoint: dst.endpoint,
    start: dst.addr + head.n,
    length: n - head.n - tail.n,
    write: false,
    source: src.proc,
    sourceEndpoint: src.endpoint,
    sourceAddr: src.addr + head.n,
  });
  if (r === EDEADSRCDST || (r === OK && (!sideLive(src) || !sideLive(dst)))) return null;
  if (r !== OK) return r;
  const need = firstNeed(k, src, dst, pieces);
  if (need !== null) return checkRange(k, caller, need);
  for (const p of pieces) kcopy(k, src.proc, p.s, dst.proc, p.d, p.n);
  return OK;
}
