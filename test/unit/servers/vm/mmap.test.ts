import { describe, expect, it } from 'vitest';
import { EFAULT, EINVAL, ENOEXEC, ENOMEM, ENOSYS, ENXIO, EPERM, ESRCH, OK } from '../../../../src/include/errno.ts';
import { endpoint, makeEndpoint, NONE, SELF } from '../../../../src/include/endpoint.ts';
import type { Message } from '../../../../src/include/ipc.ts';
import {
  MAP_ANON,
  MAP_FIXED,
  MAP_PREALLOC,
  MAP_SHARED,
  MINSTACKREGION,
  VM_PROCSTART,
  VM_STACKTOP,
  VRT_HEAP,
} from '../../../../src/include/vm.ts';
import type { ExecImage } from '../../../../src/include/vm.ts';
import { doBrk } from '../../../../src/servers/vm/break.ts';
import { doExecNewmem, execNewmem } from '../../../../src/servers/vm/exec.ts';
import { doExit, doWillExit } from '../../../../src/servers/vm/exit.ts';
import { doMapPhys, doMmap, doMunmap, doUnmapPhys, mmapRegion, munmapRange } from '../../../../src/servers/vm/mmap.ts';
import { pageFault } from '../../../../src/servers/vm/region.ts';
import { doGetphys, doGetref, doRemap, doShmUnmap } from '../../../../src/servers/vm/shm.ts';
import { forkAddressSpace, forkCommit } from '../../../../src/servers/vm/fork.ts';
import type { VmReply } from '../../../../src/servers/vm/glo.ts';
import { doNotifySig, doQueryExit } from '../../../../src/servers/vm/main.ts';
import { PAGE, fakeVmProc, peek, poke, unitVm } from './helpers.ts';

const HEAP = VM_PROCSTART + 4 * PAGE;
const msg = (fields: Record<string, unknown>): Message => ({ type: 0, source: makeEndpoint(0, 1), ...fields });
const res = (r: VmReply): number => (typeof r === 'number' ? r : r.result);
const field = (r: VmReply, f: string): unknown => (typeof r === 'number' ? undefined : r[f]);

describe('mmap (§8.2)', () => {
  it('§11.19 placement: ascending from VM_STACKTOP, hint, MAP_FIXED', () => {
    const u = unitVm();
    const p = u.proc(1);
    expect(mmapRegion(u.vm, p, 0, PAGE, MAP_ANON, -1)).toBe(VM_STACKTOP);
    expect(mmapRegion(u.vm, p, 0, 3 * PAGE, MAP_ANON, -1)).toBe(VM_STACKTOP + PAGE);
    expect(mmapRegion(u.vm, p, 0, PAGE, MAP_ANON, -1)).toBe(VM_STACKTOP + 4 * PAGE);
    expect(mmapRegion(u.vm, p, 0x20000123, PAGE, MAP_ANON, -1)).toBe(0x20000000);
    expect(mmapRegion(u.vm, p, 0x1000, PAGE, MAP_ANON, -1)).toBe(HEAP + 4 * PAGE);
    expect(mmapRegion(u.vm, p, 0x30000000, 2 * PAGE, MAP_ANON | MAP_FIXED, -1)).toBe(0x30000000);
    expect(mmapRegion(u.vm, p, 0x30001000, PAGE, MAP_ANON | MAP_FIXED, -1)).toBe(ENOMEM);
    expect(mmapRegion(u.vm, p, 0x30003001, PAGE, MAP_ANON | MAP_FIXED, -1)).toBe(EINVAL);
    u.state.sanityCheck();
  });

  it('§11.20 fd with MAP_ANON → EINVAL, without → ENOSYS; length 0 → EINVAL; no page table → ENXIO', () => {
    const u = unitVm();
    const p = u.proc(1);
    expect(res(doMmap(u.vm, msg({ len: PAGE, flags: MAP_ANON, fd: 3 }), p))).toBe(EINVAL);
    expect(res(doMmap(u.vm, msg({ len: PAGE, flags: 0, fd: 3 }), p))).toBe(ENOSYS);
    expect(res(doMmap(u.vm, msg({ len: 0, flags: MAP_ANON, fd: -1 }), p))).toBe(EINVAL);
    const vmSelf = u.proc(0);
    vmSelf.flags = 1;
    expect(res(doMmap(u.vm, msg({ len: PAGE, flags: MAP_ANON, fd: -1 }), vmSelf))).toBe(ENXIO);
  });

  it('§11.21 MAP_PREALLOC is one zeroed block, present at once; MAP_SHARED too, GETREF = 1', () => {
    const u = unitVm();
    const p = u.proc(1);
    const a = mmapRegion(u.vm, p, 0, 3 * PAGE, MAP_ANON | MAP_PREALLOC, -1);
    const regs = u.state.regions(p.endpoint).find((r) => r.vaddr === a);
    expect(regs?.refs).toHaveLength(1);
    expect(regs?.refs[0]?.length).toBe(3 * PAGE);
    expect(peek(u, p, a, 3 * PAGE).every((b) => b === 0)).toBe(true);
    const s = mmapRegion(u.vm, p, 0, 2 * PAGE, MAP_ANON | MAP_SHARED, -1);
    expect(field(doGetref(u.vm, msg({ endpoint: SELF, addr: s }), p), 'refcount')).toBe(1);
    expect(field(doGetphys(u.vm, msg({ endpoint: SELF, addr: s }), p), 'phys')).toBe(u.state.physAddr(p.endpoint, s));
  });

  it('§11.7 free ≥ n but no contiguous n → MAP_PREALLOC ENOMEM while n single-page faults succeed', () => {
    const u = unitVm();
    const p = u.proc(1);
    const a = u.vm.alloc;
    const taken: number[] = [];
    for (let f = a.allocPages(1, 0); f !== 0; f = a.allocPages(1, 0)) taken.push(f);
    for (let i = 0; i < 64; i += 2) a.freePages(taken[i] ?? 0, 1);
    const m = mmapRegion(u.vm, p, 0, 4 * PAGE, MAP_ANON, -1);
    expect(mmapRegion(u.vm, p, 0, 4 * PAGE, MAP_ANON | MAP_PREALLOC, -1)).toBe(ENOMEM);
    for (let i = 0; i < 4; i++) expect(pageFault(u.vm, p, m + i * PAGE, true)).toBe(OK);
  });
});

