// Models the VM free list (servers/vm/alloc.c): free physical memory as one coalesced AVL tree of page ranges.
// Entry points: PhysAlloc (allocPages, freePages, ranges, check). Default allocations come from the top of memory.
// DIVERGES: LOWER16MB/LOWER1MB carve from the bottom and never cross the boundary; ALIGN64K frees its trailing
// surplus; freeing never fails (a freed page becomes a slab page when no tree node is available) — spec/vm.md §3.
import { K } from '../../hw/profile.ts';
import { NO_MEM, PAF_ALIGN64K, PAF_CLEAR, PAF_LOWER16MB, PAF_LOWER1MB } from '../../include/vm.ts';
import { assert, panic } from '../../lib/assert.ts';
import { AvlSearch, AvlTree } from '../../lib/avl.ts';
import { PAGE_SIZE } from '../../lib/units.ts';
import type { PhysMem } from '../../hw/physmem.ts';

/** Boundaries of the LOWER flags, in pages. */
const LOWER16MB_PAGES = 4096;
const LOWER1MB_PAGES = 256;
/** 64 KiB in pages. */
const ALIGN_PAGES = 16;

/** Where tree nodes come from (the slab's avlNode class). */
export interface NodeSource {
  /** Takes one node slot ahead of an insert; may allocate a slab page from this allocator. False: none left. */
  reserve(): boolean;
  /** Gives back one node slot (a removed node, or an unused reservation). */
  release(): void;
  /** Makes `frame` a new avlNode slab page (the last resort of freePages). */
  adoptPage(frame: number): void;
}

export interface PhysAllocOptions {
  sanity: boolean;
  /** Fault injection: true = this allocation must fail. */
  shouldFail: () => boolean;
}

export class PhysAlloc {
  /** Free pages in all ranges (E18: kept incrementally, compared with the tree by check()). */
  freeCount = 0;
  nodes: NodeSource | null = null;
  /** Node slots reserved ahead of an insert; the tree's alloc hook consumes them. */
  private reserved = 0;
  /** Nodes inserted before the slab existed (boot), charged to the slab by chargeBootNodes(). */
  private uncharged = 0;
  private readonly tree: AvlTree<number>;

  constructor(
    readonly nPages: number,
    private readonly mem: PhysMem,
    private readonly opts: PhysAllocOptions,
  ) {
    this.tree = new AvlTree<number>({
      alloc: () => {
        if (this.nodes === null) {
          this.uncharged++;
          return true;
        }
        assert(this.reserved > 0, 'alloc: free-list insert without a reserved node');
        this.reserved--;
        return true;
      },
      free: () => {
        if (this.nodes === null) this.uncharged--;
        else this.nodes.release();
      },
    });
  }

  /** Boot: the initial free ranges, before the slab exists. */
  addBootRange(page: number, pages: number): void {
    assert(this.nodes === null, 'alloc: addBootRange after boot');
    if (pages > 0) this.freeUnchecked(page, pages);
  }

  /** Boot: once the slab exists, charge it for the nodes the initial ranges use. */
  chargeBootNodes(nodes: NodeSource): void {
    // The slab's node page may come from this very list (tiny RAM): a range that page empties loses its node while
    // the nodes are still uncharged, and the slot already charged for it is given back.
    let charged = 0;
    while (charged < this.uncharged) {
      if (!nodes.reserve()) panic('alloc: boot: no memory for the free list nodes');
      charged++;
    }
    for (; charged > this.uncharged; charged--) nodes.release();
    this.uncharged = 0;
    this.nodes = nodes;
  }

  /**
   * allocPages(n, flags): one contiguous range of n pages, or NO_MEM. Default: the top of the highest range that
   * fits. LOWER16MB/LOWER1MB: the bottom of the lowest range that fits, never crossing the boundary.
   */
  allocPages(n: number, flags: number, injectable = true): number {
    if (!(Number.isInteger(n) && n >= 1)) panic(`allocPages: bad page count ${n}`);
    if (injectable && this.opts.shouldFail()) return NO_MEM;
    let page: number;
    if ((flags & PAF_ALIGN64K) !== 0) {
      const raw = this.carve(n + ALIGN_PAGES, flags);
      if (raw === NO_MEM) return NO_MEM;
      page = Math.ceil(raw / ALIGN_PAGES) * ALIGN_PAGES;
      const lead = page - raw;
      if (lead > 0) this.freePages(raw, lead);
      // lead < ALIGN_PAGES: there is always a trailing surplus.
      this.freePages(page + n, ALIGN_PAGES - lead);
    } else {
      page = this.carve(n, flags);
      if (page === NO_MEM) return NO_MEM;
    }
    this.mem.clock.charge(K.frameAlloc);
    if ((flags & PAF_CLEAR) !== 0) {
      this.mem.clock.charge(K.zeroPage, n);
      this.mem.zero(page * PAGE_SIZE, n * PAGE_SIZE);
    }
    return page;
  }

