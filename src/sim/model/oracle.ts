// The naive reference model of model-based testing, written from spec/grants.md and spec/ds.md and deliberately
// unlike the implementation: each actor's window is a row of page-sized byte arrays ("cells"; a safemap makes two
// rows hold the same cell), copies are eager, there are no page tables, COW, frames or VM, grant tables are plain
// arrays of entries, and DS is a Map. Entry points: Oracle, Who, GrantRef, Outcome, checkOutcome.
// DIVERGES: the oracle knows each grant slot's revocation count in both id schemes, so it can tell when a legacy id
// reaches a slot that was revoked and handed out again (`staleReuse`), the one case where the schemes may differ.
import {
  DS_FOREIGN_LABELS,
  DS_KEY_NAMES,
  EXEC_IMAGE,
  EXEC_SPAN,
  PAGE,
  WINDOW_BYTES,
  WINDOW_PAGES,
} from './commands.ts';
import type { CopySpec } from './commands.ts';

// Error codes (spec/grants.md conventions) and the flags the oracle needs, restated from the spec.
export const OK = 0;
export const EPERM = -1;
export const ENOENT = -2;
export const ESRCH = -3;
export const ENOMEM = -12;
export const EFAULT = -14;
export const EBUSY = -16;
export const EEXIST = -17;
export const EINVAL = -22;
export const EDOM = -33;
export const ELOOP = -40;
export const EDEADSRCDST = -105;
const READ = 1;
const WRITE = 2;
const MAP = 4;
const MAX_INDIRECT_DEPTH = 5;
const SEQ_MODULUS = 2048;
const MAX_MAP_INFO = 20;
const DSF_PRIV_RETRIEVE = 0x002;
const DSF_PRIV_OVERWRITE = 0x004;
const DSF_PRIV_SUBSCRIBE = 0x008;
const DSF_OVERWRITE = 0x1000;
const DSF_INITIAL = 0x2000;
const DSF_PRIV_SNAPSHOT = 0x004;
const DSF_TYPE_U32 = 0x010;
const DSF_TYPE_STR = 0x020;
const DSF_TYPE_MEM = 0x040;
const DSF_TYPE_MAP = 0x080;
const DSF_TYPE_LABEL = 0x100;
/** Snapshot ring per MAP entry. */
const NR_DS_SNAPSHOT = 5;
/** Inline strings hold at most 15 bytes and a NUL. */
const DS_MAX_STRLEN = 16;

/** An actor instance: a restart makes a new one (a new endpoint). */
export interface Who {
  actor: number;
  inst: number;
}

/** A grant as its creator knows it: the table owner's instance, slot, and the slot's revocation count then. */
export interface GrantRef extends Who {
  slot: number;
  seq: number;
}

interface Entry {
  used: boolean;
  /** False once cpf_setgrant_disable left the slot reserved but unusable. */
  valid: boolean;
  seq: number;
  kind: 'direct' | 'indirect' | 'magic';
  access: number;
  to: Who;
  /** direct and magic: window pages [page, page+pages); indirect: the grant it points at. */
  page: number;
  pages: number;
  from: GrantRef | null;
  /** magic: the memory owner (who_from), whose window the pages are in; it may have died since. */
  owner?: Who;
}

/** What a grant table's owner is to the oracle: an instance and its table (an actor's, or VFS's). */
interface TableOwner {
  inst: number;
  table: (Entry | undefined)[];
}

interface ActorModel extends TableOwner {
  cells: Uint8Array[];
  /** Pages the actor holds through a read-only safemap: a write by the actor there is a SIGSEGV. */
  readOnly: boolean[];
  /**
   * The mmap area after the window: its regions as [first page, end page) relative to the area's start (vm.md §8.2:
   * separate mmaps stay separate regions), and the bytes written to its pages (a mapped page without bytes reads
   * as zeros).
   */
  regions: [number, number][];
  area: Map<number, Uint8Array>;
  /** The heap (vm.md §8.4): its end in pages from its start (the break), and the bytes written to its pages. */
  heapEnd: number;
  heap: Map<number, Uint8Array>;
  /** DS's notification is pending for the current instance (sent on a matching change, taken by a `check`). */
  notified: boolean;
}

/**
 * An actor's heap as its configuration gives it: the pages it starts with (vm.md §9.3: the image's data pages, at
 * least one; a service is a fork of RS and starts with RS's heap) and the pages up to the next region (the stack).
 */
export interface HeapLayout {
  /** The break at every start, in pages from the heap's start. */
  pages: number;
  /** Where the next region (the stack) starts, in pages from the heap's start: the break may not pass it. */
  limit: number;
}

/** Where a user access, a word read or a safecopy lands: the mmap area or the heap. */
export type Space = 'area' | 'heap';

interface MapRecord {
  presented: GrantRef;
  final: GrantRef;
  owner: Who;
  ownerPage: number;
  grantee: Who;
  granteePage: number;
  pages: number;
  /** The DS entry (`${key}:map`) whose window is the grantee or, for a MAP_MAPPED retriever, the owner (DS_WHO). */
  ds?: string;
}

/** The entry types the actors publish; a key may hold one of each (identity is key and type). */
export type DsType = 'u32' | 'str' | 'mem' | 'map' | 'label';
const TYPE_BIT: Record<DsType, number> = {
  u32: DSF_TYPE_U32,
  str: DSF_TYPE_STR,
  mem: DSF_TYPE_MEM,
  map: DSF_TYPE_MAP,
  label: DSF_TYPE_LABEL,
};
const isDsType = (t: string | undefined): t is DsType => t !== undefined && Object.hasOwn(TYPE_BIT, t);
/** The PRIV bits an entry keeps (replaced by every successful publish). */
const DSF_PRIV = DSF_PRIV_RETRIEVE | DSF_PRIV_OVERWRITE | DSF_PRIV_SUBSCRIBE;

/**
 * A MAP entry's value: DS's window holds the publisher's cells (the live read-only share; a cell
 * the publisher no longer holds is DS's last view), the last snapshot number and the ring of snapshot bytes, and
 * the grant the publishing instance's library keeps until its own ds_delete_map.
 */
interface DsMap {
  cells: Uint8Array[];
  sindex: number;
  ring: (Uint8Array | null)[];
  grant: GrantRef;
}

interface DsEntry {
  owner: number;
  /** U32 and LABEL (an endpoint): a number; STR: the string; MEM: DS's copy of the bytes; MAP: 0 (see `map`). */
  value: number | string | Uint8Array;
  map?: DsMap;
  flags: number;
  /** DS's table slot: first free, skipping the slots others held when the run started (dsReserve). */
  slot: number;
}

