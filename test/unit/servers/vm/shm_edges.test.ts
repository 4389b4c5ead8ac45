// Edge cases of VM's shared-memory calls (src/servers/vm/shm.ts) and of the kernel-call helpers they use
// (utility.ts): REMAP's source and placement checks, its failures with nothing left, SHM_UNMAP / GETPHYS / GETREF
// on what is not a SHARED region's start, VMINHIBIT around a change to another process and the TLB flushes owed.
import { describe, expect, it } from 'vitest';
import {
  SYS_VMCTL,
  VMCTL_FLUSHTLB,
  VMCTL_VMINHIBIT_CLEAR,
  VMCTL_VMINHIBIT_SET,
} from '../../../../src/include/com.ts';
import { EFAULT, EINVAL, ENOMEM, EPERM, OK } from '../../../../src/include/errno.ts';
import { SELF, SYSTEM, makeEndpoint } from '../../../../src/include/endpoint.ts';
import {
  MAP_ANON,
  MAP_FIXED,
  MAP_SHARED,
  VM_DATATOP,
  VM_PROCSTART,
  VM_STACKTOP,
} from '../../../../src/include/vm.ts';
import type { Message } from '../../../../src/include/ipc.ts';
import type { Proc } from '../../../../src/libsys/proc.ts';
import { VMF_INUSE } from '../../../../src/servers/vm/glo.ts';
import { doMunmap, mmapRegion } from '../../../../src/servers/vm/mmap.ts';
import { smap } from '../../../../src/servers/vm/memreq.ts';
import { doGetphys, doGetref, doRemap, doShmUnmap } from '../../../../src/servers/vm/shm.ts';
import { flushDirty, withInhibit } from '../../../../src/servers/vm/utility.ts';
import type { UnitVm } from './helpers.ts';
import { msg, res, field } from './calls.ts';
import { PAGE, fakeVmProc, peek, poke, unitVm } from './helpers.ts';

/** A stand-in for VM's process that records its kernel calls; VMINHIBIT_SET answers `held`. */
function recorder(held = OK) {
  const calls: Message[] = [];
  const p = {
    kernelCall: (m: Message) => {
      calls.push(m);
      return Promise.resolve({ type: m.request === VMCTL_VMINHIBIT_SET ? held : OK, source: SYSTEM });
    },
  } as unknown as Proc;
  const log = (): string[] =>
    calls.map((m) => `${m.type === SYS_VMCTL ? '' : 'not vmctl '}${String(m.request)} ${String(m.endpoint)}`);
  return { p, calls, log };
}

/** Slot 1 owns a 2-page SHARED region; slot 2 is the client. */
function shared(): { u: UnitVm; a: number } {
  const u = unitVm({ slots: [1, 2] });
  const a = mmapRegion(u.vm, u.proc(1), 0, 2 * PAGE, MAP_ANON | MAP_SHARED, -1);
  poke(u, u.proc(1), a, new Uint8Array([9]));
  return { u, a };
}

