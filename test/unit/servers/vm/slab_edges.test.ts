// Edges of VM's slab allocator (src/servers/vm/slab.ts) beyond slab.test.ts and slab_rules.test.ts: the whole
// message of each check rule (slab_rules matches the rule's name), the object sizes a page can and cannot hold, the
// page an allocation takes, the read-only page's refusals with their messages, liveness of stale and foreign
// objects, and the AVL node slots: reserved ones first, the free list's own, growth past the first record, misuse.
import { describe, expect, it } from 'vitest';
import { defaultVmConfig } from '../../../../src/servers/vm/glo.ts';
import { Slab } from '../../../../src/servers/vm/slab.ts';
import type { SlabClass, SlabObj, SlabPage } from '../../../../src/servers/vm/slab.ts';

interface Obj extends SlabObj {
  x: number;
}

interface Inside {
  classes: Record<
    SlabClass,
    {
      pages: SlabPage[];
      lists: Record<'free' | 'used' | 'full', { head: SlabPage | null; tail: SlabPage | null; size: number }>;
      live: number;
    }
  >;
  nodeCount: number;
}

/** A slab whose pages are frames 100, 101, ...; `fail` says when a fallible allocation fails. */
function slab(
  o: { sanity?: boolean; fail?: () => boolean; bytes?: Partial<Record<SlabClass, number>> } = {},
): Slab {
  let next = 100;
  return new Slab({
    sanity: o.sanity ?? true,
    objectBytes: { ...defaultVmConfig.slabObjectBytes, ...o.bytes },
    getPage: () => next++,
    shouldFail: o.fail ?? (() => false),
  });
}

function obj(s: Slab, x = 0, cls: 'region' | 'physBlock' = 'region'): Obj {
  const o = s.alloc<Obj>(cls, { _slab: null, x });
  if (o === null) throw new Error('ENOMEM');
  return o;
}

/** The message of what fn throws, or 'passed'. */
function outcome(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
  return 'passed';
}

/**
 * The valid slab of slab_rules.test.ts: three regions on page 100 (USED), one AVL node on page 101 (USED), node
 * pages 200 and 201 adopted (FREE).
 */
function valid(): { s: Slab; inside: Inside; objs: Obj[]; regionPage: SlabPage; nodePages: SlabPage[] } {
  const s = slab();
  const objs = [obj(s), obj(s), obj(s)];
  s.allocNode();
  s.adoptNodePage(200);
  s.adoptNodePage(201);
  s.check();
  const inside = s as unknown as Inside;
  const regionPage = inside.classes.region.pages[0];
  if (regionPage === undefined) throw new Error('no region page');
  return { s, inside, objs, regionPage, nodePages: inside.classes.avlNode.pages };
}

const g23 = (detail: string): string => `VM sanity G23: slab ${detail}`;

