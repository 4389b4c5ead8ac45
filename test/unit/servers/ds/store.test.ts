// Unit tests of the DS store (src/servers/ds/store.ts) over a fake DsMemory: spec/ds.md §11 items that need no
// kernel (3–20, 25, 26, 30, 31 logic) and the §6 error orders.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  DSF_INITIAL,
  DSF_OVERWRITE,
  DSF_PRIV_OVERWRITE,
  DSF_PRIV_RETRIEVE,
  DSF_PRIV_SUBSCRIBE,
  DSMF_COPY_MAPPED,
  DSMF_COPY_SNAPSHOT,
  DSMF_MAP_MAPPED,
  DS_DELETE,
  DS_PUBLISH,
  DS_RETRIEVE,
} from '../../../../src/include/ds.ts';
import { GETSYSINFO, SI_DATA_STORE, SI_SUBSCRIPTION } from '../../../../src/include/com.ts';
import { DS_PROC_NR, NONE } from '../../../../src/include/endpoint.ts';
import { EAGAIN, EDOM, EEXIST, EINVAL, ENOENT, ENOMEM, EPERM, ESRCH, OK } from '../../../../src/include/errno.ts';
import { Panic } from '../../../../src/lib/assert.ts';
import { DS, FakeClient, FakeMemory, TYPES, makeWorld } from './fakeds.ts';
import { DsStore } from '../../../../src/servers/ds/store.ts';
import type { World } from './fakeds.ts';

const A = 20;
const B = 21;
const C = 22;
const UNLABELLED = 30;
const RS = 2;
const abc = [
  { label: 'a', endpoint: A },
  { label: 'b', endpoint: B },
  { label: 'c', endpoint: C },
];

async function world(config = {}): Promise<World> {
  return makeWorld(config, abc);
}

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const page = (first: number): Uint8Array => {
  const b = new Uint8Array(4096);
  new DataView(b.buffer).setInt32(0, first, true);
  return b;
};
const firstInt = (b: Uint8Array): number => new DataView(b.buffer, b.byteOffset).getInt32(0, true);

describe('DS store: boot and identity', () => {
  it('boots 11 labels (+3 test labels) owned by rs, resolvable both ways', async () => {
    const w = await world();
    expect(w.store.usedSlots).toBe(14);
    expect(w.store.nameOf(6)).toBe('ds');
    expect(w.store.nameOf(A)).toBe('a');
    expect(w.store.nameOf(UNLABELLED)).toBeNull();
    expect(w.store.endpointOf('vm')).toBe(8);
    expect(w.store.endpointOf('nobody')).toBe(NONE);
    expect(w.store.entries().every((e) => e.owner === 'rs')).toBe(true);
    w.store.sanityCheck();
  });

  it('§11.3: the same key as U32 and STR coexist; deleting one leaves the other', async () => {
    const w = await world();
    const a = w.client(A);
    expect(await a.publishU32('foo', 7)).toBe(OK);
    expect(await a.publishStr('foo', 'bar')).toBe(OK);
    expect(await a.del('foo', TYPES.U32)).toBe(OK);
    expect(await a.retrieveU32('foo')).toEqual({ r: ESRCH, v: -1 });
    expect(await a.retrieveStr('foo')).toEqual({ r: OK, s: 'bar' });
    w.store.sanityCheck();
  });

  it('§11.4: 79-char key works; key length 1 or 81 → EINVAL; a longer key is cut to 79', async () => {
    const w = await world();
    const a = w.client(A);
    const k79 = 'k'.repeat(79);
    expect(await a.publishU32(k79, 1)).toBe(OK);
    expect((await a.retrieveU32(k79)).v).toBe(1);
    for (const keyLen of [1, 81, 0, Number.NaN]) {
      const r = await a.req(DS_PUBLISH, { keyGrant: a.keyFields('x').keyGrant, keyLen, flags: TYPES.U32, val: 1 });
      expect(r.type).toBe(EINVAL);
    }
    // 85 chars sent with keyLen 80: DS keeps 79 chars.
    const long = 'L'.repeat(85);
    const keyGrant = w.mem.grant(A, 6, enc(long), { read: true });
    expect((await a.req(DS_PUBLISH, { keyGrant, keyLen: 80, flags: TYPES.U32, val: 5 })).type).toBe(OK);
    expect((await a.retrieveU32('L'.repeat(79))).v).toBe(5);
    expect(w.store.entries().at(-1)?.key).toBe('L'.repeat(79));
    // An empty key: first byte NUL.
    const empty = w.mem.grant(A, 6, new Uint8Array(4), { read: true });
    expect((await a.req(DS_PUBLISH, { keyGrant: empty, keyLen: 2, flags: TYPES.U32, val: 1 })).type).toBe(EINVAL);
    // A bad key grant: the copy's error as is.
    expect((await a.req(DS_PUBLISH, { keyGrant: 9999, keyLen: 4, flags: TYPES.U32, val: 1 })).type).toBe(EPERM);
    w.store.sanityCheck();
  });

  it('§11.5: requested type 0 → ESRCH; two type bits matching an entry → EINVAL', async () => {
    const w = await world();
    const a = w.client(A);
    await a.publishU32('t', 1);
    expect((await a.retrieveU32('t', 0)).r).toBe(ESRCH);
    expect((await a.retrieveU32('t', TYPES.U32 | TYPES.STR)).r).toBe(EINVAL);
    expect((await a.retrieveU32('nope', TYPES.U32 | TYPES.STR)).r).toBe(ESRCH);
  });

  it('§11.6: a raw STR request whose 16 inline bytes lack a NUL → EINVAL; 15 chars OK', async () => {
    const w = await world();
    const a = w.client(A);
    expect(await a.publishStr('s15', 'x'.repeat(15))).toBe(OK);
    expect((await a.retrieveStr('s15')).s).toBe('x'.repeat(15));
    const str = new Uint8Array(16).fill(0x41);
    expect((await a.req(DS_PUBLISH, { ...a.keyFields('s16'), flags: TYPES.STR, str })).type).toBe(EINVAL);
    expect((await a.req(DS_PUBLISH, { ...a.keyFields('s16'), flags: TYPES.STR })).type).toBe(EINVAL);
  });

  it('publish checks in order: unlabelled, rs-only, MAP+OVERWRITE, type bits, STR NUL, key', async () => {
    const w = await world({ labelPolicy: 'rs-only' });
    const u = w.client(UNLABELLED);
    const a = w.client(A);
    // unlabelled beats everything, even a bad key length
    expect((await u.req(DS_PUBLISH, { keyLen: 1, flags: 0 })).type).toBe(EPERM);
    expect((await a.req(DS_PUBLISH, { keyLen: 1, flags: TYPES.LABEL | TYPES.MAP | DSF_OVERWRITE })).type).toBe(EPERM);
    expect((await a.req(DS_PUBLISH, { keyLen: 1, flags: TYPES.MAP | TYPES.U32 | DSF_OVERWRITE })).type).toBe(EINVAL);
    expect((await a.req(DS_PUBLISH, { keyLen: 1, flags: TYPES.U32 | TYPES.STR })).type).toBe(EINVAL);
    expect((await a.req(DS_PUBLISH, { keyLen: 1, flags: 0 })).type).toBe(EINVAL);
    expect((await a.req(DS_PUBLISH, { keyLen: 1, flags: TYPES.U32 })).type).toBe(EINVAL);
  });
});

