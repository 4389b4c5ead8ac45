// A block's references as a list (region.ts: PhysBlock.firstRef, PhysRegion.nextRef): kept oldest first through
// fork, unreference from the middle, COW break and split; and the sanity check's D11 reading it (sanity.ts), in
// full and incremental checks, for corruptions that leave every refcount right.
import { describe, expect, it } from 'vitest';
import { OK } from '../../../../src/include/errno.ts';
import { VM_PROCSTART } from '../../../../src/include/vm.ts';
import { clearSlot, freeAddressSpace } from '../../../../src/servers/vm/exit.ts';
import type { PhysBlock, PhysRegion } from '../../../../src/servers/vm/region.ts';
import { pageFault, refAt, refsOf, splitAt } from '../../../../src/servers/vm/region.ts';
import type { UnitVm } from './helpers.ts';
import { PAGE, fork, unitVm } from './helpers.ts';

const HEAP = VM_PROCSTART + 4 * PAGE;

/** The reference of slot's process at v. */
function refOf(u: UnitVm, slot: number, v: number): PhysRegion {
  const p = u.proc(slot);
  const r = p.regions.find((x) => v >= x.vaddr && v < x.vaddr + x.length);
  const ref = r === undefined ? null : refAt(r, v - r.vaddr);
  if (ref === null) throw new Error(`no reference at 0x${v.toString(16)} of slot ${slot}`);
  return ref;
}

const edit = <T extends object>(u: UnitVm, obj: T, fn: (o: T) => void): void => {
  u.vm.slab.use(obj as never, () => {
    fn(obj);
  });
};

/** Slot 1's first heap block shared by slots 1, 4 and 6 (two forks), its references in that order. */
function threeSharers(): { u: UnitVm; block: PhysBlock; refs: PhysRegion[] } {
  const u = unitVm({ slots: [1, 2] });
  expect(fork(u, 1, 4)).toBe(OK);
  expect(fork(u, 1, 6)).toBe(OK);
  const refs = [1, 4, 6].map((s) => refOf(u, s, HEAP));
  const block = refs[0]?.block;
  if (block === undefined) throw new Error('no block');
  return { u, block, refs };
}

describe("a block's list of references", () => {
  it('holds its references oldest first; refcount is its length', () => {
    const { block, refs } = threeSharers();
    expect(refsOf(block)).toEqual(refs);
    expect(block.refcount).toBe(3);
  });

  it('unreferencing the middle one (an exit) relinks its neighbours', () => {
    const { u, block, refs } = threeSharers();
    const c = u.proc(4);
    freeAddressSpace(u.vm, c);
    clearSlot(u.vm, c);
    expect(refsOf(block)).toEqual([refs[0], refs[2]]);
    expect(block.refcount).toBe(2);
    u.state.sanityCheck();
  });

  it('a COW break moves the writer to a list of its own; the others stay in order', () => {
    const { u, block, refs } = threeSharers();
    expect(pageFault(u.vm, u.proc(4), HEAP, true)).toBe(OK);
    const moved = refOf(u, 4, HEAP);
    expect(refsOf(block)).toEqual([refs[0], refs[2]]);
    expect(moved.block).not.toBe(block);
    expect(refsOf(moved.block)).toEqual([moved]);
    u.state.sanityCheck();
  });

  it('a split gives the upper half the same sharers, in the same order', () => {
    const u = unitVm({ slots: [1, 2] });
    const p = u.proc(1);
    const heap = p.regions.find((r) => r.vaddr === HEAP);
    if (heap === undefined) throw new Error('no heap');
    expect(refAt(heap, 0)?.block.length).toBeGreaterThan(PAGE);
    expect(fork(u, 1, 4)).toBe(OK);
    expect(splitAt(u.vm, heap, PAGE)).toBe(OK);
    const upper = refAt(heap, PAGE);
    if (upper === null) throw new Error('no upper half');
    expect(refsOf(upper.block).map((r) => r.region.owner.slot)).toEqual([1, 4]);
    expect(refsOf(refOf(u, 1, HEAP).block).map((r) => r.region.owner.slot)).toEqual([1, 4]);
    u.state.sanityCheck();
  });
});

describe('D11 reads the list', () => {
  it('a reference of the block left off its list (length still refcount) is reported, in full and incremental checks', () => {
    for (const incremental of [false, true]) {
      const { u, refs } = threeSharers();
      if (incremental) u.state.trackChanges();
      const [first, , third] = refs;
      if (first === undefined || third === undefined) throw new Error('three references');
      // Slot 4's reference off the list, slot 6's text reference (last on its own list) in at the end.
      const stranger = refOf(u, 6, VM_PROCSTART);
      expect(stranger.nextRef).toBeNull();
      edit(u, first, (r) => {
        r.nextRef = third;
      });
      edit(u, third, (r) => {
        r.nextRef = stranger;
      });
      if (incremental) {
        u.vm.touched?.clear();
        u.vm.touched?.add(u.proc(4));
      }
      expect(() => {
        if (incremental) u.state.changesCheck();
        else u.state.sanityCheck();
      }).toThrow(/VM sanity D11: .* does not list 1 of the references found to it/);
    }
  });

  it('a cyclic list (longer than refcount) is reported', () => {
    const { u, refs } = threeSharers();
    const [first, , third] = refs;
    if (first === undefined || third === undefined) throw new Error('three references');
    edit(u, third, (r) => {
      r.nextRef = first;
    });
    expect(() => {
      u.state.sanityCheck();
    }).toThrow(/VM sanity D11: .* lists more references than its refcount 3/);
  });

  it('a freed reference on the list is reported', () => {
    const { u, refs } = threeSharers();
    const [first, , third] = refs;
    if (first === undefined || third === undefined) throw new Error('three references');
    const c = u.proc(6);
    freeAddressSpace(u.vm, c);
    clearSlot(u.vm, c);
    edit(u, first, (r) => {
      r.nextRef = third;
    });
    expect(() => {
      u.state.sanityCheck();
    }).toThrow(/VM sanity D11: .* lists a dead reference/);
  });
});
