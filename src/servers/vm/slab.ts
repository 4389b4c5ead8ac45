// Models VM's slab allocator (servers/vm/slaballoc.c) for its metadata: regions, physRegions, physBlocks and AVL
// nodes, each class on pages taken from the physical pool (then the spares) and never returned. With sanity on,
// objects are write-protected (MINIX's read-only slab pages): writes only inside use(obj, fn).
// Entry points: Slab (alloc or claim/reusable/place, free, use/open/close, raw, allocNode, freeNode, reserveNodes,
// allocNodes, check, stats), SLAB_CHECK_RULES (what check reports).
// DIVERGES: objects are host objects; a Proxy plays the read-only page. AVL nodes are counted, not materialised.
// With sanity off a slot's object is reused by its next allocation (reusable), as the slot's memory is in MINIX.
// The FREE/USED/FULL lists are intrusive doubly linked lists, as in slaballoc.c (O(1), no iterator objects).
import { assert, panic } from '../../lib/assert.ts';
import { PAGE_SIZE } from '../../lib/units.ts';

export type SlabClass = 'region' | 'physRegion' | 'physBlock' | 'avlNode';
export const SLAB_CLASSES: readonly SlabClass[] = ['region', 'physRegion', 'physBlock', 'avlNode'];

/** Bytes of each slab page kept for the page header. */
const SLAB_HEADER_BYTES = 64;

/** More slots than a page can hold: a recorded AVL node is its page's index times this, plus its slot. */
const NODE_SLOT_SPAN = PAGE_SIZE;

/** Per-object slab bookkeeping, reachable from the object as `_slab`. */
export interface SlabMeta {
  readonly cls: SlabClass;
  readonly page: SlabPage;
  readonly slot: number;
  live: boolean;
  /** The unprotected object behind the Proxy (itself when sanity is off): for raw(), read-only use. */
  target: SlabObj;
  /**
   * Scratch of whole-structure checkers (the sweep that last saw the object, and an index of that sweep's: a
   * block's own, a reference's block's); VM never reads it.
   */
  sweep: number;
  sweepIndex: number;
}

/** Every slab object carries its bookkeeping. */
export interface SlabObj {
  _slab: SlabMeta | null;
}

type ListName = 'free' | 'used' | 'full';

export interface SlabPage {
  readonly cls: SlabClass;
  readonly frame: number;
  /** Its place in its class's pages. */
  readonly index: number;
  used: number;
  list: ListName;
  /** Free slot numbers (a stack). */
  readonly freeSlots: number[];
  /** Live object per slot (null for avlNode slots, which are only counted). */
  readonly objs: (object | null)[];
  /**
   * Sanity off: one bookkeeping record per slot, reused by each object put there (no allocation per object; a
   * stale object is still told apart by objs[slot]). Sanity on: every object gets its own, which stays dead.
   */
  readonly metas: (SlabMeta | undefined)[];
  readonly slotUsed: Uint8Array;
  /** The object of this page currently inside use(), if any. */
  open: SlabObj | null;
  /** Neighbours on its list. */
  prev: SlabPage | null;
  next: SlabPage | null;
}

/** One of a class's page lists: appended at the tail, allocated from the head (a Set's order). */
interface PageList {
  head: SlabPage | null;
  tail: SlabPage | null;
  size: number;
}

interface ClassState {
  readonly perPage: number;
  readonly pages: SlabPage[];
  readonly lists: Record<ListName, PageList>;
  live: number;
}

const emptyList = (): PageList => ({ head: null, tail: null, size: 0 });

function listAdd(l: PageList, p: SlabPage): void {
  p.prev = l.tail;
  p.next = null;
  if (l.tail === null) l.head = p;
  else l.tail.next = p;
  l.tail = p;
  l.size++;
}

function listDelete(l: PageList, p: SlabPage): void {
  if (p.prev === null) l.head = p.next;
  else p.prev.next = p.next;
  if (p.next === null) l.tail = p.prev;
  else p.next.prev = p.prev;
  p.prev = p.next = null;
  l.size--;
}

/**
 * The rules Slab.check() reports by name, in the order it checks them. Each is part of a VM sanity rule, which the
 * panic names first (`VM sanity G23: slab <RULE>: ...`; OPEN_OBJECT is part of G24, writes only inside use()).
 */
