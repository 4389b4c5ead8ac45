// The DS client library (src/libsys/ds.ts) as two services started through RS use it against the real DS:
// each call's result and output values, what the library refuses before sending, what a failed call leaves
// in the outputs, and the grants it makes and revokes in the caller's table.
import { describe, expect, it } from 'vitest';
import {
  DSF_INITIAL,
  DSF_OVERWRITE,
  DSF_TYPE_STR,
  DSF_TYPE_U32,
  DSMF_COPY_MAPPED,
  DSMF_COPY_SNAPSHOT,
  DSMF_MAP_MAPPED,
} from '../../../src/include/ds.ts';
import { EEXIST, EINVAL, ENOENT, ENOMEM, ENOSPC, ESRCH, OK } from '../../../src/include/errno.ts';
import { DEFAULT_SERVICE_SPEC } from '../../../src/include/priv.ts';
import { CPF_READ, CPF_USED, GRANT_ENTRY_BYTES, GRANT_OFF } from '../../../src/include/safecopies.ts';
import {
  dsCheck,
  dsDeleteLabel,
  dsDeleteMap,
  dsDeleteMem,
  dsDeleteStr,
  dsDeleteU32,
  dsPublishLabel,
  dsPublishMap,
  dsPublishMem,
  dsPublishStr,
  dsPublishU32,
  dsRetrieveLabelEndpt,
  dsRetrieveLabelName,
  dsRetrieveLabelNum,
  dsRetrieveMap,
  dsRetrieveMem,
  dsRetrieveStr,
  dsRetrieveU32,
  dsSnapshotMap,
  dsSubscribe,
} from '../../../src/libsys/ds.ts';
import type { Proc } from '../../../src/libsys/proc.ts';
import { createSystem } from '../../../src/sim/system.ts';
import type { System } from '../../../src/sim/system.ts';
import { PAGE, drivenActor } from '../../helpers/driven.ts';
import type { Driven } from '../../helpers/driven.ts';

/**
 * A fresh system with two driven services. Made inside each test, not in beforeAll: a mutation run switches
 * a mutant on before beforeAll, and a setup that fails there skips the tests, which counts as survived.
 */
async function world(): Promise<{ sys: System; a: Driven; b: Driven }> {
  const sys = await createSystem({ ramBytes: 16 * 1024 * 1024 });
  const a = await drivenActor(sys, 'a', { priv: DEFAULT_SERVICE_SPEC });
  const b = await drivenActor(sys, 'b', { priv: DEFAULT_SERVICE_SPEC });
  return { sys, a, b };
}

const bytes = (n: number, seed: number): Uint8Array =>
  Uint8Array.from({ length: n }, (_, i) => (i * 3 + seed) & 0xff);

/** How many grants p holds: the slots of its grant table (in its own memory) marked in use. */
async function liveGrants(p: Proc): Promise<number> {
  const { addr, entries } = p.cpf.table();
  const table = await p.read(addr, entries * GRANT_ENTRY_BYTES);
  const v = new DataView(table.buffer);
  let n = 0;
  for (let slot = 0; slot < entries; slot++) {
    if ((v.getUint32(slot * GRANT_ENTRY_BYTES + GRANT_OFF.flags, true) & CPF_USED) !== 0) n++;
  }
  return n;
}

