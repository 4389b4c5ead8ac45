// Edge cases of VM's exec (src/servers/vm/exec.ts), brk (break.ts) and exit (exit.ts) on a booted unit VM: the
// image checks field by field and at their limits, an image without text or data, what exec resets, its reply and
// trace; brk's limits; the slot and memory an exit leaves.
import { describe, expect, it } from 'vitest';
import { EINVAL, ENOEXEC, ENOMEM, ENXIO, OK } from '../../../../src/include/errno.ts';
import { makeEndpoint } from '../../../../src/include/endpoint.ts';
import {
  EXC_NM_RF_LOAD_TEXT,
  MAP_ANON,
  MAP_FIXED,
  MINSTACKREGION,
  USER_PDE_FIRST,
  VM_DATATOP,
  VM_PROCSTART,
  VM_STACKTOP,
  VRT_HEAP,
  VRT_NONE,
} from '../../../../src/include/vm.ts';
import type { ExecImage } from '../../../../src/include/vm.ts';
import { brkCore, doBrk } from '../../../../src/servers/vm/break.ts';
import { doExecNewmem, execNewmem, execSizes } from '../../../../src/servers/vm/exec.ts';
import { clearSlot, doExit, doWillExit, freeAddressSpace } from '../../../../src/servers/vm/exit.ts';
import { VMF_EXITING, VMF_HASPT, VMF_INUSE } from '../../../../src/servers/vm/glo.ts';
import { mmapRegion } from '../../../../src/servers/vm/mmap.ts';
import { pageFault } from '../../../../src/servers/vm/region.ts';
import type { UnitVm } from './helpers.ts';
import { msg, res, traced } from './calls.ts';
import { PAGE, unitVm } from './helpers.ts';

const HEAP = VM_PROCSTART + 4 * PAGE;
const image = (o: Partial<ExecImage> = {}): ExecImage => ({
  name: 'img',
  text: 2 * PAGE,
  data: PAGE,
  bss: PAGE,
  tot: 0,
  args: 100,
  ...o,
});
const layout = (u: UnitVm, ep: number): number[][] =>
  u.state.regions(ep).map((r) => [r.vaddr, r.length / PAGE, r.tag, r.refs.length]);