export const SLAB_CHECK_RULES = [
  'SLOT_OBJECT', 'USED_COUNT', 'FREE_SLOTS', 'PAGE_LIST', 'OPEN_OBJECT', 'LIVE_COUNT',
  'LIST_LENGTH', 'LIST_LINKS', 'LISTED_PAGES', 'NODE_COUNT', 'RESERVED_NODES',
] as const;

/** A slab check rule (SLAB_CHECK_RULES). */
export type SlabCheckRule = (typeof SLAB_CHECK_RULES)[number];

/** Panics naming the VM sanity rule and the slab rule that failed. */
function fail(rule: SlabCheckRule, detail: string): never {
  const vmRule = rule === 'OPEN_OBJECT' ? 'VM sanity G24:' : 'VM sanity G23:';
  return panic(`${vmRule} slab ${rule}: ${detail}`);
}

/** LIST_LENGTH and LIST_LINKS: the list holds `size` pages, each marked as on it, its links consistent. */
function checkList(l: PageList, name: ListName, cls: SlabClass): void {
  let prev: SlabPage | null = null;
  let n = 0;
  for (let p = l.head; p !== null; p = p.next) {
    if (++n > l.size) fail('LIST_LENGTH', `${cls} ${name} list longer than its count ${l.size}`);
    if (!(p.list === name && p.prev === prev)) fail('LIST_LINKS', `${cls} page ${p.frame} badly linked on list ${name}`);
    prev = p;
  }
  if (n !== l.size) fail('LIST_LENGTH', `${cls} ${name} list holds ${n} pages, counts ${l.size}`);
  if (l.tail !== prev) fail('LIST_LINKS', `${cls} ${name} list's tail is not its last page`);
}

export interface SlabOptions {
  sanity: boolean;
  objectBytes: Readonly<Record<SlabClass, number>>;
  /** A page for a new slab page: pool then spares; 0 when none. */
  getPage: () => number;
  /** Fault injection: true = this allocation must fail. */
  shouldFail: () => boolean;
}

export interface SlabStats {
  pages: number;
  byClass: Record<SlabClass, { pages: number; live: number; perPage: number }>;
}

export class Slab {
  private readonly classes: Record<SlabClass, ClassState>;
  /**
   * The slot of each live AVL node, most recent last (node frees release the latest slot, LIFO), as its page's index
   * times NODE_SLOT_SPAN plus its slot number: one store per node in a typed array grown by doubling, where a fork
   * records one node per reference.
   */
  private nodeSlots = new Int32Array(256);
  /** Live AVL nodes recorded in nodeSlots. */
  private nodeCount = 0;
  /** Node slots allocated ahead of inserts (reserveNodes); the tree hooks consume them first. */
  private reservedNodes = 0;
  /** The page of the last takeSlot (its second result, without allocating a tuple). */
  private lastPage: SlabPage = NO_PAGE;
  /** The slot of the last claim(). */
  // Stryker disable next-line UnaryOperator: claim() sets it before reusable() or place() reads it
  private lastSlot = -1;
  private readonly handler: ProxyHandler<SlabObj> | null;

  constructor(private readonly opts: SlabOptions) {
    const mk = (cls: SlabClass): ClassState => {
      const perPage = Math.floor((PAGE_SIZE - SLAB_HEADER_BYTES) / opts.objectBytes[cls]);
      assert(perPage >= 1, () => `slab: object size of ${cls} too large`);
      assert(perPage <= NODE_SLOT_SPAN, () => `slab: object size of ${cls} too small`);
      return { perPage, pages: [], lists: { free: emptyList(), used: emptyList(), full: emptyList() }, live: 0 };
    };
    this.classes = { region: mk('region'), physRegion: mk('physRegion'), physBlock: mk('physBlock'), avlNode: mk('avlNode') };
    this.handler = opts.sanity ? makeHandler() : null;
  }

  /** Allocates an object initialised from `init` (whose _slab is ignored); null = ENOMEM. */
  alloc<T extends SlabObj>(cls: Exclude<SlabClass, 'avlNode'>, init: T): T | null {
    return this.claim(cls) ? this.place(cls, init) : null;
  }

