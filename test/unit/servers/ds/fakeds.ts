// A DS store over a fake DsMemory: clients' grants are host byte arrays, DS memory is a map of page-aligned
// buffers, safemap shares the client's array (live), unmap takes a private copy. For unit tests of store.ts.
import {
  DSF_TYPE_LABEL,
  DSF_TYPE_MAP,
  DSF_TYPE_MEM,
  DSF_TYPE_STR,
  DSF_TYPE_U32,
  DS_CHECK,
  DS_DELETE,
  DS_PUBLISH,
  DS_RETRIEVE,
  DS_RETRIEVE_LABEL,
  DS_SNAPSHOT,
  DS_SUBSCRIBE,
} from '../../../../src/include/ds.ts';
import { endpoint } from '../../../../src/include/endpoint.ts';
import type { Endpoint } from '../../../../src/include/endpoint.ts';
import { EBUSY, EINVAL, ENOMEM, EPERM, OK } from '../../../../src/include/errno.ts';
import type { Message } from '../../../../src/include/ipc.ts';
import { DsStore } from '../../../../src/servers/ds/store.ts';
import type { DsConfig, DsMemory, DsReply, DsTraceFn } from '../../../../src/servers/ds/store.ts';

interface FakeGrant {
  owner: Endpoint;
  to: Endpoint;
  bytes: Uint8Array;
  read: boolean;
  write: boolean;
  map: boolean;
}

interface DsBuf {
  bytes: Uint8Array;
  /** A live safemap of a client's bytes. */
  live: Uint8Array | null;
}

const PAGE = 4096;
export const DS = endpoint(6);

export class FakeMemory implements DsMemory {
  readonly grants = new Map<string, FakeGrant>();
  readonly bufs = new Map<number, DsBuf>();
  readonly notified: number[] = [];
  readonly revoked: number[] = [];
  readonly dsGrants = new Map<number, { to: Endpoint; addr: number; len: number }>();
  /** Fail the next n allocations with ENOMEM. */
  failAllocs = 0;
  maxMaps = 20;
  private nextAddr = 0x19000000;
  private nextGid = 1;
  private nextDsGid = 100;

  grant(owner: number, to: number, bytes: Uint8Array, acc: { read?: boolean; write?: boolean; map?: boolean }): number {
    const gid = this.nextGid++;
    this.grants.set(`${owner}:${gid}`, { owner: endpoint(owner), to: endpoint(to), bytes, read: acc.read ?? false, write: acc.write ?? false, map: acc.map ?? false });
    return gid;
  }

  private lookup(ep: Endpoint, gid: number, len: number, need: 'read' | 'write' | 'map'): FakeGrant | number {
    const g = this.grants.get(`${ep}:${gid}`);
    if (g === undefined || g.to !== DS || !g[need] || len > g.bytes.length) return EPERM;
    return g;
  }

  private view(addr: number): Uint8Array {
    const b = this.bufs.get(addr);
    if (b === undefined) throw new Error(`fake DS memory: no buffer at ${addr}`);
    return b.live ?? b.bytes;
  }

  fetch(ep: Endpoint, gid: number, len: number): Promise<Uint8Array | number> {
    const g = this.lookup(ep, gid, len, 'read');
    return Promise.resolve(typeof g === 'number' ? g : g.bytes.slice(0, len));
  }

  deliver(ep: Endpoint, gid: number, bytes: Uint8Array): Promise<number> {
    const g = this.lookup(ep, gid, bytes.length, 'write');
    if (typeof g === 'number') return Promise.resolve(g);
    g.bytes.set(bytes);
    return Promise.resolve(OK);
  }

  alloc(len: number): Promise<number> {
    if (this.failAllocs > 0) {
      this.failAllocs--;
      return Promise.resolve(ENOMEM);
    }
    const addr = this.nextAddr;
    this.nextAddr += Math.ceil(len / PAGE) * PAGE;
    this.bufs.set(addr, { bytes: new Uint8Array(len), live: null });
    return Promise.resolve(addr);
  }

  free(addr: number): Promise<void> {
    if (!this.bufs.delete(addr)) throw new Error(`fake DS memory: double free at ${addr}`);
    return Promise.resolve();
  }

  copyIn(ep: Endpoint, gid: number, addr: number, len: number): Promise<number> {
    const g = this.lookup(ep, gid, len, 'read');
    if (typeof g === 'number') return Promise.resolve(g);
    this.view(addr).set(g.bytes.subarray(0, len));
    return Promise.resolve(OK);
  }

