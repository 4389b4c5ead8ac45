// Grant constants and layouts (include/minix/safecopies.h): CPF_* flags, the 36-byte cp_grant_t entry kept in
// the granter's own memory, grant-id encoding, and the 24-byte vsafecopy vector element (spec/grants.md §3, §5.4).
// Entry points: CPF_*, GRANT_*, makeGrantId/grantIdSlot/grantIdSeq, decodeGrantEntry/encodeGrantEntry, encodeScpVector.
// DIVERGES: entries carry a sequence number at offset 28 (grantvm's generational ids, adopted from ca779acd7).
import type { Endpoint } from './endpoint.ts';
import type { Brand } from './types.ts';

/** Grant access bit: the grantee may read (safecopyfrom; safemap). */
export const CPF_READ = 0x001;
/** Grant access bit: the grantee may write (safecopyto; a writable safemap). */
export const CPF_WRITE = 0x002;
/** Grant access bit: the grantee may safemap the pages (the granted range must be page-aligned, grants.md §3.4). */
export const CPF_MAP = 0x004;
/** The access bits a grant may carry; anything else in `access` is EINVAL in the library. */
export const CPF_ACCESS_MASK = CPF_READ | CPF_WRITE | CPF_MAP;
/** The slot is allocated (not necessarily usable). */
export const CPF_USED = 0x100;
export const CPF_DIRECT = 0x200;
/** Carries no access bits of its own: the final entry of the chain decides. */
export const CPF_INDIRECT = 0x400;
export const CPF_MAGIC = 0x800;
/** The grant is usable; the kernel requires USED and VALID. */
export const CPF_VALID = 0x1000;

/** A grant id as the library hands it out: ≥ 0, or GRANT_INVALID. */
export type GrantId = Brand<number, 'GrantId'>;
export const grantId = (n: number): GrantId => n as GrantId;
/** The id of no grant: what a failed cpf_grant_* returns in {@link GrantResult}. */
export const GRANT_INVALID = -1;

export type GrantIdScheme = 'generational' | 'legacy';

/** Generational ids: `(seq << 20) | slot`, slot 20 bits, seq 11 bits, so an id is a non-negative i32. */
export const GRANT_SLOT_BITS = 20;
export const GRANT_SLOT_MASK = (1 << GRANT_SLOT_BITS) - 1;
export const GRANT_SEQ_MODULUS = 2048;
export const GRANT_SEQ_MASK = GRANT_SEQ_MODULUS - 1;
/** Largest table sys_setgrant accepts and the library grows to: 2^20 entries. */
export const GRANT_MAX_ENTRIES = 1 << GRANT_SLOT_BITS;
/** The library's first table (NR_STATIC_GRANTS). */
export const NR_STATIC_GRANTS = 2;
/** Indirect entries followed before ELOOP (the 6th gives ELOOP). */
export const MAX_INDIRECT_DEPTH = 5;

/** True iff `id` is a syntactically valid id: an integer in [0, 2^31). */
export const isGrantIdValid = (id: number): boolean => Number.isInteger(id) && id >= 0 && id <= 0x7fffffff;

export function makeGrantId(scheme: GrantIdScheme, slot: number, seq: number): GrantId {
  return grantId(scheme === 'legacy' ? slot : (((seq & GRANT_SEQ_MASK) << GRANT_SLOT_BITS) | slot) >>> 0);
}

/** The table slot an id names. The id MUST be valid (isGrantIdValid). */
export const grantIdSlot = (scheme: GrantIdScheme, id: number): number => (scheme === 'legacy' ? id : id & GRANT_SLOT_MASK);
/** The sequence number an id carries (0 in legacy ids). */
export const grantIdSeq = (scheme: GrantIdScheme, id: number): number =>
  scheme === 'legacy' ? 0 : (id >>> GRANT_SLOT_BITS) & GRANT_SEQ_MASK;

// ---------------------------------------------------------------- cp_grant_t (36 bytes, little-endian words)

export const GRANT_ENTRY_BYTES = 36;
/** Byte offsets inside an entry, per kind. */
export const GRANT_OFF = {
  flags: 0,
  directWhoTo: 4,
  directStart: 8,
  directLen: 12,
  indirectWhoTo: 4,
  indirectWhoFrom: 8,
  indirectGrant: 12,
  magicWhoFrom: 4,
  magicWhoTo: 8,
  magicStart: 12,
  magicLen: 16,
  seq: 28,
} as const;

/**
 * An entry as decoded: the kind follows the kernel's precedence (INDIRECT, then DIRECT, then MAGIC), so the
 * library and verify_grant read a malformed entry the same way. Endpoints and ids are i32, start/len u32.
 */
export type GrantEntry =
  | { kind: 'indirect'; flags: number; seq: number; whoTo: Endpoint; whoFrom: Endpoint; grant: number }
  | { kind: 'direct'; flags: number; seq: number; whoTo: Endpoint; start: number; len: number }
  | { kind: 'magic'; flags: number; seq: number; whoFrom: Endpoint; whoTo: Endpoint; start: number; len: number }
  | { kind: 'none'; flags: number; seq: number };