describe('slab check: the whole message of each rule', () => {
  const cases: [string, (v: ReturnType<typeof valid>) => void, string][] = [
    [
      'SLOT_OBJECT',
      (v) => (v.regionPage.objs[3] = {}),
      g23('SLOT_OBJECT: region page 100 slot 3 object/used mismatch'),
    ],
    [
      'USED_COUNT',
      (v) => (v.regionPage.used += 1),
      g23('USED_COUNT: region page 100 counts 4 used, 3 slots in use'),
    ],
    [
      'FREE_SLOTS',
      (v) => v.regionPage.freeSlots.pop(),
      g23('FREE_SLOTS: region page 100 has 80 free slots for 81'),
    ],
    [
      'PAGE_LIST',
      (v) => (v.regionPage.list = 'full'),
      g23('PAGE_LIST: region page 100 on list full, should be used'),
    ],
    [
      'OPEN_OBJECT',
      (v) => v.s.open(v.objs[1] as Obj),
      'VM sanity G24: slab OPEN_OBJECT: region object on page 100 left open after use()',
    ],
    [
      'LIVE_COUNT',
      (v) => (v.inside.classes.physBlock.live += 1),
      g23('LIVE_COUNT: physBlock counts 1 live objects, pages hold 0'),
    ],
    [
      'LIST_LENGTH (count above)',
      (v) => (v.inside.classes.region.lists.used.size += 1),
      g23('LIST_LENGTH: region used list holds 1 pages, counts 2'),
    ],
    [
      'LIST_LENGTH (count below)',
      (v) => (v.inside.classes.region.lists.used.size -= 1),
      g23('LIST_LENGTH: region used list longer than its count 0'),
    ],
    [
      'LIST_LINKS (a back link)',
      (v) => ((v.nodePages[2] as SlabPage).prev = null),
      g23('LIST_LINKS: avlNode page 201 badly linked on list free'),
    ],
    [
      'LIST_LINKS (a page linked on a list other than its own)',
      (v) => {
        const lists = v.inside.classes.region.lists;
        Object.assign(lists.used, { head: null, tail: null, size: 0 });
        Object.assign(lists.free, { head: v.regionPage, tail: v.regionPage, size: 1 });
      },
      g23('LIST_LINKS: region page 100 badly linked on list free'),
    ],
    [
      'LIST_LINKS (the tail)',
      (v) => (v.inside.classes.avlNode.lists.free.tail = v.nodePages[1] as SlabPage),
      g23("LIST_LINKS: avlNode free list's tail is not its last page"),
    ],
    [
      'LISTED_PAGES',
      (v) => v.inside.classes.avlNode.pages.push(v.nodePages[1] as SlabPage),
      g23('LISTED_PAGES: avlNode lists hold 3 pages of 4'),
    ],
    ['NODE_COUNT', (v) => (v.inside.nodeCount -= 1), g23('NODE_COUNT: 0 AVL nodes recorded, 1 slots live')],
    [
      'RESERVED_NODES',
      (v) => v.s.reserveNodes(2),
      g23('RESERVED_NODES: 2 AVL nodes reserved between operations'),
    ],
  ];
  it.each(cases)('%s', (_rule, corrupt, message) => {
    const v = valid();
    corrupt(v);
    expect(outcome(() => v.s.check())).toBe(message);
  });

  it('a page on the wrong list, consistently linked there, is still a PAGE_LIST failure', () => {
    const v = valid();
    const page = v.nodePages[1] as SlabPage;
    const free = v.inside.classes.avlNode.lists.free;
    // Page 200 left off the FREE list: 201 alone there.
    free.head = v.nodePages[2] as SlabPage;
    (v.nodePages[2] as SlabPage).prev = null;
    free.size = 1;
    page.list = 'full';
    expect(outcome(() => v.s.check())).toBe(g23('PAGE_LIST: avlNode page 200 on list full, should be free'));
  });
});

describe('slab objects per page', () => {
  it('one object a page and 4096 a page are the limits', () => {
    expect(slab({ bytes: { region: 4032 } }).stats().byClass.region.perPage).toBe(1);
    expect(outcome(() => slab({ bytes: { physBlock: 4033 } }))).toBe(
      'slab: object size of physBlock too large',
    );
    expect(slab({ bytes: { avlNode: 4032 / 4096 } }).stats().byClass.avlNode.perPage).toBe(4096);
    expect(outcome(() => slab({ bytes: { avlNode: 0.5 } }))).toBe('slab: object size of avlNode too small');
    expect(slab().stats().byClass).toEqual({
      region: { pages: 0, live: 0, perPage: 84 },
      physRegion: { pages: 0, live: 0, perPage: 168 },
      physBlock: { pages: 0, live: 0, perPage: 168 },
      avlNode: { pages: 0, live: 0, perPage: 201 },
    });
  });
});