  /**
   * alloc() in two steps, for the hot paths that may reuse an object: claim(cls) takes a slot (false = ENOMEM,
   * nothing taken), then place(cls, obj) puts obj there. In between, reusable() may offer the object the slot
   * held last.
   */
  claim(cls: Exclude<SlabClass, 'avlNode'>): boolean {
    if (this.opts.shouldFail()) return false;
    const slot = this.takeSlot(cls);
    if (slot < 0) return false;
    this.lastSlot = slot;
    return true;
  }

  /**
   * The freed object the claimed slot held last, to be filled afresh and placed again, or null (none yet, or
   * objects protected: then every allocation is a new object, so that a stale pointer to a freed one panics). As
   * in slaballoc.c, where an object is the slot's memory: with sanity off, objects stay with their slot, as their
   * bookkeeping does, and a fork after an exit makes no new host object per reference.
   */
  reusable(): SlabObj | null {
    if (this.handler !== null) return null;
    const meta = this.lastPage.metas[this.lastSlot];
    return meta === undefined ? null : meta.target;
  }

  /** Puts obj (fresh, or the claimed slot's reusable()) in the slot claim() took; returns the object to use. */
  place<T extends SlabObj>(cls: Exclude<SlabClass, 'avlNode'>, init: T): T {
    const page = this.lastPage;
    const slot = this.lastSlot;
    let meta = this.handler === null ? page.metas[slot] : undefined;
    if (meta === undefined) {
      meta = { cls, page, slot, live: true, target: init, sweep: 0, sweepIndex: 0 };
      if (this.handler === null) page.metas[slot] = meta;
    } else {
      meta.live = true;
      meta.target = init;
    }
    init._slab = meta;
    const obj = this.handler === null ? init : (new Proxy(init, this.handler) as T);
    page.objs[slot] = obj;
    return obj;
  }

  /** Frees an object; any later access to it panics (sanity on). */
  free(obj: SlabObj): void {
    const meta = this.metaOf(obj, 'free');
    const page = meta.page;
    if (page.open === obj) panic(`slab: free of a ${meta.cls} inside use()`);
    page.objs[meta.slot] = null;
    meta.live = false;
    this.releaseSlot(page, meta.slot);
  }

  /**
   * Runs fn with obj writable (MINIX's USE()). Panics if obj is not a live object of its class, or another object
   * of the same slab page is already open (no nesting per page).
   */
  use<R>(obj: SlabObj, fn: () => R): R {
    this.open(obj);
    const r = fn();
    this.close(obj);
    return r;
  }

  /**
   * use() in two halves for hot paths (no closure): open(obj), the writes, close(obj). No-ops with sanity off, in
   * bodies this small so that V8 counts little of them against the inlining budget of their callers (a fork's
   * reference link opens and closes twice).
   */
  open(obj: SlabObj): void {
    if (this.handler !== null) this.openProtected(obj);
  }

  close(obj: SlabObj): void {
    if (this.handler !== null) this.closeProtected(obj);
  }

  private openProtected(obj: SlabObj): void {
    const meta = this.metaOf(obj, 'use');
    const page = meta.page;
    if (page.open !== null) panic(`slab: nested use() on one ${meta.cls} slab page (frame ${page.frame})`);
    page.open = obj;
  }

  private closeProtected(obj: SlabObj): void {
    const meta = this.metaOf(obj, 'use');
    if (meta.page.open !== obj) panic(`slab: close of a ${meta.cls} that is not open`);
    meta.page.open = null;
  }

  /** True when objects are write-protected (sanity on). */
  get isProtected(): boolean {
    return this.handler !== null;
  }

  /** isLive and the bookkeeping in one read of the protected object: obj's meta if live of class cls, else null. */
  liveMeta(obj: SlabObj, cls: SlabClass): SlabMeta | null {
    const meta = obj._slab;
    if (meta === null || meta === undefined || !meta.live || meta.cls !== cls || meta.page.objs[meta.slot] !== obj) return null;
    return meta;
  }

  /**
   * The object behind the protection, for reading only (the sanity checker reads every object and must not pay a
   * Proxy trap per field). Panics unless obj is a live slab object. With sanity off, obj itself.
   */
  raw<T extends SlabObj>(obj: T): T {
    if (this.handler === null) return obj;
    const meta = obj._slab;
    if (meta === null || !meta.live) panic('slab: raw() of an object that is not a live slab object');
    return meta.target as T;
  }