describe('U32 and LABEL', () => {
  it('a U32 value travels as unsigned 32 bits; a failed retrieve gives value 0', async () => {
    const { a, b } = await world();
    expect(await a.do((p) => dsPublishU32(p, 'u.neg', -1))).toBe(OK);
    expect(await b.do((p) => dsRetrieveU32(p, 'u.neg'))).toEqual({ result: OK, value: 0xffffffff });
    expect(await a.do((p) => dsPublishU32(p, 'u.neg', 5))).toBe(EEXIST);
    expect(await a.do((p) => dsPublishU32(p, 'u.neg', 2 ** 32 + 6, DSF_OVERWRITE))).toBe(OK);
    expect(await b.do((p) => dsRetrieveU32(p, 'u.neg'))).toEqual({ result: OK, value: 6 });
    expect(await b.do((p) => dsRetrieveU32(p, 'u.none'))).toEqual({ result: ESRCH, value: 0 });
    expect(await a.do((p) => dsDeleteU32(p, 'u.neg'))).toBe(OK);
    expect(await a.do((p) => dsDeleteU32(p, 'u.neg'))).toBe(ESRCH);
  });

  it('labels resolve both ways; an unknown one gives endpoint 0 or name ""', async () => {
    const { a, b } = await world();
    expect(await b.do((p) => dsRetrieveLabelNum(p, 'a'))).toEqual({ result: OK, endpoint: a.ep });
    expect(await b.do((p) => dsRetrieveLabelEndpt(p, 'b'))).toEqual({ result: OK, endpoint: b.ep });
    expect(await b.do((p) => dsRetrieveLabelName(p, a.ep))).toEqual({ result: OK, name: 'a' });
    expect(await b.do((p) => dsRetrieveLabelNum(p, 'nobody'))).toEqual({ result: ESRCH, endpoint: 0 });
    expect(await b.do((p) => dsRetrieveLabelName(p, 12345))).toEqual({ result: ESRCH, name: '' });
    const dummy = await a.do((p) => p.fork(async (c) => c.receive().then(() => 0), 'dummy'));
    expect(dummy).toBeGreaterThan(0);
    expect(await a.do((p) => dsPublishLabel(p, 'alias', dummy))).toBe(OK);
    expect(await b.do((p) => dsRetrieveLabelNum(p, 'alias'))).toEqual({ result: OK, endpoint: dummy });
    expect(await a.do((p) => dsPublishLabel(p, 'alias2', dummy))).toBe(EEXIST);
    expect(await a.do((p) => dsDeleteLabel(p, 'alias'))).toBe(OK);
    expect(await b.do((p) => dsRetrieveLabelNum(p, 'alias'))).toEqual({ result: ESRCH, endpoint: 0 });
  });

  it('a key too long for the scratch page is EINVAL before DS is asked; DS refuses a key over 79 bytes', async () => {
    const { a } = await world();
    expect(await a.do((p) => dsPublishU32(p, 'k'.repeat(PAGE), 1))).toBe(EINVAL);
    expect(await a.do((p) => dsPublishU32(p, 'k'.repeat(PAGE - 1), 1))).toBe(EINVAL);
    expect(await a.do((p) => dsRetrieveU32(p, 'k'.repeat(PAGE)))).toEqual({ result: EINVAL, value: 0 });
  });
});

describe('STR', () => {
  it('15 bytes at most, refused before sending at 16; UTF-8 both ways; a failed retrieve gives ""', async () => {
    const { a, b } = await world();
    expect(await a.do((p) => dsPublishStr(p, 's.full', 'é'.repeat(7) + 'x'))).toBe(OK);
    expect(await b.do((p) => dsRetrieveStr(p, 's.full'))).toEqual({ result: OK, value: 'é'.repeat(7) + 'x' });
    expect(await a.do((p) => dsPublishStr(p, 's.long', 'y'.repeat(16)))).toBe(EINVAL);
    expect(await b.do((p) => dsRetrieveStr(p, 's.long'))).toEqual({ result: ESRCH, value: '' });
    expect(await a.do((p) => dsPublishStr(p, 's.short', 'hi'))).toBe(OK);
    expect(await b.do((p) => dsRetrieveStr(p, 's.short'))).toEqual({ result: OK, value: 'hi' });
    expect(await a.do((p) => dsPublishStr(p, 's.short', 'bye', DSF_OVERWRITE))).toBe(OK);
    expect(await b.do((p) => dsRetrieveStr(p, 's.short'))).toEqual({ result: OK, value: 'bye' });
    expect(await a.do((p) => dsDeleteStr(p, 's.short'))).toBe(OK);
    expect(await b.do((p) => dsRetrieveStr(p, 's.short'))).toEqual({ result: ESRCH, value: '' });
    expect(await a.do((p) => dsDeleteStr(p, 's.full'))).toBe(OK);
  });
});