describe('munmap (§8.3)', () => {
  it('§11.22 head, tail and middle of a 5-page region keep the other pages; middle splits the region', () => {
    const u = unitVm();
    const p = u.proc(1);
    const a = mmapRegion(u.vm, p, 0, 5 * PAGE, MAP_ANON | MAP_PREALLOC, -1);
    for (let i = 0; i < 5; i++) poke(u, p, a + i * PAGE, new Uint8Array([i + 1]));
    expect(munmapRange(u.vm, p, a + 2 * PAGE, PAGE)).toBe(OK);
    expect(u.state.regions(p.endpoint).filter((r) => r.vaddr >= a).map((r) => [r.vaddr - a, r.length / PAGE])).toEqual([
      [0, 2],
      [3 * PAGE, 2],
    ]);
    expect(munmapRange(u.vm, p, a, PAGE)).toBe(OK);
    expect(munmapRange(u.vm, p, a + 4 * PAGE, PAGE)).toBe(OK);
    expect(peek(u, p, a + PAGE, 1)[0]).toBe(2);
    expect(peek(u, p, a + 3 * PAGE, 1)[0]).toBe(4);
    expect(pageFault(u.vm, p, a, false)).toBe(EFAULT);
    u.state.sanityCheck();
  });

  it('§11.22 a COW sharer of a split block is unaffected', () => {
    const u = unitVm();
    const p = u.proc(1);
    const a = mmapRegion(u.vm, p, 0, 3 * PAGE, MAP_ANON | MAP_PREALLOC, -1);
    poke(u, p, a, new Uint8Array(3 * PAGE).fill(5));
    expect(forkAddressSpace(u.vm, p, u.proc(4))).toBe(OK);
    forkCommit(u.vm, p, u.proc(4), makeEndpoint(1, 4));
    expect(munmapRange(u.vm, p, a + PAGE, PAGE)).toBe(OK);
    const c = u.proc(4);
    expect(u.state.regions(c.endpoint).find((r) => r.vaddr === a)?.refs.map((r) => r.length / PAGE)).toEqual([1, 1, 1]);
    expect(peek(u, c, a, 3 * PAGE).every((b) => b === 5)).toBe(true);
    u.vm.dirty.clear();
    u.state.sanityCheck();
  });

  it('§11.23 length 0, unaligned, outside regions, past the region end → EFAULT', () => {
    const u = unitVm();
    const p = u.proc(1);
    const a = mmapRegion(u.vm, p, 0, 2 * PAGE, MAP_ANON, -1);
    expect(res(doMunmap(u.vm, msg({ addr: a, len: 0 }), p))).toBe(EFAULT);
    expect(res(doMunmap(u.vm, msg({ addr: a + 1, len: PAGE }), p))).toBe(EFAULT);
    expect(res(doMunmap(u.vm, msg({ addr: 0x40000000, len: PAGE }), p))).toBe(EFAULT);
    expect(res(doMunmap(u.vm, msg({ addr: a, len: 3 * PAGE }), p))).toBe(EFAULT);
    expect(res(doMunmap(u.vm, msg({ addr: a, len: 1 }), p))).toBe(OK);
  });

  it('§11.24 / §11.40 map_phys permissions; munmap of a DIRECT region frees nothing; unmap_phys', async () => {
    const u = unitVm({ slots: [1, 3, 5] });
    const [user, memory, tty] = [u.proc(1), u.proc(3), u.proc(5)];
    const m = (f: Record<string, unknown>, src: number): Message => ({ type: 0, source: endpoint(src), ...f });
    const mine = await doMapPhys(u.vm, fakeVmProc, m({ endpoint: SELF, phys: 0xa0000, len: 2 * PAGE }, memory.endpoint), memory);
    expect(res(mine)).toBe(OK);
    const forOther = await doMapPhys(u.vm, fakeVmProc, m({ endpoint: user.endpoint, phys: 0xb8000, len: 10 }, tty.endpoint), tty);
    expect(res(forOther)).toBe(OK);
    expect(res(await doMapPhys(u.vm, fakeVmProc, m({ endpoint: tty.endpoint, phys: 0xa0000, len: PAGE }, memory.endpoint), memory))).toBe(EPERM);
    expect(res(await doMapPhys(u.vm, fakeVmProc, m({ endpoint: SELF, phys: 0xa0000, len: PAGE }, user.endpoint), user))).toBe(EPERM);
    expect(res(await doMapPhys(u.vm, fakeVmProc, m({ endpoint: SELF, phys: 0xa0001, len: PAGE }, memory.endpoint), memory))).toBe(EINVAL);
    const v = field(forOther, 'vaddr') as number;
    expect(u.state.pte(user.endpoint, v) >>> 12).toBe(0xb8);
    const free = u.state.freePages();
    expect(munmapRange(u.vm, user, v, PAGE)).toBe(OK);
    expect(u.state.freePages()).toBe(free);
    expect(res(await doUnmapPhys(u.vm, fakeVmProc, m({ endpoint: SELF, vaddr: HEAP }, memory.endpoint), memory))).toBe(EINVAL);
    expect(res(await doUnmapPhys(u.vm, fakeVmProc, m({ endpoint: SELF, vaddr: field(mine, 'vaddr') }, memory.endpoint), memory))).toBe(OK);
    u.vm.dirty.clear();
    u.state.sanityCheck();
  });
});