  /** Is obj a live object of class cls (G24)? */
  isLive(obj: unknown, cls: SlabClass): boolean {
    if (typeof obj !== 'object' || obj === null) return false;
    const meta = (obj as SlabObj)._slab;
    return meta !== null && meta !== undefined && meta.live && meta.cls === cls && meta.page.objs[meta.slot] === obj;
  }

  /** One AVL node slot (a tree insert); false = ENOMEM. Reserved slots are consumed first. */
  allocNode(): boolean {
    if (this.reservedNodes > 0) {
      this.reservedNodes--;
      return true;
    }
    if (this.opts.shouldFail()) return false;
    return this.takeNode();
  }

  /** One AVL node slot freed (a tree remove). */
  freeNode(): void {
    assert(this.nodeCount > 0, 'slab: AVL node freed but none allocated');
    const code = this.nodeSlots[--this.nodeCount] ?? 0;
    const page = this.classes.avlNode.pages[Math.floor(code / NODE_SLOT_SPAN)];
    // Stryker disable next-line StringLiteral: never fails, a recorded slot's page is never dropped
    assert(page !== undefined, 'slab: AVL node recorded on no page');
    this.releaseSlot(page, code % NODE_SLOT_SPAN);
  }

  /** Room in nodeSlots for k more nodes. */
  private nodeRoom(k: number): void {
    const need = this.nodeCount + k;
    if (need <= this.nodeSlots.length) return;
    const grown = new Int32Array(Math.max(need, 2 * this.nodeSlots.length));
    grown.set(this.nodeSlots.subarray(0, this.nodeCount));
    this.nodeSlots = grown;
  }

  /**
   * Takes k node slots ahead of inserts that must not fail; false (nothing taken) = ENOMEM. The same slots, fault
   * checks and page requests as k calls of allocNode, but a page's free slots are taken in one loop (a fork reserves
   * one node per reference).
   */
  reserveNodes(k: number): boolean {
    let i = 0;
    while (i < k) {
      if (this.opts.shouldFail() || !this.takeNode()) return this.unwindNodes(i);
      i++;
      // takeNode would take the rest from the same page: it stays its class's first page with room until full.
      const page = this.lastPage;
      const taken = this.takeFromPage(page, k - i);
      i += taken;
      if (i < k && page.freeSlots.length > 0) return this.unwindNodes(i); // an injected failure stopped it
    }
    this.reservedNodes += k;
    return true;
  }

  /** Up to `want` more node slots of `page`, each after its own fault check; how many were taken. */
  private takeFromPage(page: SlabPage, want: number): number {
    const slots = page.freeSlots;
    this.nodeRoom(want);
    const codes = this.nodeSlots;
    const base = page.index * NODE_SLOT_SPAN;
    let n = 0;
    while (n < want && slots.length > 0) {
      if (this.opts.shouldFail()) break;
      const slot = slots.pop() ?? 0;
      page.slotUsed[slot] = 1;
      codes[this.nodeCount++] = base + slot;
      n++;
    }
    page.used += n;
    this.classes.avlNode.live += n;
    this.relist(this.classes.avlNode, page);
    return n;
  }

  /** reserveNodes' failure: the i node slots it took are given back; false. */
  private unwindNodes(i: number): boolean {
    for (let j = 0; j < i; j++) this.freeNode();
    return false;
  }

  /** k node slots at once (a tree built in one go): k allocNode calls, or one step when k are reserved. */
  allocNodes(k: number): boolean {
    // Stryker disable next-line BlockStatement: a fast path, allocNode takes reserved slots first
    if (k <= this.reservedNodes) {
      this.reservedNodes -= k;
      return true;
    }
    for (let i = 0; i < k; i++) if (!this.allocNode()) return this.unwindNodes(i);
    return true;
  }

  /** Gives back reserved node slots that were not used. */
  unreserveNodes(k: number): void {
    assert(k <= this.reservedNodes, 'slab: unreserving more nodes than reserved');
    this.reservedNodes -= k;
    for (let i = 0; i < k; i++) this.freeNode();
  }

