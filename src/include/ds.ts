// Data Store constants and message fields (include/minix/ds.h, spec/ds.md §3): DSF_* flags, DSMF_* retrieve
// modes, request types, length limits. Entry points: the constants, DsFields, dsTypeName.
// DIVERGES: message fields are named (keyGrant, keyLen, ...) instead of m2_*; CHECK also returns the owner's
// endpoint in `owner` (DS_OWNER, grantvm); GETSYSINFO answers with a plain copy of the table in `table`.

/** Key buffer including the NUL: keys and patterns are 1..79 chars; the wire length (strlen + 1) is in [2, 80]. */
export const DS_MAX_KEYLEN = 80;
/** Inline string including the NUL: at most 15 chars. */
export const DS_MAX_STRLEN = 16;
/** Snapshot ring per MAP entry: snapshot n lives in slot n mod NR_DS_SNAPSHOT. */
export const NR_DS_SNAPSHOT = 5;

/** Defaults of the DS table sizes (NR_DS_KEYS; NR_DS_SUBS = 4 × NR_SYS_PROCS). */
export const NR_DS_KEYS = 64;
export const NR_DS_SUBS = 128;

export const DSF_IN_USE = 0x001;
/** Only the owner may retrieve. */
export const DSF_PRIV_RETRIEVE = 0x002;
/** Only the owner may overwrite. */
export const DSF_PRIV_OVERWRITE = 0x004;
/** Only the owner may snapshot: the same bit as PRIV_OVERWRITE, kept as in MINIX. */
export const DSF_PRIV_SNAPSHOT = 0x004;
/** Only the owner's own subscription can match the entry. */
export const DSF_PRIV_SUBSCRIBE = 0x008;

/** Entry type: an unsigned 32-bit number (ds.md §4). */
export const DSF_TYPE_U32 = 0x010;
/** Entry type: a string of at most 15 bytes. */
export const DSF_TYPE_STR = 0x020;
/** Entry type: a block of bytes DS copies and keeps. */
export const DSF_TYPE_MEM = 0x040;
/** Entry type: the publisher's pages, live-mapped read-only into DS by safemap. */
export const DSF_TYPE_MAP = 0x080;
/** Entry type: a label, binding a name to an endpoint. */
export const DSF_TYPE_LABEL = 0x100;
export const DSF_MASK_TYPE = 0xff0;
/** The bits persisted in an entry. */
export const DSF_MASK_INTERNAL = 0xfff;

/** publish/subscribe: replace an existing item (not persisted). */
export const DSF_OVERWRITE = 0x1000;
/** subscribe: flag every existing match at once. */
export const DSF_INITIAL = 0x2000;

/** MAP retrieve mode (the first of the three by priority): map DS's window read-only into the caller by safemap, live. */
export const DSMF_MAP_MAPPED = 0x10000;
/** MAP retrieve mode: copy the current contents of the live window. */
export const DSMF_COPY_MAPPED = 0x20000;
/** MAP retrieve mode: copy one of the last five snapshots (by number, see dsSnapshotMap). */
export const DSMF_COPY_SNAPSHOT = 0x40000;

/** Request types. */
export const DS_RQ_BASE = 0x800;
export const DS_PUBLISH = DS_RQ_BASE + 0;
export const DS_RETRIEVE = DS_RQ_BASE + 1;
export const DS_SUBSCRIBE = DS_RQ_BASE + 2;
export const DS_CHECK = DS_RQ_BASE + 3;
export const DS_DELETE = DS_RQ_BASE + 4;
export const DS_SNAPSHOT = DS_RQ_BASE + 5;
export const DS_RETRIEVE_LABEL = DS_RQ_BASE + 6;

/** The five entry types, in bit order. */
export const DS_TYPES = [DSF_TYPE_U32, DSF_TYPE_STR, DSF_TYPE_MEM, DSF_TYPE_MAP, DSF_TYPE_LABEL] as const;

/**
 * Fields of a DS request and its reply (DS_KEY_GRANT, DS_KEY_LEN, DS_FLAGS, DS_VAL, DS_VAL_LEN, DS_STRING,
 * DS_NR_SNAPSHOT, DS_OWNER). DS echoes the request with the fields it changed and `type` = result.
 */
export interface DsFields {
  /** Grant over the key (READ) or over an 80-byte output buffer (WRITE: CHECK, RETRIEVE_LABEL). */
  keyGrant?: number;
  /** strlen(key) + 1. */
  keyLen?: number;
  flags?: number;
  /** u32 or endpoint value, or a grant id for MEM/MAP data. */
  val?: number;
  valLen?: number;
  /** DS_STRING: 16 inline bytes. */
  str?: Uint8Array;
  nrSnapshot?: number;
  /** CHECK: endpoint of the entry's owner label (NONE if unresolvable). */
  owner?: number;
}

const typeNames: Readonly<Record<number, string>> = {
  [DSF_TYPE_U32]: 'U32',
  [DSF_TYPE_STR]: 'STR',
  [DSF_TYPE_MEM]: 'MEM',
  [DSF_TYPE_MAP]: 'MAP',
  [DSF_TYPE_LABEL]: 'LABEL',
};

/** 'U32' for DSF_TYPE_U32, ...; '?' for anything that is not exactly one type bit. */
export const dsTypeName = (flags: number): string => typeNames[flags & DSF_MASK_TYPE] ?? '?';
