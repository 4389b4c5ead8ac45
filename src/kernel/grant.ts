// Models verify_grant (kernel/system/do_safecopy.c): the one place the kernel reads grant tables. It resolves a
// (granter, id) pair through indirect links to the direct or magic entry that names memory, checking rights and
// ranges (spec/grants.md §4). Entry points: verifyGrant, checkGrant (its allocation-free form), usableGrantTable,
// readGrantEntry.
// DIVERGES: entries carry a sequence number (generational ids, ca779acd7); the range check of a53514d4a is used.
import { K } from '../hw/profile.ts';
import { EINVAL, ELOOP, EPERM, OK } from '../include/errno.ts';
import { ANY, VFS_PROC_NR } from '../include/endpoint.ts';
import type { Endpoint } from '../include/endpoint.ts';
import {
  CPF_DIRECT,
  CPF_INDIRECT,
  CPF_MAGIC,
  CPF_USED,
  CPF_VALID,
  GRANT_ENTRY_BYTES,
  GRANT_OFF,
  GRANT_SEQ_MASK,
  MAX_INDIRECT_DEPTH,
  decodeGrantEntry,
  grantIdSeq,
  grantIdSlot,
  isGrantIdValid,
} from '../include/safecopies.ts';
import type { GrantEntry, GrantIdScheme } from '../include/safecopies.ts';
import { ADDRESS_SPACE_BYTES, PAGE_MASK, PAGE_SHIFT, PAGE_SIZE } from '../lib/units.ts';
import type { Kernel } from './kernel.ts';
import { kcheckRange, kread, kreadInto, kwalk, rangeWraps } from './memory.ts';
import { RTS } from './proc.ts';
import type { KProc } from './proc.ts';
import type { GrantTableRef } from './priv.ts';

/** What a verified grant names: `bytes` at `addr` in `owner`'s memory; the chain ended on (finalOwner, finalId). */
export interface VerifiedGrant {
  ok: true;
  /** The memory owner: the granter of a direct entry, who_from of a magic one. Not checked for liveness. */
  owner: Endpoint;
  addr: number;
  finalOwner: Endpoint;
  finalId: number;
}
export type VerifyResult = VerifiedGrant | { ok: false; err: number };

/** HASGRANTTABLE: the granter's registered table, or null when it has none it may use (→ EPERM). */
export function usableGrantTable(p: KProc): GrantTableRef | null {
  const t = p.priv.grantTable;
  if (!p.priv.system || (p.rts & RTS.NO_PRIV) !== 0 || t === null) return null;
  return t.registeredBy === p.endpoint ? t : null;
}

/**
 * An entry's words as verify_grant reads them, meaning per kind: flags @0, w4 @4, w8 @8,
 * w12 @12, w16 @16, seq @28. Raw u32 values; the interpreter casts endpoints and ids to i32.
 */
interface EntryWords {
  flags: number;
  w4: number;
  w8: number;
  w12: number;
  w16: number;
  seq: number;
}

/** Word indexes of an entry's words (module constants: no property load per read). */
const WFLAGS = GRANT_OFF.flags >>> 2;
const W4 = GRANT_OFF.directWhoTo >>> 2;
const W8 = GRANT_OFF.directStart >>> 2;
const W12 = GRANT_OFF.directLen >>> 2;
const W16 = GRANT_OFF.magicLen >>> 2;
const WSEQ = GRANT_OFF.seq >>> 2;

/** The one record verifyGrant reads entries into: verification is synchronous, so one is enough. */
const words: EntryWords = { flags: 0, w4: 0, w8: 0, w12: 0, w16: 0, seq: 0 };
/** Staging for an entry that is unaligned or crosses a page: bytes, with an aligned word view over them. */
const staging = new Uint8Array(GRANT_ENTRY_BYTES);
const stagingWords = new Uint32Array(staging.buffer);

/**
 * Reads entry `slot` of p's table from p's memory with a plain kernel walk (no VM help) into `out`: a fresh read
 * at every use, so nothing checked here can change before it is used. False when the entry is unreadable.
 * An aligned entry inside one page (every entry of a page-aligned table but those straddling a page end) is read
 * word by word after one walk; any other goes through a byte copy.
 */
