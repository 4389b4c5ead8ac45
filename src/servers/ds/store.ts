// Models the Data Store's tables and request logic (servers/ds/store.c, spec/ds.md §4, §6–§9): entries keyed by
// (key, type), owner labels, the LABEL name↔endpoint map, PRIV bits, MAP snapshot rings, subscriptions with
// pending bitmaps. Entry points: DsStore (boot, handle, nameOf, endpointOf, snapshot, sanityCheck), DsMemory,
// DS_SANITY_RULES (what sanityCheck reports).
// DIVERGES: every MINIX defect listed in spec/ds.md is fixed; memory, grants and notify go through DsMemory so
// this logic runs without a kernel in unit tests. An empty key (first byte NUL) is EINVAL (keeps §9's 1..79);
// a MEM/MAP length that is not a positive integer is EINVAL before allocation; freeing a slot clears its
// pending bit in every subscription (keeps §9's "pending bits only on in-use slots").
import {
  DSF_INITIAL,
  DSF_IN_USE,
  DSF_MASK_INTERNAL,
  DSF_MASK_TYPE,
  DSF_OVERWRITE,
  DSF_PRIV_OVERWRITE,
  DSF_PRIV_RETRIEVE,
  DSF_PRIV_SNAPSHOT,
  DSF_PRIV_SUBSCRIBE,
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
  NR_DS_SNAPSHOT,
  dsTypeName,
} from '../../include/ds.ts';
import type { DsFields } from '../../include/ds.ts';
import { GETSYSINFO, SI_DATA_STORE, SI_SUBSCRIPTION } from '../../include/com.ts';
import { DS_PROC_NR, NONE, RS_PROC_NR } from '../../include/endpoint.ts';
import type { Endpoint } from '../../include/endpoint.ts';
import { EAGAIN, EDOM, EEXIST, EINVAL, ENOENT, ENOMEM, EPERM, ESRCH, OK } from '../../include/errno.ts';
import type { Message } from '../../include/ipc.ts';
import { numField } from '../../include/ipc.ts';
import { assert, panic } from '../../lib/assert.ts';
import { isPageAligned } from '../../lib/units.ts';

export type DsLabelPolicy = 'any' | 'rs-only';

export interface DsConfig {
  /** NR_DS_KEYS: entries of all types, labels included. */
  maxKeys: number;
  /** NR_DS_SUBS. */
  maxSubs: number;
  labelPolicy: DsLabelPolicy;
}

/**
 * What the store needs from DS's process: memory in its own address space, copies and mappings through grants,
 * grants of its own, notify. Every call returns OK / a value ≥ 0, or a negative errno.
 */
export interface DsMemory {
  /** safecopyfrom(ep, gid, 0, scratch, len) and the bytes copied: the key step's copy. */
  fetch(ep: Endpoint, gid: number, len: number): Promise<Uint8Array | number>;
  /** safecopyto(ep, gid, 0, ...) of `bytes` (keys and label names to the caller). */
  deliver(ep: Endpoint, gid: number, bytes: Uint8Array): Promise<number>;
  /** A new page-aligned range of at least `len` bytes in DS's address space: its address, or ENOMEM. */
  alloc(len: number): Promise<number>;
  free(addr: number, len: number): Promise<void>;
  /** safecopyfrom(ep, gid, 0, addr, len) into DS memory. */
  copyIn(ep: Endpoint, gid: number, addr: number, len: number): Promise<number>;
  /** safecopyto(ep, gid, 0, addr, len) from DS memory. */
  copyOut(ep: Endpoint, gid: number, addr: number, len: number): Promise<number>;
  /** Copies len bytes inside DS memory (snapshots). */
  copyLocal(src: number, dst: number, len: number): Promise<void>;
  /** safemap(ep, gid, 0, addr, len, writable 0). */
  map(ep: Endpoint, gid: number, addr: number, len: number): Promise<number>;
  /** safeunmap(addr): DS keeps a private copy. */
  unmap(addr: number): Promise<number>;
  /** saferevmap_addr(addr): every retriever of DS's pages at addr keeps a private copy. */
  revmapAddr(addr: number): Promise<number>;
  /** cpf_grant_direct(to, addr, len, READ|MAP): the id, or a negative errno. */
  grantMap(to: Endpoint, addr: number, len: number): Promise<number>;
  revoke(gid: number): Promise<number>;
  notify(ep: Endpoint): Promise<void>;
}

/** A MAP value: DS's live window onto the publisher's pages, snapshots, and the MAP_MAPPED grants DS made. */
export interface DsMapValue {
  kind: 'map';
  window: number;
  length: number;
  /** Number of the last snapshot; −1 before the first. */
  sindex: number;
  /** Snapshot n lives in ring[n mod NR_DS_SNAPSHOT]: a DS buffer of `length` bytes, or null. */
  ring: (number | null)[];
  mappedGrants: number[];
}

