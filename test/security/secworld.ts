// Shared ground for the security properties: three RS services (victim V, peer P, attacker A), each with 8 own
// pages, and host-side readers that do not go through the code under test's decisions: every process's pages
// (a page-table walk), every live grant resolved to the memory it reaches (entries read from the granters'
// tables and chained by this file's own reading of spec/grants.md §4), the kernel's mapping records, and from
// those the authority graph (who may reach which page of whom, and how).
import { ANY } from '../../src/include/endpoint.ts';
import {
  CPF_MAP,
  CPF_READ,
  CPF_USED,
  CPF_VALID,
  CPF_WRITE,
  grantIdSeq,
  grantIdSlot,
} from '../../src/include/safecopies.ts';
import type { GrantEntry } from '../../src/include/safecopies.ts';
import { readGrantEntry, usableGrantTable } from '../../src/kernel/grant.ts';
import { kwalk } from '../../src/kernel/memory.ts';
import { safemapRecords } from '../../src/kernel/system/do_safemap.ts';
import { createSystem } from '../../src/sim/system.ts';
import type { System } from '../../src/sim/system.ts';
import type { SystemConfig } from '../../src/sim/config.ts';
import { PAGE, drivenActor } from '../helpers/driven.ts';
import type { Driven } from '../helpers/driven.ts';

export { PAGE };
export const PAGES = 8;
export const NAMES = ['V', 'P', 'A'] as const;

export interface SecWorld {
  sys: System;
  /** V (victim), P (peer), A (attacker), in that order. */
  actors: Driven[];
}

export async function secWorld(config: Partial<SystemConfig> = {}, maxRestarts = 0): Promise<SecWorld> {
  const sys = await createSystem({ sanity: 'top', ...config });
  const actors: Driven[] = [];
  for (const label of NAMES) actors.push(await drivenActor(sys, label, { pages: PAGES, maxRestarts }));
  return { sys, actors };
}

/** The actor's 8 pages as they are now, read through its page table (absent pages read as zero). */
export function pagesOf(w: SecWorld, i: number): Uint8Array {
  const a = w.actors[i];
  const out = new Uint8Array(PAGES * PAGE);
  if (a === undefined || !a.alive()) return out;
  for (let page = 0; page < PAGES; page++) {
    const pa = kwalk(w.sys.kernel, a.kp, a.buf + page * PAGE, false);
    if (pa >= 0) w.sys.mem.read(pa, out, page * PAGE, PAGE);
  }
  return out;
}

/** What one live grant entry lets its holder reach: [start, start+len) of owner with the final entry's flags. */
export interface Authority {
  holder: number;
  owner: number;
  start: number;
  len: number;
  flags: number;
}

const USABLE = CPF_USED | CPF_VALID;
/** Entries listed per table: the tests never make more. */
const MAX_SLOTS = 128;

/** Every live grant, direct or through an indirect chain, resolved to the memory it reaches. */
export function authorities(sys: System): Authority[] {
  const k = sys.kernel;
  const scheme = k.config.grantIds;
  const entry = (ep: number, id: number): GrantEntry | null => {
    const p = k.liveProc(ep);
    const t = p === null || id < 0 ? null : usableGrantTable(p);
    if (p === null || t === null || grantIdSlot(scheme, id) >= t.entries) return null;
    const e = readGrantEntry(k, p, t, grantIdSlot(scheme, id));
    if (e === null || (e.flags & USABLE) !== USABLE || e.seq !== grantIdSeq(scheme, id)) return null;
    return e;
  };
  const out: Authority[] = [];
  for (const p of k.procs) {
    const t = p.inUse ? usableGrantTable(p) : null;
    if (t === null) continue;
    for (let slot = 0; slot < Math.min(t.entries, MAX_SLOTS); slot++) {
      const e = readGrantEntry(k, p, t, slot);
      if (e === null || (e.flags & USABLE) !== USABLE) continue;
      if (e.kind === 'direct')
        out.push({ holder: e.whoTo, owner: p.endpoint, start: e.start, len: e.len, flags: e.flags });
      if (e.kind !== 'indirect') continue;
      // Follow the chain: each next entry must be given to the previous granter (or ANY); 5 hops at most.
      let grantee: number = p.endpoint;
      let from: number = e.whoFrom;
      let id = e.grant;
      for (let hop = 0; hop < 5; hop++) {
        const f = entry(from, id);
        if (f === null || f.kind === 'none' || f.kind === 'magic' || (f.whoTo !== grantee && f.whoTo !== ANY))
          break;
        if (f.kind === 'direct') {
          out.push({ holder: e.whoTo, owner: from, start: f.start, len: f.len, flags: f.flags });
          break;
        }
        grantee = from;
        from = f.whoFrom;
        id = f.grant;
      }
    }
  }
  return out;
}