describe('REMAP edges', () => {
  it('the source must be a number inside a SHARED region of a live process', async () => {
    const { u, a } = shared();
    const [owner, client] = [u.proc(1), u.proc(2)];
    const rq = (f: Record<string, unknown>) =>
      doRemap(
        u.vm,
        fakeVmProc,
        msg({ dst: client.endpoint, src: owner.endpoint, dstAddr: 0, srcAddr: a, ...f }),
        owner,
      );
    expect(res(await rq({ srcAddr: String(a) }))).toBe(EINVAL);
    expect(res(await rq({ srcAddr: a - 2 * PAGE }))).toBe(EINVAL);
    expect(res(await rq({ src: makeEndpoint(3, 1) }))).toBe(EINVAL);
    const mid = await rq({ srcAddr: a + PAGE, src: SELF });
    expect(res(mid)).toBe(OK);
    const at = field(mid, 'retAddr') as number;
    expect(peek(u, client, at, 1)[0]).toBe(9);
    expect(
      u.state
        .regions(client.endpoint)
        .find((r) => r.vaddr === at)
        ?.refs.map((r) => [r.offset, r.refcount]),
    ).toEqual([[0, 2]]);
  });

  it('dstAddr: exactly there when free and aligned up to VM_DATATOP, else EINVAL; not an integer means anywhere', async () => {
    const { u, a } = shared();
    const [owner, client] = [u.proc(1), u.proc(2)];
    const rq = (dstAddr: unknown) =>
      doRemap(
        u.vm,
        fakeVmProc,
        msg({ dst: client.endpoint, src: owner.endpoint, dstAddr, srcAddr: a }),
        owner,
      );
    for (const bad of [-PAGE, VM_DATATOP, VM_PROCSTART - PAGE, 0x40000000 + 16])
      expect(res(await rq(bad))).toBe(EINVAL);
    expect(field(await rq(0x40000000), 'retAddr')).toBe(0x40000000);
    expect(res(await rq(0x40000000 + PAGE))).toBe(EINVAL);
    expect(field(await rq(VM_PROCSTART + 16 * PAGE), 'retAddr')).toBe(VM_PROCSTART + 16 * PAGE);
    expect(field(await rq(0.5), 'retAddr')).toBe(VM_STACKTOP);
    expect(field(await rq('x'), 'retAddr')).toBe(VM_STACKTOP + 2 * PAGE);
    expect(res(await rq(VM_DATATOP - PAGE))).toBe(ENOMEM);
    u.vm.dirty.clear();
    u.state.sanityCheck();
  });

  it('every allocation failing in turn → ENOMEM, no region left in the client', async () => {
    const { u, a } = shared();
    const [owner, client] = [u.proc(1), u.proc(2)];
    mmapRegion(u.vm, owner, a + 2 * PAGE, PAGE, MAP_ANON | MAP_FIXED, -1);
    const before = u.state.regions(client.endpoint).length;
    let k = 1;
    for (; ; k++) {
      u.state.failAfter(k);
      const r = await doRemap(
        u.vm,
        fakeVmProc,
        msg({ dst: client.endpoint, src: owner.endpoint, dstAddr: 0, srcAddr: a }),
        owner,
      );
      u.state.failAfter(null);
      if (res(r) === OK) break;
      expect(res(r)).toBe(ENOMEM);
      expect(u.state.regions(client.endpoint).length).toBe(before);
      u.vm.dirty.clear();
      u.state.sanityCheck();
    }
    expect(k).toBeGreaterThan(1);
  });
});

describe('REMAP at the bottom of user space', () => {
  it('dstAddr below VM_PROCSTART → EINVAL even where nothing is mapped; VM_PROCSTART itself is allowed', async () => {
    const { u, a } = shared();
    const [owner, client] = [u.proc(1), u.proc(2)];
    const rq = (dstAddr: number) =>
      doRemap(
        u.vm,
        fakeVmProc,
        msg({ dst: client.endpoint, src: owner.endpoint, dstAddr, srcAddr: a }),
        owner,
      );
    expect(res(await rq(16 * PAGE))).toBe(EINVAL);
    expect(res(doMunmap(u.vm, msg({ addr: VM_PROCSTART, len: 4 * PAGE }), client))).toBe(OK);
    expect(field(await rq(VM_PROCSTART), 'retAddr')).toBe(VM_PROCSTART);
    expect(peek(u, client, VM_PROCSTART, 1)[0]).toBe(9);
  });
});

describe('GETPHYS and GETREF of a SHARED region of several blocks', () => {
  it('both answer for the lowest block', () => {
    const { u, a } = shared();
    const owner = u.proc(1);
    // Sharing the second page splits the region's block in two; the second is now referenced twice.
    expect(smap(u.vm, u.proc(2), VM_PROCSTART + 4 * PAGE, owner, a + PAGE, PAGE, false)).toBe(OK);
    const q = msg({ endpoint: owner.endpoint, addr: a });
    expect(doGetphys(u.vm, q, owner)).toEqual({ result: OK, phys: u.state.physAddr(owner.endpoint, a) });
    expect(doGetref(u.vm, q, owner)).toEqual({ result: OK, refcount: 1 });
    expect(u.state.refAt(owner.endpoint, a + PAGE)?.refcount).toBe(2);
  });
});