describe('DS store: PRIV bits and ownership', () => {
  it('§11.7: PRIV_RETRIEVE: non-owner → EPERM, owner OK, unlabelled EPERM', async () => {
    const w = await world();
    const [a, b, u] = [w.client(A), w.client(B), w.client(UNLABELLED)];
    expect(await a.publishU32('secret', 42, DSF_PRIV_RETRIEVE)).toBe(OK);
    expect((await b.retrieveU32('secret')).r).toBe(EPERM);
    expect((await u.retrieveU32('secret')).r).toBe(EPERM);
    expect(await a.retrieveU32('secret')).toEqual({ r: OK, v: 42 });
    // unlabelled may still retrieve public data
    await a.publishU32('public', 1);
    expect((await u.retrieveU32('public')).v).toBe(1);
  });

  it('§11.8: PRIV_OVERWRITE blocks a non-owner; without it the overwriter takes ownership and PRIV bits', async () => {
    const w = await world();
    const [a, b] = [w.client(A), w.client(B)];
    await a.publishU32('x', 1, DSF_PRIV_OVERWRITE);
    expect(await b.publishU32('x', 2, DSF_OVERWRITE)).toBe(EPERM);
    expect(await a.publishU32('x', 3, DSF_OVERWRITE)).toBe(OK);
    await a.publishU32('y', 1);
    expect(await b.publishU32('y', 2, DSF_OVERWRITE | DSF_PRIV_RETRIEVE)).toBe(OK);
    const y = w.store.entries().find((e) => e.key === 'y');
    expect(y?.owner).toBe('b');
    expect(y?.value).toBe(2);
    expect((await a.retrieveU32('y')).r).toBe(EPERM);
    expect((await b.retrieveU32('y')).v).toBe(2);
    // the old owner can no longer delete it
    expect(await a.del('y', TYPES.U32)).toBe(EPERM);
    expect(await b.del('y', TYPES.U32)).toBe(OK);
  });

  it('§11.9: PRIV_OVERWRITE on a MAP entry blocks non-owner snapshots; without it they work', async () => {
    const w = await world();
    const [a, b] = [w.client(A), w.client(B)];
    await a.publishMap('m1', page(1), DSF_PRIV_OVERWRITE);
    await a.publishMap('m2', page(2));
    expect((await b.snapshot('m1')).r).toBe(EPERM);
    expect(await a.snapshot('m1')).toEqual({ r: OK, n: 0 });
    expect(await b.snapshot('m2')).toEqual({ r: OK, n: 0 });
    expect((await w.client(UNLABELLED).snapshot('m1')).r).toBe(EPERM);
    w.store.sanityCheck();
  });

  it('§11.10: PRIV_SUBSCRIBE: another label never sees the entry; the owner does', async () => {
    const w = await world();
    const [a, b] = [w.client(A), w.client(B)];
    expect(await a.subscribe('pri.*')).toBe(OK);
    expect(await b.subscribe('pri.*')).toBe(OK);
    w.mem.notified.length = 0;
    await a.publishU32('private', 1, DSF_PRIV_SUBSCRIBE);
    expect(w.mem.notified).toEqual([A]);
    expect((await b.check()).r).toBe(ENOENT);
    expect(await a.check()).toMatchObject({ r: OK, key: 'private', type: TYPES.U32, owner: A });
    // DSF_INITIAL does not reveal it either
    expect(await b.subscribe('pri.*', DSF_OVERWRITE | DSF_INITIAL)).toBe(OK);
    expect((await b.check()).r).toBe(ENOENT);
  });

  it('§11.11: delete by a non-owner → EPERM without PRIV bits; unlabelled → EPERM', async () => {
    const w = await world();
    await w.client(A).publishU32('k', 1);
    expect(await w.client(B).del('k', TYPES.U32)).toBe(EPERM);
    expect(await w.client(UNLABELLED).del('k', TYPES.U32)).toBe(EPERM);
    expect(await w.client(A).del('missing', TYPES.U32)).toBe(ESRCH);
    expect(await w.client(A).del('k', TYPES.U32)).toBe(OK);
  });

  it('round 2: delete naming several types → EINVAL after the lookup and owner check (as MINIX); the entry stays', async () => {
    const w = await world();
    const [a, b] = [w.client(A), w.client(B)];
    await a.publishU32('k', 1);
    expect(await a.del('missing', TYPES.U32 | TYPES.STR)).toBe(ESRCH);
    expect(await b.del('k', TYPES.U32 | TYPES.STR)).toBe(EPERM);
    expect(await a.del('k', TYPES.U32 | TYPES.STR)).toBe(EINVAL);
    expect(await a.retrieveU32('k')).toEqual({ r: OK, v: 1 });
    expect(await a.del('k', TYPES.U32)).toBe(OK);
    w.store.sanityCheck();
  });
});