export type DsValue =
  | { kind: 'u32'; u32: number }
  | { kind: 'label'; endpoint: number }
  | { kind: 'str'; str: Uint8Array }
  | { kind: 'mem'; addr: number; length: number }
  | DsMapValue;

export interface DsEntry {
  flags: number;
  key: string;
  /** Label name of the last successful publisher. */
  owner: string;
  value: DsValue;
}

export interface DsSubscription {
  owner: string;
  pattern: string;
  regex: RegExp;
  /** Type filter; 0 means every type. */
  filter: number;
  /** One byte per entry slot: 1 = pending. */
  pending: Uint8Array;
}

/** A reply: the result and the fields DS changed (main echoes them over the request). */
export type DsReply = { type: number; table?: unknown } & DsFields;

/** A serialisable view of one entry (GETSYSINFO, inspection). */
export interface DsEntryInfo {
  /** Slot in DS's table. */
  slot: number;
  /** DSF_* flags of the entry (type and privacy bits). */
  flags: number;
  /** 'U32', 'STR', 'MEM', 'MAP' or 'LABEL'. */
  type: string;
  /** The key. */
  key: string;
  /** Label of the last process that published it. */
  owner: string;
  /** U32 and LABEL: the number (a label's endpoint); STR: the string; MEM and MAP: where DS keeps it. */
  value:
    | number
    | string
    | {
        /** MEM: address of the copy in DS's memory. */
        addr: number;
        /** Bytes. */
        length: number;
      }
    | {
        /** MAP: address of DS's window onto the publisher's pages. */
        window: number;
        /** Bytes. */
        length: number;
        /** Number of the last snapshot; -1 before the first. */
        sindex: number;
        /** How many MAP_MAPPED grants DS made to retrievers. */
        mappedGrants: number;
      };
}

/** A serialisable view of one subscription (GETSYSINFO, inspection). */
export interface DsSubscriptionInfo {
  /** Slot in DS's subscription table. */
  slot: number;
  /** Label of the subscriber. */
  owner: string;
  /** The key pattern (a regular expression). */
  pattern: string;
  /** Type filter (DSF_TYPE_* bits); 0 means every type. */
  filter: number;
  /** Entry slots changed since the subscriber last called ds_check. */
  pending: number[];
}

export type DsTraceFn = (op: string, caller: number, key: string, result: number) => void;

const TYPE_BITS = [DSF_TYPE_U32, DSF_TYPE_STR, DSF_TYPE_MEM, DSF_TYPE_MAP, DSF_TYPE_LABEL];
const isOneType = (t: number): boolean => TYPE_BITS.includes(t);
const latin1 = (bytes: Uint8Array): string => String.fromCharCode(...bytes);
const latin1Bytes = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);
/** The key with its NUL, as DS copies it out (CHECK, RETRIEVE_LABEL). */
const keyWithNul = (s: string): Uint8Array => latin1Bytes(`${s}\0`);
const isCount = (n: number): boolean => Number.isInteger(n) && n >= 0;

/** Per type: how a value is built on publish, answered on retrieve, and released on delete or overwrite. */
interface ValueKind {
  build(s: DsStore, caller: Endpoint, m: Message): Promise<DsValue | number>;
  retrieve(s: DsStore, e: DsEntry, caller: Endpoint, m: Message): Promise<DsReply>;
  release(s: DsStore, v: DsValue): Promise<number>;
}

const noRelease = (): Promise<number> => Promise.resolve(OK);

const u32Kind: ValueKind = {
  build: (_s, _c, m) => Promise.resolve({ kind: 'u32', u32: numField(m, 'val') >>> 0 }),
  retrieve: (_s, e) => Promise.resolve({ type: OK, val: e.value.kind === 'u32' ? e.value.u32 : 0 }),
  release: noRelease,
};

const labelKind: ValueKind = {
  build: (_s, _c, m) => Promise.resolve({ kind: 'label', endpoint: numField(m, 'val') | 0 }),
  retrieve: (_s, e) => Promise.resolve({ type: OK, val: e.value.kind === 'label' ? e.value.endpoint : NONE }),
  release: noRelease,
};

const strKind: ValueKind = {
  build: (_s, _c, m) => Promise.resolve({ kind: 'str', str: (m.str as Uint8Array).slice(0, DS_MAX_STRLEN) }),
  retrieve: (_s, e) => Promise.resolve({ type: OK, str: e.value.kind === 'str' ? e.value.str.slice() : new Uint8Array(DS_MAX_STRLEN) }),
  release: noRelease,
};

