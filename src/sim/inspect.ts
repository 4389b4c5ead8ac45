// Inspection in the spirit of MINIX's IS server: a plain, serialisable snapshot of the process table,
// privileges, memory (regions with their page-table occupancy, the physical frame map), grants, safemap
// records, DS and statistics. Entry points: snapshot, Snapshot, ProcInfo, Statistics.
import { timeReport } from './cost.ts';
import type { TimeReport } from './cost.ts';
import { kernelCallNames, KERNEL_CALL } from '../include/com.ts';
import { endpointSlot } from '../include/endpoint.ts';
import { flagNames } from '../servers/vm/state.ts';
import type { RefView } from '../servers/vm/state.ts';
import { CPF_MAP, CPF_READ, CPF_USED, CPF_VALID, CPF_WRITE, makeGrantId } from '../include/safecopies.ts';
import { readGrantEntry, usableGrantTable } from '../kernel/grant.ts';
import { safemapRecords } from '../kernel/system/do_safemap.ts';
import type { MapRecord } from '../kernel/system/do_safemap.ts';
import { rtsString } from '../kernel/proc.ts';
import type { KProc } from '../kernel/proc.ts';
import type { KernelCounts } from '../kernel/kernel.ts';
import type { FrameRun } from '../servers/vm/state.ts';
import type { System } from './system.ts';

/** One live process of the kernel's process table, with its privileges (a row of `grantvm inspect`). */
export interface ProcInfo {
  /** Index in the process table. */
  slot: number;
  /** Current endpoint (slot and generation combined, see {@link endpointSlot}). */
  endpoint: number;
  /** The slot's generation: one more than its previous occupant's (boot processes: 0), so a dead process's endpoint stays dead. */
  generation: number;
  /** Process name (program or service label). */
  name: string;
  /** Why it cannot run: its RTS flags joined by '|' (e.g. RECEIVING, VMREQUEST, PAGEFAULT), or 'RUNNABLE'. */
  state: string;
  /** Scheduling queue, 0 (highest) to 15. */
  priority: number;
  /** Has a system privilege structure of its own (a server or driver), not the shared user one. */
  system: boolean;
  /** Whom it may send to: 'all', 'system', or the allowed slots joined by ','. */
  ipcTo: string;
  /** Names of the kernel calls it may make (e.g. SYS_SAFECOPYFROM). */
  kernelCalls: string[];
  /** Physical frame number of its page directory, or null while it has no page table. */
  pageDirectory: number | null;
  /** The grant table it registered with sys_setgrant (grants.md §3.1), or null if none. */
  grantTable: {
    /** Virtual address of the table in the process's memory. */
    addr: number;
    /** Number of entries (36 bytes each). */
    entries: number;
  } | null;
  /** Endpoints whose notifications are pending, not yet received. */
  pendingNotifications: number[];
  /** Kernel memory requests naming this process that VM has not yet answered (vm.md §7); VM may rewrite its page table meanwhile. */
  vmHolds: number;
}

/** Who holds physical memory: per process, pages referenced privately, COW-shared, safemap-shared, device. */
export interface FrameUse {
  /** Process table slot. */
  slot: number;
  /** The process's endpoint. */
  endpoint: number;
  /** The process's name. */
  name: string;
  /** Pages it alone references (refcount 1). */
  privatePages: number;
  /** Pages copy-on-write shared with other processes (refcount > 1, not safemap). */
  cowSharedPages: number;
  /** Pages shared through safemap (grants.md §6). */
  smapPages: number;
  /** Pages of device (DIRECT) regions: physical memory mapped with VM_MAP_PHYS, never allocated or freed by VM. */
  directPages: number;
}

