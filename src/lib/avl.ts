// Models MINIX's generic AVL tree (servers/vm/cavl_impl.h), used for the VM free list keyed by address and
// for each region's physical references keyed by offset. Entry points: AvlTree (insert, remove, get, search,
// entries, rekey, check; first/last/find/next/prev cursors, buildSorted and sortedKeys/sortedValues for
// allocation-free hot paths).
// DIVERGES: one generic class instead of a macro-instantiated C template. buildSorted is lazy: the tree keeps the
// sorted run and makes its nodes at the first operation that needs them (values, size and clear never do), so a
// tree built and dropped unread (a forked child that exits or execs) never allocates a node object. The
// node-storage hooks are charged at buildSorted all the same. The run (buildSorted's, or one made by a walk for
// sortedKeys) is kept beside the nodes until the tree next changes, so a tree walked again unchanged (a parent
// that forks again) is read from two dense arrays instead of its scattered nodes.

import { assert, panic } from './assert.ts';

/** Search modes, as in cavl_if.h: AVL_EQUAL, AVL_LESS, AVL_LESS_EQUAL, AVL_GREATER, AVL_GREATER_EQUAL. */
export const AVL_EQUAL = 0;
export const AVL_LESS = 1;
export const AVL_LESS_EQUAL = 2;
export const AVL_GREATER = 3;
export const AVL_GREATER_EQUAL = 4;

/** The same search modes as one object. */
export const AvlSearch = {
  EQUAL: AVL_EQUAL,
  LESS: AVL_LESS,
  LESS_EQUAL: AVL_LESS_EQUAL,
  GREATER: AVL_GREATER,
  GREATER_EQUAL: AVL_GREATER_EQUAL,
} as const;

export type AvlSearchMode = (typeof AvlSearch)[keyof typeof AvlSearch];

/** The rules AvlTree.check() reports by name (`avl check <rule>: ...`), in the order it checks them. */
export const AVL_CHECK_RULES = ['root', 'depth', 'key', 'order', 'parent', 'height', 'balance', 'size'] as const;

/** Node storage accounting: alloc() returning false means "no memory" and the insert fails cleanly. */
export interface AvlNodeHooks {
  alloc(): boolean;
  free(): void;
  /** k nodes at once, all or none (buildSorted); without it, k calls of alloc. */
  allocMany?(k: number): boolean;
}

/** A key and its value, as returned by search, min and max (a fresh object, not a live view). */
export interface AvlEntry<V> {
  key: number;
  value: V;
}

/** Largest key accepted: the end of the 32-bit address space. */
export const AVL_MAX_KEY = 0x1_0000_0000;

/**
 * Bound on the height of any tree: an AVL tree of height h holds at least fib(h+2)-1 nodes, so 64 levels
 * would need more than 10^13 nodes. Every descent asserts it, so a corrupted (cyclic) tree panics.
 */
const MAX_HEIGHT = 64;

/**
 * A position in a tree (MINIX's avl_iter without the iterator object): read `key` and `value`, step with
 * next()/prev(). No allocation per step. The tree must not change structurally while a cursor is used.
 */
export interface AvlCursor<V> {
  readonly key: number;
  readonly value: V;
}

const NO_HOOKS: AvlNodeHooks = { alloc: () => true, free: () => undefined };

class AvlNode<V> {
  left: AvlNode<V> | null = null;
  right: AvlNode<V> | null = null;
  height = 1;
  constructor(
    public key: number,
    public value: V,
    public parent: AvlNode<V> | null,
  ) {}
}

const heightOf = <V>(n: AvlNode<V> | null): number => (n === null ? 0 : n.height);

function updateHeight<V>(n: AvlNode<V>): void {
  const l = heightOf(n.left);
  const r = heightOf(n.right);
  n.height = (l > r ? l : r) + 1;
}

function leftmost<V>(n: AvlNode<V>): AvlNode<V> {
  let depth = 0;
  while (n.left !== null) {
    if (++depth > MAX_HEIGHT) panic('avl: descent deeper than MAX_HEIGHT');
    n = n.left;
  }
  return n;
}

function rightmost<V>(n: AvlNode<V>): AvlNode<V> {
  let depth = 0;
  while (n.right !== null) {
    if (++depth > MAX_HEIGHT) panic('avl: descent deeper than MAX_HEIGHT');
    n = n.right;
  }
  return n;
}

/** The in-order successor of `n`, or null. O(1) amortised over a full walk. */
function successor<V>(n: AvlNode<V>): AvlNode<V> | null {
  if (n.right !== null) return leftmost(n.right);
  let depth = 0;
  let p = n.parent;
  while (p !== null && p.right === n) {
    if (++depth > MAX_HEIGHT) panic('avl: ascent longer than MAX_HEIGHT');
    n = p;
    p = p.parent;
  }
  return p;
}