describe('exec edges', () => {
  it('execSizes: every field must be a non-negative integer; tot is raised to MINSTACKREGION; the limits', () => {
    for (const f of ['text', 'data', 'bss', 'tot', 'args'] as const) {
      for (const bad of [-1, 0.5, '1', undefined])
        expect(execSizes({ ...image(), [f]: bad as number })).toBe(EINVAL);
      expect(typeof execSizes({ ...image(), [f]: 0 })).toBe('object');
    }
    const totc = MINSTACKREGION / PAGE;
    expect(execSizes(image({ text: PAGE + 1, data: 0, bss: 0, args: 0 }))).toEqual({
      tc: 2,
      dc: 1,
      totc,
      sc: 0,
    });
    expect(execSizes(image({ tot: MINSTACKREGION + 1, data: PAGE, bss: 1, args: PAGE + 1 }))).toEqual({
      tc: 2,
      dc: 2,
      totc: totc + 1,
      sc: 2,
    });
    // data+bss one page short of tot: fits only without args.
    const full = { data: MINSTACKREGION - PAGE, bss: 0, tot: MINSTACKREGION };
    expect(execSizes(image({ ...full, args: 0 }))).toEqual({ tc: 2, dc: totc - 1, totc, sc: 0 });
    expect(execSizes(image({ ...full, args: PAGE }))).toEqual({ tc: 2, dc: totc - 1, totc, sc: 1 });
    expect(execSizes(image({ ...full, args: PAGE + 1 }))).toBe(ENOMEM);
    expect(execSizes(image({ ...full, bss: PAGE }))).toBe(ENOEXEC);
  });

  it('an image without text has its heap at VM_PROCSTART; empty data still gives one heap page', () => {
    const u = unitVm();
    const p = u.proc(1);
    const r = execNewmem(u.vm, p, image({ text: 0, data: 0, bss: 0 }));
    expect(r).toEqual({ textStart: VM_PROCSTART, heapStart: VM_PROCSTART, stackTop: VM_STACKTOP });
    const stack = MINSTACKREGION / PAGE - 1;
    expect(layout(u, p.endpoint)).toEqual([
      [VM_PROCSTART, 1, VRT_HEAP, 1],
      [VM_STACKTOP - stack * PAGE, stack, VRT_NONE, 0],
    ]);
    expect(p.heap?.vaddr).toBe(VM_PROCSTART);
    u.vm.dirty.clear();
    u.state.sanityCheck();
  });

  it('exec resets the stack top and the name (a name that is not a string is kept), marks the TLB, frees EXECTMP', () => {
    const u = unitVm();
    const p = u.proc(1);
    p.stacktop = VM_STACKTOP + 32 * PAGE;
    expect(typeof execNewmem(u.vm, p, { ...image(), name: 7 } as unknown as ExecImage)).toBe('object');
    expect([p.stacktop, p.name]).toEqual([VM_STACKTOP, 'p1']);
    expect(u.vm.dirty.has(p)).toBe(true);
    expect([
      u.vm.exectmp.flags,
      u.vm.exectmp.endpoint,
      u.vm.exectmp.regions.length,
      u.vm.exectmp.heap,
    ]).toEqual([0, 0, 0, null]);
    expect(u.vm.exectmp.pt.tables.every((t) => t === 0)).toBe(true);
    expect(typeof execNewmem(u.vm, p, image({ name: 'sh' }))).toBe('object');
    expect(p.name).toBe('sh');
    // An exec while EXECTMP is in use is a VM bug.
    u.vm.exectmp.flags = VMF_INUSE;
    expect(() => execNewmem(u.vm, p, image())).toThrow(/EXECTMP already in use/);
  });

  it('a failed exec puts back the old page tables and directory entries; the failure marks the TLB too', () => {
    const u = unitVm();
    const p = u.proc(1);
    const a = mmapRegion(u.vm, p, 0x40000000, PAGE, MAP_ANON | MAP_FIXED, -1);
    expect(pageFault(u.vm, p, a, true)).toBe(OK);
    const pdes = Array.from({ length: 1024 - USER_PDE_FIRST }, (_, i) =>
      u.mem.pteRead(p.pt.dir, USER_PDE_FIRST + i),
    );
    const ptes = [HEAP, a].map((v) => u.state.pte(p.endpoint, v));
    u.vm.dirty.clear();
    u.state.failAfter(3);
    expect(execNewmem(u.vm, p, image())).toBe(ENOMEM);
    u.state.failAfter(null);
    expect(u.vm.dirty.has(p)).toBe(true);
    expect(
      Array.from({ length: 1024 - USER_PDE_FIRST }, (_, i) => u.mem.pteRead(p.pt.dir, USER_PDE_FIRST + i)),
    ).toEqual(pdes);
    expect([HEAP, a].map((v) => u.state.pte(p.endpoint, v))).toEqual(ptes);
    expect(u.vm.exectmp.flags).toBe(0);
    u.vm.dirty.clear();
    u.state.sanityCheck();
  });

  it('every allocation failing in turn → ENOMEM and the old image back, then OK; checked mid-exec at the detail level', () => {
    const u = unitVm({ sanity: 'detail' });
    const p = u.proc(1);
    const before = layout(u, p.endpoint);
    const frame = u.state.physAddr(p.endpoint, HEAP);
    let k = 1;
    for (; ; k++) {
      u.state.failAfter(k);
      u.vm.busy = true; // as inside a VM call: EXECTMP may be in use
      const r = execNewmem(u.vm, p, image({ tot: MINSTACKREGION + 8 * PAGE }));
      u.vm.busy = false;
      u.state.failAfter(null);
      u.vm.dirty.clear();
      u.state.sanityCheck();
      if (typeof r === 'object') break;
      expect(r).toBe(ENOMEM);
      expect([layout(u, p.endpoint), u.state.physAddr(p.endpoint, HEAP), p.heap?.vaddr]).toEqual([
        before,
        frame,
        HEAP,
      ]);
    }
    expect(k).toBeGreaterThan(4);
    const stack = MINSTACKREGION / PAGE + 8 - 2;
    expect(layout(u, p.endpoint)).toEqual([
      [VM_PROCSTART, 2, VRT_NONE, 1],
      [VM_PROCSTART + 2 * PAGE, 2, VRT_HEAP, 1],
      [VM_STACKTOP - stack * PAGE, stack, VRT_NONE, 0],
    ]);
  });

  it('a successful exec leaves no directory entry of the old image; the detail check runs once text and heap are built', () => {
    const u = unitVm();
    const p = u.proc(1);
    const a = mmapRegion(u.vm, p, 0x40000000, PAGE, MAP_ANON | MAP_FIXED, -1);
    expect(pageFault(u.vm, p, a, true)).toBe(OK);
    expect(u.mem.pteRead(p.pt.dir, 0x40000000 / (1024 * PAGE))).not.toBe(0);
    expect(typeof execNewmem(u.vm, p, image())).toBe('object');
    const used = Array.from({ length: 1024 }, (_, i) => i).filter(
      (i) => i >= USER_PDE_FIRST && p.pt.tables[i] !== 0,
    );
    const live = Array.from({ length: 1024 }, (_, i) => i).filter(
      (i) => i >= USER_PDE_FIRST && u.mem.pteRead(p.pt.dir, i) !== 0,
    );
    expect(live).toEqual(used);
    expect(u.mem.pteRead(p.pt.dir, 0x40000000 / (1024 * PAGE))).toBe(0);
    u.vm.dirty.clear();
    u.state.sanityCheck();
    // Outside a VM call EXECTMP must be free: the detail check, right after the heap, says so and where.
    const w = unitVm({ sanity: 'detail' });
    expect(() => execNewmem(w.vm, w.proc(1), image())).toThrow(
      /EXECTMP in use.*\[at exec: text and heap built\]/,
    );
  });

  it('doExecNewmem: no page table → ENXIO, no image → EINVAL; the reply and the trace event', () => {
    const u = unitVm();
    const p = u.proc(1);
    const events = traced(u, 'exec');
    const bare = u.proc(9);
    bare.flags = VMF_INUSE;
    bare.endpoint = makeEndpoint(0, 9);
    expect(res(doExecNewmem(u.vm, msg({ endpoint: bare.endpoint, image: image() })))).toBe(ENXIO);
    expect(res(doExecNewmem(u.vm, msg({ endpoint: p.endpoint, image: null })))).toBe(EINVAL);
    expect(res(doExecNewmem(u.vm, msg({ endpoint: p.endpoint, image: 'a.out' })))).toBe(EINVAL);
    expect(res(doExecNewmem(u.vm, msg({ endpoint: p.endpoint })))).toBe(EINVAL);
    expect(doExecNewmem(u.vm, msg({ endpoint: p.endpoint, image: image({ text: 0.5 }) }))).toBe(EINVAL);
    expect(doExecNewmem(u.vm, msg({ endpoint: p.endpoint, image: image() }))).toEqual({
      result: OK,
      stackTop: VM_STACKTOP,
      flags: EXC_NM_RF_LOAD_TEXT,
      textStart: VM_PROCSTART,
      heapStart: VM_PROCSTART + 2 * PAGE,
    });
    expect(events.map((e) => (e.kind === 'vm' ? [e.ep, e.result] : []))).toEqual([
      [p.endpoint, EINVAL],
      [p.endpoint, OK],
    ]);
  });
});

