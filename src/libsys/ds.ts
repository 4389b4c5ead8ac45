// Models the DS client library (lib/syslib/ds.c, spec/ds.md §5): every call is one sendrec to DS; keys and
// out-of-line values live in the caller's own memory and travel by direct grants the library creates and revokes.
// Entry points: dsPublish{U32,Str,Mem,Map,Label}, dsRetrieve{U32,Str,Mem,Map,LabelNum,LabelEndpt,LabelName},
// dsDelete{U32,Str,Mem,Map,Label}, dsSnapshotMap, dsSubscribe, dsCheck.
// DIVERGES: results are values (OK / negative errno) and output parameters come back in a result object, valid
// only when result is OK. Keys and 80-byte output buffers use a scratch page the library mmaps once per process.
// ds_publish_map keeps its grant until ds_delete_map of the same key (the fix of cb176df60).
import {
  DSF_TYPE_LABEL,
  DSF_TYPE_MAP,
  DSF_TYPE_MEM,
  DSF_TYPE_STR,
  DSF_TYPE_U32,
  DSMF_COPY_MAPPED,
  DSMF_COPY_SNAPSHOT,
  DSMF_MAP_MAPPED,
  DS_CHECK,
  DS_DELETE,
  DS_MAX_KEYLEN,
  DS_MAX_STRLEN,
  DS_PUBLISH,
  DS_RETRIEVE,
  DS_RETRIEVE_LABEL,
  DS_SNAPSHOT,
  DS_SUBSCRIBE,
} from '../include/ds.ts';
import { DS_PROC_NR } from '../include/endpoint.ts';
import { EINVAL, OK } from '../include/errno.ts';
import type { Message, Payload } from '../include/ipc.ts';
import { numField } from '../include/ipc.ts';
import { CPF_MAP, CPF_READ, CPF_WRITE } from '../include/safecopies.ts';
import { MAP_ANON, MAP_PRIVATE } from '../include/vm.ts';
import { PAGE_SIZE, isPageAligned, roundDownPage } from '../lib/units.ts';
import { cpfGrantDirect, cpfRevoke, sysSafemap } from './grant.ts';
import type { Proc } from './proc.ts';
import { vmMmap } from './vm.ts';

interface DsClientState {
  /** A page of the caller's memory for keys and 80-byte outputs; 0 until first use. */
  scratch: number;
  /** ds_publish_map grants kept alive: key → grant id. */
  maps: Map<string, number>;
}

// Stryker disable next-line StringLiteral: any key but the grant library's 'cpf' names the same per-process state
const clientState = (p: Proc): DsClientState => p.state<DsClientState>('ds', () => ({ scratch: 0, maps: new Map() }));
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

async function scratchOf(p: Proc): Promise<number> {
  const st = clientState(p);
  if (st.scratch === 0) {
    const a = await vmMmap(p, 0, PAGE_SIZE, MAP_ANON | MAP_PRIVATE);
    if (a < 0) return a;
    st.scratch = a;
  }
  return st.scratch;
}

/** A direct grant to DS; its id, or the errno of the failure (negative). */
async function grantToDs(p: Proc, addr: number, len: number, access: number): Promise<number> {
  const g = await cpfGrantDirect(p, DS_PROC_NR, addr, len, access);
  return g.errno === OK ? g.id : g.errno;
}

/** What a key travels with: READ over key+NUL, or WRITE over an 80-byte output buffer. */
type KeyArg = { key: string } | { output: true };

/**
 * do_invoke: the key (or output buffer) goes into the scratch page under a grant to DS, one sendrec, the grant
 * is revoked. The reply (or an IPC failure as a message whose type is the error).
 */
async function invoke(p: Proc, type: number, keyArg: KeyArg, fields: Payload | Record<string, unknown> = {}): Promise<Message> {
  const fail = (r: number): Message => ({ type: r, source: DS_PROC_NR });
  const scratch = await scratchOf(p);
  if (scratch < 0) return fail(scratch);
  let len = DS_MAX_KEYLEN;
  let access = CPF_WRITE;
  if ('key' in keyArg) {
    const bytes = utf8(`${keyArg.key}\0`);
    if (bytes.length > PAGE_SIZE) return fail(EINVAL);
    await p.write(scratch, bytes);
    len = bytes.length;
    access = CPF_READ;
  }
  const g = await grantToDs(p, scratch, len, access);
  if (g < 0) return fail(g);
  const reply = await p.sendrec(DS_PROC_NR, { ...fields, type, keyGrant: g, keyLen: len });
  await cpfRevoke(p, g);
  return reply;
}

