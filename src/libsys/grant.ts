// Models the grant library and the grant kernel-call wrappers (lib/syslib/safecopies.c, sys_safecopy.c,
// sys_setgrant.c, sys_safemap.c): a process keeps its grant table in its own memory, grows it 2, 6, 14, 30, ...
// up to 2^20 entries and registers it with sys_setgrant (spec/grants.md §3.4). Entry points: cpfGrantDirect,
// cpfGrantIndirect, cpfGrantMagic, cpfRevoke, cpfLookup, cpfGetgrants, cpfSetgrant*, cpfReload, cpfSetAllocator,
// the sys* wrappers, and cpfApi/sysGrantApi (what Proc exposes as p.cpf and p.sys).
// Results: a grant id comes back as GrantResult ({ id, errno: OK } or { id: -1, errno }); the other calls return
// OK or a negative errno (the C library's 0 / -1 with errno, folded into one value).
// DIVERGES: the first free slot is searched from a remembered lower bound rather than from slot 0 (the table
// must be changed only through this library); table storage comes from an allocator (mmap through VM by default).
import {
  SYS_SAFECOPYFROM,
  SYS_SAFECOPYTO,
  SYS_SAFEMAP,
  SYS_SAFEREVMAP,
  SYS_SAFEUNMAP,
  SYS_SETGRANT,
  SYS_VSAFECOPY,
} from '../include/com.ts';
import { EINVAL, ENOMEM, ENOSPC, OK } from '../include/errno.ts';
import { SELF } from '../include/endpoint.ts';
import type { Endpoint } from '../include/endpoint.ts';
import type { Payload } from '../include/ipc.ts';
import {
  CPF_ACCESS_MASK,
  CPF_DIRECT,
  CPF_INDIRECT,
  CPF_MAGIC,
  CPF_MAP,
  CPF_USED,
  CPF_VALID,
  GRANT_ENTRY_BYTES,
  GRANT_INVALID,
  GRANT_MAX_ENTRIES,
  GRANT_OFF,
  GRANT_SEQ_MODULUS,
  NR_STATIC_GRANTS,
  decodeGrantEntry,
  encodeGrantEntry,
  grantIdSeq,
  grantIdSlot,
  isGrantIdValid,
  makeGrantId,
} from '../include/safecopies.ts';
import type { GrantEntry, GrantId, GrantIdScheme } from '../include/safecopies.ts';
import { MAP_ANON, MAP_PRIVATE } from '../include/vm.ts';
import { ADDRESS_SPACE_BYTES, isPageAligned, roundUpPage } from '../lib/units.ts';
import type { Proc } from './proc.ts';
import { vmMmap, vmMunmap } from './vm.ts';

/** A new grant's id, or GRANT_INVALID (-1) with the reason in errno (a negative E* constant). */
export type GrantResult =
  | {
      /** The new grant's id, to pass to the grantee (generational: slot and sequence number, grants.md §3.3). */
      readonly id: GrantId;
      /** OK: the grant was made. */
      readonly errno: typeof OK;
    }
  | {
      /** GRANT_INVALID: no grant was made. */
      readonly id: typeof GRANT_INVALID;
      /** Why: EINVAL (access bits other than CPF_READ/WRITE/MAP, a range outside 32 bits, or CPF_MAP on an unaligned range), or ENOSPC (no free slot and the table could not grow). */
      readonly errno: number;
    };

/** cpf_lookup's answer: the grant's (from, to), or the error. */
export type LookupResult =
  | {
      /** OK: the grant is in use and direct or magic. */
      readonly result: typeof OK;
      /** Whose memory it grants: SELF for a direct grant, the memory owner for a magic one. */
      readonly from: Endpoint;
      /** Who may use it (ANY: anyone). */
      readonly to: Endpoint;
    }
  | {
      /** EINVAL: the id is not a grant in use of this process, or the grant is indirect or disabled. */
      readonly result: number;
    };