describe('DS store: limits', () => {
  it('§11.12: 64 entries including the boot labels, then ENOMEM; dsMaxKeys 16 moves the limit', async () => {
    for (const maxKeys of [64, 16]) {
      const w = await makeWorld({ maxKeys }, [{ label: 'a', endpoint: A }]);
      const a = w.client(A);
      const free = maxKeys - 12;
      for (let i = 0; i < free; i++) expect(await a.publishU32(`k${i}`, i)).toBe(OK);
      expect(w.store.usedSlots).toBe(maxKeys);
      expect(await a.publishU32('one-more', 1)).toBe(ENOMEM);
      expect(await a.publishU32('k0', 9, DSF_OVERWRITE)).toBe(OK);
      expect(await a.del('k0', TYPES.U32)).toBe(OK);
      expect(await a.publishU32('one-more', 1)).toBe(OK);
      w.store.sanityCheck();
    }
  });

  it('§11.13: subscribe: unlabelled ESRCH, second without OVERWRITE EEXIST, 129th label EAGAIN, bad pattern keeps the old one', async () => {
    const labels = Array.from({ length: 129 }, (_, i) => ({ label: `s${i}`, endpoint: 100 + i }));
    const w = await makeWorld({ maxKeys: 200 }, labels);
    expect(await w.client(UNLABELLED).subscribe('x')).toBe(ESRCH);
    for (let i = 0; i < 128; i++) expect(await w.client(100 + i).subscribe('x')).toBe(OK);
    expect(await w.client(228).subscribe('x')).toBe(EAGAIN);
    expect(await w.client(100).subscribe('y')).toBe(EEXIST);
    expect(await w.client(100).subscribe('a(', DSF_OVERWRITE)).toBe(EINVAL);
    expect(w.store.subscriptions()[0]).toMatchObject({ owner: 's0', pattern: 'x' });
    expect(await w.client(100).subscribe('y', DSF_OVERWRITE)).toBe(OK);
    expect(w.store.subscriptions()[0]).toMatchObject({ owner: 's0', pattern: 'y' });
    w.store.sanityCheck();
  });

  it('§11.13: a bad pattern leaves a new slot free', async () => {
    const w = await world({ maxSubs: 1 });
    expect(await w.client(A).subscribe('a(')).toBe(EINVAL);
    expect(w.store.subscriptions()).toEqual([]);
    expect(await w.client(B).subscribe('ok')).toBe(OK);
    expect(await w.client(C).subscribe('ok')).toBe(EAGAIN);
  });
});

describe('DS store: subscriptions', () => {
  it('§11.14: whole-key patterns', async () => {
    const w = await world();
    const [a, b, c] = [w.client(A), w.client(B), w.client(C)];
    await a.subscribe('test_u32');
    await b.subscribe('a|b');
    await c.subscribe('test_.*');
    for (const k of ['test_u32', 'xtest_u32', 'test_u32x', 'a', 'b', 'ab', 'test_str']) await a.publishU32(k, 1);
    const drain = async (cl: ReturnType<World['client']>): Promise<string[]> => {
      const keys: string[] = [];
      for (;;) {
        const x = await cl.check();
        if (x.r !== OK) break;
        keys.push(x.key);
      }
      return keys.sort();
    };
    expect(await drain(a)).toEqual(['test_u32']);
    expect(await drain(b)).toEqual(['a', 'b']);
    expect(await drain(c)).toEqual(['test_str', 'test_u32', 'test_u32x']);
  });

  it('§11.15: check: no subscription ESRCH, nothing pending ENOENT, key with NUL, type, owner endpoint, slot order', async () => {
    const w = await world();
    const [a, b] = [w.client(A), w.client(B)];
    expect((await a.check()).r).toBe(ESRCH);
    expect((await w.client(UNLABELLED).check()).r).toBe(ESRCH);
    await a.subscribe('k.*');
    expect((await a.check()).r).toBe(ENOENT);
    await b.publishU32('k1', 1);
    await b.publishStr('k0', 'x');
    await b.del('k1', TYPES.U32);
    await b.publishMem('k2', enc('mem'));
    await b.publishU32('k1', 2);
    // k2 took k1's freed (lower) slot: reports come in slot order, not time order
    const got = [await a.check(), await a.check(), await a.check(), await a.check()];
    expect(got.map((g) => [g.r, g.key, g.type, g.owner])).toEqual([
      [OK, 'k2', TYPES.MEM, B],
      [OK, 'k0', TYPES.STR, B],
      [OK, 'k1', TYPES.U32, B],
      [ENOENT, '', 0, -1],
    ]);
  });

  it('§11.15: the key comes with its NUL, and a bad output grant keeps the bit', async () => {
    const w = await world();
    const a = w.client(A);
    await a.subscribe('key');
    await a.publishU32('key', 1);
    const bad = await a.req(0x803, { keyGrant: 4242, keyLen: 80 });
    expect(bad.type).toBe(EPERM);
    const buf = new Uint8Array(80).fill(0xff);
    const keyGrant = w.mem.grant(A, 6, buf, { write: true });
    expect((await a.req(0x803, { keyGrant, keyLen: 80 })).type).toBe(OK);
    expect(Array.from(buf.subarray(0, 5))).toEqual([...enc('key'), 0, 0xff]);
  });

  it('§11.16: DSF_INITIAL with 3 matches → one notification, three checks, then ENOENT', async () => {
    const w = await world();
    const [a, b] = [w.client(A), w.client(B)];
    await a.publishU32('i1', 1);
    await a.publishStr('i2', 'x');
    await a.publishU32('i3', 3);
    await a.publishU32('other', 3);
    w.mem.notified.length = 0;
    expect(await b.subscribe('i[0-9]', DSF_INITIAL)).toBe(OK);
    expect(w.mem.notified).toEqual([B]);
    expect((await b.check()).key).toBe('i1');
    expect((await b.check()).key).toBe('i2');
    expect((await b.check()).key).toBe('i3');
    expect((await b.check()).r).toBe(ENOENT);
  });

  it('type filter: only the filtered types match', async () => {
    const w = await world();
    const [a, b] = [w.client(A), w.client(B)];
    await b.subscribe('f', TYPES.STR);
    await a.publishU32('f', 1);
    expect((await b.check()).r).toBe(ENOENT);
    await a.publishStr('f', 's');
    expect((await b.check()).type).toBe(TYPES.STR);
  });

  it('§11.17: publish then delete before the check → notified, check ENOENT', async () => {
    const w = await world();
    const [a, b] = [w.client(A), w.client(B)];
    await b.subscribe('gone');
    w.mem.notified.length = 0;
    await a.publishU32('gone', 1);
    await a.del('gone', TYPES.U32);
    expect(w.mem.notified).toEqual([B, B]);
    expect((await b.check()).r).toBe(ENOENT);
  });

  it('§11.18: three overwrites before a check → one report, last value', async () => {
    const w = await world();
    const [a, b] = [w.client(A), w.client(B)];
    await b.subscribe('v');
    await a.publishU32('v', 1);
    await a.publishU32('v', 2, DSF_OVERWRITE);
    await a.publishU32('v', 3, DSF_OVERWRITE);
    expect((await b.check()).key).toBe('v');
    expect((await b.check()).r).toBe(ENOENT);
    expect((await b.retrieveU32('v')).v).toBe(3);
  });

  it('a publisher whose own subscription matches is notified; failed requests notify nobody', async () => {
    const w = await world();
    const a = w.client(A);
    await a.subscribe('.*');
    w.mem.notified.length = 0;
    await a.publishU32('self', 1);
    expect(w.mem.notified).toEqual([A]);
    w.mem.notified.length = 0;
    expect(await a.publishU32('self', 2)).toBe(EEXIST);
    await a.retrieveU32('self');
    expect(w.mem.notified).toEqual([]);
  });
});