const memKind: ValueKind = {
  async build(s, caller, m) {
    const len = numField(m, 'valLen');
    // 0 bytes: MINIX's safecopy of nothing answers EDOM (ds.md §12 item 2); other non-counts are EINVAL.
    if (len === 0) return EDOM;
    if (!Number.isInteger(len) || len < 0) return EINVAL;
    const addr = await s.heapAlloc(len);
    if (addr < 0) return addr;
    const r = await s.mem.copyIn(caller, numField(m, 'val'), addr, len);
    if (r !== OK) {
      await s.heapFree(addr);
      return r;
    }
    return { kind: 'mem', addr, length: len };
  },
  async retrieve(s, e, caller, m) {
    // Stryker disable next-line StringLiteral: find() by the MEM bit only returns MEM entries, and publish stores a MEM value there; the assert never fires
    assert(e.value.kind === 'mem', 'ds: MEM entry without a MEM value');
    const cap = numField(m, 'valLen');
    if (!isCount(cap)) return { type: EINVAL };
    const n = Math.min(cap, e.value.length);
    const r = n > 0 ? await s.mem.copyOut(caller, numField(m, 'val'), e.value.addr, n) : EDOM;
    return r === OK ? { type: OK, valLen: n } : { type: r };
  },
  async release(s, v) {
    // Stryker disable next-line StringLiteral: release is looked up by the entry's own type, whose value kind matches; the assert never fires
    assert(v.kind === 'mem', 'ds: MEM release of another kind');
    await s.heapFree(v.addr);
    return OK;
  },
};

const mapKind: ValueKind = {
  async build(s, caller, m) {
    const len = numField(m, 'valLen');
    if (!Number.isInteger(len) || len <= 0) return EINVAL;
    const window = await s.heapAlloc(len);
    if (window < 0) return window;
    const r = await s.mem.map(caller, numField(m, 'val'), window, len);
    if (r !== OK) {
      await s.heapFree(window);
      return r;
    }
    return { kind: 'map', window, length: len, sindex: -1, ring: new Array<number | null>(NR_DS_SNAPSHOT).fill(null), mappedGrants: [] };
  },
  retrieve: (s, e, caller, m) => s.retrieveMap(e, caller, m),
  async release(s, v) {
    // Stryker disable next-line StringLiteral: release is looked up by the entry's own type, whose value kind matches; the assert never fires
    assert(v.kind === 'map', 'ds: MAP release of another kind');
    let r = await s.mem.unmap(v.window);
    if (r !== OK) return r;
    r = await s.mem.revmapAddr(v.window);
    if (r !== OK) return r;
    for (const g of v.mappedGrants.splice(0)) await s.mem.revoke(g);
    for (let i = 0; i < v.ring.length; i++) {
      const b = v.ring[i];
      if (b !== null && b !== undefined) await s.heapFree(b);
      v.ring[i] = null;
    }
    await s.heapFree(v.window);
    return OK;
  },
};

const kinds: Readonly<Record<number, ValueKind>> = {
  [DSF_TYPE_U32]: u32Kind,
  [DSF_TYPE_STR]: strKind,
  [DSF_TYPE_MEM]: memKind,
  [DSF_TYPE_MAP]: mapKind,
  [DSF_TYPE_LABEL]: labelKind,
};

function kindOf(type: number): ValueKind {
  const k = kinds[type];
  // Stryker disable next-line StringLiteral: callers check isOneType() first, so every type has a kind; the message is never built
  assert(k !== undefined, () => `ds: no value kind for type 0x${type.toString(16)}`);
  return k;
}

export class DsStore {
  private readonly table: (DsEntry | null)[];
  private readonly subs: (DsSubscription | null)[];
  /** Every live DS allocation: address → length. */
  private readonly heap = new Map<number, number>();

  constructor(
    readonly config: DsConfig,
    readonly mem: DsMemory,
    private readonly trace: DsTraceFn | null = null,
  ) {
    this.table = new Array<DsEntry | null>(config.maxKeys).fill(null);
    this.subs = new Array<DsSubscription | null>(config.maxSubs).fill(null);
  }

  // ---------------------------------------------------------------- names and lookups

  /** The caller's label name: "ds" for DS, else the LABEL whose value is `ep`, else null (unlabelled). */
  nameOf(ep: number): string | null {
    if (ep === DS_PROC_NR) return 'ds';
    const i = this.findLabelByValue(ep);
    return i < 0 ? null : (this.table[i]?.key ?? null);
  }

  /** The endpoint a label name stands for now: "ds" → DS, else the LABEL's value, else NONE. */
  endpointOf(name: string): Endpoint {
    if (name === 'ds') return DS_PROC_NR;
    const i = this.find(name, DSF_TYPE_LABEL);
    const v = i < 0 ? undefined : this.table[i]?.value;
    return v?.kind === 'label' ? (v.endpoint as Endpoint) : NONE;
  }

  /** The in-use entry whose type intersects `type` and whose key is `key`; type 0 matches nothing. */
  private find(key: string, type: number): number {
    const t = type & DSF_MASK_TYPE;
    if (t === 0) return -1;
    return this.table.findIndex((e) => e !== null && (e.flags & t) !== 0 && e.key === key);
  }

  private findLabelByValue(ep: number): number {
    return this.table.findIndex((e) => e !== null && e.value.kind === 'label' && e.value.endpoint === ep);
  }

