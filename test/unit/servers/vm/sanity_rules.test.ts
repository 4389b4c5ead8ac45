// Detection tests for VM's full sanity check (sanity.ts, spec/vm.md §10): for every rule in VM_SANITY_RULES, one
// crafted corruption of a freshly booted VM that the check reports by that rule's name, and no other rule. The
// last test fails when a rule of the list has no detection test here.
import { describe, expect, it } from 'vitest';
import { VM_PROCSTART, VR_ANON } from '../../../../src/include/vm.ts';
import type { AvlTree } from '../../../../src/lib/avl.ts';
import { PTE } from '../../../../src/hw/mmu.ts';
import { VMF_HASPT, VMF_INUSE } from '../../../../src/servers/vm/glo.ts';
import { ptReadPte, ptWriteRun } from '../../../../src/servers/vm/pagetable.ts';
import type { PhysBlock, PhysRegion, Region } from '../../../../src/servers/vm/region.ts';
import { refAt } from '../../../../src/servers/vm/region.ts';
import { VM_SANITY_RULES } from '../../../../src/servers/vm/sanity.ts';
import type { UnitVm } from './helpers.ts';
import { PAGE, unitVm } from './helpers.ts';
import { onFresh, ruleDetectionTests } from '../../../helpers/rules.ts';

type Rule = (typeof VM_SANITY_RULES)[number];

/** Slot 1's regions: text, heap (both adopted from the boot image), stack (demand-zero, one page touched). */
function vmWith(): UnitVm {
  return unitVm({ slots: [1, 2] });
}
const regionsOf = (u: UnitVm): Region[] => u.proc(1).regions;
const textOf = (u: UnitVm): Region => {
  const r = regionsOf(u)[0];
  if (r === undefined) throw new Error('no text region');
  return r;
};
const firstRef = (r: Region): PhysRegion => {
  const ref = refAt(r, 0);
  if (ref === null) throw new Error('no reference at offset 0');
  return ref;
};
const edit = <T extends object>(u: UnitVm, obj: T, fn: (o: T) => void): void => {
  u.vm.slab.use(obj as never, () => {
    fn(obj);
  });
};

/** The corruption for each rule: applied to a booted VM whose full check passes. */
const corruptions: Record<Rule, (u: UnitVm) => void> = {
  A1: (u) => {
    u.proc(2).endpoint = u.proc(1).endpoint;
  },
  A2: (u) => {
    u.proc(1).flags &= ~VMF_HASPT;
  },
  A3: (u) => {
    u.vm.exectmp.flags |= VMF_INUSE;
  },
  A4: (u) => {
    u.proc(1).heap = textOf(u);
  },
  B5: (u) =>
    edit(u, regionsOf(u).at(-1) as Region, (r) => {
      r.length += 1;
    }),
  B6: (u) => {
    u.proc(1).regions.reverse();
  },
  B7: (u) =>
    edit(u, textOf(u), (r) => {
      r.vaddr = VM_PROCSTART - 0x400000;
    }),
  B8: (u) =>
    edit(u, textOf(u), (r) => {
      r.flags &= ~VR_ANON;
    }),
  C9: (u) =>
    edit(u, firstRef(textOf(u)), (ref) => {
      ref.offset += PAGE;
    }),
  C10: (u) =>
    edit(u, firstRef(textOf(u)).block, (b: PhysBlock) => {
      b.length += PAGE;
    }),
  D11: (u) =>
    edit(u, firstRef(textOf(u)).block, (b: PhysBlock) => {
      b.refcount += 1;
    }),
  D12: (u) =>
    edit(u, firstRef(textOf(u)), (ref) => {
      ref.mode = 'smap';
    }),
  D13: (u) =>
    edit(u, firstRef(textOf(u)).block, (b: PhysBlock) => {
      b.phys = u.vm.nPages * PAGE;
    }),
  E14: (u) => {
    u.vm.spares.push(u.vm.pagedirs);
  },
  E15: (u) => {
    const b = firstRef(textOf(u)).block;
    u.vm.alloc.freePages(b.phys / PAGE, 1);
  },
  E16: (u) => {
    u.vm.spares.pop();
  },
  E17: (u) => {
    // An empty range left in the free list (the walk meets it before the page count, E18).
    const tree = (u.vm.alloc as unknown as { tree: AvlTree<number> }).tree;
    const first = u.vm.alloc.ranges()[0];
    if (first === undefined) throw new Error('no free range');
    tree.setValue(first.addr, 0);
  },
  E18: (u) => {
    u.vm.alloc.freeCount += 1;
  },
  F19: (u) => {
    u.mem.pteWrite(u.vm.pagedirs, u.proc(1).slot, 0);
  },
  F20: (u) => {
    const text = textOf(u);
    const pte = ptReadPte(u.mem, u.proc(1).pt, text.vaddr);
    ptWriteRun(u.mem, u.proc(1).pt, text.vaddr, (pte >>> 12) + 100, 1, PTE.P | PTE.U);
  },
  F21: (u) => {
    // A stale mapping: a present PTE inside the text's page table, outside every region, to a free frame.
    const free = u.vm.alloc.ranges()[0];
    if (free === undefined) throw new Error('no free range');
    ptWriteRun(u.mem, u.proc(1).pt, textOf(u).vaddr + 512 * PAGE, free.addr, 1, PTE.P | PTE.U);
  },
  F22: (u) => {
    const text = textOf(u);
    const frame = ptReadPte(u.mem, u.proc(1).pt, text.vaddr) >>> 12;
    u.vm.view = {
      tlbEntries: (slot) =>
        slot === 1 ? [{ vpage: text.vaddr / PAGE, frame: frame + 1, writable: false }] : [],
    };
  },
  G23: (u) => {
    const classes = (u.vm.slab as unknown as { classes: Record<string, { live: number }> }).classes;
    const region = classes.region;
    if (region === undefined) throw new Error('no region class');
    region.live += 1;
  },
  G24: (u) => {
    const r = regionsOf(u).at(-1) as Region;
    u.vm.slab.free(r);
  },
};

/** A booted VM whose full check passes. */
function validVm(): UnitVm {
  const u = vmWith();
  u.vm.dirty.clear();
  u.state.sanityCheck();
  return u;
}

ruleDetectionTests({
  title: 'VM sanity rules: each crafted corruption is reported by its rule',
  rules: VM_SANITY_RULES,
  start: (rule) => `VM sanity ${rule}: `,
  named: /VM sanity ([A-H]\d+):/g,
  corruptions: onFresh(validVm, (u) => u.state.sanityCheck(), corruptions),
});

describe('VM sanity rules: the sources', () => {
  it('every VM sanity panic names a listed rule, and every listed rule is named by a panic', async () => {
    const { readFileSync } = await import('node:fs');
    const named = new Set<string>();
    for (const file of ['sanity.ts', 'alloc.ts', 'slab.ts']) {
      const src = readFileSync(new URL(`../../../../src/servers/vm/${file}`, import.meta.url), 'utf8');
      for (const m of src.matchAll(/VM sanity ([A-H]\d+):/g)) named.add(m[1] ?? '');
    }
    expect([...named].sort()).toEqual([...VM_SANITY_RULES].sort());
  });
});
