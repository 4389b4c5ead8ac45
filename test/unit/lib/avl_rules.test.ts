// Detection tests for AvlTree.check() (src/lib/avl.ts): for every rule in AVL_CHECK_RULES, one crafted corruption of
// a valid tree that the check reports by that rule's name, and no other. The last test fails when a rule has no
// detection test.
import { AVL_CHECK_RULES, AvlSearch, AvlTree } from '../../../src/lib/avl.ts';
import { ruleDetectionTests } from '../../helpers/rules.ts';

type Rule = (typeof AVL_CHECK_RULES)[number];

/** A node as the tree keeps it (the cursors the tree hands out are its nodes). */
interface Node {
  key: number;
  height: number;
  left: Node | null;
  right: Node | null;
  parent: Node | null;
}
interface Inside {
  root: Node | null;
  count: number;
}

/** A valid tree of keys 1..n inserted in order, its internals, and its node for a key. */
function treeOf(n: number): { t: AvlTree<number>; inside: Inside; node: (key: number) => Node } {
  const t = new AvlTree<number>();
  for (let k = 1; k <= n; k++) t.insert(k, k);
  t.check();
  const node = (key: number): Node => {
    const c = t.find(key, AvlSearch.EQUAL);
    if (c === null) throw new Error(`no key ${key}`);
    return c as unknown as Node;
  };
  return { t, inside: t as unknown as Inside, node };
}

/** Relinks `nodes` (ascending keys) into one right-leaning chain with consistent parents and heights. */
function chain(inside: Inside, nodes: Node[]): void {
  nodes.forEach((n, i) => {
    n.left = null;
    n.right = nodes[i + 1] ?? null;
    n.parent = nodes[i - 1] ?? null;
    n.height = nodes.length - i;
  });
  inside.root = nodes[0] ?? null;
}

/** Each corruption builds a valid tree, breaks it and returns its check. */
const corruptions: Record<Rule, () => () => void> = {
  root: () => {
    const { t, inside, node } = treeOf(7);
    if (inside.root !== null) inside.root.parent = node(1);
    return () => t.check();
  },
  depth: () => {
    // 66 keys in order with correct parents: deeper than MAX_HEIGHT (64) before any height or balance is checked.
    const { t, inside, node } = treeOf(66);
    chain(
      inside,
      Array.from({ length: 66 }, (_, i) => node(i + 1)),
    );
    return () => t.check();
  },
  key: () => {
    const { t, node } = treeOf(7);
    node(1).key = 0.5;
    return () => t.check();
  },
  order: () => {
    const { t, node } = treeOf(7);
    node(1).key = 5;
    return () => t.check();
  },
  parent: () => {
    const { t, node } = treeOf(7);
    node(1).parent = node(6);
    return () => t.check();
  },
  height: () => {
    const { t, node } = treeOf(7);
    node(1).height = 2;
    return () => t.check();
  },
  balance: () => {
    const { t, inside, node } = treeOf(3);
    chain(inside, [node(1), node(2), node(3)]);
    return () => t.check();
  },
  size: () => {
    const { t, inside } = treeOf(7);
    inside.count += 1;
    return () => t.check();
  },
};

ruleDetectionTests({
  title: 'AVL check rules: each crafted corruption is reported by its rule',
  rules: AVL_CHECK_RULES,
  start: (rule) => `avl check ${rule}: `,
  named: /avl check (\w+):/g,
  corruptions,
});