/** Where the library gets table storage in the process's own memory. */
export interface GrantTableAllocator {
  /** The address of `bytes` bytes the process may read and write, or a negative errno. */
  allocate(p: Proc, bytes: number): Promise<number>;
  release(p: Proc, addr: number, bytes: number): Promise<void>;
}

/** Default storage: anonymous private mmap through VM (needs a process with a page table). */
export const mmapGrantAllocator: GrantTableAllocator = {
  allocate: (p, bytes) => vmMmap(p, 0, roundUpPage(bytes), MAP_ANON | MAP_PRIVATE),
  release: async (p, addr, bytes) => {
    await vmMunmap(p, addr, roundUpPage(bytes));
  },
};

/**
 * Storage inside a fixed range of the process's memory, first fit: for processes without a page table
 * (identity extents) and for tests. Not shared between processes.
 */
export function extentGrantAllocator(base: number, length: number): GrantTableAllocator {
  const free: { addr: number; bytes: number }[] = [{ addr: base, bytes: length }];
  return {
    allocate: (_p, bytes) => {
      const i = free.findIndex((f) => f.bytes >= bytes);
      const f = free[i];
      if (f === undefined) return Promise.resolve(ENOMEM);
      const addr = f.addr;
      if (f.bytes === bytes) free.splice(i, 1);
      else free[i] = { addr: f.addr + bytes, bytes: f.bytes - bytes };
      return Promise.resolve(addr);
    },
    release: (_p, addr, bytes) => {
      free.push({ addr, bytes });
      free.sort((a, b) => a.addr - b.addr);
      // Stryker disable next-line ArithmeticOperator: free[length] is undefined, and the merge skips it
      for (let i = free.length - 1; i > 0; i--) {
        const a = free[i - 1];
        const b = free[i];
        if (a !== undefined && b !== undefined && a.addr + a.bytes === b.addr) {
          free.splice(i - 1, 2, { addr: a.addr, bytes: a.bytes + b.bytes });
        }
      }
      return Promise.resolve();
    },
  };
}

/** The library's per-process state (reset by exec, empty in a forked child). */
interface CpfState {
  /** Table address in the process's memory; meaningful once ngrants > 0. */
  addr: number;
  ngrants: number;
  /** Every slot below this one is USED: the search for a free slot starts here. */
  freeHint: number;
  allocator: GrantTableAllocator;
}

const cpfState = (p: Proc): CpfState =>
  // Stryker disable next-line StringLiteral: any key other than the other libraries' ('ds', 'rs') names the same state
  p.state<CpfState>('cpf', () => ({ addr: 0, ngrants: 0, freeHint: 0, allocator: mmapGrantAllocator }));
const scheme = (p: Proc): GrantIdScheme => p.kernel.config.grantIds;
const entryAddr = (st: CpfState, slot: number): number => st.addr + slot * GRANT_ENTRY_BYTES;
const invalid = (errno: number): GrantResult => ({ id: GRANT_INVALID, errno });

/** Chooses where later table growth takes storage from; call before the first grant. */
export function cpfSetAllocator(p: Proc, allocator: GrantTableAllocator): void {
  cpfState(p).allocator = allocator;
}

/** The registered table, for inspection: address and entry count (0 before the first grant). */
export function cpfTable(p: Proc): { addr: number; entries: number } {
  const st = cpfState(p);
  return { addr: st.addr, entries: st.ngrants };
}

// ---------------------------------------------------------------- table growth and slots

