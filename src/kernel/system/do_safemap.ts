// Models sys_safemap, sys_saferevmap and sys_safeunmap (kernel/system/do_safemap.c): a grantee maps pages
// another process granted it (VM's SMAP), and either side breaks the mapping (VM's SUNMAP), with a system-wide
// table of mapping records (spec/grants.md §6). Entry points: doSafemap, doSaferevmap, doSafeunmap,
// safemapRecords, mapRecordTable, grantSanityCheck (the kernel's invariants, KERNEL_SANITY_RULES).
// DIVERGES: the call waits for VM's answer and keeps the record only on OK; unmap never re-verifies the grant;
// records of an exiting process are purged without a VM request; byte counts must be page multiples.
import { EBUSY, EDEADSRCDST, EINVAL, OK } from '../../include/errno.ts';
import { NONE } from '../../include/endpoint.ts';
import type { Endpoint } from '../../include/endpoint.ts';
import { VMPTYPE_SMAP, VMPTYPE_SUNMAP } from '../../include/com.ts';
import type { Payload } from '../../include/ipc.ts';
import { numField } from '../../include/ipc.ts';
import { CPF_MAP, CPF_READ, CPF_WRITE, GRANT_INVALID } from '../../include/safecopies.ts';
import { assert, panic } from '../../lib/assert.ts';
import { isPageAligned } from '../../lib/units.ts';
import { verifyGrant } from '../grant.ts';
import type { Kernel } from '../kernel.ts';
import { rangeWraps } from '../memory.ts';
import { RTS } from '../proc.ts';
import type { KProc } from '../proc.ts';
import { postVmRequest, requestHolders } from '../vmrequest.ts';
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

/**
 * The live record table of `k` (the kernel's map_info[]), created with its exit hook on first use. Only the safemap
 * calls change it; the checker's detection tests corrupt it.
 */
export function mapRecordTable(k: Kernel): MapRecord[] {
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
  // Stryker disable next-line ArithmeticOperator: table[length] is undefined, and the loop skips it
  for (let i = table.length - 1; i >= 0; i--) {
    const r = table[i];
    if (r !== undefined && (r.grantee === e || r.owner === e)) table.splice(i, 1);
  }
}

function removeRecord(k: Kernel, r: MapRecord): boolean {
  const table = mapRecordTable(k);
  const i = table.indexOf(r);
  // Stryker disable next-line BooleanLiteral: no caller reads removeRecord's answer
  if (i < 0) return false;
  table.splice(i, 1);
  // Stryker disable next-line BooleanLiteral: no caller reads removeRecord's answer
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
  const table = mapRecordTable(k);
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
  for (const record of mapRecordTable(k).filter(match)) {
    if (!mapRecordTable(k).includes(record)) continue;
    const grantee = k.liveProc(record.grantee);
    // Stryker disable next-line StringLiteral: the message of an assert that never fires (an exit purges its records before any SUNMAP can name it)
    assert(grantee !== null, () => `saferevmap: record of dead grantee ${record.grantee} survived its exit`);
    const r = await postVmRequest(k, {
      reqType: VMPTYPE_SUNMAP,
      requestor: caller,
      target: grantee,
      targetEndpoint: grantee.endpoint,
      start: record.granteeAddr,
      length: record.bytes,
      // Stryker disable next-line BooleanLiteral: VM does not read the write flag of a SUNMAP
      write: false,
      source: null,
      sourceEndpoint: null,
      sourceAddr: 0,
    });
    if (!mapRecordTable(k).includes(record)) continue; // an exit purged it meanwhile: nothing left to unmap
    if (r !== OK) return r;
    removeRecord(k, record);
  }
  return OK;
}

// ---------------------------------------------------------------- sanity (§6.7)

/**
 * The rules grantSanityCheck reports by name (`kernel sanity <RULE>: ...`), in the order it checks them: the mapping
 * records (at most maxMapInfo; both sides live; sides differ; page-aligned ranges of whole pages), the VM requests
 * (one per requestor; the requestor waits in VMREQUEST; VMREQTARGET holds = requests naming the process), and the
 * registered grant tables (each consulted only for the endpoint that registered it).
 */
export const KERNEL_SANITY_RULES = [
  'MAPINFO_LIMIT',
  'MAPINFO_LIVE',
  'MAPINFO_DISTINCT',
  'MAPINFO_ALIGNED',
  'VMREQ_ONE',
  'VMREQ_BLOCKED',
  'VMREQ_HOLDS',
  'GRANT_TABLE_OWNER',
] as const;

/** A kernel sanity rule (KERNEL_SANITY_RULES). */
export type KernelSanityRule = (typeof KERNEL_SANITY_RULES)[number];

/** Panics naming the kernel rule that failed unless `ok`. */
function check(ok: boolean, rule: KernelSanityRule, detail: () => string): void {
  if (!ok) panic(`kernel sanity ${rule}: ${detail()}`);
}

/** The kernel's invariants: panics naming the first broken rule of KERNEL_SANITY_RULES. */
export function grantSanityCheck(k: Kernel): void {
  const table = tables.get(k) ?? [];
  const max = k.config.maxMapInfo;
  check(table.length <= max, 'MAPINFO_LIMIT', () => `${table.length} records, at most ${max}`);
  for (const r of table) {
    const what = (): string => `record ${r.grantee}@${r.granteeAddr} ← ${r.owner}@${r.ownerAddr}`;
    check(k.liveProc(r.grantee) !== null && k.liveProc(r.owner) !== null, 'MAPINFO_LIVE', () => `a side is dead: ${what()}`);
    check(r.grantee !== r.owner, 'MAPINFO_DISTINCT', () => `grantee is the owner: ${what()}`);
    const aligned = isPageAligned(r.ownerAddr) && isPageAligned(r.granteeAddr) && isPageAligned(r.bytes) && r.bytes > 0;
    check(aligned, 'MAPINFO_ALIGNED', () => `${what()} of ${r.bytes} bytes`);
  }
  checkVmRequests(k);
  for (const p of k.procs) {
    const t = p.priv.grantTable;
    if (!p.inUse || t === null) continue;
    check(t.registeredBy === p.endpoint, 'GRANT_TABLE_OWNER', () => `${p.name} holds the table ${t.registeredBy} registered`);
  }
}

/** VMREQ_ONE, VMREQ_BLOCKED, VMREQ_HOLDS over the waiting and in-progress requests. */
function checkVmRequests(k: Kernel): void {
  const q = k.vmRequests;
  const all: VmRequest[] = [...q.waiting, ...q.inProgress.values()];
  const holds = new Map<KProc, number>();
  const seen = new Set<KProc>();
  for (const r of all) {
    check(!seen.has(r.requestor), 'VMREQ_ONE', () => `${r.requestor.name} has two outstanding VM requests`);
    seen.add(r.requestor);
    check((r.requestor.rts & RTS.VMREQUEST) !== 0, 'VMREQ_BLOCKED', () => `${r.requestor.name} does not wait in VMREQUEST`);
    for (const [p, e] of requestHolders(r)) if (p.inUse && p.endpoint === e) holds.set(p, (holds.get(p) ?? 0) + 1);
  }
  // Every slot: a free one holds nothing (exit and a slot's reuse zero the count) and no request counts it.
  for (const p of k.procs) {
    const want = holds.get(p) ?? 0;
    check(p.vmHolds === want, 'VMREQ_HOLDS', () => `${p.name} has ${p.vmHolds} VMREQTARGET holds, ${want} requests name it`);
  }
}