describe('brk edges', () => {
  it('grows up to the next region exactly, or to VM_DATATOP when the heap is last; same end → OK', () => {
    const u = unitVm();
    const p = u.proc(1);
    mmapRegion(u.vm, p, HEAP + 10 * PAGE, PAGE, MAP_ANON | MAP_FIXED, -1);
    expect(brkCore(u.vm, p, HEAP + 10 * PAGE + 1)).toBe(ENOMEM);
    expect(brkCore(u.vm, p, HEAP + 10 * PAGE)).toBe(OK);
    expect(p.heap?.length).toBe(10 * PAGE);
    expect(brkCore(u.vm, p, HEAP + 9 * PAGE + 1)).toBe(OK);
    expect(p.heap?.length).toBe(10 * PAGE);
    expect(brkCore(u.vm, p, HEAP + PAGE)).toBe(OK);
    expect(p.heap?.length).toBe(PAGE);
    expect(brkCore(u.vm, p, HEAP + 0.5)).toBe(ENOMEM);
    expect(brkCore(u.vm, p, HEAP)).toBe(ENOMEM);
    // Exec'd with no regions above the heap but the stack: grows to the stack's start.
    const q = u.proc(2);
    execNewmem(u.vm, q, image({ text: 0 }));
    const stackStart = u.state.regions(q.endpoint).at(-1)?.vaddr ?? 0;
    expect(brkCore(u.vm, q, stackStart)).toBe(OK);
    expect(brkCore(u.vm, q, stackStart + 1)).toBe(ENOMEM);
    u.vm.dirty.clear();
    u.state.sanityCheck();
  });

  it('the heap as the last region grows to VM_DATATOP; no heap → ENOMEM; its own end before a gap → OK, unchanged', () => {
    const u = unitVm();
    const p = u.proc(1);
    // The boot heap ends 4 pages up, with unmapped space after it: nothing to grow or cut.
    expect(brkCore(u.vm, p, HEAP + 4 * PAGE)).toBe(OK);
    expect(brkCore(u.vm, p, HEAP + 3 * PAGE + 1)).toBe(OK);
    expect(p.heap?.length).toBe(4 * PAGE);
    const a = mmapRegion(u.vm, p, VM_DATATOP - 4 * PAGE, PAGE, MAP_ANON | MAP_FIXED, -1);
    // Make the mmap'd region the heap: brk grows whatever region is the heap.
    p.heap = p.regions.find((r) => r.vaddr === a) ?? null;
    expect(brkCore(u.vm, p, VM_DATATOP + 1)).toBe(ENOMEM);
    expect(brkCore(u.vm, p, VM_DATATOP)).toBe(OK);
    p.heap = null;
    expect(brkCore(u.vm, p, HEAP + PAGE)).toBe(ENOMEM);
  });

  it('doBrk: an address that is not a number → ENOMEM; a dead endpoint → EINVAL; the trace event', () => {
    const u = unitVm();
    const p = u.proc(1);
    const events = traced(u, 'brk');
    expect(
      doBrk(u.vm, {
        type: 0,
        source: makeEndpoint(0, 1),
        endpoint: p.endpoint,
        addr: String(HEAP + 8 * PAGE),
      }),
    ).toBe(ENOMEM);
    expect(
      doBrk(u.vm, { type: 0, source: makeEndpoint(0, 1), endpoint: makeEndpoint(1, 1), addr: HEAP }),
    ).toBe(EINVAL);
    expect(
      doBrk(u.vm, { type: 0, source: makeEndpoint(0, 1), endpoint: p.endpoint, addr: HEAP + 8 * PAGE }),
    ).toBe(OK);
    expect(p.heap?.length).toBe(8 * PAGE);
    expect(events.map((e) => (e.kind === 'vm' ? [e.ep, e.vaddr, e.result] : []))).toEqual([
      [p.endpoint, 0, ENOMEM],
      [p.endpoint, HEAP + 8 * PAGE, OK],
    ]);
  });
});

