import { describe, expect, it } from 'vitest';
import { ENOMEM } from '../../../../src/include/errno.ts';
import { MAP_ANON, MAP_PREALLOC, NO_MEM } from '../../../../src/include/vm.ts';
import { Slab } from '../../../../src/servers/vm/slab.ts';
import type { SlabObj } from '../../../../src/servers/vm/slab.ts';
import { mmapRegion, munmapRange } from '../../../../src/servers/vm/mmap.ts';
import { defaultVmConfig } from '../../../../src/servers/vm/glo.ts';
import { PAGE, unitVm } from './helpers.ts';

interface Obj extends SlabObj {
  x: number;
}

function slab(pages: number, sanity = true): Slab {
  let next = 100;
  return new Slab({
    sanity,
    objectBytes: defaultVmConfig.slabObjectBytes,
    getPage: () => (pages-- > 0 ? next++ : 0),
    shouldFail: () => false,
  });
}

describe('VM slab allocator (slaballoc.c)', () => {
  it('packs ⌊(4096 − 64) / size⌋ objects per page and keeps the lists right', () => {
    const s = slab(10);
    const objs: Obj[] = [];
    for (let i = 0; i < 84; i++) {
      const o = s.alloc<Obj>('region', { _slab: null, x: i });
      if (o === null) throw new Error('ENOMEM');
      objs.push(o);
    }
    expect(s.stats().byClass.region).toEqual({ pages: 1, live: 84, perPage: 84 });
    s.alloc<Obj>('region', { _slab: null, x: 0 });
    expect(s.stats().byClass.region.pages).toBe(2);
    s.check();
    for (const o of objs) s.free(o);
    s.check();
    expect(s.stats().byClass.region.pages).toBe(2); // never returned
  });

  it('no page left → ENOMEM (null)', () => {
    const s = slab(0);
    expect(s.alloc<Obj>('physBlock', { _slab: null, x: 1 })).toBeNull();
    expect(s.allocNode()).toBe(false);
  });

  it('§11.44 a write outside use() panics; use() allows it; nested use() on one page panics; use after free panics', () => {
    const s = slab(4);
    const a = s.alloc<Obj>('region', { _slab: null, x: 1 });
    const b = s.alloc<Obj>('region', { _slab: null, x: 2 });
    const c = s.alloc<Obj>('physBlock', { _slab: null, x: 3 });
    if (a === null || b === null || c === null) throw new Error('ENOMEM');
    expect(() => {
      a.x = 5;
    }).toThrow(/stray write/);
    s.use(a, () => {
      a.x = 5;
    });
    expect(a.x).toBe(5);
    // Objects of different pages may be open together.
    s.use(a, () => s.use(c, () => (c.x = 9)));
    expect(c.x).toBe(9);
    const d = s.alloc<Obj>('region', { _slab: null, x: 4 });
    if (d === null) throw new Error('ENOMEM');
    s.free(d);
    expect(() => d.x).toThrow(/use after free/);
    expect(() => s.use(d, () => undefined)).toThrow(/not a live slab object/);
    // A panic stops the system: the page stays open, so this comes last.
    expect(() => s.use(a, () => s.use(b, () => undefined))).toThrow(/nested use/);
  });

  it('with sanity off objects are plain and writable', () => {
    const s = slab(1, false);
    const a = s.alloc<Obj>('region', { _slab: null, x: 1 });
    if (a === null) throw new Error('ENOMEM');
    a.x = 2;
    expect(a.x).toBe(2);
  });

  it('open/close is use() in two halves: writes between them, nesting on one page and a stray close panic', () => {
    const s = slab(2);
    const a = s.alloc<Obj>('region', { _slab: null, x: 1 });
    const b = s.alloc<Obj>('region', { _slab: null, x: 2 });
    if (a === null || b === null) throw new Error('ENOMEM');
    s.open(a);
    a.x = 7;
    s.close(a);
    expect(a.x).toBe(7);
    expect(() => {
      a.x = 8;
    }).toThrow(/stray write/);
    expect(() => s.close(b)).toThrow(/not open/);
    s.open(a);
    expect(() => s.open(b)).toThrow(/nested use/);
  });

  it('raw() and liveMeta() give the object behind the protection, for live objects only', () => {
    const s = slab(2);
    const a = s.alloc<Obj>('region', { _slab: null, x: 1 });
    if (a === null) throw new Error('ENOMEM');
    const r = s.raw(a);
    expect(r).not.toBe(a);
    expect(r.x).toBe(1);
    expect(s.liveMeta(a, 'region')?.target).toBe(r);
    expect(s.liveMeta(a, 'physBlock')).toBeNull();
    s.free(a);
    expect(s.liveMeta(a, 'region')).toBeNull();
    expect(() => s.raw(a)).toThrow(/not a live slab object/);
  });

  it('with sanity off a slot reuses its bookkeeping, yet a stale object is still told apart', () => {
    const s = slab(1, false);
    const a = s.alloc<Obj>('region', { _slab: null, x: 1 });
    if (a === null) throw new Error('ENOMEM');
    s.free(a);
    const b = s.alloc<Obj>('region', { _slab: null, x: 2 });
    if (b === null) throw new Error('ENOMEM');
    expect(b._slab).toBe(a._slab); // the same slot, the same record
    expect(s.isLive(b, 'region')).toBe(true);
    expect(s.isLive(a, 'region')).toBe(false);
    expect(() => s.free(a)).toThrow(/not a live slab object/);
    expect(s.raw(b)).toBe(b);
    s.check();
  });

  it('claim/reusable/place: with sanity off a slot hands back its last object; with sanity on never', () => {
    const off = slab(1, false);
    expect(off.claim('physRegion')).toBe(true);
    expect(off.reusable()).toBeNull(); // a slot never used holds no object
    const a = off.place<Obj>('physRegion', { _slab: null, x: 1 });
    off.free(a);
    expect(off.claim('physRegion')).toBe(true);
    const old = off.reusable() as Obj | null;
    expect(old).toBe(a);
    if (old === null) throw new Error('no object');
    old.x = 2;
    const b = off.place('physRegion', old);
    expect(b).toBe(a);
    expect(off.isLive(b, 'physRegion')).toBe(true);
    expect(off.stats().byClass.physRegion.live).toBe(1);
    off.check();

    const on = slab(1);
    expect(on.claim('physRegion')).toBe(true);
    const c = on.place<Obj>('physRegion', { _slab: null, x: 1 });
    on.free(c);
    expect(on.claim('physRegion')).toBe(true);
    expect(on.reusable()).toBeNull(); // a stale pointer to c must keep panicking
    on.place<Obj>('physRegion', { _slab: null, x: 3 });
    expect(() => c.x).toThrow(/use after free/);
  });

  it('a failed claim takes nothing', () => {
    const s = slab(0, false);
    expect(s.claim('physRegion')).toBe(false);
    expect(s.stats().byClass.physRegion).toMatchObject({ pages: 0, live: 0 });
  });

  it('reserveNodes(k) takes the slots, fault checks and pages of k allocNode calls, a failure anywhere included', () => {
    // 500 nodes span three avlNode pages; each chosen check fails in turn (and none, for failAt 0 or past the end).
    const k = 500;
    const make = (failAt: number): { s: Slab; calls: () => number; pages: () => number } => {
      let calls = 0;
      let pages = 0;
      let next = 100;
      const s = new Slab({
        sanity: false,
        objectBytes: defaultVmConfig.slabObjectBytes,
        getPage: () => {
          pages++;
          return next++;
        },
        shouldFail: () => ++calls === failAt,
      });
      // A partly used page first, so that the reserve starts on the used list.
      for (let i = 0; i < 5; i++) s.allocNode();
      s.freeNode();
      return { s, calls: () => calls, pages: () => pages };
    };
    const perPage = make(0).s.stats().byClass.avlNode.perPage;
    expect(k).toBeGreaterThan(2 * perPage);
    for (const failAt of [0, 5, 6, 7, 5 + perPage, 4 + 2 * perPage, 5 + k, 6 + k]) {
      const bulk = make(failAt);
      const one = make(failAt);
      const ok = bulk.s.reserveNodes(k);
      let taken = 0;
      while (taken < k && one.s.allocNode()) taken++;
      const oneOk = taken === k;
      if (!oneOk) for (let j = 0; j < taken; j++) one.s.freeNode();
      expect(ok).toBe(oneOk);
      expect(bulk.calls()).toBe(one.calls());
      expect(bulk.pages()).toBe(one.pages());
      expect(bulk.s.stats()).toEqual(one.s.stats());
      if (ok) {
        expect(bulk.s.allocNodes(k)).toBe(true); // consumes the reservation in one step
        for (let j = 0; j < k; j++) bulk.s.freeNode();
        for (let j = 0; j < k; j++) one.s.freeNode();
        expect(bulk.s.stats()).toEqual(one.s.stats());
      }
      bulk.s.check();
    }
  });

  it('§11.43 with the pool drained an mmap needing a region object → ENOMEM; munmap returns no slab page', () => {
    const u = unitVm({ sparePages: 0 });
    const p = u.proc(1);
    const slabBefore = u.state.slabStats().pages;
    // Fill the region class's current page so the next region needs a new slab page.
    const maps: number[] = [];
    const perPage = u.state.slabStats().byClass.region.perPage;
    while (u.state.slabStats().byClass.region.live % perPage !== 0) maps.push(mmapRegion(u.vm, p, 0, PAGE, MAP_ANON, -1));
    const taken: number[] = [];
    for (let f = u.vm.alloc.allocPages(1, 0); f !== NO_MEM; f = u.vm.alloc.allocPages(1, 0)) taken.push(f);
    expect(mmapRegion(u.vm, p, 0, PAGE, MAP_ANON, -1)).toBe(ENOMEM);
    for (const f of taken) u.vm.alloc.freePages(f, 1);
    const a = mmapRegion(u.vm, p, 0, 4 * PAGE, MAP_ANON | MAP_PREALLOC, -1);
    expect(a).toBeGreaterThan(0);
    const slabPages = u.state.slabStats().pages;
    expect(slabPages).toBeGreaterThan(slabBefore);
    expect(munmapRange(u.vm, p, a, 4 * PAGE)).toBe(0);
    for (const m of maps) expect(munmapRange(u.vm, p, m, PAGE)).toBe(0);
    expect(u.state.slabStats().pages).toBe(slabPages);
    u.state.sanityCheck();
  });
});