describe('the page an allocation takes', () => {
  it('a partly used page before an empty one, an empty one before a new page; each class its own pages', () => {
    const s = slab();
    const first = Array.from({ length: 84 }, (_, i) => obj(s, i));
    const extra = obj(s);
    const frameOf = (o: Obj): number => o._slab?.page.frame ?? -1;
    expect(frameOf(first[0] as Obj)).toBe(100);
    expect(frameOf(extra)).toBe(101);
    for (const o of first) s.free(o);
    expect(frameOf(obj(s))).toBe(101); // page 100 is empty now, 101 partly used
    const block = obj(s, 0, 'physBlock');
    expect(frameOf(block)).toBe(102);
    expect(s.frames()).toEqual([100, 101, 102]);
    for (let i = 0; i < 83; i++) obj(s);
    expect(frameOf(obj(s))).toBe(100); // 101 full: the empty page, no new one
    expect(s.stats().pages).toBe(3);
    expect(s.stats().byClass.region.live).toBe(86);
    s.check();
  });
});

describe('fault injection', () => {
  it("an injected failure makes alloc and claim fail with nothing taken, and never fails the free list's node", () => {
    let failing = true;
    const s = slab({ fail: () => failing });
    expect(s.alloc<Obj>('region', { _slab: null, x: 1 })).toBeNull();
    expect(s.claim('physBlock')).toBe(false);
    expect(s.allocNode()).toBe(false);
    expect(s.reserveNodes(1)).toBe(false);
    expect(s.stats().pages).toBe(0);
    expect(s.nodeForFreeList()).toBe(true);
    failing = false;
    expect(s.alloc<Obj>('region', { _slab: null, x: 1 })).not.toBeNull();
    s.freeNode();
    s.check();
  });
});

describe('the read-only page', () => {
  it('reads and writes of a freed object, writes outside use(), defineProperty and delete panic, naming the field', () => {
    const s = slab();
    const a = obj(s, 1);
    const b = obj(s, 2);
    expect(outcome(() => (a.x = 3))).toBe('slab: stray write of x to a region outside use()');
    s.open(b);
    expect(outcome(() => (a.x = 3))).toBe('slab: stray write of x to a region outside use()');
    s.close(b);
    expect(outcome(() => Object.defineProperty(a, 'y', { value: 1 }))).toBe(
      'slab: defineProperty y on a region',
    );
    expect(outcome(() => delete (a as Partial<Obj>).x)).toBe('slab: delete x from a region');
    s.use(a, () => {
      expect(outcome(() => s.free(a))).toBe('slab: free of a region inside use()');
    });
    s.free(a);
    expect(a._slab?.live).toBe(false); // its bookkeeping stays readable
    expect(outcome(() => a.x)).toBe('slab: use after free: read of x of a freed region');
    expect(outcome(() => (a.x = 4))).toBe('slab: use after free: write of x of a freed region');
    s.check();
  });

  it('liveness: no bookkeeping, another class, a stale object in a reused slot, not an object', () => {
    const off = slab({ sanity: false });
    const a = obj(off, 1);
    off.free(a);
    const b = obj(off, 2);
    expect(off.liveMeta(b, 'region')).toBe(b._slab);
    expect(off.liveMeta(a, 'region')).toBeNull();
    expect(off.liveMeta({ _slab: null }, 'region')).toBeNull();
    expect(off.liveMeta({} as SlabObj, 'region')).toBeNull();
    expect(off.isLive({}, 'region')).toBe(false);
    expect(off.isLive(null, 'region')).toBe(false);
    expect(off.isLive(5, 'region')).toBe(false);
    expect(off.isLive(b, 'physBlock')).toBe(false);
    const on = slab();
    expect(outcome(() => on.raw({ _slab: null }))).toBe(
      'slab: raw() of an object that is not a live slab object',
    );
    expect(outcome(() => on.use({ _slab: null }, () => 0))).toBe(
      'slab: use of an object that is not a live slab object',
    );
    expect(on.isProtected).toBe(true);
    expect(off.isProtected).toBe(false);
  });

  it('with sanity off: use() twice on one page, raw() of a freed object is itself, and undefined is not live', () => {
    const off = slab({ sanity: false });
    const a = obj(off, 1);
    const b = obj(off, 2);
    off.use(b, () => {
      b.x = 5;
    });
    off.use(b, () => {
      b.x += 1;
    });
    off.free(a);
    expect([b.x, off.raw(a), off.isLive(undefined, 'region')]).toEqual([6, a, false]);
    off.check();
  });

  it('free and close of what is not a live slab object name the call', () => {
    const on = slab();
    const msg = (call: string) => `slab: ${call} of an object that is not a live slab object`;
    expect(outcome(() => on.free({ _slab: null }))).toBe(msg('free'));
    expect(outcome(() => on.free({} as SlabObj))).toBe(msg('free'));
    expect(outcome(() => on.close({ _slab: null }))).toBe(msg('use'));
  });
});