/** One used entry of a process's grant table, read from its memory as the kernel would. */
export interface GrantInfo {
  /** Endpoint of the process whose grant table holds the entry. */
  owner: number;
  /** Name of that process. */
  ownerName: string;
  /** The grant id, as passed to safecopy and safemap (slot and sequence number, grants.md §3.3). */
  id: number;
  /** 'direct', 'magic' or 'indirect' (grants.md §3.2), or 'none' when no kind flag is set (e.g. a reserved entry). */
  kind: string;
  /** R, W, M for the access bits; '!' when the entry is not VALID (reserved or disabled). */
  access: string;
  /** Endpoint the grant is for (ANY: anyone); -1 for kind 'none'. */
  to: number;
  /** direct/magic: [start, start+len) in the memory owner; indirect: the (from, grant) it points at. */
  range: string;
  /** direct/magic: the first granted byte in the memory owner's address space. */
  start?: number;
  /** direct/magic: the number of granted bytes. */
  len?: number;
  /** magic: the memory owner; indirect: the granter of the grant it points at. */
  from?: number;
  /** indirect: the id of the grant it points at. */
  grant?: number;
}

/** What the system has done so far: kernel entries, IPC, kernel calls, faults, copies, COW breaks. */
export interface Statistics extends KernelCounts {
  /** Kernel steps (kernel entries) so far. */
  steps: number;
  /** Times VM gave a process a private copy of a shared block (a copy-on-write break, or a safemap snapshot). */
  cowBreaks: number;
  /** Pages VM copied for those private copies. */
  cowPagesCopied: number;
  /** Processes that have exited (as PM reported them to the system). */
  exits: number;
}

/** The whole system at one moment (System.inspect, `grantvm inspect --json`). */
export interface Snapshot {
  /** Kernel step it was taken at. */
  step: number;
  /** The alarm clock (ms) when it was taken: advances only while every process waits for an alarm. */
  now: number;
  /** Simulated time under the cost profile: in total, in the kernel, per process and per cost kind. */
  time: TimeReport;
  /** The process table and privileges. */
  processes: ProcInfo[];
  /** VM's view: memory counts, free ranges, each process's regions with page-table occupancy. */
  vm: ReturnType<System['vm']['snapshot']>;
  /** Per process, the pages it holds by kind of sharing. */
  frames: FrameUse[];
  /** Every physical frame, in runs (one per block of process memory). */
  frameMap: FrameRun[];
  /** Counters of what the system has done so far. */
  stats: Statistics;
  /** Used grant entries of every grant table (at most 64 per table). */
  grants: GrantInfo[];
  /** The kernel's safemap records. */
  mappings: Readonly<MapRecord>[];
  /** DS's entries and subscriptions. */
  ds: {
    /** DS's published entries (key, owner, type, value). */
    entries: ReturnType<System['ds']['entries']>;
    /** DS's subscriptions (subscriber, key pattern). */
    subscriptions: ReturnType<System['ds']['subscriptions']>;
  };
}

/** At most this many used entries are listed per table (tables grow to 2^20 entries). */
const GRANTS_PER_TABLE = 64;
const hexAddr = (n: number): string => `0x${(n >>> 0).toString(16)}`;

function accessOf(flags: number): string {
  let a = '';
  if ((flags & CPF_READ) !== 0) a += 'R';
  if ((flags & CPF_WRITE) !== 0) a += 'W';
  if ((flags & CPF_MAP) !== 0) a += 'M';
  return (flags & CPF_VALID) === 0 ? `${a}!` : a;
}

function grantInfo(sys: System): GrantInfo[] {
  const k = sys.kernel;
  const out: GrantInfo[] = [];
  for (const p of k.procs) {
    const table = p.inUse ? usableGrantTable(p) : null;
    if (table === null) continue;
    let listed = 0;
    for (let slot = 0; slot < table.entries && listed < GRANTS_PER_TABLE; slot++) {
      const e = readGrantEntry(k, p, table, slot);
      if (e === null || (e.flags & CPF_USED) === 0) continue;
      listed++;
      const base = { owner: p.endpoint, ownerName: p.name, id: makeGrantId(k.config.grantIds, slot, e.seq), kind: e.kind, access: accessOf(e.flags) };
      if (e.kind === 'direct') out.push({ ...base, to: e.whoTo, range: `${hexAddr(e.start)}+${e.len}`, start: e.start, len: e.len });
      else if (e.kind === 'magic') out.push({ ...base, to: e.whoTo, range: `${e.whoFrom}:${hexAddr(e.start)}+${e.len}`, from: e.whoFrom, start: e.start, len: e.len });
      else if (e.kind === 'indirect') out.push({ ...base, to: e.whoTo, range: `→ ${e.whoFrom} grant ${e.grant}`, from: e.whoFrom, grant: e.grant });
      else out.push({ ...base, to: -1, range: '-' });
    }
  }
  return out;
}