  private entryAt(i: number): DsEntry {
    const e = this.table[i];
    // Stryker disable next-line StringLiteral: callers pass slots found in use; the message is never built
    assert(e !== null && e !== undefined, () => `ds: slot ${i} is not in use`);
    return e;
  }

  // ---------------------------------------------------------------- DS memory accounting

  async heapAlloc(len: number): Promise<number> {
    const addr = await this.mem.alloc(len);
    if (addr < 0) return addr === EINVAL ? EINVAL : ENOMEM;
    // Stryker disable next-line StringLiteral: VM (and the fake memory of the tests) never hands out a live range twice; the message is never built
    assert(!this.heap.has(addr), () => `ds: allocator returned 0x${addr.toString(16)} twice`);
    this.heap.set(addr, len);
    return addr;
  }

  async heapFree(addr: number): Promise<void> {
    const len = this.heap.get(addr);
    // Stryker disable next-line StringLiteral: the store frees only addresses it holds, once; the message is never built
    assert(len !== undefined, () => `ds: free of unallocated 0x${addr.toString(16)}`);
    this.heap.delete(addr);
    await this.mem.free(addr, len);
  }

  // ---------------------------------------------------------------- boot

  /** §8: a LABEL per boot service, owner "rs", no PRIV bits; subscribers updated. Any failure panics. */
  async boot(labels: readonly { label: string; endpoint: number }[]): Promise<void> {
    for (const { label, endpoint } of labels) {
      assert(label.length >= 1 && label.length < DS_MAX_KEYLEN, () => `ds boot: bad label "${label}"`);
      assert(this.find(label, DSF_TYPE_LABEL) < 0 && this.findLabelByValue(endpoint) < 0, () => `ds boot: label ${label} twice`);
      const slot = this.table.indexOf(null);
      if (slot < 0) panic(`ds boot: no slot for label ${label}`);
      this.table[slot] = { flags: DSF_IN_USE | DSF_TYPE_LABEL, key: label, owner: 'rs', value: { kind: 'label', endpoint } };
      await this.updateSubscribers(slot, true);
    }
  }

  // ---------------------------------------------------------------- dispatch

  /** One request: the reply to send, or null for a notification (never answered). */
  async handle(m: Message): Promise<DsReply> {
    const r = await this.dispatch(m);
    if (this.trace !== null) this.trace(opName(m.type), m.source, this.lastKey, r.type);
    this.lastKey = '';
    return r;
  }

  private lastKey = '';

  private dispatch(m: Message): Promise<DsReply> {
    switch (m.type) {
      case DS_PUBLISH:
        return this.publish(m);
      case DS_RETRIEVE:
        return this.retrieve(m);
      case DS_RETRIEVE_LABEL:
        return this.retrieveLabel(m);
      case DS_DELETE:
        return this.doDelete(m);
      case DS_SNAPSHOT:
        return this.snapshotMap(m);
      case DS_SUBSCRIBE:
        return this.subscribe(m);
      case DS_CHECK:
        return this.check(m);
      case GETSYSINFO:
        return Promise.resolve(this.getsysinfo(numField(m, 'what')));
      default:
        return Promise.resolve({ type: EINVAL });
    }
  }

  /** The key step: length in [2, 80], copy through the caller's grant, cut at 79 chars. */
  private async getKey(m: Message): Promise<string | number> {
    const len = numField(m, 'keyLen');
    if (!Number.isInteger(len) || len < 2 || len > DS_MAX_KEYLEN) return EINVAL;
    const bytes = await this.mem.fetch(m.source, numField(m, 'keyGrant'), len);
    if (typeof bytes === 'number') return bytes;
    const cut = bytes.subarray(0, DS_MAX_KEYLEN - 1);
    const nul = cut.indexOf(0);
    const key = latin1(nul >= 0 ? cut.subarray(0, nul) : cut);
    if (key.length === 0) return EINVAL;
    this.lastKey = key;
    return key;
  }

  // ---------------------------------------------------------------- PUBLISH (§6.1)

  private async publish(m: Message): Promise<DsReply> {
    const caller = m.source;
    const flags = numField(m, 'flags') | 0;
    const type = flags & DSF_MASK_TYPE;
    const name = this.nameOf(caller);
    if (name === null) return { type: EPERM };
    if (this.config.labelPolicy === 'rs-only' && (type & DSF_TYPE_LABEL) !== 0 && caller !== RS_PROC_NR) return { type: EPERM };
    if ((type & DSF_TYPE_MAP) !== 0 && (flags & DSF_OVERWRITE) !== 0) return { type: EINVAL };
    if (!isOneType(type)) return { type: EINVAL };
    if (type === DSF_TYPE_STR && !(m.str instanceof Uint8Array && m.str.subarray(0, DS_MAX_STRLEN).includes(0))) return { type: EINVAL };
    const key = await this.getKey(m);
    if (typeof key === 'number') return { type: key };
    const slot = this.publishSlot(key, type, flags, name, numField(m, 'val'));
    if (slot < 0) return { type: slot };
    const value = await kindOf(type).build(this, caller, m);
    if (typeof value === 'number') return { type: value };
    const old = this.table[slot];
    if (old !== null && old !== undefined) {
      const r = await kindOf(old.flags & DSF_MASK_TYPE).release(this, old.value);
      assert(r === OK, 'ds: releasing an overwritten value cannot fail');
    }
    this.table[slot] = { flags: DSF_IN_USE | (flags & DSF_MASK_INTERNAL), key, owner: name, value };
    await this.updateSubscribers(slot, true);
    return { type: OK };
  }