  /** Takes n pages from the tree per the LOWER flags (no alignment, no clearing). */
  private carve(n: number, flags: number): number {
    const boundary =
      (flags & PAF_LOWER1MB) !== 0 ? LOWER1MB_PAGES : (flags & PAF_LOWER16MB) !== 0 ? LOWER16MB_PAGES : 0;
    const tree = this.tree;
    if (boundary === 0) {
      for (let c = tree.last(); c !== null; c = tree.prev(c)) {
        const size = c.value;
        if (size < n) continue;
        const addr = c.key;
        if (size === n) tree.remove(addr);
        else tree.setValueAt(c, size - n);
        this.freeCount -= n;
        return addr + size - n;
      }
      return this.failed(n, 0);
    }
    for (let c = tree.first(); c !== null; c = tree.next(c)) {
      const size = c.value;
      if (size < n) continue;
      const addr = c.key;
      if (addr + n > boundary) return this.failed(n, boundary);
      if (size === n) this.tree.remove(addr);
      else {
        this.tree.rekey(addr, addr + n);
        this.tree.setValue(addr + n, size - n);
      }
      this.freeCount -= n;
      return addr;
    }
    return this.failed(n, boundary);
  }

  /** An allocation failed: with sanity on, a range that would have fitted means the allocator is broken. */
  private failed(n: number, boundary: number): number {
    if (this.opts.sanity) {
      for (const [addr, size] of this.tree.entries()) {
        if (size >= n && (boundary === 0 || addr + n <= boundary)) {
          panic(`alloc: failed to allocate ${n} pages although range ${addr}+${size} fits`);
        }
      }
    }
    return NO_MEM;
  }

  /** freePages(p, n): returns [p, p+n) to the free list, coalescing. Never fails; panics on a bad or double free. */
  freePages(p: number, n: number): void {
    if (!(Number.isInteger(p) && Number.isInteger(n) && n >= 1)) panic(`freePages: bad range ${p}+${n}`);
    if (!(p >= 1 && p + n <= this.nPages)) panic(`freePages: range ${p}+${n} outside RAM pages [1, ${this.nPages})`);
    this.checkNotFree(p, n);
    if (this.opts.sanity) this.mem.poison(p * PAGE_SIZE, n * PAGE_SIZE);
    const nodes = this.nodes;
    if (nodes !== null && this.needsNode(p, n)) {
      // Reserve first: the reservation may itself take a page from this tree.
      if (!nodes.reserve()) {
        nodes.adoptPage(p);
        if (n === 1) return;
        p++;
        n--;
        if (!nodes.reserve()) panic('freePages: no node even after adopting a freed page');
      }
      this.reserved++;
    }
    this.freeUnchecked(p, n);
    if (this.reserved > 0) {
      // A merge made the reserved node unnecessary.
      this.reserved--;
      nodes?.release();
    }
  }

  private checkNotFree(p: number, n: number): void {
    const below = this.tree.search(p, AvlSearch.LESS_EQUAL);
    if (below !== undefined && below.key + below.value > p) {
      panic(`freePages: page ${p}+${n} overlaps free range ${below.key}+${below.value} (double free)`);
    }
    const above = this.tree.search(p, AvlSearch.GREATER_EQUAL);
    if (above !== undefined && above.key < p + n) {
      panic(`freePages: page ${p}+${n} overlaps free range ${above.key}+${above.value} (double free)`);
    }
  }

  private needsNode(p: number, n: number): boolean {
    if (this.tree.has(p + n)) return false;
    const below = this.tree.search(p, AvlSearch.LESS);
    return below === undefined || below.key + below.value !== p;
  }

  /** Inserts [p, p+n) and merges with its neighbours (the node, if one is needed, is already reserved). */
  private freeUnchecked(p: number, n: number): void {
    let size = n;
    const next = this.tree.get(p + n);
    if (next !== undefined) {
      this.tree.rekey(p + n, p);
      size += next;
      this.tree.setValue(p, size);
    }
    const below = this.tree.search(p, AvlSearch.LESS);
    if (below !== undefined && below.key + below.value === p) {
      this.tree.setValue(below.key, below.value + size);
      if (next !== undefined) this.tree.remove(p);
    } else if (next === undefined) {
      const ok = this.tree.insert(p, size);
      assert(ok, 'freePages: insert failed');
    }
    this.freeCount += n;
  }

  /** The free ranges in address order (pages). */
  ranges(): { addr: number; size: number }[] {
    const out: { addr: number; size: number }[] = [];
    for (const [addr, size] of this.tree.entries()) out.push({ addr, size });
    return out;
  }

  get rangeCount(): number {
    return this.tree.size;
  }

  /** Size of the largest free range, in pages. */
  largestRange(): number {
    let best = 0;
    for (const [, size] of this.tree.entries()) if (size > best) best = size;
    return best;
  }

  /** Is page p free? */
  isFree(p: number): boolean {
    const below = this.tree.search(p, AvlSearch.LESS_EQUAL);
    return below !== undefined && below.key + below.value > p;
  }

  /** E17/E18: ranges non-empty, sorted, disjoint, non-adjacent, inside RAM, never page 0; tree balanced; count. */
  check(): void {
    this.tree.check();
    let prevEnd = -1;
    let total = 0;
    for (const [addr, size] of this.tree.entries()) {
      assert(size >= 1, () => `VM sanity E17: empty free range at page ${addr}`);
      assert(addr >= 1, () => 'VM sanity E17: page 0 is free');
      assert(addr + size <= this.nPages, () => `VM sanity E17: free range ${addr}+${size} outside RAM`);
      assert(addr > prevEnd, () => `VM sanity E17: free range ${addr}+${size} adjacent to or overlapping the previous one`);
      prevEnd = addr + size;
      total += size;
    }
    assert(total === this.freeCount, () => `VM sanity E18: free ranges hold ${total} pages, allocator counted ${this.freeCount}`);
    assert(this.reserved === 0, () => `VM sanity E18: ${this.reserved} free-list nodes reserved between operations`);
  }
}