/** The pages of `a` (by index) that hold any byte of [start, start+len) of that actor's memory. */
function pagesIn(a: Driven, start: number, len: number): number[] {
  const out: number[] = [];
  for (let page = 0; page < PAGES; page++) {
    const lo = a.buf + page * PAGE;
    if (start < lo + PAGE && start + len > lo) out.push(page);
  }
  return out;
}

/**
 * The authority graph among the actors, as strings `holder>owner@page:how`: `g` + R/W/M for a grant, `m` + R/W for
 * a mapping record. Holders are actor names, or ANY.
 */
export function authorityGraph(w: SecWorld): Set<string> {
  const name = (ep: number): string | null =>
    ep === ANY ? 'ANY' : (NAMES[w.actors.findIndex((a) => a.alive() && a.ep === ep)] ?? null);
  const g = new Set<string>();
  for (const x of authorities(w.sys)) {
    const holder = name(x.holder);
    const owner = w.actors.findIndex((a) => a.alive() && a.ep === x.owner);
    const o = w.actors[owner];
    if (holder === null || o === undefined) continue;
    const how = `g${(x.flags & CPF_READ) !== 0 ? 'R' : ''}${(x.flags & CPF_WRITE) !== 0 ? 'W' : ''}${(x.flags & CPF_MAP) !== 0 ? 'M' : ''}`;
    for (const page of pagesIn(o, x.start, x.len)) g.add(`${holder}>${NAMES[owner] ?? '?'}@${page}:${how}`);
  }
  for (const r of safemapRecords(w.sys.kernel)) {
    const holder = name(r.grantee);
    const owner = w.actors.findIndex((a) => a.alive() && a.ep === r.owner);
    const o = w.actors[owner];
    if (holder === null || o === undefined) continue;
    for (const page of pagesIn(o, r.ownerAddr, r.bytes))
      g.add(`${holder}>${NAMES[owner] ?? '?'}@${page}:m${r.writable ? 'RW' : 'R'}`);
  }
  return g;
}

/**
 * Which bytes of actor y an operation of actor x may change: y = x (its own address space); a live grant with
 * WRITE held by x (or ANY) over them; or pages physically shared with memory x may write — x's writable mapping
 * of y's pages, or y's mapping of pages x can write (its own, those it maps writably, those a WRITE grant it
 * holds reaches). Computed before the operation.
 */
export function writableBy(w: SecWorld, x: number, y: number): (offset: number) => boolean {
  const ax = w.actors[x];
  const ay = w.actors[y];
  if (x === y) return () => true;
  if (ax === undefined || ay === undefined) return () => false;
  // Owner-side ranges x can write: its own pages, what it maps writably, what its WRITE grants reach.
  const xWrites: [number, number, number][] = [[ax.ep, ax.buf, ax.buf + PAGES * PAGE]];
  for (const g of authorities(w.sys))
    if ((g.holder === ax.ep || g.holder === ANY) && (g.flags & CPF_WRITE) !== 0)
      xWrites.push([g.owner, g.start, g.start + g.len]);
  const records = safemapRecords(w.sys.kernel);
  for (const r of records)
    if (r.grantee === ax.ep && r.writable) xWrites.push([r.owner, r.ownerAddr, r.ownerAddr + r.bytes]);
  const ranges: [number, number][] = [];
  for (const [ep, lo, hi] of xWrites) {
    if (ep === ay.ep) ranges.push([lo, hi]);
    for (const r of records) {
      if (r.grantee !== ay.ep || r.owner !== ep) continue;
      const a = Math.max(lo, r.ownerAddr);
      const b = Math.min(hi, r.ownerAddr + r.bytes);
      if (a < b) ranges.push([r.granteeAddr + (a - r.ownerAddr), r.granteeAddr + (b - r.ownerAddr)]);
    }
  }
  return (offset) => {
    const v = ay.buf + offset;
    return ranges.some(([lo, hi]) => v >= lo && v < hi);
  };
}