describe('brk (§8.4)', () => {
  it('§11.25 grow then touch; into the next region → ENOMEM; shrink frees; ≤ heap start → ENOMEM', () => {
    const u = unitVm();
    const p = u.proc(1);
    const b = (addr: number): number => res(doBrk(u.vm, msg({ endpoint: p.endpoint, addr })));
    expect(b(HEAP + 10 * PAGE + 5)).toBe(OK);
    expect(pageFault(u.vm, p, HEAP + 10 * PAGE, true)).toBe(OK);
    mmapRegion(u.vm, p, HEAP + 20 * PAGE, PAGE, MAP_ANON | MAP_FIXED, -1);
    expect(b(HEAP + 21 * PAGE)).toBe(ENOMEM);
    expect(u.state.regions(p.endpoint).find((r) => r.isHeap)?.length).toBe(11 * PAGE);
    const anon = u.state.snapshot().memory.anonPages;
    expect(b(HEAP + 2 * PAGE)).toBe(OK);
    expect(u.state.snapshot().memory.anonPages).toBe(anon - 3);
    expect(pageFault(u.vm, p, HEAP + 3 * PAGE, false)).toBe(EFAULT);
    expect(b(HEAP)).toBe(ENOMEM);
    expect(res(doBrk(u.vm, msg({ endpoint: makeEndpoint(5, 1), addr: HEAP + PAGE })))).toBe(EINVAL);
    u.state.sanityCheck();
  });
});

const image = (o: Partial<ExecImage> = {}): ExecImage => ({ name: 'img', text: 2 * PAGE, data: PAGE, bss: PAGE, tot: 0, args: 100, ...o });