  copyOut(ep: Endpoint, gid: number, addr: number, len: number): Promise<number> {
    const g = this.lookup(ep, gid, len, 'write');
    if (typeof g === 'number') return Promise.resolve(g);
    g.bytes.set(this.view(addr).subarray(0, len));
    return Promise.resolve(OK);
  }

  copyLocal(src: number, dst: number, len: number): Promise<void> {
    this.view(dst).set(this.view(src).subarray(0, len));
    return Promise.resolve();
  }

  get liveMaps(): number {
    let n = 0;
    for (const b of this.bufs.values()) if (b.live !== null) n++;
    return n;
  }

  map(ep: Endpoint, gid: number, addr: number, len: number): Promise<number> {
    const g = this.grants.get(`${ep}:${gid}`);
    if (g === undefined || g.to !== DS || !g.map || !g.read || len > g.bytes.length) return Promise.resolve(EPERM);
    if (len % PAGE !== 0 || addr % PAGE !== 0) return Promise.resolve(EINVAL);
    if (this.liveMaps >= this.maxMaps) return Promise.resolve(EBUSY);
    const b = this.bufs.get(addr);
    if (b === undefined) throw new Error('fake DS memory: map into nothing');
    b.live = g.bytes.subarray(0, len);
    return Promise.resolve(OK);
  }

  unmap(addr: number): Promise<number> {
    const b = this.bufs.get(addr);
    if (b?.live != null) {
      b.bytes = b.live.slice();
      b.live = null;
    }
    return Promise.resolve(OK);
  }

  revmapAddr(): Promise<number> {
    return Promise.resolve(OK);
  }

  grantMap(to: Endpoint, addr: number, len: number): Promise<number> {
    const id = this.nextDsGid++;
    this.dsGrants.set(id, { to, addr, len });
    return Promise.resolve(id);
  }

  revoke(gid: number): Promise<number> {
    this.dsGrants.delete(gid);
    this.revoked.push(gid);
    return Promise.resolve(OK);
  }

  notify(ep: Endpoint): Promise<void> {
    this.notified.push(ep);
    return Promise.resolve();
  }

  /** The bytes DS holds at a grant it made (what a MAP_MAPPED retriever sees). */
  dsGrantBytes(gid: number): Uint8Array | null {
    const g = this.dsGrants.get(gid);
    return g === undefined ? null : this.view(g.addr).subarray(0, g.len);
  }
}

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => {
  const nul = b.indexOf(0);
  return new TextDecoder().decode(nul >= 0 ? b.subarray(0, nul) : b);
};

export interface World {
  store: DsStore;
  mem: FakeMemory;
  client(ep: number): FakeClient;
}

/** A store with the default boot labels (pm 0 .. init 10) and a few client labels published by RS; its trace. */
export async function makeWorld(
  config: Partial<DsConfig> = {},
  extraLabels: { label: string; endpoint: number }[] = [],
  trace: DsTraceFn | null = null,
): Promise<World> {
  const mem = new FakeMemory();
  const store = new DsStore({ maxKeys: 64, maxSubs: 128, labelPolicy: 'any', ...config }, mem, trace);
  const names = ['pm', 'vfs', 'rs', 'memory', 'log', 'tty', 'ds', 'mfs', 'vm', 'pfs', 'init'];
  await store.boot([...names.map((label, endpoint) => ({ label, endpoint })), ...extraLabels]);
  return { store, mem, client: (ep) => new FakeClient(store, mem, endpoint(ep)) };
}

/** The client library's wire behaviour (libsys/ds.ts) over the fake memory, one call → one store.handle. */
export class FakeClient {
  constructor(
    readonly store: DsStore,
    readonly mem: FakeMemory,
    readonly ep: Endpoint,
  ) {}

  req(type: number, fields: Record<string, unknown>): Promise<DsReply> {
    const m: Message = { type, source: this.ep, ...fields };
    return this.store.handle(m);
  }

  keyFields(key: string): { keyGrant: number; keyLen: number } {
    const bytes = enc(`${key}\0`);
    return { keyGrant: this.mem.grant(this.ep, DS, bytes, { read: true }), keyLen: bytes.length };
  }

  async publishU32(key: string, v: number, flags = 0): Promise<number> {
    return (await this.req(DS_PUBLISH, { ...this.keyFields(key), flags: flags | DSF_TYPE_U32, val: v })).type;
  }

  async publishLabel(key: string, v: number, flags = 0): Promise<number> {
    return (await this.req(DS_PUBLISH, { ...this.keyFields(key), flags: flags | DSF_TYPE_LABEL, val: v })).type;
  }