describe('DS store: MEM and MAP values', () => {
  it('MEM: copy in DS memory, truncated retrieve, overwrite frees the old buffer', async () => {
    const w = await world();
    const a = w.client(A);
    const s1 = enc('ok, this is a string\0');
    expect(await a.publishMem('m', s1)).toBe(OK);
    s1.fill(0); // DS holds a copy
    const r1 = await a.retrieveMem('m', 100);
    expect([r1.r, new TextDecoder().decode(r1.bytes)]).toEqual([OK, 'ok, this is a string\0']);
    expect((await a.retrieveMem('m', 8)).bytes.length).toBe(8);
    expect(await a.publishMem('m', enc('ok, this is a very looooong string\0'), DSF_OVERWRITE)).toBe(OK);
    expect((await a.retrieveMem('m', 100)).bytes.length).toBe(35);
    expect(w.mem.bufs.size).toBe(1);
    w.store.sanityCheck();
    expect(await a.del('m', TYPES.MEM)).toBe(OK);
    expect(w.mem.bufs.size).toBe(0);
  });

  it('§11.24 (logic): a failed MEM overwrite leaves the old value; allocation failure → ENOMEM', async () => {
    const w = await world();
    const a = w.client(A);
    await a.publishMem('m', enc('old'));
    const bad = await a.req(DS_PUBLISH, { ...a.keyFields('m'), flags: TYPES.MEM | DSF_OVERWRITE, val: 777, valLen: 3 });
    expect(bad.type).toBe(EPERM);
    w.mem.failAllocs = 1;
    expect(await a.publishMem('m', enc('new'), DSF_OVERWRITE)).toBe(ENOMEM);
    expect(new TextDecoder().decode((await a.retrieveMem('m', 10)).bytes)).toBe('old');
    expect((await a.req(DS_PUBLISH, { ...a.keyFields('z'), flags: TYPES.MEM, val: 1, valLen: -1 })).type).toBe(EINVAL);
    w.store.sanityCheck();
  });

  it('round 2: zero lengths are a 0-byte safecopy: MEM publish, MEM retrieve, COPY_MAPPED, COPY_SNAPSHOT → EDOM', async () => {
    const w = await world();
    const [a, b] = [w.client(A), w.client(B)];
    const heap = w.mem.bufs.size;
    expect((await a.req(DS_PUBLISH, { ...a.keyFields('z'), flags: TYPES.MEM, val: 1, valLen: 0 })).type).toBe(EDOM);
    expect(w.mem.bufs.size).toBe(heap);
    expect(await a.retrieveMem('z', 10)).toMatchObject({ r: ESRCH });
    await a.publishMem('m', enc('abc'));
    expect(await b.retrieveMem('m', 0)).toMatchObject({ r: EDOM });
    expect(await a.publishMap('map', page(7))).toBe(OK);
    expect(await a.snapshot('map')).toEqual({ r: OK, n: 0 });
    expect((await b.retrieveMap('map', 0, DSMF_COPY_MAPPED)).r).toBe(EDOM);
    expect((await b.retrieveMap('map', 0, DSMF_COPY_SNAPSHOT, 0)).r).toBe(EDOM);
    expect((await b.retrieveMap('map', 0, DSMF_COPY_SNAPSHOT, 3)).r).toBe(EINVAL);
    expect((await b.retrieveMap('map', 4, DSMF_COPY_MAPPED)).r).toBe(OK);
    w.store.sanityCheck();
  });

  it('MAP: live window, snapshot frozen, MAP_MAPPED grant revoked on delete', async () => {
    const w = await world();
    const [a, b] = [w.client(A), w.client(B)];
    const buf = page(1);
    expect(await a.publishMap('test_map', buf)).toBe(OK);
    expect(await a.snapshot('test_map')).toEqual({ r: OK, n: 0 });
    new DataView(buf.buffer).setInt32(0, 2, true);
    const live = await b.retrieveMap('test_map', 4096, DSMF_COPY_MAPPED);
    expect([live.r, live.bytes.length, firstInt(live.bytes)]).toEqual([OK, 4096, 2]);
    const snap = await b.retrieveMap('test_map', 4096, DSMF_COPY_SNAPSHOT, 0);
    expect([snap.r, firstInt(snap.bytes)]).toEqual([OK, 1]);
    const mapped = await b.retrieveMap('test_map', 4096, DSMF_MAP_MAPPED | DSMF_COPY_MAPPED);
    expect(mapped.r).toBe(OK);
    expect(mapped.reply.valLen).toBe(4096);
    const gid = mapped.reply.val ?? -1;
    expect(w.mem.dsGrants.get(gid)?.to).toBe(B);
    w.store.sanityCheck();
    expect(await a.del('test_map', TYPES.MAP)).toBe(OK);
    expect(w.mem.revoked).toEqual([gid]);
    expect(w.mem.bufs.size).toBe(0);
    w.store.sanityCheck();
  });

  it('MAP retrieve without a mode → EINVAL; COPY_SNAPSHOT before any snapshot → EINVAL', async () => {
    const w = await world();
    const a = w.client(A);
    await a.publishMap('m', page(1));
    expect((await a.retrieveMap('m', 4096, 0)).r).toBe(EINVAL);
    expect((await a.retrieveMap('m', 4096, DSMF_COPY_SNAPSHOT, 0)).r).toBe(EINVAL);
    expect((await a.retrieveMap('m', 10, DSMF_COPY_MAPPED)).bytes.length).toBe(10);
  });

  it('§11.19: snapshots 0..5: number 0 → EINVAL after the 6th, 1..5 valid and frozen', async () => {
    const w = await world();
    const a = w.client(A);
    const buf = page(0);
    await a.publishMap('ring', buf);
    const view = new DataView(buf.buffer);
    for (let n = 0; n <= 5; n++) {
      view.setInt32(0, 100 + n, true);
      expect(await a.snapshot('ring')).toEqual({ r: OK, n });
      w.store.sanityCheck();
    }
    view.setInt32(0, 999, true);
    expect((await a.retrieveMap('ring', 4096, DSMF_COPY_SNAPSHOT, 0)).r).toBe(EINVAL);
    expect((await a.retrieveMap('ring', 4096, DSMF_COPY_SNAPSHOT, 6)).r).toBe(EINVAL);
    expect((await a.retrieveMap('ring', 4096, DSMF_COPY_SNAPSHOT, -1)).r).toBe(EINVAL);
    for (let n = 1; n <= 5; n++) {
      const s = await a.retrieveMap('ring', 4096, DSMF_COPY_SNAPSHOT, n);
      expect([s.r, firstInt(s.bytes)]).toEqual([OK, 100 + n]);
    }
    expect(w.mem.bufs.size).toBe(6);
  });

  it('snapshot allocation failure rolls sindex back', async () => {
    const w = await world();
    const a = w.client(A);
    await a.publishMap('m', page(1));
    w.mem.failAllocs = 1;
    expect((await a.snapshot('m')).r).toBe(ENOMEM);
    expect(await a.snapshot('m')).toEqual({ r: OK, n: 0 });
    expect((await a.snapshot('nothing')).r).toBe(ESRCH);
    w.store.sanityCheck();
  });

  it('§11.20 (server): MAP with OVERWRITE → EINVAL; second publish of the key → EEXIST; kernel errors returned', async () => {
    const w = await world();
    const a = w.client(A);
    expect(await a.publishMap('m', page(1), DSF_OVERWRITE)).toBe(EINVAL);
    expect(await a.publishMap('m', page(1))).toBe(OK);
    expect(await a.publishMap('m', page(1))).toBe(EEXIST);
    expect(await a.publishMap('odd', new Uint8Array(100))).toBe(EINVAL);
    w.mem.maxMaps = 1;
    expect(await a.publishMap('busy', page(1))).toBe(-16);
    expect(w.store.entries().some((e) => e.key === 'busy')).toBe(false);
    w.store.sanityCheck();
  });
});