/** The string DS wrote into the scratch page's 80-byte buffer. */
async function scratchString(p: Proc): Promise<string> {
  return p.readString(clientState(p).scratch, DS_MAX_KEYLEN);
}

// ---------------------------------------------------------------- publish

async function publishInline(p: Proc, key: string, flags: number, fields: Record<string, unknown>): Promise<number> {
  return (await invoke(p, DS_PUBLISH, { key }, { ...fields, flags })).type;
}

/**
 * ds_publish_u32: publishes `value` (as an unsigned 32-bit number) under `key`; `flags` may add DSF_OVERWRITE and
 * DSF_PRIV_*. OK, or DS's error (ds.md §6.1): EPERM (caller has no label, or may not overwrite), EEXIST (key
 * exists without DSF_OVERWRITE), EINVAL (bad key length), ENOMEM (table full); or the library's grant/IPC error.
 */
export function dsPublishU32(p: Proc, key: string, value: number, flags = 0): Promise<number> {
  return publishInline(p, key, flags | DSF_TYPE_U32, { val: value >>> 0 });
}

/**
 * ds_publish_label: publishes the name → endpoint binding `key` → `endpoint` (a LABEL entry; RS does this for every
 * service). Errors as {@link dsPublishU32}, plus EEXIST when another label already holds `endpoint`, and EPERM
 * for a caller other than RS under dsLabelPolicy 'rs-only'.
 */
export function dsPublishLabel(p: Proc, key: string, endpoint: number, flags = 0): Promise<number> {
  return publishInline(p, key, flags | DSF_TYPE_LABEL, { val: endpoint });
}

/** ds_publish_str: at most 15 bytes (strlen ≥ 16 → EINVAL before sending). */
export function dsPublishStr(p: Proc, key: string, s: string, flags = 0): Promise<number> {
  const bytes = utf8(s);
  if (bytes.length >= DS_MAX_STRLEN) return Promise.resolve(EINVAL);
  const str = new Uint8Array(DS_MAX_STRLEN);
  str.set(bytes);
  return publishInline(p, key, flags | DSF_TYPE_STR, { str });
}

/** ds_publish_mem: DS copies [addr, addr+len) through a READ grant revoked after the call. */
export async function dsPublishMem(p: Proc, key: string, addr: number, len: number, flags = 0): Promise<number> {
  const g = await grantToDs(p, addr, len, CPF_READ);
  if (g < 0) return g;
  const r = await invoke(p, DS_PUBLISH, { key }, { flags: flags | DSF_TYPE_MEM, val: g, valLen: len });
  await cpfRevoke(p, g);
  return r.type;
}

/**
 * ds_publish_map: DS maps [addr, addr+len) read-only, live. Page-aligned, non-empty. The READ|MAP grant is
 * kept on success (revoked by a successful dsDeleteMap of the same key), revoked on failure.
 */
export async function dsPublishMap(p: Proc, key: string, addr: number, len: number, flags = 0): Promise<number> {
  if (!isPageAligned(addr) || !isPageAligned(len) || len <= 0) return EINVAL;
  const g = await grantToDs(p, addr, len, CPF_READ | CPF_MAP);
  if (g < 0) return g;
  const r = (await invoke(p, DS_PUBLISH, { key }, { flags: flags | DSF_TYPE_MAP, val: g, valLen: len })).type;
  if (r === OK) clientState(p).maps.set(key, g);
  else await cpfRevoke(p, g);
  return r;
}

// ---------------------------------------------------------------- retrieve

/**
 * ds_retrieve_u32: the U32 value published under `key`. ESRCH when there is none; EPERM when it is DSF_PRIV_RETRIEVE
 * and the caller is not its owner (ds.md §6.2).
 */
export async function dsRetrieveU32(p: Proc, key: string): Promise<{
  /** OK or a negative errno. */
  result: number;
  /** The value (unsigned 32-bit); 0 unless result is OK. */
  value: number;
}> {
  const r = await invoke(p, DS_RETRIEVE, { key }, { flags: DSF_TYPE_U32 });
  return { result: r.type, value: r.type === OK ? numField(r, 'val') >>> 0 : 0 };
}

