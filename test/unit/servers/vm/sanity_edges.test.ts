// Edges of VM's sanity check (src/servers/vm/sanity.ts) beyond one corruption per rule (sanity_rules.test.ts):
// valid states it must pass (an exec under way, device memory inside and outside RAM, SHARED and safemap-shared
// blocks, a region ending at the top of user space, TLBs that match or whose flush is owed, the incremental check
// of one process after a fork, sanity off), each rule's other conditions with the whole panic message (what it names
// and the values found), and the checkpoints: levels, change tracking, what the incremental check walks.
import { describe, expect, it } from 'vitest';
import { OK } from '../../../../src/include/errno.ts';
import { SELF, endpoint } from '../../../../src/include/endpoint.ts';
import type { Message } from '../../../../src/include/ipc.ts';
import {
  MAP_ANON,
  MAP_SHARED,
  USER_PDE_FIRST,
  VM_PROCSTART,
  VM_STACKTOP,
  VR_DIRECT,
  VR_NOPF,
  VR_SHARED,
} from '../../../../src/include/vm.ts';
import { PTE } from '../../../../src/hw/mmu.ts';
import { VMF_HASPT } from '../../../../src/servers/vm/glo.ts';
import { setAside } from '../../../../src/servers/vm/exec.ts';
import { smap } from '../../../../src/servers/vm/memreq.ts';
import { forkAddressSpace } from '../../../../src/servers/vm/fork.ts';
import { doMapPhys, mmapRegion, munmapRange } from '../../../../src/servers/vm/mmap.ts';
import { ptReadPte, ptWriteRun } from '../../../../src/servers/vm/pagetable.ts';
import type { PhysBlock, PhysRegion, Region } from '../../../../src/servers/vm/region.ts';
import { refAt } from '../../../../src/servers/vm/region.ts';
import { changesCheck, fullCheck, sanityAt, trackChanges } from '../../../../src/servers/vm/sanity.ts';
import type { UnitVm } from './helpers.ts';
import { PAGE, fakeVmProc, fork, fullAndBareVm, unitVm } from './helpers.ts';

const TEXT = VM_PROCSTART;
const HEAP = VM_PROCSTART + 4 * PAGE;
const STACK = VM_STACKTOP - 2 * PAGE;
const hex = (n: number): string => `0x${n.toString(16)}`;

/** A booted VM (16 MiB, slots as given) whose full check passes. */
function checked(slots = [1, 2]): UnitVm {
  const u = unitVm({ slots });
  u.vm.dirty.clear();
  fullCheck(u.vm);
  return u;
}

