// sys_vmctl (src/kernel/system/do_vmctl.ts) as VM uses it: a page fault fetched and cleared, the page-directory
// pointer page and CR3 frames it takes, TLB flushes (counted and charged), VMINHIBIT, and the requests refused.
import { describe, expect, it } from 'vitest';
import { grantWorld } from '../../../helpers/grantworld.ts';
import type { World } from '../../../helpers/grantworld.ts';
import { ANY, HARDWARE, VM_PROC_NR } from '../../../../src/include/endpoint.ts';
import { EFAULT, EINVAL, ESRCH, OK } from '../../../../src/include/errno.ts';
import {
  SYS_VIRCOPY,
  SYS_VMCTL,
  VMCTL_CLEAR_PAGEFAULT,
  VMCTL_FLUSHTLB,
  VMCTL_GET_PAGEFAULT,
  VMCTL_I386_PAGEDIRS,
  VMCTL_I386_SETCR3,
  VMCTL_VMINHIBIT_CLEAR,
  VMCTL_VMINHIBIT_SET,
} from '../../../../src/include/com.ts';
import type { Message, Payload } from '../../../../src/include/ipc.ts';
import { K } from '../../../../src/hw/profile.ts';
import { makeSystemPriv } from '../../../../src/kernel/priv.ts';
import { RTS } from '../../../../src/kernel/proc.ts';
import { Proc, toProgram } from '../../../../src/libsys/proc.ts';
import type { Program } from '../../../../src/libsys/proc.ts';

const ALL = { ipcTo: 'all', kernelCalls: 'all', vmCalls: 'all' } as const;

/** A VM at its slot running `main` (it gets HARDWARE's page-fault notifications). */
function vm(w: World, main: Program): Proc {
  const kp = w.k.createProcess({
    slot: VM_PROC_NR,
    name: 'vm',
    program: toProgram(w.k, main),
    priv: makeSystemPriv(w.k.newPrivId(), ALL),
    priority: 2,
    generation: 0,
  });
  return new Proc(w.k, kp);
}

const vmctl = (p: Proc, m: Omit<Payload, 'type'>): Promise<Message> =>
  p.kernelCall({ type: SYS_VMCTL, ...m });