  async publishStr(key: string, s: string, flags = 0): Promise<number> {
    const str = new Uint8Array(16);
    str.set(enc(s).subarray(0, 16));
    return (await this.req(DS_PUBLISH, { ...this.keyFields(key), flags: flags | DSF_TYPE_STR, str })).type;
  }

  async publishMem(key: string, bytes: Uint8Array, flags = 0): Promise<number> {
    const val = this.mem.grant(this.ep, DS, bytes, { read: true });
    return (await this.req(DS_PUBLISH, { ...this.keyFields(key), flags: flags | DSF_TYPE_MEM, val, valLen: bytes.length })).type;
  }

  async publishMap(key: string, bytes: Uint8Array, flags = 0): Promise<number> {
    const val = this.mem.grant(this.ep, DS, bytes, { read: true, map: true });
    return (await this.req(DS_PUBLISH, { ...this.keyFields(key), flags: flags | DSF_TYPE_MAP, val, valLen: bytes.length })).type;
  }

  async retrieveU32(key: string, type = DSF_TYPE_U32): Promise<{ r: number; v: number }> {
    const x = await this.req(DS_RETRIEVE, { ...this.keyFields(key), flags: type });
    return { r: x.type, v: x.val ?? -1 };
  }

  async retrieveLabel(key: string): Promise<{ r: number; v: number }> {
    return this.retrieveU32(key, DSF_TYPE_LABEL);
  }

  async retrieveStr(key: string): Promise<{ r: number; s: string }> {
    const x = await this.req(DS_RETRIEVE, { ...this.keyFields(key), flags: DSF_TYPE_STR });
    return { r: x.type, s: x.str !== undefined ? dec(x.str) : '' };
  }

  async retrieveMem(key: string, cap: number): Promise<{ r: number; bytes: Uint8Array }> {
    const buf = new Uint8Array(cap);
    const val = this.mem.grant(this.ep, DS, buf, { write: true });
    const x = await this.req(DS_RETRIEVE, { ...this.keyFields(key), flags: DSF_TYPE_MEM, val, valLen: cap });
    return { r: x.type, bytes: buf.subarray(0, x.valLen ?? 0) };
  }

  async retrieveMap(key: string, cap: number, mode: number, nrSnapshot = 0): Promise<{ r: number; bytes: Uint8Array; reply: DsReply }> {
    const buf = new Uint8Array(cap);
    const val = this.mem.grant(this.ep, DS, buf, { write: true });
    const x = await this.req(DS_RETRIEVE, { ...this.keyFields(key), flags: DSF_TYPE_MAP | mode, val, valLen: cap, nrSnapshot });
    return { r: x.type, bytes: buf.subarray(0, x.valLen ?? 0), reply: x };
  }

  async snapshot(key: string): Promise<{ r: number; n: number }> {
    const x = await this.req(DS_SNAPSHOT, this.keyFields(key));
    return { r: x.type, n: x.nrSnapshot ?? -1 };
  }

  async del(key: string, type: number): Promise<number> {
    return (await this.req(DS_DELETE, { ...this.keyFields(key), flags: type })).type;
  }

  async subscribe(pattern: string, flags = 0): Promise<number> {
    return (await this.req(DS_SUBSCRIBE, { ...this.keyFields(pattern), flags })).type;
  }

  async check(): Promise<{ r: number; key: string; type: number; owner: number }> {
    const buf = new Uint8Array(80).fill(0xff);
    const keyGrant = this.mem.grant(this.ep, DS, buf, { write: true });
    const x = await this.req(DS_CHECK, { keyGrant, keyLen: 80 });
    const nul = buf.indexOf(0);
    return { r: x.type, key: x.type === OK && nul >= 0 ? dec(buf) : '', type: x.flags ?? 0, owner: x.owner ?? -1 };
  }

  async labelName(ep: number): Promise<{ r: number; name: string }> {
    const buf = new Uint8Array(80).fill(0xff);
    const keyGrant = this.mem.grant(this.ep, DS, buf, { write: true });
    const x = await this.req(DS_RETRIEVE_LABEL, { keyGrant, keyLen: 80, val: ep });
    return { r: x.type, name: x.type === OK ? dec(buf) : '' };
  }
}

export const TYPES = { U32: DSF_TYPE_U32, STR: DSF_TYPE_STR, MEM: DSF_TYPE_MEM, MAP: DSF_TYPE_MAP, LABEL: DSF_TYPE_LABEL } as const;