/** DS as the grantee of a MAP entry's mapping record (never an actor). */
const DS_WHO: Who = { actor: -1, inst: 0 };
/** VFS as an actor index: the owner of the one grant table whose magic grants the kernel honours; it never dies. */
export const VFS_ACTOR = -2;

/** An actor's subscription: its whole-key pattern, type filter, and the slots of pending changes. */
interface Subscription {
  pattern: string;
  filter: number;
  pending: Set<number>;
}

/** What a command returned: an errno, plus a grant id or a retrieved value when it has one. */
export interface Outcome {
  result: number | 'killed';
  id?: number;
  value?: number | string;
}

type Verified = { ok: true; owner: Who; pos: number; final: GrantRef } | { ok: false; err: number };

/**
 * A ds_check's outcome: the result, and as the value whether a notification was taken (`notified` null: none was
 * looked for) and what the check reported (`key type owner-actor`, or '' when it reported nothing).
 */
export function checkOutcome(result: number, notified: boolean | null, seen: string): Outcome {
  const said = notified === null ? '' : notified ? 'notified' : 'not notified';
  const value = [said, seen].filter((x) => x !== '').join(', ');
  return value === '' ? { result } : { result, value };
}

/** Bytes as runs, e.g. `7*100 0*3996`: how a retrieved MAP value and DS's windows are compared and shown. */
export function runs(bytes: Uint8Array): string {
  const out: string[] = [];
  for (let i = 0; i < bytes.length;) {
    const b = bytes[i] ?? 0;
    let j = i;
    while (j < bytes.length && bytes[j] === b) j++;
    out.push(`${b}*${j - i}`);
    i = j;
  }
  return out.join(' ');
}

/**
 * Walks [pos, pos+len) a page at a time: fn gets the page, the offset in it, the offset in the range and the
 * piece's length, and stops the walk by returning false. True when the walk reached the end.
 */
function eachPageRun(
  pos: number,
  len: number,
  fn: (page: number, off: number, done: number, n: number) => boolean,
): boolean {
  for (let done = 0; done < len;) {
    const at = pos + done;
    const off = at % PAGE;
    const n = Math.min(PAGE - off, len - done);
    if (!fn(Math.floor(at / PAGE), off, done, n)) return false;
    done += n;
  }
  return true;
}

/** A DS entry's id `${key index}:${type}` back as its key index and type. */
function dsId(id: string): [number, DsType] {
  const [key, type] = id.split(':');
  if (!isDsType(type)) throw new Error(`oracle: DS entry id ${id}`);
  return [Number(key), type];
}

/** A MAP entry's live window as DS sees it. */
const mapBytes = (m: DsMap): Uint8Array => {
  const out = new Uint8Array(m.cells.length * PAGE);
  m.cells.forEach((c, i) => {
    out.set(c, i * PAGE);
  });
  return out;
};

/** The name of DS key index `key` (DS_KEY_NAMES). */
const dsKeyName = (key: number): string => DS_KEY_NAMES[key % DS_KEY_NAMES.length] ?? '';

const same = (x: Who, y: Who): boolean => x.actor === y.actor && x.inst === y.inst;
const freshCells = (): Uint8Array[] => Array.from({ length: WINDOW_PAGES }, () => new Uint8Array(PAGE));

export class Oracle {
  private actors: ActorModel[];
  private records: MapRecord[] = [];
  /** DS entries by `${key index}:${type}`. */
  private ds = new Map<string, DsEntry>();
  private dsForeign = new Set<number>();
  private subs = new Map<number, Subscription>();
  private vfs: TableOwner = { inst: 0, table: [] };
  /** Set once a legacy id reached a slot revoked and reused since the id was handed out. */
  staleReuse = false;

  constructor(
    nActors: number,
    readonly grantIds: 'generational' | 'legacy',
    readonly heapLayout: HeapLayout,
    /** `dsLabelPolicy`: under 'rs-only' a LABEL publish by an actor (not RS) is EPERM. */
    readonly labelPolicy: 'any' | 'rs-only' = 'any',
  ) {
    this.actors = Array.from({ length: nActors }, () => ({
      inst: 0,
      cells: freshCells(),
      readOnly: new Array<boolean>(WINDOW_PAGES).fill(false),
      table: [],
      regions: [],
      area: new Map<number, Uint8Array>(),
      heapEnd: heapLayout.pages,
      heap: new Map<number, Uint8Array>(),
      notified: false,
    }));
  }

  /** An independent copy (windows that share a cell still share its copy). */
  clone(): Oracle {
    const c = new Oracle(this.actors.length, this.grantIds, this.heapLayout, this.labelPolicy);
    const copy = structuredClone({
      actors: this.actors,
      records: this.records,
      ds: this.ds,
      subs: this.subs,
      vfs: this.vfs,
    });
    c.actors = copy.actors;
    c.vfs = copy.vfs;
    c.records = copy.records;
    c.ds = copy.ds;
    c.subs = copy.subs;
    c.dsForeign = this.dsForeign;
    c.staleReuse = this.staleReuse;
    return c;
  }

  /**
   * Everything but the window bytes, as text: instances, read-only pages, which pages share a cell, grant tables,
   * mapping records, DS, staleReuse. Two oracles with equal windows and equal fingerprints behave alike.
   */
  fingerprint(): string {
    const ids = new Map<Uint8Array, number>();
    const cellId = (c: Uint8Array): number => {
      const id = ids.get(c) ?? ids.size;
      ids.set(c, id);
      return id;
    };
    const sharing = this.actors.map((m) => m.cells.map(cellId));
    return JSON.stringify({
      actors: this.actors.map((m) => ({
        inst: m.inst,
        readOnly: m.readOnly,
        table: m.table,
        regions: m.regions,
        heapEnd: m.heapEnd,
        notified: m.notified,
      })),
      sharing,
      vfs: this.vfs.table,
      records: this.records,
      ds: [...this.ds].map(([id, e]) => [
        id,
        {
          ...e,
          value: e.value instanceof Uint8Array ? runs(e.value) : e.value,
          map: e.map && {
            ...e.map,
            cells: e.map.cells.map(cellId),
            ring: e.map.ring.map((b) => b && runs(b)),
          },
        },
      ]),
      subs: [...this.subs].map(([a, x]) => [a, x.pattern, x.filter, [...x.pending].sort((p, q) => p - q)]),
      stale: this.staleReuse,
    });
  }

  private actor(a: number): ActorModel {
    const m = this.actors[a];
    if (m === undefined) throw new Error(`oracle: no actor ${a}`);
    return m;
  }

  /** The grant table owner `a`: an actor, or VFS (VFS_ACTOR). */
  private owner(a: number): TableOwner {
    return a === VFS_ACTOR ? this.vfs : this.actor(a);
  }

  /** The current instance of actor `a` (or of VFS). */
  who(a: number): Who {
    return { actor: a, inst: this.owner(a).inst };
  }