/** The in-order predecessor of `n`, or null. */
function predecessor<V>(n: AvlNode<V>): AvlNode<V> | null {
  if (n.left !== null) return rightmost(n.left);
  let depth = 0;
  let p = n.parent;
  while (p !== null && p.left === n) {
    if (++depth > MAX_HEIGHT) panic('avl: ascent longer than MAX_HEIGHT');
    n = p;
    p = p.parent;
  }
  return p;
}

/** The balanced subtree of keys[lo, hi) (recursion depth log2 n). */
function buildRange<V>(keys: readonly number[], values: readonly V[], lo: number, hi: number, parent: AvlNode<V> | null): AvlNode<V> | null {
  if (lo >= hi) return null;
  const mid = (lo + hi) >>> 1;
  const n = new AvlNode(keys[mid] ?? 0, values[mid] as V, parent);
  n.left = buildRange(keys, values, lo, mid, n);
  n.right = buildRange(keys, values, mid + 1, hi, n);
  updateHeight(n);
  return n;
}

/**
 * Runs known to be strictly increasing valid keys: those buildSorted checked and those makeRun walked. Runs are never
 * changed, so buildSorted of one of them (a forked child's tree, given its parent's keys) need not check it again.
 */
const checkedRuns = new WeakSet<readonly number[]>();

function checkKey(key: number, what: string): void {
  if (!(Number.isInteger(key) && key >= 0 && key <= AVL_MAX_KEY)) panic(`avl: ${what}: bad key ${key}`);
}

/** buildSorted's check of its keys: valid and strictly increasing. */
function checkRun(keys: readonly number[]): void {
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i] ?? -1;
    checkKey(k, 'buildSorted');
    if (i > 0 && k <= (keys[i - 1] ?? -1)) panic(`avl: buildSorted: key ${k} out of order`);
  }
}

/**
 * A balanced binary search tree from non-negative integer keys to values, with parent links so that
 * iteration needs no stack. Modifying the tree (insert, remove, rekey, clear) while an iterator from
 * entries() is live is not allowed and panics at the iterator's next step; setValue is allowed.
 */
export class AvlTree<V> {
  private rootNode: AvlNode<V> | null = null;
  /**
   * The entries in key order as two arrays (buildSorted's, or made by sortedKeys), or null: valid until the next
   * change, which drops them (insert, remove, rekey, clear, setValue, setValueAt).
   */
  private runKeys: readonly number[] | null = null;
  private runValues: readonly V[] | null = null;
  /** The run holds entries whose nodes are not made yet (buildSorted's, until an operation needs nodes). */
  private nodesPending = false;
  private count = 0;
  /** Bumped by every structural change; iterators panic when it moves under them. */
  private mods = 0;
  private readonly hooks: AvlNodeHooks;

  constructor(hooks?: AvlNodeHooks) {
    this.hooks = hooks ?? NO_HOOKS;
  }

  get size(): number {
    return this.count;
  }

  /** The root, after making the nodes of a pending sorted run. */
  private get root(): AvlNode<V> | null {
    if (this.nodesPending) this.materialize();
    return this.rootNode;
  }

  private set root(n: AvlNode<V> | null) {
    this.rootNode = n;
  }

  /** Makes the nodes of the pending run (perfectly balanced, O(n)), which stays; no hook calls: buildSorted made them. */
  private materialize(): void {
    const keys = this.runKeys;
    const values = this.runValues;
    this.nodesPending = false;
    assert(keys !== null && values !== null && keys.length === this.count, 'avl: pending run lost');
    this.rootNode = buildRange(keys, values, 0, keys.length, null);
  }

  /** A structural change: iterators stop, the run is dropped. */
  private changed(): void {
    this.mods++;
    this.dropRun();
  }

  /** Any change (a value's too): the run no longer matches the nodes. */
  private dropRun(): void {
    this.runKeys = this.runValues = null;
  }

  /** Height of the tree (0 when empty); a leaf has height 1. */
  get height(): number {
    return heightOf(this.root);
  }