describe('DS store: labels', () => {
  it('§11.25: new name for a labelled endpoint → EEXIST; with OVERWRITE → rename; unknown endpoint → ESRCH', async () => {
    const w = await world();
    const a = w.client(A);
    expect(await a.publishLabel('test_label', 1234)).toBe(OK);
    expect(await a.retrieveLabel('test_label')).toEqual({ r: OK, v: 1234 });
    expect(await a.publishLabel('hello', 1234)).toBe(EEXIST);
    expect(await a.labelName(1234)).toEqual({ r: OK, name: 'test_label' });
    expect(await a.publishLabel('hello', 1234, DSF_OVERWRITE)).toBe(OK);
    expect(await a.labelName(1234)).toEqual({ r: OK, name: 'hello' });
    expect((await a.retrieveLabel('test_label')).r).toBe(ESRCH);
    expect((await a.labelName(4321)).r).toBe(ESRCH);
    // found by key with OVERWRITE, but the new value belongs to another label → EEXIST
    expect(await a.publishLabel('hello', B, DSF_OVERWRITE)).toBe(EEXIST);
    expect(await a.del('hello', TYPES.LABEL)).toBe(OK);
    w.store.sanityCheck();
  });

  it('§11.26: rs-only: LABEL publish by a non-RS process → EPERM; by RS → OK', async () => {
    const w = await world({ labelPolicy: 'rs-only' });
    expect(await w.client(A).publishLabel('x', 1234)).toBe(EPERM);
    expect(await w.client(RS).publishLabel('x', 1234)).toBe(OK);
    expect(await w.client(A).publishU32('fine', 1)).toBe(OK);
  });

  it('restart: RS republishes a label to a new endpoint; the new instance owns the data and subscription', async () => {
    const w = await world();
    const [a, rs, b] = [w.client(A), w.client(RS), w.client(B)];
    await a.publishU32('state', 5, DSF_PRIV_RETRIEVE);
    await a.subscribe('state|a');
    await b.subscribe('a', TYPES.LABEL);
    w.mem.notified.length = 0;
    const A2 = A + 36558;
    expect(await rs.publishLabel('a', A2, DSF_OVERWRITE)).toBe(OK);
    expect(w.mem.notified).toEqual([A2, B]);
    const a2 = w.client(A2);
    expect(await a2.check()).toMatchObject({ r: OK, key: 'a', type: TYPES.LABEL, owner: RS });
    expect((await a2.retrieveU32('state')).v).toBe(5);
    expect((await a.retrieveU32('state')).r).toBe(EPERM); // the old endpoint is unlabelled now
    expect(await a2.publishU32('state', 6, DSF_OVERWRITE)).toBe(OK);
    expect((await a2.check()).key).toBe('state');
    expect(await a2.del('state', TYPES.U32)).toBe(OK);
  });

  it('§11.28 (logic): deleting a label purges its entries and subscription, notifying subscribers', async () => {
    const w = await world();
    const [a, b, rs] = [w.client(A), w.client(B), w.client(RS)];
    const before = w.store.usedSlots;
    const heapBefore = w.mem.bufs.size;
    await a.publishU32('a.u32', 1);
    await a.publishStr('a.str', 's');
    await a.publishMem('a.mem', enc('m'));
    await a.publishMap('a.map', page(7));
    await a.snapshot('a.map');
    await b.retrieveMap('a.map', 4096, DSMF_MAP_MAPPED);
    await a.subscribe('.*');
    await b.subscribe('a\\..*');
    await b.publishU32('b.keep', 1);
    w.mem.notified.length = 0;
    expect(await rs.del('a', TYPES.LABEL)).toBe(OK);
    expect(w.store.usedSlots).toBe(before);
    expect(w.mem.bufs.size).toBe(heapBefore);
    expect(w.store.subscriptions().map((s) => s.owner)).toEqual(['b']);
    expect(w.mem.notified.filter((e) => e === B).length).toBe(4);
    expect(w.mem.notified).not.toContain(A);
    expect((await b.retrieveU32('b.keep')).v).toBe(1);
    expect(w.mem.dsGrants.size).toBe(0);
    w.store.sanityCheck();
  });

  it('labels that own each other are purged without looping', async () => {
    const w = await world();
    const [a, b] = [w.client(A), w.client(B)];
    await a.publishLabel('x', 500);
    await w.client(500).publishLabel('y', 501);
    await w.client(501).publishU32('y-data', 1);
    // x is owned by a; y is owned by x; y-data by y.
    expect(await a.del('x', TYPES.LABEL)).toBe(OK);
    expect(w.store.entries().map((e) => e.key)).not.toContain('y-data');
    expect(w.store.entries().map((e) => e.key)).not.toContain('y');
    expect(await b.publishU32('z', 1)).toBe(OK);
    w.store.sanityCheck();
  });
});