export function decodeGrantEntry(bytes: Uint8Array): GrantEntry {
  const v = new DataView(bytes.buffer, bytes.byteOffset, GRANT_ENTRY_BYTES);
  const flags = v.getUint32(GRANT_OFF.flags, true);
  const seq = v.getUint32(GRANT_OFF.seq, true) & GRANT_SEQ_MASK;
  const ep = (off: number): Endpoint => v.getInt32(off, true) as Endpoint;
  if ((flags & CPF_INDIRECT) !== 0) {
    const whoTo = ep(GRANT_OFF.indirectWhoTo);
    return { kind: 'indirect', flags, seq, whoTo, whoFrom: ep(GRANT_OFF.indirectWhoFrom), grant: v.getInt32(GRANT_OFF.indirectGrant, true) };
  }
  if ((flags & CPF_DIRECT) !== 0) {
    const start = v.getUint32(GRANT_OFF.directStart, true);
    return { kind: 'direct', flags, seq, whoTo: ep(GRANT_OFF.directWhoTo), start, len: v.getUint32(GRANT_OFF.directLen, true) };
  }
  if ((flags & CPF_MAGIC) !== 0) {
    const start = v.getUint32(GRANT_OFF.magicStart, true);
    const len = v.getUint32(GRANT_OFF.magicLen, true);
    return { kind: 'magic', flags, seq, whoFrom: ep(GRANT_OFF.magicWhoFrom), whoTo: ep(GRANT_OFF.magicWhoTo), start, len };
  }
  return { kind: 'none', flags, seq };
}

/** The 36 bytes of an entry; unused words are zero. */
export function encodeGrantEntry(e: GrantEntry): Uint8Array {
  const out = new Uint8Array(GRANT_ENTRY_BYTES);
  const v = new DataView(out.buffer);
  v.setUint32(GRANT_OFF.flags, e.flags >>> 0, true);
  v.setUint32(GRANT_OFF.seq, e.seq & GRANT_SEQ_MASK, true);
  switch (e.kind) {
    case 'indirect':
      v.setInt32(GRANT_OFF.indirectWhoTo, e.whoTo, true);
      v.setInt32(GRANT_OFF.indirectWhoFrom, e.whoFrom, true);
      v.setInt32(GRANT_OFF.indirectGrant, e.grant, true);
      break;
    case 'direct':
      v.setInt32(GRANT_OFF.directWhoTo, e.whoTo, true);
      v.setUint32(GRANT_OFF.directStart, e.start >>> 0, true);
      v.setUint32(GRANT_OFF.directLen, e.len >>> 0, true);
      break;
    case 'magic':
      v.setInt32(GRANT_OFF.magicWhoFrom, e.whoFrom, true);
      v.setInt32(GRANT_OFF.magicWhoTo, e.whoTo, true);
      v.setUint32(GRANT_OFF.magicStart, e.start >>> 0, true);
      v.setUint32(GRANT_OFF.magicLen, e.len >>> 0, true);
      break;
    case 'none':
      break;
  }
  return out;
}

// ---------------------------------------------------------------- vsafecopy vector (struct vscp_vec)

/** Most elements one sys_vsafecopy may carry. */
export const SCPVEC_NR = 64;
/** Bytes of one vsafecopy vector element in the caller's memory (six 32-bit little-endian words). */
export const SCPVEC_ELEMENT_BYTES = 24;
export const SCPVEC_OFF = { from: 0, to: 4, gid: 8, offset: 12, addr: 16, bytes: 20 } as const;

/** One vsafecopy element: exactly one of from/to is SELF; offset is in the other side's grant, addr is the caller's. */
export interface ScpVecElement {
  /** Where the bytes come from: the granter (a copy from its grant), or SELF (a copy from the caller's `addr`). */
  from: number;
  /** Where the bytes go: the granter (a copy into its grant), or SELF (a copy to the caller's `addr`). */
  to: number;
  /** The grant id, in the table of whichever of from/to is not SELF. */
  gid: number;
  /** Offset in the grant, bytes. */
  offset: number;
  /** The caller's own address, bytes. */
  addr: number;
  /** Bytes to copy. */
  bytes: number;
}

/**
 * Builds a sys_vsafecopy vector: the bytes to write into the caller's memory before `p.sys.vsafecopy(addr,
 * elements.length)` (at most {@link SCPVEC_NR} elements, {@link SCPVEC_ELEMENT_BYTES} bytes each).
 */
export function encodeScpVector(elements: readonly ScpVecElement[]): Uint8Array {
  const out = new Uint8Array(elements.length * SCPVEC_ELEMENT_BYTES);
  const v = new DataView(out.buffer);
  elements.forEach((e, i) => {
    const b = i * SCPVEC_ELEMENT_BYTES;
    v.setInt32(b + SCPVEC_OFF.from, e.from, true);
    v.setInt32(b + SCPVEC_OFF.to, e.to, true);
    v.setInt32(b + SCPVEC_OFF.gid, e.gid, true);
    v.setUint32(b + SCPVEC_OFF.offset, e.offset >>> 0, true);
    v.setUint32(b + SCPVEC_OFF.addr, e.addr >>> 0, true);
    v.setUint32(b + SCPVEC_OFF.bytes, e.bytes >>> 0, true);
  });
  return out;
}

export function decodeScpVector(bytes: Uint8Array, count: number): ScpVecElement[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, count * SCPVEC_ELEMENT_BYTES);
  return Array.from({ length: count }, (_, i) => {
    const b = i * SCPVEC_ELEMENT_BYTES;
    return {
      from: v.getInt32(b + SCPVEC_OFF.from, true),
      to: v.getInt32(b + SCPVEC_OFF.to, true),
      gid: v.getInt32(b + SCPVEC_OFF.gid, true),
      offset: v.getUint32(b + SCPVEC_OFF.offset, true),
      addr: v.getUint32(b + SCPVEC_OFF.addr, true),
      bytes: v.getUint32(b + SCPVEC_OFF.bytes, true),
    };
  });
}