/** Grows the table (2, then (n+1)·2, capped at 2^20): new storage, entries copied, new ones cleared, registered. */
async function growTable(p: Proc, st: CpfState): Promise<boolean> {
  const n = st.ngrants === 0 ? NR_STATIC_GRANTS : Math.min((st.ngrants + 1) * 2, GRANT_MAX_ENTRIES);
  if (n <= st.ngrants) return false;
  const bytes = n * GRANT_ENTRY_BYTES;
  const addr = await st.allocator.allocate(p, bytes);
  if (addr < 0) return false;
  const table = new Uint8Array(bytes);
  if (st.ngrants > 0) await p.readInto(st.addr, table, 0, st.ngrants * GRANT_ENTRY_BYTES);
  await p.write(addr, table);
  if ((await sysSetgrant(p, addr, n)) !== OK) {
    await st.allocator.release(p, addr, bytes);
    return false;
  }
  if (st.ngrants > 0) await st.allocator.release(p, st.addr, st.ngrants * GRANT_ENTRY_BYTES);
  st.addr = addr;
  st.ngrants = n;
  return true;
}

/** cpf_new_grantslot: the lowest slot without CPF_USED (growing the table if none), or -1. Marks nothing. */
async function newSlot(p: Proc, st: CpfState): Promise<number> {
  for (;;) {
    for (let i = st.freeHint; i < st.ngrants; i++) {
      // Stryker disable next-line ArithmeticOperator: GRANT_OFF.flags is 0: the flags word is at the entry's address either way
      if (((await p.readU32(entryAddr(st, i) + GRANT_OFF.flags)) & CPF_USED) === 0) {
        st.freeHint = i;
        return i;
      }
    }
    st.freeHint = st.ngrants;
    if (!(await growTable(p, st))) return -1;
  }
}

const readEntry = async (p: Proc, st: CpfState, slot: number): Promise<GrantEntry> =>
  decodeGrantEntry(await p.read(entryAddr(st, slot), GRANT_ENTRY_BYTES));

/** GID_CHECK: the slot of a well-formed id of this table (generational: its seq matches the entry), or -1. */
async function checkedSlot(p: Proc, st: CpfState, g: number): Promise<{ slot: number; entry: GrantEntry } | null> {
  if (!isGrantIdValid(g)) return null;
  const s = scheme(p);
  const slot = grantIdSlot(s, g);
  if (slot >= st.ngrants) return null;
  const entry = await readEntry(p, st, slot);
  if (s === 'generational' && entry.seq !== grantIdSeq(s, g)) return null;
  return { slot, entry };
}

/** The access check of direct and magic grants: only READ|WRITE|MAP; a MAP grant covers whole pages. */
function accessOk(addr: number, len: number, access: number): boolean {
  if (!Number.isInteger(access) || (access & ~CPF_ACCESS_MASK) !== 0) return false;
  const u32 = (v: number): boolean => Number.isInteger(v) && v >= 0 && v < ADDRESS_SPACE_BYTES;
  if (!u32(addr) || !u32(len)) return false;
  return (access & CPF_MAP) === 0 || (isPageAligned(addr) && isPageAligned(len));
}

/** A new grant: validate, take the lowest free slot, fill it in (keeping the slot's seq), return its id. */
async function newGrant(p: Proc, fill: (seq: number) => GrantEntry): Promise<GrantResult> {
  const st = cpfState(p);
  const slot = await newSlot(p, st);
  if (slot < 0) return invalid(ENOSPC);
  const seq = scheme(p) === 'legacy' ? 0 : (await readEntry(p, st, slot)).seq;
  await p.write(entryAddr(st, slot), encodeGrantEntry(fill(seq)));
  return { id: makeGrantId(scheme(p), slot, seq), errno: OK };
}

// ---------------------------------------------------------------- cpf_*

/** cpf_grant_direct: `to` (or ANY) may access [addr, addr+len) of this process with `access`. */
export function cpfGrantDirect(p: Proc, to: number, addr: number, len: number, access: number): Promise<GrantResult> {
  if (!accessOk(addr, len, access)) return Promise.resolve(invalid(EINVAL));
  const flags = access | CPF_DIRECT | CPF_USED | CPF_VALID;
  return newGrant(p, (seq) => ({ kind: 'direct', flags, seq, whoTo: to as Endpoint, start: addr, len }));
}