describe('DS store: GETSYSINFO and unknown requests (§11.30)', () => {
  it('returns the tables; other selectors and unknown types → EINVAL', async () => {
    const w = await world();
    await w.client(A).subscribe('q');
    await w.client(A).publishU32('q', 1);
    const m = (fields: Record<string, unknown>) => w.client(UNLABELLED).req(GETSYSINFO, fields);
    const t = await m({ what: SI_DATA_STORE });
    expect(t.type).toBe(OK);
    expect((t.table as { key: string }[]).map((e) => e.key)).toContain('q');
    const s = await m({ what: SI_SUBSCRIPTION });
    expect(s.table).toEqual([{ slot: 0, owner: 'a', pattern: 'q', filter: 0, pending: [14] }]);
    expect((await m({ what: 7 })).type).toBe(EINVAL);
    expect((await w.client(A).req(0x8ff, {})).type).toBe(EINVAL);
    expect((await w.client(A).req(DS_RETRIEVE + 100, {})).type).toBe(EINVAL);
  });
});

describe('DS store: edges', () => {
  it('slot 0 is a slot like any other: with no boot labels DS itself publishes, finds, checks and deletes there', async () => {
    const mem = new FakeMemory();
    const store = new DsStore({ maxKeys: 4, maxSubs: 2, labelPolicy: 'any' }, mem);
    await store.boot([]);
    const ds = new FakeClient(store, mem, DS);
    expect(await ds.subscribe('k|m|x')).toBe(OK);
    expect(await ds.publishU32('k', 9)).toBe(OK);
    expect(store.entry(0)?.key).toBe('k');
    expect(await ds.retrieveU32('k')).toEqual({ r: OK, v: 9 });
    expect((await ds.check()).key).toBe('k');
    expect(await ds.del('k', TYPES.U32)).toBe(OK);
    expect(await ds.publishMap('m', page(3))).toBe(OK);
    expect(store.entry(0)?.key).toBe('m');
    expect((await ds.snapshot('m')).r).toBe(OK);
    expect(await ds.del('m', TYPES.MAP)).toBe(OK);
    expect(await ds.publishLabel('x', 40)).toBe(OK);
    expect(store.endpointOf('x')).toBe(40);
    expect(store.nameOf(40)).toBe('x');
    store.sanityCheck();
  });

  it('boot panics on a bad label, a label or endpoint twice, and a full table', async () => {
    const boot = async (maxKeys: number, labels: { label: string; endpoint: number }[]): Promise<void> =>
      new DsStore({ maxKeys, maxSubs: 2, labelPolicy: 'any' }, new FakeMemory()).boot(labels);
    await expect(boot(4, [{ label: '', endpoint: 1 }])).rejects.toThrow(/ds boot: bad label/);
    await expect(boot(4, [{ label: 'l'.repeat(80), endpoint: 1 }])).rejects.toThrow(/ds boot: bad label/);
    await expect(boot(4, [{ label: 'l'.repeat(79), endpoint: 1 }])).resolves.toBeUndefined();
    await expect(boot(4, [{ label: 'a', endpoint: 1 }, { label: 'a', endpoint: 2 }])).rejects.toThrow(/label a twice/);
    await expect(boot(4, [{ label: 'a', endpoint: 1 }, { label: 'b', endpoint: 1 }])).rejects.toThrow(/label b twice/);
    await expect(boot(1, [{ label: 'a', endpoint: 1 }, { label: 'b', endpoint: 2 }])).rejects.toThrow(/no slot for label b/);
  });

  it('lengths that are not counts are EINVAL: MEM and MAP publish, MEM and COPY_MAPPED retrieve', async () => {
    const w = await world();
    const a = w.client(A);
    for (const valLen of [-1, 1.5, Number.NaN]) {
      const val = w.mem.grant(A, 6, new Uint8Array(4096), { read: true, map: true });
      expect((await a.req(DS_PUBLISH, { ...a.keyFields('mem'), flags: TYPES.MEM, val, valLen })).type).toBe(EINVAL);
      expect((await a.req(DS_PUBLISH, { ...a.keyFields('map'), flags: TYPES.MAP, val, valLen })).type).toBe(EINVAL);
    }
    const val = w.mem.grant(A, 6, new Uint8Array(4096), { read: true, map: true });
    expect((await a.req(DS_PUBLISH, { ...a.keyFields('map'), flags: TYPES.MAP, val, valLen: 0 })).type).toBe(EINVAL);
    expect(await a.publishMem('mem', enc('abc'))).toBe(OK);
    expect(await a.publishMap('map', page(1))).toBe(OK);
    for (const valLen of [-1, 1.5]) {
      const out = w.mem.grant(A, 6, new Uint8Array(4096), { write: true });
      expect((await a.req(DS_RETRIEVE, { ...a.keyFields('mem'), flags: TYPES.MEM, val: out, valLen })).type).toBe(EINVAL);
      const r = await a.req(DS_RETRIEVE, { ...a.keyFields('map'), flags: TYPES.MAP | DSMF_COPY_MAPPED, val: out, valLen });
      expect(r.type).toBe(EINVAL);
    }
    expect(w.store.heapBytes).toBe(3 + 4096);
    w.store.sanityCheck();
  });

  it('STR: DS keeps the first 16 bytes, answers with a copy, and shows an empty string as ""', async () => {
    const w = await world();
    const a = w.client(A);
    const str = new Uint8Array(20).fill(0x41);
    str[15] = 0;
    expect((await a.req(DS_PUBLISH, { ...a.keyFields('s'), flags: TYPES.STR, str })).type).toBe(OK);
    const first = await a.req(DS_RETRIEVE, { ...a.keyFields('s'), flags: TYPES.STR });
    expect(first.str?.length).toBe(16);
    first.str?.fill(0x42);
    expect((await a.retrieveStr('s')).s).toBe('A'.repeat(15));
    expect(await a.publishStr('e', '')).toBe(OK);
    expect(w.store.entries().find((e) => e.key === 'e')?.value).toBe('');
  });
});