describe('exec (§8.6)', () => {
  it('§11.27 lays out text, heap and stack; the old pages are freed', () => {
    const u = unitVm();
    const p = u.proc(1);
    mmapRegion(u.vm, p, 0, 8 * PAGE, MAP_ANON | MAP_PREALLOC, -1);
    const anon = u.state.snapshot().memory.anonPages;
    const r = doExecNewmem(u.vm, msg({ endpoint: p.endpoint, image: image() }));
    expect(r).toMatchObject({ result: OK, stackTop: VM_STACKTOP, textStart: VM_PROCSTART, heapStart: VM_PROCSTART + 2 * PAGE });
    const regs = u.state.regions(p.endpoint);
    expect(regs.map((x) => [x.vaddr, x.length, x.tag === VRT_HEAP])).toEqual([
      [VM_PROCSTART, 2 * PAGE, false],
      [VM_PROCSTART + 2 * PAGE, 2 * PAGE, true],
      [VM_STACKTOP - (MINSTACKREGION - 2 * PAGE), MINSTACKREGION - 2 * PAGE, false],
    ]);
    expect(u.state.snapshot().memory.anonPages).toBe(anon - 8 - 4 - 4 + 2 + 2);
    u.vm.dirty.clear();
    u.state.sanityCheck();
  });

  it('§11.29 data+bss ≥ tot → ENOEXEC; data + args > tot → ENOMEM; dead endpoint → ESRCH', () => {
    const u = unitVm();
    const p = u.proc(1);
    const big = MINSTACKREGION;
    expect(res(doExecNewmem(u.vm, msg({ endpoint: p.endpoint, image: image({ data: big, bss: 0, tot: big }) })))).toBe(ENOEXEC);
    expect(res(doExecNewmem(u.vm, msg({ endpoint: p.endpoint, image: image({ data: big - 2 * PAGE, bss: 0, tot: big, args: 3 * PAGE }) })))).toBe(ENOMEM);
    expect(res(doExecNewmem(u.vm, msg({ endpoint: makeEndpoint(2, 1), image: image() })))).toBe(ESRCH);
    expect(res(doExecNewmem(u.vm, msg({ endpoint: p.endpoint, image: image({ text: -1 }) })))).toBe(EINVAL);
    u.vm.dirty.clear();
    u.state.sanityCheck();
  });

  it('§11.28 exec with each allocation failing in turn → error, old image intact byte for byte, no leak', () => {
    const u = unitVm();
    const p = u.proc(1);
    poke(u, p, HEAP, new Uint8Array(4 * PAGE).fill(0x5a));
    pageFault(u.vm, p, VM_STACKTOP - PAGE, true);
    const oldBytes = peek(u, p, VM_PROCSTART, 8 * PAGE);
    // Warm up once in another slot so that counting is stable, then count.
    const before = u.state.allocCount;
    const probe = u.proc(2);
    expect(typeof execNewmem(u.vm, probe, image())).toBe('object');
    const total = u.state.allocCount - before;
    expect(total).toBeGreaterThan(4);
    for (let n = 1; n <= total; n++) {
      const snap = JSON.stringify(u.state.process(p.endpoint));
      const pages = u.state.conservedPages();
      u.state.failAfter(n);
      const r = execNewmem(u.vm, p, image());
      u.state.failAfter(null);
      expect(r).toBe(ENOMEM);
      expect(JSON.stringify(u.state.process(p.endpoint))).toBe(snap);
      expect(peek(u, p, VM_PROCSTART, 8 * PAGE)).toEqual(oldBytes);
      expect(u.state.conservedPages()).toBe(pages);
      u.vm.dirty.clear();
      u.state.sanityCheck();
    }
  });
});