describe('AVL node slots', () => {
  it('reserved slots are taken first, with no fault check; the free list takes its own without one', () => {
    let failing = false;
    const s = slab({ fail: () => failing });
    expect(s.reserveNodes(2)).toBe(true);
    failing = true;
    expect([s.allocNode(), s.allocNode(), s.allocNode()]).toEqual([true, true, false]);
    expect(s.nodeForFreeList()).toBe(true);
    expect(s.liveNodes).toBe(3);
    expect(s.allocNodes(1)).toBe(false);
    expect(s.liveNodes).toBe(3);
    failing = false;
    for (let i = 0; i < 3; i++) s.freeNode();
    s.check();
  });

  it('allocNodes past the reservation takes the rest one by one, and gives back all it took when one fails', () => {
    let calls = 0;
    let failAt = 0;
    const s = slab({ fail: () => ++calls === failAt });
    expect(s.reserveNodes(2)).toBe(true);
    failAt = calls + 2;
    expect(s.allocNodes(5)).toBe(false);
    expect(s.liveNodes).toBe(0);
    s.check();
    expect(s.reserveNodes(2)).toBe(true);
    expect(s.allocNodes(4)).toBe(true);
    expect(s.liveNodes).toBe(4);
    s.check();
  });

  it('more than the first record holds (256), one by one and reserved, freed in turn', () => {
    const s = slab();
    for (let i = 0; i < 300; i++) expect(s.allocNode()).toBe(true);
    expect(s.reserveNodes(700)).toBe(true);
    expect(s.allocNodes(700)).toBe(true);
    expect(s.liveNodes).toBe(1000);
    s.check();
    for (let i = 0; i < 1000; i++) s.freeNode();
    expect(s.liveNodes).toBe(0);
    expect(s.stats().byClass.avlNode.pages).toBe(5);
    s.check();
  });

  it('a page of more node slots than twice the record (256) reserved at once, and freed in turn', () => {
    const s = slab({ bytes: { avlNode: 4 } });
    expect(s.stats().byClass.avlNode.perPage).toBeGreaterThan(2 * 256);
    expect(s.reserveNodes(600)).toBe(true);
    expect(s.stats().byClass.avlNode.pages).toBe(1);
    s.unreserveNodes(600);
    expect(s.liveNodes).toBe(0);
    s.check();
  });

  it('all reserved slots given back; more than reserved, or a node freed when none is, panics', () => {
    const s = slab();
    expect(s.reserveNodes(3)).toBe(true);
    s.unreserveNodes(3);
    expect(s.liveNodes).toBe(0);
    s.check();
    expect(s.reserveNodes(1)).toBe(true);
    expect(outcome(() => s.unreserveNodes(2))).toBe('slab: unreserving more nodes than reserved');
    s.unreserveNodes(1);
    expect(outcome(() => s.freeNode())).toBe('slab: AVL node freed but none allocated');
  });
});