/** cpf_grant_indirect: `to` may use grant `hisGid` that `from` gave this process. */
export function cpfGrantIndirect(p: Proc, to: number, from: number, hisGid: number): Promise<GrantResult> {
  const flags = CPF_USED | CPF_INDIRECT | CPF_VALID;
  return newGrant(p, (seq) => ({ kind: 'indirect', flags, seq, whoTo: to as Endpoint, whoFrom: from as Endpoint, grant: hisGid }));
}

/** cpf_grant_magic: `to` may access [addr, addr+len) of `from` (honoured only in VFS's table). */
export function cpfGrantMagic(p: Proc, to: number, from: number, addr: number, len: number, access: number): Promise<GrantResult> {
  if (!accessOk(addr, len, access)) return Promise.resolve(invalid(EINVAL));
  const flags = access | CPF_MAGIC | CPF_USED | CPF_VALID;
  return newGrant(p, (seq) => ({ kind: 'magic', flags, seq, whoFrom: from as Endpoint, whoTo: to as Endpoint, start: addr, len }));
}

/**
 * cpf_revoke: the slot is freed and (generational) its seq advanced, so the old id fails from now on. A CPF_MAP
 * grant first breaks its mappings (saferevmap_gid); if that fails the grant stays valid and its error is returned.
 */
export async function cpfRevoke(p: Proc, g: number): Promise<number> {
  const st = cpfState(p);
  const c = await checkedSlot(p, st, g);
  if (c === null || (c.entry.flags & CPF_USED) === 0) return EINVAL;
  if ((c.entry.flags & CPF_MAP) !== 0) {
    const r = await sysSaferevmapGid(p, g);
    if (r !== OK) return r;
  }
  const seq = scheme(p) === 'legacy' ? 0 : (c.entry.seq + 1) % GRANT_SEQ_MODULUS;
  await p.write(entryAddr(st, c.slot), encodeGrantEntry({ kind: 'none', flags: 0, seq }));
  st.freeHint = Math.min(st.freeHint, c.slot);
  return OK;
}

/** cpf_lookup: direct → (SELF, who_to); magic → (who_from, who_to); indirect or unused → EINVAL. */
export async function cpfLookup(p: Proc, g: number): Promise<LookupResult> {
  const c = await checkedSlot(p, cpfState(p), g);
  if (c === null || (c.entry.flags & CPF_USED) === 0) return { result: EINVAL };
  const e = c.entry;
  if (e.kind === 'direct') return { result: OK, from: SELF, to: e.whoTo };
  if (e.kind === 'magic') return { result: OK, from: e.whoFrom, to: e.whoTo };
  return { result: EINVAL };
}

/**
 * cpf_getgrants: reserves up to n slots (USED, not VALID) and returns their ids.
 * @deprecated pre-allocated ids keep their value while their content changes: no stale-id protection.
 */
export async function cpfGetgrants(p: Proc, n: number): Promise<GrantId[]> {
  const st = cpfState(p);
  const ids: GrantId[] = [];
  while (ids.length < n) {
    const slot = await newSlot(p, st);
    if (slot < 0) break;
    const seq = scheme(p) === 'legacy' ? 0 : (await readEntry(p, st, slot)).seq;
    // Stryker disable next-line ArithmeticOperator: GRANT_OFF.flags is 0: the flags word is at the entry's address either way
    await p.writeU32(entryAddr(st, slot) + GRANT_OFF.flags, CPF_USED);
    ids.push(makeGrantId(scheme(p), slot, seq));
  }
  return ids;
}

/** Overwrites slot g in place (id check only, USED not required); the slot's seq is kept. */
async function setgrant(p: Proc, g: number, fill: (seq: number) => GrantEntry): Promise<number> {
  const st = cpfState(p);
  const c = await checkedSlot(p, st, g);
  if (c === null) return EINVAL;
  await p.write(entryAddr(st, c.slot), encodeGrantEntry(fill(c.entry.seq)));
  return OK;
}