  /** Adds `key`. Returns false, leaving the tree unchanged, when hooks.alloc() refuses. Panics on a duplicate. */
  insert(key: number, value: V): boolean {
    checkKey(key, 'insert');
    let parent: AvlNode<V> | null = null;
    let node = this.root;
    let depth = 0;
    while (node !== null) {
      if (++depth > MAX_HEIGHT) panic('avl: insert: descent deeper than MAX_HEIGHT');
      parent = node;
      if (key < node.key) node = node.left;
      else if (key > node.key) node = node.right;
      else panic(`avl: insert: key ${key} already present`);
    }
    if (!this.hooks.alloc()) return false;
    const fresh = new AvlNode(key, value, parent);
    if (parent === null) this.root = fresh;
    else if (key < parent.key) parent.left = fresh;
    else parent.right = fresh;
    this.count++;
    this.changed();
    if (parent !== null) this.fixUp(parent);
    return true;
  }

  /** Removes `key` and returns its value, or undefined if absent. Calls hooks.free() for the node. */
  remove(key: number): V | undefined {
    let z = this.findNode(key, AVL_EQUAL);
    if (z === null) return undefined;
    const value = z.value;
    if (z.left !== null && z.right !== null) {
      // Two children: move the successor's entry here and unlink the successor instead.
      const s = leftmost(z.right);
      z.key = s.key;
      z.value = s.value;
      z = s;
    }
    const child = z.left ?? z.right;
    const parent = z.parent;
    if (child !== null) child.parent = parent;
    this.replaceChild(parent, z, child);
    z.left = z.right = z.parent = null;
    this.count--;
    this.changed();
    if (parent !== null) this.fixUp(parent);
    this.hooks.free();
    return value;
  }

  get(key: number): V | undefined {
    const n = this.findNode(key, AVL_EQUAL);
    return n === null ? undefined : n.value;
  }

  has(key: number): boolean {
    return this.findNode(key, AVL_EQUAL) !== null;
  }

  /** The entry equal to, nearest below or nearest above `key`, per `mode`. */
  search(key: number, mode: AvlSearchMode): AvlEntry<V> | undefined {
    const n = this.findNode(key, mode);
    return n === null ? undefined : { key: n.key, value: n.value };
  }

  min(): AvlEntry<V> | undefined {
    if (this.root === null) return undefined;
    const n = leftmost(this.root);
    return { key: n.key, value: n.value };
  }

  max(): AvlEntry<V> | undefined {
    if (this.root === null) return undefined;
    const n = rightmost(this.root);
    return { key: n.key, value: n.value };
  }

  /** Replaces the value of an existing key; panics if absent. Allowed during iteration. */
  setValue(key: number, value: V): void {
    const n = this.findNode(key, AVL_EQUAL);
    if (n === null) panic(`avl: setValue: key ${key} absent`);
    n.value = value;
    this.dropRun();
  }

  /**
   * Changes a node's key in place, without allocating. The new key must keep the order: strictly greater
   * than the predecessor's key and strictly less than the successor's. Panics otherwise or if absent.
   */
  rekey(oldKey: number, newKey: number): void {
    checkKey(newKey, 'rekey');
    const n = this.findNode(oldKey, AVL_EQUAL);
    if (n === null) panic(`avl: rekey: key ${oldKey} absent`);
    if (newKey === oldKey) return;
    const pred = predecessor(n);
    const succ = successor(n);
    if (pred !== null && newKey <= pred.key) panic(`avl: rekey ${oldKey}->${newKey}: not above ${pred.key}`);
    if (succ !== null && newKey >= succ.key) panic(`avl: rekey ${oldKey}->${newKey}: not below ${succ.key}`);
    n.key = newKey;
    this.changed();
  }

  /**
   * Entries in key order: upwards from the first key >= `from`, or downwards from the last key <= `from`;
   * without `from`, from the min (up) or max (down). Modifying the tree during iteration panics.
   */
  *entries(from?: number, direction: 'up' | 'down' = 'up'): IterableIterator<[number, V]> {
    const up = direction === 'up';
    const mods = this.mods;
    let node: AvlNode<V> | null;
    if (from === undefined) {
      node = this.root === null ? null : up ? leftmost(this.root) : rightmost(this.root);
    } else {
      node = this.findNode(from, up ? AVL_GREATER_EQUAL : AVL_LESS_EQUAL);
    }
    let steps = 0;
    while (node !== null) {
      if (++steps > this.count) panic('avl: entries: more steps than nodes');
      yield [node.key, node.value];
      if (this.mods !== mods) panic('avl: entries: tree modified during iteration');
      node = up ? successor(node) : predecessor(node);
    }
  }

  /** Cursor at the smallest key, or null when empty. */
  first(): AvlCursor<V> | null {
    return this.root === null ? null : leftmost(this.root);
  }

  /** Cursor at the largest key, or null when empty. */
  last(): AvlCursor<V> | null {
    return this.root === null ? null : rightmost(this.root);
  }