  /** Whether an instance is still live (VFS always is; an actor until its next crash). */
  private live(w: Who): boolean {
    return w.actor === VFS_ACTOR || (w.actor >= 0 && this.actor(w.actor).inst === w.inst);
  }

  /** How many mapping records the kernel should hold (a refused safemap keeps none). */
  recordCount(): number {
    return this.records.length;
  }

  /** The window pages the actor holds read-only through a safemap (a write there is a SIGSEGV, a copy EFAULT). */
  readOnlyPages(a: number): number[] {
    return this.actor(a).readOnly.flatMap((ro, page) => (ro ? [page] : []));
  }

  /** The actor's window as its process sees it. */
  window(a: number): Uint8Array {
    const out = new Uint8Array(WINDOW_BYTES);
    this.actor(a).cells.forEach((c, i) => {
      out.set(c, i * PAGE);
    });
    return out;
  }

  /**
   * DS's entries of the actors by `${key index}:${type}`: owner actor and value (of a MAP entry: its length, last
   * snapshot number and DS's window bytes as runs).
   */
  dsEntries(): Map<string, { owner: number; value: unknown }> {
    return new Map(
      [...this.ds].map(([k, e]) => [
        k,
        {
          owner: e.owner,
          value:
            e.map !== undefined
              ? { length: e.map.cells.length * PAGE, sindex: e.map.sindex, bytes: runs(mapBytes(e.map)) }
              : e.value instanceof Uint8Array
                ? { length: e.value.length, bytes: runs(e.value) }
                : e.value,
        },
      ]),
    );
  }

  // ------------------------------------------------------------------ memory

  private read(a: number, pos: number, len: number): Uint8Array {
    return this.window(a).slice(pos, pos + len);
  }

  /** Writes bytes at pos; stops before the first page the actor may not write and returns false there. */
  private write(a: number, pos: number, bytes: Uint8Array): boolean {
    const m = this.actor(a);
    return eachPageRun(pos, bytes.length, (page, off, done, n) => {
      if (m.readOnly[page] === true) return false;
      const cell = m.cells[page];
      if (cell === undefined) throw new Error(`oracle: write outside the window at ${page * PAGE + off}`);
      cell.set(bytes.subarray(done, done + n), off);
      return true;
    });
  }

  private writable(a: number, pos: number, len: number): boolean {
    const m = this.actor(a);
    for (let p = Math.floor(pos / PAGE); p * PAGE < pos + len; p++) if (m.readOnly[p] === true) return false;
    return true;
  }

  /** The actor writes `len` bytes of `byte` at pos: a write to a read-only mapped page kills it (SIGSEGV). */
  userWrite(a: number, pos: number, len: number, byte: number): Outcome {
    return this.write(a, pos, new Uint8Array(len).fill(byte)) ? { result: OK } : this.killed(a);
  }

  // ------------------------------------------------------------------ grant tables (cpf_*)

  private allocSlot(m: TableOwner): number {
    const free = m.table.findIndex((e) => e === undefined || !e.used);
    return free < 0 ? m.table.length : free;
  }

  private idOf(slot: number, seq: number): number {
    return this.grantIds === 'legacy' ? slot : ((seq << 20) | slot) >>> 0;
  }

  private create(a: number, e: Omit<Entry, 'used' | 'valid' | 'seq'>): { out: Outcome; ref: GrantRef } {
    const m = this.owner(a);
    const slot = this.allocSlot(m);
    const seq = m.table[slot]?.seq ?? 0;
    m.table[slot] = { ...e, used: true, valid: true, seq };
    return { out: { result: OK, id: this.idOf(slot, seq) }, ref: { ...this.who(a), slot, seq } };
  }

  grantDirect(
    a: number,
    to: number,
    page: number,
    pages: number,
    access: number,
  ): { out: Outcome; ref: GrantRef } {
    return this.create(a, { kind: 'direct', access, to: this.who(to), page, pages, from: null });
  }

  grantIndirect(a: number, to: number, from: GrantRef): { out: Outcome; ref: GrantRef } {
    return this.create(a, { kind: 'indirect', access: 0, to: this.who(to), page: 0, pages: 0, from });
  }

  /**
   * cpf_grant_magic by `a` (an actor, or VFS_ACTOR) to `to` over `pages` pages of actor `from`'s window: only
   * VFS's are honoured (verify).
   */
  grantMagic(
    a: number,
    to: number,
    from: number,
    page: number,
    pages: number,
    access: number,
  ): { out: Outcome; ref: GrantRef } {
    const owner = this.who(from);
    return this.create(a, { kind: 'magic', access, to: this.who(to), page, pages, from: null, owner });
  }

  /** The library's id check (slot in the table, and in the generational scheme the seq): the entry or null. */
  private idCheck(ref: GrantRef): Entry | null {
    const e = this.owner(ref.actor).table[ref.slot];
    if (e === undefined) return null;
    if (e.seq !== ref.seq) {
      if (this.grantIds === 'generational') return null;
      if (e.used) this.staleReuse = true;
    }
    return e;
  }

  /**
   * cpf_revoke: the id check and USED, else EINVAL; a MAP grant first breaks its mappings; then the slot is freed.
   * These are two steps of the library, a kernel call and then a write to the table: `between` (for a pair of
   * commands) is what another process does in the gap, when the grant is still valid but its mappings are broken.
   */
  revoke(ref: GrantRef, between?: () => void): Outcome {
    const e = this.idCheck(ref);
    if (e === null || !e.used) return { result: EINVAL };
    if ((e.access & MAP) !== 0) this.revmap(ref);
    between?.();
    e.used = false;
    e.seq = (e.seq + 1) % SEQ_MODULUS;
    return { result: OK };
  }

  /**
   * cpf_setgrant_direct / cpf_setgrant_disable on the table owner's id: the id check only (USED not required),
   * else EINVAL; the slot is overwritten in place and keeps its seq; existing mappings are not touched.
   */
  setgrant(
    ref: GrantRef,
    to: number,
    page: number,
    pages: number,
    access: number,
    disable: boolean,
  ): Outcome {
    const e = this.actor(ref.actor).table[ref.slot];
    if (e === undefined) return { result: EINVAL };
    if (e.seq !== ref.seq) {
      if (this.grantIds === 'generational') return { result: EINVAL };
      this.staleReuse = true;
    }
    if (disable) Object.assign(e, { used: true, valid: false, access: 0 });
    else {
      delete e.owner;
      Object.assign(e, {
        used: true,
        valid: true,
        kind: 'direct',
        access,
        to: this.who(to),
        page,
        pages,
        from: null,
      });
    }
    return { result: OK };
  }