describe('SHM_UNMAP, GETPHYS, GETREF edges', () => {
  it('each wants the exact start of a SHARED region of a live process', async () => {
    const { u, a } = shared();
    const owner = u.proc(1);
    const plain = mmapRegion(u.vm, owner, 0, PAGE, MAP_ANON, -1);
    const q = (f: Record<string, unknown>) => msg({ endpoint: owner.endpoint, addr: a, ...f });
    for (const f of [
      { endpoint: makeEndpoint(2, 1) },
      { addr: String(a) },
      { addr: a + PAGE },
      { addr: plain },
      { addr: 0x50000000 },
    ]) {
      expect([res(doGetphys(u.vm, q(f), owner)), res(doGetref(u.vm, q(f), owner))]).toEqual([EINVAL, EINVAL]);
    }
    expect(res(await doShmUnmap(u.vm, fakeVmProc, q({ endpoint: makeEndpoint(2, 1) }), owner))).toBe(EINVAL);
    for (const f of [{ addr: String(a) }, { addr: a + PAGE }, { addr: plain }, { addr: 0x50000000 }]) {
      expect(res(await doShmUnmap(u.vm, fakeVmProc, q(f), owner))).toBe(EFAULT);
    }
    expect(doGetphys(u.vm, q({}), owner)).toEqual({ result: OK, phys: u.state.physAddr(owner.endpoint, a) });
    expect(doGetref(u.vm, q({ endpoint: SELF }), owner)).toEqual({ result: OK, refcount: 1 });
    expect(res(await doShmUnmap(u.vm, fakeVmProc, q({ endpoint: SELF }), owner))).toBe(OK);
    expect(u.state.regions(owner.endpoint).some((r) => r.vaddr === a)).toBe(false);
  });
});

describe('VMINHIBIT and TLB flushes (utility.ts)', () => {
  it('a change to another process holds it, flushes, then releases it; to the caller, no kernel call', async () => {
    const { u, a } = shared();
    const [owner, client] = [u.proc(1), u.proc(2)];
    const k = recorder();
    u.vm.dirty.clear();
    const r = await doRemap(
      u.vm,
      k.p,
      msg({ dst: client.endpoint, src: owner.endpoint, dstAddr: 0, srcAddr: a }),
      owner,
    );
    expect(res(r)).toBe(OK);
    expect(k.log()).toEqual([
      `${VMCTL_VMINHIBIT_SET} ${client.endpoint}`,
      `${VMCTL_FLUSHTLB} ${client.endpoint}`,
      `${VMCTL_VMINHIBIT_CLEAR} ${client.endpoint}`,
    ]);
    expect(u.vm.dirty.size).toBe(0);
    k.calls.length = 0;
    expect(res(await doRemap(u.vm, k.p, msg({ dst: SELF, src: SELF, dstAddr: 0, srcAddr: a }), owner))).toBe(
      OK,
    );
    expect(k.calls).toEqual([]);
    expect(u.vm.dirty.has(owner)).toBe(true);
  });

  it('a hold the kernel refused is not released; the function runs either way', async () => {
    const u = unitVm({ slots: [1, 2] });
    const k = recorder(EPERM);
    u.vm.dirty.clear();
    let ran = 0;
    expect(await withInhibit(u.vm, k.p, u.proc(1), u.proc(2), () => ++ran)).toBe(1);
    expect(k.log()).toEqual([`${VMCTL_VMINHIBIT_SET} ${u.proc(2).endpoint}`]);
  });

  it('flushDirty flushes endpoint 0 (PM) like any other, and skips a slot no longer in use even with a directory', async () => {
    const u = unitVm({ slots: [0, 1] });
    const k = recorder();
    const [pm, p1, stale] = [u.proc(0), u.proc(1), u.proc(11)];
    stale.endpoint = makeEndpoint(0, 11);
    stale.pt = { ...p1.pt };
    u.vm.dirty.clear();
    for (const x of [stale, pm]) u.vm.dirty.add(x);
    await flushDirty(u.vm, k.p);
    expect(k.log()).toEqual([`${VMCTL_FLUSHTLB} ${pm.endpoint}`]);
    expect(pm.endpoint).toBe(0);
  });

  it('flushDirty flushes live processes with a directory only, once each, and forgets them all', async () => {
    const u = unitVm({ slots: [1, 2] });
    const k = recorder();
    const [p1, p2, free, noDir] = [u.proc(1), u.proc(2), u.proc(8), u.proc(9)];
    noDir.flags = VMF_INUSE;
    noDir.endpoint = makeEndpoint(0, 9);
    const gone = u.proc(10);
    gone.flags = VMF_INUSE;
    gone.endpoint = -1;
    gone.pt = { ...p1.pt };
    u.vm.dirty.clear();
    await flushDirty(u.vm, k.p);
    expect(k.calls).toEqual([]);
    for (const x of [p2, free, noDir, gone, p1, p2]) u.vm.dirty.add(x);
    await flushDirty(u.vm, k.p);
    expect(k.log()).toEqual([`${VMCTL_FLUSHTLB} ${p2.endpoint}`, `${VMCTL_FLUSHTLB} ${p1.endpoint}`]);
    expect(u.vm.dirty.size).toBe(0);
  });
});