function readEntryWords(k: Kernel, p: KProc, table: GrantTableRef, slot: number, out: EntryWords): boolean {
  const a = table.addr + GRANT_ENTRY_BYTES * slot;
  if (rangeWraps(a, GRANT_ENTRY_BYTES)) return false;
  if ((a & 3) !== 0 || (a & PAGE_MASK) > PAGE_SIZE - GRANT_ENTRY_BYTES) return readStagedEntryWords(k, p, a, out);
  const pa = kwalk(k, p, a, false);
  if (pa < 0) return false;
  const frame = k.mem.frameWords(pa >>> PAGE_SHIFT);
  if (frame === null) {
    // A frame never written reads as zero: an unused entry.
    out.flags = out.w4 = out.w8 = out.w12 = out.w16 = out.seq = 0;
    // Stryker disable next-line BooleanLiteral: an all-zero entry and an unreadable one both give EPERM
    return true;
  }
  takeWords(out, frame, (pa & PAGE_MASK) >>> 2);
  return true;
}

/** Fills `out` from the entry whose first word is `src[w]`. */
function takeWords(out: EntryWords, src: Uint32Array, w: number): void {
  // Stryker disable next-line ArithmeticOperator: WFLAGS is 0
  out.flags = src[w + WFLAGS] ?? 0;
  out.w4 = src[w + W4] ?? 0;
  out.w8 = src[w + W8] ?? 0;
  out.w12 = src[w + W12] ?? 0;
  out.w16 = src[w + W16] ?? 0;
  out.seq = src[w + WSEQ] ?? 0;
}

/**
 * readEntryWords for an entry that is unaligned or crosses a page: a byte copy through staging. Its own function,
 * so that the aligned path, run at every hop of every safecopy, stays small enough for V8 to inline the walk.
 */
function readStagedEntryWords(k: Kernel, p: KProc, a: number, out: EntryWords): boolean {
  if (kcheckRange(k, p, a, GRANT_ENTRY_BYTES, false) >= 0) return false;
  kreadInto(k, p, a, staging);
  takeWords(out, stagingWords, 0);
  return true;
}

/** The entry `slot` of p's table as decodeGrantEntry would give it, or null when unreadable (for inspection). */
export function readGrantEntry(k: Kernel, p: KProc, table: GrantTableRef, slot: number): GrantEntry | null {
  const a = table.addr + GRANT_ENTRY_BYTES * slot;
  if (rangeWraps(a, GRANT_ENTRY_BYTES) || kcheckRange(k, p, a, GRANT_ENTRY_BYTES, false) >= 0) return null;
  return decodeGrantEntry(kread(k, p, a, GRANT_ENTRY_BYTES));
}

/** The grantee rule: who_to names the grantee, or either side is the ANY wildcard. */
const granteeMatches = (whoTo: Endpoint, grantee: number): boolean => whoTo === grantee || grantee === ANY || whoTo === ANY;

/** [start+offset, +bytes) lies inside [start, start+len) of the 32-bit space (bytes 0 at offset len passes). */
function rangeOk(start: number, len: number, offset: number, bytes: number): boolean {
  if (start + len > ADDRESS_SPACE_BYTES) return false;
  if (!Number.isInteger(offset) || !Number.isInteger(bytes) || offset < 0 || bytes < 0) return false;
  // Stryker disable next-line ConditionalExpression,EqualityOperator,ArithmeticOperator: len is a u32 (< 2^32), so the next line refuses all this one does
  if (offset + bytes >= ADDRESS_SPACE_BYTES) return false;
  return offset + bytes <= len;
}

/** What checkGrant found when it answered OK; overwritten by the next check (a scratch record, like `words`). */
export interface GrantFound {
  /** The memory owner: the granter of a direct entry, who_from of a magic one. Not checked for liveness. */
  owner: Endpoint;
  addr: number;
  finalOwner: Endpoint;
  finalId: number;
  /** The live process of finalOwner: the memory owner's process too when owner === finalOwner (direct). */
  granter: KProc | null;
}

/** The one record checkGrant answers in: checks are synchronous and their answer is read at once. */
export const grantFound: GrantFound = { owner: 0 as Endpoint, addr: 0, finalOwner: 0 as Endpoint, finalId: 0, granter: null };

/** What a grant check is asked, after the granter: grantee, grant id, bytes, access (CPF_*), offset, id scheme. */
type GrantQuery = [granteeE: number, gid: number, bytes: number, access: number, offset: number, scheme?: GrantIdScheme];