describe('MEM', () => {
  it('DS keeps a copy; retrieve copies min(len, size) and says how many; a failure copies nothing', async () => {
    const { a, b } = await world();
    await a.do((p, buf) => p.write(buf, bytes(300, 1)));
    const before = await a.do((p) => liveGrants(p));
    expect(await a.do((p, buf) => dsPublishMem(p, 'm.1', buf, 300))).toBe(OK);
    expect(await a.do((p) => liveGrants(p))).toBe(before);
    await a.do((p, buf) => p.write(buf, new Uint8Array(300)));
    expect(await b.do((p, buf) => dsRetrieveMem(p, 'm.1', buf, 1000))).toEqual({ result: OK, len: 300 });
    expect([...(await b.do((p, buf) => p.read(buf, 300)))]).toEqual([...bytes(300, 1)]);
    await b.do((p, buf) => p.write(buf, new Uint8Array(300)));
    expect(await b.do((p, buf) => dsRetrieveMem(p, 'm.1', buf + 1, 100))).toEqual({ result: OK, len: 100 });
    const got = await b.do((p, buf) => p.read(buf, 102));
    expect([...got.subarray(1, 101)]).toEqual([...bytes(100, 1)]);
    expect([got[0], got[101]]).toEqual([0, 0]);
    expect(await b.do((p, buf) => dsRetrieveMem(p, 'm.none', buf, 100))).toEqual({ result: ESRCH, len: 0 });
    expect(await a.do((p, buf) => dsPublishMem(p, 'm.bad', buf, 100, 0))).toBe(OK);
    expect(await a.do((p, buf) => dsPublishMem(p, 'm.bad', buf, 100))).toBe(EEXIST);
    expect(await a.do((p) => liveGrants(p))).toBe(before);
    expect(await a.do((p) => dsDeleteMem(p, 'm.1'))).toBe(OK);
    expect(await a.do((p) => dsDeleteMem(p, 'm.bad'))).toBe(OK);
    expect(await b.do((p, buf) => dsRetrieveMem(p, 'm.1', buf, 100))).toEqual({ result: ESRCH, len: 0 });
  });

  it('a range no grant can cover is the grant error, before DS is asked', async () => {
    const { a, b } = await world();
    expect(await a.do((p, buf) => dsPublishMem(p, 'm.x', buf, -1))).toBe(EINVAL);
    expect(await b.do((p, buf) => dsRetrieveMem(p, 'm.x', buf, -1))).toEqual({ result: EINVAL, len: 0 });
  });
});