describe('DS store: trace', () => {
  it('one event per request: its name, the caller, the key it concerned or "", the result', async () => {
    const events: string[] = [];
    const w = await makeWorld({}, abc, (op, caller, key, result) => events.push(`${op} ${caller} ${key} ${result}`));
    const [a, b, u] = [w.client(A), w.client(B), w.client(UNLABELLED)];
    await a.req(GETSYSINFO, { what: SI_DATA_STORE });
    await a.publishU32('k', 1);
    await a.retrieveU32('none');
    await u.publishU32('k', 2); // refused before the key is read
    await a.subscribe('k|m');
    await a.publishU32('k', 3, DSF_OVERWRITE);
    await a.check();
    await a.check();
    await b.labelName(A);
    await a.publishMap('m', page(1));
    await a.snapshot('m');
    await a.del('k', TYPES.U32);
    await a.req(GETSYSINFO, { what: SI_DATA_STORE });
    await a.req(0x8ff, {});
    expect(events).toEqual([
      `getsysinfo ${A}  ${OK}`,
      `publish ${A} k ${OK}`,
      `retrieve ${A} none ${ESRCH}`,
      `publish ${UNLABELLED}  ${EPERM}`,
      `subscribe ${A} k|m ${OK}`,
      `publish ${A} k ${OK}`,
      `check ${A} k ${OK}`,
      `check ${A}  ${ENOENT}`,
      `retrieve_label ${B} a ${OK}`,
      `publish ${A} m ${OK}`,
      `snapshot ${A} m ${OK}`,
      `delete ${A} k ${OK}`,
      `getsysinfo ${A}  ${OK}`,
      `0x8ff ${A}  ${EINVAL}`,
    ]);
  });
});

describe('DS store: sanity checker', () => {
  it('names the broken rule', async () => {
    const w = await world();
    await w.client(A).publishU32('k', 1);
    const e = w.store.entry(14);
    expect(e?.key).toBe('k');
    (e as { key: string }).key = 'pm';
    (e as { flags: number }).flags = 0x101;
    expect(() => w.store.sanityCheck()).toThrow(Panic);
    expect(() => w.store.sanityCheck()).toThrow(/^DS sanity (KEY_UNIQUE|VALUE_KIND): /);
  });

  it('§11.31: invariants hold after every step of random sequences', async () => {
    const ops = fc.array(
      fc.record({
        who: fc.constantFrom(A, B, C, UNLABELLED, RS),
        op: fc.constantFrom('pubU32', 'pubStr', 'pubMem', 'pubMap', 'pubLabel', 'get', 'del', 'snap', 'sub', 'check', 'restart', 'down'),
        key: fc.constantFrom('k0', 'k1', 'k2', 'a', 'b', 'lab'),
        flags: fc.constantFrom(0, DSF_OVERWRITE, DSF_PRIV_RETRIEVE | DSF_OVERWRITE, DSF_PRIV_SUBSCRIBE, DSF_PRIV_OVERWRITE, DSF_INITIAL),
        n: fc.integer({ min: 0, max: 7 }),
      }),
      { maxLength: 60 },
    );
    await fc.assert(
      fc.asyncProperty(ops, async (seq) => {
        const w = await world({ maxKeys: 20, maxSubs: 3 });
        let gen = 1;
        for (const s of seq) {
          const c = w.client(s.who);
          const type = [TYPES.U32, TYPES.STR, TYPES.MEM, TYPES.MAP, TYPES.LABEL][s.n % 5] ?? TYPES.U32;
          switch (s.op) {
            case 'pubU32':
              await c.publishU32(s.key, s.n, s.flags);
              break;
            case 'pubStr':
              await c.publishStr(s.key, 'v'.repeat(s.n), s.flags);
              break;
            case 'pubMem':
              await c.publishMem(s.key, new Uint8Array(s.n + 1), s.flags);
              break;
            case 'pubMap':
              await c.publishMap(s.key, page(s.n), s.flags);
              break;
            case 'pubLabel':
              await c.publishLabel(s.key, 600 + s.n, s.flags);
              break;
            case 'get':
              await c.retrieveMap(s.key, 4096, DSMF_COPY_SNAPSHOT, s.n);
              await c.retrieveU32(s.key, type);
              break;
            case 'del':
              await c.del(s.key, type);
              break;
            case 'snap':
              await c.snapshot(s.key);
              break;
            case 'sub':
              await c.subscribe(s.n === 7 ? '(' : `${s.key}|k.`, s.flags);
              break;
            case 'check':
              await c.check();
              break;
            case 'restart':
              await w.client(RS).publishLabel(['a', 'b', 'c'][s.n % 3] ?? 'a', 36558 * gen++ + A + (s.n % 3), DSF_OVERWRITE);
              break;
            case 'down':
              await w.client(RS).del(['a', 'b', 'c'][s.n % 3] ?? 'a', TYPES.LABEL);
              break;
          }
          w.store.sanityCheck();
          expect(w.store.heapBytes).toBe([...w.mem.bufs.values()].reduce((n, b) => n + b.bytes.length, 0));
        }
      }),
      { numRuns: 150 },
    );
  });
});

/** A store with no boot labels: DS itself publishes, and its first entry takes slot 0. */
async function bare(): Promise<{ store: DsStore; mem: FakeMemory; ds: FakeClient }> {
  const mem = new FakeMemory();
  const store = new DsStore({ maxKeys: 4, maxSubs: 2, labelPolicy: 'any' }, mem);
  await store.boot([]);
  return { store, mem, ds: new FakeClient(store, mem, DS) };
}