describe('exit edges', () => {
  it('VM_EXIT frees the memory and tables, clears the slot and its pointer-page entry, traces; WILLEXIT of a dead endpoint → EINVAL', () => {
    const u = unitVm();
    const p = u.proc(1);
    const ep = p.endpoint;
    const events = traced(u, 'exit');
    p.physRanges = [{ base: 0xa0000, length: PAGE }];
    const free = u.state.freePages();
    const pages = layout(u, ep).reduce((n, r) => n + (r[3] === 0 ? 0 : (r[1] ?? 0)), 0);
    const tables = p.pt.tables.filter((t) => t !== 0).length;
    expect(doWillExit(u.vm, msg({ endpoint: makeEndpoint(1, 1) }))).toBe(EINVAL);
    expect(doExit(u.vm, msg({ endpoint: ep }))).toBe(EINVAL);
    expect(p.regions.length).toBe(3);
    expect(doWillExit(u.vm, msg({ endpoint: ep }))).toBe(OK);
    expect(p.flags & VMF_EXITING).toBe(VMF_EXITING);
    u.vm.dirty.add(p);
    expect(doExit(u.vm, msg({ endpoint: ep }))).toBe(OK);
    expect(u.state.freePages()).toBe(free + pages + tables);
    expect([p.flags, p.name, p.endpoint, p.regions.length, p.heap, p.pt.dir, p.physRanges.length]).toEqual([
      0,
      '',
      0,
      0,
      null,
      0,
      0,
    ]);
    expect([p.callMask.length, p.callMask.every((b) => b === 0)]).toEqual([u.proc(2).callMask.length, true]);
    expect(u.mem.pteRead(u.vm.pagedirs, 1)).toBe(0);
    expect(u.vm.dirty.has(p)).toBe(false);
    expect(events.map((e) => (e.kind === 'vm' ? e.ep : 0))).toEqual([ep]);
    expect(doExit(u.vm, msg({ endpoint: ep }))).toBe(EINVAL);
    u.state.sanityCheck();
  });

  it('freeAddressSpace of a process without page tables frees its regions only; clearSlot without a directory writes no entry', () => {
    const u = unitVm();
    const p = u.proc(1);
    u.mem.pteWrite(u.vm.pagedirs, 9, 0x5000 + 3);
    const q = u.proc(9);
    q.flags = VMF_INUSE;
    q.endpoint = makeEndpoint(0, 9);
    clearSlot(u.vm, q);
    expect(u.mem.pteRead(u.vm.pagedirs, 9)).toBe(0x5003);
    const tables = p.pt.tables.slice();
    p.flags &= ~VMF_HASPT;
    freeAddressSpace(u.vm, p);
    expect(p.pt.tables).toEqual(tables);
    expect(tables.filter((t) => t !== 0).every((t) => !u.vm.alloc.isFree(t))).toBe(true);
    expect(p.regions).toEqual([]);
  });
});