describe('MAP', () => {
  it('publish keeps its grant until delete; copy, map and snapshot modes; an unaligned or empty range is EINVAL', async () => {
    const { a, b } = await world();
    const win = a.buf + 2 * PAGE;
    await a.do((p) => p.write(win, bytes(2 * PAGE, 7)));
    expect(await a.do((p) => dsPublishMap(p, 'map.1', win + 1, PAGE))).toBe(EINVAL);
    expect(await a.do((p) => dsPublishMap(p, 'map.1', win, PAGE + 1))).toBe(EINVAL);
    expect(await a.do((p) => dsPublishMap(p, 'map.1', win, 0))).toBe(EINVAL);
    const before = await a.do((p) => liveGrants(p));
    expect(await a.do((p) => dsPublishMap(p, 'map.1', win, 2 * PAGE))).toBe(OK);
    expect(await a.do((p) => liveGrants(p))).toBe(before + 1);
    // a second publish of the key fails and leaves no grant behind
    expect(await a.do((p) => dsPublishMap(p, 'map.1', win, PAGE))).toBe(EEXIST);
    expect(await a.do((p) => liveGrants(p))).toBe(before + 1);

    expect(await b.do((p, buf) => dsRetrieveMap(p, 'map.1', buf, 100, 0, 0))).toEqual({
      result: EINVAL,
      len: 0,
    });
    expect(await b.do((p, buf) => dsRetrieveMap(p, 'map.1', buf, 100, 0, DSMF_COPY_MAPPED))).toEqual({
      result: OK,
      len: 100,
    });
    expect([...(await b.do((p, buf) => p.read(buf, 100)))]).toEqual([...bytes(100, 7)]);
    expect(await b.do((p, buf) => dsRetrieveMap(p, 'map.none', buf, 100, 0, DSMF_COPY_MAPPED))).toEqual({
      result: ESRCH,
      len: 0,
    });

    // MAP_MAPPED: whole pages of min(len, window) at buf, live
    const at = b.buf + 4 * PAGE;
    expect(await b.do((p) => dsRetrieveMap(p, 'map.1', at, 3 * PAGE + 5, 0, DSMF_MAP_MAPPED))).toEqual({
      result: OK,
      len: 2 * PAGE,
    });
    await a.do((p) => p.write(win + PAGE, Uint8Array.of(0xab)));
    expect((await b.do((p) => p.read(at + PAGE, 1)))[0]).toBe(0xab);
    expect(await b.do((p) => dsRetrieveMap(p, 'map.none', at, PAGE, 0, DSMF_MAP_MAPPED))).toEqual({
      result: ESRCH,
      len: 0,
    });

    // snapshots: numbered from 0; read back the one taken before a change
    expect(await a.do((p) => dsSnapshotMap(p, 'map.1'))).toEqual({ result: OK, nr: 0 });
    await a.do((p) => p.write(win, Uint8Array.of(1, 2, 3)));
    expect(await a.do((p) => dsSnapshotMap(p, 'map.1'))).toEqual({ result: OK, nr: 1 });
    expect(await a.do((p) => dsSnapshotMap(p, 'map.none'))).toEqual({ result: ESRCH, nr: -1 });
    expect(await b.do((p, buf) => dsRetrieveMap(p, 'map.1', buf, 3, 0, DSMF_COPY_SNAPSHOT))).toEqual({
      result: OK,
      len: 3,
    });
    expect([...(await b.do((p, buf) => p.read(buf, 3)))]).toEqual([...bytes(3, 7)]);
    expect(await b.do((p, buf) => dsRetrieveMap(p, 'map.1', buf, 3, 1, DSMF_COPY_SNAPSHOT))).toEqual({
      result: OK,
      len: 3,
    });
    expect([...(await b.do((p, buf) => p.read(buf, 3)))]).toEqual([1, 2, 3]);
    expect(await b.do((p, buf) => dsRetrieveMap(p, 'map.1', buf, 3, 7, DSMF_COPY_SNAPSHOT))).toEqual({
      result: EINVAL,
      len: 0,
    });
    expect(await b.do((p, buf) => dsRetrieveMap(p, 'map.1', buf, -1, 0, DSMF_COPY_MAPPED))).toEqual({
      result: EINVAL,
      len: 0,
    });

    // delete: only the owner's success revokes the kept grant
    expect(await b.do((p) => dsDeleteMap(p, 'map.1'))).not.toBe(OK);
    expect(await a.do((p) => dsDeleteMap(p, 'map.none'))).toBe(ESRCH);
    expect(await a.do((p) => liveGrants(p))).toBe(before + 1);
    expect(await a.do((p) => dsDeleteMap(p, 'map.1'))).toBe(OK);
    expect(await a.do((p) => liveGrants(p))).toBe(before);
  });
});

describe('subscriptions', () => {
  it('dsCheck names the changed key, its type and owner, then ENOENT; without a subscription ESRCH', async () => {
    const { a, b } = await world();
    expect(await b.do((p) => dsCheck(p))).toEqual({ result: ESRCH, key: '', type: 0, owner: 0 });
    expect(await b.do((p) => dsSubscribe(p, 'sub\\..*'))).toBe(OK);
    expect(await b.do((p) => dsCheck(p))).toEqual({ result: ENOENT, key: '', type: 0, owner: 0 });
    expect(await a.do((p) => dsPublishStr(p, 'sub.s', 'v'))).toBe(OK);
    expect(await a.do((p) => dsPublishU32(p, 'other', 1))).toBe(OK);
    const c = await b.do((p) => dsCheck(p));
    expect(c).toEqual({ result: OK, key: 'sub.s', type: DSF_TYPE_STR, owner: a.ep });
    expect(await b.do((p) => dsCheck(p))).toEqual({ result: ENOENT, key: '', type: 0, owner: 0 });
    expect(await a.do((p) => dsPublishU32(p, 'sub.u', 1))).toBe(OK);
    expect(await b.do((p) => dsCheck(p))).toEqual({
      result: OK,
      key: 'sub.u',
      type: DSF_TYPE_U32,
      owner: a.ep,
    });
  });

  it('the grant of a key or of an output buffer lives only for the call', async () => {
    const { a, b } = await world();
    const before = await a.do((p) => liveGrants(p));
    expect(await a.do((p) => dsPublishU32(p, 'g.1', 1))).toBe(OK);
    expect(await a.do((p) => dsRetrieveU32(p, 'g.1'))).toEqual({ result: OK, value: 1 });
    expect(await a.do((p) => dsRetrieveLabelName(p, b.ep))).toEqual({ result: OK, name: 'b' });
    expect((await a.do((p) => dsCheck(p))).result).toBe(ESRCH);
    expect(await a.do((p) => liveGrants(p))).toBe(before);
  });
});