  /** A node slot for the free list, without fault injection (freeing must not fail). */
  nodeForFreeList(): boolean {
    return this.takeNode();
  }

  /** Makes `frame` a new avlNode page (freePages' last resort). */
  adoptNodePage(frame: number): void {
    this.addPage('avlNode', frame);
  }

  private takeNode(): boolean {
    const slot = this.takeSlot('avlNode');
    if (slot < 0) return false;
    this.nodeRoom(1);
    this.nodeSlots[this.nodeCount++] = this.lastPage.index * NODE_SLOT_SPAN + slot;
    return true;
  }

  /** A free slot of class cls (page in lastPage), or -1 = no page left. */
  private takeSlot(cls: SlabClass): number {
    const c = this.stateOf(cls);
    const page = c.lists.used.head ?? c.lists.free.head ?? this.newPage(cls);
    if (page === null) return -1;
    const slot = page.freeSlots.pop();
    // Stryker disable next-line StringLiteral: never reached, a page on the used or free list has a free slot
    if (slot === undefined) panic(`slab: ${cls} page on list ${page.list} has no free slot`);
    page.slotUsed[slot] = 1;
    page.used++;
    c.live++;
    this.relist(c, page);
    this.lastPage = page;
    return slot;
  }

  /** A new page of class cls from getPage, or null when there is none (apart from takeSlot, its rare case). */
  private newPage(cls: SlabClass): SlabPage | null {
    const frame = this.opts.getPage();
    return frame === 0 ? null : this.addPage(cls, frame);
  }

  private releaseSlot(page: SlabPage, slot: number): void {
    const c = this.stateOf(page.cls);
    // Stryker disable next-line StringLiteral: never reached, free() and freeNode() release only slots in use
    if (page.slotUsed[slot] !== 1) panic(`slab: double free of ${page.cls} slot ${slot}`);
    page.slotUsed[slot] = 0;
    page.freeSlots.push(slot);
    page.used--;
    c.live--;
    this.relist(c, page);
  }

  /**
   * The state of class cls. A chain of compares rather than a keyed load, which V8 leaves generic (it showed in fork
   * profiles): where cls is a constant, as at every allocation site, the chain folds away.
   */
  private stateOf(cls: SlabClass): ClassState {
    const c = this.classes;
    return cls === 'physRegion' ? c.physRegion : cls === 'avlNode' ? c.avlNode : cls === 'physBlock' ? c.physBlock : c.region;
  }

  private addPage(cls: SlabClass, frame: number): SlabPage {
    const c = this.stateOf(cls);
    const freeSlots: number[] = [];
    for (let i = c.perPage - 1; i >= 0; i--) freeSlots.push(i);
    const page: SlabPage = {
      cls,
      frame,
      index: c.pages.length,
      used: 0,
      list: 'free',
      freeSlots,
      objs: new Array<object | null>(c.perPage).fill(null),
      slotUsed: new Uint8Array(c.perPage),
      metas: [],
      open: null,
      prev: null,
      next: null,
    };
    c.pages.push(page);
    listAdd(c.lists.free, page);
    return page;
  }

  private relist(c: ClassState, page: SlabPage): void {
    const want: ListName = page.used === 0 ? 'free' : page.used === c.perPage ? 'full' : 'used';
    if (want === page.list) return;
    listDelete(c.lists[page.list], page);
    listAdd(c.lists[want], page);
    page.list = want;
  }

  private metaOf(obj: SlabObj, what: string): SlabMeta {
    const meta = obj._slab;
    if (meta === null || meta === undefined || !meta.live || meta.page.objs[meta.slot] !== obj) {
      panic(`slab: ${what} of an object that is not a live slab object`);
    }
    return meta;
  }

  /** Frames of every slab page (E14). */
  frames(): number[] {
    const out: number[] = [];
    for (const cls of SLAB_CLASSES) for (const p of this.classes[cls].pages) out.push(p.frame);
    return out;
  }

  stats(): SlabStats {
    let pages = 0;
    const byClass = {} as SlabStats['byClass'];
    for (const cls of SLAB_CLASSES) {
      const c = this.classes[cls];
      pages += c.pages.length;
      byClass[cls] = { pages: c.pages.length, live: c.live, perPage: c.perPage };
    }
    return { pages, byClass };
  }