describe('sys_vmctl', () => {
  it('GET_PAGEFAULT names the faulting process and address; CLEAR_PAGEFAULT lets it go on; then ESRCH, EINVAL', async () => {
    const w = grantWorld({ ramBytes: 8 * 1024 * 1024 });
    const t = w.actor(21, 'T', { paged: true });
    const out: unknown[] = [];
    vm(w, async (p) => {
      const note = await p.receive(ANY);
      out.push(note.source === HARDWARE);
      const f = await vmctl(p, { request: VMCTL_GET_PAGEFAULT });
      out.push([f.type, f.endpoint, f.addr, f.write, f.present]);
      out.push((t.kp.rts & RTS.PAGEFAULT) !== 0);
      t.mapPage(t.base + 0x3000);
      out.push((await vmctl(p, { request: VMCTL_CLEAR_PAGEFAULT, endpoint: t.ep })).type);
      out.push([t.kp.rts & RTS.PAGEFAULT, t.kp.fault]);
      out.push((await vmctl(p, { request: VMCTL_GET_PAGEFAULT })).type);
      out.push((await vmctl(p, { request: VMCTL_CLEAR_PAGEFAULT, endpoint: t.ep })).type);
      out.push((await vmctl(p, { request: VMCTL_CLEAR_PAGEFAULT, endpoint: 999 })).type);
      await p.receive(ANY);
    });
    const h = t.start(async (p) => {
      await p.writeU32(t.base + 0x3004, 0xdeadbeef);
      return p.readU32(t.base + 0x3004);
    });
    await w.k.run();
    expect(out).toEqual([
      true,
      [OK, t.ep, t.base + 0x3004, true, false],
      true,
      OK,
      [0, null],
      ESRCH,
      EINVAL,
      EINVAL,
    ]);
    expect(h.result()).toBe(0xdeadbeef);
  });

  it('PAGEDIRS takes a frame from 1 to the last; the kernel then finds page tables through that page', async () => {
    const w = grantWorld({ ramBytes: 8 * 1024 * 1024 });
    const t = w.actor(21, 'T', { paged: true });
    t.mapPage(t.base);
    const n = w.k.mem.nFrames;
    const out: number[] = [];
    const copyInT = async (p: Proc) =>
      (
        await p.kernelCall({
          type: SYS_VIRCOPY,
          srcEndpoint: t.ep,
          dstEndpoint: t.ep,
          srcAddr: t.base,
          dstAddr: t.base + 4,
          bytes: 1,
        })
      ).type;
    vm(w, async (p) => {
      for (const frame of [0, -1, n, 1.5])
        out.push((await vmctl(p, { request: VMCTL_I386_PAGEDIRS, frame })).type);
      out.push(w.k.pagedirsFrame, await copyInT(p));
      // The last frame of RAM, zeroed: no process has a page table through it.
      w.k.mem.zero((n - 1) * 4096, 4096);
      out.push((await vmctl(p, { request: VMCTL_I386_PAGEDIRS, frame: n - 1 })).type);
      out.push(w.k.pagedirsFrame, await copyInT(p));
    });
    await w.k.run();
    expect(out).toEqual([EINVAL, EINVAL, EINVAL, EINVAL, -1, OK, OK, n - 1, EFAULT]);
  });

  it('SETCR3 binds a frame or -1 and flushes the TLB; FLUSHTLB flushes; both are charged; bad frames EINVAL', async () => {
    const w = grantWorld({ ramBytes: 8 * 1024 * 1024 });
    const t = w.actor(21, 'T', { paged: true });
    const dir = t.kp.dirFrame;
    const n = w.k.mem.nFrames;
    const out: unknown[] = [];
    const flushes = () => [t.kp.tlb.stats.flushes, w.k.clock.countByKind[K.tlbFlush]];
    vm(w, async (p) => {
      const before = flushes();
      for (const frame of [-2, n, 0.5])
        out.push((await vmctl(p, { request: VMCTL_I386_SETCR3, endpoint: t.ep, frame })).type);
      out.push(t.kp.dirFrame === dir);
      out.push(
        (await vmctl(p, { request: VMCTL_I386_SETCR3, endpoint: t.ep, frame: -1 })).type,
        t.kp.dirFrame,
      );
      out.push(
        (await vmctl(p, { request: VMCTL_I386_SETCR3, endpoint: t.ep, frame: n - 1 })).type,
        t.kp.dirFrame,
      );
      out.push((await vmctl(p, { request: VMCTL_I386_SETCR3, endpoint: t.ep, frame: dir })).type);
      out.push((await vmctl(p, { request: VMCTL_FLUSHTLB, endpoint: t.ep })).type);
      out.push(flushes().map((x, i) => (x ?? 0) - (before[i] ?? 0)));
      out.push((await vmctl(p, { request: VMCTL_FLUSHTLB, endpoint: 999 })).type);
    });
    await w.k.run();
    expect(out).toEqual([EINVAL, EINVAL, EINVAL, true, OK, -1, OK, n - 1, OK, OK, [4, 4], EINVAL]);
    expect(t.kp.dirFrame).toBe(dir);
  });

  it('VMINHIBIT_SET holds a process until VMINHIBIT_CLEAR', async () => {
    const w = grantWorld({ ramBytes: 8 * 1024 * 1024 });
    const t = w.actor(21, 'T');
    const log: string[] = [];
    const admin = w.actor(20, 'admin');
    await admin.do((p) => vmctl(p, { request: VMCTL_VMINHIBIT_SET, endpoint: t.ep }));
    t.start(async () => {
      log.push('ran');
    });
    await w.k.run();
    expect([log, t.kp.rts & RTS.VMINHIBIT]).toEqual([[], RTS.VMINHIBIT]);
    await admin.do((p) => vmctl(p, { request: VMCTL_VMINHIBIT_CLEAR, endpoint: t.ep }));
    expect(log).toEqual(['ran']);
  });
});