  /** The grant a DS client request makes over its key and revokes when DS has answered. */
  private dsKeyGrant(a: number): void {
    const { ref } = this.grantDirect(a, a, 0, 1, READ);
    this.revoke(ref);
  }

  // ------------------------------------------------------------------ verify_grant (spec/grants.md §4)

  private verify(start: GrantRef, caller: Who, bytes: number, access: number, offset: number): Verified {
    let ref = start;
    let grantee = caller;
    for (let depth = 0; ; depth++) {
      const m = this.owner(ref.actor);
      if (m.inst !== ref.inst) return { ok: false, err: EINVAL };
      const e = m.table[ref.slot];
      if (e?.used !== true || !e.valid) return { ok: false, err: EPERM };
      if (e.seq !== ref.seq) {
        if (this.grantIds === 'generational') return { ok: false, err: EPERM };
        this.staleReuse = true;
      }
      if (e.kind === 'indirect') {
        if (depth === MAX_INDIRECT_DEPTH) return { ok: false, err: ELOOP };
        if (!same(e.to, grantee)) return { ok: false, err: EPERM };
        if (e.from === null) throw new Error('oracle: indirect entry without a target');
        grantee = { actor: ref.actor, inst: ref.inst };
        ref = e.from;
        continue;
      }
      if ((e.access & access) !== access || !same(e.to, grantee)) return { ok: false, err: EPERM };
      if (e.kind === 'magic' && ref.actor !== VFS_ACTOR) return { ok: false, err: EPERM };
      if (offset + bytes > e.pages * PAGE) return { ok: false, err: EPERM };
      return {
        ok: true,
        // A magic grant names its memory owner, who may have died since (the caller checks).
        owner: (e.kind === 'magic' ? e.owner : undefined) ?? { actor: ref.actor, inst: ref.inst },
        pos: e.page * PAGE + offset,
        final: { ...ref, seq: e.seq },
      };
    }
  }

  // ------------------------------------------------------------------ safecopy

  /**
   * sys_safecopyfrom / sys_safecopyto by actor a: all or nothing. The whole source is read
   * before any byte is written, so ranges sharing a page (a safemap) copy as memmove over physical memory (§9 item 9).
   */
  copy(a: number, ref: GrantRef, c: CopySpec): Outcome {
    const v = this.verify(ref, this.who(a), c.len, c.dir === 'from' ? READ : WRITE, c.gOff);
    if (!v.ok) return { result: v.err };
    if (c.len === 0) return { result: EDOM };
    if (!this.live(v.owner)) return { result: EDEADSRCDST };
    const [src, sPos, dst, dPos] =
      c.dir === 'from' ? [v.owner.actor, v.pos, a, c.pos] : [a, c.pos, v.owner.actor, v.pos];
    if (!this.writable(dst, dPos, c.len)) return { result: EFAULT };
    this.write(dst, dPos, this.read(src, sPos, c.len));
    return { result: OK };
  }

  /** sys_vsafecopy: the elements in order, stopping at the first error. */
  vcopy(a: number, items: readonly { ref: GrantRef; c: CopySpec }[]): Outcome {
    for (const { ref, c } of items) {
      const r = this.copy(a, ref, c);
      if (r.result !== OK) return r;
    }
    return { result: OK };
  }

  // ------------------------------------------------------------------ safemap family (spec/grants.md §6)

  safemap(
    a: number,
    ref: GrantRef,
    gOffPages: number,
    page: number,
    pages: number,
    writable: boolean,
  ): Outcome {
    const caller = this.who(a);
    const v = this.verify(ref, caller, pages * PAGE, MAP | READ | (writable ? WRITE : 0), gOffPages * PAGE);
    if (!v.ok) return { result: v.err };
    if (same(v.owner, caller)) return { result: EINVAL };
    if (!this.live(v.owner)) return { result: EDEADSRCDST };
    if (this.records.length >= MAX_MAP_INFO) return { result: EBUSY };
    const ownerPage = v.pos / PAGE;
    if (writable && !this.writable(v.owner.actor, v.pos, pages * PAGE)) return { result: EFAULT };
    const cells = this.actor(v.owner.actor).cells.slice(ownerPage, ownerPage + pages);
    this.mapInto(cells, writable, {
      presented: ref,
      final: v.final,
      owner: v.owner,
      ownerPage,
      grantee: caller,
      granteePage: page,
      pages,
    });
    return { result: OK };
  }

  /**
   * The grantee's pages of record r now hold the owner's cells (the sharing), read-only unless writable. The
   * grantee's old pages are dropped first (vm.md §7 SMAP: unreference the destination, then make the source smap),
   * so the revert rule runs in between: when the owner's page was the grantee's own, seen through an earlier
   * read-only mapping, the owner is its lone holder again and keeps write access to it (grants.md §6.3).
   */
  private mapInto(cells: Uint8Array[], writable: boolean, r: MapRecord): void {
    const me = this.actor(r.grantee.actor);
    for (let i = 0; i < r.pages; i++) me.cells[r.granteePage + i] = new Uint8Array(PAGE);
    this.revertLoneCells();
    for (let i = 0; i < r.pages; i++) {
      const cell = cells[i];
      if (cell === undefined) throw new Error('oracle: mapping outside the owner window');
      me.cells[r.granteePage + i] = cell;
      me.readOnly[r.granteePage + i] = !writable;
    }
    this.records.push(r);
    this.revertLoneCells();
  }

  /** SUNMAP of one record: the grantee keeps a private, writable copy of what it sees now. */
  private unmapRecord(r: MapRecord): void {
    if (same(r.grantee, DS_WHO)) {
      const m = r.ds === undefined ? undefined : this.ds.get(r.ds)?.map;
      if (m !== undefined) m.cells = m.cells.map((c) => c.slice());
      return;
    }
    const g = this.actor(r.grantee.actor);
    for (let i = 0; i < r.pages; i++) {
      const cell = g.cells[r.granteePage + i];
      if (cell === undefined) throw new Error('oracle: record outside the grantee window');
      g.cells[r.granteePage + i] = cell.slice();
      g.readOnly[r.granteePage + i] = false;
    }
  }

  private dropRecords(match: (r: MapRecord) => boolean, unmap: boolean): void {
    const keep: MapRecord[] = [];
    for (const r of this.records) {
      if (!match(r)) keep.push(r);
      else if (unmap) this.unmapRecord(r);
    }
    this.records = keep;
    this.revertLoneCells();
  }

  /** A page no other window shares any more is the holder's own again, and writable (vm.md §5, revert rule). */
  private revertLoneCells(): void {
    const holders = new Map<Uint8Array, number>();
    const cells = [
      ...this.actors.flatMap((m) => m.cells),
      ...[...this.ds.values()].flatMap((e) => e.map?.cells ?? []),
    ];
    for (const c of cells) holders.set(c, (holders.get(c) ?? 0) + 1);
    for (const m of this.actors)
      m.cells.forEach((c, i) => {
        if (holders.get(c) === 1) m.readOnly[i] = false;
      });
  }