  /** Step 7 of PUBLISH: the slot to fill (an existing entry to overwrite, or a free one), or an errno. */
  private publishSlot(key: string, type: number, flags: number, name: string, val: number): number {
    let i = this.find(key, type);
    if (i < 0 && type === DSF_TYPE_LABEL) i = this.findLabelByValue(val | 0);
    if (i < 0) {
      const free = this.table.indexOf(null);
      return free < 0 ? ENOMEM : free;
    }
    const e = this.entryAt(i);
    if ((flags & DSF_OVERWRITE) === 0) return EEXIST;
    if ((e.flags & DSF_PRIV_OVERWRITE) !== 0 && name !== e.owner) return EPERM;
    if (type === DSF_TYPE_LABEL) {
      const holder = this.findLabelByValue(val | 0);
      if (holder >= 0 && holder !== i) return EEXIST;
    }
    return i;
  }

  // ---------------------------------------------------------------- RETRIEVE (§6.2, §6.3)

  private async retrieve(m: Message): Promise<DsReply> {
    const key = await this.getKey(m);
    if (typeof key === 'number') return { type: key };
    const type = numField(m, 'flags') & DSF_MASK_TYPE;
    const i = this.find(key, type);
    if (i < 0) return { type: ESRCH };
    const e = this.entryAt(i);
    if ((e.flags & DSF_PRIV_RETRIEVE) !== 0 && this.nameOf(m.source) !== e.owner) return { type: EPERM };
    if (!isOneType(type)) return { type: EINVAL };
    return kindOf(type).retrieve(this, e, m.source, m);
  }

  /** MAP retrieve: MAP_MAPPED, COPY_MAPPED, COPY_SNAPSHOT by priority. */
  async retrieveMap(e: DsEntry, caller: Endpoint, m: Message): Promise<DsReply> {
    const v = e.value;
    // Stryker disable next-line StringLiteral: find() by the MAP bit only returns MAP entries, and publish stores a MAP value there; the assert never fires
    assert(v.kind === 'map', 'ds: MAP entry without a MAP value');
    const flags = numField(m, 'flags');
    if ((flags & DSMF_MAP_MAPPED) !== 0) {
      const g = await this.mem.grantMap(caller, v.window, v.length);
      if (g < 0) return { type: g };
      v.mappedGrants.push(g);
      return { type: OK, val: g, valLen: v.length };
    }
    let src: number;
    if ((flags & DSMF_COPY_MAPPED) !== 0) src = v.window;
    else if ((flags & DSMF_COPY_SNAPSHOT) !== 0) {
      const n = numField(m, 'nrSnapshot');
      const valid = v.sindex >= 0 && Number.isInteger(n) && n >= Math.max(0, v.sindex - (NR_DS_SNAPSHOT - 1)) && n <= v.sindex;
      const b = valid ? v.ring[n % NR_DS_SNAPSHOT] : null;
      if (b === null || b === undefined) return { type: EINVAL };
      src = b;
    } else return { type: EINVAL };
    const cap = numField(m, 'valLen');
    if (!isCount(cap)) return { type: EINVAL };
    const count = Math.min(cap, v.length);
    const r = count > 0 ? await this.mem.copyOut(caller, numField(m, 'val'), src, count) : EDOM;
    return r === OK ? { type: OK, valLen: count } : { type: r };
  }

  private async retrieveLabel(m: Message): Promise<DsReply> {
    const i = this.findLabelByValue(numField(m, 'val') | 0);
    if (i < 0) return { type: ESRCH };
    const key = this.entryAt(i).key;
    this.lastKey = key;
    const r = await this.mem.deliver(m.source, numField(m, 'keyGrant'), keyWithNul(key));
    return { type: r };
  }

  // ---------------------------------------------------------------- DELETE (§6.4)

  private async doDelete(m: Message): Promise<DsReply> {
    const name = this.nameOf(m.source);
    if (name === null) return { type: EPERM };
    const key = await this.getKey(m);
    if (typeof key === 'number') return { type: key };
    const i = this.find(key, numField(m, 'flags'));
    if (i < 0) return { type: ESRCH };
    if (name !== this.entryAt(i).owner) return { type: EPERM };
    // Several type bits find an entry that has any of them; MINIX's release switch then answers EINVAL.
    if (!isOneType(numField(m, 'flags') & DSF_MASK_TYPE)) return { type: EINVAL };
    return { type: await this.deleteSlot(i) };
  }