/** @deprecated see cpfGetgrants. */
export function cpfSetgrantDirect(p: Proc, g: number, to: number, addr: number, len: number, access: number): Promise<number> {
  if (!accessOk(addr, len, access)) return Promise.resolve(EINVAL);
  const flags = access | CPF_DIRECT | CPF_USED | CPF_VALID;
  return setgrant(p, g, (seq) => ({ kind: 'direct', flags, seq, whoTo: to as Endpoint, start: addr, len }));
}

/** @deprecated see cpfGetgrants. */
export function cpfSetgrantIndirect(p: Proc, g: number, to: number, from: number, hisGid: number): Promise<number> {
  const flags = CPF_USED | CPF_INDIRECT | CPF_VALID;
  return setgrant(p, g, (seq) => ({ kind: 'indirect', flags, seq, whoTo: to as Endpoint, whoFrom: from as Endpoint, grant: hisGid }));
}

/** @deprecated see cpfGetgrants. */
export function cpfSetgrantMagic(p: Proc, g: number, to: number, from: number, addr: number, len: number, access: number): Promise<number> {
  if (!accessOk(addr, len, access)) return Promise.resolve(EINVAL);
  const flags = access | CPF_MAGIC | CPF_USED | CPF_VALID;
  return setgrant(p, g, (seq) => ({ kind: 'magic', flags, seq, whoFrom: from as Endpoint, whoTo: to as Endpoint, start: addr, len }));
}

/** cpf_setgrant_disable: the slot stays reserved (USED) but unusable; existing mappings are not touched. */
export async function cpfSetgrantDisable(p: Proc, g: number): Promise<number> {
  const st = cpfState(p);
  const c = await checkedSlot(p, st, g);
  if (c === null) return EINVAL;
  // Stryker disable next-line ArithmeticOperator: GRANT_OFF.flags is 0: the flags word is at the entry's address either way
  await p.writeU32(entryAddr(st, c.slot) + GRANT_OFF.flags, CPF_USED);
  return OK;
}

/** cpf_reload: registers the current table again (after the kernel forgot it); OK when there is none. */
export async function cpfReload(p: Proc): Promise<number> {
  const st = cpfState(p);
  return st.ngrants === 0 ? OK : sysSetgrant(p, st.addr, st.ngrants);
}

// ---------------------------------------------------------------- sys_* wrappers

/**
 * A kernel call's result: the kernel's own promise of it, no reply message and no async-function layer of its
 * own (the wrappers below are on every safecopy's path). A synchronous throw becomes a rejection, as from an
 * async function.
 */