  safeunmap(a: number, page: number): Outcome {
    const me = this.who(a);
    this.dropRecords((r) => same(r.grantee, me) && r.granteePage === page, true);
    return { result: OK };
  }

  /** sys_saferevmap_gid by the table owner of `ref`: records presented with that id or ending on it. */
  revmap(ref: GrantRef): Outcome {
    const sameId = (x: GrantRef): boolean => {
      if (!same(x, ref) || x.slot !== ref.slot) return false;
      if (x.seq === ref.seq) return true;
      if (this.grantIds === 'generational') return false;
      this.staleReuse = true;
      return true;
    };
    this.dropRecords((r) => sameId(r.presented) || sameId(r.final), true);
    return { result: OK };
  }

  // ------------------------------------------------------------------ mmap area (spec/vm.md §6, §8.2, §8.3)

  /**
   * Page p of the actor's window, mmap area or heap as its process sees it, the oracle's own bytes (not a copy:
   * the executor compares them after every command); undefined for an unmapped or unwritten area or heap page,
   * which reads as zeros.
   */
  page(a: number, sp: Space | 'window', p: number): Uint8Array | undefined {
    const m = this.actor(a);
    return sp === 'window' ? m.cells[p] : (sp === 'area' ? m.area : m.heap).get(p);
  }

  /** The area's regions, sorted: [first page, end page). */
  areaRegions(a: number): [number, number][] {
    return [...this.actor(a).regions].sort(([x], [y]) => x - y);
  }

  private mapped(a: number, page: number): boolean {
    return this.actor(a).regions.some(([s, e]) => s <= page && page < e);
  }

  /** A space's pages as the oracle keeps them, and whether a page of it is mapped (in a region, or below the break). */
  private space(a: number, sp: Space): { bytes: Map<number, Uint8Array>; mapped: (page: number) => boolean } {
    const m = this.actor(a);
    return sp === 'area'
      ? { bytes: m.area, mapped: (p) => this.mapped(a, p) }
      : { bytes: m.heap, mapped: (p) => p >= 0 && p < m.heapEnd };
  }

  /** Every page of [pos, pos+len) of the space is mapped (adjacent regions are fine, a hole is not). */
  private spaceMapped(a: number, sp: Space, pos: number, len: number): boolean {
    const { mapped } = this.space(a, sp);
    for (let p = Math.floor(pos / PAGE); p * PAGE < pos + len; p++) if (!mapped(p)) return false;
    return true;
  }

  private spaceRead(a: number, sp: Space, pos: number, len: number): Uint8Array {
    const { bytes } = this.space(a, sp);
    const out = new Uint8Array(len);
    eachPageRun(pos, len, (page, off, done, n) => {
      const cell = bytes.get(page);
      if (cell !== undefined) out.set(cell.subarray(off, off + n), done);
      return true;
    });
    return out;
  }

  private spaceWrite(a: number, sp: Space, pos: number, data: Uint8Array): void {
    const { bytes } = this.space(a, sp);
    eachPageRun(pos, data.length, (page, off, done, n) => {
      let cell = bytes.get(page);
      if (cell === undefined) bytes.set(page, (cell = new Uint8Array(PAGE)));
      cell.set(data.subarray(done, done + n), off);
      return true;
    });
  }

  /**
   * mmap of `pages` anonymous pages: MAP_FIXED at `page` (overlapping a region → ENOMEM), else the lowest page
   * ≥ the hint where they fit between regions. The outcome's value is the page the region starts at.
   */
  mmap(a: number, page: number, pages: number, fixed: boolean): Outcome {
    const free = (p: number): boolean => {
      for (let i = p; i < p + pages; i++) if (this.mapped(a, i)) return false;
      return true;
    };
    let at = page;
    if (fixed) {
      if (!free(at)) return { result: ENOMEM };
    } else while (!free(at)) at++;
    this.actor(a).regions.push([at, at + pages]);
    return { result: OK, value: at };
  }

  /**
   * munmap: no region contains the first page, or the range passes that region's end → EFAULT; else the pages
   * go (the region shrinks, moves its start or splits) with their bytes.
   */
  munmap(a: number, page: number, pages: number): Outcome {
    const m = this.actor(a);
    const r = m.regions.find(([s, e]) => s <= page && page < e);
    if (r === undefined || page + pages > r[1]) return { result: EFAULT };
    const [s, e] = r;
    m.regions = m.regions.filter((x) => x !== r);
    if (s < page) m.regions.push([s, page]);
    if (page + pages < e) m.regions.push([page + pages, e]);
    for (let p = page; p < page + pages; p++) m.area.delete(p);
    return { result: OK };
  }

  /** The actor writes `len` bytes of `byte` into its area or heap: an unmapped page is a SIGSEGV. */
  areaUserWrite(a: number, pos: number, len: number, byte: number, sp: Space = 'area'): Outcome {
    if (!this.spaceMapped(a, sp, pos, len)) return this.killed(a);
    this.spaceWrite(a, sp, pos, new Uint8Array(len).fill(byte));
    return { result: OK };
  }

  /** The actor reads the 32-bit little-endian word at pos of its area or heap: an unmapped page is a SIGSEGV. */
  areaUserRead(a: number, pos: number, sp: Space = 'area'): Outcome {
    if (!this.spaceMapped(a, sp, pos, 4)) return this.killed(a);
    const [b0 = 0, b1 = 0, b2 = 0, b3 = 0] = this.spaceRead(a, sp, pos, 4);
    return { result: OK, value: (b0 | (b1 << 8) | (b2 << 16) | (b3 << 24)) >>> 0 };
  }

  /**
   * A safecopy between a grant and the actor's area or heap: verification, EDOM, then
   * the range must be mapped (VM's CHECK → EFAULT), and a destination in the granter's window must be writable.
   */
  areaCopy(a: number, ref: GrantRef, c: CopySpec, sp: Space = 'area'): Outcome {
    const v = this.verify(ref, this.who(a), c.len, c.dir === 'from' ? READ : WRITE, c.gOff);
    if (!v.ok) return { result: v.err };
    if (c.len === 0) return { result: EDOM };
    if (!this.live(v.owner)) return { result: EDEADSRCDST };
    if (!this.spaceMapped(a, sp, c.pos, c.len)) return { result: EFAULT };
    if (c.dir === 'from') this.spaceWrite(a, sp, c.pos, this.read(v.owner.actor, v.pos, c.len));
    else {
      if (!this.writable(v.owner.actor, v.pos, c.len)) return { result: EFAULT };
      this.write(v.owner.actor, v.pos, this.spaceRead(a, sp, c.pos, c.len));
    }
    return { result: OK };
  }