/** ds_retrieve_label_num: the endpoint the label `key` names (e.g. 'vm', or a service's label); ESRCH when no such label. */
export async function dsRetrieveLabelNum(p: Proc, key: string): Promise<{
  /** OK or a negative errno. */
  result: number;
  /** The label's endpoint; 0 unless result is OK. */
  endpoint: number;
}> {
  const r = await invoke(p, DS_RETRIEVE, { key }, { flags: DSF_TYPE_LABEL });
  return { result: r.type, endpoint: r.type === OK ? numField(r, 'val') : 0 };
}

/** ds_retrieve_label_endpt: the same call as ds_retrieve_label_num. */
export const dsRetrieveLabelEndpt = dsRetrieveLabelNum;

/** ds_retrieve_str: the 16 inline bytes with byte 15 forced to NUL. */
export async function dsRetrieveStr(p: Proc, key: string): Promise<{
  /** OK or a negative errno (ESRCH: no STR entry under the key; EPERM: private and not the caller's). */
  result: number;
  /** The string (at most 15 bytes); '' unless result is OK. */
  value: string;
}> {
  const r = await invoke(p, DS_RETRIEVE, { key }, { flags: DSF_TYPE_STR });
  if (r.type !== OK || !(r.str instanceof Uint8Array)) return { result: r.type === OK ? EINVAL : r.type, value: '' };
  const buf = new Uint8Array(DS_MAX_STRLEN);
  buf.set(r.str.subarray(0, DS_MAX_STRLEN));
  // Stryker disable next-line ArithmeticOperator: DS takes a STR only with a NUL in its 16 bytes; the decode stops there
  buf[DS_MAX_STRLEN - 1] = 0;
  const nul = buf.indexOf(0);
  return { result: OK, value: new TextDecoder().decode(buf.subarray(0, nul)) };
}

/** ds_retrieve_mem: DS writes up to `len` bytes at buf through a WRITE grant; len = bytes copied. */
export async function dsRetrieveMem(p: Proc, key: string, buf: number, len: number): Promise<{
  /** OK or a negative errno (ESRCH: no MEM entry under the key; EPERM: private and not the caller's). */
  result: number;
  /** Bytes copied to buf (min of `len` and the value's length; truncation is silent); 0 unless result is OK. */
  len: number;
}> {
  const g = await grantToDs(p, buf, len, CPF_WRITE);
  if (g < 0) return { result: g, len: 0 };
  const r = await invoke(p, DS_RETRIEVE, { key }, { flags: DSF_TYPE_MEM, val: g, valLen: len });
  await cpfRevoke(p, g);
  return { result: r.type, len: r.type === OK ? numField(r, 'valLen') : 0 };
}

/**
 * ds_retrieve_map: COPY_MAPPED / COPY_SNAPSHOT copy into [buf, buf+len) through a WRITE grant; MAP_MAPPED maps
 * DS's window read-only at buf (len rounded down to pages) with safemap through the grant DS returns.
 */
export async function dsRetrieveMap(
  p: Proc,
  key: string,
  buf: number,
  len: number,
  nrSnapshot: number,
  flags: number,
): Promise<{
  /** OK or a negative errno (EINVAL: no DSMF_* mode or a snapshot number outside the last five; ESRCH: no MAP entry; or safemap's error). */
  result: number;
  /** Bytes copied, or for DSMF_MAP_MAPPED bytes mapped (whole pages); 0 unless result is OK. */
  len: number;
}> {
  if ((flags & (DSMF_MAP_MAPPED | DSMF_COPY_MAPPED | DSMF_COPY_SNAPSHOT)) === 0) return { result: EINVAL, len: 0 };
  const mode = flags & (DSMF_MAP_MAPPED | DSMF_COPY_MAPPED | DSMF_COPY_SNAPSHOT);
  if ((mode & DSMF_MAP_MAPPED) !== 0) {
    const r = await invoke(p, DS_RETRIEVE, { key }, { flags: DSF_TYPE_MAP | mode, valLen: len });
    if (r.type !== OK) return { result: r.type, len: 0 };
    const mapped = roundDownPage(Math.min(len, numField(r, 'valLen')));
    const m = await sysSafemap(p, DS_PROC_NR, numField(r, 'val'), 0, buf, mapped, false);
    return { result: m, len: m === OK ? mapped : 0 };
  }
  const g = await grantToDs(p, buf, len, CPF_WRITE);
  if (g < 0) return { result: g, len: 0 };
  const r = await invoke(p, DS_RETRIEVE, { key }, { flags: DSF_TYPE_MAP | mode, val: g, valLen: len, nrSnapshot });
  await cpfRevoke(p, g);
  return { result: r.type, len: r.type === OK ? numField(r, 'valLen') : 0 };
}