/** The message of what fn throws, or 'passed'. */
function outcome(fn: () => void): string {
  try {
    fn();
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
  return 'passed';
}

/** The full check's outcome, at checkpoint 'here'. */
const full = (u: UnitVm): string =>
  outcome(() => {
    fullCheck(u.vm, 'here');
  });

/** The panic message of the full check at 'here' for a rule's detail. */
const says = (detail: string): string => `VM sanity ${detail} [at here]`;

function region(u: UnitVm, slot: number, i: number): Region {
  const r = u.proc(slot).regions[i];
  if (r === undefined) throw new Error(`slot ${slot} has no region ${i}`);
  return r;
}

function ref(r: Region, off = 0): PhysRegion {
  const x = refAt(r, off);
  if (x === null) throw new Error(`no reference at ${off}`);
  return x;
}

/** A new reference to `like`'s block and region, at offset 0, that no region's tree holds. */
function strayRef(u: UnitVm, like: PhysRegion): PhysRegion {
  const x = u.vm.slab.alloc<PhysRegion>('physRegion', {
    _slab: null,
    block: like.block,
    region: like.region,
    offset: 0,
    mode: 'private',
    smapWritable: false,
    nextRef: null,
  });
  if (x === null) throw new Error('no slab object');
  return x;
}

const edit = <T extends object>(u: UnitVm, obj: T, fn: (o: T) => void): void => {
  u.vm.slab.use(obj as never, () => {
    fn(obj);
  });
};

/** map_phys of [phys, phys+len) into the memory driver (slot 3); its address. */
async function mapPhys(u: UnitVm, phys: number, len: number): Promise<number> {
  const memory = u.proc(3);
  const m: Message = { type: 0, source: endpoint(memory.endpoint), endpoint: SELF, phys, len };
  const r = await doMapPhys(u.vm, fakeVmProc, m, memory);
  if (typeof r === 'number' || r.result !== OK)
    throw new Error(`map_phys ${hex(phys)}: ${String(typeof r === 'number' ? r : r.result)}`);
  return r.vaddr as number;
}

/** Moves slot's image to EXECTMP as exec does before it builds the new one; VM is inside the request. */
function execUnderWay(u: UnitVm, slot: number): void {
  setAside(u.vm, u.proc(slot));
  u.vm.busy = true;
}

describe('VM sanity edges: valid states pass', () => {
  it('an exec under way: the old image in EXECTMP under the same endpoint, its tables counted, no directory', () => {
    const u = checked([1, 2]);
    execUnderWay(u, 1);
    expect(full(u)).toBe('passed');
    u.vm.busy = false;
    expect(full(u)).toBe(says('A3: EXECTMP in use between requests'));
  });

  it('a process without a heap, and a boot process without a page table', () => {
    const state = fullAndBareVm();
    const vm = state.internals;
    vm.dirty.clear();
    const p = vm.procs[1];
    if (p === undefined) throw new Error('no slot 1');
    p.heap = null;
    expect(
      outcome(() => {
        fullCheck(vm, 'here');
      }),
    ).toBe('passed');
  });

  it('device memory inside and outside RAM, a SHARED region, safemap-shared pages splitting a block', async () => {
    const u = checked([1, 3]);
    await mapPhys(u, 0xa0000, 2 * PAGE); // the memory hole, reserved at boot
    await mapPhys(u, 0xfee00000, PAGE); // above RAM
    const shared = mmapRegion(u.vm, u.proc(1), 0, 2 * PAGE, MAP_ANON | MAP_SHARED, -1);
    expect(shared).toBeGreaterThan(0);
    expect(smap(u.vm, u.proc(3), HEAP, u.proc(1), HEAP + PAGE, PAGE, true)).toBe(OK);
    u.vm.dirty.clear();
    expect(full(u)).toBe('passed');
    // The SHARED region one page longer than its blocks.
    edit(u, region(u, 1, 3), (r) => {
      r.length += PAGE;
    });
    expect(full(u)).toBe(says(`B8: SHARED region ${hex(shared)} not fully populated`));
  });

  it('a region may end at the top of user space, not a page further', () => {
    const u = checked([1]);
    const top = 0xfffff000;
    edit(u, region(u, 1, 2), (r) => {
      r.vaddr = top - 2 * PAGE;
    });
    expect(full(u)).toBe('passed');
    edit(u, region(u, 1, 2), (r) => {
      r.vaddr = top - PAGE;
    });
    expect(full(u)).toBe(says(`B7: region ${hex(top - PAGE)} of slot 1 outside user space`));
  });

  it('TLB entries matching their PTEs pass; a stale one passes while its flush is owed', () => {
    const u = checked([1, 2]);
    const pt = u.proc(1).pt;
    const frameOf = (v: number): number => ptReadPte(u.mem, pt, v) >>> 12;
    let entries = [
      { vpage: TEXT / PAGE, frame: frameOf(TEXT), writable: false },
      { vpage: HEAP / PAGE, frame: frameOf(HEAP), writable: true },
    ];
    u.vm.view = { tlbEntries: (slot) => (slot === 1 ? entries : null) };
    expect(full(u)).toBe('passed');
    entries = [{ vpage: TEXT / PAGE, frame: frameOf(TEXT) + 1, writable: false }];
    u.vm.dirty.add(u.proc(1));
    expect(full(u)).toBe('passed');
    u.vm.dirty.clear();
    expect(full(u)).toMatch(
      /^VM sanity F22: slot 1 TLB entry for 0x19000000 \(frame \d+\) does not match PTE 0x[0-9a-f]+ \[at here\]$/,
    );
    u.vm.view = {};
    expect(full(u)).toBe('passed');
  });

  it('the incremental check finds more references to a block than its refcount', () => {
    const u = checked([1]);
    expect(fork(u, 1, 4)).toBe(OK);
    trackChanges(u.vm);
    fullCheck(u.vm);
    const parentRef = ref(region(u, 1, 0));
    const b = parentRef.block;
    edit(u, parentRef, (x) => {
      x.nextRef = null;
    });
    edit(u, b, (x: PhysBlock) => {
      x.refcount = 1;
    });
    u.vm.touched?.add(u.proc(1)).add(u.proc(4));
    expect(
      outcome(() => {
        changesCheck(u.vm, 'here');
      }),
    ).toBe(says(`D11: block at ${hex(b.phys)} refcount 1, list 1, references found 2`));
  });

  it('the incremental check of the parent alone after a fork: its blocks have references it does not see', () => {
    const u = checked([1, 2]);
    expect(fork(u, 1, 4)).toBe(OK);
    trackChanges(u.vm);
    fullCheck(u.vm);
    u.vm.touched?.add(u.proc(1));
    expect(
      outcome(() => {
        changesCheck(u.vm, 'here');
      }),
    ).toBe('passed');
    u.vm.touched?.add(u.proc(4));
    expect(
      outcome(() => {
        changesCheck(u.vm, 'here');
      }),
    ).toBe('passed');
  });

  it('with sanity off the check reads the objects directly, and still finds a corruption', () => {
    const u = unitVm({ slots: [1, 2], sanity: 'off' });
    u.vm.dirty.clear();
    expect(full(u)).toBe('passed');
    ref(region(u, 1, 0)).block.length += PAGE;
    expect(full(u)).toBe(says('C10: reference at 0+20480 overlaps or leaves region 0x19000000'));
  });

  it('with sanity off G24 is not checked: a freed block or reference still reads as it was', () => {
    const u = unitVm({ slots: [1, 2], sanity: 'off' });
    u.vm.dirty.clear();
    u.vm.slab.free(ref(region(u, 1, 1)).block);
    u.vm.slab.free(ref(region(u, 1, 0)));
    expect(full(u)).toBe('passed');
  });
});

describe('VM sanity edges: checkpoints and change tracking', () => {
  it('sanityAt runs the check its level reaches: the full one, or the incremental one once tracking', () => {
    const u = checked([1]);
    u.vm.spares.pop(); // E16, which only the full check sweeps for
    expect(
      outcome(() => {
        sanityAt(u.vm, 'detail', 'there');
      }),
    ).toBe('passed');
    expect(
      outcome(() => {
        sanityAt(u.vm, 'functions', 'there');
      }),
    ).toMatch(/^VM sanity E16: .* \[at there\]$/);
    expect(
      outcome(() => {
        sanityAt(u.vm, 'top', 'there');
      }),
    ).toMatch(/^VM sanity E16: /);
    trackChanges(u.vm);
    u.vm.touched?.add(u.proc(1));
    expect(
      outcome(() => {
        sanityAt(u.vm, 'top', 'there');
      }),
    ).toBe('passed');
    expect(u.vm.touched?.size).toBe(0);
  });

  it('trackChanges keeps the set it has; the full check empties it', () => {
    const u = checked([1]);
    trackChanges(u.vm);
    const set = u.vm.touched;
    set?.add(u.proc(1));
    trackChanges(u.vm);
    expect(u.vm.touched).toBe(set);
    expect(set?.has(u.proc(1))).toBe(true);
    fullCheck(u.vm);
    expect(set?.size).toBe(0);
    // What changes after the full check without VM touching it waits for the next full check.
    edit(u, region(u, 1, 2), (r) => {
      r.length += 1;
    });
    expect(
      outcome(() => {
        changesCheck(u.vm, 'here');
      }),
    ).toBe('passed');
    expect(full(u)).toMatch(/^VM sanity B5: /);
  });

  it('the incremental check walks the processes touched, then forgets them; it checks the free list too', () => {
    const u = checked([1, 2]);
    trackChanges(u.vm);
    edit(u, region(u, 2, 2), (r) => {
      r.length += 1;
    });
    u.vm.touched?.add(u.proc(1));
    expect(
      outcome(() => {
        changesCheck(u.vm, 'here');
      }),
    ).toBe('passed');
    expect(u.vm.touched?.size).toBe(0);
    u.vm.touched?.add(u.proc(2));
    expect(
      outcome(() => {
        changesCheck(u.vm);
      }),
    ).toBe(`VM sanity B5: region ${hex(STACK)} of slot 2 length 8193 [at on demand]`);
    u.vm.touched?.clear(); // a check that panics leaves its set as it was
    edit(u, region(u, 2, 2), (r) => {
      r.length -= 1;
    });
    u.vm.alloc.freeCount += 1;
    expect(
      outcome(() => {
        changesCheck(u.vm);
      }),
    ).toBe('passed'); // nothing touched
    u.vm.touched?.add(u.proc(1));
    expect(
      outcome(() => {
        changesCheck(u.vm);
      }),
    ).toMatch(/^VM sanity E18: .*\[at on demand\]$/);
    expect(
      outcome(() => {
        fullCheck(u.vm);
      }),
    ).toMatch(/^VM sanity E18: .*\[at on demand\]$/);
  });
});

describe('VM sanity edges: what each rule names', () => {
  it('A1 at endpoint 0, A2, A4 with a heap of another process', () => {
    let u = checked([0, 1]);
    u.proc(1).endpoint = 0;
    expect(full(u)).toBe(says('A1: endpoint 0 in use twice'));
    u = checked([1, 2]);
    u.proc(1).flags &= ~VMF_HASPT;
    expect(full(u)).toBe(says('A2: slot 1 has regions but no page table'));
    u = checked([1, 2]);
    u.proc(1).heap = u.proc(2).heap;
    expect(full(u)).toBe(says('A4: heap of slot 1 is not a HEAP region of it'));
  });

  it('B5: an address or a length that is no page multiple, or no length; B6: regions that overlap', () => {
    let u = checked([1]);
    edit(u, region(u, 1, 2), (r) => {
      r.vaddr += 1;
    });
    expect(full(u)).toBe(says(`B5: region ${hex(STACK + 1)} of slot 1 length 8192`));
    u = checked([1]);
    edit(u, region(u, 1, 2), (r) => {
      r.length = 0;
    });
    expect(full(u)).toBe(says(`B5: region ${hex(STACK)} of slot 1 length 0`));
    u = checked([1]);
    edit(u, region(u, 1, 0), (r) => {
      r.length += 5 * PAGE;
    });
    expect(full(u)).toBe(says(`B6: region ${hex(HEAP)} of slot 1 overlaps or is out of order`));
  });

  it('B7 for a first region at address 0 (before any region, any address is in order); C9 for an offset off a page', () => {
    let u = checked([1]);
    edit(u, region(u, 1, 0), (r) => {
      r.vaddr = 0;
    });
    expect(full(u)).toBe(says('B7: region 0x0 of slot 1 outside user space'));
    u = checked([1]);
    const text = region(u, 1, 0);
    edit(u, text, (r) => {
      r.refs.rekey(0, 1);
    });
    edit(u, ref(text, 1), (x) => {
      x.offset = 1;
    });
    expect(full(u)).toBe(says(`C9: reference at 1 unaligned or block length ${4 * PAGE}`));
  });

  it('B8: ANON and DIRECT both, NOPF without DIRECT, SHARED device memory', async () => {
    let u = checked([1]);
    edit(u, region(u, 1, 0), (r) => {
      r.flags |= VR_DIRECT | VR_NOPF;
    });
    expect(full(u)).toBe(says(`B8: region ${hex(TEXT)} of slot 1 must be exactly one of ANON/DIRECT`));
    u = checked([1]);
    edit(u, region(u, 1, 0), (r) => {
      r.flags |= VR_NOPF;
    });
    expect(full(u)).toBe(says(`B8: region ${hex(TEXT)} of slot 1 NOPF without DIRECT or vice versa`));
    u = checked([1, 3]);
    const at = await mapPhys(u, 0xa0000, PAGE);
    const dev = u.proc(3).regions.find((r) => r.vaddr === at);
    if (dev === undefined) throw new Error('no device region');
    edit(u, dev, (r) => {
      r.flags |= VR_SHARED;
    });
    u.vm.dirty.clear();
    expect(full(u)).toBe(says(`B8: region ${hex(at)} of slot 3 SHARED but not ANON`));
  });

  it('C9: a reference naming another region, a block of no length or not a page multiple; C10: an overlap', () => {
    let u = checked([1]);
    edit(u, ref(region(u, 1, 0)), (x) => {
      x.region = region(u, 1, 1);
    });
    expect(full(u)).toBe(
      says(`C9: reference at offset 0 of region ${hex(TEXT)} names another region/offset`),
    );
    for (const [len, shown] of [
      [0, 0],
      [4 * PAGE + 1, 4 * PAGE + 1],
    ]) {
      u = checked([1]);
      edit(u, ref(region(u, 1, 0)).block, (b: PhysBlock) => {
        b.length = len ?? 0;
      });
      expect(full(u)).toBe(says(`C9: reference at 0 unaligned or block length ${String(shown)}`));
    }
    u = checked([1, 2]);
    expect(smap(u.vm, u.proc(2), HEAP, u.proc(1), HEAP + PAGE, PAGE, false)).toBe(OK);
    edit(u, ref(region(u, 1, 1)).block, (b: PhysBlock) => {
      b.length += PAGE;
    });
    u.vm.dirty.clear();
    expect(full(u)).toBe(says(`C10: reference at ${PAGE}+${PAGE} overlaps or leaves region ${hex(HEAP)}`));
  });

  it('G24: a dead reference, a reference to a dead block', () => {
    let u = checked([1]);
    u.vm.slab.free(ref(region(u, 1, 0)));
    expect(full(u)).toBe(says(`G24: dead reference in region ${hex(TEXT)}`));
    u = checked([1]);
    u.vm.slab.free(ref(region(u, 1, 0)).block);
    expect(full(u)).toBe(says(`G24: reference to a dead block in region ${hex(TEXT)}`));
  });

  it('D11: a list longer than the refcount, a dead reference in the list, a list of another block, a wrong refcount', () => {
    let u = checked([1, 2]);
    expect(fork(u, 1, 4)).toBe(OK);
    let b = ref(region(u, 1, 0)).block;
    edit(u, b, (x: PhysBlock) => {
      x.refcount = 1;
    });
    expect(full(u)).toBe(says(`D11: block at ${hex(b.phys)} lists more references than its refcount 1`));

    u = checked([1]);
    const own = ref(region(u, 1, 0));
    b = own.block;
    const dead = strayRef(u, own);
    u.vm.slab.free(dead);
    edit(u, own, (x) => {
      x.nextRef = dead;
    });
    edit(u, b, (x: PhysBlock) => {
      x.refcount = 2;
    });
    expect(full(u)).toBe(says(`D11: block at ${hex(b.phys)} lists a dead reference`));

    // After a fork, the parent's reference then one no region holds: the child's, found, is not listed.
    u = checked([1]);
    expect(fork(u, 1, 4)).toBe(OK);
    const parentRef = ref(region(u, 1, 0));
    b = parentRef.block;
    const stray = strayRef(u, parentRef);
    edit(u, parentRef, (x) => {
      x.nextRef = stray;
    });
    expect(full(u)).toBe(says(`D11: block at ${hex(b.phys)} does not list 1 of the references found to it`));

    u = checked([1]);
    b = ref(region(u, 1, 0)).block;
    const heapRef = ref(region(u, 1, 1));
    edit(u, b, (x: PhysBlock) => {
      x.firstRef = heapRef;
    });
    expect(full(u)).toBe(says(`D11: block at ${hex(b.phys)} does not list 1 of the references found to it`));

    u = checked([1]);
    b = ref(region(u, 1, 0)).block;
    edit(u, b, (x: PhysBlock) => {
      x.refcount = 2;
    });
    expect(full(u)).toBe(says(`D11: block at ${hex(b.phys)} refcount 2, list 1, references found 1`));

    // A live reference in the block's list that no region holds: the full check finds one of the two listed.
    u = checked([1]);
    const first = ref(region(u, 1, 0));
    b = first.block;
    const orphan = strayRef(u, first);
    edit(u, first, (x) => {
      x.nextRef = orphan;
    });
    edit(u, b, (x: PhysBlock) => {
      x.refcount = 2;
    });
    expect(full(u)).toBe(says(`D11: block at ${hex(b.phys)} refcount 2, list 2, references found 1`));
  });

  it('D12: COW- and SMAP-shared at once, an smap reference beside a private one, one smap reference', () => {
    let u = checked([1]);
    expect(fork(u, 1, 4)).toBe(OK);
    expect(fork(u, 1, 5)).toBe(OK);
    let b = ref(region(u, 1, 0)).block;
    edit(u, ref(region(u, 5, 0)), (x) => {
      x.mode = 'smap';
    });
    expect(full(u)).toBe(says(`D12: block at ${hex(b.phys)} both COW- and SMAP-shared`));
    u = checked([1]);
    expect(fork(u, 1, 4)).toBe(OK);
    b = ref(region(u, 1, 0)).block;
    edit(u, ref(region(u, 4, 0)), (x) => {
      x.mode = 'smap';
    });
    expect(full(u)).toBe(
      says(`D12: block at ${hex(b.phys)} has an smap reference and a private one from an anonymous region`),
    );
    u = checked([1]);
    b = ref(region(u, 1, 0)).block;
    edit(u, ref(region(u, 1, 0)), (x) => {
      x.mode = 'smap';
    });
    expect(full(u)).toBe(says(`D12: block at ${hex(b.phys)} has one reference, in smap mode`));
  });

  it('D13: a block at page 0 or past RAM; one at page 1 or ending at the end of RAM is inside (its PTEs then disagree: F20)', () => {
    for (const [phys, rule] of [
      [0, 'D13'],
      [4096 * PAGE, 'D13'],
      [PAGE, 'F20'],
      [(4096 - 4) * PAGE, 'F20'],
    ] as const) {
      const u = checked([1]);
      edit(u, ref(region(u, 1, 0)).block, (b: PhysBlock) => {
        b.phys = phys;
      });
      const got = full(u);
      expect(got.startsWith(`VM sanity ${rule}: `), got).toBe(true);
      if (rule === 'D13')
        expect(got).toBe(says(`D13: block at ${hex(phys)}+${4 * PAGE} outside RAM pages [1, 4096)`));
    }
  });

  it('F19: the slot directory, the pointer page at slot 0, PDEs 0 and 1, a kernel PDE, a user PDE', () => {
    let u = checked([0, 1]);
    const dir = u.proc(1).pt.dir;
    u.vm.slotDirs[1] = u.vm.pagedirs;
    expect(full(u)).toBe(says(`F19: slot 1 directory ${dir} is not its slot's directory`));
    u = checked([0, 1]);
    u.proc(1).pt.dir = 0;
    u.vm.slotDirs[1] = 0;
    expect(full(u)).toBe(says("F19: slot 1 directory 0 is not its slot's directory"));
    u = checked([0, 1]);
    u.mem.pteWrite(u.vm.pagedirs, 0, 0);
    expect(full(u)).toBe(says('F19: page_directories[0] = 0x0'));
    const cases: [number, string][] = [
      [0, 'PDE 0 wrong'],
      [1, 'PDE 1 wrong'],
      [5, 'PDE 5 not zero'],
      [USER_PDE_FIRST + 1, `PDE ${USER_PDE_FIRST + 1} = 0x5007, want 0x0`],
    ];
    for (const [i, what] of cases) {
      u = checked([1]);
      u.mem.pteWrite(u.proc(1).pt.dir, i, 0x5007);
      expect(full(u)).toBe(says(`F19: slot 1 ${what}`));
    }
  });

  it('F20: a writable PTE on a copy-on-write page; F21: a present PTE outside every block; F22: W or P the PTE lacks', () => {
    let u = checked([1]);
    expect(fork(u, 1, 4)).toBe(OK);
    u.vm.dirty.clear();
    const pt = u.proc(1).pt;
    const frame = ptReadPte(u.mem, pt, TEXT) >>> 12;
    ptWriteRun(u.mem, pt, TEXT, frame, 1, PTE.P | PTE.U | PTE.W);
    const want = frame * PAGE + (PTE.P | PTE.U);
    expect(full(u)).toBe(
      says(`F20: slot 1 PTE of ${hex(TEXT)} is ${hex(want | PTE.W)}, want ${hex(want)} without W`),
    );
    // A wrong frame on the second page of a writable block: the page is named, no "without W".
    u = checked([1]);
    const second = ptReadPte(u.mem, u.proc(1).pt, TEXT + PAGE);
    ptWriteRun(u.mem, u.proc(1).pt, TEXT + PAGE, (second >>> 12) + 100, 1, PTE.P | PTE.U | PTE.W);
    expect(full(u)).toBe(
      says(
        `F20: slot 1 PTE of ${hex(TEXT + PAGE)} is ${hex(second + 100 * PAGE)}, want ${hex(second & ~PTE.W)}`,
      ),
    );
    u = checked([1]);
    const free = u.vm.alloc.ranges()[0]?.addr ?? 0;
    ptWriteRun(u.mem, u.proc(1).pt, TEXT + 512 * PAGE, free, 1, PTE.P | PTE.U);
    expect(full(u)).toBe(says('F21: slot 1 has 9 present PTEs for 8 referenced pages'));
    u = checked([1]);
    expect(fork(u, 1, 4)).toBe(OK);
    u.vm.dirty.clear();
    const textFrame = ptReadPte(u.mem, u.proc(1).pt, TEXT) >>> 12;
    let entry = { vpage: TEXT / PAGE, frame: textFrame, writable: true };
    u.vm.view = { tlbEntries: (slot) => (slot === 1 ? [entry] : []) };
    expect(full(u)).toBe(
      says(
        `F22: slot 1 TLB entry for ${hex(TEXT)} (frame ${textFrame}, W) does not match PTE ${hex(textFrame * PAGE + (PTE.P | PTE.U))}`,
      ),
    );
    entry = { vpage: STACK / PAGE, frame: 0, writable: false };
    expect(full(u)).toBe(says(`F22: slot 1 TLB entry for ${hex(STACK)} (frame 0) does not match PTE 0x0`));
  });

  it('E14: a page outside RAM either side, or counted twice; E15, E16 with their numbers', () => {
    for (const [page, what] of [
      [4096, '4096+1'],
      [-1, '-1+1'],
    ] as const) {
      const u = checked([1]);
      u.vm.spares.push(page);
      expect(full(u)).toBe(says(`E14: spare page pages ${what} outside RAM`));
    }
    let u = checked([1]);
    u.vm.spares.push(u.vm.pagedirs);
    expect(full(u)).toBe(says(`E14: page ${u.vm.pagedirs} counted twice (spare page)`));
    u = checked([1]);
    const b = ref(region(u, 1, 0)).block;
    u.vm.alloc.freePages(b.phys / PAGE + 1, 1);
    expect(full(u)).toBe(says(`E15: page ${b.phys / PAGE + 1} used and free`));
    u = checked([1]);
    const free = u.vm.alloc.freeCount;
    const used = 4096 - free;
    u.vm.spares.pop();
    expect(full(u)).toBe(says(`E16: free ${free} + used ${used - 1} ≠ RAM 4096 pages`));
  });
});

describe('VM sanity edges: the memory count and the TLB and directory checks, further cases', () => {
  it('E14 names what counted a page twice: a slab page, the pointer page, a directory, a page table, a block (first or later page), reserved memory', () => {
    const cases: [string, (u: UnitVm) => number][] = [
      ['slab page', (u) => u.vm.slab.frames()[0] ?? -1],
      ['pointer page', (u) => u.vm.pagedirs],
      ['directory', (u) => u.vm.slotDirs[1] ?? -1],
      ['page table of slot 1', (u) => u.proc(1).pt.tables[USER_PDE_FIRST] ?? -1],
      ['a block', (u) => ref(region(u, 1, 0)).block.phys / PAGE],
      ['a block', (u) => ref(region(u, 1, 0)).block.phys / PAGE + 2],
      ['reserved boot memory', () => 0],
    ];
    for (const [what, pageOf] of cases) {
      const u = checked([1]);
      const page = pageOf(u);
      expect(page).toBeGreaterThanOrEqual(0);
      // Counted first as a page of the slab (its marks come first), then by what else holds it.
      u.vm.slab.adoptNodePage(page);
      expect(full(u), what).toBe(says(`E14: page ${page} counted twice (${what})`));
    }
  });

  it('E15 names the first used page of a free range, not its start', () => {
    const u = checked([1]);
    const range = u.vm.alloc.ranges().find((r) => r.size >= 2);
    if (range === undefined) throw new Error('no free range of two pages');
    u.vm.spares.push(range.addr + 1);
    expect(full(u)).toBe(says(`E15: page ${range.addr + 1} used and free`));
  });

  it('the TLB check asks for the slots of processes whose flush is not owed, never for EXECTMP', () => {
    const u = checked([1, 2, 3]);
    execUnderWay(u, 1);
    u.vm.dirty.add(u.proc(3));
    const asked: number[] = [];
    u.vm.view = {
      tlbEntries: (slot) => {
        asked.push(slot);
        return [];
      },
    };
    expect(full(u)).toBe('passed');
    expect(asked).toEqual([1, 2]);
  });

  it('F19: a child being forked (no endpoint yet) has no pointer-page entry to check', () => {
    const u = checked([2]);
    const parent = u.proc(2);
    // Only SHARED memory in the parent: nothing to write-protect, so the state is whole before the commit.
    for (const r of [...parent.regions]) expect(munmapRange(u.vm, parent, r.vaddr, r.length)).toBe(OK);
    expect(mmapRegion(u.vm, parent, 0, 2 * PAGE, MAP_ANON | MAP_SHARED, -1)).toBeGreaterThan(0);
    const child = u.proc(1);
    expect(forkAddressSpace(u.vm, parent, child)).toBe(OK);
    expect(child.endpoint).toBe(-1);
    expect(u.mem.pteRead(u.vm.pagedirs, 1)).toBe(0);
    u.vm.dirty.clear();
    expect(full(u)).toBe('passed');
  });
});