describe('what the library needs before DS is asked', () => {
  it("no scratch page (VM cannot map one): VM's error, nothing published", async () => {
    const { sys, a, b } = await world();
    sys.vm.failAfter(1);
    const r = await a.do((p) => dsPublishU32(p, 'x', 1));
    sys.vm.failAfter(null);
    expect(r).toBe(ENOMEM);
    expect(await b.do((p) => dsRetrieveU32(p, 'x'))).toEqual({ result: ESRCH, value: 0 });
    expect(await a.do((p) => dsPublishU32(p, 'x', 1))).toBe(OK);
  });

  it('no grant for the key (the table cannot grow): ENOSPC, nothing published', async () => {
    const { sys, a, b } = await world();
    expect(await a.do((p) => dsPublishU32(p, 'first', 1))).toBe(OK); // maps the scratch page, a table of 2
    await a.do(async (p) => {
      await p.cpf.grantDirect(b.ep, a.buf, 8, CPF_READ);
      await p.cpf.grantDirect(b.ep, a.buf, 8, CPF_READ);
    });
    /** The call with VM's next allocation failing. */
    const failing = <T>(f: (p: Proc, buf: number) => Promise<T>): Promise<T> => {
      sys.vm.failAfter(1);
      return a.do(f).finally(() => {
        sys.vm.failAfter(null);
      });
    };
    const r = await failing((p) => dsPublishU32(p, 'x', 1));
    const m = await failing((p) => dsPublishMem(p, 'y', a.buf, 8));
    const out = await failing((p, buf) => dsRetrieveMem(p, 'first', buf, 8));
    const map = await failing((p) => dsPublishMap(p, 'z', a.buf, PAGE));
    const copy = await failing((p, buf) => dsRetrieveMap(p, 'z', buf, 8, 0, DSMF_COPY_MAPPED));
    expect([r, m, out, map, copy]).toEqual([
      ENOSPC,
      ENOSPC,
      { result: ENOSPC, len: 0 },
      ENOSPC,
      { result: ENOSPC, len: 0 },
    ]);
    expect(await b.do((p) => dsRetrieveU32(p, 'x'))).toEqual({ result: ESRCH, value: 0 });
  });

  it('the scratch page is mapped once per process, at its first call', async () => {
    const { sys, a } = await world();
    const before = sys.vm.regions(a.ep).length;
    expect(await a.do((p) => dsPublishU32(p, 'once', 1))).toBe(OK);
    const after = sys.vm.regions(a.ep).length;
    expect(after).toBeGreaterThan(before);
    await a.do(async (p) => {
      await dsRetrieveU32(p, 'once');
      await dsRetrieveLabelName(p, a.ep);
      await dsDeleteU32(p, 'once');
    });
    expect(sys.vm.regions(a.ep).length).toBe(after);
  });
});

describe('more of MAP and subscriptions', () => {
  it('MAP_MAPPED whose safemap fails gives its error and length 0', async () => {
    const { a, b } = await world();
    expect(await a.do((p, buf) => dsPublishMap(p, 'mm', buf, PAGE))).toBe(OK);
    const r = await b.do((p, buf) => dsRetrieveMap(p, 'mm', buf + 1, PAGE, 0, DSMF_MAP_MAPPED));
    expect(r.result).toBeLessThan(0);
    expect(r.len).toBe(0);
  });

  it('a DSF_INITIAL subscription reports the keys that already match; a plain one does not', async () => {
    const { a, b } = await world();
    expect(await a.do((p) => dsPublishU32(p, 'init.1', 1))).toBe(OK);
    expect(await b.do((p) => dsSubscribe(p, 'init\\..*', DSF_INITIAL))).toBe(OK);
    expect(await b.do((p) => dsCheck(p))).toEqual({
      result: OK,
      key: 'init.1',
      type: DSF_TYPE_U32,
      owner: a.ep,
    });
    expect(await a.do((p) => dsSubscribe(p, 'init\\..*'))).toBe(OK);
    expect((await a.do((p) => dsCheck(p))).result).toBe(ENOENT);
  });
});