  /** The break, in pages from the heap's start. */
  heapEnd(a: number): number {
    return this.actor(a).heapEnd;
  }

  /**
   * brk to `at` bytes from the heap's start (vm.md §8.4): the new end is `at` rounded up to a page; at or below the
   * heap's start, or past the next region's start → ENOMEM with nothing changed; growing adds demand-zero pages,
   * shrinking drops the pages above the new end with their bytes.
   */
  brk(a: number, at: number): Outcome {
    const m = this.actor(a);
    const end = Math.ceil(at / PAGE);
    if (end <= 0 || end > this.heapLayout.limit) return { result: ENOMEM };
    for (const p of [...m.heap.keys()]) if (p >= end) m.heap.delete(p);
    m.heapEnd = end;
    return { result: OK };
  }

  private killed(a: number): Outcome {
    this.crash(a);
    return { result: 'killed' };
  }

  // ------------------------------------------------------------------ processes

  /**
   * fork (vm.md §8.5): the child's window is a snapshot of the parent's at fork time, smap pages included, and its
   * writes are its own; it exits with the byte it read at pos, which the parent's wait returns. Nothing else changes.
   */
  fork(a: number, pos: number): Outcome {
    return { result: OK, value: this.window(a)[pos] ?? 0 };
  }

  /**
   * fork, then exec of EXEC_IMAGE in the child (vm.md §8.6): the new image is text at VM_PROCSTART, then the heap
   * of data and bss (a page multiple, zeros past the data), then nothing: the byte at `pos` mod EXEC_SPAN is its
   * exit status, or a SIGSEGV past the heap. The parent's memory is untouched.
   */
  forkExec(pos: number): Outcome {
    const { text, data, bss, textBytes, dataBytes } = EXEC_IMAGE;
    const at = pos % EXEC_SPAN;
    const textEnd = Math.ceil(text / PAGE) * PAGE;
    const heapEnd = textEnd + Math.max(1, Math.ceil((data + bss) / PAGE)) * PAGE;
    if (at >= heapEnd) return { result: OK, value: 'signal 11' };
    const byte = at < textEnd ? textBytes?.[at] : dataBytes?.[at - textEnd];
    return { result: OK, value: byte ?? 0 };
  }

  /** fork, then a kill of the blocked child by the parent: wait reports the signal, a second kill ESRCH. */
  forkKill(sig: number): Outcome {
    return { result: OK, value: `signal ${sig}, again ${ESRCH}` };
  }

  /** The actor dies (SIGKILL or SIGSEGV) and RS restarts it: a new instance, a fresh zeroed window, no grants. */
  crash(a: number): Outcome {
    const dead = this.who(a);
    const m = this.actor(a);
    m.inst++;
    m.cells = freshCells();
    m.readOnly.fill(false);
    m.table = [];
    m.regions = [];
    m.area = new Map();
    m.heapEnd = this.heapLayout.pages;
    m.heap = new Map();
    m.notified = false;
    this.dropRecords((r) => same(r.grantee, dead) || same(r.owner, dead), false);
    return { result: OK };
  }

  // ------------------------------------------------------------------ DS (spec/ds.md; owners are labels)

  /** DS table slots others hold when the commands start (boot labels, the actors' labels): never the actors'. */
  dsReserve(slots: Iterable<number>): void {
    this.dsForeign = new Set(slots);
  }

  private dsSlot(): number {
    const used = new Set([...this.dsForeign, ...[...this.ds.values()].map((e) => e.slot)]);
    let slot = 0;
    while (used.has(slot)) slot++;
    return slot;
  }

  /**
   * §7: a publish sets the entry's slot in every subscription whose filter, whole-key pattern and PRIV_SUBSCRIBE
   * rule match; a delete frees the slot, so no subscription keeps its bit (§9: pending bits only on in-use slots),
   * not even one that matched before an overwrite by another label with PRIV_SUBSCRIBE. Either way DS notifies the
   * owner of every matching subscription.
   */
  private dsNotify(id: string, set: boolean): void {
    const e = this.ds.get(id);
    if (e === undefined) throw new Error(`oracle: no DS entry ${id}`);
    const [key, type] = dsId(id);
    for (const [owner, sub] of this.subs) {
      const match = this.dsMatches(sub, owner, key, type, e);
      if (!set) sub.pending.delete(e.slot);
      else if (match) sub.pending.add(e.slot);
      if (match) this.actor(owner).notified = true;
    }
  }

  /** §7 Match: filter ∩ type, the whole key, and with PRIV_SUBSCRIBE only the owner's own subscription. */
  private dsMatches(sub: Subscription, subOwner: number, key: number, type: DsType, e: DsEntry): boolean {
    const bit = TYPE_BIT[type];
    return (
      (sub.filter === 0 || (sub.filter & bit) !== 0) &&
      new RegExp(`^(?:${sub.pattern})$`).test(dsKeyName(key)) &&
      ((e.flags & DSF_PRIV_SUBSCRIBE) === 0 || e.owner === subOwner)
    );
  }

  /** §6.1 for U32 and STR: a string of 16 bytes or more is refused by the library before any request. */
  publish(a: number, key: number, type: DsType, value: number | string, flags: number): Outcome {
    if (typeof value === 'string' && new TextEncoder().encode(value).length >= DS_MAX_STRLEN)
      return { result: EINVAL };
    this.dsKeyGrant(a);
    const id = `${key}:${type}`;
    const e = this.ds.get(id);
    if (e !== undefined) {
      if ((flags & DSF_OVERWRITE) === 0) return { result: EEXIST };
      if ((e.flags & DSF_PRIV_OVERWRITE) !== 0 && e.owner !== a) return { result: EPERM };
    }
    const slot = e?.slot ?? this.dsSlot();
    this.ds.set(id, {
      owner: a,
      value: typeof value === 'number' ? value >>> 0 : value,
      flags: flags & DSF_PRIV,
      slot,
    });
    this.dsNotify(id, true);
    return { result: OK };
  }

