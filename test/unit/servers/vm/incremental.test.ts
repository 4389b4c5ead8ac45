// Detection tests for VM's incremental check (sanity.ts changesCheck): it checks the processes VM touched since the
// last check and reports their corruptions by rule; a corruption where VM did not go, or of a rule left to the full
// check (VM_SWEEP_ONLY_RULES), passes it and is reported by the next full check.
import { describe, expect, it } from 'vitest';
import { PTE } from '../../../../src/hw/mmu.ts';
import { VMF_HASPT } from '../../../../src/servers/vm/glo.ts';
import { ptReadPte, ptWriteRun } from '../../../../src/servers/vm/pagetable.ts';
import type { PhysBlock, Region } from '../../../../src/servers/vm/region.ts';
import { pageFault, refAt } from '../../../../src/servers/vm/region.ts';
import {
  VM_SANITY_RULES,
  VM_SWEEP_ONLY_RULES,
  changesCheck,
  fullCheck,
  trackChanges,
} from '../../../../src/servers/vm/sanity.ts';
import type { UnitVm } from './helpers.ts';
import { PAGE, unitVm } from './helpers.ts';

/** Slots 1 and 2 booted and checked in full, with change tracking installed. */
function tracked(): UnitVm {
  const u = unitVm({ slots: [1, 2], sanity: 'top' });
  u.vm.dirty.clear();
  trackChanges(u.vm);
  fullCheck(u.vm);
  return u;
}

const text = (u: UnitVm, slot: number): Region => {
  const r = u.proc(slot).regions[0];
  if (r === undefined) throw new Error(`slot ${slot} has no text`);
  return r;
};

/** Points the PTE of slot's first text page at another frame (rule F20). */
function corruptPte(u: UnitVm, slot: number): void {
  const t = text(u, slot);
  const pte = ptReadPte(u.mem, u.proc(slot).pt, t.vaddr);
  ptWriteRun(u.mem, u.proc(slot).pt, t.vaddr, (pte >>> 12) + 100, 1, PTE.P | PTE.U);
}

/** A write fault on the lowest page of slot's stack: VM maps a page there, touching that process. */
function faultStack(u: UnitVm, slot: number): void {
  const stack = u.proc(slot).regions.at(-1);
  if (stack === undefined) throw new Error(`slot ${slot} has no stack`);
  expect(pageFault(u.vm, u.proc(slot), stack.vaddr, true)).toBe(0);
}

const firstBlock = (u: UnitVm): PhysBlock => {
  const ref = refAt(text(u, 1), 0);
  if (ref === null) throw new Error('no reference at offset 0');
  return ref.block;
};
const editBlock = (u: UnitVm, fn: (b: PhysBlock) => void): void => {
  const b = firstBlock(u);
  u.vm.slab.use(b, () => {
    fn(b);
  });
};

/** One corruption of slot 1 per family of rules the incremental check covers, and the rule it breaks. */
const touchedCorruptions: [string, (u: UnitVm) => void][] = [
  ['A2', (u) => void (u.proc(1).flags &= ~VMF_HASPT)],
  ['B6', (u) => void u.proc(1).regions.reverse()],
  ['D11', (u) => editBlock(u, (b) => void (b.refcount += 1))],
  ['D13', (u) => editBlock(u, (b) => void (b.phys = u.vm.nPages * PAGE))],
  ['E18', (u) => void (u.vm.alloc.freeCount += 1)],
  ['F19', (u) => u.mem.pteWrite(u.vm.pagedirs, 1, 0)],
  ['F20', (u) => corruptPte(u, 1)],
];

describe('VM incremental check', () => {
  it('misses a corruption of a process VM did not touch; the next full check reports it by rule', () => {
    const u = tracked();
    corruptPte(u, 1);
    faultStack(u, 2);
    expect(u.vm.touched?.has(u.proc(2))).toBe(true);
    expect(u.vm.touched?.has(u.proc(1))).toBe(false);
    expect(() => {
      changesCheck(u.vm);
    }).not.toThrow();
    expect(() => {
      fullCheck(u.vm);
    }).toThrow(/^VM sanity F20: slot 1 /);
  });

  it('reports a corruption of a process VM touched since (a page fault in it)', () => {
    const u = tracked();
    corruptPte(u, 1);
    faultStack(u, 1);
    expect(() => {
      changesCheck(u.vm);
    }).toThrow(/^VM sanity F20: slot 1 /);
  });

  it.each(touchedCorruptions)('reports %s in a touched process', (rule, corrupt) => {
    const u = tracked();
    corrupt(u);
    u.vm.touched?.add(u.proc(1));
    expect(() => {
      changesCheck(u.vm);
    }).toThrow(new RegExp(`^VM sanity ${rule}: `));
  });

  it('leaves the sweep-only rules (here E16, G23) to the full check', () => {
    expect(VM_SWEEP_ONLY_RULES.every((r) => (VM_SANITY_RULES as readonly string[]).includes(r))).toBe(true);
    const sweepOnly: [string, (u: UnitVm) => void][] = [
      ['E16', (u) => void u.vm.spares.pop()],
      [
        'G23',
        (u) =>
          void ((u.vm.slab as unknown as { classes: { region: { live: number } } }).classes.region.live += 1),
      ],
    ];
    for (const [rule, corrupt] of sweepOnly) {
      const u = tracked();
      corrupt(u);
      faultStack(u, 1);
      expect(() => {
        changesCheck(u.vm);
      }).not.toThrow();
      expect(() => {
        fullCheck(u.vm);
      }).toThrow(new RegExp(`^VM sanity ${rule}: `));
    }
  });

  it('checks nothing when nothing was touched, and is the full check without tracking', () => {
    const u = tracked();
    corruptPte(u, 1);
    expect(() => {
      changesCheck(u.vm);
    }).not.toThrow();
    const plain = unitVm({ slots: [1, 2], sanity: 'top' });
    plain.vm.dirty.clear();
    corruptPte(plain, 1);
    expect(plain.vm.touched).toBeNull();
    expect(() => {
      changesCheck(plain.vm);
    }).toThrow(/^VM sanity F20: /);
  });
});
