// Models sys_safemap, sys_saferevmap and sys_safeunmap (kernel/system/do_safemap.c): a grantee maps pages
// another process granted it (VM's SMAP), and either side breaks the mapping (VM's SUNMAP), with a system-wide
// table of mapping records (spec/grants.md §6). Entry points: doSafemap, doSaferevmap, doSafeunmap,
// safemapRecords, grantSanityCheck.
// DIVERGES: the call waits for VM's answer and keeps the record only on OK; unmap never re-verifies the grant;
// records of an exiting process are purged without a VM request; byte counts must be page multiples.
import { EBUSY, EDEADSRCDST, EINVAL, OK } from '../../include/errno.ts';
import { NONE } from '../../include/endpoint.ts';
import type { Endpoint } from '../../include/endpoint.ts';
import { VMPTYPE_COWMAP, VMPTYPE_SMAP, VMPTYPE_SUNMAP } from '../../include/com.ts';
import type { Payload } from '../../include/ipc.ts';
import { numField } from '../../include/ipc.ts';
import { CPF_MAP, CPF_READ, CPF_WRITE, GRANT_INVALID } from '../../include/safecopies.ts';
import { assert } from '../../lib/assert.ts';
import { isPageAligned } from '../../lib/units.ts';
import { verifyGrant } from '../grant.ts';
import type { Kernel } from '../kernel.ts';
import { rangeWraps } from '../memory.ts';
import { RTS } from '../proc.ts';
import type { KProc } from '../proc.ts';
import { postVmRequest } from '../vmrequest.ts';
import type { VmRequest } from '../vmrequest.ts';

/** One live (or being established) mapping: grantee's [granteeAddr, +bytes) shows owner's [ownerAddr, +bytes). */
export interface MapRecord {
  /** The granter the grantee presented to safemap. */
  granter: Endpoint;
  /** The grant id the grantee presented to safemap (matched by saferevmap_gid). */
  gid: number;
  /** The table owner of the direct or magic entry the chain ended on. */
  finalOwner: Endpoint;
  /** The id of that entry in finalOwner's table (also matched by saferevmap_gid). */
  finalId: number;
  /** The memory owner: the process whose pages are mapped. */
  owner: Endpoint;
  /** Start of the mapped range in the owner (grant start + offset; page-aligned; matched by saferevmap_addr). */
  ownerAddr: number;
  /** The process that called safemap and now sees the owner's pages. */
  grantee: Endpoint;
  /** Start of the mapped range in the grantee (page-aligned; matched by safeunmap). */
  granteeAddr: number;
  /** Length of the mapping in bytes (a multiple of 4096). */
  bytes: number;
  /** The grantee may write (the grant has CPF_WRITE and safemap asked for it); owner writes are always visible. */
  writable: boolean;
}

/** The record table of each kernel (the kernel's map_info[]); created with its exit hook on first use. */
const tables = new WeakMap<Kernel, MapRecord[]>();

function recordTable(k: Kernel): MapRecord[] {
  let t = tables.get(k);
  if (t === undefined) {
    const table: MapRecord[] = [];
    t = table;
    tables.set(k, table);
    k.exitHooks.push((p) => {
      purgeRecords(table, p.endpoint);
    });
  }
  return t;
}

/** §6.5: on exit of `e` every record naming it as grantee or owner goes, with no VM request. */
function purgeRecords(table: MapRecord[], e: Endpoint): void {
  for (let i = table.length - 1; i >= 0; i--) {
    const r = table[i];
    if (r !== undefined && (r.grantee === e || r.owner === e)) table.splice(i, 1);
  }
}

function removeRecord(k: Kernel, r: MapRecord): boolean {
  const table = recordTable(k);
  const i = table.indexOf(r);
  if (i < 0) return false;
  table.splice(i, 1);
  return true;
}

/** The mapping records, for inspection (read-only copies). */
export function safemapRecords(k: Kernel): readonly Readonly<MapRecord>[] {
  return (tables.get(k) ?? []).map((r) => ({ ...r }));
}

function trace(k: Kernel, op: string, caller: KProc, granter: number, gid: number, result: number): void {
  if (k.tracing) k.emit({ step: k.step, kind: 'grant', op, caller: caller.endpoint, granter, gid, result });
}

// ---------------------------------------------------------------- safemap

export async function doSafemap(k: Kernel, caller: KProc, m: Payload): Promise<number> {
  const granter = numField(m, 'granter');
  const gid = numField(m, 'gid');
  const result = await safemap(k, caller, m, granter, gid);
  trace(k, 'safemap', caller, granter, gid, result);
  return result;
}

async function safemap(k: Kernel, caller: KProc, m: Payload, granter: number, gid: number): Promise<number> {
  const gOff = numField(m, 'offset');
  const myAddr = numField(m, 'address');
  const bytes = numField(m, 'bytes');
  const writable = numField(m, 'writable') !== 0;
  const access = CPF_MAP | CPF_READ | (writable ? CPF_WRITE : 0);
  const v = verifyGrant(k, granter, caller.endpoint, gid, bytes, access, gOff);
  if (!v.ok) return v.err;
  if (bytes === 0 || !isPageAligned(bytes) || !isPageAligned(v.addr) || !isPageAligned(myAddr)) return EINVAL;
  if (rangeWraps(myAddr, bytes) || v.owner === caller.endpoint) return EINVAL;
  const owner = k.liveProc(v.owner);
  if (owner === null) return EDEADSRCDST;
  const table = recordTable(k);
  if (table.length >= k.config.maxMapInfo) return EBUSY;
  const record: MapRecord = {
    granter: granter as Endpoint,
    gid,
    finalOwner: v.finalOwner,
    finalId: v.finalId,
    owner: owner.endpoint,
    ownerAddr: v.addr,
    grantee: caller.endpoint,
    granteeAddr: myAddr,
    bytes,
    writable,
  };
  table.push(record);
  const r = await postVmRequest(k, {
    reqType: VMPTYPE_SMAP,
    requestor: caller,
    target: caller,
    targetEndpoint: caller.endpoint,
    start: myAddr,
    length: bytes,
    write: writable,
    source: owner,
    sourceEndpoint: owner.endpoint,
    sourceAddr: v.addr,
  });
  // If the owner exited meanwhile its exit purged the record: the pages the grantee got are its own now.
  if (r !== OK) removeRecord(k, record);
  return r;
}