  /** Releases the entry's resources (purging a label's owner), notifies subscribers (clear), frees the slot. */
  private async deleteSlot(i: number): Promise<number> {
    const e = this.entryAt(i);
    this.deleting.add(i);
    try {
      const r = await kindOf(e.flags & DSF_MASK_TYPE).release(this, e.value);
      if (r !== OK) return r;
      if (e.value.kind === 'label') {
        const p = await this.purge(e.key);
        if (p !== OK) return p;
      }
      // Stryker disable next-line BooleanLiteral: the loop below clears the slot's bit in every subscription after this call, so setting it here changes nothing but the (same) notifications
      await this.updateSubscribers(i, false);
      this.table[i] = null;
      for (const s of this.subs) if (s !== null) s.pending[i] = 0;
      return OK;
    } finally {
      this.deleting.delete(i);
    }
  }

  /** Slots whose deletion is under way: a purge never re-enters them (labels that own each other). */
  private readonly deleting = new Set<number>();

  /** A label goes away: its subscription (no notification) and every entry it owns (with notifications). */
  private async purge(label: string): Promise<number> {
    const s = this.subs.findIndex((x) => x !== null && x.owner === label);
    if (s >= 0) this.subs[s] = null;
    for (let j = 0; j < this.table.length; j++) {
      if (this.deleting.has(j) || this.table[j]?.owner !== label) continue;
      const r = await this.deleteSlot(j);
      if (r !== OK) return r;
    }
    return OK;
  }

  // ---------------------------------------------------------------- SNAPSHOT (§6.5)

  private async snapshotMap(m: Message): Promise<DsReply> {
    const key = await this.getKey(m);
    if (typeof key === 'number') return { type: key };
    const i = this.find(key, DSF_TYPE_MAP);
    if (i < 0) return { type: ESRCH };
    const e = this.entryAt(i);
    if ((e.flags & DSF_PRIV_SNAPSHOT) !== 0 && this.nameOf(m.source) !== e.owner) return { type: EPERM };
    const v = e.value;
    // Stryker disable next-line StringLiteral: find() by the MAP bit only returns MAP entries, and publish stores a MAP value there; the assert never fires
    assert(v.kind === 'map', 'ds: MAP entry without a MAP value');
    const n = v.sindex + 1;
    const slot = n % NR_DS_SNAPSHOT;
    let buf = v.ring[slot] ?? null;
    if (buf === null) {
      const a = await this.heapAlloc(v.length);
      if (a < 0) return { type: ENOMEM };
      buf = a;
      v.ring[slot] = a;
    }
    v.sindex = n;
    await this.mem.copyLocal(v.window, buf, v.length);
    return { type: OK, nrSnapshot: n };
  }

  // ---------------------------------------------------------------- SUBSCRIBE, CHECK (§6.6, §6.7)

  private async subscribe(m: Message): Promise<DsReply> {
    const name = this.nameOf(m.source);
    if (name === null) return { type: ESRCH };
    const flags = numField(m, 'flags') | 0;
    let slot = this.subs.findIndex((s) => s !== null && s.owner === name);
    if (slot >= 0 && (flags & DSF_OVERWRITE) === 0) return { type: EEXIST };
    if (slot < 0) slot = this.subs.indexOf(null);
    if (slot < 0) return { type: EAGAIN };
    const pattern = await this.getKey(m);
    if (typeof pattern === 'number') return { type: pattern };
    let regex: RegExp;
    try {
      regex = new RegExp(`^(?:${pattern})$`);
    } catch {
      return { type: EINVAL };
    }
    const sub: DsSubscription = { owner: name, pattern, regex, filter: flags & DSF_MASK_TYPE, pending: new Uint8Array(this.config.maxKeys) };
    this.subs[slot] = sub;
    if ((flags & DSF_INITIAL) !== 0) {
      let any = false;
      this.table.forEach((e, i) => {
        if (e !== null && this.matches(sub, e)) {
          sub.pending[i] = 1;
          any = true;
        }
      });
      if (any) await this.mem.notify(m.source);
    }
    return { type: OK };
  }

  private async check(m: Message): Promise<DsReply> {
    const name = this.nameOf(m.source);
    // Stryker disable next-line ConditionalExpression: no subscription has a null owner, so the lookup below answers the same ESRCH
    if (name === null) return { type: ESRCH };
    const sub = this.subs.find((s) => s !== null && s.owner === name);
    if (sub === undefined || sub === null) return { type: ESRCH };
    const i = sub.pending.indexOf(1);
    if (i < 0) return { type: ENOENT };
    const e = this.entryAt(i);
    this.lastKey = e.key;
    const r = await this.mem.deliver(m.source, numField(m, 'keyGrant'), keyWithNul(e.key));
    if (r !== OK) return { type: r };
    sub.pending[i] = 0;
    return { type: OK, flags: e.flags & DSF_MASK_TYPE, owner: this.endpointOf(e.owner) };
  }