const VR_DIRECT = 0x200;

function frameUse(sys: System): FrameUse[] {
  const out: FrameUse[] = [];
  for (const v of sys.vm.processes()) {
    const u: FrameUse = { slot: v.slot, endpoint: v.endpoint, name: sys.kernel.procAt(v.slot).name, privatePages: 0, cowSharedPages: 0, smapPages: 0, directPages: 0 };
    for (const r of v.regions) {
      for (const b of r.refs) {
        const pages = b.length / 4096;
        if ((r.flags & VR_DIRECT) !== 0) u.directPages += pages;
        else if (b.mode === 'smap') u.smapPages += pages;
        else if (b.refcount > 1) u.cowSharedPages += pages;
        else u.privatePages += pages;
      }
    }
    out.push(u);
  }
  return out;
}

function procInfo(p: KProc): ProcInfo {
  const spec = p.priv.spec;
  const calls: string[] = [];
  p.priv.kcallMask.forEach((bit, n) => {
    if (bit === 1) calls.push(kernelCallNames[KERNEL_CALL + n] ?? `#${n}`);
  });
  return {
    slot: p.slot,
    endpoint: p.endpoint,
    generation: p.generation,
    name: p.name,
    state: rtsString(p.rts),
    priority: p.priority,
    system: p.priv.system,
    ipcTo: typeof spec.ipcTo === 'string' ? spec.ipcTo : spec.ipcTo.join(','),
    kernelCalls: calls,
    pageDirectory: p.dirFrame >= 0 ? p.dirFrame : null,
    grantTable: p.priv.grantTable === null ? null : { addr: p.priv.grantTable.addr, entries: p.priv.grantTable.entries },
    pendingNotifications: [...p.notifyFrom],
    vmHolds: p.vmHolds,
  };
}

/** Takes a {@link Snapshot} of `sys` (what {@link System.inspect} returns); reads state only, changes nothing. */
export function snapshot(sys: System): Snapshot {
  const k = sys.kernel;
  return {
    step: k.step,
    now: k.now,
    time: timeReport(sys),
    processes: k.procs.filter((p) => p.inUse).map(procInfo),
    vm: sys.vm.snapshot(),
    frames: frameUse(sys),
    frameMap: sys.vm.frameMap(),
    stats: { steps: k.step, ...k.counts, ...sys.vm.counts, exits: sys.exits.length },
    grants: grantInfo(sys),
    mappings: [...safemapRecords(k)],
    ds: { entries: sys.ds.entries(), subscriptions: sys.ds.subscriptions() },
  };
}

// ---------------------------------------------------------------- compact views for the browser view
// A code per physical frame (frameMap, FRAME), each address space as runs of page kinds (addressSpaces,
// pageChar), and every mapping of one frame (frameMappings).

const PAGE = 4096;

/** A page's character in a memory picture: '.' absent, 'S' safemap shared, 'C' COW shared, 'w'/'r' private. */
export function pageChar(ref: RefView | null, pte: number): string {
  if (ref === null) return '.';
  if (ref.mode === 'smap') return 'S';
  if (ref.refcount > 1) return 'C';
  return (pte & 0x2) !== 0 ? 'w' : 'r';
}

/**
 * Frame codes: bits 0-3 the kind, bits 4-11 the refcount (capped at 255), bits 12-23 the owner's slot + 1
 * (0: no process; the owner is the lowest slot referencing the frame). Device (DIRECT) mappings own no RAM and
 * have no code: the address spaces show them.
 */
export const FRAME = { FREE: 0, RESERVED: 1, INTERNAL: 2, PRIVATE: 3, COW: 4, SMAP: 5 } as const;
export const FRAME_KIND_NAMES = ['free', 'reserved (kernel, boot images)', 'VM internal (page tables, slab)', 'private', 'COW shared', 'safemap shared'] as const;