// ---------------------------------------------------------------- saferevmap, safeunmap

export async function doSaferevmap(k: Kernel, caller: KProc, m: Payload): Promise<number> {
  const byGid = numField(m, 'flag') !== 0;
  const key = numField(m, byGid ? 'gid' : 'addr');
  const e = caller.endpoint;
  const match = byGid
    ? (r: MapRecord) => (r.granter === e && r.gid === key) || (r.finalOwner === e && r.finalId === key)
    : (r: MapRecord) => r.owner === e && r.ownerAddr === key;
  const result = await unmapRecords(k, caller, match);
  trace(k, byGid ? 'saferevmap_gid' : 'saferevmap_addr', caller, e, byGid ? key : GRANT_INVALID, result);
  return result;
}

export async function doSafeunmap(k: Kernel, caller: KProc, m: Payload): Promise<number> {
  const a = numField(m, 'address');
  const e = caller.endpoint;
  const result = await unmapRecords(k, caller, (r) => r.grantee === e && r.granteeAddr === a);
  trace(k, 'safeunmap', caller, NONE, GRANT_INVALID, result);
  return result;
}

/**
 * §6.4: the matching records, one SUNMAP at a time. VM error → returned, that record and the rest stay.
 * A record an exit purged while we waited is simply gone. The grant is not re-verified.
 */
async function unmapRecords(k: Kernel, caller: KProc, match: (r: MapRecord) => boolean): Promise<number> {
  for (const record of recordTable(k).filter(match)) {
    if (!recordTable(k).includes(record)) continue;
    const grantee = k.liveProc(record.grantee);
    assert(grantee !== null, () => `saferevmap: record of dead grantee ${record.grantee} survived its exit`);
    const r = await postVmRequest(k, {
      reqType: VMPTYPE_SUNMAP,
      requestor: caller,
      target: grantee,
      targetEndpoint: grantee.endpoint,
      start: record.granteeAddr,
      length: record.bytes,
      write: false,
      source: null,
      sourceEndpoint: null,
      sourceAddr: 0,
    });
    if (!recordTable(k).includes(record)) continue; // an exit purged it meanwhile: nothing left to unmap
    if (r !== OK) return r;
    removeRecord(k, record);
  }
  return OK;
}

// ---------------------------------------------------------------- sanity (§6.7)

/** Panics naming the first broken rule of spec/grants.md §6.7. */
export function grantSanityCheck(k: Kernel): void {
  const table = tables.get(k) ?? [];
  assert(table.length <= k.config.maxMapInfo, () => `§6.7 at most maxMapInfo records: ${table.length} > ${k.config.maxMapInfo}`);
  for (const r of table) {
    const what = `record ${r.grantee}@${r.granteeAddr} ← ${r.owner}@${r.ownerAddr}`;
    assert(k.liveProc(r.grantee) !== null && k.liveProc(r.owner) !== null, () => `§6.7 record sides are live: ${what}`);
    assert(r.grantee !== r.owner, () => `§6.7 record sides differ: ${what}`);
    const aligned = isPageAligned(r.ownerAddr) && isPageAligned(r.granteeAddr) && isPageAligned(r.bytes) && r.bytes > 0;
    assert(aligned, () => `§6.7 record ranges page-aligned page multiples: ${what} (${r.bytes} bytes)`);
  }
  checkVmRequests(k);
  for (const p of k.procs) {
    const t = p.priv.grantTable;
    if (!p.inUse || t === null) continue;
    assert(t.registeredBy === p.endpoint, () => `§6.7 grant table consulted only for its registering endpoint: ${p.name} holds ${t.registeredBy}'s`);
  }
}

/** §6.7: at most one outstanding request per process; VMREQTARGET holds = requests naming the process. */
function checkVmRequests(k: Kernel): void {
  const q = k.vmRequests;
  const all: VmRequest[] = [...q.waiting, ...q.inProgress.values()];
  const holds = new Map<KProc, number>();
  const seen = new Set<KProc>();
  for (const r of all) {
    assert(!seen.has(r.requestor), () => `§6.7 at most one outstanding VM request: ${r.requestor.name} has two`);
    seen.add(r.requestor);
    assert((r.requestor.rts & RTS.VMREQUEST) !== 0, () => `§6.7 a requestor waits in VMREQUEST: ${r.requestor.name}`);
    const named: [KProc, Endpoint][] = [[r.target, r.targetEndpoint]];
    const twoSided = r.reqType === VMPTYPE_COWMAP || r.reqType === VMPTYPE_SMAP;
    if (twoSided && r.source !== null && r.sourceEndpoint !== null && r.source !== r.requestor) named.push([r.source, r.sourceEndpoint]);
    for (const [p, e] of named) if (p.inUse && p.endpoint === e) holds.set(p, (holds.get(p) ?? 0) + 1);
  }
  for (const p of k.procs) {
    if (!p.inUse) continue;
    const want = holds.get(p) ?? 0;
    assert(p.vmHolds === want, () => `§6.7 VMREQTARGET holds of ${p.name} = requests naming it: ${p.vmHolds} ≠ ${want}`);
  }
}