describe('exit, remap family, notify', () => {
  it('§11.31 VM_EXIT without VM_WILLEXIT → EINVAL; with it the memory is freed and the directory kept', () => {
    const u = unitVm();
    const p = u.proc(1);
    const dir = u.state.slotDirectory(1);
    expect(res(doExit(u.vm, msg({ endpoint: p.endpoint })))).toBe(EINVAL);
    expect(res(doWillExit(u.vm, msg({ endpoint: p.endpoint })))).toBe(OK);
    expect(res(doExit(u.vm, msg({ endpoint: p.endpoint })))).toBe(OK);
    expect(u.state.process(1, true)).toBeNull();
    expect(u.state.slotDirectory(1)).toBe(dir);
    u.state.sanityCheck();
  });

  it('§11.38 / §11.39 REMAP errors, length, linking; 300 remaps → GETREF 301; SHM_UNMAP not at start → EFAULT', async () => {
    const u = unitVm({ slots: [1, 2] });
    const [owner, client] = [u.proc(1), u.proc(2)];
    const a = mmapRegion(u.vm, owner, 0, 2 * PAGE, MAP_ANON | MAP_SHARED, -1);
    const plain = mmapRegion(u.vm, owner, 0, PAGE, MAP_ANON, -1);
    const rq = (f: Record<string, unknown>) => doRemap(u.vm, fakeVmProc, msg({ dst: client.endpoint, src: owner.endpoint, dstAddr: 0, size: 1, ...f }), owner);
    expect(res(await rq({ srcAddr: plain }))).toBe(EINVAL);
    expect(res(await rq({ srcAddr: a, dstAddr: VM_STACKTOP - PAGE }))).toBe(EINVAL);
    expect(res(await rq({ srcAddr: a, dst: makeEndpoint(4, 2) }))).toBe(EINVAL);
    const r = await rq({ srcAddr: a });
    const ca = field(r, 'retAddr') as number;
    expect(u.state.regions(client.endpoint).find((x) => x.vaddr === ca)?.length).toBe(2 * PAGE);
    poke(u, owner, a, new Uint8Array([42]));
    expect(res(await doShmUnmap(u.vm, fakeVmProc, msg({ endpoint: owner.endpoint, addr: a + PAGE }), owner))).toBe(EFAULT);
    expect(res(await doShmUnmap(u.vm, fakeVmProc, msg({ endpoint: owner.endpoint, addr: a }), owner))).toBe(OK);
    expect(peek(u, client, ca, 1)[0]).toBe(42);
    u.vm.dirty.clear();
    u.state.sanityCheck();
    for (let i = 0; i < 300; i++) expect(res(await doRemap(u.vm, fakeVmProc, msg({ dst: owner.endpoint, src: client.endpoint, dstAddr: 0, srcAddr: ca, size: 0 }), owner))).toBe(OK);
    expect(field(doGetref(u.vm, msg({ endpoint: client.endpoint, addr: ca }), owner), 'refcount')).toBe(301);
    u.vm.dirty.clear();
    u.state.sanityCheck();
  });

  it('REMAP with no room → ENOMEM', async () => {
    const u = unitVm({ slots: [1, 2] });
    const [owner, client] = [u.proc(1), u.proc(2)];
    const a = mmapRegion(u.vm, owner, 0, 2 * PAGE, MAP_ANON | MAP_SHARED, -1);
    expect(mmapRegion(u.vm, client, VM_STACKTOP, 0xfffff000 - VM_STACKTOP, MAP_ANON | MAP_FIXED, -1)).toBe(VM_STACKTOP);
    const r = await doRemap(u.vm, fakeVmProc, msg({ dst: client.endpoint, src: owner.endpoint, dstAddr: 0, srcAddr: a, size: 0 }), owner);
    expect(res(r)).toBe(ENOMEM);
  });

  it('§11.42 NOTIFY_SIG notifies ipcEndpoint unless it is 0 or the entry itself; QUERY_EXIT drains in slot order to NONE', async () => {
    const u = unitVm();
    const told: number[] = [];
    const vmProc = {
      kernelCall: fakeVmProc.kernelCall.bind(fakeVmProc),
      notify: (ep: number) => {
        told.push(ep);
        return Promise.resolve(0);
      },
    } as unknown as typeof fakeVmProc;
    const sig = (ep: number, ipcEndpoint: number): Promise<VmReply> =>
      doNotifySig(u.vm, vmProc, { type: 0, source: endpoint(0), endpoint: ep, ipcEndpoint });
    expect(await sig(300, 0)).toBe(OK);
    expect(await sig(200, 200)).toBe(OK);
    expect(await sig(100, 77)).toBe(OK);
    expect(await sig(300, 78)).toBe(OK); // already present: not added twice, the notification still goes
    expect(told).toEqual([77, 78]);
    const drained: unknown[] = [];
    for (let i = 0; i < 4; i++) drained.push(doQueryExit(u.vm));
    expect(drained).toEqual([
      { result: OK, endpoint: 300, isMore: 1 },
      { result: OK, endpoint: 200, isMore: 1 },
      { result: OK, endpoint: 100, isMore: 0 },
      { result: OK, endpoint: NONE, isMore: 0 },
    ]);
  });
});