export const frameKind = (code: number): number => code & 0xf;
export const frameRefcount = (code: number): number => (code >>> 4) & 0xff;
/** The owner's slot, or -1. */
export const frameOwnerSlot = (code: number): number => ((code >>> 12) & 0xfff) - 1;

/** VM's frame map (VmState.frameMap; a snapshot's `frameMap` saves walking it again) as one code per physical page of RAM (see FRAME). */
export function frameMap(sys: System, runs: readonly FrameRun[] = sys.vm.frameMap()): Uint32Array {
  const codes = new Uint32Array(sys.vm.totalPages);
  for (const { frame, frames, info } of runs) {
    let code: number;
    if (info.use === 'free') code = FRAME.FREE;
    else if (info.use === 'reserved') code = FRAME.RESERVED;
    else if (info.use === 'vm') code = FRAME.INTERNAL;
    else {
      // safemap sharing shows over COW sharing over private use
      const kind = info.smap ? FRAME.SMAP : info.cow ? FRAME.COW : FRAME.PRIVATE;
      const slot = Math.min(...info.refs.map((r) => endpointSlot(r.endpoint)));
      code = kind | (Math.min(info.refcount, 255) << 4) | ((slot + 1) << 12);
    }
    codes.fill(code, frame, frame + frames);
  }
  return codes;
}

export interface FrameMapping {
  slot: number;
  endpoint: number;
  name: string;
  vaddr: number;
  regionVaddr: number;
  mode: 'private' | 'smap';
  refcount: number;
  writable: boolean;
}

/** Every virtual page that maps physical page `frame`, per VM's frame map. */
export function frameMappings(sys: System, frame: number): FrameMapping[] {
  const run = sys.vm.frameMap().find((r) => frame >= r.frame && frame < r.frame + r.frames);
  if (run?.info.use !== 'process') return [];
  const { refs, refcount } = run.info;
  return refs.map((r) => {
    const slot = endpointSlot(r.endpoint);
    const vaddr = r.vaddr + (frame - run.frame) * PAGE;
    return {
      slot,
      endpoint: r.endpoint,
      name: sys.kernel.procAt(slot).name,
      vaddr,
      regionVaddr: r.region,
      mode: r.mode,
      refcount,
      writable: (sys.vm.pte(r.endpoint, vaddr) & 0x2) !== 0,
    };
  });
}

export interface RegionPages {
  vaddr: number;
  pages: number;
  flags: string;
  heap: boolean;
  /** The region's pages as runs of pageChar kinds: [char, count] in address order. */
  runs: [string, number][];
  /** The physical frame of each present page, by page index in the region ([pageIndex, frame] pairs). */
  frames: [number, number][];
}

/** Each process's regions, page by page, as runs of page kinds (absent pages cost nothing). */
export function addressSpaces(sys: System): { slot: number; endpoint: number; name: string; regions: RegionPages[] }[] {
  return sys.vm.processes().map((v) => ({
    slot: v.slot,
    endpoint: v.endpoint,
    name: sys.kernel.procAt(v.slot).name,
    regions: v.regions.map((r) => {
      const pages = r.length / PAGE;
      const runs: [string, number][] = [];
      const frames: [number, number][] = [];
      const push = (c: string, n: number): void => {
        const last = runs[runs.length - 1];
        if (last !== undefined && last[0] === c) last[1] += n;
        else if (n > 0) runs.push([c, n]);
      };
      let at = 0;
      for (const b of [...r.refs].sort((x, y) => x.offset - y.offset)) {
        const first = b.offset / PAGE;
        push('.', first - at);
        for (let i = 0; i < b.length / PAGE; i++) {
          push(pageChar(b, sys.vm.pte(v.endpoint, b.vaddr + i * PAGE)), 1);
          frames.push([first + i, b.phys / PAGE + i]);
        }
        at = first + b.length / PAGE;
      }
      push('.', pages - at);
      return { vaddr: r.vaddr, pages, flags: flagNames(r.flags), heap: r.isHeap, runs, frames };
    }),
  }));
}