/**
 * verify_grant: may `granteeE` (or ANY) access `bytes` at `offset` of grant `gid` in `granterE`'s table with
 * `access` (CPF_* bits)? Errors in this order: EINVAL, EPERM, ELOOP.
 */
export function verifyGrant(k: Kernel, granterE: number, ...query: GrantQuery): VerifyResult {
  const granter = k.liveProc(granterE);
  const err = granter === null ? EINVAL : checkGrant(k, granter, ...query);
  if (err !== OK) return { ok: false, err };
  const f = grantFound;
  return { ok: true, owner: f.owner, addr: f.addr, finalOwner: f.finalOwner, finalId: f.finalId };
}

/**
 * verifyGrant without a result object, for the safecopy path, given the granter's live process: OK with the
 * answer in `grantFound`, or the error. Entries are read as words (the kind by the kernel's precedence:
 * INDIRECT, DIRECT, MAGIC), never decoded into objects: this runs once per hop of every safecopy.
 */
export function checkGrant(
  k: Kernel,
  first: KProc,
  granteeE: number,
  gid: number,
  bytes: number,
  access: number,
  offset: number,
  scheme: GrantIdScheme = k.config.grantIds,
): number {
  let granter: KProc | null = first;
  let granterEp: number = first.endpoint;
  let grantee = granteeE;
  let id = gid;
  let depth = 0;
  const e = words;
  for (;;) {
    if (granter === null || !isGrantIdValid(id)) return EINVAL;
    const table = usableGrantTable(granter);
    const slot = grantIdSlot(scheme, id);
    if (table === null || slot >= table.entries) return EPERM;
    k.clock.charge(K.grantEntry);
    if (!readEntryWords(k, granter, table, slot, e) || (e.flags & (CPF_USED | CPF_VALID)) !== (CPF_USED | CPF_VALID)) {
      return EPERM;
    }
    if (scheme === 'generational' && (e.seq & GRANT_SEQ_MASK) !== grantIdSeq(scheme, id)) return EPERM;
    if ((e.flags & CPF_INDIRECT) === 0) break;
    if (depth === MAX_INDIRECT_DEPTH) return ELOOP;
    depth++;
    k.clock.charge(K.grantHop);
    // Indirect: who_to @4, who_from @8, grant @12.
    if (!granteeMatches((e.w4 | 0) as Endpoint, grantee)) return EPERM;
    grantee = granterEp;
    granterEp = e.w8 | 0;
    id = e.w12 | 0;
    granter = k.liveProc(granterEp);
  }
  grantFound.granter = granter;
  return finalEntry(e, granterEp as Endpoint, id, grantee, bytes, access, offset);
}

/** Steps 2-5 of §4 on the entry the chain ended on (not indirect), found in `granter`'s table under `id`. */
function finalEntry(
  e: EntryWords,
  granter: Endpoint,
  id: number,
  grantee: number,
  bytes: number,
  access: number,
  offset: number,
): number {
  if ((e.flags & access) !== access) return EPERM;
  if ((e.flags & CPF_DIRECT) !== 0) {
    // Direct: who_to @4, start @8, len @12.
    const start = e.w8 >>> 0;
    const len = e.w12 >>> 0;
    // Stryker disable next-line ArithmeticOperator: rangeOk makes the same start + len check on the next line
    if (start + len > ADDRESS_SPACE_BYTES || !granteeMatches((e.w4 | 0) as Endpoint, grantee)) return EPERM;
    if (!rangeOk(start, len, offset, bytes)) return EPERM;
    return found(granter, start + offset, granter, id);
  }
  if ((e.flags & CPF_MAGIC) !== 0) {
    // Magic: who_from @4, who_to @8, start @12, len @16. Only VFS may name another process's memory; the ANY
    // wildcard is who_to's (MINIX tested who_from).
    const start = e.w12 >>> 0;
    const len = e.w16 >>> 0;
    if (granter !== VFS_PROC_NR || !granteeMatches((e.w8 | 0) as Endpoint, grantee)) return EPERM;
    if (!rangeOk(start, len, offset, bytes)) return EPERM;
    return found((e.w4 | 0) as Endpoint, start + offset, granter, id);
  }
  return EPERM;
}

/** Records a successful check in `grantFound`; OK. */
function found(owner: Endpoint, addr: number, finalOwner: Endpoint, finalId: number): number {
  const f = grantFound;
  f.owner = owner;
  f.addr = addr;
  f.finalOwner = finalOwner;
  f.finalId = finalId;
  return OK;
}