describe("DS store: slot 0 and DS's own name", () => {
  it('a label in slot 0 is found by its endpoint, renamed in place, and guards its endpoint', async () => {
    const { store, ds } = await bare();
    expect(store.endpointOf('ds')).toBe(DS_PROC_NR);
    expect(await ds.publishLabel('x', 40)).toBe(OK);
    expect(await ds.labelName(40)).toEqual({ r: OK, name: 'x' });
    expect(await ds.publishLabel('y', 41)).toBe(OK);
    expect(await ds.publishLabel('y', 40, DSF_OVERWRITE)).toBe(EEXIST);
    expect(await ds.publishLabel('x', 42, DSF_OVERWRITE)).toBe(OK);
    expect(store.entries().map((e) => [e.slot, e.key, e.value])).toEqual([
      [0, 'x', 42],
      [1, 'y', 41],
    ]);
    store.sanityCheck();
  });

  it('an entry in slot 0 is found by its key: a second publish without OVERWRITE is EEXIST', async () => {
    const { store, ds } = await bare();
    expect(await ds.publishU32('k', 1)).toBe(OK);
    expect(await ds.publishU32('k', 2)).toBe(EEXIST);
    expect(store.usedSlots).toBe(1);
    expect(await ds.retrieveU32('k')).toEqual({ r: OK, v: 1 });
  });

  it('labels booted after a subscription set its pending bit and notify the subscriber (owner rs: no endpoint here)', async () => {
    const { store, mem, ds } = await bare();
    expect(await ds.subscribe('late')).toBe(OK);
    await store.boot([{ label: 'late', endpoint: 50 }]);
    expect(mem.notified).toEqual([DS]);
    expect(await ds.check()).toMatchObject({ r: OK, key: 'late', type: TYPES.LABEL, owner: NONE });
  });
});

describe('DS store: requests refused late, and memory calls that fail', () => {
  it('two type bits with a valid key: EINVAL, nothing stored; an unlabelled delete is EPERM before the key', async () => {
    const w = await world();
    const a = w.client(A);
    const used = w.store.usedSlots;
    expect(
      (await a.req(DS_PUBLISH, { ...a.keyFields('two'), flags: TYPES.U32 | TYPES.STR, val: 1 })).type,
    ).toBe(EINVAL);
    expect(w.store.usedSlots).toBe(used);
    expect((await w.client(UNLABELLED).req(DS_DELETE, { keyLen: 1, flags: TYPES.U32 })).type).toBe(EPERM);
  });

  it('MAP retrieve naming no mode is EINVAL, even with a snapshot to copy', async () => {
    const w = await world();
    const a = w.client(A);
    await a.publishMap('m', page(1));
    expect(await a.snapshot('m')).toEqual({ r: OK, n: 0 });
    expect((await a.retrieveMap('m', 4096, 0, 0)).r).toBe(EINVAL);
  });

  it('allocation: EINVAL from the allocator stays EINVAL; a MAP window that cannot be had is ENOMEM', async () => {
    const w = await world();
    const a = w.client(A);
    const bufs = w.mem.bufs.size;
    w.mem.failAllocs = 1;
    expect(await a.publishMap('m', page(1))).toBe(ENOMEM);
    expect(w.mem.bufs.size).toBe(bufs);
    expect(w.store.entries().some((e) => e.key === 'm')).toBe(false);
    w.mem.alloc = () => Promise.resolve(EINVAL);
    expect(await a.publishMem('mem', enc('x'))).toBe(EINVAL);
    w.store.sanityCheck();
  });

  it('a MAP_MAPPED grant DS cannot make: its error, and no grant is kept', async () => {
    const w = await world();
    const a = w.client(A);
    await a.publishMap('m', page(1));
    w.mem.grantMap = () => Promise.resolve(ENOMEM);
    expect((await a.retrieveMap('m', 4096, DSMF_MAP_MAPPED)).r).toBe(ENOMEM);
    expect(await a.del('m', TYPES.MAP)).toBe(OK);
    expect(w.mem.revoked).toEqual([]);
  });

  it('a MAP delete whose unmap or revmap fails answers that error and keeps the entry', async () => {
    const w = await world();
    const a = w.client(A);
    await a.publishMap('m', page(1));
    w.mem.unmap = () => Promise.resolve(EPERM);
    expect(await a.del('m', TYPES.MAP)).toBe(EPERM);
    w.mem.unmap = () => Promise.resolve(OK);
    w.mem.revmapAddr = () => Promise.resolve(ESRCH);
    expect(await a.del('m', TYPES.MAP)).toBe(ESRCH);
    expect(w.store.entries().some((e) => e.key === 'm')).toBe(true);
    w.store.sanityCheck();
  });

  it('a label whose purge fails stays, with the entries after the one that failed', async () => {
    const w = await world();
    const x = w.client(500);
    expect(await w.client(A).publishLabel('x', 500)).toBe(OK);
    expect(await x.publishMap('x.map', page(1))).toBe(OK);
    expect(await x.publishU32('x.u32', 1)).toBe(OK);
    w.mem.unmap = () => Promise.resolve(EPERM);
    expect(await w.client(A).del('x', TYPES.LABEL)).toBe(EPERM);
    expect(await w.client(A).retrieveLabel('x')).toEqual({ r: OK, v: 500 });
    expect((await x.retrieveU32('x.u32')).v).toBe(1);
    w.store.sanityCheck();
  });
});

describe('DS store: deletes and purges', () => {
  it('deleting an entry whose key is a label name purges nothing of that label', async () => {
    const w = await world();
    const [a, b] = [w.client(A), w.client(B)];
    expect(await a.publishU32('b', 1)).toBe(OK);
    expect(await b.publishU32('b.data', 2)).toBe(OK);
    expect(await b.subscribe('q')).toBe(OK);
    expect(await a.del('b', TYPES.U32)).toBe(OK);
    expect((await b.retrieveU32('b.data')).v).toBe(2);
    expect(w.store.subscriptions().map((s) => s.owner)).toEqual(['b']);
  });

  it('a purge reaches a slot that an earlier delete freed and a new entry of the label took', async () => {
    const w = await world();
    const x = w.client(500);
    expect(await w.client(A).publishLabel('x', 500)).toBe(OK);
    expect(await x.publishU32('t', 1)).toBe(OK);
    expect(await x.del('t', TYPES.U32)).toBe(OK);
    expect(await x.publishU32('t2', 2)).toBe(OK);
    expect(await w.client(A).del('x', TYPES.LABEL)).toBe(OK);
    expect(w.store.entries().map((e) => e.key)).not.toContain('t2');
    w.store.sanityCheck();
  });

  it('a subscription whose label was renamed notifies nobody (its name has no endpoint now)', async () => {
    const w = await world();
    expect(await w.client(A).subscribe('.*')).toBe(OK);
    expect(await w.client(RS).publishLabel('a2', A, DSF_OVERWRITE)).toBe(OK);
    w.mem.notified.length = 0;
    expect(await w.client(B).publishU32('z', 1)).toBe(OK);
    expect(w.mem.notified).toEqual([]);
  });
});