  /** Cursor at the entry equal to, nearest below or nearest above `key` per `mode` (search without allocating). */
  find(key: number, mode: AvlSearchMode): AvlCursor<V> | null {
    return this.findNode(key, mode);
  }

  /** The cursor after c in key order, or null. */
  next(c: AvlCursor<V>): AvlCursor<V> | null {
    return successor(this.own(c));
  }

  /** The cursor before c in key order, or null. */
  prev(c: AvlCursor<V>): AvlCursor<V> | null {
    return predecessor(this.own(c));
  }

  /** setValue through a cursor (no search). */
  setValueAt(c: AvlCursor<V>, value: V): void {
    this.own(c).value = value;
    this.dropRun();
  }

  /** Every value in key order, appended to `out` (default a new array). */
  values(out: V[] = []): V[] {
    const run = this.runValues;
    if (run !== null) {
      for (const v of run) out.push(v);
      return out;
    }
    let n = this.root === null ? null : leftmost(this.root);
    let steps = 0;
    while (n !== null) {
      if (++steps > this.count) panic('avl: values: more steps than nodes');
      out.push(n.value);
      n = successor(n);
    }
    return out;
  }

  /**
   * Every key in order: the tree's run, made by one walk of the nodes if it has none (then kept, with
   * sortedValues', until the tree changes). Read-only, and stale after the next change.
   */
  sortedKeys(): readonly number[] {
    if (this.runKeys === null) this.makeRun();
    return this.runKeys ?? [];
  }

  /** Every value in key order, as sortedKeys (the same run). */
  sortedValues(): readonly V[] {
    if (this.runValues === null) this.makeRun();
    return this.runValues ?? [];
  }

  /** The run of the nodes, by one walk. */
  private makeRun(): void {
    const keys = new Array<number>(this.count);
    const values = new Array<V>(this.count);
    let i = 0;
    for (let n = this.root === null ? null : leftmost(this.root); n !== null; n = successor(n)) {
      if (i >= this.count) panic('avl: sortedKeys: more nodes than its size');
      keys[i] = n.key;
      values[i++] = n.value;
    }
    assert(i === this.count, 'avl: sortedKeys: fewer nodes than its size');
    checkedRuns.add(keys);
    this.runKeys = keys;
    this.runValues = values;
  }

  /**
   * Fills an empty tree from `keys` (strictly increasing) and `values` in O(n), perfectly balanced, taking its
   * nodes from the hooks first (allocMany once, else alloc per node). Returns false, leaving the tree empty, when
   * they are refused. The tree keeps both arrays (the caller must not change them) and makes its nodes only when an
   * operation needs them.
   */
  buildSorted(keys: readonly number[], values: readonly V[]): boolean {
    assert(this.root === null, 'avl: buildSorted into a non-empty tree');
    const n = keys.length;
    assert(values.length === n, 'avl: buildSorted: keys and values differ in length');
    if (!checkedRuns.has(keys)) checkRun(keys);
    if (!this.allocNodes(n)) return false;
    this.count = n;
    this.changed();
    if (n > 0) {
      checkedRuns.add(keys);
      this.runKeys = keys;
      this.runValues = values;
      this.nodesPending = true;
    }
    return true;
  }

  /** n node slots from the hooks, all or none. */
  private allocNodes(n: number): boolean {
    const hooks = this.hooks;
    if (hooks.allocMany !== undefined) return hooks.allocMany(n);
    for (let i = 0; i < n; i++) {
      if (hooks.alloc()) continue;
      for (let j = 0; j < i; j++) hooks.free();
      return false;
    }
    return true;
  }

  private own(c: AvlCursor<V>): AvlNode<V> {
    if (!(c instanceof AvlNode)) panic('avl: cursor from elsewhere');
    return c as AvlNode<V>;
  }

  [Symbol.iterator](): IterableIterator<[number, V]> {
    return this.entries();
  }

  /** Removes every node, calling hooks.free() once per node. */
  clear(): void {
    const n = this.count;
    this.root = null;
    this.nodesPending = false;
    this.count = 0;
    this.changed();
    for (let i = 0; i < n; i++) this.hooks.free();
  }

  /** Sanity checker: key range and order, parent links, heights, balance and size. Panics naming the rule (AVL_CHECK_RULES). */
  check(): void {
    if (this.root !== null) assert(this.root.parent === null, 'avl check root: the root has a parent');
    const n = this.checkSubtree(this.root, null, -1, AVL_MAX_KEY + 1, 1);
    assert(n === this.count, () => `avl check size: size ${this.count} but ${n} nodes reachable`);
  }