  private matches(s: DsSubscription, e: DsEntry): boolean {
    if (s.filter !== 0 && (s.filter & e.flags & DSF_MASK_TYPE) === 0) return false;
    if (!s.regex.test(e.key)) return false;
    return (e.flags & DSF_PRIV_SUBSCRIBE) === 0 || s.owner === e.owner;
  }

  /** §7: set or clear the slot's bit in every matching subscription, in slot order, and notify each subscriber. */
  private async updateSubscribers(slot: number, set: boolean): Promise<void> {
    const e = this.entryAt(slot);
    for (const s of this.subs) {
      if (s === null || !this.matches(s, e)) continue;
      s.pending[slot] = set ? 1 : 0;
      const ep = this.endpointOf(s.owner);
      if (ep !== NONE) await this.mem.notify(ep);
    }
  }

  // ---------------------------------------------------------------- GETSYSINFO, inspection

  private getsysinfo(what: number): DsReply {
    if (what === SI_DATA_STORE) return { type: OK, table: this.entries() };
    if (what === SI_SUBSCRIPTION) return { type: OK, table: this.subscriptions() };
    return { type: EINVAL };
  }

  /** The in-use entries, in slot order, as plain data. */
  entries(): DsEntryInfo[] {
    const out: DsEntryInfo[] = [];
    this.table.forEach((e, slot) => {
      if (e !== null) out.push({ slot, flags: e.flags, type: dsTypeName(e.flags), key: e.key, owner: e.owner, value: valueInfo(e.value) });
    });
    return out;
  }

  subscriptions(): DsSubscriptionInfo[] {
    const out: DsSubscriptionInfo[] = [];
    this.subs.forEach((s, slot) => {
      if (s === null) return;
      const pending: number[] = [];
      s.pending.forEach((b, i) => {
        if (b !== 0) pending.push(i);
      });
      out.push({ slot, owner: s.owner, pattern: s.pattern, filter: s.filter, pending });
    });
    return out;
  }

  /** The raw entry at a slot (tests and the server's own use). */
  entry(slot: number): Readonly<DsEntry> | null {
    return this.table[slot] ?? null;
  }

  get usedSlots(): number {
    return this.table.reduce((n, e) => n + (e !== null ? 1 : 0), 0);
  }

  /** Bytes of DS memory held by entries (MEM buffers, MAP windows and snapshots). */
  get heapBytes(): number {
    let n = 0;
    for (const len of this.heap.values()) n += len;
    return n;
  }

  // ---------------------------------------------------------------- sanity (§9)

  /** Checks every DS invariant; panics naming the first broken rule of DS_SANITY_RULES. */
  sanityCheck(): void {
    if (this.table.length !== this.config.maxKeys) fail('TABLE_SIZE', `${this.table.length} entry slots, dsMaxKeys ${this.config.maxKeys}`);
    if (this.subs.length !== this.config.maxSubs) fail('SUBS_SIZE', `${this.subs.length} subscription slots, dsMaxSubs ${this.config.maxSubs}`);
    const ids = new Set<string>();
    const labels = new Set<number>();
    const referenced = new Map<number, number>();
    this.table.forEach((e, slot) => {
      if (e === null) return;
      const type = e.flags & DSF_MASK_TYPE;
      if (!isOneType(type)) fail('ONE_TYPE', `slot ${slot} flags 0x${e.flags.toString(16)}`);
      if ((e.flags & DSF_IN_USE) === 0 || (e.flags & ~DSF_MASK_INTERNAL) !== 0) fail('ENTRY_FLAGS', `slot ${slot} flags 0x${e.flags.toString(16)}`);
      if (e.key.length < 1 || e.key.length >= DS_MAX_KEYLEN) fail('KEY_LENGTH', `slot ${slot} key of ${e.key.length} chars`);
      const id = `${type}:${e.key}`;
      if (ids.has(id)) fail('KEY_UNIQUE', `"${e.key}" ${dsTypeName(type)} twice`);
      ids.add(id);
      if (e.owner.length === 0) fail('OWNER_SET', `slot ${slot} has no owner`);
      if (kindName[type] !== e.value.kind) fail('VALUE_KIND', `slot ${slot} ${dsTypeName(type)} holds a ${e.value.kind} value`);
      if (e.value.kind === 'label') {
        if (labels.has(e.value.endpoint)) fail('LABEL_UNIQUE', `endpoint ${e.value.endpoint} labelled twice`);
        labels.add(e.value.endpoint);
      }
      if (e.value.kind === 'mem') referenced.set(e.value.addr, e.value.length);
      if (e.value.kind === 'map') checkMap(e.value, slot, referenced);
    });
    this.checkSubs();
    for (const [addr, len] of this.heap) {
      if (referenced.get(addr) !== len) fail('ALLOC_LEAKED', `0x${addr.toString(16)} (${len} bytes) not held by an entry of that length`);
    }
    for (const [addr, len] of referenced) {
      if (this.heap.get(addr) !== len) fail('ALLOC_MISSING', `0x${addr.toString(16)} (${len} bytes) not allocated`);
    }
  }