  /** The slab's part of VM sanity G23 (and G24's OPEN_OBJECT): panics naming the first broken SLAB_CHECK_RULES rule. */
  check(): void {
    for (const cls of SLAB_CLASSES) {
      const c = this.classes[cls];
      let live = 0;
      for (const p of c.pages) live += checkPage(p, c.perPage);
      if (live !== c.live) fail('LIVE_COUNT', `${cls} counts ${c.live} live objects, pages hold ${live}`);
      for (const name of ['free', 'used', 'full'] as const) checkList(c.lists[name], name, cls);
      const listed = c.lists.free.size + c.lists.used.size + c.lists.full.size;
      if (listed !== c.pages.length) fail('LISTED_PAGES', `${cls} lists hold ${listed} pages of ${c.pages.length}`);
    }
    const nodes = this.classes.avlNode.live;
    if (this.nodeCount !== nodes) fail('NODE_COUNT', `${this.nodeCount} AVL nodes recorded, ${nodes} slots live`);
    if (this.reservedNodes !== 0) fail('RESERVED_NODES', `${this.reservedNodes} AVL nodes reserved between operations`);
  }

  /** Live avlNode slots (for the checker's node count). */
  get liveNodes(): number {
    return this.classes.avlNode.live;
  }
}

/** SLOT_OBJECT to OPEN_OBJECT for one page of `perPage` slots; returns its slots in use. */
function checkPage(p: SlabPage, perPage: number): number {
  let n = 0;
  for (let i = 0; i < perPage; i++) {
    if (p.slotUsed[i] === 1) n++;
    if (p.cls !== 'avlNode' && (p.objs[i] !== null) !== (p.slotUsed[i] === 1)) {
      fail('SLOT_OBJECT', `${p.cls} page ${p.frame} slot ${i} object/used mismatch`);
    }
  }
  if (n !== p.used) fail('USED_COUNT', `${p.cls} page ${p.frame} counts ${p.used} used, ${n} slots in use`);
  if (n + p.freeSlots.length !== perPage) fail('FREE_SLOTS', `${p.cls} page ${p.frame} has ${p.freeSlots.length} free slots for ${perPage - n}`);
  const want: ListName = n === 0 ? 'free' : n === perPage ? 'full' : 'used';
  if (p.list !== want) fail('PAGE_LIST', `${p.cls} page ${p.frame} on list ${p.list}, should be ${want}`);
  if (p.open !== null) fail('OPEN_OBJECT', `${p.cls} object on page ${p.frame} left open after use()`);
  return n;
}

/** Placeholder for Slab.lastPage before the first allocation. */
const NO_PAGE: SlabPage = {
  cls: 'avlNode',
  frame: 0,
  index: -1,
  used: 0,
  list: 'free',
  freeSlots: [],
  objs: [],
  metas: [],
  slotUsed: new Uint8Array(0),
  open: null,
  prev: null,
  next: null,
};

/** The read-only page: reads of freed objects and writes outside use() panic. */
function makeHandler(): ProxyHandler<SlabObj> {
  return {
    get(target, key) {
      if (key !== '_slab') {
        const meta = target._slab;
        if (meta === null || !meta.live) panic(`slab: use after free: read of ${String(key)} of a freed ${meta?.cls ?? 'object'}`);
      }
      // Plain data objects: a direct read is Reflect.get without the receiver plumbing.
      return (target as unknown as Record<string | symbol, unknown>)[key];
    },
    set(target, key, value) {
      const meta = target._slab;
      if (meta === null || !meta.live) panic(`slab: use after free: write of ${String(key)} of a freed ${meta?.cls ?? 'object'}`);
      const open = meta.page.open;
      if (open === null || open._slab !== meta) {
        panic(`slab: stray write of ${String(key)} to a ${meta.cls} outside use()`);
      }
      (target as unknown as Record<string | symbol, unknown>)[key] = value;
      return true;
    },
    defineProperty(target, key) {
      panic(`slab: defineProperty ${String(key)} on a ${target._slab?.cls ?? 'object'}`);
    },
    deleteProperty(target, key) {
      panic(`slab: delete ${String(key)} from a ${target._slab?.cls ?? 'object'}`);
    },
  };
}