  /** Checks the subtree at `node` with keys strictly inside (lo, hi); returns its node count. */
  private checkSubtree(
    node: AvlNode<V> | null,
    parent: AvlNode<V> | null,
    lo: number,
    hi: number,
    depth: number,
  ): number {
    if (node === null) return 0;
    const k = node.key;
    assert(depth <= MAX_HEIGHT, 'avl check depth: deeper than MAX_HEIGHT');
    assert(Number.isInteger(k) && k >= 0 && k <= AVL_MAX_KEY, () => `avl check key: bad key ${k}`);
    assert(k > lo && k < hi, () => `avl check order: key ${k} outside (${lo}, ${hi})`);
    assert(node.parent === parent, () => `avl check parent: the parent link of key ${k} is wrong`);
    const n = 1 + this.checkSubtree(node.left, node, lo, k, depth + 1);
    const m = this.checkSubtree(node.right, node, k, hi, depth + 1);
    const l = heightOf(node.left);
    const r = heightOf(node.right);
    assert(node.height === Math.max(l, r) + 1, () => `avl check height: height of key ${k} is ${node.height}`);
    assert(l - r >= -1 && l - r <= 1, () => `avl check balance: balance factor ${l - r} at key ${k}`);
    return n + m;
  }

  /** The node for `key` per `mode` (see AvlSearchMode), or null. */
  private findNode(key: number, mode: AvlSearchMode): AvlNode<V> | null {
    const wantBelow = mode === AVL_LESS || mode === AVL_LESS_EQUAL;
    const wantAbove = mode === AVL_GREATER || mode === AVL_GREATER_EQUAL;
    const acceptEqual = mode === AVL_EQUAL || mode === AVL_LESS_EQUAL || mode === AVL_GREATER_EQUAL;
    let best: AvlNode<V> | null = null;
    let node = this.root;
    let depth = 0;
    while (node !== null) {
      if (++depth > MAX_HEIGHT) panic('avl: search: descent deeper than MAX_HEIGHT');
      if (key < node.key) {
        if (wantAbove) best = node;
        node = node.left;
      } else if (key > node.key) {
        if (wantBelow) best = node;
        node = node.right;
      } else if (acceptEqual) {
        return node;
      } else {
        // Strictly less/greater than an existing key: look in the nearer subtree.
        node = wantBelow ? node.left : node.right;
      }
    }
    return best;
  }

  /** Rebalances from `node` up to the root, stopping once a subtree's height is unchanged. */
  private fixUp(node: AvlNode<V>): void {
    let cur: AvlNode<V> | null = node;
    let depth = 0;
    while (cur !== null) {
      if (++depth > MAX_HEIGHT) panic('avl: fixUp: ascent longer than MAX_HEIGHT');
      const before = cur.height;
      const top = this.rebalance(cur);
      if (top.height === before) return;
      cur = top.parent;
    }
  }

  /** Restores the balance at `n` with one or two rotations; returns the subtree's new root. */
  private rebalance(n: AvlNode<V>): AvlNode<V> {
    const bal = heightOf(n.left) - heightOf(n.right);
    if (bal > 1) {
      const l = n.left;
      assert(l !== null, 'avl: rebalance: left-heavy without a left child');
      if (heightOf(l.left) < heightOf(l.right)) this.rotateLeft(l);
      return this.rotateRight(n);
    }
    if (bal < -1) {
      const r = n.right;
      assert(r !== null, 'avl: rebalance: right-heavy without a right child');
      if (heightOf(r.right) < heightOf(r.left)) this.rotateRight(r);
      return this.rotateLeft(n);
    }
    updateHeight(n);
    return n;
  }

  private rotateLeft(x: AvlNode<V>): AvlNode<V> {
    const y = x.right;
    assert(y !== null, 'avl: rotateLeft without a right child');
    x.right = y.left;
    if (y.left !== null) y.left.parent = x;
    y.parent = x.parent;
    this.replaceChild(x.parent, x, y);
    y.left = x;
    x.parent = y;
    updateHeight(x);
    updateHeight(y);
    return y;
  }

  private rotateRight(x: AvlNode<V>): AvlNode<V> {
    const y = x.left;
    assert(y !== null, 'avl: rotateRight without a left child');
    x.left = y.right;
    if (y.right !== null) y.right.parent = x;
    y.parent = x.parent;
    this.replaceChild(x.parent, x, y);
    y.right = x;
    x.parent = y;
    updateHeight(x);
    updateHeight(y);
    return y;
  }

  private replaceChild(parent: AvlNode<V> | null, old: AvlNode<V>, child: AvlNode<V> | null): void {
    if (parent === null) this.root = child;
    else if (parent.left === old) parent.left = child;
    else parent.right = child;
  }
}