  private checkSubs(): void {
    const owners = new Set<string>();
    this.subs.forEach((s, slot) => {
      if (s === null) return;
      if (owners.has(s.owner)) fail('SUB_OWNER_UNIQUE', `"${s.owner}" subscribes twice`);
      owners.add(s.owner);
      if (s.pending.length !== this.config.maxKeys) fail('PENDING_SIZE', `subscription ${slot} has ${s.pending.length} pending bits`);
      // An indexed loop, not forEach: this runs at every kernel entry with sanity on, over dsMaxKeys bits.
      const pending = s.pending;
      for (let i = 0; i < pending.length; i++) {
        if (pending[i] !== 0 && this.table[i] === null) fail('PENDING_IN_USE', `subscription ${slot} pending on free slot ${i}`);
      }
    });
  }
}

/**
 * The rules DsStore.sanityCheck() reports by name (`DS sanity <RULE>: ...`), in the order it checks them: the table
 * sizes; per in-use entry its type bit, flags, key length, (key, type) uniqueness, owner, value kind, LABEL value
 * uniqueness, and for MAP entries sindex, ring and window; per subscription its owner's uniqueness, bitmap size and
 * pending bits on in-use slots only; every DS allocation held by exactly the entries that reference it.
 */
export const DS_SANITY_RULES = [
  'TABLE_SIZE',
  'SUBS_SIZE',
  'ONE_TYPE',
  'ENTRY_FLAGS',
  'KEY_LENGTH',
  'KEY_UNIQUE',
  'OWNER_SET',
  'VALUE_KIND',
  'LABEL_UNIQUE',
  'MAP_SINDEX',
  'MAP_RING',
  'MAP_WINDOW',
  'SUB_OWNER_UNIQUE',
  'PENDING_SIZE',
  'PENDING_IN_USE',
  'ALLOC_LEAKED',
  'ALLOC_MISSING',
] as const;

/** A DS sanity rule (DS_SANITY_RULES). */
export type DsSanityRule = (typeof DS_SANITY_RULES)[number];

/** Panics naming the DS rule that failed. */
function fail(rule: DsSanityRule, detail: string): never {
  return panic(`DS sanity ${rule}: ${detail}`);
}

/** MAP_SINDEX, MAP_RING, MAP_WINDOW for the MAP entry at `slot`; records its window and snapshots as referenced. */
function checkMap(v: DsMapValue, slot: number, referenced: Map<number, number>): void {
  if (!Number.isInteger(v.sindex) || v.sindex < -1) fail('MAP_SINDEX', `slot ${slot} sindex ${v.sindex}`);
  const buffers = v.ring.filter((b) => b !== null);
  if (v.ring.length !== NR_DS_SNAPSHOT || buffers.length !== Math.min(NR_DS_SNAPSHOT, v.sindex + 1)) {
    fail('MAP_RING', `slot ${slot} sindex ${v.sindex}, ring of ${v.ring.length} holds ${buffers.length} buffers`);
  }
  if (!isPageAligned(v.window)) fail('MAP_WINDOW', `slot ${slot} window 0x${v.window.toString(16)}`);
  referenced.set(v.window, v.length);
  for (const b of buffers) referenced.set(b, v.length);
}

const kindName: Readonly<Record<number, DsValue['kind']>> = {
  [DSF_TYPE_U32]: 'u32',
  [DSF_TYPE_STR]: 'str',
  [DSF_TYPE_MEM]: 'mem',
  [DSF_TYPE_MAP]: 'map',
  [DSF_TYPE_LABEL]: 'label',
};

function valueInfo(v: DsValue): DsEntryInfo['value'] {
  switch (v.kind) {
    case 'u32':
      return v.u32;
    case 'label':
      return v.endpoint;
    case 'str': {
      const nul = v.str.indexOf(0);
      return latin1(nul >= 0 ? v.str.subarray(0, nul) : v.str);
    }
    case 'mem':
      return { addr: v.addr, length: v.length };
    case 'map':
      return { window: v.window, length: v.length, sindex: v.sindex, mappedGrants: v.mappedGrants.length };
  }
}

const opNames: Readonly<Record<number, string>> = {
  [DS_PUBLISH]: 'publish',
  [DS_RETRIEVE]: 'retrieve',
  [DS_SUBSCRIBE]: 'subscribe',
  [DS_CHECK]: 'check',
  [DS_DELETE]: 'delete',
  [DS_SNAPSHOT]: 'snapshot',
  [DS_RETRIEVE_LABEL]: 'retrieve_label',
  [GETSYSINFO]: 'getsysinfo',
};
const opName = (t: number): string => opNames[t] ?? `0x${t.toString(16)}`;