/** ds_retrieve_label_name: the label whose endpoint is `endpoint` (anyone may reverse-resolve). */
export async function dsRetrieveLabelName(p: Proc, endpoint: number): Promise<{
  /** OK, or ESRCH when no label names `endpoint`. */
  result: number;
  /** The label; '' unless result is OK. */
  name: string;
}> {
  const r = await invoke(p, DS_RETRIEVE_LABEL, { output: true }, { val: endpoint });
  return { result: r.type, name: r.type === OK ? await scratchString(p) : '' };
}

// ---------------------------------------------------------------- delete, snapshot, subscribe, check

async function dsDelete(p: Proc, key: string, type: number): Promise<number> {
  return (await invoke(p, DS_DELETE, { key }, { flags: type })).type;
}

/**
 * ds_delete_u32: deletes the U32 entry `key`; subscribers are notified. OK, or (ds.md §6.4) EPERM (caller has no
 * label or is not the owner), ESRCH (no such entry), EINVAL (bad key length).
 */
export const dsDeleteU32 = (p: Proc, key: string): Promise<number> => dsDelete(p, key, DSF_TYPE_U32);
/** ds_delete_str: deletes the STR entry `key`; errors as {@link dsDeleteU32}. */
export const dsDeleteStr = (p: Proc, key: string): Promise<number> => dsDelete(p, key, DSF_TYPE_STR);
/** ds_delete_mem: deletes the MEM entry `key` and frees DS's copy; errors as {@link dsDeleteU32}. */
export const dsDeleteMem = (p: Proc, key: string): Promise<number> => dsDelete(p, key, DSF_TYPE_MEM);
/**
 * ds_delete_label: deletes the label `key` and purges everything its owner published and its subscription
 * (RS does this when a service goes down for good); errors as {@link dsDeleteU32}.
 */
export const dsDeleteLabel = (p: Proc, key: string): Promise<number> => dsDelete(p, key, DSF_TYPE_LABEL);

/** ds_delete_map: on success the publish grant this process kept for the key is revoked. */
export async function dsDeleteMap(p: Proc, key: string): Promise<number> {
  const r = await dsDelete(p, key, DSF_TYPE_MAP);
  const maps = clientState(p).maps;
  const g = maps.get(key);
  if (r === OK && g !== undefined) {
    maps.delete(key);
    await cpfRevoke(p, g);
  }
  return r;
}

/**
 * ds_snapshot_map: DS copies the live MAP window `key` into its ring of the last five snapshots (ds.md §6.5); read
 * one back with {@link dsRetrieveMap} and DSMF_COPY_SNAPSHOT.
 */
export async function dsSnapshotMap(p: Proc, key: string): Promise<{
  /** OK or a negative errno (ESRCH: no MAP entry under the key; EPERM: DSF_PRIV_OVERWRITE set and not the owner; ENOMEM). */
  result: number;
  /** The new snapshot's number (0, 1, ...); -1 unless result is OK. */
  nr: number;
}> {
  const r = await invoke(p, DS_SNAPSHOT, { key });
  return { result: r.type, nr: r.type === OK ? numField(r, 'nrSnapshot') : -1 };
}

/** ds_subscribe: one subscription per label; `pattern` is matched against whole keys. */
export async function dsSubscribe(p: Proc, pattern: string, flags = 0): Promise<number> {
  return (await invoke(p, DS_SUBSCRIBE, { key: pattern }, { flags })).type;
}

/** ds_check: the lowest pending key, its type and its owner's endpoint; ENOENT when nothing is pending. */
export async function dsCheck(p: Proc): Promise<{
  /** OK, ENOENT (nothing pending), or ESRCH (the caller has no label or no subscription). */
  result: number;
  /** The changed entry's key; '' unless result is OK. */
  key: string;
  /** Its type (DSF_TYPE_*); 0 unless result is OK. */
  type: number;
  /** Its owner's endpoint (NONE if the owner label no longer resolves); 0 unless result is OK. */
  owner: number;
}> {
  const r = await invoke(p, DS_CHECK, { output: true });
  if (r.type !== OK) return { result: r.type, key: '', type: 0, owner: 0 };
  return { result: OK, key: await scratchString(p), type: numField(r, 'flags'), owner: numField(r, 'owner') };
}
