// Models verify_grant (kernel/system/do_safecopy.c): the one place the kernel reads grant tables. It resolves a
// (granter, id) pair through indirect links to the direct or magic entry that names memory, checking rights and
// ranges (spec/grants.md §4). Entry points: verifyGrant, usableGrantTable, readGrantEntry.
// DIVERGES: entries carry a sequence number (generational ids, ca779acd7); the range check of a53514d4a is used.
import { EINVAL, ELOOP, EPERM } from '../include/errno.ts';
import { ANY, VFS_PROC_NR } from '../include/endpoint.ts';
import type { Endpoint } from '../include/endpoint.ts';
import {
  CPF_USED,
  CPF_VALID,
  GRANT_ENTRY_BYTES,
  MAX_INDIRECT_DEPTH,
  decodeGrantEntry,
  grantIdSeq,
  grantIdSlot,
  isGrantIdValid,
} from '../include/safecopies.ts';
import type { GrantEntry, GrantIdScheme } from '../include/safecopies.ts';
import { ADDRESS_SPACE_BYTES } from '../lib/units.ts';
import type { Kernel } from './kernel.ts';
import { kcheckRange, kread, rangeWraps } from './memory.ts';
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
 * Reads entry `slot` of p's table from p's memory with a plain kernel walk (no VM help): a fresh copy at
 * every use, so nothing checked here can change before it is used. Unreadable → null.
 */
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
  if (offset + bytes >= ADDRESS_SPACE_BYTES) return false;
  return offset + bytes <= len;
}

/**
 * verify_grant: may `granteeE` (or ANY) access `bytes` at `offset` of grant `gid` in `granterE`'s table with
 * `access` (CPF_* bits)? Errors in the order of spec/grants.md §4: EINVAL, EPERM, ELOOP.
 */
export function verifyGrant(
  k: Kernel,
  granterE: number,
  granteeE: number,
  gid: number,
  bytes: number,
  access: number,
  offset: number,
  scheme: GrantIdScheme = k.config.grantIds,
): VerifyResult {
  let granterEp = granterE;
  let grantee = granteeE;
  let id = gid;
  let depth = 0;
  let entry: GrantEntry;
  for (;;) {
    const granter = k.liveProc(granterEp);
    if (granter === null || !isGrantIdValid(id)) return { ok: false, err: EINVAL };
    const table = usableGrantTable(granter);
    const slot = grantIdSlot(scheme, id);
    if (table === null || slot >= table.entries) return { ok: false, err: EPERM };
    const e = readGrantEntry(k, granter, table, slot);
    if (e === null || (e.flags & (CPF_USED | CPF_VALID)) !== (CPF_USED | CPF_VALID)) return { ok: false, err: EPERM };
    if (scheme === 'generational' && e.seq !== grantIdSeq(scheme, id)) return { ok: false, err: EPERM };
    if (e.kind !== 'indirect') {
      entry = e;
      break;
    }
    if (depth === MAX_INDIRECT_DEPTH) return { ok: false, err: ELOOP };
    depth++;
    if (!granteeMatches(e.whoTo, grantee)) return { ok: false, err: EPERM };
    grantee = granterEp;
    granterEp = e.whoFrom;
    id = e.grant;
  }
  return finalEntry(entry, granterEp as Endpoint, id, grantee, bytes, access, offset);
}

/** Steps 2-5 of §4 on the entry the chain ended on, found in `granter`'s table under `id`. */
function finalEntry(
  e: GrantEntry,
  granter: Endpoint,
  id: number,
  grantee: number,
  bytes: number,
  access: number,
  offset: number,
): VerifyResult {
  if ((e.flags & access) !== access) return { ok: false, err: EPERM };
  switch (e.kind) {
    case 'direct':
      if (e.start + e.len > ADDRESS_SPACE_BYTES || !granteeMatches(e.whoTo, grantee)) return { ok: false, err: EPERM };
      if (!rangeOk(e.start, e.len, offset, bytes)) return { ok: false, err: EPERM };
      return { ok: true, owner: granter, addr: e.start + offset, finalOwner: granter, finalId: id };
    case 'magic':
      // Only VFS may name another process's memory; the ANY wildcard is who_to's (MINIX tested who_from).
      if (granter !== VFS_PROC_NR || !granteeMatches(e.whoTo, grantee)) return { ok: false, err: EPERM };
      if (!rangeOk(e.start, e.len, offset, bytes)) return { ok: false, err: EPERM };
      return { ok: true, owner: e.whoFrom, addr: e.start + offset, finalOwner: granter, finalId: id };
    case 'indirect':
    case 'none':
      return { ok: false, err: EPERM };
  }
}