  /**
   * ds_publish_mem of window bytes [pos, pos+len): the library's READ grant to DS takes the lowest free slot before
   * the key's and is revoked after the call (§5). Then §6.1: EEXIST / EPERM as for U32; a length of 0 → EDOM (a
   * 0-byte safecopy, ds.md §12 item 2), a negative one → EINVAL (DS checks it as it builds the value, step 8); else
   * DS keeps a copy of the bytes.
   */
  publishMem(a: number, key: number, pos: number, len: number, flags: number): Outcome {
    const { ref } = this.create(a, {
      kind: 'direct',
      access: READ,
      to: DS_WHO,
      page: 0,
      pages: 0,
      from: null,
    });
    this.dsKeyGrant(a);
    this.revoke(ref);
    const id = `${key}:mem`;
    const e = this.ds.get(id);
    if (e !== undefined) {
      if ((flags & DSF_OVERWRITE) === 0) return { result: EEXIST };
      if ((e.flags & DSF_PRIV_OVERWRITE) !== 0 && e.owner !== a) return { result: EPERM };
    }
    if (len === 0) return { result: EDOM };
    if (len < 0) return { result: EINVAL };
    const slot = e?.slot ?? this.dsSlot();
    this.ds.set(id, { owner: a, value: this.read(a, pos, len), flags: flags & DSF_PRIV, slot });
    this.dsNotify(id, true);
    return { result: OK };
  }

  /**
   * ds_retrieve_mem into the window at pos with capacity `cap`: the library's WRITE grant over [pos, pos+cap) comes
   * before the key's (§5); ESRCH, PRIV_RETRIEVE → EPERM (§6.2); else DS copies min(cap, length) bytes (truncation
   * is silent) — a count of 0 is a 0-byte safecopy, EDOM; a read-only page among them → EFAULT with nothing copied. The outcome's value
   * is the count.
   */
  retrieveMem(a: number, key: number, pos: number, cap: number): Outcome {
    const { ref } = this.grantDirect(a, a, 0, 1, WRITE);
    this.dsKeyGrant(a);
    this.revoke(ref);
    const e = this.ds.get(`${key}:mem`);
    if (e === undefined || !(e.value instanceof Uint8Array)) return { result: ESRCH };
    if ((e.flags & DSF_PRIV_RETRIEVE) !== 0 && e.owner !== a) return { result: EPERM };
    const n = Math.min(cap, e.value.length);
    if (n === 0) return { result: EDOM };
    if (!this.writable(a, pos, n)) return { result: EFAULT };
    this.write(a, pos, e.value.subarray(0, n));
    return { result: OK, value: n };
  }

  /** The LABEL entry of the actors' keys holding endpoint `value`, as its id. */
  private labelHolder(value: number): string | undefined {
    return [...this.ds].find(([id, e]) => id.endsWith(':label') && e.value === value)?.[0];
  }

  /**
   * ds_publish_label(key, value, flags), §6.1 step 7 for LABEL: found by key → EEXIST without OVERWRITE, EPERM
   * (PRIV_OVERWRITE, not the owner), EEXIST if another label holds the value; not found by key, the entry holding the
   * value is found instead → EEXIST without OVERWRITE, EPERM as above, else it is renamed (same slot, new owner and
   * PRIV bits). A value a system label holds (DS_FOREIGN_LABELS) is only published without OVERWRITE (executor).
   * Under the 'rs-only' policy every actor's LABEL publish is EPERM (§6.1 step 2, before the key is looked at).
   */
  publishLabel(a: number, key: number, value: number, flags: number): Outcome {
    this.dsKeyGrant(a);
    if (this.labelPolicy === 'rs-only') return { result: EPERM };
    const id = `${key}:label`;
    const holder = this.labelHolder(value) ?? (DS_FOREIGN_LABELS.has(value) ? 'foreign' : undefined);
    const found = this.ds.has(id) ? id : holder;
    const old = found === undefined ? undefined : this.ds.get(found);
    if (found !== undefined) {
      if ((flags & DSF_OVERWRITE) === 0) return { result: EEXIST };
      if (old === undefined) throw new Error('oracle: a system label overwritten (not modelled)');
      if ((old.flags & DSF_PRIV_OVERWRITE) !== 0 && old.owner !== a) return { result: EPERM };
      if (holder !== undefined && holder !== found) return { result: EEXIST };
      this.ds.delete(found);
    }
    this.ds.set(id, { owner: a, value, flags: flags & DSF_PRIV, slot: old?.slot ?? this.dsSlot() });
    this.dsNotify(id, true);
    return { result: OK };
  }

  /** ds_retrieve_label_name (§6.3): the key of the LABEL entry holding `value`, with no caller check; none → ESRCH. */
  labelName(a: number, value: number): Outcome {
    this.dsKeyGrant(a);
    const holder = this.labelHolder(value);
    if (holder !== undefined) return { result: OK, value: dsKeyName(dsId(holder)[0]) };
    const foreign = DS_FOREIGN_LABELS.get(value);
    return foreign === undefined ? { result: ESRCH } : { result: OK, value: foreign };
  }

  retrieve(a: number, key: number, type: DsType): Outcome {
    this.dsKeyGrant(a);
    const e = this.ds.get(`${key}:${type}`);
    if (e === undefined) return { result: ESRCH };
    if ((e.flags & DSF_PRIV_RETRIEVE) !== 0 && e.owner !== a) return { result: EPERM };
    if (e.value instanceof Uint8Array) throw new Error('oracle: a MEM value is retrieved with retrieveMem');
    return { result: OK, value: e.value };
  }

  delete(a: number, key: number, type: DsType): Outcome {
    this.dsKeyGrant(a);
    const e = this.ds.get(`${key}:${type}`);
    if (e === undefined) return { result: ESRCH };
    if (e.owner !== a) return { result: EPERM };
    this.dsNotify(`${key}:${type}`, false);
    this.ds.delete(`${key}:${type}`);
    return { result: OK };
  }

  /** §6.6: one subscription per label (EEXIST unless OVERWRITE); a pattern that does not compile → EINVAL. */
  subscribe(a: number, pattern: string, flags: number): Outcome {
    this.dsKeyGrant(a);
    if (this.subs.has(a) && (flags & DSF_OVERWRITE) === 0) return { result: EEXIST };
    try {
      new RegExp(`^(?:${pattern})$`);
    } catch {
      return { result: EINVAL };
    }
    const sub: Subscription = { pattern, filter: flags & 0xff0, pending: new Set() };
    if ((flags & DSF_INITIAL) !== 0)
      for (const [id, e] of this.ds) {
        const [key, type] = dsId(id);
        if (this.dsMatches(sub, a, key, type, e)) sub.pending.add(e.slot);
      }
    // INITIAL with a matching entry: one notification.
    if (sub.pending.size > 0) this.actor(a).notified = true;
    this.subs.set(a, sub);
    return { result: OK };
  }

  /**
   * §6.7: the lowest pending slot's key, type and owner (as `key type owner-actor`), its bit cleared; no
   * subscription → ESRCH, nothing pending → ENOENT. A cleared entry's bit is gone, so it is never reported. With
   * `notify` the actor first takes DS's pending notification, and the value says whether there was one.
   */
  check(a: number, notify = false): Outcome {
    const m = this.actor(a);
    const notified = notify ? m.notified : null;
    if (notify) m.notified = false;
    const out = this.pendingCheck(a);
    return checkOutcome(out.result, notified, out.value ?? '');
  }

