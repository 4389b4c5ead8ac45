// docs/testing.md "Invariant checkers" lists the rules of every checker: each section's table has a row for every rule of
// the checker's exported list, and no other row, in the list's order.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KERNEL_SANITY_RULES } from '../../../src/kernel/system/do_safemap.ts';
import { AVL_CHECK_RULES } from '../../../src/lib/avl.ts';
import { DS_SANITY_RULES } from '../../../src/servers/ds/store.ts';
import { VM_SANITY_RULES } from '../../../src/servers/vm/sanity.ts';
import { SLAB_CHECK_RULES } from '../../../src/servers/vm/slab.ts';
import { root } from '../../helpers/cli.ts';

const doc = readFileSync(join(root, 'docs/testing.md'), 'utf8');

/** The first column of the table rows of the ### section whose heading contains `list` (header row excluded), up to the next heading. */
function rowsOf(list: string): string[] {
  const section = doc
    .split('\n### ')
    .find((s) => s.split('\n')[0]?.includes(`(\`${list}\``))
    ?.split('\n## ')[0];
  expect(section, `a section for ${list}`).toBeDefined();
  const rows = [...(section ?? '').matchAll(/^\| ([^|]+?) \|/gm)].map((m) => m[1] ?? '');
  return rows.filter((r) => r !== 'rule');
}

describe('docs/testing.md lists every checker rule', () => {
  it.each([
    ['VM_SANITY_RULES', VM_SANITY_RULES],
    ['SLAB_CHECK_RULES', SLAB_CHECK_RULES],
    ['AVL_CHECK_RULES', AVL_CHECK_RULES],
    ['KERNEL_SANITY_RULES', KERNEL_SANITY_RULES],
    ['DS_SANITY_RULES', DS_SANITY_RULES],
  ] as [string, readonly string[]][])('%s', (list, rules) => {
    expect(rowsOf(list)).toEqual([...rules]);
  });
});