function kcall(p: Proc, m: Payload): Promise<number> {
  try {
    return p.kernelCallResult(m);
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}

/** sys_safecopyfrom: `bytes` at offset gOff of granter's grant gid → myAddr here. */
export const sysSafecopyFrom = (p: Proc, granter: number, gid: number, gOff: number, myAddr: number, bytes: number): Promise<number> =>
  kcall(p, { type: SYS_SAFECOPYFROM, granter, gid, offset: gOff, address: myAddr, bytes });

/** sys_safecopyto: `bytes` at myAddr here → offset gOff of granter's grant gid. */
export const sysSafecopyTo = (p: Proc, granter: number, gid: number, gOff: number, myAddr: number, bytes: number): Promise<number> =>
  kcall(p, { type: SYS_SAFECOPYTO, granter, gid, offset: gOff, address: myAddr, bytes });

/** sys_vsafecopy: `count` 24-byte elements at vecAddr (see encodeScpVector). */
export const sysVsafecopy = (p: Proc, vecAddr: number, count: number): Promise<number> =>
  kcall(p, { type: SYS_VSAFECOPY, vecAddr, count });

export const sysSetgrant = (p: Proc, addr: number, size: number): Promise<number> => kcall(p, { type: SYS_SETGRANT, addr, size });

/** sys_safemap: map `bytes` at offset gOff of granter's grant gid at myAddr here (page-aligned, page multiple). */
export const sysSafemap = (p: Proc, granter: number, gid: number, gOff: number, myAddr: number, bytes: number, writable: boolean): Promise<number> =>
  kcall(p, { type: SYS_SAFEMAP, granter, gid, offset: gOff, address: myAddr, bytes, writable: writable ? 1 : 0 });

/** sys_saferevmap_gid: break every mapping made through this process's grant gid. */
export const sysSaferevmapGid = (p: Proc, gid: number): Promise<number> => kcall(p, { type: SYS_SAFEREVMAP, flag: 1, gid });

/** sys_saferevmap_addr: break every mapping of this process's memory starting at addr. */
export const sysSaferevmapAddr = (p: Proc, addr: number): Promise<number> => kcall(p, { type: SYS_SAFEREVMAP, flag: 0, addr });

/** sys_safeunmap: undo this process's mappings at myAddr. */
export const sysSafeunmap = (p: Proc, myAddr: number): Promise<number> => kcall(p, { type: SYS_SAFEUNMAP, address: myAddr });

// ---------------------------------------------------------------- p.cpf and p.sys

/** The cpf_* library bound to one process: `p.cpf.grantDirect(...)` is `cpfGrantDirect(p, ...)`. */
export interface CpfApi {
  /** cpf_grant_direct: let `to` access `[addr, addr+len)` of this process with `access` (CPF_READ, CPF_WRITE, CPF_MAP). */
  grantDirect(to: number, addr: number, len: number, access: number): Promise<GrantResult>;
  /** cpf_grant_indirect: pass on to `to` the access that grant `hisGid` of `from` gives this process. */
  grantIndirect(to: number, from: number, hisGid: number): Promise<GrantResult>;
  /** cpf_grant_magic (system processes): let `to` access `[addr, addr+len)` of process `from`. */
  grantMagic(to: number, from: number, addr: number, len: number, access: number): Promise<GrantResult>;
  /** cpf_revoke: the grant is invalid from now on (its slot may be reused); OK, or EINVAL for an id not in use. */
  revoke(g: number): Promise<number>;
  /** cpf_lookup: who a valid grant of this process is from and to. */
  lookup(g: number): Promise<LookupResult>;
  /** @deprecated */
  getgrants(n: number): Promise<GrantId[]>;
  /** @deprecated */
  setgrantDirect(g: number, to: number, addr: number, len: number, access: number): Promise<number>;
  /** @deprecated */
  setgrantIndirect(g: number, to: number, from: number, hisGid: number): Promise<number>;
  /** @deprecated */
  setgrantMagic(g: number, to: number, from: number, addr: number, len: number, access: number): Promise<number>;
  /** cpf_setgrant_disable: the entry stays reserved but grants nothing. */
  setgrantDisable(g: number): Promise<number>;
  /** cpf_reload: tell the kernel again where this process's grant table is (sys_setgrant). */
  reload(): Promise<number>;
  /** Where the grant library gets memory for a growing table (by default mmap). */
  setAllocator(a: GrantTableAllocator): void;
  /** The grant table's address and number of entries (0 entries before the first grant). */
  table(): {
    /** Virtual address of the table in this process's memory. */
    addr: number;
    /** Number of entries (36 bytes each); the table grows 2, 6, 14, 30, ... (grants.md §3.4). */
    entries: number;
  };
}

/** The grant kernel calls bound to one process: `p.sys.safecopyFrom(...)` is `sysSafecopyFrom(p, ...)`. */
export interface SysGrantApi {
  /** sys_safecopyfrom: copy `bytes` at offset `gOff` of grant `gid` of `granter` to `myAddr`; OK or an errno (EPERM, EINVAL, EFAULT, ...). */
  safecopyFrom(granter: number, gid: number, gOff: number, myAddr: number, bytes: number): Promise<number>;
  /** sys_safecopyto: copy `bytes` at `myAddr` into offset `gOff` of grant `gid` of `granter`; OK or an errno. */
  safecopyTo(granter: number, gid: number, gOff: number, myAddr: number, bytes: number): Promise<number>;
  /** sys_vsafecopy: `count` copies described by a vector at `vecAddr`, in order, stopping at the first error. */
  vsafecopy(vecAddr: number, count: number): Promise<number>;
  /** sys_setgrant: this process's grant table is `size` entries at `addr`. */
  setgrant(addr: number, size: number): Promise<number>;
  /** sys_safemap: map the granted pages at `myAddr` instead of copying them (page-aligned; CPF_MAP needed). */
  safemap(granter: number, gid: number, gOff: number, myAddr: number, bytes: number, writable: boolean): Promise<number>;
  /** sys_saferevmap by grant: the granter takes back every mapping made through its grant `gid`. */
  saferevmapGid(gid: number): Promise<number>;
  /** sys_saferevmap by address: the granter takes back the mappings of its memory at `addr`. */
  saferevmapAddr(addr: number): Promise<number>;
  /** sys_safeunmap: the grantee drops its mapping at `myAddr`. */
  safeunmap(myAddr: number): Promise<number>;
}

/** A new cpf_* binding for p; Proc makes it once and keeps it (no per-call lookup). */
export function cpfApi(p: Proc): CpfApi {
  /* eslint-disable @typescript-eslint/no-deprecated -- the binding exposes the deprecated calls as deprecated */
  return {
    grantDirect: (to, addr, len, access) => cpfGrantDirect(p, to, addr, len, access),
    grantIndirect: (to, from, hisGid) => cpfGrantIndirect(p, to, from, hisGid),
    grantMagic: (to, from, addr, len, access) => cpfGrantMagic(p, to, from, addr, len, access),
    revoke: (g) => cpfRevoke(p, g),
    lookup: (g) => cpfLookup(p, g),
    getgrants: (n) => cpfGetgrants(p, n),
    setgrantDirect: (g, to, addr, len, access) => cpfSetgrantDirect(p, g, to, addr, len, access),
    setgrantIndirect: (g, to, from, hisGid) => cpfSetgrantIndirect(p, g, to, from, hisGid),
    setgrantMagic: (g, to, from, addr, len, access) => cpfSetgrantMagic(p, g, to, from, addr, len, access),
    setgrantDisable: (g) => cpfSetgrantDisable(p, g),
    reload: () => cpfReload(p),
    setAllocator: (a) => {
      cpfSetAllocator(p, a);
    },
    table: () => cpfTable(p),
  };
  /* eslint-enable @typescript-eslint/no-deprecated */
}

/** A new sys_* binding for p; Proc makes it once and keeps it (no per-call lookup). */
export function sysGrantApi(p: Proc): SysGrantApi {
  return {
    safecopyFrom: (granter, gid, gOff, myAddr, bytes) => sysSafecopyFrom(p, granter, gid, gOff, myAddr, bytes),
    safecopyTo: (granter, gid, gOff, myAddr, bytes) => sysSafecopyTo(p, granter, gid, gOff, myAddr, bytes),
    vsafecopy: (vecAddr, count) => sysVsafecopy(p, vecAddr, count),
    setgrant: (addr, size) => sysSetgrant(p, addr, size),
    safemap: (granter, gid, gOff, myAddr, bytes, writable) => sysSafemap(p, granter, gid, gOff, myAddr, bytes, writable),
    saferevmapGid: (gid) => sysSaferevmapGid(p, gid),
    saferevmapAddr: (addr) => sysSaferevmapAddr(p, addr),
    safeunmap: (myAddr) => sysSafeunmap(p, myAddr),
  };
}