  private pendingCheck(a: number): { result: number; value?: string } {
    this.dsKeyGrant(a);
    const sub = this.subs.get(a);
    if (sub === undefined) return { result: ESRCH };
    const slot = Math.min(...sub.pending);
    const found = [...this.ds].find(([, e]) => e.slot === slot);
    if (found === undefined) return { result: ENOENT };
    sub.pending.delete(slot);
    const [id, e] = found;
    const [key, type] = dsId(id);
    return { result: OK, value: `${dsKeyName(key)} ${TYPE_BIT[type]} ${e.owner}` };
  }

  // ------------------------------------------------------------------ DS MAP entries (spec/ds.md §5, §6.1–6.5)

  /**
   * ds_publish_map of window pages [page, page+pages): the library's READ|MAP grant to DS (kept on success,
   * revoked on failure), then the request: OVERWRITE → EINVAL, an existing MAP entry → EEXIST, the kernel's
   * mapping table full → EBUSY; else DS maps the pages read-only, live, with no snapshot yet.
   */
  publishMap(a: number, key: number, page: number, pages: number, flags: number): Outcome {
    const { ref } = this.create(a, {
      kind: 'direct',
      access: READ | MAP,
      to: DS_WHO,
      page,
      pages,
      from: null,
    });
    this.dsKeyGrant(a);
    const id = `${key}:map`;
    const fail = (err: number): Outcome => {
      this.revoke(ref);
      return { result: err };
    };
    if ((flags & DSF_OVERWRITE) !== 0) return fail(EINVAL);
    if (this.ds.has(id)) return fail(EEXIST);
    if (this.records.length >= MAX_MAP_INFO) return fail(EBUSY);
    const cells = this.actor(a).cells.slice(page, page + pages);
    const slot = this.dsSlot();
    this.ds.set(id, {
      owner: a,
      value: 0,
      flags: flags & 0xfff,
      slot,
      map: { cells, sindex: -1, ring: [], grant: ref },
    });
    this.records.push({
      presented: ref,
      final: ref,
      owner: this.who(a),
      ownerPage: page,
      grantee: DS_WHO,
      granteePage: 0,
      pages,
      ds: id,
    });
    this.dsNotify(id, true);
    return { result: OK };
  }

  /**
   * A MAP entry by key, or the error a request for it gets: none → ESRCH; a caller not the owner → EPERM if the
   * entry has the `priv` flag (always for 'owner').
   */
  private mapEntry(
    a: number,
    key: number,
    priv: number | 'owner',
  ): { e: DsEntry; m: DsMap } | { err: number } {
    const e = this.ds.get(`${key}:map`);
    if (e?.map === undefined) return { err: ESRCH };
    if ((priv === 'owner' || (e.flags & priv) !== 0) && e.owner !== a) return { err: EPERM };
    return { e, m: e.map };
  }

  /** ds_snapshot_map: the live window into ring slot (sindex + 1) mod 5; the outcome's value is the new number. */
  snapshotMap(a: number, key: number): Outcome {
    this.dsKeyGrant(a);
    const x = this.mapEntry(a, key, DSF_PRIV_SNAPSHOT);
    if ('err' in x) return { result: x.err };
    x.m.sindex++;
    x.m.ring[x.m.sindex % NR_DS_SNAPSHOT] = mapBytes(x.m);
    return { result: OK, value: x.m.sindex };
  }

  /**
   * ds_retrieve_map with COPY_MAPPED (n null: the live window) or COPY_SNAPSHOT n (outside [max(0, sindex − 4),
   * sindex] → EINVAL) into a buffer of `capacity` bytes under a WRITE grant the library makes before the key's and
   * revokes after (capacity 0: a 0-byte safecopy, EDOM); the outcome's value is the bytes copied, as runs.
   */
  retrieveMap(a: number, key: number, n: number | null, capacity: number): Outcome {
    const { ref } = this.grantDirect(a, a, 0, 1, WRITE);
    this.dsKeyGrant(a);
    this.revoke(ref);
    const x = this.mapEntry(a, key, DSF_PRIV_RETRIEVE);
    if ('err' in x) return { result: x.err };
    const { sindex, ring } = x.m;
    const bytes =
      n === null
        ? mapBytes(x.m)
        : n >= Math.max(0, sindex - NR_DS_SNAPSHOT + 1) && n <= sindex
          ? ring[n % NR_DS_SNAPSHOT]
          : null;
    if (bytes === null || bytes === undefined) return { result: EINVAL };
    if (capacity === 0) return { result: EDOM };
    return { result: OK, value: runs(bytes.subarray(0, capacity)) };
  }

  /**
   * ds_retrieve_map with MAP_MAPPED at window page `page`: DS grants its window READ|MAP to the caller and the
   * library safemaps min(pages, the entry's) of it read-only there (the mapping table full → EBUSY): a live view
   * publisher → DS → retriever. The outcome's value is the pages mapped.
   */
  retrieveMapped(a: number, key: number, page: number, pages: number): Outcome {
    this.dsKeyGrant(a);
    const x = this.mapEntry(a, key, DSF_PRIV_RETRIEVE);
    if ('err' in x) return { result: x.err };
    if (this.records.length >= MAX_MAP_INFO) return { result: EBUSY };
    const n = Math.min(pages, x.m.cells.length);
    const ds: GrantRef = { ...DS_WHO, slot: 0, seq: 0 };
    const id = `${key}:map`;
    this.mapInto(x.m.cells, false, {
      presented: ds,
      final: ds,
      owner: DS_WHO,
      ownerPage: 0,
      grantee: this.who(a),
      granteePage: page,
      pages: n,
      ds: id,
    });
    return { result: OK, value: n };
  }

  /**
   * ds_delete_map: ESRCH, a caller not the owner → EPERM; else DS unmaps its window and takes it back from every
   * MAP_MAPPED retriever (each keeps a private copy), the entry goes (subscribers' bits cleared), and the library
   * of the instance that published it revokes the grant it kept.
   */
  deleteMap(a: number, key: number): Outcome {
    this.dsKeyGrant(a);
    const x = this.mapEntry(a, key, 'owner');
    if ('err' in x) return { result: x.err };
    const id = `${key}:map`;
    this.dropRecords((r) => r.ds === id, true);
    this.dsNotify(id, false);
    this.ds.delete(id);
    if (x.m.grant.inst === this.actor(a).inst) this.revoke(x.m.grant);
    return { result: OK };
  }

  /** RS_DOWN of every actor at the end: DS purges their entries. */
  downAll(): void {
    this.ds.clear();
    this.subs.clear();
    this.records = [];
  }
}
